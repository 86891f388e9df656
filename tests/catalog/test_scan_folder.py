"""scan_folder and catalog.scanner on real files: what is listed, what is skipped, and how.

No database: nothing here is marked ``django_db``, so any query would fail the test.
"""

import errno
import io
import json
import os
import shutil
import threading
import unicodedata
import warnings
import wave
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from catalog import scanner
from catalog.scanner import (
    EXTRA_MIME_TYPES,
    format_size,
    format_timecode,
    scan_directory,
    write_manifest,
)

DEVANAGARI_FOLDER = "हिन्दी"
DEVANAGARI_FILE = "फ़ाइल.txt"
NFD_NAME = unicodedata.normalize("NFD", "Café.txt")
JUNK = [".DS_Store", "._photo.jpg", "Thumbs.db", "$RECYCLE.BIN/deleted.txt"]
REAL_OPEN = os.open
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this OS")


@pytest.fixture(scope="module")
def ox(tmp_path_factory):
    """The reference oshash, with its cache (created on import) in a temp dir."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("oxCACHE", str(tmp_path_factory.mktemp("ox-cache")))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # ox's own chardet import
            import ox
        yield ox


def run_with_timeout(function, *args, timeout: float = 30, **kwargs):
    """Run in a thread so a scan that blocks (opening a FIFO) fails instead of hanging."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"{function.__name__} hung (did it open the FIFO?)"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def scan(root: Path, **kwargs) -> scanner.ScanResult:
    return run_with_timeout(scan_directory, root, **kwargs)


def command(*args, **options) -> tuple[str, str]:
    """The scan alone: previews are tested in test_previews_making.py."""
    options.setdefault("no_previews", True)
    stdout, stderr = io.StringIO(), io.StringIO()
    run_with_timeout(
        call_command, "scan_folder", *map(str, args), stdout=stdout, stderr=stderr, **options
    )
    return stdout.getvalue(), stderr.getvalue()


def make_jpeg(path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Panasonic"  # Make
    exif[0x0110] = "DC-S1"  # Model
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = "2021:12:23 17:57:22"  # DateTimeOriginal
    exif_ifd[0x9011] = "+05:30"  # OffsetTimeOriginal
    Image.new("RGB", (64, 48), "teal").save(path, exif=exif)


def make_wav(path: Path, *, frames: int = 12345, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x00\x01" * frames)


@pytest.fixture
def tree(tmp_path) -> Path:
    """A small drive with one of everything the scanner has to get right."""
    root = tmp_path / "drive"
    root.mkdir()
    make_jpeg(root / "photo.jpg")
    Image.new("L", (10, 20)).save(root / "shot.png")
    make_wav(root / "sound.wav")
    (root / "notes.txt").write_text("field notes\n")
    (root / "broken.jpg").write_bytes(b"not really a jpeg")
    (root / "big.bin").write_bytes(os.urandom(200_000))
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "a" / "b" / "c" / "deep.txt").write_text("three levels down")
    (root / "a-c").mkdir()
    (root / "a-c" / "sibling.txt").write_text("sorts before a/b")
    (root / DEVANAGARI_FOLDER).mkdir()
    (root / DEVANAGARI_FOLDER / DEVANAGARI_FILE).write_text("नमस्ते")
    (root / NFD_NAME).write_text("accented")
    (root / "link-to-file").symlink_to(root / "notes.txt")
    (root / "link-to-dir").symlink_to(root / "a", target_is_directory=True)
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "pipe")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "._photo.jpg").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    (root / "Thumbs.db").write_bytes(b"thumbs")
    (root / "$RECYCLE.BIN").mkdir()
    (root / "$RECYCLE.BIN" / "deleted.txt").write_text("gone")
    return root


LISTED = [
    ("", NFD_NAME),
    ("", "big.bin"),
    ("", "broken.jpg"),
    ("", "notes.txt"),
    ("", "photo.jpg"),
    ("", "shot.png"),
    ("", "sound.wav"),
    ("a-c", "sibling.txt"),
    ("a/b/c", "deep.txt"),
    (DEVANAGARI_FOLDER, DEVANAGARI_FILE),
]


def by_name(entries: list[dict]) -> dict[str, dict]:
    return {f"{e['path']}/{e['filename']}" if e["path"] else e["filename"]: e for e in entries}


# -- the service ---------------------------------------------------------------------------


def test_lists_regular_files_sorted_by_path_then_filename(tree):
    result = scan(tree)
    listed = [(e["path"], e["filename"]) for e in result.entries]
    assert listed == sorted(LISTED)
    assert listed == LISTED


def test_entries_have_exactly_the_contract_keys(tree):
    keys = {
        "path",
        "filename",
        "file_type",
        "oshash",
        "size_exif",
        "size_pretty",
        "date_exif",
        "duration",
        "duration_tc",
        "resolution",
        "camera",
    }
    for entry in scan(tree).entries:
        assert set(entry) == keys


def test_jpeg_exif_date_offset_camera_and_resolution(tree, ox):
    photo = by_name(scan(tree).entries)["photo.jpg"]
    path = tree / "photo.jpg"
    assert photo == {
        "path": "",
        "filename": "photo.jpg",
        "file_type": "image/jpeg",
        "oshash": ox.oshash(str(path), cached=False),
        "size_exif": path.stat().st_size,
        "size_pretty": format_size(path.stat().st_size),
        "date_exif": "2021:12:23 17:57:22+05:30",
        "duration": None,
        "duration_tc": None,
        "resolution": "64 x 48",
        "camera": "DC-S1 (Panasonic)",
    }


def test_png_has_resolution_and_no_exif(tree):
    shot = by_name(scan(tree).entries)["shot.png"]
    assert (shot["file_type"], shot["resolution"]) == ("image/png", "10 x 20")
    assert shot["date_exif"] is None and shot["camera"] is None


def test_exif_falls_back_to_datetime_and_a_lone_make(tmp_path):
    exif = Image.Exif()
    exif[0x0132] = "2020:01:02 03:04:05"  # DateTime, no DateTimeOriginal
    exif[0x010F] = "Canon\x00\x00"  # Make with NUL padding, no Model
    Image.new("RGB", (4, 4)).save(tmp_path / "edited.jpg", exif=exif)
    (entry,) = scan(tmp_path).entries
    assert entry["date_exif"] == "2020:01:02 03:04:05"
    assert entry["camera"] == "Canon"


def test_damaged_image_is_listed_without_metadata(tree, ox):
    broken = by_name(scan(tree).entries)["broken.jpg"]
    assert broken["file_type"] == "image/jpeg"
    assert broken["oshash"] == ox.oshash(str(tree / "broken.jpg"), cached=False)
    assert broken["resolution"] is broken["date_exif"] is broken["camera"] is None


def test_wav_duration(tree):
    sound = by_name(scan(tree).entries)["sound.wav"]
    assert sound["file_type"] == "audio/x-wav"
    assert sound["duration"] == 1.543  # 12345 frames at 8 kHz
    assert sound["duration_tc"] == "00:00:01.543"


def test_every_hash_and_size_matches_ox_and_lstat(tree, ox):
    for entry in scan(tree).entries:
        path = tree / entry["path"] / entry["filename"]
        assert entry["oshash"] == ox.oshash(str(path), cached=False), path
        assert entry["size_exif"] == path.lstat().st_size
    result = scan(tree)
    assert result.files == len(LISTED)
    assert result.bytes == sum(e["size_exif"] for e in result.entries)


def test_nested_folders_use_slashes_and_no_outer_slashes(tree):
    deep = by_name(scan(tree).entries)["a/b/c/deep.txt"]
    assert deep["path"] == "a/b/c"
    assert deep["filename"] == "deep.txt"


def test_unicode_names_are_kept_byte_for_byte(tree):
    entries = by_name(scan(tree).entries)
    assert f"{DEVANAGARI_FOLDER}/{DEVANAGARI_FILE}" in entries
    (accented,) = [e for e in entries.values() if e["filename"].startswith("Cafe")]
    # Not normalised to NFC: the catalog must name the file exactly as the drive does.
    assert accented["filename"].encode() == NFD_NAME.encode() == b"Cafe\xcc\x81.txt"


def test_symlinks_are_skipped_not_followed(tree):
    result = scan(tree)
    assert result.skipped_symlinks == 2
    assert ("link-to-dir", "symlink") in result.skipped
    assert ("link-to-file", "symlink") in result.skipped
    assert not any(e["path"].startswith("link-to-dir") for e in result.entries)
    assert "link-to-file" not in by_name(result.entries)


@needs_fifo
def test_fifo_is_skipped_without_being_opened(tree):
    result = scan(tree)  # would block forever if the FIFO were opened
    assert result.skipped_special == 1
    assert ("pipe", "special") in result.skipped


def test_os_junk_is_skipped_by_default(tree):
    result = scan(tree)
    names = by_name(result.entries)
    assert not any(junk in names for junk in JUNK)
    assert result.skipped_junk == 4  # .DS_Store, ._photo.jpg, Thumbs.db, $RECYCLE.BIN


def test_os_junk_is_listed_when_asked(tree):
    result = scan(tree, skip_junk=False)
    names = by_name(result.entries)
    assert all(junk in names for junk in JUNK)
    assert result.skipped_junk == 0
    # The AppleDouble file claims to be a JPEG; Pillow failing on it is not an error.
    assert names["._photo.jpg"]["resolution"] is None
    assert result.errors == []


def test_unreadable_file_is_listed_without_hash_and_reported(tree, monkeypatch):
    # Simulated: the tests run as root, where chmod 000 does not stop reading.
    target = str(tree / "notes.txt")

    def refusing_open(path, *args, **kwargs):
        if path == target:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return REAL_OPEN(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    result = scan(tree)
    notes = by_name(result.entries)["notes.txt"]
    assert notes["oshash"] is None
    assert notes["size_exif"] == len("field notes\n")
    assert result.errors == [("notes.txt", "Permission denied")]
    assert result.files == len(LISTED)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root reads files whatever their mode; covered by the simulated test above",
)
def test_chmod_000_file_is_listed_without_hash(tmp_path):
    locked = tmp_path / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    try:
        result = scan(tmp_path)
    finally:
        locked.chmod(0o644)
    assert result.entries[0]["oshash"] is None
    assert result.errors == [("locked.txt", "Permission denied")]


def test_file_deleted_after_the_listing_is_reported_not_listed(tree, monkeypatch):
    target = str(tree / "notes.txt")

    def deleting_open(path, *args, **kwargs):
        if path == target:
            os.unlink(path)
        return REAL_OPEN(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", deleting_open)
    result = scan(tree)
    assert "notes.txt" not in by_name(result.entries)
    assert result.errors == [("notes.txt", "deleted during the scan; not listed")]
    assert result.files == len(LISTED) - 1


@needs_fifo
def test_file_replaced_by_a_fifo_after_the_listing_is_skipped(tree, monkeypatch):
    target = str(tree / "notes.txt")

    def swapping_open(path, *args, **kwargs):
        if path == target:
            os.unlink(path)
            os.mkfifo(path)
        return REAL_OPEN(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", swapping_open)
    result = scan(tree)  # the open must not block on the FIFO that has no writer
    assert "notes.txt" not in by_name(result.entries)
    assert ("notes.txt", "special") in result.skipped
    assert result.skipped_special == 2
    assert result.errors == []


def test_unreadable_folder_is_reported_and_the_scan_goes_on(tree, monkeypatch):
    real_scandir = os.scandir
    target = str(tree / "a" / "b")

    def refusing_scandir(path="."):
        if path == target:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refusing_scandir)
    result = scan(tree)
    assert ("a/b", "Permission denied") in result.errors
    assert "a/b/c/deep.txt" not in by_name(result.entries)
    assert "a-c/sibling.txt" in by_name(result.entries)


def test_name_that_is_not_utf8_is_reported_not_listed(tmp_path):
    try:
        (tmp_path / os.fsdecode(b"bad\xff.txt")).write_text("latin-1 name")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    (tmp_path / "good.txt").write_text("ok")
    result = scan(tmp_path)
    assert [e["filename"] for e in result.entries] == ["good.txt"]
    assert [message for _, message in result.errors] == ["name is not valid UTF-8; not listed"]


def test_scan_aborts_when_the_drive_goes_away(tmp_path):
    (tmp_path / "drive" / "sub").mkdir(parents=True)
    (tmp_path / "drive" / "first.txt").write_text("1")
    (tmp_path / "drive" / "sub" / "second.txt").write_text("2")

    def unplug(result):
        shutil.rmtree(tmp_path / "drive")

    with pytest.raises(FileNotFoundError, match="went away"):
        scan(tmp_path / "drive", progress=unplug, workers=1)


def test_threads_do_not_change_the_result(tree):
    assert scan(tree, workers=1).entries == scan(tree, workers=4).entries


def test_progress_sees_live_counts(tree):
    seen = []
    scan(tree, progress=lambda result: seen.append(result.files))
    assert seen == list(range(1, len(LISTED) + 1))


def test_missing_root_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        scan_directory(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NotADirectoryError):
        scan_directory(tmp_path / "file.txt")


def test_mime_types_do_not_depend_on_the_host():
    # /etc/mime.types on Debian calls .mts a 3D model; AVCHD cameras call it video.
    assert scanner._MIME.guess_file_type("00001.MTS")[0] == EXTRA_MIME_TYPES[".mts"]
    assert scanner._MIME.guess_file_type("clip.mkv")[0] == "video/x-matroska"
    assert scanner._MIME.guess_file_type("no-extension")[0] is None


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KB"),
        (1536, "1.5 KB"),
        (1024**2 - 1, "1.0 MB"),
        (36_256_397, "34.6 MB"),
        (3 * 1024**4, "3.0 TB"),
    ],
)
def test_format_size(size, text):
    assert format_size(size) == text


def test_format_timecode():
    assert format_timecode(13.96) == "00:00:13.960"
    assert format_timecode(3723.5) == "01:02:03.500"


# -- write_manifest ------------------------------------------------------------------------


def test_write_manifest_writes_utf8_json_one_entry_per_line(tmp_path):
    out = tmp_path / "m.json"
    entries = [{"filename": DEVANAGARI_FILE}, {"filename": NFD_NAME}]
    assert write_manifest(iter(entries), out) == 2
    raw = out.read_bytes()
    assert json.loads(raw) == entries
    assert DEVANAGARI_FILE.encode() in raw and NFD_NAME.encode() in raw
    assert len(raw.decode().splitlines()) == 4  # "[", two entries, "]"


def test_write_manifest_of_nothing_is_an_empty_array(tmp_path):
    assert write_manifest([], tmp_path / "m.json") == 0
    assert json.loads((tmp_path / "m.json").read_text()) == []


def test_write_manifest_failure_keeps_the_old_file_and_no_temp(tmp_path):
    out = tmp_path / "m.json"
    out.write_text("OLD")

    def entries():
        yield {"filename": "a"}
        raise RuntimeError("scan blew up")

    with pytest.raises(RuntimeError):
        write_manifest(entries(), out)
    assert out.read_text() == "OLD"
    assert os.listdir(tmp_path) == ["m.json"]


# -- the command ---------------------------------------------------------------------------


def test_command_writes_the_manifest_and_a_summary(tree, tmp_path):
    out = tmp_path / "drive.json"
    stdout, _ = command(tree, out)
    manifest = json.loads(out.read_bytes())
    assert manifest == scan(tree).entries
    assert f"{len(LISTED)} files" in stdout
    assert "Skipped: 4 junk, 2 symlinks, 1 special files." in stdout
    assert f"Wrote {len(LISTED)} entries to {out}." in stdout
    assert "Problems" not in stdout
    assert sorted(os.listdir(tmp_path)) == ["drive", "drive.json"]


def test_command_include_junk(tree, tmp_path):
    out = tmp_path / "drive.json"
    stdout, _ = command(tree, out, include_junk=True)
    names = {e["filename"] for e in json.loads(out.read_bytes())}
    assert {".DS_Store", "._photo.jpg", "Thumbs.db", "deleted.txt"} <= names
    assert "Skipped: 0 junk" in stdout


def test_command_verbose_reports_progress_and_skipped(tmp_path):
    root = tmp_path / "many"
    root.mkdir()
    for number in range(250):
        (root / f"{number:03d}.txt").write_text(str(number))
    (root / "link").symlink_to(root / "000.txt")
    stdout, stderr = command(root, tmp_path / "many.json", verbose=True)
    lines = stderr.splitlines()
    assert [line.split(" files")[0] for line in lines] == ["100", "200"]
    assert "files/s" in lines[0]
    assert "Skipped (1):\n  link (symlink)" in stdout


def test_command_lists_problems_capped_at_20(tmp_path, monkeypatch):
    root = tmp_path / "locked"
    root.mkdir()
    for number in range(25):
        (root / f"{number:02d}.txt").write_text("x")

    def refusing_open(path, *args, **kwargs):
        if os.fspath(path).endswith(".txt"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return REAL_OPEN(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    stdout, _ = command(root, tmp_path / "locked.json")
    assert "Problems (25):" in stdout
    assert "  00.txt: Permission denied" in stdout
    assert "  19.txt: Permission denied" in stdout
    assert "20.txt" not in stdout
    assert "  ... and 5 more" in stdout
    manifest = json.loads((tmp_path / "locked.json").read_text())
    assert len(manifest) == 25 and all(e["oshash"] is None for e in manifest)


def test_command_verbosity_0_prints_only_problems(tree, tmp_path, monkeypatch):
    stdout, stderr = command(tree, tmp_path / "quiet.json", verbosity=0)
    assert (stdout, stderr) == ("", "")
    assert (tmp_path / "quiet.json").exists()

    def refusing_open(path, *args, **kwargs):
        if path == str(tree / "notes.txt"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return REAL_OPEN(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    stdout, _ = command(tree, tmp_path / "quiet.json", verbosity=0)
    assert stdout == "Problems (1):\n  notes.txt: Permission denied\n"


def test_command_failure_leaves_an_existing_manifest_untouched(tree, tmp_path, monkeypatch):
    out = tmp_path / "drive.json"
    out.write_text("OLD MANIFEST")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(CommandError, match=r"cannot write .*No space left on device"):
        command(tree, out)
    assert out.read_text() == "OLD MANIFEST"
    assert sorted(os.listdir(tmp_path)) == ["drive", "drive.json"]


def test_command_unwritable_output_folder(tree, tmp_path, monkeypatch):
    out_dir = tmp_path / "readonly"
    out_dir.mkdir()

    # Simulated: as root, chmod would not stop the write.
    def refusing_open(path, *args, **kwargs):
        if os.path.dirname(os.fspath(path)) == str(out_dir):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return REAL_OPEN(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(CommandError, match=r"cannot write .*Permission denied"):
        command(tree, out_dir / "drive.json")
    assert os.listdir(out_dir) == []


@pytest.mark.parametrize(
    ("directory", "output", "message"),
    [
        ("nope", "out.json", "DIR .*nope does not exist"),
        ("file.txt", "out.json", "DIR .*file.txt is not a directory"),
        ("drive", "drive/out.json", "inside DIR"),
        ("drive", "drive", "is a directory"),
        ("drive", "missing/out.json", "folder .*missing does not exist"),
    ],
)
def test_command_rejects_bad_arguments(tmp_path, directory, output, message):
    (tmp_path / "drive").mkdir()
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(CommandError, match=message):
        command(tmp_path / directory, tmp_path / output)
    assert not (tmp_path / "out.json").exists()


def test_command_reports_a_drive_that_goes_away(tmp_path, monkeypatch):
    root = tmp_path / "drive"
    (root / "sub").mkdir(parents=True)
    (root / "first.txt").write_text("1")
    (root / "sub" / "second.txt").write_text("2")
    real_scandir = os.scandir

    def unplug_on_the_way_to_sub(path="."):
        if path == str(root / "sub"):
            shutil.rmtree(root)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", unplug_on_the_way_to_sub)
    with pytest.raises(CommandError, match=r"went away .* was not written"):
        command(root, tmp_path / "drive.json")
    assert not (tmp_path / "drive.json").exists()
