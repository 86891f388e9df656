"""What came back to curators, in a real browser: a reviewer's rejection on the
dashboard and in the editor, bulk messages with true reasons, and only the bulk actions
a curator may use."""

import pytest
from playwright.sync_api import expect

from catalog.demo import DRIVE_A
from catalog.models import FileEntry, ReviewState, Status
from workflow.services import bulk, review

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DAY1 = "2019/rehearsal/day-1"
FILES = "/admin/snippets/catalog/fileentry/"


def day1(filename):
    return FileEntry.objects.get(drive__name=DRIVE_A, path=DAY1, filename=filename)


def submitted(curator, *names):
    files = FileEntry.objects.filter(drive__name=DRIVE_A, path=DAY1, filename__in=names)
    bulk.set_status(files, status=Status.UPLOAD, user=curator)
    assert bulk.submit(files, user=curator).changed == len(names)
    return files


def test_a_curator_finds_a_rejection_on_the_dashboard_and_opens_it_in_curate_and_the_editor(
    new_page, live_server, demo_drives, curator, reviewer, screenshot_dir
):
    reviewer.first_name, reviewer.last_name = "Rita", "Rao"
    reviewer.save()
    submitted(curator, "P1000101.JPG", "P1000102.JPG")
    sent_back = day1("P1000102.JPG")
    review.reject(file=sent_back, user=reviewer, comment="Blurred: pick the other take")

    page = new_page("curator")
    panel = page.locator("section", has=page.locator("#phs-sent-back-heading"))
    expect(panel.locator(".w-status")).to_have_text("1")
    item = panel.locator(".phs-dash__return")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(f"{DRIVE_A}:/{DAY1}/P1000102.JPG")
    expect(item).to_contain_text("sent back by Rita Rao")
    expect(item.locator(".phs-dash__comment")).to_have_text("Blurred: pick the other take")
    # The other file is still in review, counted where it was.
    expect(page.locator("h2", has_text="Your files in review").locator(".w-status")).to_have_text(
        "1"
    )
    page.screenshot(path=str(screenshot_dir / "dashboard-sent-back.png"), full_page=True)

    item.locator("a").click()
    page.wait_for_selector("#phs-curate[data-state=ready]")
    expect(page.locator("#phs-filename")).to_have_text("P1000102.JPG")
    expect(page.locator("#phs-rejected")).to_contain_text("Blurred: pick the other take")

    page.goto(f"{live_server.url}{FILES}edit/{sent_back.pk}/")
    note = page.locator("[data-phs-review-comment]")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Sent back to you by Rita Rao")
    expect(note).to_contain_text("Blurred: pick the other take")
    menu = page.locator(".w-dropdown-button")
    expect(menu.locator("button.action-save")).to_have_text("Save decision")
    expect(page.get_by_text("Save draft")).to_have_count(0)
    menu.get_by_role("button", name="More actions").click()
    expect(page.get_by_role("button", name="Resubmit for review")).to_be_visible()
    assert page.problems == []
    # Leave the editor now: its editing session is released as the page goes, and that
    # request must not reach the server while the test's database is being flushed.
    page.goto(f"{live_server.url}/admin/")
    released(page)


def test_a_curator_with_nothing_sent_back_sees_an_empty_panel(
    new_page, live_server, demo_drives, curator
):
    page = new_page("curator")
    panel = page.locator("section", has=page.locator("#phs-sent-back-heading"))
    expect(panel).to_contain_text("Nothing has been sent back to you.")
    expect(panel.locator(".w-status")).to_have_text("0")


def released(page, seconds=10):
    """Wait until the editor's session is released (a beacon the page sends as it goes)."""
    from wagtail.admin.models import EditingSession

    for _ in range(seconds * 10):
        if not EditingSession.objects.exists():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the editor's editing session was never released")


def select_in_listing(page, live_server, *files):
    page.goto(f"{live_server.url}{FILES}?q={DAY1.replace('/', '%2F')}")
    for file in files:
        page.locator(f'input[data-bulk-action-checkbox][data-object-id="{file.pk}"]').check()
    footer = page.locator("[data-bulk-action-footer]")
    expect(footer).to_be_visible()
    return footer


def test_submitting_a_file_already_in_review_says_so(new_page, live_server, demo_drives, curator):
    submitted(curator, "P1000101.JPG")
    decided = day1("P1000102.JPG")
    review.save_decision(file=decided, user=curator, changes={"status": Status.UPLOAD})
    page = new_page("curator")

    footer = select_in_listing(page, live_server, day1("P1000101.JPG"), decided)
    footer.locator("[data-bulk-action-button]", has_text="Submit for review").click()
    page.get_by_role("button", name="Yes, do it").click()

    message = page.locator(".messages")
    expect(message).to_contain_text(
        "Submit for review: 1 submitted; 1 skipped (already in review)."
    )
    expect(message).not_to_contain_text("not decided for upload")
    decided.refresh_from_db()
    assert decided.review_state == ReviewState.IN_REVIEW


def test_a_reviewer_approving_a_mixed_selection_reads_each_reason(
    new_page, live_server, demo_drives, curator, reviewer
):
    submitted(curator, "P1000101.JPG", "P1000102.JPG")
    review.reject(file=day1("P1000102.JPG"), user=reviewer, comment="Dark")
    page = new_page("reviewer")

    footer = select_in_listing(page, live_server, day1("P1000101.JPG"), day1("P1000102.JPG"))
    footer.locator("[data-bulk-action-button]", has_text="Approve").click()
    page.get_by_role("button", name="Yes, do it").click()

    expect(page.locator(".messages")).to_contain_text(
        "Approve: 1 approved; 1 skipped (sent back to its curator)."
    )


def test_a_curator_is_not_offered_bulk_actions_that_would_refuse_them(
    new_page, live_server, demo_drives, curator, reviewer
):
    page = new_page("curator")
    footer = select_in_listing(page, live_server, day1("P1000101.JPG"))
    buttons = footer.locator("[data-bulk-action-button]")
    expect(buttons).to_have_text(["Set status", "Set project group", "Submit for review"])
    expect(footer.get_by_text("Delete")).to_have_count(0)
    expect(footer.get_by_text("More")).to_have_count(0)

    page.goto(f"{live_server.url}/admin/snippets/catalog/duplicategroup/")
    page.locator("input[data-bulk-action-checkbox]").first.check()
    expect(page.locator("[data-bulk-action-footer] [data-bulk-action-button]")).to_have_count(0)

    other = new_page("reviewer")
    footer = select_in_listing(other, live_server, day1("P1000101.JPG"))
    expect(footer.locator("[data-bulk-action-button]")).to_contain_text(
        ["Set status", "Set project group", "Submit for review", "Approve"]
    )
    expect(footer.get_by_text("Delete")).to_have_count(0)
