"""Receipts: only whole PDFs without active content and real JPEG or PNG images pass, images
cleaned of their metadata; stored under random names, removed without a trace."""

import hashlib
import io
import re
import zlib

import pytest
from PIL import ExifTags, Image

from services import images, receipts
from services.errors import NotFound
from tests.test_images import (
    GIF,
    HTML,
    SVG,
    assert_no_metadata,
    fake_jpeg,
    jpeg_with_exif,
    plain_jpeg,
    png_bomb,
    png_with_alpha,
    reopen,
    truncated_jpeg,
    webp_with_exif,
)

MB = 1024 * 1024
LIMIT = 10 * MB


# Builders ------------------------------------------------------------------------------------


def make_pdf(*objects: bytes, version: bytes = b"1.4", root_extra: bytes = b"") -> bytes:
    """A PDF written by hand: a catalogue, one page saying "Facture 42", then `objects`
    (numbered from 6), with a correct cross-reference table."""
    content = b"BT /F1 24 Tf 72 760 Td (Facture 42 : 123,45 EUR) Tj ET"
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R " + root_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *objects,
    ]
    out = b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return out


def flate_stream(data: bytes, dictionary: bytes = b"") -> bytes:
    packed = zlib.compress(data)
    return (
        b"<< /Filter /FlateDecode /Length %d " % len(packed)
        + dictionary
        + b">>\nstream\n"
        + packed
        + b"\nendstream"
    )


def object_stream(*objects: bytes) -> bytes:
    """A compressed object stream (PDF 1.5), where current writers put most objects."""
    header = b" ".join(b"%d %d" % (100 + i, 0) for i in range(len(objects))) + b" "
    return flate_stream(
        header + b" ".join(objects),
        b"/Type /ObjStm /N %d /First %d " % (len(objects), len(header)),
    )


PDF = make_pdf()
JAVASCRIPT = b"<< /S /JavaScript /JS (app.alert\\('Bonjour'\\)) >>"


def save(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def check(data: bytes, filename: str = "facture.pdf", **options):
    return receipts.check_receipt(filename, data, options.pop("max_bytes", LIMIT), **options)


# Accepted PDFs -------------------------------------------------------------------------------


def test_a_pdf_is_kept_as_uploaded_with_its_fingerprint():
    receipt = check(PDF, "C:\\fakepath\\Facture EDF.pdf")

    assert (receipt.kind, receipt.content_type, receipt.extension) == (
        "pdf",
        "application/pdf",
        "pdf",
    )
    assert receipt.data == PDF
    assert receipt.size == len(PDF)
    assert receipt.sha256 == hashlib.sha256(PDF).hexdigest()
    assert receipt.display_name == "Facture EDF.pdf"
    assert "Facture 42" not in repr(receipt)  # the bytes stay out of logs


@pytest.mark.parametrize("version", [b"1.0", b"1.7", b"2.0"])
def test_every_pdf_version_is_accepted(version):
    assert check(make_pdf(version=version)).kind == "pdf"


def test_a_pdf_with_links_and_compressed_objects_is_accepted():
    link = b"<< /Type /Action /S /URI /URI (https://exemple.fr/facture/42) >>"
    assert check(make_pdf(object_stream(link, b"<< /Producer (LibreOffice) >>"))).kind == "pdf"


def test_large_compressed_pictures_are_not_decompressed(monkeypatch):
    monkeypatch.setattr(receipts, "PDF_INFLATE_BUDGET", 1024)
    picture = flate_stream(
        b"\xff" * 300_000,
        b"/Type /XObject /Subtype /Image /Width 500 /Height 200 /ColorSpace /DeviceRGB "
        b"/BitsPerComponent 8 ",
    )
    assert check(make_pdf(picture)).kind == "pdf"


# Refused PDFs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pdf", "what"),
    [
        (make_pdf(JAVASCRIPT, root_extra=b"/OpenAction 6 0 R "), "JavaScript"),
        (make_pdf(b"<< /S /J#61va#53cript /JS (x) >>"), "JavaScript"),
        (make_pdf(object_stream(JAVASCRIPT)), "JavaScript"),
        (make_pdf(b"<< /Names << /JavaScript 7 0 R >> >>"), "JavaScript"),
        (make_pdf(b"<< /S /Launch /F (calc.exe) >>"), "lance un programme"),
        (make_pdf(b"<< /EmbeddedFiles << /Names [(a.exe) 7 0 R] >> >>"), "fichiers joints"),
        (make_pdf(object_stream(b"<< /Type /EmbeddedFile >>")), "fichiers joints"),
        (make_pdf(b"<< /Type /Annot /Subtype /RichMedia >>"), "multimédia"),
    ],
)
def test_a_pdf_with_active_content_is_refused(pdf, what):
    with pytest.raises(receipts.ReceiptRejected) as refused:
        check(pdf)
    assert refused.value.status == 422
    assert what in refused.value.message
    assert "« facture.pdf »" in refused.value.message
    assert "Imprimer" in refused.value.message


def test_a_name_that_only_starts_like_an_active_one_is_not_refused():
    assert check(make_pdf(b"<< /JavaScriptless true /Launcher 1 >>")).kind == "pdf"


def test_a_pdf_that_inflates_beyond_the_budget_is_refused(monkeypatch):
    monkeypatch.setattr(receipts, "PDF_INFLATE_BUDGET", 64 * 1024)
    with pytest.raises(receipts.ReceiptRejected, match="démesuré"):
        check(make_pdf(flate_stream(b"\0" * 200_000)))


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (PDF[: len(PDF) // 2], "incomplet"),
        (PDF.replace(b"%%EOF", b"%%EOX"), "incomplet"),
        (PDF + b"\0" * 2000, "incomplet"),
        (PDF.replace(b"%PDF-1.4", b"%PDF-9.9"), "version inconnue"),
        (PDF.replace(b"%PDF-1.4", b"%PDF-1.45"), "version inconnue"),
        (b"<html>" + PDF, "précédé d'autre chose"),
        (b"\xef\xbb\xbf" + PDF, "précédé d'autre chose"),
    ],
)
def test_a_truncated_or_disguised_pdf_is_refused(data, why):
    with pytest.raises(receipts.ReceiptRejected) as refused:
        check(data)
    assert why in refused.value.message
    assert refused.value.status == 422


# Accepted images -----------------------------------------------------------------------------


def test_a_photo_is_turned_upright_and_loses_its_exif_and_gps():
    original = jpeg_with_exif()
    assert reopen(original).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    receipt = check(original, "ticket.jpg")

    assert (receipt.kind, receipt.content_type, receipt.extension) == ("jpeg", "image/jpeg", "jpg")
    assert_no_metadata(receipt.data)
    assert not reopen(receipt.data).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert reopen(receipt.data).size == (20, 40)  # 40×20 turned a quarter
    assert receipt.size == len(receipt.data)
    assert receipt.sha256 == hashlib.sha256(receipt.data).hexdigest()


def test_a_png_keeps_its_transparency_and_loses_its_metadata():
    receipt = check(png_with_alpha(), "capture.png")

    assert (receipt.kind, receipt.content_type, receipt.extension) == ("png", "image/png", "png")
    assert reopen(receipt.data).mode == "RGBA"
    assert_no_metadata(receipt.data)


def test_a_scan_keeps_its_size_up_to_3000_px():
    receipt = check(plain_jpeg((2480, 2000)), "scan.jpg")
    assert reopen(receipt.data).size == (2480, 2000)


def test_a_larger_photo_is_reduced_to_3000_px_on_its_longer_side():
    receipt = check(plain_jpeg((4000, 6000)), "photo.jpg")
    assert reopen(receipt.data).size == (2000, 3000)


def test_the_content_decides_not_the_name():
    receipt = check(plain_jpeg(), "facture.pdf")
    assert (receipt.kind, receipt.extension) == ("jpeg", "jpg")


# Refused files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "why"),
    [
        ("facture.pdf", HTML, "page HTML"),
        ("facture.pdf", SVG, "SVG"),
        ("facture.pdf", GIF, "GIF"),
        ("ticket.jpg", webp_with_exif(), "WebP"),
        ("IMG_0001.jpg", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "HEIC"),
        ("facture.docx", b"PK\x03\x04" + b"\0" * 40, "exportez-le en PDF"),
        ("facture.pdf", b"Facture 42 : 123,45 EUR", "ni un PDF, ni une image JPEG ou PNG"),
        ("ticket.jpg", truncated_jpeg(), "abîmé ou incomplet"),
        ("ticket.jpg", fake_jpeg(), "abîmé ou incomplet"),
        ("ticket.png", png_bomb(), "trop grande"),
        ("vide.pdf", b"", "fichier vide"),
    ],
)
def test_anything_but_a_whole_pdf_jpeg_or_png_is_refused_saying_why(filename, data, why):
    with pytest.raises(receipts.ReceiptRejected) as refused:
        check(data, filename)
    assert refused.value.status == 422
    assert f"« {filename} »" in refused.value.message
    assert why in refused.value.message


def test_the_pixel_limit_is_checked_before_decoding():
    with pytest.raises(receipts.ReceiptRejected, match="trop grande"):
        check(png_bomb(3000, 2000), "grand.png", max_pixels=5_000_000)


def test_a_file_above_the_size_limit_is_413_naming_the_file():
    with pytest.raises(receipts.ReceiptTooLarge) as refused:
        check(PDF + b" " * (11 * MB), "enorme.pdf")
    assert refused.value.status == 413
    assert isinstance(refused.value, receipts.ReceiptRejected)
    assert "« enorme.pdf »" in refused.value.message
    assert "10 Mo" in refused.value.message


# Storage -------------------------------------------------------------------------------------


def test_a_receipt_is_stored_under_a_random_name_and_removed_without_a_trace(tmp_path):
    receipt = check(PDF)

    name, paths = receipts.store_receipt(tmp_path, receipt)
    other, other_paths = receipts.store_receipt(tmp_path, receipt)

    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", name) and name != other
    assert paths == [tmp_path / "receipts" / name]
    assert paths[0].read_bytes() == PDF
    assert receipts.receipt_path(tmp_path, name) == paths[0]
    receipts.remove_receipt_files(paths + other_paths)
    receipts.remove_receipt_files(paths)  # already gone: not an error
    assert list((tmp_path / "receipts").iterdir()) == []


def test_an_image_is_stored_with_its_extension(tmp_path):
    name, paths = receipts.store_receipt(tmp_path, check(png_with_alpha(), "capture.png"))
    assert name.endswith(".png") and reopen(paths[0].read_bytes()).format == "PNG"


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def disk_full(src, dst):
        raise OSError("disque plein")

    monkeypatch.setattr(images.os, "replace", disk_full)
    with pytest.raises(OSError):
        receipts.store_receipt(tmp_path, check(PDF))
    assert list((tmp_path / "receipts").iterdir()) == []


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "../" + "a" * 32 + ".pdf",
        "a" * 32 + ".pdf/../../secret",
        "A" * 32 + ".pdf",
        "a" * 31 + ".pdf",
        "a" * 32 + ".exe",
        "a" * 32 + ".pdf\n",
        "/etc/passwd",
        "",
        None,
    ],
)
def test_a_name_store_receipt_cannot_have_made_is_not_found(tmp_path, name):
    with pytest.raises(NotFound):
        receipts.receipt_path(tmp_path, name)
