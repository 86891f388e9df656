"""Offline previews in a real browser: a reviewer without the drive sees the catalogue's
preview and approves; a curator with the drive mounted fills in missing previews from
verified files only (an image's thumbnail and review size; a video's poster, thumbnail
and frame strip); the strip scrubs with the pointer and the keys; listings lazy-load thumbnails."""

import base64
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.demo import DRIVE_A
from catalog.models import FileEntry, ReviewState, Status
from catalog.previews.models import Preview
from catalog.previews.services import store_browser_preview
from tests.browser.test_curate import DAY1, file_named, open_curate
from tests.catalog.preview_media import jpeg_bytes, previews_storage  # noqa: F401
from workflow.services import review

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

VIDEO_DRIVE = "PHS_Video"


def wait_for(page, condition, what: str, seconds: float = 15.0):
    """Poll the database while the page works in the background."""
    for _ in range(int(seconds * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"waited {seconds} s for {what}")


def submitted(file, curator) -> FileEntry:
    review.save_decision(file=file, user=curator, changes={"status": Status.UPLOAD})
    review.submit_for_review(file=FileEntry.objects.get(pk=file.pk), user=curator)
    return FileEntry.objects.get(pk=file.pk)


def mount_opfs(page, files: dict[str, bytes], name: str = "drive-a") -> None:
    """Mount a folder written into the Origin Private File System (pickers cannot be
    driven headlessly): relative path -> bytes."""
    payload = {path: base64.b64encode(data).decode() for path, data in files.items()}
    mounted = page.evaluate(
        """async ([files, name]) => {
            const opfs = await navigator.storage.getDirectory();
            const top = await opfs.getDirectoryHandle(name, { create: true });
            for (const [path, b64] of Object.entries(files)) {
                const parts = path.split('/');
                let dir = top;
                for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, { create: true });
                const handle = await dir.getFileHandle(parts.at(-1), { create: true });
                const writable = await handle.createWritable();
                await writable.write(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
                await writable.close();
            }
            return window.phsCurate.mountHandle(top);
        }""",
        [payload, name],
    )
    assert mounted is True


def test_without_the_drive_a_reviewer_sees_the_offline_preview_and_approves(
    previews_storage,  # noqa: F811  (first: the import stores into it)
    new_page,
    live_server,
    demo_drives,
    curator,
    reviewer,
):
    file = file_named("P1000101.JPG")
    Preview.objects.all().delete()  # whatever the import took in: this test's own
    store_browser_preview(oshash=file.oshash, kind="thumb", data=jpeg_bytes((320, 180), "teal"))
    store_browser_preview(oshash=file.oshash, kind="review", data=jpeg_bytes((1280, 720), "teal"))
    file = submitted(file, curator)

    page = new_page("reviewer")
    # The queue on the dashboard: the thumbnail, at the size it will have when loaded.
    page.goto(f"{live_server.url}/admin/")
    thumb = page.locator(f'.phs-panel__files img[src^="/admin/previews/{file.oshash}/thumb/"]')
    expect(thumb).to_have_attribute("loading", "lazy")
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => [img.naturalWidth, img.width, img.height]") == [320, 48, 27]

    # Curate, no folder mounted: the catalogue's preview, labelled as such.
    open_curate(page, live_server, drive=file.drive_id, file=file.pk)
    expect(page.locator("#phs-curate")).to_have_attribute("data-mount", "none")
    expect(page.locator("#phs-preview .phs-offline__label")).to_have_text("offline preview")
    image = page.locator("#phs-preview img.phs-offline__image")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") == 1280  # the review size, served
    expect(page.locator("#phs-preview")).to_contain_text(
        f"Mount the folder for {DRIVE_A} to see the file itself."
    )
    expect(page.locator("#phs-verify")).to_have_text("")  # nothing local to verify

    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("a")
    expect(page.locator("#phs-flash")).to_contain_text("Approved")
    file.refresh_from_db()
    assert file.review_state == ReviewState.APPROVED
    # Still the offline preview after the approval redrew the pane.
    expect(page.locator("#phs-preview .phs-offline__label")).to_have_text("offline preview")

    # A file the catalogue has no preview of says so, in the same place.
    other = file_named("P1000102.JPG")
    open_curate(page, live_server, drive=other.drive_id, file=other.pk)
    expect(page.locator("#phs-preview .phs-offline")).to_have_attribute("data-kind", "none")
    expect(page.locator("#phs-preview")).to_contain_text("No offline preview yet")
    assert page.problems == []


def test_a_mounted_drive_fills_in_missing_previews_from_verified_files_only(
    previews_storage,  # noqa: F811  (first: the import stores into it)
    new_page,
    live_server,
    demo_drives,
    curator,
    reviewer,
):
    Preview.objects.all().delete()
    real, impostor = file_named("P1000101.JPG"), file_named("P1000102.JPG")
    root = demo_drives[DRIVE_A]
    page = new_page("curator")
    open_curate(page, live_server, drive=real.drive_id)
    mount_opfs(
        page,
        {
            f"{DAY1}/P1000101.JPG": (root / DAY1 / "P1000101.JPG").read_bytes(),
            # same name, other content: its oshash is not the catalogue's
            f"{DAY1}/P1000102.JPG": (root / "2019/rehearsal/day-2/IMG_4821.JPG").read_bytes(),
        },
    )
    open_curate(page, live_server, drive=impostor.drive_id, file=impostor.pk)
    expect(page.locator("#phs-verify")).to_contain_text("Not the catalogued file")
    open_curate(page, live_server, drive=real.drive_id, file=real.pk)
    expect(page.locator("#phs-verify")).to_have_text("verified")
    assert page.locator("#phs-preview img").evaluate("img => img.naturalWidth") == 640

    made = Preview.objects.filter(oshash=real.oshash)
    wait_for(page, lambda: made.count() == 2, "the browser's thumbnail and review image")
    sizes = {p.kind: (p.width, p.height, p.source, p.content_type) for p in made}
    assert sizes == {
        "thumb": (320, 240, "browser", "image/jpeg"),
        "review": (640, 480, "browser", "image/jpeg"),  # never enlarged
    }
    assert all(p.bytes <= 512 * 1024 for p in made)
    # The mismatched file was seen first and long enough ago: nothing was made from it.
    assert not Preview.objects.filter(oshash=impostor.oshash).exists()

    # Reopening the file makes nothing again (the catalogue has them now).
    requests = []
    page.on("request", lambda r: requests.append(r) if r.method == "POST" else None)
    open_curate(page, live_server, drive=real.drive_id, file=real.pk)
    expect(page.locator("#phs-verify")).to_have_text("verified")
    page.wait_for_timeout(1500)
    assert [r.url for r in requests if "/admin/previews/" in r.url] == []

    # A reviewer elsewhere, without the drive, sees what the curator's browser made.
    away = new_page("reviewer")
    open_curate(away, live_server, drive=real.drive_id, file=real.pk)
    image = away.locator("#phs-preview img.phs-offline__image")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") == 640
    assert page.problems == [] and away.problems == []


@pytest.fixture
def video_drive(tmp_path):
    """A drive with a 4-second WebM clip (ffmpeg testsrc, 320 × 240), scanned and imported."""
    folder = tmp_path / VIDEO_DRIVE
    clip = folder / "clips" / "countdown.webm"
    clip.parent.mkdir(parents=True)
    source = "testsrc=duration=4:size=320x240:rate=25"
    encode = ["-c:v", "libvpx-vp9", "-b:v", "200k", "-deadline", "realtime"]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, *encode, str(clip)],
        check=True,
    )
    manifest = tmp_path / f"{VIDEO_DRIVE}.json"
    call_command("scan_folder", str(folder), str(manifest), stdout=StringIO())
    call_command("import_json", str(manifest), "--drive", VIDEO_DRIVE, stdout=StringIO())
    Preview.objects.all().delete()  # the scan's own previews, if it made them: not these
    return folder, FileEntry.objects.get(filename="countdown.webm")


def test_a_video_gets_a_poster_and_a_strip_that_scrubs(
    previews_storage,  # noqa: F811  (first: the import stores into it)
    new_page,
    live_server,
    video_drive,
    curator,
    reviewer,
):
    folder, clip = video_drive
    page = new_page("curator")
    open_curate(page, live_server, drive=clip.drive_id, file=clip.pk)
    expect(page.locator("#phs-preview .phs-offline")).to_have_attribute("data-kind", "none")
    page.set_input_files("#phs-mount-input", str(folder))  # the <input webkitdirectory> way
    expect(page.locator("#phs-mount-state")).to_contain_text("Mounted")
    expect(page.locator("#phs-verify")).to_have_text("verified")
    expect(page.locator("#phs-preview video")).to_be_attached()

    made = Preview.objects.filter(oshash=clip.oshash)
    wait_for(page, lambda: made.count() == 3, "the browser's poster, thumbnail and strip", 30)
    poster, thumb, strip = (made.get(kind=kind) for kind in ("poster", "thumb", "strip"))
    assert (poster.width, poster.height, poster.source) == (320, 240, "browser")
    assert (thumb.width, thumb.height, thumb.source) == (320, 240, "browser")
    assert (strip.width, strip.height, strip.source) == (2400, 180, "browser")
    # The middles of ten equal parts of the 4 s clip.
    assert strip.frame_times == pytest.approx([0.2 + 0.4 * n for n in range(10)], abs=0.01)

    # Without the drive: the poster, and the strip below it to scrub.
    away = new_page("reviewer")
    open_curate(away, live_server, drive=clip.drive_id, file=clip.pk)
    offline = away.locator("#phs-preview .phs-offline")
    expect(offline).to_have_attribute("data-kind", "strip")
    expect(away.locator(".phs-offline__label")).to_have_text("offline preview")
    expect(away.locator(".phs-scrub__poster")).to_be_visible()
    bar = away.locator(".phs-scrub__strip")
    strip_image = bar.locator("img")
    expect(strip_image).to_have_js_property("complete", True)
    assert strip_image.evaluate("img => img.naturalWidth") == 2400
    frame = away.locator(".phs-scrub__frame")
    time = away.locator(".phs-scrub__time")

    box = bar.bounding_box()
    bar.hover(position={"x": box["width"] * 0.35, "y": box["height"] / 2})
    expect(frame).to_have_attribute("data-frame", "3")
    expect(time).to_have_text("Frame 4 of 10 · 0:01.4")
    expect(away.locator(".phs-scrub__poster")).to_be_hidden()
    assert "strip" in frame.evaluate("el => el.style.backgroundImage")
    assert frame.evaluate("el => el.style.backgroundPosition").startswith("33.33")  # 3 of 0–9
    bar.hover(position={"x": box["width"] - 2, "y": box["height"] / 2})
    expect(frame).to_have_attribute("data-frame", "9")

    # The keys, once the strip has the focus; Curate's own keys stay where they are.
    bar.focus()
    away.keyboard.press("Home")
    expect(frame).to_have_attribute("data-frame", "0")
    away.keyboard.press("ArrowRight")
    away.keyboard.press("ArrowRight")
    expect(frame).to_have_attribute("data-frame", "2")
    expect(bar).to_have_attribute("aria-valuenow", "3")
    away.keyboard.press("ArrowLeft")
    expect(frame).to_have_attribute("data-frame", "1")
    away.keyboard.press("End")
    expect(frame).to_have_attribute("data-frame", "9")
    expect(time).to_have_text("Frame 10 of 10 · 0:03.8")
    expect(away.locator("#phs-filename")).to_have_text("countdown.webm")
    assert page.problems == [] and away.problems == []


def test_listing_and_find_files_lazy_load_thumbnails(
    previews_storage,  # noqa: F811  (first: the import stores into it)
    new_page,
    live_server,
    demo_drives,
    curator,
):
    Preview.objects.all().delete()
    files = FileEntry.objects.filter(filename__startswith="P10001").exclude(oshash="")
    for file in files:
        store_browser_preview(oshash=file.oshash, kind="thumb", data=jpeg_bytes((320, 240)))
    page = new_page("curator")
    for url in (
        "/admin/snippets/catalog/fileentry/?q=P10001",
        "/admin/find/?q=P10001",
    ):
        page.goto(f"{live_server.url}{url}")
        images = page.locator("img.phs-thumb")
        expect(images.first).to_be_visible()
        assert images.count() == files.count() >= 3
        for i in range(images.count()):
            image = images.nth(i)
            expect(image).to_have_attribute("loading", "lazy")
            expect(image).to_have_js_property("complete", True)
            # Laid out at its final size from its attributes: nothing moves when it loads.
            assert image.evaluate(
                "img => [img.getAttribute('width'), img.getAttribute('height'),"
                " img.getBoundingClientRect().width, img.naturalWidth]"
            ) == ["64", "48", 64, 320]
    assert page.problems == []


def test_the_scans_previews_of_text_audio_and_pdf_show_without_the_drive(
    previews_storage,  # noqa: F811  (first: the import stores into it)
    new_page,
    live_server,
    demo_drives,
    reviewer,
):
    """scan_folder made them beside the manifests and import_json took them in."""
    page = new_page("reviewer")
    expected = {
        ("Documents/notes", "README.txt"): "text",
        ("PHS-Audio/interview", "room-tone.wav"): "waveform",
        ("Documents/press", "press-release-2019.pdf"): "page",
    }
    for (path, filename), kind in expected.items():
        file = FileEntry.objects.get(drive__name=DRIVE_A, path=path, filename=filename)
        assert Preview.objects.filter(oshash=file.oshash, kind=kind, source="scan").exists()
        open_curate(page, live_server, drive=file.drive_id, file=file.pk)
        offline = page.locator("#phs-preview .phs-offline")
        expect(offline).to_have_attribute("data-kind", kind)
        expect(page.locator(".phs-offline__label")).to_have_text("offline preview")
        if kind == "text":
            expect(page.locator(".phs-offline__text")).to_contain_text(
                "Generated by `manage.py setup_demo`"
            )
        else:
            image = page.locator("img.phs-offline__image")
            expect(image).to_have_js_property("complete", True)
            assert image.evaluate("img => img.naturalWidth") > 0
    assert page.problems == []
