"""The demo archive: generated media (deterministic, real formats) and ``setup_demo``."""

import io
import wave
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from PIL import ExifTags, Image

from catalog import demo
from catalog.models import Drive, DuplicateGroup, FileEntry, Folder, ProjectGroup
from catalog.roles import CURATORS, REVIEWERS

A, B = demo.DRIVE_A, demo.DRIVE_B


@pytest.fixture(autouse=True)
def ox_cache(tmp_path_factory, monkeypatch):
    # ox keeps a hash cache in ~/.ox unless told otherwise; keep tests off $HOME.
    monkeypatch.setenv("oxCACHE", str(tmp_path_factory.mktemp("ox")))


def _clear_generator_caches() -> None:
    for builder in (demo._jpeg, demo._png, demo._wav, demo._pdf):
        builder.cache_clear()


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    return demo.build_demo_media(tmp_path_factory.mktemp("media"))


# --- media ------------------------------------------------------------------------------


def test_build_returns_the_two_drives(tmp_path):
    drives = demo.build_demo_media(tmp_path)
    assert drives == {A: tmp_path / A, B: tmp_path / B}
    assert all(path.is_dir() for path in drives.values())


def test_generation_is_deterministic(tmp_path):
    demo.build_demo_media(tmp_path / "one")
    # Rebuild from the seeds, not from the in-process byte caches.
    _clear_generator_caches()
    demo.build_demo_media(tmp_path / "two")
    first, second = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert first == second
    assert sum(len(data) for data in first.values()) < 5 * 1024 * 1024


def test_rebuild_leaves_identical_files_alone_and_restores_changed_ones(tmp_path):
    drives = demo.build_demo_media(tmp_path)
    photo = drives[A] / "2019/rehearsal/day-1/P1000102.JPG"
    notes = drives[A] / "Documents/notes/README.txt"
    original = photo.read_bytes()
    mtime = notes.stat().st_mtime_ns
    photo.write_bytes(b"damaged")
    stranger = drives[B] / "mine.txt"
    stranger.write_text("not the demo's")

    demo.build_demo_media(tmp_path)

    assert photo.read_bytes() == original
    assert notes.stat().st_mtime_ns == mtime
    assert stranger.read_text() == "not the demo's"


def _exif(path: Path) -> tuple[str, str, str, str | None]:
    with Image.open(path) as img:
        assert img.format == "JPEG"
        exif = img.getexif()
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        return (
            exif[ExifTags.Base.Make],
            exif[ExifTags.Base.Model],
            sub[ExifTags.Base.DateTimeOriginal],
            sub.get(ExifTags.Base.OffsetTimeOriginal),
        )


def test_jpegs_carry_exif_dates_and_cameras(media):
    a, b = media[A], media[B]
    assert _exif(a / "2019/rehearsal/day-1/P1000101.JPG") == (
        "Panasonic",
        "DC-S1",
        "2019:03:14 18:22:05",
        "+05:30",
    )
    assert _exif(a / "2019/rehearsal/day-2/IMG_4821.JPG")[:3] == (
        "Canon",
        "Canon EOS 5D Mark IV",
        "2019:03:15 19:15:00",
    )
    assert _exif(b / "2021/workshop/day-1/IMG_0107.JPG")[3] is None
    assert _exif(a / "2019/rehearsal/day-2/रिहर्सल.jpg")[:2] == ("Apple", "iPhone 12")
    cameras = {_exif(p)[1] for drive in media.values() for p in drive.rglob("*.[jJ][pP][gG]")}
    assert cameras == {"DC-S1", "Canon EOS 5D Mark IV", "iPhone 12"}


def test_other_formats_are_real(media):
    a = media[A]
    with Image.open(a / "2019/street-theatre/Café_Prithvi_poster.png") as png:
        assert png.format == "PNG"
    with wave.open(str(a / "PHS-Audio/interview/room-tone.wav")) as wav:
        assert wav.getnchannels() == 1
        assert wav.getnframes() / wav.getframerate() == pytest.approx(2.0)
    pdf = (a / "Documents/press/press-release-2019.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert "Panasonic S1" in (a / "Documents/notes/shoot-notes.md").read_text()
    assert (a / "Documents/notes/README.txt").read_text().startswith("PHS demo drive A")


def test_archive_shape(media):
    names = {p.name for drive in media.values() for p in drive.rglob("*")}
    assert {"रिहर्सल.jpg", "Café_Prithvi_poster.png", ".DS_Store"} <= names
    assert (media[A] / "2019/rehearsal/day-1").is_dir()
    assert (media[A] / "PHS-Videos").is_dir()
    assert (media[A] / "Documents/press").is_dir()


def test_photos_are_distinct_and_one_needs_both_hash_windows(media):
    import ox  # imported late: the ox_cache fixture has set oxCACHE by now

    photos = sorted(p for drive in media.values() for p in drive.rglob("*.[jJ][pP][gG]"))
    distinct = {p.read_bytes() for p in photos}
    hashes = {ox.oshash(str(p), cached=False) for p in photos}
    assert len(hashes) == len(distinct) == len(demo.PHOTOS)
    sizes = [len(data) for data in distinct]
    assert max(sizes) > 128 * 1024
    assert all(30 * 1024 <= size <= 80 * 1024 for size in sizes if size < 128 * 1024)


def test_copies_are_byte_identical(media):
    a, b = media[A], media[B]
    still = (a / "2019/rehearsal/day-1/P1000101.JPG").read_bytes()
    assert (a / "PHS-Videos/stills/P1000101.JPG").read_bytes() == still
    assert (b / "Backup_2019/rehearsal/day-1/P1000101.JPG").read_bytes() == still
    big = "rehearsal/day-2/IMG_4821.JPG"
    assert (a / "2019" / big).read_bytes() == (b / "Backup_2019" / big).read_bytes()
    pdf = "Documents/press/press-release-2019.pdf"
    assert (a / pdf).read_bytes() == (b / pdf).read_bytes()


# --- setup_demo -------------------------------------------------------------------------


def _setup_demo(media_dir: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("setup_demo", "--media-dir", str(media_dir), *args, stdout=out, stderr=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    models = (Drive, Folder, FileEntry, DuplicateGroup, ProjectGroup, get_user_model(), Group)
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
def test_setup_demo_end_to_end(tmp_path):
    output = _setup_demo(tmp_path)

    assert "[1/5] Generating demo media" in output
    assert "http://127.0.0.1:8000/admin/" in output
    for login in demo.DEMO_LOGINS:
        assert login.username in output
        assert login.password in output
    assert (tmp_path / f"{A}.json").is_file()
    assert (tmp_path / f"{B}.json").is_file()

    assert set(Drive.objects.values_list("name", flat=True)) == {A, B}
    # Everything but the Finder junk was catalogued.
    expected = sum(
        1 for files in demo.DEMO_FILES.values() for rel in files if not rel.endswith(".DS_Store")
    )
    assert FileEntry.objects.count() == expected
    assert not FileEntry.objects.filter(filename=".DS_Store").exists()
    assert FileEntry.objects.filter(filename="रिहर्सल.jpg", drive__name=A).exists()
    # The generated EXIF survives the scanner and the importer.
    panasonic = FileEntry.objects.get(
        drive__name=A, path="2019/rehearsal/day-1", filename="P1000101.JPG"
    )
    assert "DC-S1" in panasonic.camera
    assert panasonic.exif_date_raw.startswith("2019:03:14 18:22:05")
    assert panasonic.exif_date is not None

    # The still is on A twice and on B once; the big photo and the PDF on both drives.
    sizes = sorted(DuplicateGroup.objects.values_list("member_count", flat=True))
    assert sizes == [2, 2, 3]
    still = FileEntry.objects.get(drive__name=B, filename="P1000101.JPG")
    assert still.duplicate_group is not None
    assert still.duplicate_group.member_count == 3

    assert set(ProjectGroup.objects.values_list("name", flat=True)) >= {
        "Rehearsals",
        "Press",
        "Street Theatre",
    }
    curator = Client()
    # Through the sign-in page: the throttle (django-axes) needs the request.
    signed_in = curator.post(
        "/admin/login/", {"username": "curator", "password": "curator-demo-2026"}
    )
    assert signed_in.status_code == 302, signed_in.content
    assert curator.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_demo_users_can_log_in_with_their_roles():
    logins = demo.ensure_demo_users()
    assert [login.password_valid for login in logins] == [True, True, True]
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert users.get(username="curator").groups.filter(name=CURATORS).exists()
    assert users.get(username="reviewer").groups.filter(name=REVIEWERS).exists()
    for login in demo.DEMO_LOGINS:
        client = Client()
        credentials = {"username": login.username, "password": login.password}
        assert client.post("/admin/login/", credentials).status_code == 302, login
        # The role must be enough to open the admin, not only to authenticate.
        assert client.get("/admin/").status_code == 200, login.username


@pytest.mark.django_db
def test_project_groups_are_created_once():
    first = demo.ensure_project_groups()
    assert demo.ensure_project_groups() == first
    assert ProjectGroup.objects.count() == len(demo.PROJECT_GROUPS)


@pytest.mark.django_db
def test_setup_demo_twice_changes_nothing(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("setup_demo", stdout=io.StringIO(), stderr=io.StringIO())
    # Without --media-dir the drives go to VAR_DIR/demo; name that directory the second time.
    media_dir = tmp_path / "demo"
    assert (media_dir / A).is_dir()
    before = _counts()

    output = _setup_demo(media_dir)

    assert _counts() == before
    assert "admin-demo-2026" in output


@pytest.mark.django_db
def test_existing_passwords_are_kept_unless_reset(tmp_path):
    _setup_demo(tmp_path)
    curator = get_user_model().objects.get(username="curator")
    curator.set_password("chosen-by-curator")
    curator.save()

    output = _setup_demo(tmp_path)
    curator.refresh_from_db()
    assert curator.check_password("chosen-by-curator")
    assert "use --reset-passwords" in output

    _setup_demo(tmp_path, "--reset-passwords")
    curator.refresh_from_db()
    assert curator.check_password("curator-demo-2026")


@pytest.mark.django_db
def test_setup_demo_refuses_without_demo_logins(tmp_path, settings):
    settings.PHS_DEMO_LOGINS = False
    with pytest.raises(CommandError, match="PHS_DEMO_LOGINS"):
        _setup_demo(tmp_path)
    assert not (tmp_path / A).exists()
    assert not get_user_model().objects.exists()
