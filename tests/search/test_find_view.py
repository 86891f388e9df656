"""Find files in the admin: permissions, facets, sorting, select all, export, saved searches."""

import csv
import io
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Drive, FileEntry, ReviewState, Status
from search import finder
from search.finder import Search, estimate, facet_counts, find
from search.models import SavedSearch
from tests.conftest import entry
from workflow.services import bulk

from .conftest import SAME

pytestmark = pytest.mark.django_db

FIND = "/admin/find/"


@pytest.fixture
def decided(archive, curator):
    """A few curator decisions and an exported file, written as the services leave them."""
    two = FileEntry.objects.filter(filename__in=["IMG_0042.JPG", "IMG_1234.jpg"])
    bulk.set_status(two, status=Status.UPLOAD, user=curator)
    bulk.set_project_group(two, project_group=archive, user=curator)
    bulk.set_status(
        FileEntry.objects.filter(filename="old.mov"), status=Status.DISCARD, user=curator
    )
    FileEntry.objects.filter(filename="old.mov").update(padma_id="ABC", date="2011-01-05")
    assert set(
        FileEntry.objects.filter(status=Status.UPLOAD).values_list("review_state", flat=True)
    ) == {ReviewState.DECIDED}
    return archive


def total(client, query: str) -> int:
    response = client.get(f"{FIND}?{query}")
    assert response.status_code == 200
    return response.context["results"].total


def test_anonymous_gets_the_login_page(client, archive):
    for url in (FIND, f"{FIND}?q=img", f"{FIND}?q=img&export=csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("role", ["curator", "reviewer", "operator", "admin_user"])
def test_every_role_can_search(client, archive, role, request):
    client.force_login(request.getfixturevalue(role))
    assert total(client, "q=IMG") == 3


def test_users_without_file_permission_are_refused(client, archive, make_user):
    client.force_login(make_user("visitor"))
    assert client.get(FIND).status_code in (302, 403)  # Wagtail: no admin access at all
    from django.contrib.auth.models import Permission

    visitor = make_user("editor")
    visitor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(visitor)
    response = client.get(FIND)  # Wagtail turns PermissionDenied into "back to the dashboard"
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_page_shows_results_with_links(client, archive, curator):
    client.force_login(curator)
    response = client.get(f"{FIND}?q=0042")
    html = response.content.decode()
    target = FileEntry.objects.get(filename="IMG_0042.JPG")
    assert f"/admin/snippets/catalog/fileentry/edit/{target.pk}/" in html
    assert f"/admin/curate/?file={target.pk}" in html
    assert "1 file matches" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 9),
        ("drive={expansion}", 8),
        ("drive={expansion}&drive={backup}", 9),
        ("category=video", 2),
        ("category=document", 2),
        ("status=upload", 2),
        ("status=upload&status=discard", 3),
        ("review=decided", 2),
        ("review=", 7),
        ("project_group={group}", 2),
        ("project_group=none", 7),
        ("camera=Canon", 1),
        ("camera=", 3),
        ("year=2011", 1),
        ("year=none", 0),
        ("duplicate=yes", 2),
        ("duplicate=no", 7),
        ("exported=yes", 1),
        ("exported=no", 8),
        ("q=img&category=image&status=upload&drive={expansion}", 2),
        ("q=hd.1080&duplicate=yes&drive={backup}", 1),
        ("drive=nonsense&status=bogus&year=x", 9),  # invalid facets are ignored
    ],
)
def test_every_facet_filters(client, decided, curator, query, expected):
    client.force_login(curator)
    ids = {
        "expansion": Drive.objects.get(name="Expansion").pk,
        "backup": Drive.objects.get(name="Backup").pk,
        "group": decided.pk,
    }
    assert total(client, query.format(**ids)) == expected


def test_facet_counts_are_live(decided):
    results = find(Search.from_params({"q": "img"}))
    counts = {group.facet.key: {v.value: v.count for v in group.values} for group in results.facets}
    assert counts["status"] == {"upload": 2, "unreviewed": 1}
    assert counts["project_group"] == {str(decided.pk): 2, "none": 1}
    assert counts["camera"] == {"DC-S1 (Panasonic)": 2, "Nikon D750": 1}
    assert counts["review"] == {"decided": 2, "": 1}
    assert counts["category"] == {"image": 3}
    assert counts["duplicate"] == {"no": 3}
    assert counts["exported"] == {"no": 3}
    assert counts["year"] == {"2021": 3}
    assert sum(counts["drive"].values()) == results.total == 3
    labels = {v.label for group in results.facets for v in group.values}
    assert {"Expansion", "Khoj Residency", "Upload", "Decided, not submitted"} <= labels


def test_facet_link_toggles_the_value(decided):
    search = Search.from_params({"q": "img", "status": ["upload"]})
    status = next(g for g in find(search).facets if g.facet.key == "status")
    upload = next(v for v in status.values if v.value == "upload")
    assert upload.selected and parse_qs(upload.url_query) == {"q": ["img"]}


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        ("path", "HD.1080.mp4"),  # Backup drive first (lowest id? no: by drive id)
        ("-size", None),
        ("size", None),
        ("-date", None),
        ("date", "old.mov"),
    ],
)
def test_sorting(client, decided, curator, sort, first):
    client.force_login(curator)
    response = client.get(f"{FIND}?sort={sort}")
    files = response.context["results"].files
    assert len(files) == 9
    if sort == "-size":
        assert [f.size for f in files] == sorted((f.size for f in files), reverse=True)
    if sort == "size":
        assert [f.size for f in files] == sorted(f.size for f in files)
    if sort == "-date":
        assert files[-1].date is None or files[0].date >= files[-1].date
    if sort == "date":
        assert files[0].filename == first


def test_relevance_is_the_default_with_a_query(client, archive, curator):
    client.force_login(curator)
    response = client.get(f"{FIND}?q=rehearsal")
    assert response.context["search"].sort == "relevance"
    assert response.context["results"].files[0].filename == "rehearsal-notes.txt"


@pytest.mark.parametrize(
    "query", ['"', "*", ":", "NEAR", "'", "(", "-", "x" * 10_000, "%", "a" * 30000]
)
def test_bad_input_in_the_page(client, archive, curator, query):
    client.force_login(curator)
    response = client.get(FIND, {"q": query})
    assert response.status_code == 200


def test_paging(client, archive, curator, write_manifest):
    from catalog.services.imports import import_manifest

    import_manifest(
        write_manifest([entry(f"bulk_{i:03}.jpg", "many") for i in range(120)], "Many.json"),
        drive_name="Many",
    )
    client.force_login(curator)
    first = client.get(f"{FIND}?q=bulk_")
    assert first.context["results"].total == 120 and len(first.context["results"].files) == 50
    third = client.get(f"{FIND}?q=bulk_&p=3")
    assert len(third.context["results"].files) == 20
    assert client.get(f"{FIND}?q=bulk_&p=99").context["results"].files == []


def test_query_count_is_constant(client, archive, curator, write_manifest):
    from catalog.services.imports import import_manifest

    client.force_login(curator)
    url = f"{FIND}?q=img&sort=relevance&category=image"
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    import_manifest(
        write_manifest(
            [entry(f"IMG_{i:04}.jpg", f"more/{i % 7}", camera=f"Cam {i % 5}") for i in range(200)],
            "More.json",
        ),
        drive_name="More",
    )
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.context["results"].total == 203
    assert len(large) == len(small)
    # 9 for the admin page itself; the search: one statement for the total, the page's
    # ids and the facet columns, the page's files, the facet labels, the page's offline
    # previews (on PostgreSQL one more: ``SET LOCAL jit = off``).
    assert len(small) <= 14


def test_select_all_feeds_the_bulk_actions(client, decided, curator):
    client.force_login(curator)
    expansion = Drive.objects.get(name="Expansion")
    response = client.get(f"{FIND}?q=img&drive={expansion.pk}&category=image")
    actions = dict(response.context["select_all"])
    url = actions["Set status"]
    assert url.startswith("/admin/bulk/catalog/fileentry/set_status/?")
    # The bulk action rebuilds the same three files from ``next``.
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert confirm.context["count"] == 3
    done = client.post(url, {"status": Status.KEEP_OFFLINE})
    assert done.status_code == 302
    assert FileEntry.objects.filter(status=Status.KEEP_OFFLINE).count() == 3
    next_url = parse_qs(urlsplit(url).query)["next"][0]
    assert next_url.startswith("/admin/snippets/catalog/fileentry/?")


def test_select_all_offers_only_the_actions_this_person_may_use(client, decided, make_user):
    """Someone who may look at files but not change them can search, and is offered no
    bulk action that would then refuse them."""
    from django.contrib.auth.models import Permission

    looker = make_user("looker")
    looker.user_permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_fileentry"),
    )
    client.force_login(looker)
    response = client.get(f"{FIND}?q=img")
    assert response.status_code == 200
    assert response.context["results"].total > 0
    assert response.context["select_all"] == []


def test_select_all_with_a_year_and_statuses(client, decided, curator):
    client.force_login(curator)
    response = client.get(f"{FIND}?year=2021&status=upload&status=unreviewed&q=img")
    url = dict(response.context["select_all"])["Set status"]
    assert client.get(url).context["count"] == 3


def test_select_all_is_withheld_when_the_listing_cannot_replay_it(client, decided, curator):
    client.force_login(curator)
    # The listing takes one category; "On pad.ma" (exported) it now takes too.
    response = client.get(f"{FIND}?category=image&category=video&q=img")
    assert response.context["results"].total
    assert response.context["select_all"] is None
    assert response.context["select_all_unavailable"]


def test_export_csv_and_xlsx(client, decided, curator):
    client.force_login(curator)
    response = client.get(f"{FIND}?q=img&status=upload&export=csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Drive", "Path", "Filename"]
    assert sorted(r[2] for r in rows[1:]) == ["IMG_0042.JPG", "IMG_1234.jpg"]
    assert {r[10] for r in rows[1:]} == {"Khoj Residency"}
    response = client.get(f"{FIND}?q={SAME[:6]}&export=xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    assert sheet.max_row == 3  # heading + both copies


def test_saved_searches(client, decided, curator, reviewer):
    client.force_login(curator)
    response = client.post(
        f"{FIND}save/?q=img&status=upload&sort=-size", {"name": "Uploads, big first"}
    )
    assert response.status_code == 302
    saved = SavedSearch.objects.get(user=curator)
    assert parse_qs(saved.query_string) == {"q": ["img"], "status": ["upload"], "sort": ["-size"]}
    page = client.get(FIND)
    assert "Uploads, big first" in page.content.decode()  # the menu and the page list it
    again = client.get(f"{FIND}?{saved.query_string}")
    assert again.context["results"].total == 2
    # Same name again replaces the query; names are per user.
    client.post(f"{FIND}save/?q=old", {"name": "Uploads, big first"})
    assert SavedSearch.objects.get(user=curator).query_string == "q=old"
    client.force_login(reviewer)
    assert client.get(FIND).context["saved_searches"] == []
    assert client.post(f"{FIND}saved/{saved.pk}/delete/").status_code == 404
    client.force_login(curator)
    client.post(f"{FIND}saved/{saved.pk}/delete/")
    assert not SavedSearch.objects.exists()


def test_saving_needs_a_name(client, archive, curator):
    client.force_login(curator)
    client.post(f"{FIND}save/?q=img", {"name": ""})
    assert not SavedSearch.objects.exists()


def test_menu_has_find_files(client, archive, curator):
    client.force_login(curator)
    html = client.get("/admin/").content.decode()
    assert "Find files" in html and "New search" in html


@pytest.fixture
def many(archive, write_manifest):
    """120 more files on a third drive; the exact limit lowered to 20 and the sample to 40."""
    from catalog.services.imports import import_manifest

    import_manifest(
        write_manifest(
            [entry(f"bulk_{i:03}.jpg", f"many/{i % 3}", camera=f"Cam {i % 2}") for i in range(120)],
            "Many.json",
        ),
        drive_name="Many",
    )
    return Drive.objects.get(name="Many")


def counts_of(results) -> dict[str, dict[str, tuple[int, bool]]]:
    return {
        group.facet.key: {v.value: (v.count, v.approximate) for v in group.values}
        for group in results.facets
    }


def test_broad_results_count_facets_from_a_sample(client, many, curator, monkeypatch):
    monkeypatch.setattr(finder, "EXACT_LIMIT", 20)
    monkeypatch.setattr(finder, "SAMPLE_SIZE", 40)
    results = find(Search.from_params({"q": "bulk_"}))
    assert results.total == 120  # the total stays exact
    assert 20 < results.sampled < 100
    drive = counts_of(results)["drive"]
    (count, approximate) = drive[str(many.pk)]
    assert approximate and 60 <= count <= 240
    cameras = counts_of(results)["camera"]
    assert set(cameras) == {"Cam 0", "Cam 1"} and all(a for _, a in cameras.values())
    # The page is exact: every match is a name hit, so by id.
    ids = list(FileEntry.objects.filter(drive=many).order_by("pk").values_list("pk", flat=True))
    assert [f.pk for f in results.files] == ids[:50]
    # The page says the counts are estimates.
    client.force_login(curator)
    html = client.get(f"{FIND}?q=bulk_").content.decode()
    assert "≈" in html and "estimates from an evenly spread sample" in html
    assert 'data-total="120"' in html


def test_small_results_count_facets_exactly(many, monkeypatch):
    monkeypatch.setattr(finder, "EXACT_LIMIT", 20)
    monkeypatch.setattr(finder, "SAMPLE_SIZE", 40)
    results = find(Search.from_params({"q": "bulk_01"}))  # bulk_010 … bulk_019
    assert results.total == 10 and results.sampled == 0
    assert counts_of(results)["drive"] == {str(many.pk): (10, False)}
    assert counts_of(results)["camera"] == {"Cam 0": (5, False), "Cam 1": (5, False)}


def test_facets_alone_count_from_a_sample_above_the_limit(many, monkeypatch):
    monkeypatch.setattr(finder, "EXACT_LIMIT", 20)
    monkeypatch.setattr(finder, "SAMPLE_SIZE", 40)
    results = find(Search.from_params({"drive": [str(many.pk)]}))
    assert results.total == 120 and results.sampled
    assert all(approximate for _, approximate in counts_of(results)["camera"].values())
    with_query = find(Search.from_params({"q": "bulk_", "drive": [str(many.pk)]}))
    assert with_query.total == 120 and with_query.sampled
    exact = find(Search.from_params({"q": "bulk_", "drive": [str(many.pk)], "camera": ["Cam 0"]}))
    assert exact.total == 60 and exact.sampled  # 60 > 20: still estimated


@pytest.mark.parametrize(
    "query",
    [
        *("img", "rehearsal", "hd.1080", "2019/rehearsal", "day-1/img", "phs img", "bulk_0"),
        *("cam", "canon", "nikon img"),  # words (cameras): looked up with the facet tokens
    ],
)
def test_drive_and_type_narrow_the_matches_inside_the_index(many, query):
    """Drive and type are applied to the index rows (whichever side the engine starts
    from): the same files as the engine's plain match, filtered in the catalog."""
    from search.listing import search_files

    for drive in Drive.objects.all():
        for category in (None, "image", "video"):
            files = FileEntry.objects.filter(drive=drive)
            params = {"q": query, "drive": [str(drive.pk)]}
            if category:
                files, params["category"] = files.filter(category=category), [category]
            expected = set(search_files(files, query).values_list("pk", flat=True))
            results = find(Search.from_params(params))
            assert results.total == len(expected), (drive.name, category)
            assert {f.pk for f in results.files} <= expected


def test_text_that_spells_a_facet_token_matches_only_its_own_drive(archive, curator):
    """PostgreSQL's words index holds a token per row for its drive and type (``~d<id>``,
    ``~c<type>``), which a text can spell too: the facets are still checked on the row."""
    from workflow.services.review import save_decision

    backup = Drive.objects.get(name="Backup")
    image = FileEntry.objects.get(filename="IMG_9999.jpg")  # on Expansion
    save_decision(
        file=image, user=curator, changes={"title": f"Stagecraft a~d{backup.pk} a~cvideo"}
    )
    assert find(Search.from_params({"q": "stagecraft"})).total == 1
    for params in (
        {"drive": [str(backup.pk)]},
        {"category": ["video"]},
        {"drive": [str(backup.pk)], "category": ["video"]},
    ):
        results = find(Search.from_params({"q": "stagecraft", **params}))
        assert results.total == 0 and results.files == [], params
    for word in (f"a~d{backup.pk}", "~cvideo"):  # typed, they are plain text again
        assert find(Search.from_params({"q": word})).total == 1, word


def test_estimates_keep_two_significant_figures():
    assert estimate(37, 1.0) == 37
    assert estimate(1234, 1.0) == 1234
    assert estimate(617, 2.0) == 1200
    assert estimate(3, 10.0) == 30
    assert estimate(1, 1.5) == 2


def test_the_sample_is_spread_evenly_over_the_ids():
    # What ``sample_sql`` selects, in Python: every block of 10,000 consecutive ids
    # (one drive's import, say) gives its share.
    threshold = finder.sample_threshold(100_000)  # about SAMPLE_SIZE of 100,000
    share = 10_000 * threshold / finder.SAMPLE_MODULUS
    for start in range(1, 100_001, 10_000):
        chosen = sum(
            ((i * 40503) & (finder.SAMPLE_MODULUS - 1)) < threshold
            for i in range(start, start + 10_000)
        )
        assert abs(chosen - share) <= 0.05 * share


def test_whole_catalog_counts_are_cached(archive):
    from django.core.cache import cache

    cache.clear()
    results = find(Search())
    assert results.total == 9
    with CaptureQueriesContext(connection) as queries:
        find(Search())
    assert not any("UNION ALL" in q["sql"] for q in queries.captured_queries)
    assert facet_counts(FileEntry.objects.none()) == {
        key: {} for key in facet_counts(FileEntry.objects.none())
    }


def test_the_dashboards_search_box_finds_files_not_pages(client, curator):
    """The site has no pages: Wagtail's "Search all pages…" box now asks Find files."""
    import re

    client.force_login(curator)
    html = client.get("/admin/").content.decode()
    forms = re.findall(r'<form[^>]*role="search"[^>]*>', html)
    assert len(forms) == 1 and f'action="{FIND}"' in forms[0]
    assert 'name="q"' in html and "Search all pages" not in html
    assert client.get(FIND, {"q": "anything"}).status_code == 200
