"""The catalog in the Wagtail admin: permissions, listings, filters, edits, primaries."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import DuplicateGroup, FileEntry, Folder, ProjectGroup, Status
from catalog.selectors import folder_listing
from catalog.services.duplicates import update_duplicates
from catalog.services.imports import import_manifest
from tests.conftest import entry

pytestmark = pytest.mark.django_db

FILES = "/admin/snippets/catalog/fileentry/"
SAME = "abcdefabcdef0001"


@pytest.fixture
def catalog(write_manifest):
    entries = [entry(f"IMG_{i:04}.jpg", f"2019/rehearsal/day-{i % 3}") for i in range(30)]
    entries += [
        entry("HD.1080.mp4", "PHS-Videos", file_type="video/mp4", oshash=SAME, camera="Canon"),
        entry("press.pdf", "Documents/press", file_type="application/pdf", camera=""),
    ]
    import_manifest(write_manifest(entries), drive_name="Expansion")
    import_manifest(
        write_manifest([entry("HD.1080.mp4", "copies", oshash=SAME)], "Backup.json"),
        drive_name="Backup",
    )
    update_duplicates()


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_users_get_the_login_page(client, catalog):
    for url in (FILES, "/admin/snippets/catalog/drive/", "/admin/snippets/catalog/duplicategroup/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_root_redirects_to_admin(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_curator_sees_files_but_cannot_delete_drives(client, catalog, curator):
    login(client, curator)
    assert client.get(FILES).status_code == 200
    drive = catalog_drive()
    assert client.get(f"/admin/snippets/catalog/drive/delete/{drive.pk}/").status_code == 302
    assert client.get(f"/admin/snippets/catalog/drive/edit/{drive.pk}/").status_code == 302


def catalog_drive():
    from catalog.models import Drive

    return Drive.objects.get(name="Expansion")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 33),
        ("?status=discard", 0),
        ("?category=video", 1),
        ("?camera=Canon", 1),
        ("?duplicate=true", 2),
        ("?duplicate=false", 31),
        ("?q=IMG_001", 10),
        ("?q=rehearsal/day-1", 10),
        ("?q=" + SAME[:8], 2),
        ("?date_from=2021-12-23&date_to=2021-12-23", 33),
        ("?date_from=2022-01-01", 0),
    ],
)
def test_listing_filters_and_search(client, catalog, curator, query, expected):
    login(client, curator)
    response = client.get(FILES + "results/" + query)
    assert response.status_code == 200
    assert response.context["paginator"].count == expected


def test_listing_query_count_does_not_grow_with_rows(client, catalog, admin_user, write_manifest):
    login(client, admin_user)
    client.get(FILES)  # warm caches (content types, camera choices)
    with CaptureQueriesContext(connection) as small:
        assert client.get(FILES).status_code == 200
    import_manifest(
        write_manifest([entry(f"more{i}.jpg", "x") for i in range(200)], "Extra.json"),
        drive_name="Extra",
    )
    client.get(FILES)  # the import dropped the cached camera list; refill it once
    with CaptureQueriesContext(connection) as large:
        assert client.get(FILES).status_code == 200
    assert len(large) == len(small)


def opened_form(client, file) -> dict:
    """The file editor's form as the browser would send it back unchanged, hidden fields
    (the version and values it showed) included."""
    response = client.get(f"{FILES}edit/{file.pk}/")
    assert response.status_code == 200
    form = response.context["form"]
    return {name: "" if (v := form[name].value()) is None else str(v) for name in form.fields}


def test_edit_goes_through_the_service(client, catalog, curator):
    login(client, curator)
    file = FileEntry.objects.get(filename="HD.1080.mp4", drive__name="Expansion")
    group = ProjectGroup.objects.create(name="Rehearsals")
    response = client.post(
        f"{FILES}edit/{file.pk}/",
        {
            **opened_form(client, file),
            "status": Status.UPLOAD,
            "project_group": group.pk,
            "title": "Opening night",
            "date": "2021-12-24",
            "description": "",
            "notes": "check audio",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    file.refresh_from_db()
    assert (file.status, file.title, file.project_group, file.notes) == (
        "upload",
        "Opening night",
        group,
        "check audio",
    )
    assert file.reviewed_by == curator and file.reviewed_at is not None
    assert file.size is not None and file.oshash == SAME  # scanner fields untouched
    videos = Folder.objects.get(drive=file.drive, path="PHS-Videos")
    assert (videos.count_upload, videos.count_unreviewed) == (1, 0)
    assert Folder.objects.get(drive=file.drive, path="").count_upload == 1


def test_a_stale_edit_is_refused_with_the_other_persons_changes(client, catalog, curator, reviewer):
    """The curator opens the form; a reviewer saves a new title; the curator's stale form,
    changing only the status, used to succeed and put the old title back."""
    from workflow.services.review import save_decision

    login(client, curator)
    file = FileEntry.objects.get(filename="press.pdf")
    group = ProjectGroup.objects.create(name="Press")
    stale = opened_form(client, file)
    save_decision(file=file, user=reviewer, changes={"title": "Theirs", "project_group": group})
    url = f"{FILES}edit/{file.pk}/"
    response = client.post(url, {**stale, "status": Status.DISCARD})
    assert response.status_code == 200  # the form again, not a redirect
    file.refresh_from_db()
    assert (file.title, file.status, file.version) == ("Theirs", Status.UNREVIEWED, 1)
    page = response.content.decode()
    assert "reviewer saved this file since you opened it" in page
    assert "Title: — → “Theirs”, by reviewer" in page
    assert "Project group: — → Press, by reviewer" in page
    assert "Status:" not in page.split("saved this file")[1].split("Your own edits")[0]
    # The form now shows their title and group, and still the curator's status.
    form = response.context["form"]
    assert (form["title"].value(), form["project_group"].value()) == ("Theirs", str(group.pk))
    assert (form["status"].value(), form["opened_version"].value()) == (Status.DISCARD, "1")

    again = {name: "" if (v := form[name].value()) is None else str(v) for name in form.fields}
    assert client.post(url, again).status_code == 302
    file.refresh_from_db()
    assert (file.title, file.project_group, file.status) == ("Theirs", group, Status.DISCARD)
    assert file.reviewed_by == curator and file.version == 2


def test_an_edit_writes_only_the_fields_changed_in_the_form(client, catalog, curator, reviewer):
    from workflow.services.bulk import set_status

    login(client, curator)
    file = FileEntry.objects.get(filename="press.pdf")
    opened = opened_form(client, file)
    set_status(FileEntry.objects.filter(pk=file.pk), status=Status.KEEP_OFFLINE, user=reviewer)
    file.refresh_from_db()
    # Without a version (a form from before this check, or a hand-made POST): reload.
    response = client.post(f"{FILES}edit/{file.pk}/", {**opened, "opened_version": ""})
    assert response.status_code == 200 and "reload the page" in response.content.decode()
    response = client.post(
        f"{FILES}edit/{file.pk}/",
        {**opened, "opened_version": file.version, "title": "Mine"},
    )
    assert response.status_code == 302
    file.refresh_from_db()
    assert (file.title, file.status) == ("Mine", Status.KEEP_OFFLINE)


@pytest.mark.parametrize("group", [":", "1.5"])
def test_an_edit_with_a_group_that_is_no_id_is_refused_not_a_500(client, catalog, curator, group):
    """Wagtail's chooser, re-showing the form, looked ``:`` up as an id (a ValueError)."""
    login(client, curator)
    file = FileEntry.objects.get(filename="press.pdf")
    response = client.post(
        f"{FILES}edit/{file.pk}/", {**opened_form(client, file), "project_group": group}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["project_group"]
    assert FileEntry.objects.get(pk=file.pk).version == 0


def test_in_the_editor_only_the_submitter_or_a_superuser_withdraws_a_review(
    client, catalog, curator, reviewer, admin_user
):
    from wagtail.models import WorkflowState

    from workflow.services.review import save_decision, submit_for_review

    file = FileEntry.objects.get(filename="press.pdf")
    save_decision(file=file, user=curator, changes={"status": Status.UPLOAD})
    submit_for_review(file=file, user=curator)
    url = f"{FILES}edit/{file.pk}/"

    login(client, reviewer)
    assert 'name="action-cancel-workflow"' not in client.get(url).content.decode()
    form = opened_form(client, file)
    response = client.post(url, {**form, "action-cancel-workflow": "Cancel workflow"})
    assert response.status_code == 302 and response["Location"] == "/admin/"  # Wagtail's 403
    file.refresh_from_db()
    assert file.current_workflow_state.status == WorkflowState.STATUS_IN_PROGRESS
    assert file.version == 1  # nothing saved either

    for who in (curator, admin_user):
        login(client, who)
        assert 'name="action-cancel-workflow"' in client.get(url).content.decode()
    response = client.post(url, {**opened_form(client, file), "action-cancel-workflow": "Cancel"})
    assert response.status_code == 302
    file.refresh_from_db()
    assert file.current_workflow_state is None
    # A second click (the page still showed the button) was a ReviewError, a 500.
    response = client.post(url, {**opened_form(client, file), "action-cancel-workflow": "Cancel"})
    assert response.status_code == 302


def test_duplicate_group_page_shows_copies_and_makes_primary(client, catalog, reviewer):
    login(client, reviewer)
    group = DuplicateGroup.objects.get(oshash=SAME)
    page = client.get(f"/admin/snippets/catalog/duplicategroup/inspect/{group.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Expansion" in html and "Backup" in html and "copies/HD.1080.mp4" in html
    spare = FileEntry.objects.get(drive__name="Expansion", oshash=SAME)
    assert not spare.is_primary  # equal sizes: "Backup" sorts first and was chosen
    response = client.post(reverse("catalog_make_primary", args=[spare.pk]))
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.primary == spare and group.selection_method == "manual"
    update_duplicates()  # the hand-made choice survives a recompute
    group.refresh_from_db()
    assert group.primary == spare


def test_curator_cannot_make_primary(client, catalog, curator):
    login(client, curator)
    spare = FileEntry.objects.get(drive__name="Expansion", oshash=SAME)
    response = client.post(reverse("catalog_make_primary", args=[spare.pk]))
    # Wagtail turns PermissionDenied into a redirect to the dashboard with a message.
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert DuplicateGroup.objects.get(oshash=SAME).primary != spare
    assert client.get(reverse("catalog_make_primary", args=[spare.pk])).status_code == 405


def test_make_primary_bulk_action(client, catalog, reviewer):
    login(client, reviewer)
    spare = FileEntry.objects.get(drive__name="Expansion", oshash=SAME)
    url = f"/admin/bulk/catalog/fileentry/make_primary/?id={spare.pk}&next={FILES}"
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert DuplicateGroup.objects.get(oshash=SAME).primary == spare


@pytest.mark.parametrize(
    "action",
    [
        "catalog/fileentry/set_status",
        "catalog/fileentry/make_primary",
        "catalog/drive/delete",
        "catalog/projectgroup/delete",
    ],
)
@pytest.mark.parametrize("bad", [str(2**64), "abc", "%C2%B2", "-1", ""])
def test_a_bulk_action_refuses_ids_that_are_not_row_ids(client, catalog, admin_user, action, bad):
    """An id past 64 bits was an OverflowError, ``abc``, ``²`` or nothing a ValueError:
    500s."""
    login(client, admin_user)
    file = FileEntry.objects.first()
    for method in (client.get, client.post):
        response = method(f"/admin/bulk/{action}/?id={file.pk}&id={bad}&next={FILES}")
        assert response.status_code == 400
        assert response.content.decode().startswith("'id' must be the ids of the selected rows")
    assert FileEntry.objects.filter(status=Status.UNREVIEWED).count() == 33
    response = client.get(f"/admin/bulk/{action}/?id={file.pk}&next={FILES}")
    assert response.status_code in (200, 404)  # no drive or group has the file's id: 404


@pytest.mark.parametrize(
    "action", ["catalog/fileentry/set_status", "catalog/fileentry/make_primary"]
)
def test_a_bulk_action_refuses_a_next_that_is_no_address(client, catalog, admin_user, action):
    """redirect("0") looked for a URL pattern named "0": a NoReverseMatch, a 500."""
    login(client, admin_user)
    file = FileEntry.objects.get(drive__name="Expansion", oshash=SAME)
    url = f"/admin/bulk/{action}/?id={file.pk}"
    response = client.post(f"{url}&next=0", {"status": Status.DISCARD})
    assert response.status_code == 400
    assert response.content.decode() == "'next' must be an address on this site, not '0'."
    response = client.post(url, {"status": Status.DISCARD, "next": "0"})
    assert response.status_code == 400
    assert FileEntry.objects.get(pk=file.pk).status == Status.UNREVIEWED
    response = client.post(f"{url}&next={FILES}", {"status": Status.DISCARD})
    assert response.status_code == 302 and response["Location"] == FILES


def test_folder_listing_has_constant_queries(catalog):
    drive = catalog_drive()
    for path in ("", "2019", "2019/rehearsal/day-1"):
        with CaptureQueriesContext(connection) as queries:
            listing = folder_listing(drive, path)
        assert len(queries) == 3, path
    root = folder_listing(drive, "")
    assert [f.name for f in root.subfolders] == ["2019", "Documents", "PHS-Videos"]
    assert root.folder.file_count == 32 and root.file_total == 0
    leaf = folder_listing(drive, "2019/rehearsal/day-1")
    assert leaf.file_total == 10 and len(leaf.files) == 10
    page = folder_listing(drive, "2019/rehearsal/day-1", offset=8, limit=5)
    assert [f.filename for f in page.files] == ["IMG_0025.jpg", "IMG_0028.jpg"]
    assert listing.subfolders == []


@pytest.mark.parametrize(
    "url", ["/admin/snippets/catalog/drive/", "/admin/snippets/catalog/duplicategroup/"]
)
def test_other_listings_have_constant_queries(client, catalog, admin_user, write_manifest, url):
    login(client, admin_user)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for n in range(3):
        name = f"More{n}"
        import_manifest(
            write_manifest([entry("HD.1080.mp4", "again", oshash=SAME)], f"{name}.json"),
            drive_name=name,
        )
    update_duplicates()
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)


@pytest.mark.parametrize(
    "query", ["", "?status=unreviewed", "?status=discard&status=unreviewed", "?drive={drive}"]
)
def test_listing_count_comes_from_folder_counters(client, catalog, admin_user, query):
    """The total must match a real COUNT, without running one over the file table."""
    login(client, admin_user)
    url = FILES + "results/" + query.format(drive=catalog_drive().pk)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    paginator = response.context["paginator"]
    expected = paginator.object_list.count()  # a real COUNT, outside the measured request
    assert paginator.count == expected
    assert not any(
        q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "catalog_fileentry"')
        for q in queries.captured_queries
    )


@pytest.mark.parametrize("ordering", ["", "&ordering=-size", "&ordering=status"])
def test_later_pages_read_ids_first_and_keep_the_order(client, catalog, admin_user, ordering):
    login(client, admin_user)
    first = client.get(FILES + "results/?p=1" + ordering).context["paginator"]
    expected = [file.pk for file in first.object_list]  # the whole ordered listing
    shown = []
    for number in range(1, first.num_pages + 1):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(FILES + f"results/?p={number}" + ordering)
        shown += [file.pk for file in response.context["page_obj"].object_list]
        if number > 1:  # ids by OFFSET, then the page's rows by primary key
            assert any(
                q["sql"].startswith('SELECT "catalog_fileentry"."id" AS "pk" FROM')
                and "OFFSET" in q["sql"]
                for q in queries.captured_queries
            )
    assert first.num_pages == 2
    assert shown == expected


@pytest.mark.django_db
@pytest.mark.parametrize("index", ["fileentry_unique_location", "fileentry_drive_status"])
def test_listing_indexes_carry_the_id_on_postgresql(index):
    """Deep pages read ids from the ordering index alone (SQLite's end in the rowid)."""
    if connection.vendor != "postgresql":
        pytest.skip("INCLUDE is PostgreSQL's; every SQLite index already holds the rowid")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index])
        (definition,) = cursor.fetchone()
    assert definition.endswith("INCLUDE (id)")
    if index == "fileentry_unique_location":
        assert definition.startswith("CREATE UNIQUE INDEX")


def test_listing_shows_status_colours_and_plain_cells(client, catalog, curator):
    from catalog.models import STATUS_COLOURS

    FileEntry.objects.filter(filename="press.pdf").update(status=Status.UPLOAD, date=None)
    login(client, curator)
    html = client.get(FILES + "?ordering=-status").content.decode()
    upload = STATUS_COLOURS[Status.UPLOAD]
    assert f'style="background: {upload}" aria-hidden="true"></span>Upload</span>' in html
    assert 'class="phs-status phs-status--unreviewed"' in html
    assert "Expansion:/Documents/press/press.pdf" in html


@pytest.mark.parametrize("who", ["reviewer", "operator", "admin_user"])
def test_duplicate_groups_have_no_forms_even_for_superusers(client, catalog, request, who):
    """A group's facts come from update_duplicates; typing another oshash or member count
    into a form would corrupt them. Only the primary is chosen by hand (Make primary)."""
    login(client, request.getfixturevalue(who))
    group = DuplicateGroup.objects.get(oshash=SAME)
    before = list(DuplicateGroup.objects.values().order_by("pk"))
    base = "/admin/snippets/catalog/duplicategroup"
    listing = client.get(f"{base}/").content.decode()
    assert f"{base}/inspect/{group.pk}/" in listing
    assert f"{base}/edit/{group.pk}/" not in listing and f"{base}/add/" not in listing
    for url in (f"{base}/add/", f"{base}/edit/{group.pk}/", f"{base}/delete/{group.pk}/"):
        assert client.get(url).status_code == 302, url  # Wagtail: permission denied
        assert client.post(url, {"oshash": "0" * 16, "member_count": 9}).status_code == 302
    assert list(DuplicateGroup.objects.values().order_by("pk")) == before
    assert client.get(f"{base}/inspect/{group.pk}/").status_code == 200


def test_only_those_who_choose_primaries_see_make_primary(client, catalog, curator, reviewer):
    group = DuplicateGroup.objects.get(oshash=SAME)
    url = f"/admin/snippets/catalog/duplicategroup/inspect/{group.pk}/"
    login(client, reviewer)
    assert "Make primary" in client.get(url).content.decode()
    login(client, curator)
    page = client.get(url).content.decode()
    assert "copies/HD.1080.mp4" in page and "Make primary" not in page


@pytest.mark.parametrize("who", ["operator", "admin_user"])
def test_files_are_neither_added_nor_deleted_in_the_admin(client, catalog, request, who):
    """Files come from imports and stay; an admin form would go around the services
    (folder counts, duplicate groups, search index). Adding one was a 500."""
    login(client, request.getfixturevalue(who))
    file = FileEntry.objects.get(drive__name="Expansion", filename="press.pdf")
    before = FileEntry.objects.count()
    assert f"{FILES}add/" not in client.get(FILES).content.decode()
    assert client.get(f"{FILES}add/").status_code == 302  # Wagtail: permission denied
    assert client.post(f"{FILES}add/", {"status": "upload", "title": "x"}).status_code == 302
    assert client.post(f"{FILES}delete/{file.pk}/").status_code == 302
    bulk_delete = f"/admin/bulk/catalog/fileentry/delete/?id={file.pk}&next={FILES}"
    assert client.post(bulk_delete).status_code in (302, 404)
    assert FileEntry.objects.count() == before
    assert client.get(f"{FILES}edit/{file.pk}/").status_code == 200  # deciding stays


def test_a_files_inspect_page_reads_as_people_read(client, catalog, curator):
    login(client, curator)
    video = FileEntry.objects.get(filename="HD.1080.mp4", drive__name="Expansion")
    taken = datetime(2019, 3, 14, 12, 52, 5, tzinfo=UTC)  # 18:22:05 in Kolkata, as shot
    FileEntry.objects.filter(pk=video.pk).update(
        size=1_234_567_890, duration=3725.5, exif_date=taken
    )
    html = client.get(f"{FILES}inspect/{video.pk}/").content.decode()
    assert "1.1\xa0GB (1,234,567,890 bytes)" in html
    assert "01:02:05.500" in html
    assert "14 Mar 2019, 6:22 p.m." in html  # the archive's time zone, not UTC
    values = [v.strip() for v in re.findall(r"<dd>(.*?)</dd>", html, re.S)]
    assert "None" not in values and "—" in values  # an empty title, a missing date
    assert "False" not in values and "No" in values  # is_primary
