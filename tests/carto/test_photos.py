"""carto.photos: uploaded photos come back re-encoded, downsized and with no metadata at all.

Pure Pillow tests: no database and no Django settings needed.
"""

from __future__ import annotations

import io
import json
import random
import re
import struct
import subprocess
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from carto.errors import InvalidInput
from carto.photos import CleanPhoto, photo_clean, random_photo_name

EXIFTOOL = "/usr/bin/exiftool"

# A recognisable secret we hide in every kind of metadata, so a leak shows up in the raw bytes.
SECRET = b"Rue-des-Secrets-42"

XMP_PACKET = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    b' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    b' exif:GPSLatitude="45,46.1234N" exif:GPSLongitude="4,52.5678E">'
    b"<dc:description>" + SECRET + b"</dc:description>"
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    b'<?xpacket end="w"?>'
)


# --- helpers building test images ------------------------------------------------------------------


def _encode(im: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def _two_tone(size: tuple[int, int]) -> Image.Image:
    """Left half red, right half blue: lets us see which way the pixels were rotated."""
    width, height = size
    im = Image.new("RGB", size, (220, 20, 20))
    im.paste((20, 20, 220), (width // 2, 0, width, height))
    return im


def _noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """Incompressible pixels, so the encoded file is big enough to cut in half meaningfully."""
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def _add_thumbnail(exif_segment: bytes, thumbnail: bytes) -> bytes:
    """Append an IFD1 holding a JPEG thumbnail to Pillow's EXIF bytes (Pillow only writes IFD0).

    The TIFF layout is: header, IFD0 (count, 12-byte entries, next-IFD offset), data. We point
    IFD0's "next IFD" at a new IFD1 placed at the end, followed by the thumbnail itself.
    """
    assert exif_segment.startswith(b"Exif\x00\x00")
    tiff = bytearray(exif_segment[6:])
    endian = "<" if tiff[:2] == b"II" else ">"
    (ifd0,) = struct.unpack_from(endian + "I", tiff, 4)
    (count,) = struct.unpack_from(endian + "H", tiff, ifd0)
    if len(tiff) % 2:
        tiff += b"\x00"
    ifd1 = len(tiff)
    struct.pack_into(endian + "I", tiff, ifd0 + 2 + 12 * count, ifd1)
    thumb_offset = ifd1 + 2 + 3 * 12 + 4
    tiff += struct.pack(endian + "H", 3)
    tiff += struct.pack(endian + "HHIHH", 0x0103, 3, 1, 6, 0)  # Compression = JPEG (old-style)
    tiff += struct.pack(endian + "HHII", 0x0201, 4, 1, thumb_offset)  # JPEGInterchangeFormat
    tiff += struct.pack(endian + "HHII", 0x0202, 4, 1, len(thumbnail))  # JPEGInterchangeFormatLength
    tiff += struct.pack(endian + "I", 0)  # no IFD2
    tiff += thumbnail
    return b"Exif\x00\x00" + bytes(tiff)


def _iptc_app13() -> bytes:
    """A Photoshop APP13 segment with an IPTC City and Caption (Pillow cannot write IPTC)."""
    iptc = b""
    for dataset, value in ((0, b"\x00\x04"), (90, b"Villeurbanne"), (120, SECRET)):
        iptc += b"\x1c\x02" + bytes([dataset]) + struct.pack(">H", len(value)) + value
    if len(iptc) % 2:
        iptc += b"\x00"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def _jpeg_with_everything() -> bytes:
    """A 300x200 JPEG tagged Orientation=6 with GPS, an EXIF thumbnail, XMP, IPTC, ICC and a comment."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "CartoCam"  # Make
    exif[0x0110] = "Model-" + SECRET.decode()  # Model
    exif[0x8825] = {  # GPS IFD
        0: b"\x02\x03\x00\x00",  # GPSVersionID
        1: "N",  # GPSLatitudeRef
        2: (45.0, 46.0, 7.4),  # GPSLatitude
        3: "E",  # GPSLongitudeRef
        4: (4.0, 52.0, 34.1),  # GPSLongitude
        6: 170.5,  # GPSAltitude
    }
    thumbnail = _encode(Image.new("RGB", (64, 48), (0, 200, 0)), "JPEG", quality=60)
    exif_bytes = _add_thumbnail(exif.tobytes(), thumbnail)

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(
        _two_tone((300, 200)),
        "JPEG",
        quality=95,
        exif=exif_bytes,
        xmp=XMP_PACKET,
        icc_profile=icc,
        comment=SECRET,
    )
    # Splice the IPTC segment right after SOI.
    return data[:2] + _iptc_app13() + data[2:]


def _jpeg_markers(data: bytes) -> list[int]:
    """The JPEG segment markers up to the start of scan (where the metadata segments all live)."""
    assert data[:2] == b"\xff\xd8"
    markers, pos = [], 2
    while pos < len(data):
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:  # SOS: entropy-coded data follows
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        pos += 2 + length
    return markers


def _png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        chunks.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return chunks


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares any size, with a token IDAT: never decodable, only openable."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _exiftool_tags(tmp_path: Path, data: bytes, name: str) -> dict[str, object]:
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run(
        [EXIFTOOL, "-j", "-a", "-G1", str(path)], check=True, capture_output=True, timeout=60
    ).stdout
    return json.loads(out)[0]


def _code(excinfo: pytest.ExceptionInfo[InvalidInput]) -> str:
    return excinfo.value.code


# --- JPEG: metadata, orientation -------------------------------------------------------------------


def test_jpeg_fixture_really_carries_all_the_metadata():
    """Guard the test itself: the dirty JPEG must contain what the next tests expect to be gone."""
    data = _jpeg_with_everything()
    markers = _jpeg_markers(data)
    assert {0xE1, 0xE2, 0xED, 0xFE} <= set(markers)  # EXIF/XMP, ICC, IPTC, comment
    assert b"http://ns.adobe.com/xap" in data
    with Image.open(io.BytesIO(data)) as im:
        exif = im.getexif()
        assert exif[0x0112] == 6
        assert exif.get_ifd(0x8825)[1] == "N"
        assert exif.get_ifd(ExifTags.IFD.IFD1)[0x0202] > 0  # the thumbnail's length


def test_jpeg_is_stripped_of_every_metadata_segment():
    data = _jpeg_with_everything()

    photo = photo_clean(data)

    assert isinstance(photo, CleanPhoto)
    assert (photo.content_type, photo.extension) == ("image/jpeg", "jpg")
    out = photo.content
    assert b"Exif" not in out
    assert b"http://ns.adobe.com/xap" not in out
    assert b"Photoshop" not in out and b"8BIM" not in out
    assert SECRET not in out
    assert b"CartoCam" not in out
    # Only one SOI: the embedded thumbnail (a whole second JPEG) is gone.
    assert out.count(b"\xff\xd8") == 1
    # No APP1 (EXIF/XMP), APP2 (ICC), APP13 (IPTC) or COM segment; at most a JFIF APP0.
    markers = _jpeg_markers(out)
    assert not {0xE1, 0xE2, 0xED, 0xFE} & set(markers)
    assert all(not 0xE1 <= m <= 0xEF for m in markers)


def test_jpeg_has_no_exif_gps_or_other_info_for_pillow():
    photo = photo_clean(_jpeg_with_everything())

    with Image.open(io.BytesIO(photo.content)) as im:
        assert im.format == "JPEG"
        assert im.mode == "RGB"
        exif = im.getexif()
        assert len(exif) == 0
        assert not exif.get_ifd(0x8825)
        for key in ("exif", "xmp", "icc_profile", "comment", "photoshop"):
            assert key not in im.info
        assert im.info.get("progressive") or im.info.get("progression")


def test_jpeg_orientation_is_applied_to_the_pixels():
    photo = photo_clean(_jpeg_with_everything())

    # 300x200 tagged "rotate 90° clockwise" is displayed as 200x300 ...
    assert (photo.width, photo.height) == (200, 300)
    with Image.open(io.BytesIO(photo.content)) as im:
        assert im.size == (200, 300)
        # ... and the left (red) half ends up on top, the right (blue) half at the bottom.
        top = im.getpixel((100, 40))
        bottom = im.getpixel((100, 260))
    assert top[0] > 150 and top[2] < 80
    assert bottom[2] > 150 and bottom[0] < 80


def test_exiftool_sees_no_gps_thumbnail_xmp_or_iptc(tmp_path):
    if not Path(EXIFTOOL).exists():
        pytest.skip("exiftool (libimage-exiftool-perl) is not installed")
    data = _jpeg_with_everything()

    before = _exiftool_tags(tmp_path, data, "dirty.jpg")
    after = _exiftool_tags(tmp_path, photo_clean(data).content, "clean.jpg")

    # The dirty file has them all, so their absence afterwards means something.
    before_names = {key.split(":", 1)[-1] for key in before}
    before_groups = {key.split(":", 1)[0] for key in before if ":" in key}
    assert {"GPSLatitude", "GPSLongitude", "ThumbnailImage", "City", "Orientation"} <= before_names
    assert any(group.startswith("XMP") for group in before_groups)
    assert "IPTC" in before_groups

    names = {key.split(":", 1)[-1] for key in after}
    groups = {key.split(":", 1)[0] for key in after if ":" in key}
    assert not [name for name in names if name.startswith("GPS")]
    assert "ThumbnailImage" not in names
    assert "Orientation" not in names
    assert not [group for group in groups if group.startswith(("XMP", "IPTC", "ICC", "Photoshop"))]
    assert not [group for group in groups if group in {"IFD0", "IFD1", "ExifIFD", "GPS", "MPF0"}]
    assert groups <= {"ExifTool", "System", "File", "JFIF", "Composite"}
    assert SECRET.decode() not in json.dumps(after)


def test_multi_picture_jpeg_keeps_only_the_first_picture():
    first = _two_tone((120, 80))
    second = Image.new("RGB", (120, 80), (0, 255, 0))
    data = _encode(first, "MPO", save_all=True, append_images=[second])
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "MPO"  # what many phones produce

    photo = photo_clean(data)

    assert (photo.content_type, photo.extension) == ("image/jpeg", "jpg")
    assert photo.content.count(b"\xff\xd8") == 1
    assert 0xE2 not in _jpeg_markers(photo.content)  # MPF index lives in APP2


@pytest.mark.parametrize("mode", ["L", "CMYK", "1"])
def test_jpeg_output_is_always_rgb(mode):
    data = _encode(Image.new(mode, (40, 30)), "JPEG")

    photo = photo_clean(data)

    with Image.open(io.BytesIO(photo.content)) as im:
        assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (40, 30))


# --- PNG, WebP --------------------------------------------------------------------------------------


def test_png_text_chunks_and_exif_are_stripped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET.decode())
    info.add_text("Location", "45.7679N 4.8520E", zip=True)  # zTXt
    info.add_itxt("Description", SECRET.decode(), lang="fr", tkey="Légende")
    info.add_text("XML:com.adobe.xmp", XMP_PACKET.decode())
    exif = Image.Exif()
    exif[0x010F] = "CartoCam"  # Make (Pillow skips an EXIF block with an empty IFD0)
    exif[0x8825] = {1: "N", 2: (45.0, 46.0, 7.4)}  # GPS IFD
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(_two_tone((64, 48)), "PNG", pnginfo=info, exif=exif, icc_profile=icc)
    assert {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"} <= set(_png_chunks(data))
    with Image.open(io.BytesIO(data)) as im:
        assert im.getexif().get_ifd(0x8825)[1] == "N"

    photo = photo_clean(data)

    assert (photo.content_type, photo.extension) == ("image/png", "png")
    assert (photo.width, photo.height) == (64, 48)
    out = photo.content
    assert set(_png_chunks(out)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
    assert SECRET not in out
    assert b"http://ns.adobe.com/xap" not in out
    with Image.open(io.BytesIO(out)) as im:
        assert im.format == "PNG"
        assert not im.text
        assert len(im.getexif()) == 0
        assert "icc_profile" not in im.info


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("RGB", "RGB"), ("RGBA", "RGBA"), ("LA", "RGBA"), ("L", "RGB"), ("1", "RGB"), ("P", "RGB")],
)
def test_png_modes_are_converted_to_rgb_or_rgba(mode, expected):
    data = _encode(Image.new(mode, (20, 10)), "PNG")

    with Image.open(io.BytesIO(photo_clean(data).content)) as im:
        assert im.mode == expected


def test_png_palette_transparency_is_kept_as_alpha():
    im = Image.new("P", (20, 10), 0)
    im.putpalette([255, 0, 0, 0, 0, 255])
    im.paste(1, (10, 0, 20, 10))
    data = _encode(im, "PNG", transparency=1)

    with Image.open(io.BytesIO(photo_clean(data).content)) as out:
        assert out.mode == "RGBA"
        assert out.getpixel((2, 2)) == (255, 0, 0, 255)
        assert out.getpixel((15, 5))[3] == 0


def test_sixteen_bit_grey_png_is_scaled_not_clipped():
    grey16 = Image.new("I;16", (16, 16), 0x8000)  # mid grey on 16 bits
    data = _encode(grey16, "PNG")

    with Image.open(io.BytesIO(photo_clean(data).content)) as im:
        red, green, blue = im.getpixel((8, 8))
    assert 120 <= red <= 136 and red == green == blue


def test_webp_is_accepted_and_stripped():
    exif = Image.Exif()
    exif[0x010F] = "CartoCam"  # Make (Pillow skips an EXIF block with an empty IFD0)
    exif[0x8825] = {1: "N", 2: (45.0, 46.0, 7.4)}  # GPS IFD
    data = _encode(_two_tone((80, 60)), "WEBP", quality=90, exif=exif, xmp=XMP_PACKET)
    assert b"EXIF" in data and b"XMP " in data
    with Image.open(io.BytesIO(data)) as im:
        assert im.getexif().get_ifd(0x8825)[1] == "N"

    photo = photo_clean(data)

    assert (photo.content_type, photo.extension) == ("image/webp", "webp")
    assert (photo.width, photo.height) == (80, 60)
    out = photo.content
    assert out[:4] == b"RIFF" and out[8:12] == b"WEBP"
    assert b"EXIF" not in out and b"XMP " not in out and b"ICCP" not in out
    assert SECRET not in out
    with Image.open(io.BytesIO(out)) as im:
        assert im.format == "WEBP"
        assert len(im.getexif()) == 0


def test_webp_with_alpha_keeps_alpha():
    data = _encode(Image.new("RGBA", (30, 20), (10, 20, 30, 0)), "WEBP", lossless=True)

    with Image.open(io.BytesIO(photo_clean(data).content)) as im:
        assert im.mode == "RGBA"


# --- rejections ---------------------------------------------------------------------------------------


def test_empty_input_is_rejected():
    with pytest.raises(InvalidInput) as excinfo:
        photo_clean(b"")
    assert _code(excinfo) == "photo_empty"


def test_too_large_input_is_rejected_before_parsing():
    data = _encode(_two_tone((300, 200)), "JPEG")

    with pytest.raises(InvalidInput) as excinfo:
        photo_clean(data, max_bytes=len(data) - 1)
    assert _code(excinfo) == "photo_too_large"
    assert photo_clean(data, max_bytes=len(data)).extension == "jpg"


@pytest.mark.parametrize(
    "data",
    [
        b"Hello, this is my report about the broken bench.\n" * 20,
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        b"\xff\xd8\xff\xe0 not really a jpeg",
        b"\x89PNG\r\n\x1a\n",
    ],
    ids=["text", "pdf", "fake-jpeg-magic", "png-signature-only"],
)
def test_non_images_are_rejected(data):
    with pytest.raises(InvalidInput) as excinfo:
        photo_clean(data)
    assert _code(excinfo) == "photo_not_an_image"
    assert "/" not in excinfo.value.message  # no internal paths or parser details


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_other_image_formats_are_unsupported(fmt):
    data = _encode(_two_tone((32, 32)), fmt)

    with pytest.raises(InvalidInput) as excinfo:
        photo_clean(data)
    assert _code(excinfo) == "photo_unsupported_format"


def test_format_is_detected_from_content_not_name():
    # A GIF is refused even though nothing else (no name, no content type) says so; and the
    # output type of a PNG comes from its bytes alone.
    assert photo_clean(_encode(Image.new("RGB", (8, 8)), "PNG")).content_type == "image/png"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_rejected(fmt):
    data = _encode(_noise((256, 256)), fmt)

    with pytest.raises(InvalidInput) as excinfo:
        photo_clean(data[: len(data) // 2])
    assert _code(excinfo) in {"photo_truncated", "photo_not_an_image"}
    if fmt in ("JPEG", "PNG"):
        assert _code(excinfo) == "photo_truncated"


def test_truncated_jpeg_is_rejected_also_when_downscaling():
    data = _encode(_noise((2400, 1800)), "JPEG", quality=90)

    with pytest.raises(InvalidInput) as excinfo:
        photo_clean(data[: len(data) // 2], max_bytes=len(data))
    assert _code(excinfo) == "photo_truncated"


@pytest.mark.parametrize(
    ("size", "max_pixels"),
    [
        ((50_000, 50_000), 40_000_000),  # beyond Pillow's own hard limit: DecompressionBombError
        ((8_000, 6_000), 40_000_000),  # under Pillow's limits, over ours
        ((10_000, 10_000), 10**12),  # Pillow's warning turned into an error despite a lax max_pixels
    ],
)
def test_decompression_bombs_are_rejected_before_decoding(size, max_pixels):
    data = _png_header_only(*size)
    assert len(data) < 200

    with pytest.raises(InvalidInput) as excinfo:
        photo_clean(data, max_pixels=max_pixels)
    assert _code(excinfo) == "photo_too_many_pixels"


def test_real_small_file_with_huge_dimensions_is_rejected():
    data = _encode(Image.new("1", (8_000, 6_000)), "PNG")  # a few kB, 48 Mpx once decoded
    assert len(data) < 100_000

    with pytest.raises(InvalidInput) as excinfo:
        photo_clean(data)
    assert _code(excinfo) == "photo_too_many_pixels"


def test_pixel_limit_is_configurable():
    data = _encode(Image.new("RGB", (100, 100)), "PNG")

    with pytest.raises(InvalidInput) as excinfo:
        photo_clean(data, max_pixels=9_999)
    assert _code(excinfo) == "photo_too_many_pixels"
    assert photo_clean(data, max_pixels=10_000).width == 100


# --- resizing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "size", "expected"),
    [
        ("JPEG", (4000, 1000), (1600, 400)),
        ("JPEG", (4000, 3000), (1600, 1200)),  # goes through libjpeg's reduced-scale decoding
        ("PNG", (1000, 3000), (533, 1600)),
        ("WEBP", (3200, 3200), (1600, 1600)),
    ],
)
def test_huge_sides_are_downscaled(fmt, size, expected):
    data = _encode(_two_tone(size), fmt)

    photo = photo_clean(data)

    assert (photo.width, photo.height) == expected
    with Image.open(io.BytesIO(photo.content)) as im:
        assert im.size == expected
        left, right = im.getpixel((5, expected[1] // 2)), im.getpixel((expected[0] - 5, expected[1] // 2))
    assert left[0] > 150 and right[2] > 150  # still the same picture


def test_max_side_is_configurable_and_small_images_are_not_upscaled():
    data = _encode(_two_tone((300, 200)), "JPEG")

    assert (photo_clean(data, max_side=150).width, photo_clean(data, max_side=150).height) == (150, 100)
    assert (photo_clean(data).width, photo_clean(data).height) == (300, 200)


def test_downscaled_rotated_jpeg_respects_max_side():
    data = _jpeg_with_everything()

    photo = photo_clean(data, max_side=120)

    assert (photo.width, photo.height) == (80, 120)


# --- names ---------------------------------------------------------------------------------------------


def test_random_photo_names_are_unique_hex():
    names = [random_photo_name("jpg") for _ in range(500)]

    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[0-9a-f]{32}\.jpg", name) for name in names)


def test_random_photo_name_uses_the_clean_extension():
    photo = photo_clean(_encode(Image.new("RGB", (8, 8)), "WEBP"))

    assert re.fullmatch(r"[0-9a-f]{32}\.webp", random_photo_name(photo.extension))
    assert random_photo_name(".PNG").endswith(".png")


@pytest.mark.parametrize("extension", ["", "../jpg", "jp g", "a/b", "toolongextension"])
def test_random_photo_name_refuses_odd_extensions(extension):
    with pytest.raises(ValueError):
        random_photo_name(extension)


def test_clean_photo_is_immutable():
    photo = photo_clean(_encode(Image.new("RGB", (8, 8)), "PNG"))

    with pytest.raises(AttributeError):
        photo.width = 1  # type: ignore[misc]


def test_the_cleaner_is_idempotent_on_its_own_output():
    once = photo_clean(_jpeg_with_everything())
    twice = photo_clean(once.content)

    assert (twice.width, twice.height, twice.content_type) == (once.width, once.height, once.content_type)


def test_damaged_exif_does_not_block_the_photo():
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff" + b"\x12\x01\x03\x00" * 8  # IFD count lies
    data = _encode(_two_tone((60, 40)), "JPEG", exif=exif)

    photo = photo_clean(data)

    assert (photo.width, photo.height) == (60, 40)
    assert b"Exif" not in photo.content


def test_warning_filters_are_left_as_they_were():
    before = list(warnings.filters)

    photo_clean(_encode(Image.new("RGB", (8, 8)), "PNG"))
    with pytest.raises(InvalidInput):
        photo_clean(_png_header_only(10_000, 10_000), max_pixels=10**12)

    assert warnings.filters == before


def test_a_small_png_that_decodes_to_36_megapixels_is_refused_before_decoding():
    """Attack pass: a 148 KB 6,000 x 6,000 PNG, under the JPEG limit, doubled the server's memory."""
    data = _encode(Image.new("L", (6_000, 6_000)), "PNG")
    assert len(data) < 200_000
    with pytest.raises(InvalidInput) as excinfo:
        photo_clean(data)
    assert _code(excinfo) == "photo_too_many_pixels"


def test_a_big_jpeg_is_still_accepted_since_it_is_decoded_at_reduced_scale():
    data = _encode(Image.new("RGB", (6_000, 4_500), "red"), "JPEG", quality=70)
    photo = photo_clean(data)
    assert max(photo.width, photo.height) == 1600
