"""The Curate view's JSON API: permissions, CSRF, bad input, conflicts, locks, review
actions, next-unreviewed, pagination and constant query counts."""

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Drive, FileEntry, ProjectGroup, ReviewState, Status
from catalog.services.duplicates import update_duplicates
from catalog.services.folders import recount_folders
from catalog.services.imports import import_manifest
from phs_site.ui.curate.api import MAX_TEXT
from phs_site.ui.curate.views import preview_policy
from tests.conftest import entry

pytestmark = pytest.mark.django_db

XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
DEEP = "2019/rehearsal/day-1/cam-a/raw"


def tree_url(**params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{reverse('phs_curate_api_tree')}?{query}"


def file_url(file, action=""):
    if action:
        return reverse(f"phs_curate_api_{action}", args=[getattr(file, "pk", file)])
    return reverse("phs_curate_api_file", args=[getattr(file, "pk", file)])


def next_url(drive, path="", filename=""):
    return (
        f"{reverse('phs_curate_api_next_unreviewed')}?drive={drive.pk}"
        f"&path={path}&filename={filename}"
    )


def post(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def catalog(write_manifest):
    """Drive Expansion: files at the root, in a deep folder, and 30 in one folder;
    Backup: copies of two of them. Duplicate groups computed."""
    entries = [
        entry("root.jpg", oshash="00000000000000a1"),
        entry("notes.txt", file_type="text/plain", oshash="00000000000000a2"),
        *[entry(f"take{i:02}.jpg", DEEP, oshash=f"{0xB00 + i:016x}") for i in range(3)],
        *[entry(f"clip{i:02}.mp4", "many", file_type="video/mp4") for i in range(30)],
    ]
    import_manifest(write_manifest(entries, "Expansion.json"), drive_name="Expansion")
    backup = [
        entry("root.jpg", "old", oshash="00000000000000a1"),
        entry("take00.jpg", "old/deep", oshash=f"{0xB00:016x}"),
    ]
    import_manifest(write_manifest(backup, "Backup.json"), drive_name="Backup")
    update_duplicates()
    return Drive.objects.get(name="Expansion")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def reviewer_client(reviewer):
    client = Client()
    client.force_login(reviewer)
    return client


def get_file(filename, drive="Expansion"):
    return FileEntry.objects.get(drive__name=drive, filename=filename)


def count_queries(client, url, method="get", body=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **XHR) if method == "get" else post(client, url, body, **XHR)
    assert response.status_code == 200, response.content
    return len(queries)


# --- access --------------------------------------------------------------------------


def test_anonymous_gets_no_data(client, catalog):
    response = client.get(tree_url(drive=catalog.pk))
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.get(tree_url(drive=catalog.pk), **XHR)
    assert response.status_code in (401, 403)


def test_admin_user_without_file_permission_gets_403_json(client, catalog, make_user):
    group = Group.objects.create(name="Admin access only")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(make_user("visitor", "Admin access only"))
    for url in [tree_url(drive=catalog.pk), file_url(get_file("root.jpg"))]:
        response = client.get(url, **XHR)
        assert response.status_code == 403
        assert "permission" in response.json()["error"]
    # The page itself sends them back to the dashboard.
    assert client.get(reverse("phs_curate")).status_code == 302


def test_page_and_menu_for_curators(curator_client, catalog):
    response = curator_client.get(reverse("phs_curate"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="phs-curate-data"' in html
    assert 'type="module"' in html and "catalog/curate/app.js" in html
    assert "<script>" not in html.split('id="phs-curate"')[1]  # no inline script of ours
    home = curator_client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("phs_curate") in home


def test_page_policy_admits_blob_previews(settings):
    policy = preview_policy(
        {
            "default-src": ["'self'"],
            "img-src": ["'self'", "data:", "blob:"],
            "object-src": ["'none'"],
        }
    )
    assert policy["media-src"] == ["'self'", "blob:"]
    assert policy["frame-src"] == ["'self'", "blob:"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert policy["object-src"] == ["'none'"]
    assert preview_policy({}) == {}


def test_writes_need_csrf(catalog, curator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(curator)
    file = get_file("root.jpg")
    body = {"version": 0, "changes": {"title": "T"}}
    assert post(client, file_url(file), body, **XHR).status_code == 403
    assert get_file("root.jpg").title == ""
    client.get(reverse("phs_curate"))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = post(client, file_url(file), body, HTTP_X_CSRFTOKEN=token, **XHR)
    assert response.status_code == 200
    assert get_file("root.jpg").title == "T"


def test_wrong_method_is_a_json_405(curator_client, catalog):
    response = curator_client.post(tree_url(drive=catalog.pk), **XHR)
    assert response.status_code == 405 and "error" in response.json()
    response = curator_client.get(file_url(get_file("root.jpg"), "submit"), **XHR)
    assert response.status_code == 405


# --- the tree ------------------------------------------------------------------------


def test_root_listing_has_folders_with_counts(curator_client, catalog):
    data = curator_client.get(tree_url(drive=catalog.pk), **XHR).json()
    assert data["folder"]["total"] == 35
    assert [f["name"] for f in data["folders"]] == ["2019", "many"]
    assert data["folders"][1]["total"] == 30 and data["folders"][1]["reviewed"] == 0
    assert [f["filename"] for f in data["files"]] == ["notes.txt", "root.jpg"]
    assert data["file_total"] == 2 and data["next_offset"] is None


def test_files_are_paged(curator_client, catalog):
    first = curator_client.get(tree_url(drive=catalog.pk, path="many", limit=12), **XHR).json()
    assert len(first["files"]) == 12 and first["file_total"] == 30
    assert first["next_offset"] == 12
    rest = curator_client.get(
        tree_url(drive=catalog.pk, path="many", limit=500, offset=24), **XHR
    ).json()
    assert [f["filename"] for f in rest["files"]] == [f"clip{i:02}.mp4" for i in range(24, 30)]
    assert rest["next_offset"] is None
    assert rest["folders"] == [] or rest["offset"] == 24


def test_filter_chips(curator_client, curator, catalog):
    from workflow.services.review import save_decision

    save_decision(file=get_file("take01.jpg"), user=curator, changes={"status": "needs_attention"})
    data = curator_client.get(tree_url(drive=catalog.pk, filter="needs_attention"), **XHR).json()
    assert [f["name"] for f in data["folders"]] == ["2019"]  # "many" has none
    assert data["files"] == [] and data["file_total"] == 0
    deep = curator_client.get(
        tree_url(drive=catalog.pk, path=DEEP, filter="needs_attention"), **XHR
    ).json()
    assert [f["filename"] for f in deep["files"]] == ["take01.jpg"]
    unreviewed = curator_client.get(
        tree_url(drive=catalog.pk, path=DEEP, filter="unreviewed"), **XHR
    ).json()
    assert [f["filename"] for f in unreviewed["files"]] == ["take00.jpg", "take02.jpg"]
    # Counts moved with the save.
    root = curator_client.get(tree_url(drive=catalog.pk), **XHR).json()
    assert root["folders"][0]["reviewed"] == 1


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({}, 400, "'drive' is required"),
        ({"drive": "x"}, 400, "whole number"),
        ({"drive": 999999}, 404, "No such folder"),
        ({"drive": "{d}", "path": "nope/never"}, 404, "No such folder"),
        ({"drive": "{d}", "filter": "bogus"}, 400, "Unknown filter"),
        ({"drive": "{d}", "offset": -1}, 400, "at least 0"),
        ({"drive": "{d}", "limit": 0}, 400, "at least 1"),
        # Past 64 bits: no database integer (was an OverflowError, a 500).
        ({"drive": 2**64}, 400, "'drive' is too large"),
        ({"drive": "{d}", "offset": 2**70}, 400, "'offset' is too large"),
        ({"drive": "{d}", "path": "%00"}, 400, "'path' must not contain a NUL"),
    ],
)
def test_bad_tree_input_is_a_4xx_json(curator_client, catalog, params, status, message):
    params = {k: str(v).replace("{d}", str(catalog.pk)) for k, v in params.items()}
    response = curator_client.get(tree_url(**params), **XHR)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_the_largest_offset_is_an_empty_page(curator_client, catalog):
    response = curator_client.get(tree_url(drive=catalog.pk, offset=2**63 - 1), **XHR)
    assert response.status_code == 200 and response.json()["files"] == []


def test_tree_queries_do_not_grow_with_depth_or_size(curator_client, catalog):
    root = count_queries(curator_client, tree_url(drive=catalog.pk))
    deep = count_queries(curator_client, tree_url(drive=catalog.pk, path=DEEP))
    many = count_queries(curator_client, tree_url(drive=catalog.pk, path="many"))
    filtered = count_queries(curator_client, tree_url(drive=catalog.pk, filter="unreviewed"))
    assert root == deep == many == filtered
    # session, user, two permission reads, Wagtail's user profile (the admin's language);
    # then the folder, its children, one page of files.
    assert root == 8


# --- one file ------------------------------------------------------------------------


def test_file_pane(curator_client, catalog):
    file = get_file("root.jpg")
    data = curator_client.get(file_url(file), **XHR).json()["file"]
    assert data["relative_path"] == "root.jpg"
    assert data["facts"]["oshash"] == "00000000000000a1"
    assert data["values"]["status"] == "unreviewed" and data["version"] == 0
    assert data["can"] == {
        "edit": True,
        "submit": False,
        "approve": False,
        "reject": False,
        "cancel": False,
    }
    [copy] = data["copies"]
    assert copy["drive"]["name"] == "Backup" and copy["relative_path"] == "old/root.jpg"
    assert copy["url"].endswith(f"?drive={copy['drive']['id']}&file={copy['id']}")


def test_unknown_file_is_404_json(curator_client, catalog):
    response = curator_client.get(file_url(999999), **XHR)
    assert (
        response.status_code == 404 and response.json()["error"] == "No such file in the catalog."
    )
    response = post(curator_client, file_url(999999), {"version": 0, "changes": {}}, **XHR)
    assert response.status_code == 404


def test_file_queries_do_not_grow_with_copies(curator_client, write_manifest, catalog):
    few = count_queries(curator_client, file_url(get_file("take00.jpg")))
    many = [entry(f"copy{i}.jpg", f"c/{i}", oshash=f"{0xB00:016x}") for i in range(20)]
    import_manifest(write_manifest(many, "Third.json"), drive_name="Third")
    update_duplicates()
    more = count_queries(curator_client, file_url(get_file("take00.jpg")))
    assert few == more


# --- saving --------------------------------------------------------------------------


def test_save_goes_through_the_review_service(curator_client, curator, catalog):
    file = get_file("take00.jpg")
    group = ProjectGroup.objects.create(name="Rehearsals")
    body = {
        "version": 0,
        "changes": {
            "status": "upload",
            "title": "Day one",
            "project_group": group.pk,
            "date": "2019-03-14",
            "notes": "नोट",
        },
    }
    response = post(curator_client, file_url(file), body, **XHR)
    assert response.status_code == 200, response.content
    data = response.json()["file"]
    assert data["version"] == 1 and data["can"]["submit"] is True
    file.refresh_from_db()
    assert (file.status, file.title, file.project_group, str(file.date), file.notes) == (
        "upload",
        "Day one",
        group,
        "2019-03-14",
        "नोट",
    )
    assert file.reviewed_by == curator and file.review_state == ReviewState.DECIDED
    assert file.latest_revision is not None  # a revision, as the snippet editor makes
    root = curator_client.get(tree_url(drive=catalog.pk), **XHR).json()
    assert root["folder"]["reviewed"] == 1 and root["folder"]["counts"]["upload"] == 1


def test_save_with_no_changes_stamps_the_review(curator_client, curator, catalog):
    file = get_file("root.jpg")
    response = post(curator_client, file_url(file), {"version": 0, "changes": {}}, **XHR)
    assert response.status_code == 200
    file.refresh_from_db()
    assert file.reviewed_by == curator and file.version == 1


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"changes": {"title": "x"}}, 400, "'version'"),
        ({"version": "1", "changes": {}}, 400, "'version'"),
        ({"version": 0, "changes": {"status": "published"}}, 400, "Status"),
        ({"version": 0, "changes": {"title": "x" * 256}}, 400, "Title"),
        ({"version": 0, "changes": {"notes": "x" * (MAX_TEXT + 1)}}, 400, "Notes"),
        ({"version": 0, "changes": {"description": "x" * (MAX_TEXT + 1)}}, 400, "Description"),
        ({"version": 0, "changes": {"date": "14/03/2019"}}, 400, "Date"),
        ({"version": 0, "changes": {"project_group": 999999}}, 400, "Project group"),
        ({"version": 0, "changes": {"oshash": "0"}}, 400, "Not a field"),
        ({"version": 0, "changes": {"title": ["a"]}}, 400, "must be text"),
        ({"version": 0, "changes": "status=upload"}, 400, "'changes' must be"),
    ],
)
def test_bad_save_input_is_a_4xx_json(curator_client, catalog, body, status, message):
    response = post(curator_client, file_url(get_file("root.jpg")), body, **XHR)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert get_file("root.jpg").version == 0


def test_unparseable_and_oversized_bodies(curator_client, catalog):
    url = file_url(get_file("root.jpg"))
    response = curator_client.post(url, "{not json", content_type="application/json", **XHR)
    assert response.status_code == 400 and "JSON" in response.json()["error"]
    response = curator_client.post(url, "[1, 2]", content_type="application/json", **XHR)
    assert response.status_code == 400
    huge = json.dumps({"version": 0, "changes": {"notes": "x" * 300_000}})
    response = curator_client.post(url, huge, content_type="application/json", **XHR)
    assert response.status_code == 413 and "too large" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # JSON may escape half a UTF-16 pair; no database stores it (UnicodeEncodeError).
        ('{"version": 0, "changes": {"notes": "\\udce9"}}', "'changes.notes' is not valid text"),
        ('{"version": 0, "base": {"title": "\\ud800"}}', "'base.title' is not valid text"),
        # 50,000 nested arrays in 100 KB: json.loads' RecursionError.
        ("[" * 50_000, "nested too deeply"),
        ('{"version": 0, "changes": {"notes": "a\\u0000b"}}', "Notes"),
    ],
)
def test_bodies_no_database_can_store_are_a_400_naming_the_field(
    curator_client, catalog, body, message
):
    file = get_file("root.jpg")
    response = curator_client.post(file_url(file), body, content_type="application/json", **XHR)
    assert response.status_code == 400, response.content[:300]
    assert message in response.json()["error"]
    assert get_file("root.jpg").version == 0


def test_a_stale_save_is_refused_with_what_changed(curator_client, reviewer_client, catalog):
    file = get_file("root.jpg")
    opened = curator_client.get(file_url(file), **XHR).json()["file"]
    theirs = post(
        reviewer_client,
        file_url(file),
        {"version": 0, "changes": {"title": "Theirs", "status": "discard"}},
        **XHR,
    )
    assert theirs.status_code == 200
    mine = post(
        curator_client,
        file_url(file),
        {"version": opened["version"], "changes": {"title": "Mine"}, "base": opened["values"]},
        **XHR,
    )
    assert mine.status_code == 409
    data = mine.json()
    assert "saved this file since you opened it" in data["error"]
    assert data["conflict"]["changed_by"] == "reviewer" and data["conflict"]["version"] == 1
    assert {c["field"]: c["now"] for c in data["conflict"]["changed"]} == {
        "title": "Theirs",
        "status": "discard",
    }
    assert {(c["label"], c["was_text"], c["now_text"]) for c in data["conflict"]["changed"]} == {
        ("Title", "—", "“Theirs”"),
        ("Status", "Unreviewed", "Discard"),
    }
    assert data["file"]["version"] == 1  # so the client can save again, knowingly
    file.refresh_from_db()
    assert file.title == "Theirs"
    again = post(
        curator_client, file_url(file), {"version": 1, "changes": {"title": "Mine"}}, **XHR
    )
    assert again.status_code == 200 and again.json()["file"]["values"]["title"] == "Mine"


def test_a_conflict_lists_only_the_other_persons_changes_in_words(
    curator_client, reviewer_client, catalog
):
    """A sets *discard*; B, who only typed a note, is told "Status: Keep offline →
    Discard, by reviewer" (not the note, not ``keep_offline``); B's second save, sending
    only the note, keeps A's status."""
    file = get_file("root.jpg")
    group = ProjectGroup.objects.create(name="Rehearsals")
    start = {"status": "keep_offline", "project_group": group.pk, "date": "2019-03-14"}
    assert post(curator_client, file_url(file), {"version": 0, "changes": start}).status_code == 200
    opened = curator_client.get(file_url(file), **XHR).json()["file"]  # B opens version 1
    theirs = post(
        reviewer_client,
        file_url(file),
        {"version": 1, "changes": {"status": "discard", "project_group": None}},
        **XHR,
    )
    assert theirs.status_code == 200
    body = {"version": 1, "changes": {"notes": "check the audio"}, "base": opened["values"]}
    mine = post(curator_client, file_url(file), body, **XHR)
    assert mine.status_code == 409
    conflict = mine.json()["conflict"]
    assert conflict["changed"] == [
        {
            "field": "status",
            "label": "Status",
            "was": "keep_offline",
            "now": "discard",
            "was_text": "Keep offline",
            "now_text": "Discard",
            "by": "reviewer",
        },
        {
            "field": "project_group",
            "label": "Project group",
            "was": group.pk,
            "now": None,
            "was_text": "Rehearsals",
            "now_text": "—",
            "by": "reviewer",
        },
    ]
    again = {**body, "version": 2, "base": mine.json()["file"]["values"]}
    assert post(curator_client, file_url(file), again, **XHR).status_code == 200
    file.refresh_from_db()
    assert (file.status, file.project_group, file.notes) == ("discard", None, "check the audio")


def test_a_conflict_after_a_rejection_names_the_reviewer(curator_client, reviewer_client, catalog):
    file = decide(curator_client, get_file("take01.jpg"))
    opened = curator_client.get(file_url(file), **XHR).json()["file"]
    assert post(curator_client, file_url(file, "submit"), {}, **XHR).status_code == 200
    assert (
        post(reviewer_client, file_url(file, "reject"), {"comment": "No"}, **XHR).status_code == 200
    )
    body = {"version": opened["version"], "changes": {"title": "x"}, "base": opened["values"]}
    conflict = post(curator_client, file_url(file), body, **XHR).json()["conflict"]
    assert conflict["changed_by"] == "reviewer"
    assert [(c["label"], c["was_text"], c["now_text"], c["by"]) for c in conflict["changed"]] == [
        ("Status", "Upload", "Needs attention", "reviewer")
    ]


def test_a_lock_held_by_someone_else_makes_the_file_read_only(curator_client, reviewer, catalog):
    file = get_file("root.jpg")
    FileEntry.objects.filter(pk=file.pk).update(
        locked=True, locked_by=reviewer, locked_at=timezone.now()
    )
    data = curator_client.get(file_url(file), **XHR).json()["file"]
    assert data["lock"] == {"locked": True, "by": "reviewer", "mine": False}
    assert data["can"]["edit"] is False and data["can"]["submit"] is False
    response = post(
        curator_client, file_url(file), {"version": 0, "changes": {"title": "x"}}, **XHR
    )
    assert response.status_code == 423
    assert "locked by reviewer" in response.json()["error"]
    assert get_file("root.jpg").title == ""


def test_save_queries_do_not_grow(curator_client, catalog):
    def save(name, version):
        body = {"version": version, "changes": {"status": "discard", "title": name}}
        return count_queries(curator_client, file_url(get_file(name)), "post", body)

    save("notes.txt", 0)  # warms the content-type and workflow caches
    shallow = save("clip05.mp4", 0)
    deep = save("take02.jpg", 0)
    assert shallow == deep
    # With copies: the duplicate group's conflict flag is refreshed too, still constant.
    assert save("root.jpg", 0) == save("take00.jpg", 0)


def test_save_and_next_queries_do_not_grow(curator_client, catalog):
    """Save & Next costs the same shallow or deep, and about what a plain save costs: its
    answer carries the next file's pane instead of the saved file's."""

    def save(name, then=True):
        body = {"version": 0, "changes": {"status": "discard"}}
        if then:
            body["then"] = {"direction": "next"}
        return count_queries(curator_client, file_url(get_file(name)), "post", body)

    save("clip01.mp4")  # warms the content-type and workflow caches
    shallow, deep = save("clip05.mp4"), save("take01.jpg")
    assert shallow == deep
    assert shallow <= save("clip09.mp4", then=False) + 2  # the step's read, the counts


def test_a_save_writes_the_file_row_once_and_no_reference_index(curator_client, catalog):
    file = get_file("clip05.mp4")
    body = {"version": file.version, "changes": {"status": "discard", "title": "Once"}}
    with CaptureQueriesContext(connection) as queries:
        assert post(curator_client, file_url(file), body).status_code == 200
    statements = [query["sql"] for query in queries]
    row_updates = [sql for sql in statements if sql.startswith('UPDATE "catalog_fileentry"')]
    # The curator's fields, stamp, review state and version in one UPDATE; Wagtail's
    # save_revision then points latest_revision at the new revision.
    assert len(row_updates) == 2, row_updates
    assert '"title" = ' in row_updates[0] and '"version" = ' in row_updates[0]
    assert '"latest_revision_id" = ' in row_updates[1]
    assert not [sql for sql in statements if "wagtailcore_referenceindex" in sql]
    assert get_file("clip05.mp4").title == "Once"


# --- review actions ------------------------------------------------------------------


def decide(client, file, status="upload"):
    response = post(
        client, file_url(file), {"version": file.version, "changes": {"status": status}}
    )
    assert response.status_code == 200, response.content
    file.refresh_from_db()
    return file


def test_submit_approve_with_four_eyes(curator_client, reviewer_client, catalog):
    file = decide(curator_client, get_file("take01.jpg"))
    response = post(curator_client, file_url(file, "submit"), {"version": file.version}, **XHR)
    assert response.status_code == 200
    data = response.json()["file"]
    assert data["review"]["state"] == "in_review" and data["review"]["own_submission"] is True
    assert data["can"]["approve"] is False and data["can"]["cancel"] is True
    # A curator is no reviewer.
    response = post(curator_client, file_url(file, "approve"), {}, **XHR)
    assert response.status_code == 403
    # The reviewer sees the buttons and approves.
    pane = reviewer_client.get(file_url(file), **XHR).json()["file"]
    assert pane["can"]["approve"] and pane["can"]["reject"]
    tree = reviewer_client.get(tree_url(drive=catalog.pk, path=DEEP), **XHR).json()
    assert [f["in_review"] for f in tree["files"]] == [False, True, False]
    response = post(reviewer_client, file_url(file, "approve"), {}, **XHR)
    assert response.status_code == 200
    file.refresh_from_db()
    assert file.review_state == ReviewState.APPROVED and file.live


def test_reviewers_cannot_approve_their_own_submission(reviewer_client, catalog):
    file = decide(reviewer_client, get_file("take01.jpg"))
    assert post(reviewer_client, file_url(file, "submit"), {}, **XHR).status_code == 200
    pane = reviewer_client.get(file_url(file), **XHR).json()["file"]
    assert pane["can"]["approve"] is False and pane["can"]["reject"] is False
    response = post(reviewer_client, file_url(file, "approve"), {}, **XHR)
    assert response.status_code == 403 and "own submission" in response.json()["error"]
    file.refresh_from_db()
    assert file.review_state == ReviewState.IN_REVIEW


def test_reject_needs_a_comment_and_shows_it(curator_client, reviewer_client, catalog):
    file = decide(curator_client, get_file("take01.jpg"))
    post(curator_client, file_url(file, "submit"), {}, **XHR)
    response = post(reviewer_client, file_url(file, "reject"), {"comment": "  "}, **XHR)
    assert response.status_code == 400 and "comment is required" in response.json()["error"]
    response = post(reviewer_client, file_url(file, "reject"), {"comment": "Wrong date"}, **XHR)
    assert response.status_code == 200
    pane = curator_client.get(file_url(file), **XHR).json()["file"]
    assert pane["review"] == {
        "state": "rejected",
        "label": "Rejected",
        "comment": "Wrong date",
        "own_submission": False,
    }
    assert pane["values"]["status"] == Status.NEEDS_ATTENTION


def test_actions_in_the_wrong_state_are_409(curator_client, catalog):
    file = get_file("root.jpg")  # unreviewed: nothing to submit
    response = post(curator_client, file_url(file, "submit"), {}, **XHR)
    assert response.status_code == 409 and "only files decided" in response.json()["error"]
    response = post(curator_client, file_url(file, "cancel"), {}, **XHR)
    assert response.status_code == 409 and "not in review" in response.json()["error"]
    response = post(curator_client, file_url(file, "submit"), {"version": 7}, **XHR)
    assert response.status_code == 409 and "changed since you opened it" in response.json()["error"]
    response = post(curator_client, file_url(999999, "submit"), {}, **XHR)
    assert response.status_code == 404
    response = post(curator_client, file_url(file, "reject"), {"comment": 5}, **XHR)
    assert response.status_code in (403, 400)


@pytest.mark.parametrize("who", ["another curator", "reviewer", "operator"])
def test_only_the_submitter_or_a_superuser_may_withdraw_a_review(
    curator_client, catalog, make_user, reviewer, operator, admin_user, who
):
    file = decide(curator_client, get_file("take01.jpg"))
    assert post(curator_client, file_url(file, "submit"), {}, **XHR).status_code == 200
    someone = {
        "another curator": make_user("other", "Curators"),
        "reviewer": reviewer,
        "operator": operator,
    }[who]
    client = Client()
    client.force_login(someone)
    assert client.get(file_url(file), **XHR).json()["file"]["can"]["cancel"] is False
    response = post(client, file_url(file, "cancel"), {}, **XHR)
    assert response.status_code == 403
    assert "Only the person who submitted" in response.json()["error"]
    file.refresh_from_db()
    assert file.review_state == ReviewState.IN_REVIEW

    client.force_login(admin_user)
    assert client.get(file_url(file), **XHR).json()["file"]["can"]["cancel"] is True
    assert post(client, file_url(file, "cancel"), {}, **XHR).status_code == 200
    file.refresh_from_db()
    assert file.review_state == ReviewState.DECIDED


# --- next unreviewed -----------------------------------------------------------------


def test_next_unreviewed_walks_the_drive_in_tree_order_and_wraps(curator_client, curator, catalog):
    """The order the tree shows: a folder's subfolders (by name) first, then its own files;
    so the root's own files come last."""
    from workflow.services.review import save_decision

    save_decision(file=get_file("take01.jpg"), user=curator, changes={"status": "discard"})
    first = curator_client.get(next_url(catalog), **XHR).json()["file"]
    assert (first["path"], first["filename"]) == (DEEP, "take00.jpg")
    assert first["facts"]["size"] is not None  # the whole pane: one request per key press
    after = curator_client.get(next_url(catalog, DEEP, "take00.jpg"), **XHR).json()["file"]
    assert after["filename"] == "take02.jpg"  # take01 is decided
    then = curator_client.get(next_url(catalog, DEEP, "take02.jpg"), **XHR).json()["file"]
    assert (then["path"], then["filename"]) == ("many", "clip00.mp4")
    root = curator_client.get(next_url(catalog, "many", "clip29.mp4"), **XHR).json()["file"]
    assert (root["path"], root["filename"]) == ("", "notes.txt")
    assert (
        curator_client.get(next_url(catalog, "", "notes.txt"), **XHR).json()["file"]["filename"]
        == "root.jpg"
    )
    last = curator_client.get(next_url(catalog, "", "root.jpg"), **XHR).json()["file"]
    assert last["filename"] == "take00.jpg"  # wrapped round to the start


def step_url(drive, path="", filename="", **params):
    query = "".join(f"&{k}={v}" for k, v in params.items())
    return (
        f"{reverse('phs_curate_api_step')}?drive={drive.pk}&path={path}&filename={filename}{query}"
    )


def walk(client, drive, direction="next", **params):
    """Every file of the drive, stepping from the start (or end) until the API says stop."""
    seen, path, filename = [], "", ""
    while True:
        data = client.get(
            step_url(drive, path, filename, direction=direction, **params), **XHR
        ).json()
        if data["file"] is None:
            return seen, data["message"]
        path, filename = data["file"]["path"], data["file"]["filename"]
        seen.append(f"{path}/{filename}" if path else filename)
        assert len(seen) < 100


def test_step_walks_the_whole_drive_in_tree_order_both_ways(curator_client, catalog):
    forward, message = walk(curator_client, catalog)
    expected = [
        *[f"{DEEP}/take{i:02}.jpg" for i in range(3)],
        *[f"many/clip{i:02}.mp4" for i in range(30)],
        "notes.txt",
        "root.jpg",
    ]
    assert forward == expected
    assert message == "That was the last file on this drive."
    backward, message = walk(curator_client, catalog, "previous")
    assert backward == expected[::-1]
    assert message == "That is the first file on this drive."


def test_step_with_a_filter_crosses_folders_and_folders_without_matches(
    curator_client, curator, catalog
):
    from workflow.services.review import save_decision

    for name in ("take02.jpg", "clip07.mp4", "root.jpg"):
        save_decision(file=get_file(name), user=curator, changes={"status": "needs_attention"})
    seen, message = walk(curator_client, catalog, filter="needs_attention")
    assert seen == [f"{DEEP}/take02.jpg", "many/clip07.mp4", "root.jpg"]
    assert message == "That was the last file that needs attention on this drive."
    back, _ = walk(curator_client, catalog, "previous", filter="needs_attention")
    assert back == seen[::-1]
    # Wrapping from the last one starts again at the first.
    data = curator_client.get(
        step_url(catalog, "", "root.jpg", filter="needs_attention", wrap=1), **XHR
    ).json()
    assert data["file"]["filename"] == "take02.jpg" and data["folder_changed"] is True


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"direction": "sideways"}, "'direction' is next or previous"),
        ({"filter": "bogus"}, "Unknown filter"),
    ],
)
def test_bad_step_input_is_a_400(curator_client, catalog, params, message):
    response = curator_client.get(step_url(catalog, "many", "clip01.mp4", **params), **XHR)
    assert response.status_code == 400 and message in response.json()["error"]
    response = curator_client.get(step_url(catalog, "nope", "x.jpg"), **XHR)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "path=" + "a/" * 5000 + "&filename=x",
        "path=many&filename=" + "z" * 5000,
        "path=many&filename=%F0%9F%98%80&direction=previous&wrap=1",
        "path=/many/&filename=clip03.mp4&filter=",
        "path=&filename=&direction=previous&filter=upload",
    ],
)
def test_odd_steps_are_answered_never_a_500(curator_client, catalog, query):
    response = curator_client.get(
        f"{reverse('phs_curate_api_step')}?drive={catalog.pk}&{query}", **XHR
    )
    assert response.status_code in (200, 404), response.content
    assert ("file" in response.json()) or ("error" in response.json())


def test_step_queries_grow_with_depth_only(curator_client, catalog, write_manifest):
    """Within a folder one indexed read; across folders a few per level of depth, never
    with the number of files: 300 more files in the folders stepped over change nothing."""
    within = count_queries(curator_client, step_url(catalog, "many", "clip03.mp4"))
    across = count_queries(curator_client, step_url(catalog, DEEP, "take02.jpg"))
    import_manifest(
        write_manifest(
            [entry(f"more{i:03}.mp4", "many", file_type="video/mp4") for i in range(300)],
            "More.json",
        ),
        drive_name="Expansion",
    )
    assert count_queries(curator_client, step_url(catalog, "many", "clip03.mp4")) == within
    assert count_queries(curator_client, step_url(catalog, DEEP, "take02.jpg")) == across
    # The pane's own reads plus the step's: one own-file read within a folder; across five
    # levels, the ancestors (one query) and at most two reads per level.
    assert across - within <= 1 + 2 * 5 + 1


def test_save_and_next_answers_with_the_next_file_and_the_moved_counts(curator_client, catalog):
    last_deep = get_file("take02.jpg")
    body = {"version": 0, "changes": {"status": "upload"}, "then": {"direction": "next"}}
    data = post(curator_client, file_url(last_deep), body, **XHR).json()
    assert data["file"]["values"]["status"] == "upload"
    assert (data["then"]["file"]["path"], data["then"]["file"]["filename"]) == (
        "many",
        "clip00.mp4",
    )
    folders = {f["path"]: (f["reviewed"], f["total"]) for f in data["counts"]["folders"]}
    assert folders == {
        "": (1, 35),
        "2019": (1, 3),
        "2019/rehearsal": (1, 3),
        "2019/rehearsal/day-1": (1, 3),
        "2019/rehearsal/day-1/cam-a": (1, 3),
        DEEP: (1, 3),
    }
    # At the drive's very end it says so.
    body = {"version": 0, "changes": {"status": "discard"}, "then": {"direction": "next"}}
    data = post(curator_client, file_url(get_file("root.jpg")), body, **XHR).json()
    assert data["then"] == {"file": None, "message": "That was the last file on this drive."}
    bad = post(curator_client, file_url(get_file("notes.txt")), {"version": 0, "then": 3}, **XHR)
    assert bad.status_code == 400 and "'then' must be an object" in bad.json()["error"]


def test_next_unreviewed_refuses_a_drive_past_64_bits(curator_client, catalog):
    response = curator_client.get(
        f"{reverse('phs_curate_api_next_unreviewed')}?drive={2**64}", **XHR
    )
    assert response.status_code == 400 and "'drive' is too large" in response.json()["error"]


def test_next_unreviewed_when_none_is_left(curator_client, catalog):
    FileEntry.objects.filter(drive=catalog).update(status=Status.DISCARD)
    data = curator_client.get(next_url(catalog, "many", "clip03.mp4"), **XHR).json()
    assert data["file"] is None and "No unreviewed file" in data["message"]
    FileEntry.objects.filter(pk=get_file("clip03.mp4").pk).update(status=Status.UNREVIEWED)
    recount_folders(catalog)
    data = curator_client.get(next_url(catalog, "many", "clip03.mp4"), **XHR).json()
    assert data == {"file": None, "message": "This is the only unreviewed file left on this drive."}
    response = curator_client.get(f"{reverse('phs_curate_api_next_unreviewed')}?drive=x", **XHR)
    assert response.status_code == 400


def test_next_unreviewed_queries_do_not_grow_with_the_files(curator_client, catalog):
    start = count_queries(curator_client, next_url(catalog))
    middle = count_queries(curator_client, next_url(catalog, "many", "clip10.mp4"))
    assert middle < start  # the next one in the same folder: one read


# --- the dashboard -------------------------------------------------------------------


def test_dashboard_panels_are_pictures_with_constant_queries(
    curator_client, curator, write_manifest, catalog
):
    from workflow.services.review import save_decision

    save_decision(file=get_file("root.jpg"), user=curator, changes={"status": "upload"})
    curator_client.get(reverse("wagtailadmin_home"))  # warms the content-type cache
    with CaptureQueriesContext(connection) as before:
        html = curator_client.get(reverse("wagtailadmin_home")).content.decode()
    for heading in [
        "Review progress by drive",
        "Your recent work",
        "Export to pad.ma",
        "Space reclaimable through duplicates",
    ]:
        assert heading in html
    assert html.count('class="phs-dash__bar"') >= 3  # SVG bars, not tables
    assert "Expansion:/root.jpg" in html
    assert "Your files in review" in html  # workflow's panels are kept
    more = [entry(f"x{i}.jpg", f"d{i % 7}") for i in range(60)]
    import_manifest(write_manifest(more, "Another.json"), drive_name="Another")
    for file in FileEntry.objects.filter(drive__name="Another")[:5]:
        save_decision(file=file, user=curator, changes={"status": "discard"})
    with CaptureQueriesContext(connection) as after:
        curator_client.get(reverse("wagtailadmin_home"))
    assert len(after) == len(before)


def test_dashboard_summary_counts_drives_and_files_not_pages(curator_client, catalog):
    import re

    html = curator_client.get(reverse("wagtailadmin_home")).content.decode()
    summary = re.search(r"<ul[^>]*>(.*?)</ul>", html[html.index("</h1>") :], re.S).group(1)
    files = FileEntry.objects.count()
    assert f"{Drive.objects.count()} drives" in summary
    assert f"{files} files, " in summary
    assert "Page" not in summary and "Image" not in summary and "Document" not in summary


def test_a_file_pad_ma_could_never_take_says_why_in_its_pane(curator_client, write_manifest):
    """Files under 8 bytes hash to their size, so pad.ma would merge them: the pane says
    so (the form shows it when upload or restricted is chosen); other files say nothing."""
    import_manifest(
        write_manifest(
            [
                entry("empty.txt", file_type="text/plain", size_exif=0, oshash="0" * 16),
                entry("clip.mp4", file_type="video/mp4"),
            ]
        ),
        drive_name="Tiny",
    )
    tiny = curator_client.get(file_url(get_file("empty.txt", drive="Tiny")), **XHR).json()["file"]
    assert "under 8 bytes" in tiny["export_warning"]
    assert "0 bytes" in tiny["export_warning"]
    normal = curator_client.get(file_url(get_file("clip.mp4", drive="Tiny")), **XHR).json()["file"]
    assert normal["export_warning"] is None
