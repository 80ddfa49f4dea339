"""Shared fixtures of the libthumb Python tests: the corpus and small decoding helpers."""
import io
import os
import pathlib

import pytest
from PIL import Image

REPO = pathlib.Path(__file__).resolve().parents[3]
CORPUS = pathlib.Path(os.environ.get("THUMB_CORPUS", REPO.parent / "shared" / "corpus"))
if not (CORPUS / "README.md").is_file():
    raise RuntimeError(f"no image corpus at {CORPUS}: set THUMB_CORPUS")

AVATAR = "photos/2569067123_aca715a2ee_o.jpg"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def png_bytes(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(im: Image.Image, **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", **kw)
    return out.getvalue()


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per sample of two same-size images (as RGB)."""
    a, b = a.convert("RGB"), b.convert("RGB")
    assert a.size == b.size
    da, db = a.tobytes(), b.tobytes()
    return sum(abs(x - y) for x, y in zip(da, db)) / len(da)


@pytest.fixture(scope="session")
def avatar() -> bytes:
    return corpus(AVATAR)


@pytest.fixture(scope="session")
def flowers() -> bytes:
    return corpus("photos/flowers.jpeg")  # 1920x1080


@pytest.fixture(scope="session")
def small_jpeg() -> bytes:
    return corpus("jpeg-variants/video-001.jpeg")  # 150x103
