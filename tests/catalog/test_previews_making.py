"""Making previews from real media: Pillow images, ffmpeg testsrc videos, WAVs, PDFs, text.

No database: nothing here is marked ``django_db``, so any query would fail the test.
"""

import io
import json
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from catalog.oshash import oshash
from catalog.previews.bundle import PreviewWriter, iter_bundles, previews_dir_for
from catalog.previews.generate import make_previews
from tests.catalog.preview_media import pdf, photo, video, wav


def decoded(made) -> Image.Image:
    image = Image.open(io.BytesIO(made.data))
    image.load()
    return image


def by_kind(made) -> dict:
    return {str(preview.kind): preview for preview in made}


def test_a_photo_gets_a_thumbnail_and_a_review_image(tmp_path):
    made = by_kind(make_previews(str(photo(tmp_path / "p.jpg", (3000, 2000))), "image/jpeg"))
    assert set(made) == {"thumb", "review"}
    review, thumb = decoded(made["review"]), decoded(made["thumb"])
    assert (review.format, review.size) == ("WEBP", (1280, 853))
    assert thumb.size == (320, 213)
    assert (made["review"].width, made["review"].height) == (1280, 853)
    assert made["review"].content_type == "image/webp"
    assert len(made["review"].data) + len(made["thumb"].data) < 60_000


def test_small_images_are_not_enlarged_and_transparency_lies_on_white(tmp_path):
    path = tmp_path / "icon.png"
    image = Image.new("RGBA", (200, 100), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 100, 100))
    image.save(path)
    made = by_kind(make_previews(str(path), "image/png"))
    review = decoded(made["review"]).convert("RGB")
    assert review.size == (200, 100)
    assert review.getpixel((150, 50))[0] > 240  # transparent -> white, not black
    assert review.getpixel((50, 50))[2] > 200


def test_the_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    Image.new("RGB", (400, 200), "green").save(path, exif=exif)
    made = by_kind(make_previews(str(path), "image/jpeg"))
    assert decoded(made["review"]).size == (200, 400)


def test_a_video_gets_a_poster_a_thumbnail_and_a_strip_of_ten_frames(tmp_path):
    path = video(tmp_path / "clip.mp4", seconds=20, size="640x360", audio=True)
    made = by_kind(make_previews(str(path), "video/mp4"))
    assert set(made) == {"poster", "thumb", "strip"}
    assert decoded(made["poster"]).size == (640, 360)
    assert decoded(made["thumb"]).size == (320, 180)
    strip = made["strip"]
    assert decoded(strip).size == (10 * 240, 135)
    times = strip.frame_times
    assert len(times) == 10
    assert times == sorted(times) and times[0] >= 0 and times[-1] <= 20
    # Key frames every 2 s (-g 50 at 25 fps): each frame is the key frame before its time.
    assert all(time % 2 == 0 for time in times)
    assert len(set(times)) >= 8


def test_a_video_without_pictures_gets_a_waveform(tmp_path):
    path = tmp_path / "voice.m4a"
    shutil.copy(wav(tmp_path / "voice.wav"), path)  # WAV data in a .m4a name: ffprobe decides
    made = by_kind(make_previews(str(path), "video/mp4"))
    assert set(made) == {"waveform", "thumb"}


def test_audio_gets_a_waveform_and_a_small_one(tmp_path):
    made = by_kind(make_previews(str(wav(tmp_path / "tone.wav")), "audio/x-wav"))
    waveform = decoded(made["waveform"])
    assert (waveform.format, waveform.size) == ("PNG", (1280, 160))
    assert decoded(made["thumb"]).size == (320, 40)
    # The tone grows louder: the right of the picture is drawn taller than the left.
    column = waveform.convert("L")
    inked = [sum(column.getpixel((x, y)) < 250 for y in range(160)) for x in (20, 1260)]
    assert inked[1] > inked[0]


def test_a_pdf_gets_its_first_page(tmp_path):
    made = by_kind(make_previews(str(pdf(tmp_path / "press.pdf", pages=3)), "application/pdf"))
    page = decoded(made["page"])
    assert max(page.size) == 1280 and page.width < page.height
    assert decoded(made["thumb"]).height == 320


def test_text_keeps_its_first_lines_in_utf8(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("".join(f"line {n}: नमस्ते café\n" for n in range(100)), encoding="utf-8")
    made = by_kind(make_previews(str(path), "text/plain"))
    text = made["text"].data.decode("utf-8")
    assert text.splitlines()[0] == "line 0: नमस्ते café"
    assert len(text.splitlines()) == 40
    assert made["text"].content_type == "text/plain; charset=utf-8"
    assert decoded(made["thumb"]).size == (320, 240)


def test_latin1_text_is_read_too(tmp_path):
    path = tmp_path / "old.txt"
    path.write_bytes("Café crème\n".encode("cp1252"))
    made = by_kind(make_previews(str(path), "text/plain"))
    assert made["text"].data.decode("utf-8") == "Café crème"


@pytest.mark.parametrize(
    ("name", "content", "mime_type", "reason"),
    [
        ("broken.jpg", b"\xff\xd8\xff\xe0 not really", "image/jpeg", "Pillow cannot read"),
        ("broken.mp4", b"\x00" * 4096, "video/mp4", "ffprobe cannot read it"),
        ("broken.wav", b"RIFF\x00\x00\x00\x00WAVEjunk", "audio/x-wav", "ffprobe cannot read it"),
        ("broken.pdf", b"%PDF-1.4 nothing", "application/pdf", "pdftoppm cannot render it"),
        (
            "archive.zip",
            b"PK\x03\x04" + bytes(20),
            "application/zip",
            "no preview is made for application",
        ),
        ("mystery", b"12345678", None, "no preview is made for files of unknown type"),
        ("empty.jpg", b"", "image/jpeg", "the file is empty"),
        ("tiny.txt", b"abc", "text/plain", "under 8 bytes: too small to preview"),
        (
            "drawing.svg",
            b"<svg version='1.1'/>",
            "image/svg+xml",
            "SVG drawings are not rasterised",
        ),
        ("binary.txt", b"abc\x00defghij", "text/plain", "binary data"),
    ],
)
def test_unreadable_and_exotic_files_get_a_placeholder_with_a_reason(
    tmp_path, name, content, mime_type, reason
):
    path = tmp_path / name
    path.write_bytes(content)
    made = make_previews(str(path), mime_type, len(content))
    assert [(preview.kind, preview.data) for preview in made] == [("placeholder", b"")]
    assert reason in made[0].reason
    assert str(tmp_path) not in made[0].reason  # no mount point travels with the oshash


@pytest.fixture
def drive(tmp_path):
    """A small drive: a photo with a copy in another folder, a video, a broken file."""
    root = tmp_path / "drive"
    photo(root / "2019" / "IMG_0001.jpg", (1600, 1200))
    (root / "backup").mkdir()
    shutil.copy(root / "2019" / "IMG_0001.jpg", root / "backup" / "IMG_0001.jpg")
    video(root / "clip.mp4", seconds=4)
    (root / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    (root / "notes.txt").write_text("first line\nsecond line\n")
    return root


def scan(root: Path, out: Path, *args, **options) -> str:
    stdout = io.StringIO()
    call_command("scan_folder", str(root), str(out), *args, stdout=stdout, **options)
    return stdout.getvalue()


def test_scan_folder_writes_previews_beside_the_manifest_once_per_oshash(drive, tmp_path):
    out = tmp_path / "Expansion.json"
    stdout = scan(drive, out, verbose=True)
    folder = Path(previews_dir_for(out))
    assert folder == tmp_path / "Expansion.previews"
    bundles = dict(iter_bundles(str(folder)))
    manifest = json.loads(out.read_text())
    assert set(bundles) == {entry["oshash"] for entry in manifest}
    assert len(bundles) == 4  # the copy shares its original's
    photo_hash = oshash(drive / "backup" / "IMG_0001.jpg")
    index = json.loads((Path(bundles[photo_hash]) / "preview.json").read_text())
    assert set(index["kinds"]) == {"thumb", "review"}
    assert index["kinds"]["review"]["width"] == 1280
    broken = json.loads((Path(bundles[oshash(drive / "broken.jpg")]) / "preview.json").read_text())
    assert "Pillow cannot read" in broken["kinds"]["placeholder"]["reason"]
    assert "1 already there" in stdout
    assert "broken.jpg: Pillow cannot read" in stdout
    # Again: everything is there already, nothing is made.
    assert "5 already there" in scan(drive, out)  # every file, the copy too


def test_scan_folder_no_previews_writes_only_the_manifest(drive, tmp_path):
    scan(drive, tmp_path / "Expansion.json", no_previews=True)
    assert sorted(os.listdir(tmp_path)) == ["Expansion.json", "drive"]


def test_scan_folder_refuses_a_previews_folder_inside_the_drive(drive, tmp_path):
    with pytest.raises(CommandError, match="is inside DIR"):
        scan(drive, tmp_path / "Expansion.json", previews_dir=str(drive / "previews"))


def test_make_previews_for_a_drive_scanned_without_them(drive, tmp_path):
    out = tmp_path / "Expansion.json"
    scan(drive, out, no_previews=True)
    (drive / "notes.txt").write_text("changed after the scan\n")
    stdout = io.StringIO()
    call_command("make_previews", str(drive), str(out), stdout=stdout, stderr=io.StringIO())
    bundles = dict(iter_bundles(previews_dir_for(out)))
    assert len(bundles) == 3  # photo, video, broken; notes.txt changed since its scan
    assert "Not previewed (1): gone or changed" in stdout.getvalue()
    assert "notes.txt: changed since the scan" in stdout.getvalue()


def test_the_writer_uses_threads_and_every_file_is_made_once(tmp_path):
    files = [photo(tmp_path / "in" / f"{n}.jpg", (800, 600), seed=n) for n in range(12)]
    writer = PreviewWriter(str(tmp_path / "out"), workers=2)
    for path in files + files:
        size = path.stat().st_size
        writer.submit(str(path), oshash=oshash(path), mime_type="image/jpeg", size=size)
    stats = writer.close()
    assert stats.files["image"] == 12
    assert stats.already_there == 12
    assert len(list(iter_bundles(str(tmp_path / "out")))) == 12


def test_make_previews_refuses_a_previews_folder_inside_the_drive(drive, tmp_path):
    out = tmp_path / "Expansion.json"
    scan(drive, out, no_previews=True)
    with pytest.raises(CommandError, match="is inside DIR"):
        call_command("make_previews", str(drive), str(out), previews_dir=str(drive / "p"))
