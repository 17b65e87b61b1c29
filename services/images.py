"""Image files: check what a file really is, clean and resize it, store it and remove it.

Pure processing and storage, no database: `process_image` turns an uploaded file's bytes
into the bytes of the stored image and of its thumbnail, or refuses it with a French message
saying why; `save_files` and `remove_files` write and delete them under the uploads folder.

What is accepted is decided on the content, never on the name or the announced type: the
first bytes must be those of a JPEG, a PNG or a WebP file, Pillow must open it with that
format's decoder only, its header must announce at most `max_pixels` pixels (checked before
anything is decoded: a decompression bomb is a small file that announces a huge image), and
the whole image must decode (a truncated or fake file does not).

The stored image keeps its original format (a JPEG stays a JPEG), is turned upright
according to its EXIF orientation, loses every metadata block (EXIF with its GPS position,
XMP, comments, text chunks) and is at most 1600 px on its longer side; the thumbnail is at
most 400 px. Only the ICC colour profile is kept, so that colours look the same; it says
nothing about the person or the place. An animated image keeps its first frame.
"""

import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image, ImageOps

from models import THUMB_SUFFIX

from .errors import Invalid

MAX_SIDE = 1600
THUMB_SIDE = 400

# Our format name → Pillow's, the file extension and the content type served.
PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
ACCEPT = "image/jpeg,image/png,image/webp"

_SAVE_OPTIONS = {
    "jpeg": {"quality": 85, "optimize": True, "progressive": True},
    "png": {"optimize": True},
    "webp": {"quality": 82, "method": 4},
}


class ImageRejected(Invalid):
    """A file that is not an image we accept; the message names the file and says why."""


class FileTooLarge(ImageRejected):
    status = 413


@dataclass(frozen=True)
class ProcessedImage:
    format: str  # "jpeg" | "png" | "webp"
    data: bytes
    width: int
    height: int
    thumb_data: bytes
    thumb_width: int
    thumb_height: int


def set_pixel_limit(max_pixels: int) -> None:
    """Pillow's own guard against decompression bombs, set to our limit (it is process-wide;
    Pillow refuses outright above twice this, and `process_image` refuses above it)."""
    Image.MAX_IMAGE_PIXELS = max_pixels


def display_name(filename: str | None) -> str:
    """The file's name as the person chose it, safe to put in a message: no folders, no
    control characters, not too long."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    if len(name) > 80:
        name = name[:77] + "…"
    return name or _("(fichier sans nom)")


def _french_number(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0")


def sniff_format(data: bytes) -> str | None:
    """The format announced by the file's first bytes, if it is one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _not_an_image(name: str, data: bytes) -> ImageRejected:
    """Why a file with no JPEG, PNG or WebP signature is refused, in words the person knows."""
    head = data[:2048].lstrip().lower()
    if head.startswith(b"%pdf"):
        why = _("c'est un document PDF, pas une image")
    elif b"<svg" in head:
        why = _("les images SVG ne sont pas acceptées (elles peuvent contenir du code)")
    elif head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        why = _("c'est une page HTML, pas une image")
    elif head.startswith(b"gif8"):
        why = _("les images GIF ne sont pas acceptées")
    else:
        why = _("ce n'est pas une image JPEG, PNG ou WebP")
    return ImageRejected(
        _(
            "« %(name)s » est refusé : %(why)s. Envoyez une image JPEG, PNG ou WebP.",
            name=name,
            why=why,
        )
    )


def _output_mode(image: Image.Image, fmt: str) -> str:
    if fmt == "jpeg":
        return "L" if image.mode == "L" else "RGB"
    if image.mode in ("L", "RGB", "RGBA") or (fmt == "png" and image.mode == "LA"):
        return image.mode
    return "RGBA" if image.has_transparency_data else "RGB"


def _encode(image: Image.Image, fmt: str, icc_profile: bytes | None) -> bytes:
    # Pillow writes the metadata it is given, and for some formats what is left in `info`:
    # an empty `info` and explicit options leave nothing but the pixels and the colour profile.
    image.info = {}
    options = dict(_SAVE_OPTIONS[fmt])
    if icc_profile:
        options["icc_profile"] = icc_profile
    out = io.BytesIO()
    image.save(out, PILLOW_FORMATS[fmt], **options)
    return out.getvalue()


def process_image(filename: str | None, data: bytes, max_bytes: int, max_pixels: int):
    """Check one uploaded file and make the image and thumbnail to store.

    Raises FileTooLarge (413) above `max_bytes`, ImageRejected (422) for anything that is not
    a whole JPEG, PNG or WebP image of at most `max_pixels` pixels.
    """
    name = display_name(filename)
    if len(data) > max_bytes:
        raise FileTooLarge(
            _(
                "« %(name)s » pèse %(size)s Mo : une image ne peut dépasser %(max)s Mo.",
                name=name,
                size=_megabytes(len(data)),
                max=_megabytes(max_bytes),
            )
        )
    if not data:
        raise ImageRejected(_("« %(name)s » est un fichier vide.", name=name))
    fmt = sniff_format(data)
    if fmt is None:
        raise _not_an_image(name, data)
    damaged = ImageRejected(
        _(
            "« %(name)s » est refusé : le fichier est abîmé ou incomplet, il ne peut pas être "
            "lu comme une image %(format)s.",
            name=name,
            format=PILLOW_FORMATS[fmt],
        )
    )
    try:
        # Only this format's decoder: a file never gets read by a decoder it did not ask for.
        image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[fmt]])
    except Image.DecompressionBombError:
        image = None
    except Exception as error:  # untrusted bytes: whatever Pillow raises, it is not an image
        raise damaged from error
    # The header's size, before a single pixel is decoded.
    if image is None or image.width * image.height > max_pixels:
        size = (
            _("%(w)s × %(h)s pixels", w=_french_number(image.width), h=_french_number(image.height))
            if image is not None
            else _("bien trop de pixels")
        )
        raise ImageRejected(
            _(
                "« %(name)s » est refusé : l'image est trop grande (%(size)s) ; "
                "%(max)s millions de pixels au plus.",
                name=name,
                size=size,
                max=_french_number(max_pixels // 1_000_000),
            )
        )
    try:
        icc_profile = image.info.get("icc_profile")
        if fmt == "jpeg":
            # Decode at a reduced scale when the image is far larger than what is kept.
            image.draft(None, (MAX_SIDE, MAX_SIDE))
        image.load()
        image = ImageOps.exif_transpose(image)
        if image.mode.startswith("I"):
            # 16-bit grey (PNG): scaled to 8 bits, where a plain conversion would clip to white.
            image = image.convert("I").point(lambda value: value / 256).convert("L")
        image = image.convert(_output_mode(image, fmt))
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        thumb = image.copy()
        thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        width, height = image.size
        thumb_width, thumb_height = thumb.size
        return ProcessedImage(
            format=fmt,
            data=_encode(image, fmt, icc_profile),
            width=width,
            height=height,
            thumb_data=_encode(thumb, fmt, icc_profile),
            thumb_width=thumb_width,
            thumb_height=thumb_height,
        )
    except Exception as error:  # truncated data, a broken chunk, a bad EXIF block…
        raise damaged from error


# Storage ------------------------------------------------------------------------------------


def new_stored_name() -> str:
    """A random name, not guessable: 128 bits in hexadecimal."""
    return secrets.token_hex(16)


def file_names(stored_name: str, fmt: str) -> tuple[str, str]:
    """The image's and the thumbnail's file names (as Illustration.file_name/thumb_name)."""
    ext = EXTENSIONS[fmt]
    return f"{stored_name}.{ext}", f"{stored_name}{THUMB_SUFFIX}.{ext}"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: a reader never sees half a
    file, and a failure leaves no file under the final name."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def save_files(root: str | Path, stored_name: str, image: ProcessedImage) -> list[Path]:
    """Write the image and its thumbnail under `root`; returns the paths written (all of them
    or, if writing failed, none: what was written is removed before the error goes on)."""
    folder = Path(root)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for name, data in zip(
            file_names(stored_name, image.format), (image.data, image.thumb_data), strict=True
        ):
            path = folder / name
            _write_atomically(path, data)
            written.append(path)
    except BaseException:
        remove_files(written)
        raise
    return written


def remove_files(paths) -> None:
    """Delete these files; one already gone is not an error."""
    for path in paths:
        Path(path).unlink(missing_ok=True)


def stored_paths(root: str | Path, stored_name: str, fmt: str) -> list[Path]:
    return [Path(root) / name for name in file_names(stored_name, fmt)]
