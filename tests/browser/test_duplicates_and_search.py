"""Issue #19, points 5 and 7, in a real browser on the demo drives: duplicate groups say
what chose their primary and a reviewer settles conflicting decisions from the
dashboard in one click; Find files folds accents, and its own example finds files."""

import re

import pytest
from playwright.sync_api import expect

from catalog.demo import DRIVE_A, DRIVE_B
from catalog.models import DuplicateGroup, FileEntry, Status
from workflow.models import ExportRequest
from workflow.services import bulk, review

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def still(drive, path) -> FileEntry:
    return FileEntry.objects.get(drive__name=drive, path=path, filename="P1000101.JPG")


@pytest.fixture
def conflicting_still(demo_drives, curator, reviewer):
    """The demo still P1000101.JPG has three copies; as in the issue, the curator decides
    the primary *discard* and the two spares *upload*, which a reviewer approves."""
    primary = still(DRIVE_A, "2019/rehearsal/day-1")
    spares = [still(DRIVE_A, "PHS-Videos/stills"), still(DRIVE_B, "Backup_2019/rehearsal/day-1")]
    assert primary.is_primary
    for spare in spares:
        review.save_decision(file=spare, user=curator, changes={"status": Status.UPLOAD})
    chosen = FileEntry.objects.filter(pk__in=[s.pk for s in spares])
    assert bulk.submit(chosen, user=curator).changed == 2
    assert bulk.approve(chosen, user=reviewer).changed == 2
    review.save_decision(file=primary, user=curator, changes={"status": Status.DISCARD})
    assert DuplicateGroup.objects.get(primary=primary).has_conflict
    return primary, spares


def test_reviewer_follows_the_dashboards_conflict_count_and_settles_it_in_one_click(
    new_page, live_server, conflicting_still
):
    primary, (_, backup_copy) = conflicting_still
    page = new_page("reviewer")

    # The dashboard's figure is a link to the conflicting groups, and only to them.
    page.get_by_role("link", name="1 with conflicting decisions").click()
    expect(page).to_have_url(re.compile(r"/admin/snippets/catalog/duplicategroup/\?conflict=yes"))
    rows = page.locator("table.listing tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Conflicting")
    # The rule that chose the primary, not "Automatic: largest copy": the copies are the
    # same size, on the same drive, and 2019/… comes before PHS-Videos/….
    expect(rows.first).to_contain_text("Automatic: same size and drive, first by folder path")

    page.goto(
        f"{live_server.url}/admin/snippets/catalog/duplicategroup/inspect/{primary.duplicate_group_id}/"
    )
    expect(page.locator(".phs-primary-reason")).to_have_text(
        "Why this primary: Automatic: same size and drive, first by folder path."
    )
    expect(page.locator(".phs-conflict")).to_contain_text("Conflicting decisions.")
    backup_row = page.locator("table.phs-copies tr", has_text=DRIVE_B)
    expect(backup_row).to_contain_text("Upload")
    expect(page.locator("tr.phs-copies__primary")).to_contain_text("Discard")

    backup_row.get_by_role("button", name="Make primary, apply “Upload” to all copies").click()

    expect(page.locator(".messages")).to_contain_text(
        f"{backup_copy.location} is now the primary copy; 1 other copy now Upload."
    )
    expect(page.locator(".phs-conflict")).to_have_count(0)
    expect(page.locator("tr.phs-copies__primary")).to_contain_text(DRIVE_B)
    expect(page.locator(".phs-primary-reason")).to_contain_text(
        "Why this primary: Chosen by reviewer on "
    )
    for row in page.locator("table.phs-copies tbody tr").all():
        expect(row).to_contain_text("Upload")
    # The approved copy, now the primary, went to the export that the conflict held back.
    assert list(ExportRequest.objects.values_list("file_id", flat=True)) == [backup_copy.pk]

    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#phs-duplicates-heading")).to_be_visible()
    expect(page.get_by_text("with conflicting decisions")).to_have_count(0)
    assert not page.problems


def test_curator_finds_cafe_without_its_accent_and_the_boxs_own_example_works(
    new_page, live_server, demo_drives, curator
):
    page = new_page("curator")
    page.goto(f"{live_server.url}/admin/find/")
    box = page.locator("#phs-find-q")

    def search(text):
        box.fill(text)
        box.press("Enter")
        expect(page.locator("[data-total]")).to_be_visible()
        return page.locator("table.phs-find-table tbody tr")

    rows = search("cafe")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Café_Prithvi_poster.png")
    expect(search("CAFÉ")).to_have_count(1)
    expect(search("ete notes").first).to_contain_text("Atelier_été_notes.md")
    # Devanagari matches as typed, as before.
    expect(search("रिहर्सल").first).to_contain_text("रिहर्सल.jpg")

    # Every example the search box offers finds something in the demo.
    placeholder = box.get_attribute("placeholder")
    examples = re.search(r"\(([^)]*)\)", placeholder).group(1).split(", ")
    assert examples and "rehearsal/2019" not in examples
    for example in examples:
        rows = search(example)
        expect(rows.first).to_be_visible()
        assert int(page.locator("[data-total]").get_attribute("data-total")) > 0, example
    assert not page.problems
