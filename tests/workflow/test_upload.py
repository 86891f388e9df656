"""``manage.py upload_padma``: real media encoded by pandora_client's ffmpeg commands and
sent to the loopback pan.do/ra server in chunks, which reassembles them."""

import json
import logging
import re
from html import unescape
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from catalog.models import FileEntry
from catalog.oshash import oshash
from tests.conftest import entry
from workflow.export.upload.service import LOCK_CLASS, drive_lock
from workflow.models import ExportRequest, MediaUpload, UploadState

from .conftest import PADMA_PASSWORD
from .export_support import closed_port_url, make_media

pytestmark = pytest.mark.django_db

CHUNK = 8192


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory):
    """The drive's content, made once: two clips, a tone, a photo, a subtitle file."""
    root = tmp_path_factory.mktemp("drive")
    make_media(root, "2019/rehearsal/a.mp4", tone=440)
    make_media(root, "2019/rehearsal/b.mp4", tone=660)
    make_media(root, "2019/sound/tone.wav", tone=880, video=False)
    make_media(root, "2019/sound/still.jpg", seconds=0.04, video=True)
    (root / "2019/rehearsal/a.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n")
    return root


@pytest.fixture
def mount(media_dir, tmp_path):
    """A fresh copy of the drive per test (a test may change a file on it)."""
    import shutil

    copy = tmp_path / "mnt" / "Expansion"
    shutil.copytree(media_dir, copy)
    return copy


MIME = {".mp4": "video/mp4", ".wav": "audio/x-wav", ".jpg": "image/jpeg"}


@pytest.fixture
def exported(padma, mount, import_files, approve, settings, tmp_path):
    """Every file on the drive catalogued, approved and exported to pad.ma (items, and
    the drive as a volume): what pad.ma asks for next is the media."""
    settings.PADMA_UPLOAD_CACHE = tmp_path / "upload-cache"
    settings.PADMA_UPLOAD_CHUNK_BYTES = CHUNK
    settings.PADMA_UPLOAD_RETRIES = 2
    settings.PADMA_UPLOAD_RETRY_SECONDS = 0
    entries = []
    for path in sorted(p for p in mount.rglob("*") if p.is_file()):
        relative = path.relative_to(mount)
        entries.append(
            entry(
                relative.name,
                str(relative.parent),
                file_type=MIME.get(path.suffix, "application/x-subrip"),
                oshash=oshash(path),
                size_exif=path.stat().st_size,
            )
        )
    with override_settings(PADMA_USERNAME=""):
        files = approve(import_files(entries))
    call_command("export_padma", stdout=StringIO())
    assert all(f.padma_id for f in FileEntry.objects.all())
    return {f.filename: f for f in files}


def upload(*args, mount) -> str:
    out = StringIO()
    call_command("upload_padma", "--drive", "Expansion", "--mount", str(mount), *args, stdout=out)
    return out.getvalue()


def upload_failing(*args, mount) -> tuple[str, CommandError]:
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "upload_padma", "--drive", "Expansion", "--mount", str(mount), *args, stdout=out
        )
    return out.getvalue(), raised.value


def encoded(settings, file, profile="240p.webm") -> bytes:
    h = file.oshash
    path = Path(settings.PADMA_UPLOAD_CACHE) / "media" / h[:2] / h[2:4] / h[4:6] / h[6:]
    return (path / profile).read_bytes()


def states() -> dict[str, str]:
    return dict(MediaUpload.objects.values_list("file__filename", "state"))


def chunks_of(padma, file) -> list[dict]:
    return [c for c in padma.chunks if c["id"] == file.oshash]


def test_uploads_what_pad_ma_asks_for(padma, exported, mount, settings, caplog):
    caplog.set_level(logging.DEBUG)
    output = upload(mount=mount)

    assert "pad.ma wants 5 files from Expansion: 4 to handle now" in output
    assert "ETA" in output and "/s" in output
    assert states() == {
        "a.mp4": "done",
        "b.mp4": "done",
        "tone.wav": "done",
        "a.srt": "done",
        "still.jpg": "kept_out",
    }
    # Video to the smallest profile at least its height (pandora_client's rule), audio
    # alone to the largest.
    for name, profile in (
        ("a.mp4", "240p.webm"),
        ("b.mp4", "240p.webm"),
        ("tone.wav", "480p.webm"),
    ):
        file = exported[name]
        sent = padma.stream(file.oshash, profile)
        # What pad.ma reassembled is, byte for byte, what pandora_client encoded.
        assert sent == encoded(settings, file, profile) and len(sent) > CHUNK
        assert padma.available(file.oshash)
        # ffprobe's information went first, where pad.ma asked for it.
        info = padma.state.files[file.oshash]["info"]
        assert info["oshash"] == file.oshash and info["size"] == file.size
        row = MediaUpload.objects.get(file=file)
        assert (row.profile, row.bytes_sent, row.upload_size) == (profile, len(sent), len(sent))
        assert row.info_sent_at and row.finished_at
    assert padma.state.files[exported["a.mp4"].oshash]["info"]["video"][0]["width"] == 160
    # The subtitle went as it is (uploadData), not encoded.
    assert (
        padma.state.originals[exported["a.srt"].oshash]
        == (mount / "2019/rehearsal/a.srt").read_bytes()
    )
    still = MediaUpload.objects.get(file=exported["still.jpg"])
    assert still.message.startswith("Not uploaded: an image has no video or audio")
    assert not padma.available(exported["still.jpg"].oshash)
    assert (
        "Upload finished: 4 uploaded, 0 failed, 0 refused (changed on the drive), 1 kept out"
        in output
    )
    assert PADMA_PASSWORD not in output + caplog.text
    assert "padma upload drive=Expansion 4 uploaded" in caplog.text


def test_running_twice_sends_nothing_twice(padma, exported, mount):
    upload(mount=mount)
    chunks, inits = len(padma.chunks), padma.count("upload/")

    output = upload(mount=mount)

    assert "pad.ma wants 1 files from Expansion: 0 to handle now" in output  # the photo
    assert (len(padma.chunks), padma.count("upload/"), padma.count("upload")) == (chunks, inits, 1)
    assert "0 uploaded, 0 failed" in output


def test_a_dropped_chunk_is_sent_again_and_nothing_before_it(padma, exported, mount, settings):
    target = exported["b.mp4"]
    seen = []

    def third_chunk(data):
        seen.append(data["id"])
        return data["id"] == target.oshash and seen.count(target.oshash) == 3

    padma.fail("chunk", mode="drop", when=third_chunk)

    upload(mount=mount)

    chunks = chunks_of(padma, target)
    assert chunks[2] == {"id": target.oshash, "dropped": True}
    offsets = [c["offset"] for c in chunks if not c.get("dropped")]
    assert offsets == sorted(set(offsets))  # every chunk once, in order
    assert offsets[:3] == [0, CHUNK, 2 * CHUNK]
    assert padma.stream(target.oshash, "240p.webm") == encoded(settings, target)
    assert MediaUpload.objects.get(file=target).state == UploadState.DONE


def test_a_lost_connection_stops_with_one_line_and_the_next_run_resumes(
    padma, exported, mount, settings
):
    first, target = exported["a.mp4"], exported["b.mp4"]
    taken = []

    def after_two_chunks(data):
        if data["id"] == target.oshash:
            taken.append(1)
        return data["id"] == target.oshash and len(taken) > 2

    padma.fail("chunk", mode="drop", times=100, when=after_two_chunks)

    output, error = upload_failing(mount=mount)

    message = str(error)
    assert "\n" not in message and PADMA_PASSWORD not in message
    assert message.startswith(f"Upload stopped, pad.ma at {padma.url} connection lost: ")
    assert "run the same command again to resume" in message
    assert MediaUpload.objects.get(file=first).state == UploadState.DONE
    row = MediaUpload.objects.get(file=target)
    assert (row.state, row.bytes_sent) == (UploadState.UPLOADING, 2 * CHUNK)
    assert "[1/4]" in output  # the first file's progress line came before the stop

    padma.failures.clear()
    before = len(padma.chunks)
    inits = padma.count("upload/")
    upload(mount=mount)

    again = [c for c in padma.chunks[before:] if c["id"] in (first.oshash, target.oshash)]
    assert again and all(c["id"] == target.oshash for c in again)  # the first: not again
    assert min(c["offset"] for c in again) == 2 * CHUNK  # finished chunks: not again
    # Resumed through pandora_client's resume file: no new upload/ start for it, which
    # would have emptied the stream (only the files not started yet were started).
    started = [r["data"]["id"] for r in padma.actions("upload/")[inits:] if "id" in r["data"]]
    assert target.oshash not in started
    assert padma.stream(target.oshash, "240p.webm") == encoded(settings, target)
    assert states()["b.mp4"] == "done"


def test_a_file_changed_on_the_drive_is_refused(padma, exported, mount):
    changed = mount / "2019/rehearsal/a.mp4"
    data = bytearray(changed.read_bytes())
    data[100] ^= 0xFF  # same size, other bytes in the hashed first 64 KiB
    changed.write_bytes(bytes(data))
    file = exported["a.mp4"]

    output, error = upload_failing(mount=mount)

    row = MediaUpload.objects.get(file=file)
    assert f"  2019/rehearsal/a.mp4: {row.message}" in output
    assert row.state == UploadState.MISMATCH
    assert (row.found_size, row.found_oshash) == (file.size, oshash(changed))
    assert row.found_oshash != file.oshash
    assert f"oshash {file.oshash}" in row.message and f"oshash {row.found_oshash}" in row.message
    assert chunks_of(padma, file) == []
    assert not any(r["data"].get("id") == file.oshash for r in padma.actions("upload/"))
    assert file.oshash not in {h for h in padma.state.files if padma.state.files[h].get("probed")}
    assert str(error) == "1 file not uploaded (0 failed, 1 refused); see above or the export report"
    assert states()["b.mp4"] == "done"  # the others went


def test_wrong_password_is_one_line(padma, exported, mount, settings, caplog):
    settings.PADMA_PASSWORD = "not the password"
    caplog.set_level(logging.DEBUG)

    output, error = upload_failing(mount=mount)

    assert str(error) == (
        f"pad.ma at {padma.url} refused the sign-in for user 'phs-exporter' "
        "(password: Incorrect password); check PADMA_USERNAME and PADMA_PASSWORD"
    )
    assert "not the password" not in output + str(error) + caplog.text
    assert not MediaUpload.objects.exists() and padma.chunks == []


def test_unmounted_drive_is_one_line(padma, exported, tmp_path):
    _, error = upload_failing(mount=tmp_path / "nowhere")
    assert (
        str(error)
        == f"{tmp_path / 'nowhere'} is not a directory: is the drive 'Expansion' mounted there?"
    )


def test_dry_run_sends_and_records_nothing(padma, exported, mount):
    output = upload("--dry-run", mount=mount)

    plan = json.loads(output[output.index("[\n") : output.rindex("]") + 1])
    by_file = {p["file"]: p for p in plan}
    assert by_file["2019/rehearsal/a.mp4"]["action"] == "encode 240p.webm and upload"
    assert by_file["2019/rehearsal/a.srt"]["action"] == "upload as is"
    assert by_file["2019/sound/still.jpg"]["action"] == "keep out"
    assert not MediaUpload.objects.exists()
    assert padma.chunks == [] and padma.count("upload/") == 0


def test_limit_and_only_oshash(padma, exported, mount):
    upload("--only-oshash", exported["tone.wav"].oshash, mount=mount)
    assert states() == {"tone.wav": "done"}
    upload("--limit", "1", mount=mount)
    assert states()["a.mp4"] == "done" and "b.mp4" not in states()


def test_plan_per_drive(padma, exported, mount):
    out = StringIO()
    call_command("upload_padma", "--plan", stdout=out)
    media_bytes = sum(exported[n].size for n in ("a.mp4", "b.mp4", "tone.wav", "a.srt"))
    assert out.getvalue().startswith(
        f"Expansion: 4 media files wait ({media_bytes / 1000:.1f} KB, about "
    )
    assert "1 kept out" in out.getvalue()  # the photo; the subtitle goes as it is

    upload(mount=mount)
    out = StringIO()
    call_command("upload_padma", "--plan", stdout=out)
    assert out.getvalue().startswith("Expansion: 0 media files wait (0 B, about 0 s); 4 uploaded")


def test_the_export_report_and_the_dashboard_show_upload_state(
    client, padma, exported, mount, operator
):
    client.force_login(operator)
    page = client.get("/admin/").content.decode()
    assert "Media waiting for their drives" in page
    assert re.search(r"<td>Expansion</td>\s*<td>4</td>", page)

    target = exported["b.mp4"]
    padma.fail("chunk", mode="drop", times=100, when=lambda d: d["id"] == target.oshash)
    upload_failing(mount=mount)

    page = unescape(client.get("/admin/padma-export/requests/").content.decode())
    assert "Uploaded " in page  # a.mp4, with its time and profile
    assert "Uploading 240p.webm: 0 B of " in page  # b.mp4, stopped before its first chunk
    assert "Waiting for its drive (upload_padma --drive …)" in page  # tone.wav, after b
    assert "Not uploaded: an image has no video or audio" in page
    batch = ExportRequest.objects.get(file=target).batch
    page = unescape(client.get(f"/admin/padma-export/batches/inspect/{batch.pk}/").content.decode())
    assert "Uploading 240p.webm" in page
    page = client.get("/admin/").content.decode()
    assert re.search(r"<td>Expansion</td>\s*<td>2</td>", page)  # b.mp4 and tone.wav


def test_files_pad_ma_already_has_are_recorded_done_and_not_sent(padma, exported, mount):
    tone = exported["tone.wav"]
    padma.state.files[tone.oshash]["available"] = True  # uploaded by someone else

    output = upload(mount=mount)

    row = MediaUpload.objects.get(file=tone)
    assert (row.state, row.message) == ("done", "pad.ma has the media (it no longer asks for them)")
    assert chunks_of(padma, tone) == []
    assert "1 already on pad.ma" in output and "3 uploaded" in output


def test_unreachable_pad_ma_is_one_line(padma, exported, mount, settings):
    settings.PADMA_URL = closed_port_url()

    _, error = upload_failing(mount=mount)

    assert str(error) == f"pad.ma at {settings.PADMA_URL} is unreachable: connection refused"
    assert not MediaUpload.objects.exists()


def test_one_upload_per_drive_at_a_time(padma, exported, mount, settings):
    drive = exported["a.mp4"].drive
    busy = "Another upload from drive 'Expansion' is running; try again when it has finished"
    with drive_lock(drive, Path(settings.PADMA_UPLOAD_CACHE)) as taken:
        assert taken
        _, error = upload_failing(mount=mount)
    assert str(error) == busy
    if connection.vendor == "postgresql":  # a run on another machine: the advisory lock
        import psycopg

        db = connection.settings_dict
        with psycopg.connect(
            dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432,
            password=db["PASSWORD"] or None,
        ) as other:  # fmt: skip
            other.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_CLASS, drive.pk])
            _, error = upload_failing(mount=mount)
        assert str(error) == busy
    assert padma.chunks == [] and not MediaUpload.objects.exists()
    upload(mount=mount)  # free again
    assert states()["a.mp4"] == "done"


def test_a_file_ffmpeg_cannot_read_fails_with_the_reason(
    padma, mount, import_files, approve, settings, tmp_path
):
    settings.PADMA_UPLOAD_CACHE = tmp_path / "upload-cache"
    broken = mount / "broken.mp4"
    broken.write_bytes(b"not a video at all, " * 1000)
    entries = [
        entry("broken.mp4", "", file_type="video/mp4", oshash=oshash(broken), size_exif=20000)
    ]
    with override_settings(PADMA_USERNAME=""):
        (file,) = approve(import_files(entries))
    call_command("export_padma", stdout=StringIO())

    output, error = upload_failing(mount=mount)

    row = MediaUpload.objects.get(file=file)
    assert row.state == UploadState.FAILED
    assert row.message.startswith("Not encoded: ffprobe finds no video or audio in it (")
    assert f"  broken.mp4: {row.message}" in output
    assert chunks_of(padma, file) == [] and padma.count("upload/") == 0
    assert str(error) == "1 file not uploaded (1 failed, 0 refused); see above or the export report"
