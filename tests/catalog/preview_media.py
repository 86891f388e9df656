"""Real media for the preview tests, made with Pillow, ffmpeg and the wave module."""

import io
import math
import struct
import subprocess
import wave
from pathlib import Path

import pytest
from PIL import Image, ImageDraw


@pytest.fixture
def previews_storage(settings, tmp_path, monkeypatch):
    """The previews storage in a folder of this test's own.

    The file field resolved its storage once, when the model was built (as in production,
    where settings never change while the site runs), so it is pointed at the new one.
    """
    from django.core.files.storage import storages

    from catalog.models import Preview

    location = tmp_path / "stored-previews"
    settings.STORAGES = {
        **settings.STORAGES,
        "previews": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location), "base_url": None, "allow_overwrite": True},
        },
    }
    monkeypatch.setattr(Preview._meta.get_field("file"), "storage", storages["previews"])
    return location


def photo(path: Path, size=(2400, 1600), *, seed: int = 1, fmt: str = "JPEG") -> Path:
    """A camera-like picture: gradients, shapes and a little noise (compresses like one)."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for n in range(12):
        x, y = (seed * 97 + n * 211) % width, (seed * 53 + n * 157) % height
        colour = ((seed * 40 + n * 60) % 256, (n * 90) % 256, (seed * 25 + n * 30) % 256)
        draw.ellipse((x, y, x + width // 5, y + height // 4), fill=colour)
    noise = Image.effect_noise(size, 24).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return path


def jpeg_bytes(size=(200, 100), colour="red", fmt="JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def video(path: Path, *, seconds: int = 4, size: str = "320x240", audio: bool = False) -> Path:
    """An ffmpeg ``testsrc`` video (with a sine tone if ``audio``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i"]
    command += [f"testsrc=duration={seconds}:size={size}:rate=25"]
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    command += ["-pix_fmt", "yuv420p", "-g", "50", str(path)]
    subprocess.run(command, check=True)
    return path


def wav(path: Path, *, seconds: float = 2.0, rate: int = 8000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack(
            "<h", int(12000 * math.sin(2 * math.pi * 440 * n / rate) * (n / rate / seconds))
        )
        for n in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


def pdf(path: Path, pages: int = 2) -> Path:
    """A PDF of ``pages`` pages, written by Pillow."""
    path.parent.mkdir(parents=True, exist_ok=True)
    images = []
    for n in range(pages):
        page = Image.new("RGB", (850, 1100), "white")
        draw = ImageDraw.Draw(page)
        draw.rectangle((80, 80, 770, 300), fill=(30 * n, 90, 160))
        draw.text((100, 400), f"Page {n + 1} of the press kit", fill="black")
        images.append(page)
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=100)
    return path
