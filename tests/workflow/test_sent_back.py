"""What came back to a curator: the dashboard's *Sent back to you* panel and the file
editor of a sent-back file (the reviewer's comment, buttons in the catalogue's words)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import FileEntry, Status
from catalog.services.imports import import_manifest
from phs_site.ui.dashboard.feedback import sent_back_to
from tests.conftest import entry
from workflow.services import bulk, review

pytestmark = pytest.mark.django_db


def submitted(write_manifest, curator, n, name):
    import_manifest(
        write_manifest([entry(f"{name}{i}.jpg", name) for i in range(n)], f"{name}.json"),
        drive_name=name,
    )
    files = FileEntry.objects.filter(drive__name=name)
    bulk.set_status(files, status=Status.UPLOAD, user=curator)
    bulk.submit(files, user=curator)
    return files.order_by("pk")


def test_a_rejection_shows_on_the_curators_dashboard_with_reviewer_and_comment(
    client, write_manifest, curator, reviewer
):
    reviewer.first_name, reviewer.last_name = "Rita", "Reviewer"
    reviewer.save()
    files = submitted(write_manifest, curator, 3, "tapes")
    first = files[0]
    review.reject(file=first, user=reviewer, comment="Wrong year: this is 2018.")
    client.force_login(curator)

    html = client.get("/admin/").content.decode()

    panel = html[html.index('id="phs-sent-back-heading"') :]
    panel = panel[: panel.index("</section>")]
    assert '<span class="w-status">1</span>' in panel
    assert "tapes:/tapes/tapes0.jpg" in panel
    assert "sent back by Rita Reviewer" in panel
    assert "Wrong year: this is 2018." in panel
    assert f"/admin/curate/?drive={first.drive_id}&amp;file={first.pk}" in panel
    # The other two are still in review, not sent back.
    assert "tapes1.jpg" not in panel


def test_the_panel_is_empty_for_someone_else_and_after_the_curator_decides_again(
    client, write_manifest, curator, reviewer, make_user
):
    other = make_user("other", "Curators")
    files = submitted(write_manifest, curator, 1, "one")
    review.reject(file=files[0], user=reviewer, comment="Blurred.")
    client.force_login(other)
    html = client.get("/admin/").content.decode()
    assert "Sent back to you" in html and "Nothing has been sent back to you." in html

    file = FileEntry.objects.get(pk=files[0].pk)
    review.save_decision(file=file, user=curator, changes={"status": Status.UPLOAD})
    assert sent_back_to(curator) == ([], 0)


def test_a_bulk_rejection_is_listed_newest_first_in_one_query(write_manifest, curator, reviewer):
    files = submitted(write_manifest, curator, 30, "many")
    bulk.reject(files.filter(filename__in=["many0.jpg", "many1.jpg"]), user=reviewer, comment="A")
    bulk.reject(files, user=reviewer, comment="B: the rest")
    with CaptureQueriesContext(connection) as queries:
        rows, total = sent_back_to(curator, limit=5)
        reviewers = {row.reviewer_username for row in rows}
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    assert total == 30 and len(rows) == 5
    assert reviewers == {"reviewer"}
    assert {row.review_comment for row in rows} == {"B: the rest"}  # the newest first


def test_the_dashboard_queries_do_not_grow_with_files_sent_back(
    client, write_manifest, curator, reviewer
):
    client.force_login(curator)
    bulk.reject(submitted(write_manifest, curator, 3, "few"), user=reviewer, comment="x")
    client.get("/admin/")
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/")
    bulk.reject(submitted(write_manifest, curator, 200, "lots"), user=reviewer, comment="y")
    client.get("/admin/")
    with CaptureQueriesContext(connection) as many:
        html = client.get("/admin/").content.decode()
    assert re.search(r"Sent back to you <span class=\"w-status\">203</span>", html)
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_the_editor_of_a_sent_back_file_shows_the_comment_and_our_buttons(
    client, write_manifest, curator, reviewer
):
    file = submitted(write_manifest, curator, 1, "ed")[0]
    review.reject(file=file, user=reviewer, comment="Crop the black border.")
    client.force_login(curator)

    html = client.get(f"/admin/snippets/catalog/fileentry/edit/{file.pk}/").content.decode()

    note = html[html.index("data-phs-review-comment") :]
    note = note[: note.index("</div>")]
    assert "Sent back to you by reviewer" in note and "Crop the black border." in note
    assert "Save decision" in html and "Save draft" not in html
    assert "Resubmit for review" in html and "Resubmit to" not in html


def test_an_undecided_file_has_no_comment_and_says_save_decision(client, write_manifest, curator):
    import_manifest(write_manifest([entry("a.jpg")], "plain.json"), drive_name="plain")
    file = FileEntry.objects.get(drive__name="plain")
    client.force_login(curator)

    html = client.get(f"/admin/snippets/catalog/fileentry/edit/{file.pk}/").content.decode()

    assert "data-phs-review-comment" not in html and "Sent back by the reviewer" not in html
    assert "Save decision" in html and "Save draft" not in html
