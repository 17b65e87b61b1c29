"""Image processing: only real JPEG, PNG and WebP images pass, upright, resized, with no metadata.

The builders at the top make every kind of file in memory; tests/test_illustrations.py uses
them too.
"""

import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from services import images

MB = 1024 * 1024
LIMITS = dict(max_bytes=10 * MB, max_pixels=40_000_000)


# Builders ------------------------------------------------------------------------------------


def _exif_with_gps(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Appareil de Camille"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 21.0, 7.0)
    return exif


def _two_halves(size=(40, 20), mode="RGB", left=(255, 0, 0), right=(0, 0, 255)) -> Image.Image:
    """Red on the left, blue on the right: shows which way the image was turned."""
    image = Image.new(mode, size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg_with_exif(size=(40, 20)) -> bytes:
    """A JPEG whose EXIF says "turn me 90° clockwise" (orientation 6) and where it was taken."""
    return _save(_two_halves(size), "JPEG", exif=_exif_with_gps(6), quality=95)


def png_with_alpha(size=(30, 30)) -> bytes:
    image = _two_halves(size, "RGBA", left=(255, 0, 0, 255), right=(0, 0, 255, 0))
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "pris chez moi")
    return _save(image, "PNG", pnginfo=text, exif=_exif_with_gps(1))


def webp_with_exif(size=(50, 40)) -> bytes:
    return _save(_two_halves(size), "WEBP", exif=_exif_with_gps(1), quality=90)


def plain_jpeg(size=(64, 48), color=(30, 120, 60)) -> bytes:
    return _save(Image.new("RGB", size, color), "JPEG")


def animated_webp() -> bytes:
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def png_bomb(width=100_000, height=100_000) -> bytes:
    """A tiny PNG whose header announces a huge image (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    data = _save(Image.effect_noise((200, 200), 64).convert("RGB"), "JPEG")
    return data[: len(data) // 2]


def fake_jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0" + b"ceci n'est pas une image " * 20


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
GIF = _save(Image.new("P", (5, 5)), "GIF")


def too_large_jpeg() -> bytes:
    """11 MB: a real JPEG with padding after its end (still a JPEG, only too heavy)."""
    return plain_jpeg() + b"\0" * (11 * MB)


def reopen(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def assert_no_metadata(data: bytes) -> None:
    image = reopen(data)
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "Comment", "comment"} & set(image.info)
    assert b"Appareil de Camille" not in data
    assert b"pris chez moi" not in data


# Accepted images -----------------------------------------------------------------------------


def test_jpeg_is_turned_upright_and_loses_its_exif_and_gps(app):
    original = jpeg_with_exif()
    source = reopen(original).getexif()
    assert source[ExifTags.Base.Orientation] == 6 and source.get_ifd(ExifTags.IFD.GPSInfo)

    result = images.process_image("photo.jpg", original, **LIMITS)

    assert result.format == "jpeg"
    for data in (result.data, result.thumb_data):
        assert reopen(data).format == "JPEG"
        assert_no_metadata(data)
    upright = reopen(result.data).convert("RGB")
    # 40×20 turned a quarter clockwise: 20×40, the left (red) half now on top.
    assert (result.width, result.height) == upright.size == (20, 40)
    red, green, blue = upright.getpixel((10, 5))
    assert red > 200 and blue < 60
    red, green, blue = upright.getpixel((10, 35))
    assert blue > 200 and red < 60


def test_png_keeps_its_transparency_and_loses_its_text_and_exif(app):
    result = images.process_image("logo.png", png_with_alpha(), **LIMITS)

    assert result.format == "png"
    image = reopen(result.data)
    assert image.format == "PNG" and image.mode == "RGBA"
    assert image.getpixel((1, 1))[3] == 255 and image.getpixel((28, 1))[3] == 0
    assert_no_metadata(result.data)
    assert_no_metadata(result.thumb_data)


def test_webp_stays_webp_without_exif(app):
    result = images.process_image("affiche.webp", webp_with_exif(), **LIMITS)

    assert result.format == "webp"
    assert reopen(result.data).format == "WEBP"
    assert (result.width, result.height) == (50, 40)
    assert_no_metadata(result.data)
    assert_no_metadata(result.thumb_data)


def test_a_large_image_is_resized_to_1600_and_its_thumbnail_to_400(app):
    result = images.process_image("grande.jpg", plain_jpeg((3200, 1000)), **LIMITS)

    assert (result.width, result.height) == (1600, 500)
    assert reopen(result.data).size == (1600, 500)
    assert (result.thumb_width, result.thumb_height) == (400, 125)
    assert reopen(result.thumb_data).size == (400, 125)


def test_a_small_image_is_not_enlarged(app):
    result = images.process_image("petite.jpg", plain_jpeg((64, 48)), **LIMITS)
    assert (result.width, result.height, result.thumb_width, result.thumb_height) == (
        64,
        48,
        64,
        48,
    )


def test_an_animated_image_keeps_its_first_frame(app):
    result = images.process_image("anime.webp", animated_webp(), **LIMITS)

    image = reopen(result.data)
    assert getattr(image, "n_frames", 1) == 1
    red, green, blue = image.convert("RGB").getpixel((10, 10))
    assert red > 200 and green < 60


def test_a_cmyk_jpeg_becomes_rgb(app):
    data = _save(Image.new("CMYK", (30, 30), (0, 255, 255, 0)), "JPEG")
    result = images.process_image("imprimerie.jpg", data, **LIMITS)
    assert reopen(result.data).mode == "RGB"


def test_a_palette_png_with_transparency_keeps_it(app):
    image = Image.new("P", (10, 10), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    data = _save(image, "PNG", transparency=0)
    result = images.process_image("palette.png", data, **LIMITS)
    assert reopen(result.data).mode in ("RGB", "RGBA")


def test_a_16_bit_grey_png_keeps_its_tones(app):
    data = _save(Image.new("I;16", (8, 8), 40000), "PNG")
    result = images.process_image("gris.png", data, **LIMITS)
    image = reopen(result.data)
    assert image.mode == "L" and 150 < image.getpixel((1, 1)) < 160


def test_the_content_decides_not_the_name(app):
    result = images.process_image("vacances.pdf", plain_jpeg(), **LIMITS)
    assert result.format == "jpeg"


# Refused files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "why"),
    [
        ("dessin.svg", SVG, "SVG"),
        ("tract.pdf", PDF, "PDF"),
        ("photo.jpg", HTML, "HTML"),
        ("anime.gif", GIF, "GIF"),
        ("photo.jpg", truncated_jpeg(), "abîmé ou incomplet"),
        ("photo.jpg", fake_jpeg(), "abîmé ou incomplet"),
        ("texte.png", b"juste du texte", "JPEG, PNG ou WebP"),
        ("vide.jpg", b"", "vide"),
    ],
)
def test_anything_but_a_whole_jpeg_png_or_webp_is_refused_saying_why(app, filename, data, why):
    with pytest.raises(images.ImageRejected) as refused:
        images.process_image(filename, data, **LIMITS)
    assert refused.value.status == 422
    assert f"« {filename} »" in refused.value.message
    assert why in refused.value.message


def test_a_decompression_bomb_is_refused_from_its_header(app):
    with pytest.raises(images.ImageRejected) as refused:
        images.process_image("bombe.png", png_bomb(), **LIMITS)
    assert "trop grande" in refused.value.message
    assert refused.value.status == 422


def test_the_pixel_limit_is_checked_before_decoding(app):
    # Within Pillow's own tolerance (twice the limit) but above ours: refused, not decoded
    # (the data would not even decode: it holds a fraction of the announced pixels).
    with pytest.raises(images.ImageRejected) as refused:
        images.process_image(
            "large.png", png_bomb(3000, 2000), max_bytes=10 * MB, max_pixels=5_000_000
        )
    assert "3\u202f000 × 2\u202f000 pixels" in refused.value.message


def test_a_file_above_the_size_limit_is_413_naming_the_file(app):
    with pytest.raises(images.FileTooLarge) as refused:
        images.process_image("enorme.jpg", too_large_jpeg(), **LIMITS)
    assert refused.value.status == 413
    assert "« enorme.jpg »" in refused.value.message
    assert "10 Mo" in refused.value.message


def test_a_file_name_is_shown_without_folders_or_control_characters():
    assert images.display_name("C:\\Users\\camille\\photo.jpg") == "photo.jpg"
    assert images.display_name("../../etc/pass\nwd") == "passwd"
    assert len(images.display_name("a" * 500)) == 78


# Storage -------------------------------------------------------------------------------------


def test_files_are_saved_under_random_names_and_removed(app, tmp_path):
    result = images.process_image("photo.jpg", plain_jpeg(), **LIMITS)
    name = images.new_stored_name()
    assert len(name) == 32 and name != images.new_stored_name()

    paths = images.save_files(tmp_path / "uploads", name, result)

    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == sorted(
        [f"{name}.jpg", f"{name}-400.jpg"]
    )
    assert paths[0].read_bytes() == result.data and paths[1].read_bytes() == result.thumb_data
    images.remove_files(paths)
    images.remove_files(paths)  # already gone: not an error
    assert list((tmp_path / "uploads").iterdir()) == []


def test_a_failed_write_leaves_no_file(app, tmp_path, monkeypatch):
    result = images.process_image("photo.jpg", plain_jpeg(), **LIMITS)
    real_replace = images.os.replace
    calls = []

    def failing_second_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disque plein")
        real_replace(src, dst)

    monkeypatch.setattr(images.os, "replace", failing_second_replace)
    with pytest.raises(OSError):
        images.save_files(tmp_path / "uploads", "abc", result)
    assert list((tmp_path / "uploads").iterdir()) == []
