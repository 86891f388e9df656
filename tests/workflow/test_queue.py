"""The reviewer's queue stays a constant number of queries however many files wait."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import FileEntry, Status
from catalog.services.imports import import_manifest
from tests.conftest import entry
from workflow.services import bulk

pytestmark = pytest.mark.django_db


def in_review(write_manifest, curator, n, name):
    import_manifest(
        write_manifest([entry(f"{name}{i}.jpg", name) for i in range(n)], f"{name}.json"),
        drive_name=name,
    )
    files = FileEntry.objects.filter(drive__name=name)
    bulk.set_status(files, status=Status.UPLOAD, user=curator)
    bulk.submit(files, user=curator)


@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/snippets/catalog/fileentry/?review_state=in_review"]
)
def test_queue_queries_do_not_grow(client, write_manifest, curator, reviewer, url):
    client.force_login(reviewer)
    in_review(write_manifest, curator, 5, "small")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    in_review(write_manifest, curator, 300, "large")
    client.get(url)  # the import dropped the cached camera list; refill it once
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
        assert response.status_code == 200
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_dashboard_shows_the_queue_but_not_your_own(client, write_manifest, curator, reviewer):
    in_review(write_manifest, curator, 12, "mine")
    client.force_login(reviewer)
    html = client.get("/admin/").content.decode()
    assert "Files waiting for your review" in html
    assert "Open all 12 in the file list" in html
    client.force_login(curator)
    html = client.get("/admin/").content.decode()
    assert "Files waiting for your review" not in html  # curators do not review
    assert "Your files in review" in html and "Open all 12" in html


def test_the_queue_warns_beside_a_file_pad_ma_could_not_tell_apart(
    client, write_manifest, curator, reviewer
):
    entries = [
        entry("empty.txt", "notes", size_exif=0, oshash="0000000000000000"),
        entry("three.txt", "notes", size_exif=3, oshash="0000000000000003"),
        entry("photo.jpg", "notes"),
    ]
    import_manifest(write_manifest(entries, "notes.json"), drive_name="notes")
    files = FileEntry.objects.filter(drive__name="notes")
    bulk.set_status(files, status=Status.UPLOAD, user=curator)
    bulk.submit(files, user=curator)
    client.force_login(reviewer)

    html = client.get("/admin/").content.decode()

    items = re.findall(r"<li>(.*?)</li>", html[html.index("Files waiting for your review") :], re.S)
    text = {re.search(r"notes:/notes/([\w.]+)", item)[1]: item for item in items[:3]}
    assert "this one is 0 bytes" in text["empty.txt"]
    assert "this one is 3 bytes" in text["three.txt"]
    assert "Not sent to pad.ma: files under 8 bytes" in text["three.txt"]
    assert "Not sent to pad.ma" not in text["photo.jpg"]
