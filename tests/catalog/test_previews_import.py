"""Taking previews into the catalogue: with import_json, or alone with import_previews."""

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.models import FileEntry, Preview
from catalog.oshash import oshash
from catalog.previews.bundle import bundle_dir, previews_dir_for
from catalog.previews.selectors import preview_map
from catalog.previews.services import import_preview_folder, store_browser_preview
from tests.catalog.preview_media import jpeg_bytes, photo, previews_storage, video  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def scanned(tmp_path, previews_storage):  # noqa: F811
    """A drive with a photo and its copy on a second drive, a video and a broken file,
    scanned with previews; returns the two manifests."""
    first, second = tmp_path / "Expansion", tmp_path / "Backup"
    photo(first / "IMG_0001.jpg", (1600, 1200))
    video(first / "clip.mp4", seconds=4)
    (first / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    second.mkdir()
    shutil.copy(first / "IMG_0001.jpg", second / "IMG_0001 copy.jpg")
    manifests = []
    for root in (first, second):
        manifest = tmp_path / f"{root.name}.json"
        call_command("scan_folder", str(root), str(manifest), stdout=io.StringIO())
        manifests.append(manifest)
    return manifests


def import_json(manifest: Path, **options) -> str:
    out = io.StringIO()
    call_command("import_json", str(manifest), stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def stored_files(location: Path) -> dict[str, bytes]:
    return {str(p.relative_to(location)): p.read_bytes() for p in location.rglob("*.*")}


def test_import_json_takes_the_previews_and_copies_share_them(scanned, tmp_path, previews_storage):  # noqa: F811
    expansion, backup = scanned
    output = import_json(expansion)
    assert "Previews from" in output
    import_json(backup)
    image = oshash(tmp_path / "Expansion" / "IMG_0001.jpg")
    assert FileEntry.objects.filter(oshash=image).count() == 2
    rows = Preview.objects.filter(oshash=image)
    assert sorted(rows.values_list("kind", "width", "height")) == [
        ("review", 1280, 960),
        ("thumb", 320, 240),
    ]
    # One stored file per kind, whichever drive's import brought it.
    assert sorted(stored_files(previews_storage)) == sorted(
        Preview.objects.exclude(file="").values_list("file", flat=True)
    )
    clip = oshash(tmp_path / "Expansion" / "clip.mp4")
    broken = oshash(tmp_path / "Expansion" / "broken.jpg")
    found = preview_map([clip, image, broken])
    assert set(found[clip]) == {"poster", "thumb", "strip"}
    assert found[clip]["strip"]["frames"] == 10
    reason = "Pillow cannot read this image (cannot identify image file 'broken.jpg')"
    assert found[broken] == {"placeholder": {"reason": reason}}


def test_importing_again_changes_nothing(scanned, previews_storage):  # noqa: F811
    expansion, _ = scanned
    import_json(expansion)
    rows = set(Preview.objects.values_list("id", "oshash", "kind", "file", "bytes", "created_at"))
    files = stored_files(previews_storage)
    output = import_json(expansion)
    assert "stored nothing new" in output and "3 already stored" not in output
    report = import_preview_folder(previews_dir_for(expansion))
    assert (report.stored_total, report.placeholders, report.replaced) == (0, 0, 0)
    assert report.unchanged == len(rows)
    assert set(Preview.objects.values_list("id", "oshash", "kind", "file", "bytes", "created_at")) == rows  # fmt: skip
    assert stored_files(previews_storage) == files


def test_a_corrupt_or_missing_preview_is_a_warning_and_the_catalogue_is_imported(scanned, tmp_path):  # fmt: skip
    expansion, _ = scanned
    folder = previews_dir_for(expansion)
    image = oshash(tmp_path / "Expansion" / "IMG_0001.jpg")
    clip = oshash(tmp_path / "Expansion" / "clip.mp4")
    broken = oshash(tmp_path / "Expansion" / "broken.jpg")
    review = Path(bundle_dir(folder, image)) / "review.webp"
    review.write_bytes(review.read_bytes()[:200])  # cut short
    (Path(bundle_dir(folder, clip)) / "strip.webp").unlink()
    (Path(bundle_dir(folder, broken)) / "preview.json").write_text("{not json")
    output = import_json(expansion)
    assert FileEntry.objects.count() == 3
    assert f"warning: {review}: the image does not decode" in output
    assert "strip.webp: No such file or directory; skipped" in output
    assert f"{bundle_dir(folder, broken)}/preview.json: unreadable index" in output
    assert sorted(Preview.objects.values_list("oshash", "kind")) == sorted(
        [(image, "thumb"), (clip, "poster"), (clip, "thumb")]
    )


def test_import_previews_alone_and_only_for_catalogued_files(scanned, tmp_path):
    expansion, backup = scanned
    import_json(backup, no_previews=True)
    assert not Preview.objects.exists()
    out = io.StringIO()
    call_command("import_previews", str(expansion), stdout=out, stderr=io.StringIO())
    image = oshash(tmp_path / "Expansion" / "IMG_0001.jpg")
    assert set(Preview.objects.values_list("oshash", flat=True)) == {image}
    assert "2 not catalogued" in out.getvalue()


def test_a_scan_replaces_a_browser_preview_and_a_placeholder_gives_way(
    scanned, tmp_path, django_capture_on_commit_callbacks
):
    expansion, _ = scanned
    import_json(expansion, no_previews=True)
    image = oshash(tmp_path / "Expansion" / "IMG_0001.jpg")
    browser = store_browser_preview(oshash=image, kind="thumb", data=jpeg_bytes()).preview
    assert browser.file.storage.exists(browser.file.name)
    Preview.objects.create(oshash=image, kind="placeholder", reason="made before Pillow knew")
    with django_capture_on_commit_callbacks(execute=True):
        report = import_preview_folder(previews_dir_for(expansion))
    assert report.replaced == 1
    rows = dict(Preview.objects.filter(oshash=image).values_list("kind", "source"))
    assert rows == {"thumb": "scan", "review": "scan"}
    assert not browser.file.storage.exists(browser.file.name)  # its file went with it


def test_replace_takes_previews_made_again(scanned, tmp_path):
    expansion, _ = scanned
    import_json(expansion)
    image = oshash(tmp_path / "Expansion" / "IMG_0001.jpg")
    thumb = Path(bundle_dir(previews_dir_for(expansion), image)) / "thumb.webp"
    thumb.write_bytes(jpeg_bytes(size=(300, 200), fmt="WEBP"))
    index_path = thumb.parent / "preview.json"
    index = json.loads(index_path.read_text())
    index["kinds"]["thumb"]["width"] = 300
    index_path.write_text(json.dumps(index))
    assert import_preview_folder(previews_dir_for(expansion)).replaced == 0
    assert import_preview_folder(previews_dir_for(expansion), replace=True).replaced == 3 + 2
    assert Preview.objects.get(oshash=image, kind="thumb").width == 300


def test_the_demo_shows_previews(tmp_path, previews_storage):  # noqa: F811
    out = io.StringIO()
    call_command("setup_demo", "--media-dir", str(tmp_path / "demo"), stdout=out, stderr=out)
    kinds = _kinds_by_family()
    assert {"thumb", "review"} <= kinds["image"]
    assert {"waveform", "thumb"} <= kinds["audio"]
    assert {"page", "thumb"} <= kinds["application"]
    rows = Preview.objects.count()
    call_command("setup_demo", "--media-dir", str(tmp_path / "demo"), stdout=out, stderr=out)
    assert Preview.objects.count() == rows  # a second run changes nothing


def _kinds_by_family() -> dict[str, set[str]]:
    """``image`` -> the kinds of preview the demo's images have, and so on."""
    families = dict(FileEntry.objects.exclude(oshash=None).values_list("oshash", "mime_type"))
    kinds: dict[str, set[str]] = {}
    for file_hash, kind in Preview.objects.values_list("oshash", "kind"):
        kinds.setdefault(families[file_hash].split("/")[0], set()).add(kind)
    return kinds


def test_a_preview_that_is_a_symlink_is_not_followed(scanned, tmp_path):
    expansion, _ = scanned
    import_json(expansion, no_previews=True)
    image = oshash(tmp_path / "Expansion" / "IMG_0001.jpg")
    secret = tmp_path / "secret.txt"
    secret.write_text("not a preview")
    bundle = Path(bundle_dir(previews_dir_for(expansion), image))
    (bundle / "thumb.webp").unlink()
    (bundle / "thumb.webp").symlink_to(secret)
    report = import_preview_folder(previews_dir_for(expansion))
    assert [w for w in report.warnings if "thumb.webp" in w]
    assert set(Preview.objects.filter(oshash=image).values_list("kind", flat=True)) == {"review"}
