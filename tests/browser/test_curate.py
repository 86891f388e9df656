"""Curate in a real browser: mount a folder, preview, verify, decide with keys, conflicts,
review actions, dark mode and the dashboard."""

import base64
import os

import pytest
from playwright.sync_api import expect

from catalog.demo import DRIVE_A
from catalog.models import FileEntry, ReviewState, Status
from catalog.oshash import oshash

# serialized_rollback: the live server needs a transactional database, and the groups,
# review workflow and root page that migrations made must be there in every test.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DAY1 = "2019/rehearsal/day-1"


def open_curate(page, live_server, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    page.goto(f"{live_server.url}/admin/curate/{'?' + query if query else ''}")
    page.wait_for_selector("#phs-curate[data-state=ready]")


def pick_drive(page, name):
    page.select_option("#phs-drive", label=f"{name} ({_drive_label(name)})")
    expect(page.locator(".phs-tree__summary")).to_contain_text("files reviewed")


def _drive_label(name):
    from catalog.selectors import drive_progress

    row = next(r for r in drive_progress() if r["drive"].name == name)
    return f"{row['reviewed']}/{row['total']}"


def expand(page, *paths):
    for path in paths:
        row = page.locator(f'.phs-tree__folder[data-path="{path}"]')
        row.locator("> .phs-tree__row").click()
        expect(row.locator("> .phs-tree__group > li").first).to_be_visible()


def open_tree_file(page, filename):
    page.locator(".phs-tree__file .phs-tree__row", has_text=filename).click()
    expect(page.locator("#phs-filename")).to_have_text(filename)


def file_named(filename, drive=DRIVE_A):
    """A demo file by name; P1000101.JPG is the one in day-1 (a copy sits in PHS-Videos)."""
    files = FileEntry.objects.filter(drive__name=drive, filename=filename)
    return files.get(path=DAY1) if filename == "P1000101.JPG" else files.get()


def test_mount_a_folder_preview_verify_and_decide_with_keys(
    new_page, live_server, demo_drives, curator
):
    page = new_page("curator")
    open_curate(page, live_server)
    pick_drive(page, DRIVE_A)
    expect(page.locator("#phs-mount-pick")).to_have_text(f"Mount folder for {DRIVE_A}…")

    # The <input webkitdirectory> path, with a real folder of generated media.
    page.set_input_files("#phs-mount-input", str(demo_drives[DRIVE_A]))
    expect(page.locator("#phs-mount-state")).to_contain_text("Mounted")

    expand(page, "2019", "2019/rehearsal", DAY1)
    expect(page.locator(f'.phs-tree__folder[data-path="{DAY1}"] .phs-tree__count')).to_have_text(
        "0/2"
    )
    open_tree_file(page, "P1000101.JPG")
    image = page.locator("#phs-preview img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") == 640
    expect(page.locator("#phs-verify")).to_have_text("verified")
    copies = page.locator(".phs-copies li")  # the other copies, with links
    expect(copies).to_have_count(2)
    expect(copies.nth(0)).to_contain_text("PHS_Demo_A:/PHS-Videos/stills/P1000101.JPG")
    expect(copies.nth(1)).to_contain_text("PHS_Demo_B:/Backup_2019/rehearsal/day-1/P1000101.JPG")

    # Decide with the keyboard: 2 = upload, t = title, Ctrl+Enter = save & next.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("2")
    page.keyboard.press("t")
    page.keyboard.type("Rehearsal, day one")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#phs-filename")).to_have_text("P1000102.JPG")
    saved = file_named("P1000101.JPG")
    assert (saved.status, saved.title, saved.reviewed_by_id) == (
        Status.UPLOAD,
        "Rehearsal, day one",
        curator.pk,
    )
    assert saved.review_state == ReviewState.DECIDED
    expect(page.locator(f'.phs-tree__folder[data-path="{DAY1}"] .phs-tree__count')).to_have_text(
        "1/2"
    )
    expect(
        page.locator('.phs-tree__file:has-text("P1000101.JPG") .phs-dot--upload')
    ).to_be_visible()

    # k / j move within the folder without saving.
    page.keyboard.press("k")
    expect(page.locator("#phs-filename")).to_have_text("P1000101.JPG")
    page.keyboard.press("j")
    expect(page.locator("#phs-filename")).to_have_text("P1000102.JPG")

    # Unsaved edits: moving away asks first (dismissed: we stay); Esc leaves the field and
    # keeps the text, d discards the edits.
    page.keyboard.press("5")
    expect(page.locator("#phs-dirty")).to_be_visible()
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.keyboard.press("k")
    expect(page.locator("#phs-filename")).to_have_text("P1000102.JPG")
    assert questions and "unsaved changes" in questions[0]
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.id") == "phs-field-notes"
    page.keyboard.type("a note I will discard")
    page.keyboard.press("Escape")
    assert page.locator("#phs-field-notes").input_value() == "a note I will discard"
    page.keyboard.press("d")
    expect(page.locator("#phs-dirty")).to_be_hidden()
    assert page.locator("#phs-field-notes").input_value() == ""

    # Ctrl+S saves in place; u jumps to the next unreviewed file on the drive.
    page.keyboard.press("3")
    page.keyboard.press("Control+s")
    expect(page.locator("#phs-flash")).to_contain_text("Saved P1000102.JPG")
    assert file_named("P1000102.JPG").status == Status.RESTRICTED
    page.keyboard.press("u")
    expect(page.locator("#phs-filename")).to_have_text("IMG_4821.JPG")  # day-2, next in order
    expect(page.locator(".phs-tree__file--selected")).to_contain_text("IMG_4821.JPG")

    # ? lists the keys.
    page.keyboard.press("?")
    expect(page.locator("#phs-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#phs-help")).to_be_hidden()

    # Other previews: PDF, audio, text, and the chips.
    expand(page, "Documents", "Documents/notes")
    open_tree_file(page, "README.txt")
    expect(page.locator("#phs-preview pre")).to_contain_text("Generated by `manage.py setup_demo`")
    expect(page.locator("#phs-verify")).to_have_text("verified")
    expand(page, "PHS-Audio", "PHS-Audio/interview")
    open_tree_file(page, "room-tone.wav")
    expect(page.locator("#phs-preview audio")).to_be_attached()
    page.locator('.phs-chip[data-filter="upload"]').click()
    expect(page.locator(".phs-tree__root > .phs-tree__folder")).to_have_count(1)  # 2019 only
    assert page.problems == []


def test_file_system_access_mount_with_an_opfs_handle(new_page, live_server, demo_drives, curator):
    page = new_page("curator")
    open_curate(page, live_server)
    pick_drive(page, DRIVE_A)
    root = demo_drives[DRIVE_A]
    files = {
        # the real file
        f"{DAY1}/P1000101.JPG": (root / DAY1 / "P1000101.JPG").read_bytes(),
        # same name, other content: must not verify
        f"{DAY1}/P1000102.JPG": (root / "2019/rehearsal/day-2/IMG_4821.JPG").read_bytes(),
        # a Devanagari name, written decomposed-safe as the scanner saw it
        "2019/rehearsal/day-2/रिहर्सल.jpg": (root / "2019/rehearsal/day-2/रिहर्सल.jpg").read_bytes(),
    }
    payload = {path: base64.b64encode(data).decode() for path, data in files.items()}
    mounted = page.evaluate(
        """async (files) => {
            const opfs = await navigator.storage.getDirectory();
            const top = await opfs.getDirectoryHandle('drive-a', { create: true });
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
        payload,
    )
    assert mounted is True
    expect(page.locator("#phs-mount-state")).to_have_text("Mounted: “drive-a”")
    expand(page, "2019", "2019/rehearsal", DAY1)
    open_tree_file(page, "P1000101.JPG")
    expect(page.locator("#phs-verify")).to_have_text("verified")
    assert page.locator("#phs-preview img").evaluate("img => img.naturalWidth") == 640

    open_tree_file(page, "P1000102.JPG")
    expect(page.locator("#phs-verify")).to_contain_text("Not the catalogued file")
    expect(page.locator("#phs-verify")).to_have_class("phs-verify phs-verify--warning")

    expand(page, "2019/rehearsal/day-2")
    open_tree_file(page, "रिहर्सल.jpg")
    expect(page.locator("#phs-verify")).to_have_text("verified")
    open_tree_file(page, "IMG_4821.JPG")  # not written into the OPFS folder
    expect(page.locator("#phs-preview")).to_contain_text("is not in the mounted folder")

    # The handle is remembered per drive in IndexedDB: after a reload it is mounted again
    # (an OPFS handle keeps its permission; a picked folder gets a one-click re-grant).
    file = file_named("P1000101.JPG")
    open_curate(page, live_server, drive=file.drive_id, file=file.pk)
    expect(page.locator("#phs-curate")).to_have_attribute("data-mount", "handle")
    expect(page.locator("#phs-verify")).to_have_text("verified")
    expect(page.locator(f'.phs-tree__file[data-id="{file.pk}"]')).to_have_attribute(
        "aria-selected", "true"
    )
    assert page.problems == []


def test_a_concurrent_save_is_refused_and_keeps_the_input(
    new_page, live_server, demo_drives, curator, reviewer
):
    file = file_named("P1000101.JPG")
    first = new_page("curator")
    second = new_page("reviewer")
    for page in (first, second):
        open_curate(page, live_server, drive=file.drive_id, file=file.pk)
        expect(page.locator("#phs-filename")).to_have_text("P1000101.JPG")

    first.fill("#phs-field-title", "Title from the curator")
    first.keyboard.press("Control+s")
    expect(first.locator("#phs-flash")).to_contain_text("Saved")

    second.fill("#phs-field-title", "Title from the reviewer")
    second.locator('[data-action="save"]').click()
    conflict = second.locator("#phs-conflict")
    expect(conflict).to_contain_text("curator saved this file since you opened it")
    expect(conflict).to_contain_text("Title: — → “Title from the curator”, by curator")
    expect(conflict).to_contain_text("yours, “Title from the reviewer”, is kept")
    assert second.locator("#phs-field-title").input_value() == "Title from the reviewer"
    file.refresh_from_db()
    assert file.title == "Title from the curator"

    # Having seen it, the reviewer saves again on purpose.
    second.keyboard.press("Control+s")
    expect(second.locator("#phs-flash")).to_contain_text("Saved")
    file.refresh_from_db()
    assert file.title == "Title from the reviewer" and file.version == 2


def test_a_second_save_after_a_conflict_keeps_the_other_persons_change(
    new_page, live_server, demo_drives, curator, reviewer
):
    """A sets *discard*; B, who only typed a note, sees "Status: Keep offline → Discard,
    by curator" and saves again: A's discard stays, B's note is saved."""
    from workflow.services.review import save_decision

    file = file_named("P1000101.JPG")
    save_decision(file=file, user=curator, changes={"status": Status.KEEP_OFFLINE})
    first = new_page("curator")
    second = new_page("reviewer")
    for page in (first, second):
        open_curate(page, live_server, drive=file.drive_id, file=file.pk)
        expect(page.locator("#phs-meta")).to_have_attribute("data-version", "1")

    first.locator('input[name=status][value="discard"]').check(force=True)
    first.keyboard.press("Control+s")
    expect(first.locator("#phs-flash")).to_contain_text("Saved")

    second.fill("#phs-field-notes", "Check the audio")
    second.keyboard.press("Control+s")
    conflict = second.locator("#phs-conflict")
    expect(conflict).to_contain_text("Status: Keep offline → Discard, by curator")
    expect(conflict).not_to_contain_text("keep_offline")
    expect(conflict).not_to_contain_text("Notes")
    # Rebased: their status on screen, the note still typed in.
    expect(second.locator('input[name=status][value="discard"]')).to_be_checked()
    assert second.locator("#phs-field-notes").input_value() == "Check the audio"
    expect(
        second.locator(f'.phs-tree__file[data-id="{file.pk}"] .phs-dot--discard')
    ).to_be_visible()

    second.keyboard.press("Control+s")
    expect(second.locator("#phs-flash")).to_contain_text("Saved")
    file.refresh_from_db()
    assert (file.status, file.notes, file.version) == (Status.DISCARD, "Check the audio", 3)
    assert second.problems == [] and first.problems == []


def test_locked_file_is_read_only(new_page, live_server, demo_drives, curator, reviewer):
    from django.utils import timezone

    file = file_named("P1000101.JPG")
    FileEntry.objects.filter(pk=file.pk).update(
        locked=True, locked_by=reviewer, locked_at=timezone.now()
    )
    page = new_page("curator")
    open_curate(page, live_server, drive=file.drive_id, file=file.pk)
    expect(page.locator("#phs-lock")).to_contain_text("Locked by reviewer")
    expect(page.locator("#phs-field-title")).to_have_attribute("readonly", "")
    expect(page.locator('[data-action="save"]')).to_have_count(0)
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("2")
    page.keyboard.press("Control+s")
    expect(page.locator("#phs-flash")).to_contain_text("Locked by reviewer")
    file.refresh_from_db()
    assert file.status == Status.UNREVIEWED


def test_choosing_upload_for_a_tiny_file_warns_at_once(new_page, live_server, demo_drives, curator):
    """A curator presses 2 (upload) on a file of a few bytes: before any save, the form
    says pad.ma could never take it; choosing keep offline (4) takes the warning away."""
    file = file_named("P1000101.JPG")
    FileEntry.objects.filter(pk=file.pk).update(size=5, oshash="0000000000000005")
    page = new_page("curator")
    open_curate(page, live_server, drive=file.drive_id, file=file.pk)
    warning = page.locator("#phs-export-warning")
    expect(warning).to_be_hidden()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("2")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("under 8 bytes")
    page.keyboard.press("4")
    expect(warning).to_be_hidden()
    assert page.problems == []


def test_submit_then_a_reviewer_approves_and_rejects_with_keys(
    new_page, live_server, demo_drives, curator, reviewer
):
    first, second = file_named("P1000101.JPG"), file_named("P1000102.JPG")
    page = new_page("curator")
    open_curate(page, live_server, drive=first.drive_id, file=first.pk)
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("2")
    page.keyboard.press("s")  # unsaved decision: saved, then submitted
    expect(page.locator("#phs-flash")).to_have_text("Submitted for review.")
    expect(page.locator(".phs-tree__file--selected .phs-tree__mark")).to_have_text("in review")
    # Four eyes: no approve for the submitter, and the key says why.
    expect(page.locator('[data-action="approve"]')).to_have_count(0)
    page.keyboard.press("j")
    expect(page.locator("#phs-filename")).to_have_text("P1000102.JPG")
    page.keyboard.press("2")
    page.keyboard.press("s")
    expect(page.locator("#phs-flash")).to_have_text("Submitted for review.")

    review = new_page("reviewer")
    open_curate(review, live_server, drive=first.drive_id, file=first.pk)
    expect(review.locator('[data-action="approve"]')).to_be_visible()
    review.locator("body").click(position={"x": 5, "y": 5})
    review.keyboard.press("a")
    expect(review.locator("#phs-flash")).to_contain_text("Approved")
    first.refresh_from_db()
    assert first.review_state == ReviewState.APPROVED and first.live

    review.keyboard.press("j")
    expect(review.locator("#phs-filename")).to_have_text("P1000102.JPG")
    review.keyboard.press("r")
    expect(review.locator("#phs-reject")).to_be_visible()
    review.fill("#phs-reject-comment", "Blurred: pick the other take")
    review.click("#phs-reject-confirm")
    expect(review.locator("#phs-flash")).to_contain_text("Rejected")
    second.refresh_from_db()
    assert (second.status, second.review_state) == (Status.NEEDS_ATTENTION, ReviewState.REJECTED)

    open_curate(page, live_server, drive=second.drive_id, file=second.pk)
    expect(page.locator("#phs-rejected")).to_contain_text("Blurred: pick the other take")


def test_dark_mode_dashboard_and_screenshots(
    new_page, live_server, demo_drives, curator, screenshot_dir
):
    from wagtail.users.models import UserProfile

    from workflow.services.review import save_decision

    for name, status in [
        ("P1000101.JPG", Status.UPLOAD),
        ("README.txt", Status.KEEP_OFFLINE),
        ("shoot-notes.md", Status.DISCARD),
        ("room-tone.wav", Status.NEEDS_ATTENTION),
    ]:
        save_decision(file=file_named(name), user=curator, changes={"status": status})
    file = file_named("IMG_4821.JPG")
    page = new_page("curator")
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#phs-drive-progress-heading")).to_be_visible()
    assert page.locator(".phs-dash__bar rect[fill]").count() >= 5
    page.screenshot(path=str(screenshot_dir / "dashboard.png"), full_page=True)

    for theme in ("light", "dark"):
        profile = UserProfile.get_for_user(curator)
        profile.theme = theme
        profile.save()
        open_curate(page, live_server, drive=file.drive_id, file=file.pk)
        page.set_input_files("#phs-mount-input", str(demo_drives[DRIVE_A]))
        expect(page.locator("#phs-verify")).to_have_text("verified")
        expand(page, "Documents")
        assert f"w-theme-{theme}" in page.locator("html").get_attribute("class")
        background = page.locator(".phs-curate__tree").evaluate(
            "el => getComputedStyle(el).backgroundColor"
        )
        red, green, blue = (
            int(v) for v in background[background.index("(") + 1 : -1].split(",")[:3]
        )
        luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
        assert (luminance < 80) if theme == "dark" else (luminance > 180), background
        page.screenshot(path=str(screenshot_dir / f"curate-{theme}.png"))
    assert page.problems == []


def test_browser_oshash_matches_the_server(new_page, tmp_path, admin_user):
    sizes = [0, 5, 8, 13, 4096, 65535, 65536, 65537, 131072, 200_003]
    blobs = {size: os.urandom(size) for size in sizes}
    expected = {}
    for size, data in blobs.items():
        path = tmp_path / f"f{size}"
        path.write_bytes(data)
        expected[str(size)] = oshash(path)
    page = new_page("admin")
    got = page.evaluate(
        """async (blobs) => {
            const { oshash } = await import('/static/catalog/curate/oshash.js');
            const out = {};
            for (const [size, b64] of Object.entries(blobs)) {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                out[size] = await oshash(new Blob([bytes]));
            }
            return out;
        }""",
        {str(size): base64.b64encode(data).decode() for size, data in blobs.items()},
    )
    assert got == expected
