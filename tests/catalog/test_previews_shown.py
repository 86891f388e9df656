"""Offline previews where files are shown: the file listing, Find files, duplicate groups,
the reviewers' queue, the review dialog, the file editor and the Curate API. One
``preview_map`` query per page, lazy-loaded images with their size, placeholders with
their reason."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import FileEntry, Status
from catalog.previews.models import Preview
from catalog.previews.services import store_browser_preview
from catalog.services.duplicates import update_duplicates
from catalog.services.imports import import_manifest
from catalog.templatetags.phs_previews import fit, thumbnail_html
from tests.catalog.preview_media import jpeg_bytes, previews_storage  # noqa: F401
from tests.conftest import entry
from workflow.services import review

pytestmark = pytest.mark.django_db

FILES = "/admin/snippets/catalog/fileentry/"
FIND = "/admin/find/"
SAME = "abcdefabcdef0001"
RAW = "00000000000000aa"
REASON = "Pillow cannot read this RAW format"


def hashed(i: int) -> str:
    return f"{i + 1:016x}"


@pytest.fixture
def catalog(write_manifest, previews_storage):  # noqa: F811
    """40 photos (the first 30 with a thumbnail, 320 × 160), a RAW file with a placeholder,
    and two copies of one video with a poster and a strip."""
    entries = [entry(f"IMG_{i:04}.jpg", "2019/rehearsal", oshash=hashed(i)) for i in range(40)]
    entries += [
        entry("P1.RW2", "raw", file_type="image/x-panasonic-rw2", oshash=RAW),
        entry("HD.mp4", "PHS-Videos", file_type="video/mp4", oshash=SAME),
    ]
    import_manifest(write_manifest(entries), drive_name="Expansion")
    import_manifest(
        write_manifest([entry("HD.mp4", "copies", file_type="video/mp4", oshash=SAME)], "B.json"),
        drive_name="Backup",
    )
    update_duplicates()
    for i in range(30):
        store_browser_preview(oshash=hashed(i), kind="thumb", data=jpeg_bytes((320, 160)))
    store_browser_preview(oshash=SAME, kind="poster", data=jpeg_bytes((640, 360)))
    store_browser_preview(
        oshash=SAME,
        kind="strip",
        data=jpeg_bytes((2400, 135)),
        frame_times=[0.2 * n for n in range(10)],
    )
    # A scan that could not make a preview leaves its reason (no service makes one alone).
    Preview.objects.create(oshash=RAW, kind="placeholder", reason=REASON)


def login(client, user):
    client.force_login(user)
    return client


def preview_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "catalog_preview" in q["sql"]]


THUMB = re.compile(
    r'<img class="phs-thumb phs-thumb--thumb" src="/admin/previews/([0-9a-f]{16})/thumb/\?v=\w+" '
    r'width="64" height="32" alt="" loading="lazy" decoding="async">'
)


def test_thumbnails_fit_their_box_and_say_why_there_is_none():
    assert fit(320, 160, 64) == (64, 32)
    assert fit(160, 320, 64) == (32, 64)
    assert fit(40, 30, 64) == (40, 30)  # never enlarged
    assert "no preview" in thumbnail_html({}, "0123456789abcdef")
    assert "No oshash" in thumbnail_html({}, None)
    placeholder = thumbnail_html({RAW: {"placeholder": {"reason": "<b>odd</b>"}}}, RAW)
    assert "&lt;b&gt;odd&lt;/b&gt;" in placeholder and "<b>" not in placeholder


def test_the_file_listing_shows_lazy_thumbnails_read_in_one_query(client, catalog, curator):
    login(client, curator)
    client.get(FILES)  # warm caches
    with CaptureQueriesContext(connection) as queries:
        html = client.get(FILES).content.decode()
    shown = THUMB.findall(html)
    assert len(shown) == 25 and shown[0] == hashed(0)  # a page, in the listing's order
    assert len(preview_queries(queries)) == 1
    # The placeholder's reason and the video's poster on the page that has them.
    html = client.get(FILES + "?q=P1.RW2").content.decode()
    assert f'title="{REASON}">{REASON}</span>' in html
    html = client.get(FILES + "?q=HD.mp4").content.decode()
    assert f'class="phs-thumb phs-thumb--poster" src="/admin/previews/{SAME}/poster/' in html
    assert 'width="64" height="36"' in html


def test_the_listing_query_count_does_not_grow_with_previews(client, catalog, curator):
    login(client, curator)
    # Page 2: five thumbnails, ten without, two posters (the copies) and a placeholder.
    last_page = FILES + "?p=2"
    client.get(FILES)
    client.get(last_page)
    with CaptureQueriesContext(connection) as full:
        client.get(FILES)
    with CaptureQueriesContext(connection) as mixed:
        client.get(last_page)
    Preview.objects.all().delete()
    with CaptureQueriesContext(connection) as none:
        html = client.get(FILES).content.decode()
    assert html.count("phs-thumb--none") == 25
    # p=2 reads ids first, then the rows by id (IdFirstPaginator): one query more.
    assert len(full) == len(none) == len(mixed) - 1
    assert [len(preview_queries(q)) for q in (full, mixed, none)] == [1, 1, 1]


def test_find_files_shows_lazy_thumbnails_read_in_one_query(client, catalog, curator):
    login(client, curator)
    client.get(FIND + "?q=IMG")
    with CaptureQueriesContext(connection) as queries:
        html = client.get(FIND + "?q=IMG").content.decode()
    assert len(THUMB.findall(html)) == 30
    assert html.count("phs-thumb--none") == 10
    assert len(preview_queries(queries)) == 1


def test_a_duplicate_group_shows_its_one_preview(client, catalog, reviewer):
    login(client, reviewer)
    group = FileEntry.objects.filter(oshash=SAME).first().duplicate_group
    url = reverse("wagtailsnippets_catalog_duplicategroup:inspect", args=[group.pk])
    html = client.get(url).content.decode()
    assert html.count(f'src="/admin/previews/{SAME}/poster/') == 1
    assert 'width="480" height="270"' in html
    assert "all 2 copies share it" in html
    listing = client.get(reverse("wagtailsnippets_catalog_duplicategroup:list")).content.decode()
    assert f"/admin/previews/{SAME}/poster/" in listing


@pytest.fixture
def in_review(catalog, curator):
    files = list(FileEntry.objects.filter(path="2019/rehearsal").order_by("filename")[:3])
    files.append(FileEntry.objects.get(filename="P1.RW2"))
    for file in files:
        review.save_decision(file=file, user=curator, changes={"status": Status.UPLOAD})
        review.submit_for_review(file=FileEntry.objects.get(pk=file.pk), user=curator)
    return files


def test_the_reviewers_queue_shows_thumbnails(client, in_review, reviewer):
    login(client, reviewer)
    client.get("/admin/")
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/admin/").content.decode()
    queue = html.split('id="files-waiting-for-your-review-heading"', 1)[1]
    assert queue.count('class="phs-thumb phs-thumb--thumb"') == 3
    assert 'width="48" height="24"' in queue and REASON in queue
    assert len(preview_queries(queries)) == 1  # the reviewer has no files of their own


def test_the_review_dialog_and_the_editor_show_the_offline_preview(client, in_review, reviewer):
    login(client, reviewer)
    file = FileEntry.objects.get(pk=in_review[0].pk)
    task_state = file.current_workflow_state.current_task_state
    url = reverse(
        "wagtailsnippets_catalog_fileentry:workflow_action",
        args=[file.pk, "reject", task_state.pk],
    )
    dialog = client.get(url).json()["html"]
    assert f'src="/admin/previews/{file.oshash}/thumb/' in dialog
    assert 'width="320" height="160"' in dialog  # the largest there is, at its own size
    assert f"Offline preview of {file.location}" in dialog
    editor = client.get(f"{FILES}edit/{file.pk}/").content.decode()
    assert f'src="/admin/previews/{file.oshash}/thumb/' in editor
    assert "Offline preview" in editor


def test_the_curate_api_gives_the_previews_and_where_to_upload(client, catalog, curator):
    video = FileEntry.objects.get(filename="HD.mp4", drive__name="Expansion")
    login(client, curator)
    pane = client.get(f"/admin/curate/api/files/{video.pk}/").json()["file"]
    assert set(pane["previews"]) == {"poster", "strip"}
    strip = pane["previews"]["strip"]
    assert (strip["width"], strip["height"], strip["frames"]) == (2400, 135, 10)
    assert strip["url"].startswith(f"/admin/previews/{SAME}/strip/?v=")
    assert pane["preview_upload"]["thumb"] == f"/admin/previews/{SAME}/thumb/"
    assert set(pane["preview_upload"]) == {"thumb", "review", "poster", "strip"}
    raw = FileEntry.objects.get(filename="P1.RW2")
    pane = client.get(f"/admin/curate/api/files/{raw.pk}/").json()["file"]
    assert pane["previews"] == {"placeholder": {"reason": REASON}}


def test_a_files_inspect_page_shows_its_preview_and_strip(client, catalog, curator):
    video = FileEntry.objects.get(filename="HD.mp4", drive__name="Backup")
    login(client, curator)
    url = reverse("wagtailsnippets_catalog_fileentry:inspect", args=[video.pk])
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    assert f'class="phs-thumb phs-thumb--poster" src="/admin/previews/{SAME}/poster/' in html
    assert 'width="480" height="270"' in html
    assert f'class="phs-review-preview__strip" src="/admin/previews/{SAME}/strip/' in html
    assert "10 frames of the video, left to right" in html
    assert len(preview_queries(queries)) == 1
