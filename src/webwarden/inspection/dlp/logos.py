"""The organisation's logo in uploaded images, by perceptual hash: an image whose hash is
within a few bits of a configured logo's hash looks like that logo, even resized or saved
again as JPEG.

The hash is imagehash's pHash (a DCT of the 32x32 grey image, 64 bits). The decode is
bounded: the compressed size is capped, the pixel count is read from the header and checked
before any pixel is decoded, and only the common web image formats are opened."""

from __future__ import annotations

import io
import warnings
from typing import Final

from PIL import Image, UnidentifiedImageError

from webwarden.inspection.dlp.rules import DlpRules
from webwarden.model.finding import ORGANISATION_LOGO, Finding

MAX_IMAGE_BYTES: Final = 20 * 1024 * 1024
# 40 megapixels is a large photograph; a decompression bomb claims far more in a tiny file.
# This is checked here rather than by setting Pillow's global MAX_IMAGE_PIXELS, which would
# change it for every other user of Pillow in the process.
MAX_IMAGE_PIXELS: Final = 40_000_000
IMAGE_FORMATS: Final = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
_HASH_INPUT: Final = (256, 256)  # JPEG draft mode decodes straight to about this size


def logo_hash(image_bytes: bytes) -> int:
    """The 64-bit perceptual hash of an image (PNG, JPEG, GIF, WebP or BMP; the first frame
    of an animation). Raises ValueError for what is not such an image, is larger than
    MAX_IMAGE_BYTES, or claims more than MAX_IMAGE_PIXELS pixels."""
    if not isinstance(image_bytes, bytes | bytearray | memoryview):
        raise TypeError(f"logo_hash needs the image's bytes, not {type(image_bytes).__name__}")
    if len(image_bytes) > MAX_IMAGE_BYTES:
        raise ValueError(
            f"the image is {len(image_bytes)} bytes, more than the {MAX_IMAGE_BYTES} checked"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image_bytes), formats=IMAGE_FORMATS) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ValueError(
                        f"the image claims {width}x{height} pixels, more than the "
                        f"{MAX_IMAGE_PIXELS} decoded (a decompression bomb?)"
                    )
                image.draft("RGB", _HASH_INPUT)
                flat = _on_white(image)
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise ValueError(f"not an image that can be checked for logos: {exc}") from None
    except (OSError, SyntaxError, EOFError) as exc:
        # Pillow reports truncated and corrupt data as OSError (and some plugins as
        # SyntaxError or EOFError).
        raise ValueError(f"the image could not be decoded: {exc}") from None
    # Imported here: imagehash brings numpy and scipy (tens of MB in every gateway worker),
    # needed only where the organisation has configured logos.
    import imagehash

    return int(str(imagehash.phash(flat)), 16)


def _on_white(image: Image.Image) -> Image.Image:
    """The image with any transparency laid on white, as it shows on a page: a PNG logo with
    a transparent background then hashes like the same logo saved as JPEG."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def hash_distance(first: int, second: int) -> int:
    """How many of the 64 bits differ."""
    return (first ^ second).bit_count()


def match_logo(image_bytes: bytes, rules: DlpRules, where: str = "the image") -> Finding | None:
    """A Finding when the image looks like one of the configured logos (the nearest, within
    rules.logo_max_distance bits), else None. None without decoding when the logo detector
    is off or no logo is configured; ValueError (from logo_hash) for an image that cannot be
    checked, so the caller can fail closed."""
    if not rules.enabled(ORGANISATION_LOGO) or not rules.logos:
        return None
    found = logo_hash(image_bytes)
    distance, name = min((hash_distance(found, logo.value), logo.name) for logo in rules.logos)
    if distance > rules.logo_max_distance:
        return None
    return Finding(
        ORGANISATION_LOGO,
        f"organisation logo '{name}'",
        f"an image like the logo '{name}' ({distance} of 64 bits differ)",
        where,
        0,
    )
