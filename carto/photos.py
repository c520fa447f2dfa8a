"""Sanitise residents' photos before they are stored or shown.

Residents can be vulnerable people: a photo must never reveal where or with what it was taken.
So we never keep the uploaded bytes; we decode the pixels and encode a brand-new file from them,
which drops EXIF (GPS, camera serial, embedded thumbnail), XMP, IPTC, ICC, comments and PNG text
chunks by construction instead of by a list of things to delete.
"""

from __future__ import annotations

import contextlib
import io
import re
import secrets
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from carto.errors import InvalidInput


@dataclass(frozen=True)
class CleanPhoto:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int


# Pillow format name -> (output format, content type, extension). MPO is what Pillow calls a JPEG
# carrying a multi-picture index (many phones write one); we keep only its first picture.
_OUTPUTS: dict[str, tuple[str, str, str]] = {
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "MPO": ("JPEG", "image/jpeg", "jpg"),
    "PNG": ("PNG", "image/png", "png"),
    "WEBP": ("WEBP", "image/webp", "webp"),
}

# Errors Pillow's decoders raise on damaged or cut-off data.
_DECODE_ERRORS = (OSError, EOFError, SyntaxError, ValueError, IndexError, TypeError)

_EXTENSION_RE = re.compile(r"[a-z0-9]{1,8}")


# Pixels we accept. A JPEG is decoded at 1/2..1/8 scale (libjpeg's draft mode), so a 40 Mpx phone photo
# costs a few MB; PNG and WebP decode in full (4 bytes a pixel): a 148 KB 6,000 x 6,000 PNG took 144 MB.
# bench/photo_memory.py measures the peak per upload.
MAX_PIXELS_JPEG = 40_000_000
MAX_PIXELS_FULL_DECODE = 12_000_000


def photo_clean(
    data: bytes,
    *,
    max_bytes: int = 8_000_000,
    max_pixels: int = MAX_PIXELS_JPEG,
    max_side: int = 1600,
) -> CleanPhoto:
    """Validate an uploaded photo and return a metadata-free, downsized re-encoding of it."""
    if not data:
        raise InvalidInput("photo_empty", "The photo is empty.")
    if len(data) > max_bytes:
        raise InvalidInput("photo_too_large", f"The photo must be at most {max_bytes / 1_000_000:g} MB.")

    # Pillow only *warns* about huge images below twice its own limit; make that a hard error so a
    # decompression bomb can never be decoded, whatever our own max_pixels is set to.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _clean(data, max_pixels=max_pixels, max_side=max_side)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except MemoryError:
            raise InvalidInput("photo_processing_failed", "The photo could not be processed.") from None


def _clean(data: bytes, *, max_pixels: int, max_side: int) -> CleanPhoto:
    try:
        # Image.open only parses the header: nothing is decoded yet, so checks below are cheap.
        im = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise
    except UnidentifiedImageError:
        raise InvalidInput("photo_not_an_image", "The file is not an image.") from None
    except Exception:  # any other parser complaint means the same thing to the resident
        raise InvalidInput("photo_not_an_image", "The file is not a readable image.") from None

    with im:
        # Trust the content, never the filename or the client's content type.
        output = _OUTPUTS.get(im.format or "")
        if output is None:
            raise InvalidInput("photo_unsupported_format", "Only JPEG, PNG and WebP photos are accepted.")
        out_format, content_type, extension = output

        width, height = im.size
        if width <= 0 or height <= 0:
            raise InvalidInput("photo_not_an_image", "The file is not a readable image.")
        full_decode = out_format != "JPEG"
        if width * height > (min(max_pixels, MAX_PIXELS_FULL_DECODE) if full_decode else max_pixels):
            raise _too_many_pixels()

        target = _fit(width, height, max_side)
        try:
            if out_format == "JPEG" and target != (width, height):
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale (never below target): far less memory
                # for big phone photos. Every byte is still read, so truncation is still detected.
                im.draft(None, target)
            # Full decode: a cut-off upload fails here (LOAD_TRUNCATED_IMAGES stays False on purpose).
            im.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
            raise
        except _DECODE_ERRORS:
            raise InvalidInput(
                "photo_truncated", "The photo is incomplete or damaged; please upload it again."
            ) from None
        except Exception:
            raise InvalidInput("photo_processing_failed", "The photo could not be processed.") from None

        try:
            return _reencode(im, out_format, content_type, extension, max_side)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
            raise
        except Exception:
            raise InvalidInput("photo_processing_failed", "The photo could not be processed.") from None


def _reencode(
    im: Image.Image, out_format: str, content_type: str, extension: str, max_side: int
) -> CleanPhoto:
    # Rotate the pixels as the camera meant, since the Orientation tag is about to be dropped.
    # Damaged EXIF is no reason to refuse a resident's photo: keep it as stored then.
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(im, in_place=True)

    im = _to_output_mode(im, out_format)

    size = _fit(im.width, im.height, max_side)
    if size != im.size:
        im = im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)

    # A fresh image built from raw pixels carries an empty `info`, so no encoder can copy metadata
    # across (Pillow's savers fall back to im.info for ICC profiles and JPEG comments).
    fresh = Image.frombytes(im.mode, im.size, im.tobytes())

    buf = io.BytesIO()
    if out_format == "JPEG":
        fresh.save(buf, "JPEG", quality=82, optimize=True, progressive=True)
    elif out_format == "PNG":
        fresh.save(buf, "PNG", optimize=True)
    else:
        fresh.save(buf, "WEBP", quality=80)
    return CleanPhoto(
        content=buf.getvalue(),
        content_type=content_type,
        extension=extension,
        width=fresh.width,
        height=fresh.height,
    )


def _to_output_mode(im: Image.Image, out_format: str) -> Image.Image:
    """Convert to plain 8-bit RGB (JPEG) or RGB/RGBA (PNG, WebP), keeping transparency where possible."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greyscale PNGs: scale to 8 bits (a plain convert would clip everything to white).
        im = im.convert("I").point(lambda v: v / 256).convert("L")
    elif im.mode == "F":
        im = im.convert("L")

    if out_format == "JPEG":
        if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or im.has_transparency_data:
            # JPEG has no alpha: flatten onto white rather than let transparent areas turn black.
            rgba = im.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(background, rgba).convert("RGB")
        return im.convert("RGB") if im.mode != "RGB" else im

    wanted = "RGBA" if im.has_transparency_data else "RGB"
    return im.convert(wanted) if im.mode != wanted else im


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Size with the longest side at most max_side, keeping the aspect ratio (never upscales)."""
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _too_many_pixels() -> InvalidInput:
    return InvalidInput("photo_too_many_pixels", "The photo has too many pixels.")


def random_photo_name(extension: str) -> str:
    """An unguessable storage name: the resident's original filename may itself be identifying."""
    ext = extension.lower().lstrip(".")
    if not _EXTENSION_RE.fullmatch(ext):
        raise ValueError("invalid photo extension")
    return f"{secrets.token_hex(16)}.{ext}"
