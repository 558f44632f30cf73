"""Logos in uploaded images, with images drawn in the test: a logo still matches after
resizing and JPEG recompression; other images do not; bad images are refused clearly."""

from __future__ import annotations

import io
import random
from dataclasses import replace

import pytest
from PIL import Image, ImageDraw

from tests.unit.inspection.dlp.helpers import RULES
from webwarden.inspection.dlp import LogoHash, logo_hash, match_logo
from webwarden.inspection.dlp.logos import MAX_IMAGE_BYTES, hash_distance
from webwarden.model.finding import ORGANISATION_LOGO


def crest(size: int = 256, background: tuple[int, ...] = (255, 255, 255)) -> Image.Image:
    """A simple badge: a star in a ring over a bar, drawn as a force crest might be."""
    mode = "RGBA" if len(background) == 4 else "RGB"
    image = Image.new(mode, (size, size), background)
    draw = ImageDraw.Draw(image)
    s = size / 256
    draw.ellipse((28 * s, 28 * s, 228 * s, 228 * s), outline=(0, 32, 96), width=int(18 * s))
    star = [(128, 52), (150, 110), (210, 112), (162, 148), (180, 206), (128, 172), (76, 206),
            (94, 148), (46, 112), (106, 110)]
    draw.polygon([(x * s, y * s) for x, y in star], fill=(0, 32, 96))
    draw.rectangle((20 * s, 214 * s, 236 * s, 240 * s), fill=(200, 16, 46))
    return image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def other_picture() -> Image.Image:
    image = Image.new("RGB", (300, 200), (90, 160, 60))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 300, 90), fill=(120, 180, 255))  # sky over a field
    draw.ellipse((220, 15, 270, 65), fill=(255, 220, 0))
    rng = random.Random(7)
    for _ in range(40):
        x, y = rng.randrange(300), rng.randrange(100, 200)
        draw.line((x, y, x + 3, y - 12), fill=(30, 100, 30), width=2)
    return image


LOGO = crest()
RULES_WITH_LOGO = replace(RULES, logos=(LogoHash("met-crest", logo_hash(encode(LOGO, "PNG"))),))


@pytest.mark.parametrize(
    "variant",
    [
        encode(LOGO, "PNG"),
        encode(LOGO.resize((180, 180)), "JPEG", quality=60),
        encode(crest(512).resize((97, 97)), "JPEG", quality=40),
        encode(LOGO, "WEBP", quality=50),
        encode(LOGO.convert("P"), "GIF"),
        encode(crest(256, (255, 255, 255, 0)), "PNG"),  # transparent background
    ],
    ids=["png", "jpeg-resized", "jpeg-small", "webp", "gif", "transparent-png"],
)
def test_the_logo_matches_after_resizing_and_recompression(variant: bytes) -> None:
    finding = match_logo(variant, RULES_WITH_LOGO, where="file 'crest.jpg'")
    assert finding is not None
    assert finding.kind == ORGANISATION_LOGO
    assert finding.label == "organisation logo 'met-crest'"
    assert finding.where == "file 'crest.jpg'"


@pytest.mark.parametrize(
    "image",
    [other_picture(), Image.new("RGB", (64, 64), (255, 255, 255)), crest().rotate(90)],
    ids=["landscape", "blank", "rotated-logo"],
)
def test_other_images_do_not_match(image: Image.Image) -> None:
    assert match_logo(encode(image, "PNG"), RULES_WITH_LOGO) is None


def test_hash_is_stable_and_64_bits() -> None:
    first = logo_hash(encode(LOGO, "PNG"))
    assert first == logo_hash(encode(LOGO, "PNG"))
    assert 0 <= first < 1 << 64
    assert hash_distance(first, logo_hash(encode(other_picture(), "PNG"))) > 10


def test_no_logos_or_detector_off_means_no_decode() -> None:
    assert match_logo(b"not an image at all", RULES) is None
    off = replace(RULES_WITH_LOGO, detectors=RULES.detectors - {ORGANISATION_LOGO})
    assert match_logo(b"not an image at all", off) is None


def bomb() -> bytes:
    # A tiny PNG that claims 20000x20000 pixels: 400 megapixels of one colour.
    return encode(Image.new("1", (20000, 20000)), "PNG", optimize=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not an image at all", "not an image that can be checked"),
        (encode(LOGO, "PNG")[:200], "could not be decoded"),
        (encode(LOGO, "TIFF"), "not an image that can be checked"),
        (b"\0" * (MAX_IMAGE_BYTES + 1), "more than the"),
    ],
    ids=["garbage", "truncated", "tiff", "too-large"],
)
def test_bad_images_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        match_logo(data, RULES_WITH_LOGO)


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    data = bomb()
    assert len(data) < 100_000
    with pytest.raises(ValueError, match="decompression bomb"):
        logo_hash(data)


def test_not_bytes_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        logo_hash("crest.png")  # type: ignore[arg-type]
