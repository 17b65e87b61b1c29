"""Receipts (justificatifs) of spending requests: check what a file really is, clean it, store it.

Pure processing and storage, no database: `check_receipt` turns an uploaded file's bytes into
a `CheckedReceipt` ready to store, or refuses it with a French message saying why;
`store_receipt`, `receipt_path` and `remove_receipt_files` write, find and delete it under
`<root>/receipts/` with a random name.

A receipt is a PDF, a JPEG or a PNG, decided on the content, never on the name or the
announced type.

A PDF must start with `%PDF-1.x` or `%PDF-2.0` (readers tolerate other bytes before it, we do
not: a file that is both a web page and a PDF is made that way) and end with `%%EOF` within
its last 1024 bytes (a truncated download does not). It is kept as uploaded, except that a
PDF with active content is refused: JavaScript, an action launching a program, attached
files or multimedia (Flash) content. The finance team opens every receipt, and an invoice
needs none of these; printing the document to PDF again gives a copy without them. The search
reads the file's bytes and its compressed streams (where current PDF writers put their
objects); it is a filter against the usual cases, not a full PDF parser, so receipts must
still be served as downloads, never displayed inline on the site.

A JPEG or PNG goes through Pillow as an illustration does (services/images.py): the whole
image must decode, its header must announce at most `max_pixels` pixels (decompression bombs),
it is turned upright and loses every metadata block (the EXIF GPS position of a phone photo
among them) but its ICC colour profile. It is only made smaller when its longer side exceeds
3000 px: a receipt must stay readable.
"""

import hashlib
import io
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image, ImageOps

from . import images
from .errors import Invalid, NotFound

MAX_SIDE = 3000
DEFAULT_MAX_PIXELS = 50_000_000
FOLDER = "receipts"

CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
EXTENSIONS = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}
ACCEPT = "application/pdf,image/jpeg,image/png"  # for the file input's `accept`

_STORED_NAME = re.compile(r"[0-9a-f]{32}\.(pdf|jpg|png)")

# PDF checks ----------------------------------------------------------------------------------
_PDF_HEADER = re.compile(rb"%PDF-(1\.[0-7]|2\.0)(?![0-9])")
_PDF_END_WINDOW = 1024
# A name may be written with #xx escapes (/J#61vaScript is /JavaScript).
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Whole names only: a delimiter or the end after them. /JavaScript covers every JavaScript
# action (its /S entry) and the document's scripts (its names tree).
_ACTIVE_NAME = re.compile(rb"/(JavaScript|Launch|EmbeddedFiles?|RichMedia)(?=[\s/<>\[\]()%{}]|$)")
# "stream" at the start of a stream's data, not the end of "endstream".
_STREAM_START = re.compile(rb"(?<!end)stream\r?\n")
_IMAGE_STREAM = re.compile(rb"/Subtype\s*/Image\b")
# Decompressed bytes read from a PDF's streams, all together: far above what the objects and
# page contents of a receipt need (pictures, the large part, are not decompressed), and a
# bound on the work a small file that inflates enormously can cause.
PDF_INFLATE_BUDGET = 128 * 1024 * 1024
_INFLATE_CHUNK = 1024 * 1024


class ReceiptRejected(Invalid):
    """A file that is not a receipt we accept; the message names the file and says why."""


class ReceiptTooLarge(ReceiptRejected):
    status = 413


@dataclass(frozen=True)
class CheckedReceipt:
    """A receipt ready to store: `data` is what is written (a cleaned image, or the PDF)."""

    kind: str  # "pdf" | "jpeg" | "png"
    content_type: str
    extension: str  # "pdf" | "jpg" | "png"
    size: int  # of `data`, in bytes
    display_name: str  # the uploaded file's name, cleaned, to show to people
    sha256: str  # of `data`, in hexadecimal
    data: bytes = field(repr=False)


def _rejected(name: str, why: str) -> ReceiptRejected:
    return ReceiptRejected(_("« %(name)s » est refusé : %(why)s.", name=name, why=why))


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    fmt = images.sniff_format(data)
    return fmt if fmt in ("jpeg", "png") else None


def _not_a_receipt(name: str, data: bytes) -> ReceiptRejected:
    """Why a file that is neither a PDF, a JPEG nor a PNG is refused, in words people know."""
    head = data[:2048].lstrip().lower()
    if b"%pdf-" in data[:1024].lower():
        why = _(
            "le fichier contient un PDF précédé d'autre chose ; enregistrez-le de nouveau en "
            "PDF depuis le logiciel qui l'a produit"
        )
    elif b"<svg" in head:
        why = _("les images SVG ne sont pas acceptées (elles peuvent contenir du code)")
    elif head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        why = _("c'est une page HTML ; enregistrez-la ou imprimez-la en PDF")
    elif head.startswith(b"gif8"):
        why = _("les images GIF ne sont pas acceptées")
    elif images.sniff_format(data) == "webp":
        why = _("les images WebP ne sont pas acceptées")
    elif data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        why = _(
            "les photos HEIC (iPhone) ne sont pas acceptées ; une capture d'écran de la photo "
            "convient"
        )
    elif data.startswith(b"PK\x03\x04"):
        why = _(
            "c'est une archive ou un document de traitement de texte ou de tableur ; "
            "exportez-le en PDF"
        )
    else:
        why = _("ce n'est ni un PDF, ni une image JPEG ou PNG")
    return ReceiptRejected(
        _(
            "« %(name)s » est refusé : %(why)s. Envoyez un PDF, ou une photo ou un scan en "
            "JPEG ou PNG.",
            name=name,
            why=why,
        )
    )


# PDF -----------------------------------------------------------------------------------------


def _unescape_names(data: bytes) -> bytes:
    return _NAME_ESCAPE.sub(lambda m: bytes.fromhex(m[1].decode()), data)


def _stream_dictionary(data: bytes, stream_start: int) -> bytes:
    """The bytes before a stream's data back to the previous object's end: its dictionary."""
    begin = max(
        data.rfind(b"endobj", 0, stream_start),
        data.rfind(b"endstream", 0, stream_start),
        stream_start - 65536,
        0,
    )
    return data[begin:stream_start]


class _TooMuchToInflate(Exception):
    pass


def _active_content(data: bytes) -> bytes | None:
    """The first active name (b"JavaScript", b"Launch"…) found in the PDF's bytes or in its
    decompressed streams (pictures excepted), or None. Raises _TooMuchToInflate when the
    streams decompress to more than PDF_INFLATE_BUDGET."""
    found = _ACTIVE_NAME.search(_unescape_names(data))
    if found:
        return found[1]
    budget = PDF_INFLATE_BUDGET
    for start in _STREAM_START.finditer(data):
        if _IMAGE_STREAM.search(_unescape_names(_stream_dictionary(data, start.start()))):
            continue
        end = data.find(b"endstream", start.end())
        pending = data[start.end() : end if end >= 0 else len(data)]
        inflater = zlib.decompressobj()
        tail = b""  # the end of the previous chunk: a name may straddle two chunks
        while pending:
            if budget <= 0:
                raise _TooMuchToInflate
            try:
                chunk = inflater.decompress(pending, min(_INFLATE_CHUNK, budget))
            except zlib.error:
                break  # not Flate-compressed (a picture, a font in another filter…)
            if not chunk:
                break
            budget -= len(chunk)
            found = _ACTIVE_NAME.search(_unescape_names(tail + chunk))
            if found:
                return found[1]
            tail = chunk[-64:]
            pending = inflater.unconsumed_tail
    return None


def pdf_problem(data: bytes, too_large: str, active_content: Callable[[str], str]) -> str | None:
    """Why this PDF is refused, or None: a version we do not know, a missing end, streams too
    large once inflated to be searched (`too_large`), or active content (`active_content`
    given what it is). Receipts and the network's documents share these checks and word
    their last two answers for themselves."""
    if not _PDF_HEADER.match(data):
        return _("ce PDF annonce une version inconnue (ni 1.0 à 1.7, ni 2.0) ; il ne peut être lu")
    if b"%%EOF" not in data[-_PDF_END_WINDOW:]:
        return _(
            "le PDF est incomplet, sa fin manque (un téléchargement interrompu ?) ; "
            "ouvrez-le pour vérifier, puis envoyez-le de nouveau"
        )
    try:
        active = _active_content(data)
    except _TooMuchToInflate:
        return too_large
    if active is None:
        return None
    what = {
        b"JavaScript": _("du code JavaScript"),
        b"Launch": _("une commande qui lance un programme"),
        b"EmbeddedFile": _("des fichiers joints"),
        b"EmbeddedFiles": _("des fichiers joints"),
        b"RichMedia": _("du contenu multimédia actif"),
    }[active]
    return active_content(what)


def _check_pdf(name: str, data: bytes) -> None:
    problem = pdf_problem(
        data,
        _(
            "ce PDF est démesuré une fois décompressé et ne peut être vérifié ; "
            "imprimez-le de nouveau en PDF ou envoyez un scan"
        ),
        lambda what: _(
            "ce PDF contient %(what)s, qui n'a pas sa place dans un justificatif ; "
            "imprimez-le en PDF (« Imprimer », puis « Enregistrer au format PDF ») pour "
            "en obtenir une copie sans, ou envoyez un scan",
            what=what,
        ),
    )
    if problem is not None:
        raise _rejected(name, problem)


# Images --------------------------------------------------------------------------------------


def _clean_image(name: str, data: bytes, fmt: str, max_pixels: int) -> bytes:
    """The image upright, without metadata, at most MAX_SIDE px, re-encoded in its format.

    The same steps as images.process_image, with a larger size and no thumbnail."""
    damaged = _rejected(
        name,
        _(
            "le fichier est abîmé ou incomplet, il ne peut pas être lu comme une image %(format)s",
            format=images.PILLOW_FORMATS[fmt],
        ),
    )
    try:
        image = Image.open(io.BytesIO(data), formats=[images.PILLOW_FORMATS[fmt]])
    except Image.DecompressionBombError:
        image = None
    except Exception as error:  # untrusted bytes: whatever Pillow raises, it is not an image
        raise damaged from error
    if image is None or image.width * image.height > max_pixels:
        raise _rejected(
            name,
            _(
                "l'image est trop grande (plus de %(max)s millions de pixels) ; réduisez-la "
                "ou scannez le document à 300 points par pouce",
                max=images._french_number(max_pixels // 1_000_000),
            ),
        )
    try:
        icc_profile = image.info.get("icc_profile")
        if fmt == "jpeg":
            image.draft(None, (MAX_SIDE, MAX_SIDE))
        image.load()
        image = ImageOps.exif_transpose(image)
        if image.mode.startswith("I"):
            image = image.convert("I").point(lambda value: value / 256).convert("L")
        image = image.convert(images._output_mode(image, fmt))
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        return images._encode(image, fmt, icc_profile)
    except Exception as error:  # truncated data, a broken chunk, a bad EXIF block…
        raise damaged from error


# Checking ------------------------------------------------------------------------------------


def check_receipt(
    filename: str | None, data: bytes, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> CheckedReceipt:
    """Check one uploaded receipt and make what is stored.

    Raises ReceiptTooLarge (413) above `max_bytes`, ReceiptRejected (422) for anything else
    refused: an empty file, a file that is not a whole PDF, JPEG or PNG, a PDF with active
    content, an image of more than `max_pixels` pixels.
    """
    name = images.display_name(filename)
    if len(data) > max_bytes:
        raise ReceiptTooLarge(
            _(
                "« %(name)s » pèse %(size)s Mo : un justificatif ne peut dépasser %(max)s Mo.",
                name=name,
                size=images._megabytes(len(data)),
                max=images._megabytes(max_bytes),
            )
        )
    if not data:
        raise ReceiptRejected(_("« %(name)s » est un fichier vide.", name=name))
    kind = _sniff(data)
    if kind is None:
        raise _not_a_receipt(name, data)
    if kind == "pdf":
        _check_pdf(name, data)
        stored = data
    else:
        stored = _clean_image(name, data, kind, max_pixels)
    return CheckedReceipt(
        kind=kind,
        content_type=CONTENT_TYPES[kind],
        extension=EXTENSIONS[kind],
        size=len(stored),
        display_name=name,
        sha256=hashlib.sha256(stored).hexdigest(),
        data=stored,
    )


# Storage -------------------------------------------------------------------------------------


def store_receipt(root: str | Path, checked: CheckedReceipt) -> tuple[str, list[Path]]:
    """Write the receipt under `<root>/receipts/` with a random, unguessable name (128 bits and
    the extension); returns that name and the paths written, for `remove_receipt_files` if the
    transaction that records it fails. Written atomically: no half file, ever."""
    folder = Path(root) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{images.new_stored_name()}.{checked.extension}"
    path = folder / stored_name
    images._write_atomically(path, checked.data)
    return stored_name, [path]


def receipt_path(root: str | Path, stored_name: str) -> Path:
    """Where a stored receipt is; NotFound for any name `store_receipt` cannot have made (so
    that no name reaches a file outside the folder)."""
    if not isinstance(stored_name, str) or not _STORED_NAME.fullmatch(stored_name):
        raise NotFound(_("Ce justificatif n'existe pas."))
    return Path(root) / FOLDER / stored_name


def remove_receipt_files(paths) -> None:
    """Delete these files (after a failed transaction, or with their request); one already
    gone is not an error."""
    images.remove_files(paths)
