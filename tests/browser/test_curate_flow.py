"""Curate's keyboard flow in a real browser (issue #19, points 2, 3, 4, 9c and 9e): Save &
Next across folders to the drive's end, Esc that keeps the text, discard with undo, keys
between fields, counts that move with every save, the decision form above the fold at
1280×720, and the dashboard's *needs attention* opening on those files."""

import itertools

import pytest
from playwright.sync_api import expect

from catalog.demo import DRIVE_A
from catalog.models import FileEntry, Status

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

#: Drive A in the order the tree shows it: subfolders by name first, then a folder's files.
TREE_ORDER = [
    ("2019/rehearsal/day-1", "P1000101.JPG"),
    ("2019/rehearsal/day-1", "P1000102.JPG"),
    ("2019/rehearsal/day-2", "IMG_4821.JPG"),
    ("2019/rehearsal/day-2", "रिहर्सल.jpg"),
    ("2019/street-theatre", "Café_Prithvi_poster.png"),
    ("Documents/notes", "README.txt"),
    ("Documents/notes", "shoot-notes.md"),
    ("Documents/press", "press-release-2019.pdf"),
    ("PHS-Audio/interview", "room-tone.wav"),
    ("PHS-Videos/stills", "P1000101.JPG"),
]


def file_at(path, filename):
    return FileEntry.objects.get(drive__name=DRIVE_A, path=path, filename=filename)


def open_curate(page, live_server, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    page.goto(f"{live_server.url}/admin/curate/{'?' + query if query else ''}")
    page.wait_for_selector("#phs-curate[data-state=ready]")


def leave_fields(page):
    page.locator("body").click(position={"x": 5, "y": 5})


def folder_row(page, path):
    return page.locator(f'.phs-tree__folder[data-path="{path}"]')


def test_save_and_next_walks_the_whole_drive_across_folders(
    new_page, live_server, demo_drives, curator
):
    """A curator presses 4 then Ctrl+Enter on every file: each press opens the next file in
    tree order, into the next folder when one ends, and the tree follows; only after the
    drive's last file does it say so."""
    first = file_at(*TREE_ORDER[0])
    page = new_page("curator")
    open_curate(page, live_server, drive=first.drive_id, file=first.pk)
    expect(page.locator("#phs-filename")).to_have_text("P1000101.JPG")
    leave_fields(page)
    for (path, filename), (next_path, next_name) in itertools.pairwise(TREE_ORDER):
        expect(page.locator("#phs-detail .phs-detail__path")).to_have_text(
            f"{DRIVE_A}:/{path}/{filename}"
        )
        page.keyboard.press("4")
        page.keyboard.press("Control+Enter")
        expect(page.locator("#phs-detail .phs-detail__path")).to_have_text(
            f"{DRIVE_A}:/{next_path}/{next_name}"
        )
        # The tree follows: the new file's folder is open and the file selected.
        expect(folder_row(page, next_path)).to_have_attribute("aria-expanded", "true")
        expect(page.locator(".phs-tree__file--selected")).to_contain_text(next_name)
    page.keyboard.press("4")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#phs-flash")).to_have_text(
        "Saved P1000101.JPG. That was the last file on this drive."
    )
    assert FileEntry.objects.filter(drive__name=DRIVE_A, status=Status.KEEP_OFFLINE).count() == 10

    # k and j cross folder boundaries too, without saving.
    page.keyboard.press("k")
    expect(page.locator("#phs-filename")).to_have_text("room-tone.wav")
    page.keyboard.press("j")
    expect(page.locator("#phs-detail .phs-detail__path")).to_have_text(
        f"{DRIVE_A}:/PHS-Videos/stills/P1000101.JPG"
    )
    page.keyboard.press("j")
    expect(page.locator("#phs-flash")).to_have_text("That was the last file on this drive.")
    assert page.problems == []


def test_u_finds_the_next_unreviewed_file_in_another_folder(
    new_page, live_server, demo_drives, curator
):
    from workflow.services.review import save_decision

    for path, filename in TREE_ORDER[1:6]:
        save_decision(file=file_at(path, filename), user=curator, changes={"status": "discard"})
    first = file_at(*TREE_ORDER[0])
    page = new_page("curator")
    open_curate(page, live_server, drive=first.drive_id, file=first.pk)
    leave_fields(page)
    page.keyboard.press("u")  # day-1's other file, day-2, street-theatre, notes are decided
    expect(page.locator("#phs-detail .phs-detail__path")).to_have_text(
        f"{DRIVE_A}:/Documents/notes/shoot-notes.md"
    )
    expect(folder_row(page, "Documents/notes")).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".phs-tree__file--selected")).to_contain_text("shoot-notes.md")


def test_escape_keeps_the_text_and_discarding_is_deliberate_with_undo(
    new_page, live_server, demo_drives, curator
):
    """Esc leaves the field with the typed text still there; Alt+N / Alt+T / Alt+↓ move
    between fields from inside one; d (or the button) discards, ⌘Z / Undo brings it back."""
    file = file_at(*TREE_ORDER[0])
    page = new_page("curator")
    open_curate(page, live_server, drive=file.drive_id, file=file.pk)
    leave_fields(page)
    page.keyboard.press("t")
    page.keyboard.type("Rehearsal, day one")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement === document.body")
    assert page.locator("#phs-field-title").input_value() == "Rehearsal, day one"
    expect(page.locator("#phs-dirty")).to_be_visible()

    # From inside a field: Alt+N to the notes, Alt+T back, Alt+↓ on to the project group.
    page.keyboard.press("t")
    page.keyboard.press("Alt+n")
    assert page.evaluate("document.activeElement.id") == "phs-field-notes"
    page.keyboard.type("Check the sound")
    page.keyboard.press("Alt+t")
    assert page.evaluate("document.activeElement.id") == "phs-field-title"
    page.keyboard.press("Alt+ArrowDown")
    assert page.evaluate("document.activeElement.id") == "phs-field-project_group"
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Alt+ArrowUp")
    assert page.evaluate("document.activeElement.id") == "phs-field-notes"
    assert page.locator("#phs-field-title").input_value() == "Rehearsal, day one"

    # d outside a field discards; the message offers Undo, and Ctrl+Z takes it.
    page.keyboard.press("Escape")
    page.keyboard.press("d")
    expect(page.locator("#phs-dirty")).to_be_hidden()
    assert page.locator("#phs-field-title").input_value() == ""
    expect(page.locator("#phs-flash")).to_contain_text("Edits discarded.")
    expect(page.locator("#phs-undo")).to_be_visible()
    page.keyboard.press("Control+z")
    assert page.locator("#phs-field-title").input_value() == "Rehearsal, day one"
    assert page.locator("#phs-field-notes").input_value() == "Check the sound"
    expect(page.locator("#phs-dirty")).to_be_visible()

    # The button does the same, and its Undo button too.
    page.locator('[data-action="discard"]').click()
    assert page.locator("#phs-field-notes").input_value() == ""
    expect(page.locator('[data-action="discard"]')).to_be_hidden()
    page.locator("#phs-undo").click()
    assert page.locator("#phs-field-notes").input_value() == "Check the sound"

    # Saved, with nothing lost on the way.
    page.keyboard.press("Control+s")
    expect(page.locator("#phs-flash")).to_contain_text("Saved P1000101.JPG")
    file.refresh_from_db()
    assert (file.title, file.notes) == ("Rehearsal, day one", "Check the sound")

    # The ? list names the new keys.
    leave_fields(page)
    page.keyboard.press("?")
    help_text = page.locator("#phs-help")
    for key in ("Alt+T", "Alt+N", "Alt+↓", "Esc", "Ctrl+Z"):
        expect(help_text).to_contain_text(key)
    expect(help_text).to_contain_text("what you typed stays")
    assert page.problems == []


def test_every_count_moves_with_each_save(new_page, live_server, demo_drives, curator):
    """The drive dropdown, the tree's summary and every folder on the way show the new
    reviewed/total after each save, without a reload."""
    file = file_at(*TREE_ORDER[0])
    page = new_page("curator")
    open_curate(page, live_server, drive=file.drive_id, file=file.pk)
    option = page.locator(f'#phs-drive option[value="{file.drive_id}"]')
    expect(option).to_have_text(f"{DRIVE_A} (0/10)")
    expect(page.locator(".phs-tree__summary")).to_have_text("0 / 10 files reviewed on this drive")
    leave_fields(page)
    page.keyboard.press("2")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#phs-filename")).to_have_text("P1000102.JPG")
    expect(option).to_have_text(f"{DRIVE_A} (1/10)")
    expect(page.locator(".phs-tree__summary")).to_have_text("1 / 10 files reviewed on this drive")
    for path, count in [
        ("2019", "1/5"),
        ("2019/rehearsal", "1/4"),
        ("2019/rehearsal/day-1", "1/2"),
    ]:
        expect(folder_row(page, path).locator("> .phs-tree__row .phs-tree__count")).to_have_text(
            count
        )
    page.keyboard.press("5")
    page.keyboard.press("Control+s")
    expect(option).to_have_text(f"{DRIVE_A} (2/10)")
    expect(
        folder_row(page, "2019/rehearsal/day-1").locator("> .phs-tree__row .phs-tree__count")
    ).to_have_text("2/2")
    # Back to unreviewed: the counts go down again.
    page.keyboard.press("1")
    page.keyboard.press("Control+s")
    expect(option).to_have_text(f"{DRIVE_A} (1/10)")
    expect(page.locator(".phs-tree__summary")).to_have_text("1 / 10 files reviewed on this drive")
    assert page.problems == []


def test_the_decision_form_is_in_view_at_1280_by_720(new_page, live_server, demo_drives, curator):
    """On a 1280×720 window, with a photo previewed from the mounted drive, the status
    buttons and Save are on screen without scrolling."""
    file = file_at(*TREE_ORDER[2])  # the larger photo
    page = new_page("curator")
    page.set_viewport_size({"width": 1280, "height": 720})
    open_curate(page, live_server, drive=file.drive_id, file=file.pk)
    page.set_input_files("#phs-mount-input", str(demo_drives[DRIVE_A]))
    expect(page.locator("#phs-preview img")).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
    for selector in (".phs-status-group", '[data-action="save"]', '[data-action="save-next"]'):
        box = page.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["y"] >= 0 and box["y"] + box["height"] <= 720, (selector, box)
    # Every status button, too.
    for status in Status.values:
        box = page.locator(f".phs-status-pill--{status}").bounding_box()
        assert box["y"] + box["height"] <= 720, (status, box)
    assert page.problems == []


def test_needs_attention_on_the_dashboard_opens_those_files(
    new_page, live_server, demo_drives, curator
):
    """Three files in three folders need attention: the dashboard's link opens Curate on
    the first of them, the tree counts them per folder, and j walks to the others."""
    from workflow.services.review import save_decision

    flagged = [TREE_ORDER[1], TREE_ORDER[5], TREE_ORDER[9]]
    for path, filename in flagged:
        save_decision(
            file=file_at(path, filename), user=curator, changes={"status": "needs_attention"}
        )
    page = new_page("curator")
    page.goto(f"{live_server.url}/admin/")
    link = page.locator(".phs-dash__attention")
    expect(link).to_have_text("3 need attention")
    link.click()
    page.wait_for_selector("#phs-curate[data-state=ready]")
    expect(page.locator("#phs-detail .phs-detail__path")).to_have_text(
        f"{DRIVE_A}:/2019/rehearsal/day-1/P1000102.JPG"
    )
    expect(page.locator('.phs-chip[data-filter="needs_attention"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator(".phs-tree__summary")).to_contain_text(
        "3 files need attention on this drive"
    )
    expect(folder_row(page, "Documents").locator("> .phs-tree__row .phs-tree__count")).to_have_text(
        "1 need attention"
    )
    # Only those files are listed where the tree is open.
    expect(folder_row(page, "2019/rehearsal/day-1").locator(".phs-tree__file")).to_have_count(1)
    leave_fields(page)
    page.keyboard.press("j")
    expect(page.locator("#phs-detail .phs-detail__path")).to_have_text(
        f"{DRIVE_A}:/Documents/notes/README.txt"
    )
    page.keyboard.press("j")
    expect(page.locator("#phs-detail .phs-detail__path")).to_have_text(
        f"{DRIVE_A}:/PHS-Videos/stills/P1000101.JPG"
    )
    page.keyboard.press("j")
    expect(page.locator("#phs-flash")).to_have_text(
        "That was the last file that needs attention on this drive."
    )
    # Settled: its folder's count drops at once.
    page.keyboard.press("2")
    page.keyboard.press("Control+s")
    expect(page.locator(".phs-tree__summary")).to_contain_text(
        "2 files need attention on this drive"
    )
    assert page.problems == []


def test_walking_from_an_empty_pane_and_past_the_start_with_a_chip_on(
    new_page, live_server, demo_drives, curator
):
    """With no file open, j opens the drive's first file and k there says it is the first;
    with *Unreviewed only* on, Save & Next goes to the next unreviewed file across
    folders, and turning the chip off keeps the open file."""
    from workflow.services.review import save_decision

    for path, filename in TREE_ORDER[1:5]:
        save_decision(file=file_at(path, filename), user=curator, changes={"status": "upload"})
    drive = file_at(*TREE_ORDER[0]).drive_id
    page = new_page("curator")
    open_curate(page, live_server, drive=drive)
    leave_fields(page)
    page.keyboard.press("j")
    expect(page.locator("#phs-detail .phs-detail__path")).to_have_text(
        f"{DRIVE_A}:/2019/rehearsal/day-1/P1000101.JPG"
    )
    page.keyboard.press("k")
    expect(page.locator("#phs-flash")).to_have_text("That is the first file on this drive.")

    page.locator('.phs-chip[data-filter="unreviewed"]').click()
    expect(page.locator(".phs-tree__summary")).to_contain_text("6 unreviewed files on this drive")
    leave_fields(page)
    page.keyboard.press("4")
    page.keyboard.press("Control+Enter")  # day-1's other file, day-2, street-theatre: decided
    expect(page.locator("#phs-detail .phs-detail__path")).to_have_text(
        f"{DRIVE_A}:/Documents/notes/README.txt"
    )
    expect(page.locator(".phs-tree__summary")).to_contain_text("5 unreviewed files on this drive")
    assert "filter=unreviewed" in page.url
    page.locator('.phs-chip[data-filter="unreviewed"]').click()
    expect(page.locator(".phs-tree__summary")).to_have_text("5 / 10 files reviewed on this drive")
    expect(page.locator("#phs-filename")).to_have_text("README.txt")
    expect(page.locator(".phs-tree__file--selected")).to_contain_text("README.txt")
    assert page.problems == []
