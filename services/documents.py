"""Files of the network (library resources and support requests): check what a file really is,
keep it or clean it, store it under a random name, find it and remove it.

Pure processing and storage, no database: `check_document` turns an uploaded file's bytes into
a `CheckedDocument` ready to store, or refuses it with a French message saying why;
`store_document`, `document_path` and `remove_document_files` write, find and delete it under
`<root>/network/<folder>/`.

Accepted: PDF, OpenDocument text and spreadsheet (ODT, ODS), Word and Excel (DOCX, XLSX), JPEG
and PNG images, decided on the content, never on the name or the announced type.

- A PDF passes the receipts' checks (services/receipts.py): a known header, `%%EOF` at its end,
  no JavaScript, launch action, attached file or multimedia content. Kept as uploaded.
- A JPEG or PNG is cleaned as a receipt is: upright, no metadata but its colour profile, at
  most receipts.MAX_SIDE px, at most `max_pixels` pixels.
- ODT, ODS, DOCX and XLSX are ZIP archives. The archive is judged from its central directory
  (entry names and announced sizes) without inflating it: no absolute path or `..`, at most
  MAX_ZIP_ENTRIES entries and MAX_ZIP_TOTAL bytes once extracted, no large entry that would
  inflate more than MAX_ZIP_RATIO times (zip bombs). Only the few entries that say what the
  document is are read (an OpenDocument's content and styles are scanned in chunks for macro
  calls), and a read never goes past the size announced. Documents carrying macros
  (OpenDocument Basic/ and Scripts/, macro event listeners; VBA projects, Excel 4 macro
  sheets, macro-enabled content types) or ActiveX controls are refused: they run code on the
  computer of whoever opens them. Kept as uploaded.

Whatever passes must still be served as a download, never inline (views/files.py).
"""

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from flask_babel import gettext as _
from flask_babel import ngettext

from . import images, receipts
from .errors import Invalid, NotFound

DEFAULT_MAX_PIXELS = receipts.DEFAULT_MAX_PIXELS
FOLDERS = ("library", "support")

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
EXTENSIONS = {
    "pdf": "pdf",
    "odt": "odt",
    "ods": "ods",
    "docx": "docx",
    "xlsx": "xlsx",
    "jpeg": "jpg",
    "png": "png",
}
KIND_LABELS = {
    "pdf": "PDF",
    "odt": "Texte (ODT)",
    "ods": "Tableur (ODS)",
    "docx": "Word (DOCX)",
    "xlsx": "Excel (XLSX)",
    "jpeg": "Image JPEG",
    "png": "Image PNG",
}
# For the file input's `accept`: extensions (what file pickers filter best) and types.
ACCEPT = ",".join(
    [".pdf", ".odt", ".ods", ".docx", ".xlsx", ".jpg", ".jpeg", ".png", *CONTENT_TYPES.values()]
)

_STORED_NAME = re.compile(r"[0-9a-f]{32}\.(pdf|odt|ods|docx|xlsx|jpg|png)")

# ZIP limits, read from the central directory before anything is inflated.
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_TOTAL = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200
# The ratio is only judged on entries that inflate to more than this: a bomb is large once
# inflated, while a small XML part made of repeated bytes is harmless.
_RATIO_MIN_SIZE = 1024 * 1024
# The entries read to tell what a document is are small; a larger one is not genuine.
_SMALL_ENTRY = 1024 * 1024
# Entries scanned for macro event listeners (ODF content and styles), read in chunks.
_SCAN_CHUNK = 1024 * 1024

_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}
# Where an OpenDocument calls a macro: an event listener, or a link to a script.
_ODF_SCRIPT_CALL = re.compile(rb"<script:event-listener\b|vnd\.sun\.star\.script:", re.I)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXECUTABLE_MAGIC = (
    b"MZ",  # Windows
    b"\x7fELF",  # Linux
    b"\xcf\xfa\xed\xfe",  # macOS (Mach-O, 64 and 32 bits, both byte orders)
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\xfe\xed\xfa\xce",
    b"#!",  # a script
)
_ARCHIVE_MAGIC = (b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"\x1f\x8b")


class DocumentRejected(Invalid):
    """A file that is not a document we accept; the message names the file and says why."""


class DocumentTooLarge(DocumentRejected):
    status = 413


@dataclass(frozen=True)
class CheckedDocument:
    """A document ready to store: `data` is what is written (the file, or a cleaned image)."""

    kind: str  # "pdf" | "odt" | "ods" | "docx" | "xlsx" | "jpeg" | "png"
    content_type: str
    extension: str  # "pdf" | "odt" | "ods" | "docx" | "xlsx" | "jpg" | "png"
    size: int  # of `data`, in bytes
    display_name: str  # the uploaded file's name, cleaned, with the extension of its kind
    sha256: str  # of `data`, in hexadecimal
    data: bytes = field(repr=False)


def _accepted() -> str:
    return _("Formats acceptés : PDF, ODT, ODS, DOCX, XLSX, images JPEG et PNG.")


def _rejected(name: str, why: str) -> DocumentRejected:
    return DocumentRejected(_("« %(name)s » est refusé : %(why)s.", name=name, why=why))


def _not_accepted(name: str, why: str) -> DocumentRejected:
    """A file of a kind we do not take: why, and what we take."""
    return DocumentRejected(
        _("« %(name)s » est refusé : %(why)s.", name=name, why=why) + " " + _accepted()
    )


# Names -------------------------------------------------------------------------------------

# Extensions replaced by the real one when a file's name carries one of them.
_KNOWN_SUFFIXES = {
    ".pdf",
    ".odt",
    ".ods",
    ".ott",
    ".ots",
    ".docx",
    ".docm",
    ".doc",
    ".xlsx",
    ".xlsm",
    ".xls",
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".webp",
    ".heic",
    ".zip",
}


def name_for_kind(name: str, kind: str) -> str:
    """`name` ending with the extension of what the file really is (a `.jpeg` stays)."""
    extension = EXTENSIONS[kind]
    lower = name.lower()
    if lower.endswith(f".{extension}") or (kind == "jpeg" and lower.endswith(".jpeg")):
        return name
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and f".{suffix.lower()}" in _KNOWN_SUFFIXES:
        name = stem
    return f"{name}.{extension}"


def kind_of_content_type(content_type: str) -> str | None:
    return next((k for k, t in CONTENT_TYPES.items() if t == content_type), None)


# Sniffing ----------------------------------------------------------------------------------


def _not_a_document(name: str, data: bytes) -> DocumentRejected:
    """Why a file with no signature we accept is refused, in words people know."""
    head = data[:2048].lstrip().lower()
    if b"%pdf-" in data[:1024].lower():
        why = _(
            "le fichier contient un PDF précédé d'autre chose ; enregistrez-le de nouveau en "
            "PDF depuis le logiciel qui l'a produit"
        )
    elif data.startswith(_OLE2):
        why = _(
            "c'est un ancien format Word ou Excel (.doc, .xls), ou un document protégé par un "
            "mot de passe ; enregistrez-le en DOCX, XLSX, ODT ou ODS, sans mot de passe"
        )
    elif data.startswith(_EXECUTABLE_MAGIC):
        why = _("c'est un programme, pas un document")
    elif b"<svg" in head:
        why = _("les images SVG ne sont pas acceptées (elles peuvent contenir du code)")
    elif head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        why = _("c'est une page HTML ; enregistrez-la ou imprimez-la en PDF")
    elif head.startswith(b"{\\rtf"):
        why = _("c'est un document RTF ; enregistrez-le en DOCX ou ODT")
    elif head.startswith(b"gif8"):
        why = _("les images GIF ne sont pas acceptées")
    elif images.sniff_format(data) == "webp":
        why = _("les images WebP ne sont pas acceptées")
    elif data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        why = _(
            "les photos HEIC (iPhone) ne sont pas acceptées ; une capture d'écran de la photo "
            "convient"
        )
    elif data.startswith(_ARCHIVE_MAGIC):
        why = _("c'est une archive compressée ; envoyez les documents un par un")
    else:
        why = _("ce format n'est pas accepté")
    return _not_accepted(name, why)


# PDF ---------------------------------------------------------------------------------------


def _check_pdf(name: str, data: bytes) -> None:
    """The receipts' PDF checks (services/receipts.py), worded for a shared document."""
    problem = receipts.pdf_problem(
        data,
        _(
            "ce PDF est démesuré une fois décompressé et ne peut être vérifié ; "
            "imprimez-le de nouveau en PDF"
        ),
        lambda what: _(
            "ce PDF contient %(what)s, à retirer d'un document partagé avec le réseau ; "
            "imprimez-le en PDF (« Imprimer », puis « Enregistrer au format PDF ») pour en "
            "obtenir une copie sans",
            what=what,
        ),
    )
    if problem is not None:
        raise _rejected(name, problem)


# ZIP documents -----------------------------------------------------------------------------


def _damaged_zip(name: str) -> DocumentRejected:
    return _rejected(
        name,
        _(
            "le fichier est abîmé ou incomplet, il ne peut pas être lu ; enregistrez-le de "
            "nouveau depuis le logiciel qui l'a produit"
        ),
    )


def _unsafe_entry_name(entry: str) -> bool:
    parts = entry.replace("\\", "/").split("/")
    return (
        entry.startswith(("/", "\\"))
        or re.match(r"[A-Za-z]:", entry) is not None
        or ".." in parts
        or "\x00" in entry
    )


def _check_archive(name: str, archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The entries, if the central directory describes a harmless archive."""
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise _rejected(
            name,
            _(
                "l'archive compte %(count)s fichiers, %(max)s au plus",
                count=images._french_number(len(entries)),
                max=images._french_number(MAX_ZIP_ENTRIES),
            ),
        )
    names = set()
    total = 0
    for entry in entries:
        if _unsafe_entry_name(entry.filename):
            raise _rejected(
                name,
                _("l'archive contient un chemin de fichier dangereux (absolu ou avec « .. »)"),
            )
        if entry.filename in names:
            raise _rejected(name, _("l'archive contient deux fois le même fichier"))
        names.add(entry.filename)
        if entry.flag_bits & 0x1:
            raise _rejected(
                name,
                _("le document est protégé par un mot de passe ; enregistrez-le sans"),
            )
        total += entry.file_size
        ratio_too_high = entry.file_size > _RATIO_MIN_SIZE and entry.file_size > (
            MAX_ZIP_RATIO * max(entry.compress_size, 1)
        )
        if ratio_too_high or total > MAX_ZIP_TOTAL:
            raise _rejected(
                name,
                _(
                    "une fois décompressé, le document serait démesuré (plus de %(max)s Mo, ou "
                    "plus de %(ratio)s fois sa taille) ; c'est le signe d'un fichier piégé",
                    max=images._megabytes(MAX_ZIP_TOTAL),
                    ratio=MAX_ZIP_RATIO,
                ),
            )
    return entries


def _read_small(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bytes | None:
    """The entry's bytes if it is small (None otherwise); never reads past _SMALL_ENTRY."""
    if entry.file_size > _SMALL_ENTRY:
        return None
    with archive.open(entry) as stream:
        data = stream.read(_SMALL_ENTRY + 1)
    return data if len(data) <= _SMALL_ENTRY else None


def _contains(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, pattern: re.Pattern) -> bool:
    """Whether the entry's inflated bytes match `pattern`, read in chunks (its size is bounded
    by _check_archive, and a read stops at the size announced)."""
    tail = b""
    with archive.open(entry) as stream:
        while chunk := stream.read(_SCAN_CHUNK):
            if pattern.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _macros(name: str, format_name: str) -> DocumentRejected:
    return _rejected(
        name,
        _(
            "le document contient des macros ou des contrôles actifs, qui exécutent du code "
            "sur l'ordinateur de qui l'ouvre ; enregistrez-le de nouveau en %(format)s sans "
            "macros (ou exportez-le en PDF)",
            format=format_name,
        ),
    )


def _opendocument_kind(name: str, archive: zipfile.ZipFile, entries) -> str:
    first = entries[0]
    mimetype = _read_small(archive, first) if first.compress_type == zipfile.ZIP_STORED else None
    kind = _ODF_MIMETYPES.get(mimetype or b"")
    if kind is None:
        if mimetype and mimetype.startswith(b"application/vnd.oasis.opendocument.presentation"):
            why = _("c'est une présentation (ODP) ; exportez-la en PDF")
        elif mimetype and mimetype.startswith(b"application/vnd.oasis.opendocument."):
            why = _(
                "ce type de document OpenDocument n'est pas accepté, seuls le texte (ODT) et "
                "le tableur (ODS) le sont ; exportez-le en PDF"
            )
        else:
            why = _("ce n'est pas un document texte ou tableur reconnu")
        raise _not_accepted(name, why)
    by_name = {entry.filename: entry for entry in entries}
    if "content.xml" not in by_name or "META-INF/manifest.xml" not in by_name:
        raise _rejected(
            name,
            _(
                "ce document OpenDocument est incomplet ; enregistrez-le de nouveau depuis "
                "LibreOffice"
            ),
        )
    manifest = _read_small(archive, by_name["META-INF/manifest.xml"])
    if manifest is None:
        raise _damaged_zip(name)
    if b"encryption-data" in manifest:
        raise _rejected(
            name, _("le document est protégé par un mot de passe ; enregistrez-le sans")
        )
    label = "ODT" if kind == "odt" else "ODS"
    if any({"Basic", "Scripts"} & set(PurePosixPath(entry.filename).parts) for entry in entries):
        raise _macros(name, label)
    for part in ("content.xml", "styles.xml"):
        if part in by_name and _contains(archive, by_name[part], _ODF_SCRIPT_CALL):
            raise _macros(name, label)
    return kind


def _office_open_kind(name: str, archive: zipfile.ZipFile, entries) -> str:
    by_name = {entry.filename: entry for entry in entries}
    content_types = _read_small(archive, by_name["[Content_Types].xml"])
    if content_types is None:
        raise _damaged_zip(name)
    if "word/document.xml" in by_name:
        kind, label = "docx", "DOCX"
    elif "xl/workbook.xml" in by_name:
        kind, label = "xlsx", "XLSX"
    elif "ppt/presentation.xml" in by_name:
        raise _not_accepted(name, _("c'est une présentation PowerPoint ; exportez-la en PDF"))
    else:
        raise _not_accepted(name, _("ce n'est pas un document texte ou tableur reconnu"))
    lowered = [entry.filename.lower() for entry in entries]
    if (
        b"macroenabled" in content_types.lower()
        or b"vbaproject" in content_types.lower()
        or any(
            PurePosixPath(entry).name == "vbaproject.bin"
            or "activex" in PurePosixPath(entry).parts
            or "macrosheets" in PurePosixPath(entry).parts
            for entry in lowered
        )
    ):
        raise _macros(name, label)
    return kind


def _zip_kind(name: str, data: bytes) -> str:
    """ "odt", "ods", "docx" or "xlsx" for a harmless document; DocumentRejected otherwise."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = _check_archive(name, archive)
            if not entries:
                raise _not_accepted(name, _("c'est une archive ZIP vide"))
            names = {entry.filename for entry in entries}
            if entries[0].filename == "mimetype":
                return _opendocument_kind(name, archive, entries)
            if "[Content_Types].xml" in names:
                return _office_open_kind(name, archive, entries)
            if "mimetype" in names or "META-INF/manifest.xml" in names:
                raise _rejected(
                    name,
                    _(
                        "ce document OpenDocument est mal formé ; enregistrez-le de nouveau "
                        "depuis LibreOffice"
                    ),
                )
            raise _not_accepted(
                name, _("c'est une archive ZIP ; envoyez les documents qu'elle contient un par un")
            )
    except DocumentRejected:
        raise
    except Exception as error:  # untrusted bytes: BadZipFile, zlib.error, EOFError, a bad CRC…
        raise _damaged_zip(name) from error


# Checking ----------------------------------------------------------------------------------


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    fmt = images.sniff_format(data)
    if fmt in ("jpeg", "png"):
        return fmt
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    return None


def check_document(
    filename: str | None, data: bytes, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> CheckedDocument:
    """Check one uploaded file and make what is stored.

    Raises DocumentTooLarge (413) above `max_bytes`, DocumentRejected (422) for anything else
    refused: an empty file, a file that is none of the accepted kinds or is damaged, a PDF with
    active content, a document with macros, a zip bomb, an image of more than `max_pixels`
    pixels.
    """
    name = images.display_name(filename)
    if len(data) > max_bytes:
        raise DocumentTooLarge(
            _(
                "« %(name)s » pèse %(size)s Mo : un fichier ne peut dépasser %(max)s Mo.",
                name=name,
                size=images._megabytes(len(data)),
                max=images._megabytes(max_bytes),
            )
        )
    if not data:
        raise DocumentRejected(_("« %(name)s » est un fichier vide.", name=name))
    kind = _sniff(data)
    if kind is None:
        raise _not_a_document(name, data)
    if kind == "pdf":
        _check_pdf(name, data)
        stored = data
    elif kind == "zip":
        kind = _zip_kind(name, data)
        stored = data
    else:
        try:
            stored = receipts._clean_image(name, data, kind, max_pixels)
        except receipts.ReceiptRejected as error:
            raise DocumentRejected(error.message) from None
    return CheckedDocument(
        kind=kind,
        content_type=CONTENT_TYPES[kind],
        extension=EXTENSIONS[kind],
        size=len(stored),
        display_name=name_for_kind(images.display_name(filename or "document"), kind),
        sha256=hashlib.sha256(stored).hexdigest(),
        data=stored,
    )


# Uploads -----------------------------------------------------------------------------------


def read_uploads(files, max_files: int) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each file sent (werkzeug FileStorage objects, as from
    `request.files.getlist`), skipping the empty part a form sends for a file input left
    empty; Invalid (422) when there are more than `max_files`."""
    uploads = []
    for storage in files:
        filename = storage.filename or ""
        data = storage.read()
        if not filename and not data:
            continue
        uploads.append((filename, data))
        if len(uploads) > max_files:
            raise Invalid(
                ngettext(
                    "Un seul fichier peut être joint à la fois.",
                    "%(num)d fichiers au plus peuvent être joints à la fois.",
                    max_files,
                )
            )
    return uploads


def check_documents(
    uploads: list[tuple[str, bytes]], max_files: int, max_bytes: int
) -> list[CheckedDocument]:
    """Every uploaded file checked by its content, before any is stored; or one error naming
    each refused file and saying that nothing was recorded (413 when one is too large)."""
    if len(uploads) > max_files:
        raise DocumentRejected(
            ngettext(
                "Un envoi compte un fichier au plus.",
                "Un envoi compte %(num)d fichiers au plus.",
                max_files,
            )
        )
    checked, errors = [], []
    for filename, data in uploads:
        try:
            checked.append(check_document(filename, data, max_bytes))
        except DocumentRejected as error:
            errors.append(error)
    if not errors:
        return checked
    message = " ".join(error.message for error in errors)
    message += " " + _("Rien n'a été enregistré.")
    too_large = any(isinstance(error, DocumentTooLarge) for error in errors)
    raise (DocumentTooLarge if too_large else DocumentRejected)(message)


# Storage -----------------------------------------------------------------------------------


def _folder(root: str | Path, folder: str) -> Path:
    return Path(root) / "network" / folder


def store_document(
    root: str | Path, checked: CheckedDocument, folder: str
) -> tuple[str, list[Path]]:
    """Write the document under `<root>/network/<folder>/` ("library" or "support") with a
    random, unguessable name (128 bits and the extension); returns that name and the paths
    written, for `remove_document_files` if the transaction that records it fails. Written
    atomically: no half file, ever."""
    if folder not in FOLDERS:
        raise ValueError(f"unknown document folder: {folder!r}")
    directory = _folder(root, folder)
    directory.mkdir(parents=True, exist_ok=True)
    stored_name = f"{images.new_stored_name()}.{checked.extension}"
    path = directory / stored_name
    images._write_atomically(path, checked.data)
    return stored_name, [path]


def document_path(root: str | Path, folder: str, stored_name: str) -> Path:
    """Where a stored document is; NotFound for any name `store_document` cannot have made and
    any other folder (so that no name reaches a file outside the folder)."""
    if (
        folder not in FOLDERS
        or not isinstance(stored_name, str)
        or not _STORED_NAME.fullmatch(stored_name)
    ):
        raise NotFound(_("Ce fichier n'existe pas."))
    return _folder(root, folder) / stored_name


def remove_document_files(paths) -> None:
    """Delete these files (after a failed transaction, or with their resource or request);
    one already gone is not an error."""
    images.remove_files(paths)
