"""Network files: only whole PDFs, ODT, ODS, DOCX, XLSX without macros and real JPEG or PNG
images pass, zip bombs are refused from their headers, images lose their metadata; stored under
random names and always served as downloads."""

import hashlib
import io
import re
import zipfile
from pathlib import Path

import pytest
from PIL import ExifTags
from werkzeug.datastructures import FileStorage

from services import documents, images
from services.errors import Invalid, NotFound
from tests.test_images import (
    GIF,
    HTML,
    SVG,
    assert_no_metadata,
    jpeg_with_exif,
    plain_jpeg,
    png_bomb,
    png_with_alpha,
    reopen,
    truncated_jpeg,
    webp_with_exif,
)
from tests.test_receipts import JAVASCRIPT, PDF, make_pdf, object_stream
from views.files import send_document

MB = 1024 * 1024
LIMIT = 10 * MB
ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"
ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="%s"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)
CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
    "<office:body><office:text><text:p>Vœu pour une eau en régie publique</text:p>"
    "</office:text></office:body></office:document-content>"
)
DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/%s" ContentType="%s"/></Types>'
)
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


# Builders ------------------------------------------------------------------------------------


def make_zip(*entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP of (name, content) or (ZipInfo, content) entries, in that order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


def stored(name: str) -> zipfile.ZipInfo:
    """An entry written uncompressed, as an OpenDocument's `mimetype` must be."""
    return zipfile.ZipInfo(name)


def make_odf(mimetype: str = ODT_MIMETYPE, *extra, content: str = CONTENT) -> bytes:
    return make_zip(
        (stored("mimetype"), mimetype),
        ("content.xml", content),
        ("styles.xml", "<office:document-styles/>"),
        ("META-INF/manifest.xml", MANIFEST % mimetype),
        *extra,
    )


def make_docx(*extra, main_type: str = WORD_MAIN) -> bytes:
    return make_zip(
        ("[Content_Types].xml", DOCX_TYPES % ("word/document.xml", main_type)),
        ("_rels/.rels", "<Relationships/>"),
        ("word/document.xml", "<w:document><w:body><w:p/></w:body></w:document>"),
        *extra,
    )


def make_xlsx(*extra, main_type: str = EXCEL_MAIN) -> bytes:
    return make_zip(
        ("[Content_Types].xml", DOCX_TYPES % ("xl/workbook.xml", main_type)),
        ("_rels/.rels", "<Relationships/>"),
        ("xl/workbook.xml", "<workbook><sheets/></workbook>"),
        ("xl/worksheets/sheet1.xml", "<worksheet><sheetData/></worksheet>"),
        *extra,
    )


ODT = make_odf()
ODS = make_odf(ODS_MIMETYPE)
DOCX = make_docx()
XLSX = make_xlsx()
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 200 + b"This program cannot be run in DOS mode"
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 60


def check(data: bytes, filename: str | None = "document.pdf", **options):
    return documents.check_document(filename, data, options.pop("max_bytes", LIMIT), **options)


def refusal(data: bytes, filename: str = "document.pdf", **options) -> documents.DocumentRejected:
    with pytest.raises(documents.DocumentRejected) as refused:
        check(data, filename, **options)
    return refused.value


# Accepted files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "kind", "content_type", "display_name"),
    [
        (PDF, "Vœu eau.pdf", "pdf", "application/pdf", "Vœu eau.pdf"),
        (ODT, "Délibération.odt", "odt", ODT_MIMETYPE, "Délibération.odt"),
        (ODS, "Budget.ods", "ods", ODS_MIMETYPE, "Budget.ods"),
        (
            DOCX,
            "Amendement.docx",
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "Amendement.docx",
        ),
        (
            XLSX,
            "Dotations.xlsx",
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Dotations.xlsx",
        ),
    ],
)
def test_each_document_kind_is_kept_as_uploaded(data, filename, kind, content_type, display_name):
    document = check(data, filename)

    assert (document.kind, document.content_type) == (kind, content_type)
    assert document.content_type == documents.CONTENT_TYPES[kind]
    assert document.extension == documents.EXTENSIONS[kind]
    assert document.data == data
    assert document.size == len(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.display_name == display_name
    assert kind in documents.KIND_LABELS
    assert f".{document.extension}" in documents.ACCEPT
    assert content_type in documents.ACCEPT


@pytest.mark.parametrize(
    ("data", "filename", "display_name"),
    [
        (PDF, "C:\\fakepath\\Vœu.docx", "Vœu.pdf"),  # the content decides, not the name
        (ODT, "compte-rendu", "compte-rendu.odt"),
        (DOCX, "note.2024", "note.2024.docx"),
        (XLSX, "tableau.XLSX", "tableau.XLSX"),
        (plain_jpeg(), "photo.jpeg", "photo.jpeg"),
        (plain_jpeg(), "photo.png", "photo.jpg"),
        (PDF, None, "document.pdf"),
    ],
)
def test_the_name_kept_ends_with_the_extension_of_what_the_file_is(data, filename, display_name):
    assert check(data, filename).display_name == display_name


def test_a_pdf_with_compressed_objects_and_links_is_accepted():
    link = b"<< /Type /Action /S /URI /URI (https://exemple.fr/deliberation) >>"
    assert check(make_pdf(object_stream(link))).kind == "pdf"


def test_a_photo_is_turned_upright_and_loses_its_exif_and_gps():
    original = jpeg_with_exif()
    assert reopen(original).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    document = check(original, "photo.jpg")

    assert (document.kind, document.content_type, document.extension) == (
        "jpeg",
        "image/jpeg",
        "jpg",
    )
    assert_no_metadata(document.data)
    assert not reopen(document.data).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert reopen(document.data).size == (20, 40)  # 40×20 turned a quarter
    assert document.sha256 == hashlib.sha256(document.data).hexdigest()
    assert document.size == len(document.data)


def test_a_png_keeps_its_transparency_and_loses_its_metadata():
    document = check(png_with_alpha(), "affiche.png")
    assert (document.kind, document.content_type, document.extension) == (
        "png",
        "image/png",
        "png",
    )
    assert_no_metadata(document.data)
    assert reopen(document.data).mode == "RGBA"


def test_an_odf_with_an_ordinary_link_is_accepted():
    content = CONTENT.replace(
        "Vœu pour", '<text:a xlink:href="https://exemple.fr/eau">Vœu</text:a> pour'
    )
    assert check(make_odf(ODT_MIMETYPE, content=content)).kind == "odt"


def test_a_large_but_ordinary_spreadsheet_is_accepted():
    rows = "".join(
        f'<row r="{i}"><c r="A{i}"><v>{i * 37 % 1009}</v></c></row>' for i in range(1, 60_000)
    )
    assert check(make_xlsx(("xl/worksheets/sheet2.xml", rows)), "grand.xlsx").kind == "xlsx"


# Refused ZIP documents ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        make_odf(ODT_MIMETYPE, ("Basic/Standard/Module1.xml", "<script:module/>")),
        make_odf(ODS_MIMETYPE, ("Scripts/python/macro.py", "import os")),
        make_odf(ODT_MIMETYPE, ("Object 1/Basic/script-lc.xml", "<library/>")),
        make_odf(
            ODT_MIMETYPE,
            content=CONTENT.replace(
                "<office:body>",
                "<office:scripts><office:event-listeners><script:event-listener "
                'script:language="ooo:script" script:event-name="dom:load" '
                'xlink:href="vnd.sun.star.script:Standard.Module1.Main"/>'
                "</office:event-listeners></office:scripts><office:body>",
            ),
        ),
    ],
    ids=["basic", "scripts", "basic-in-embedded-object", "event-listener"],
)
def test_an_opendocument_with_macros_is_refused(data):
    refused = refusal(data, "motion.odt")
    assert refused.status == 422
    assert "« motion.odt »" in refused.message
    assert "macros" in refused.message
    assert "sans macros" in refused.message


@pytest.mark.parametrize(
    "data",
    [
        make_docx(("word/vbaProject.bin", b"\xd0\xcf\x11\xe0VBA")),
        make_docx(main_type="application/vnd.ms-word.document.macroEnabled.main+xml"),
        make_xlsx(main_type="application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
        make_xlsx(("xl/vbaProject.bin", b"VBA")),
        make_xlsx(("xl/macrosheets/sheet1.xml", "<xm:macrosheet/>")),
        make_docx(("word/activeX/activeX1.xml", "<ax:ocx/>")),
        make_docx(("customUI/VBAPROJECT.BIN", b"VBA")),
    ],
    ids=["docm-vba", "docm-type", "xlsm-type", "xlsm-vba", "xlm-macrosheet", "activex", "case"],
)
def test_an_office_document_with_macros_or_activex_is_refused(data):
    refused = refusal(data, "budget.xlsm")
    assert refused.status == 422
    assert "« budget.xlsm »" in refused.message
    assert "macros" in refused.message


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (make_odf(ODT_MIMETYPE, ("../../etc/cron.d/evil", "x")), "chemin de fichier dangereux"),
        (make_docx(("/etc/passwd", "x")), "chemin de fichier dangereux"),
        (make_docx(("word\\..\\..\\evil.dll", "x")), "chemin de fichier dangereux"),
        (make_docx(("C:/Windows/evil.dll", "x")), "chemin de fichier dangereux"),
        (
            make_zip(
                (stored("mimetype"), ODT_MIMETYPE + "\n"),
                ("content.xml", CONTENT),
                ("META-INF/manifest.xml", MANIFEST % ODT_MIMETYPE),
            ),
            "ce type de document OpenDocument n'est pas accepté",
        ),
        (
            make_zip(
                (stored("mimetype"), "application/epub+zip"),
                ("content.xml", CONTENT),
                ("META-INF/manifest.xml", MANIFEST % ODT_MIMETYPE),
            ),
            "pas un document texte ou tableur reconnu",
        ),
        (
            make_zip(
                ("mimetype", ODT_MIMETYPE),
                ("content.xml", CONTENT),
                ("META-INF/manifest.xml", MANIFEST % ODT_MIMETYPE),
            ),
            "pas un document texte ou tableur reconnu",
        ),  # a compressed mimetype is not an OpenDocument's
        (
            make_zip(
                ("content.xml", CONTENT),
                (stored("mimetype"), ODT_MIMETYPE),
                ("META-INF/manifest.xml", MANIFEST % ODT_MIMETYPE),
            ),
            "mal formé",
        ),
        (
            make_zip((stored("mimetype"), ODT_MIMETYPE), ("content.xml", CONTENT)),
            "incomplet",
        ),
        (make_odf("application/vnd.oasis.opendocument.presentation"), "présentation (ODP)"),
        (
            make_zip(("[Content_Types].xml", "<Types/>"), ("ppt/presentation.xml", "<p/>")),
            "PowerPoint",
        ),
        (make_zip(("[Content_Types].xml", "<Types/>")), "pas un document texte ou tableur"),
        (make_zip(("photos/plage.jpg", plain_jpeg()), ("notes.txt", "x")), "archive ZIP"),
        (make_zip(), "archive ZIP vide"),
        (b"PK\x03\x04" + b"\0" * 40, "abîmé ou incomplet"),
        (DOCX[: len(DOCX) // 2], "abîmé ou incomplet"),
    ],
    ids=[
        "dotdot",
        "absolute",
        "backslash-dotdot",
        "drive",
        "wrong-mimetype",
        "epub",
        "compressed-mimetype",
        "mimetype-not-first",
        "no-manifest",
        "odp",
        "pptx",
        "ooxml-without-main-part",
        "plain-zip",
        "empty-zip",
        "garbage-zip",
        "truncated-zip",
    ],
)
def test_a_zip_that_is_not_a_harmless_document_is_refused_saying_why(data, why):
    refused = refusal(data, "fichier.odt")
    assert refused.status == 422
    assert "« fichier.odt »" in refused.message
    assert why in refused.message


def test_a_zip_bomb_is_refused_by_its_compression_ratio_without_being_inflated(monkeypatch):
    bomb = make_docx(("word/media/zeros.bin", b"\0" * (20 * MB)))
    assert len(bomb) < 100_000
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile,
        "open",
        lambda self, name, *args, **kw: opened.append(name) or real_open(self, name, *args, **kw),
    )

    refused = refusal(bomb, "piege.docx")

    assert "démesuré" in refused.message and "piégé" in refused.message
    assert opened == []  # judged on the central directory alone


def test_a_zip_bomb_is_refused_by_its_total_size(monkeypatch):
    monkeypatch.setattr(documents, "MAX_ZIP_TOTAL", 2 * MB)
    incompressible = [(f"xl/media/image{i}.png", bytes(range(256)) * 4096) for i in range(3)]
    data = make_xlsx(*incompressible)  # 3 MB, each part at a ratio near 1

    assert "démesuré" in refusal(data, "piege.xlsx").message
    monkeypatch.setattr(documents, "MAX_ZIP_TOTAL", 4 * MB)
    assert check(data, "ok.xlsx").kind == "xlsx"


def test_a_zip_bomb_of_the_real_total_limit_is_refused(monkeypatch):
    # Many entries below the ratio threshold's size, 201 MB in all, from a 250 kB file.
    monkeypatch.setattr(documents, "MAX_ZIP_RATIO", 10_000)
    data = make_docx(*((f"word/media/{i}.bin", b"\0" * MB) for i in range(201)))
    assert len(data) < 1 * MB
    assert "démesuré" in refusal(data, "piege.docx").message


def test_a_zip_with_too_many_entries_is_refused():
    entries = [(f"word/media/{i}.xml", "") for i in range(documents.MAX_ZIP_ENTRIES)]
    refused = refusal(make_docx(*entries), "plein.docx")
    assert "2\u202f000 au plus" in refused.message
    assert check(make_docx(*entries[:-3]), "juste.docx").kind == "docx"


def test_a_zip_naming_one_entry_twice_is_refused():
    # Two readers could pick different copies: what was checked would not be what is opened.
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = make_docx(("word/document.xml", "<w:document><w:macro/></w:document>"))
    assert "deux fois le même fichier" in refusal(data, "double.docx").message


def test_an_encrypted_zip_entry_is_refused():
    data = bytearray(DOCX)
    # Set the "encrypted" flag of every entry in the central directory.
    for match in re.finditer(rb"PK\x01\x02", bytes(data)):
        data[match.start() + 8] |= 0x1
    assert "mot de passe" in refusal(bytes(data), "secret.docx").message


def test_an_opendocument_protected_by_a_password_is_refused():
    manifest = (MANIFEST % ODT_MIMETYPE).replace(
        'manifest:media-type="text/xml"/>',
        'manifest:media-type="text/xml"><manifest:encryption-data/></manifest:file-entry>',
    )
    data = make_zip(
        (stored("mimetype"), ODT_MIMETYPE),
        ("content.xml", b"\x8a\x11 encrypted bytes"),
        ("META-INF/manifest.xml", manifest),
    )
    assert "mot de passe" in refusal(data, "secret.odt").message


# Other refused files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (OLE2, "ancien format Word ou Excel"),
        (HTML, "page HTML"),
        (SVG, "SVG"),
        (GIF, "GIF"),
        (webp_with_exif(), "WebP"),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "HEIC"),
        (EXE, "programme"),
        (ELF, "programme"),
        (b"#!/bin/sh\nrm -rf ~\n", "programme"),
        (b"{\\rtf1\\ansi Bonjour}", "RTF"),
        (b"\x1f\x8b\x08\x00" + b"\0" * 20, "archive compressée"),
        (b"<html>" + PDF, "précédé d'autre chose"),
        (b"Nom;Mandat\nCamille;maire\n", "ce format n'est pas accepté"),
        (truncated_jpeg(), "abîmé ou incomplet"),
        (png_bomb(), "trop grande"),
    ],
    ids=[
        "ole2",
        "html",
        "svg",
        "gif",
        "webp",
        "heic",
        "exe",
        "elf",
        "script",
        "rtf",
        "gzip",
        "html-then-pdf",
        "csv",
        "truncated-jpeg",
        "png-bomb",
    ],
)
def test_anything_else_is_refused_saying_what_it_is(data, why):
    refused = refusal(data, "fichier.docx")
    assert refused.status == 422
    assert "« fichier.docx »" in refused.message
    assert why in refused.message


def test_a_refused_format_is_told_what_is_accepted():
    assert "Formats acceptés : PDF, ODT, ODS, DOCX, XLSX" in refusal(OLE2, "vieux.doc").message


@pytest.mark.parametrize(
    ("pdf", "what"),
    [
        (make_pdf(JAVASCRIPT, root_extra=b"/OpenAction 6 0 R "), "JavaScript"),
        (make_pdf(object_stream(JAVASCRIPT)), "JavaScript"),
        (make_pdf(b"<< /S /Launch /F (calc.exe) >>"), "lance un programme"),
        (make_pdf(b"<< /EmbeddedFiles << /Names [(a.exe) 7 0 R] >> >>"), "fichiers joints"),
        (make_pdf(b"<< /Type /Annot /Subtype /RichMedia >>"), "multimédia"),
    ],
)
def test_a_pdf_with_active_content_is_refused(pdf, what):
    refused = refusal(pdf, "voeu.pdf")
    assert refused.status == 422
    assert "« voeu.pdf »" in refused.message
    assert what in refused.message
    assert "justificatif" not in refused.message  # said for a shared document


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (PDF[: len(PDF) // 2], "incomplet"),
        (PDF.replace(b"%PDF-1.4", b"%PDF-9.9"), "version inconnue"),
    ],
)
def test_a_truncated_or_unknown_pdf_is_refused(data, why):
    assert why in refusal(data, "voeu.pdf").message


def test_an_empty_file_is_refused():
    refused = refusal(b"", "vide.odt")
    assert refused.status == 422
    assert refused.message == "« vide.odt » est un fichier vide."


def test_a_file_above_the_size_limit_is_413_naming_the_file():
    with pytest.raises(documents.DocumentTooLarge) as refused:
        check(PDF + b" " * (11 * MB), "enorme.pdf")
    assert refused.value.status == 413
    assert isinstance(refused.value, documents.DocumentRejected)
    assert "« enorme.pdf »" in refused.value.message
    assert "11 Mo" in refused.value.message and "10 Mo" in refused.value.message


def test_the_pixel_limit_is_checked_before_decoding():
    assert "trop grande" in refusal(png_bomb(3000, 2000), "grand.png", max_pixels=5_000_000).message


# Storage -------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["library", "support"])
def test_a_document_is_stored_under_a_random_name_and_removed_without_a_trace(tmp_path, folder):
    document = check(ODT, "compte-rendu.odt")

    name, paths = documents.store_document(tmp_path, document, folder)
    other, other_paths = documents.store_document(tmp_path, document, folder)

    assert re.fullmatch(r"[0-9a-f]{32}\.odt", name) and name != other
    assert paths == [tmp_path / "network" / folder / name]
    assert paths[0].read_bytes() == ODT
    assert documents.document_path(tmp_path, folder, name) == paths[0]
    assert list(paths[0].parent.glob(".*.tmp")) == []  # the temporary file was renamed
    documents.remove_document_files(paths + other_paths)
    documents.remove_document_files(paths)  # already gone: not an error
    assert list((tmp_path / "network" / folder).iterdir()) == []


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def disk_full(src, dst):
        raise OSError("disque plein")

    monkeypatch.setattr(images.os, "replace", disk_full)
    with pytest.raises(OSError):
        documents.store_document(tmp_path, check(PDF), "library")
    assert list((tmp_path / "network" / "library").iterdir()) == []


def test_a_document_is_only_stored_in_a_known_folder(tmp_path):
    with pytest.raises(ValueError):
        documents.store_document(tmp_path, check(PDF), "../receipts")


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("library", "../x"),
        ("library", "../../etc/passwd"),
        ("library", "../" + "a" * 32 + ".pdf"),
        ("library", "/etc/passwd"),
        ("library", "/" + "a" * 32 + ".pdf"),
        ("library", "a" * 32 + ".pdf/../../secret"),
        ("library", "A" * 32 + ".pdf"),
        ("library", "a" * 31 + ".pdf"),
        ("library", "a" * 32 + ".exe"),
        ("library", "a" * 32 + ".jpeg"),
        ("library", "a" * 32 + ".pdf\n"),
        ("library", ""),
        ("library", None),
        ("receipts", "a" * 32 + ".pdf"),
        ("../library", "a" * 32 + ".pdf"),
        ("", "a" * 32 + ".pdf"),
    ],
)
def test_a_name_or_folder_store_document_cannot_have_made_is_not_found(tmp_path, folder, name):
    with pytest.raises(NotFound):
        documents.document_path(tmp_path, folder, name)


# Uploads -------------------------------------------------------------------------------------


def upload(data: bytes, filename: str | None) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=filename)


def test_read_uploads_skips_file_inputs_left_empty():
    files = [
        upload(b"", ""),
        upload(PDF, "voeu.pdf"),
        upload(b"", None),
        upload(b"", "vide.pdf"),  # chosen but empty: check_document says so
    ]
    assert documents.read_uploads(files, 5) == [("voeu.pdf", PDF), ("vide.pdf", b"")]


def test_read_uploads_refuses_more_files_than_allowed():
    files = [upload(PDF, f"{i}.pdf") for i in range(3)] + [upload(b"", "")]
    assert len(documents.read_uploads(files, 3)) == 3
    with pytest.raises(Invalid) as refused:
        documents.read_uploads(files, 2)
    assert refused.value.status == 422
    assert "2 fichiers au plus" in refused.value.message


# Downloads -----------------------------------------------------------------------------------


@pytest.fixture
def download(app, tmp_path):
    """The app with a route serving one stored document through send_document."""
    stored_at = {}

    def serve(name):
        path, display_name, content_type = stored_at[name]
        return send_document(path, display_name, content_type)

    app.add_url_rule("/test-document/<name>", "test_document", serve)
    client = app.test_client()

    def get(data: bytes | None, display_name: str, content_type: str = "application/pdf"):
        path = tmp_path / "files" / "a.bin"
        path.parent.mkdir(exist_ok=True)
        if data is not None:
            path.write_bytes(data)
        stored_at["a"] = (path, display_name, content_type)
        return client.get("/test-document/a")

    return get


def test_a_document_is_always_downloaded_never_shown(download):
    response = download(PDF, "Vœu.pdf")

    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Expires" not in response.headers and "ETag" not in response.headers


@pytest.mark.parametrize("kind", ["odt", "ods", "docx", "xlsx", "jpeg", "png"])
def test_a_document_is_served_with_the_type_of_its_kind(download, kind):
    response = download(b"x", "fichier", documents.CONTENT_TYPES[kind])
    assert response.headers["Content-Type"] == documents.CONTENT_TYPES[kind]
    assert f".{documents.EXTENSIONS[kind]}" in response.headers["Content-Disposition"]


def test_an_unknown_content_type_is_served_as_bytes(download):
    response = download(b"<script>alert(1)</script>", "page.html", "text/html")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_the_download_name_keeps_its_accents_for_modern_browsers(download):
    disposition = download(PDF, "Délibération n°12 – eau.pdf").headers["Content-Disposition"]
    assert disposition == (
        'attachment; filename="Deliberation n12  eau.pdf"; '
        "filename*=UTF-8''D%C3%A9lib%C3%A9ration%20n%C2%B012%20%E2%80%93%20eau.pdf"
    )


@pytest.mark.parametrize(
    "display_name",
    [
        'rapport"; filename="evil.html',
        "rapport\r\nSet-Cookie: session=volé.pdf",
        "../../etc/passwd",
        "C:\\Users\\camille\\rapport.pdf",
        "rapport;\tinline.pdf",
        "",
    ],
)
def test_no_name_can_break_the_download_header(download, display_name):
    response = download(PDF, display_name)

    disposition = response.headers["Content-Disposition"]
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "\n" not in disposition and "\r" not in disposition
    match = re.fullmatch(
        r"attachment; filename=\"([^\"\\/;]*)\"; filename\*=UTF-8''([A-Za-z0-9%._~-]*)",
        disposition,
    )
    assert match, disposition
    ascii_name, quoted = match.groups()
    assert ascii_name.endswith(".pdf") and quoted.endswith(".pdf")
    assert "%2F" not in quoted and "%5C" not in quoted  # no folder in either name


def test_a_missing_file_is_404(download, app):
    assert download(None, "parti.pdf").status_code == 404
    with app.test_request_context(), pytest.raises(NotFound):
        send_document(
            Path(app.config["UPLOADS_PATH"]) / "absent.pdf", "absent.pdf", "application/pdf"
        )
