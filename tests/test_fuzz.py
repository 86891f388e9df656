"""No input is a 500: generated query strings and JSON bodies against every JSON endpoint,
every listing, the bulk-action address and the preview addresses, as each role
(anonymous, curator, reviewer, operator, administrator).

Hypothesis draws the role with the input, so each endpoint costs a bounded number of
requests (``EXAMPLES``) whatever the number of roles. Values mix what a client may send
(known ids and choices) with what nobody should: integers past 64 bits, NUL, invalid
UTF-8, lone surrogates in JSON escapes, deep nesting, unknown keys.
"""

import json
import os
from urllib.parse import quote, quote_from_bytes

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import Drive, DuplicateGroup, FileEntry, ProjectGroup, Status
from catalog.services.duplicates import update_duplicates
from catalog.services.imports import import_manifest
from tests.conftest import entry
from workflow.models import ExportBatch, ExportRequest
from workflow.services import review

pytestmark = pytest.mark.django_db

#: Requests per endpoint, each as a drawn role: the fuzz adds about 40 s on either database.
#: PHS_FUZZ_EXAMPLES=500 for a deeper search.
EXAMPLES = int(os.environ.get("PHS_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no example cache to replay: each run draws afresh, bounded
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ROLES = ["anonymous", "curator", "reviewer", "operator", "admin"]


@pytest.fixture
def world(write_manifest, curator, reviewer, operator, admin_user):
    """Two drives with copies, a project group, a submitted file, an export request; a
    logged-in client per role; the ids the strategies draw from."""
    entries = [
        entry("one.jpg", "a/b", oshash="000000000000a001"),
        entry("two.mp4", "a", file_type="video/mp4"),
        entry("three.pdf", file_type="application/pdf", camera="=cmd"),
    ]
    import_manifest(write_manifest(entries), drive_name="Expansion")
    import_manifest(
        write_manifest([entry("one.jpg", "copy", oshash="000000000000a001")], "B.json"),
        drive_name="Backup",
    )
    update_duplicates()
    ProjectGroup.objects.create(name="Rehearsals")
    submitted = FileEntry.objects.get(filename="two.mp4")
    review.save_decision(file=submitted, user=curator, changes={"status": Status.UPLOAD})
    review.submit_for_review(file=submitted, user=curator)
    batch = ExportBatch.objects.create(backend="fuzz")
    ExportRequest.objects.create(file=FileEntry.objects.get(filename="three.pdf"), batch=batch)
    clients = {"anonymous": Client()}
    for name, user in [
        ("curator", curator),
        ("reviewer", reviewer),
        ("operator", operator),
        ("admin", admin_user),
    ]:
        clients[name] = Client()
        clients[name].force_login(user)
    ids = {
        "file": list(FileEntry.objects.values_list("pk", flat=True)),
        "drive": list(Drive.objects.values_list("pk", flat=True)),
        "group": list(DuplicateGroup.objects.values_list("pk", flat=True)),
        "project_group": list(ProjectGroup.objects.values_list("pk", flat=True)),
        "batch": [batch.pk],
    }
    return clients, ids


# --- strategies ------------------------------------------------------------------------

HUGE = st.sampled_from([2**31, 2**63 - 1, 2**63, 2**64, 2**70, -(2**63) - 1, 10**30])
INTS = st.one_of(st.integers(-5, 10), st.integers(), HUGE)
#: Text a query string can carry: any character but a surrogate (not encodable).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
KNOWN = st.sampled_from(
    [
        *["", "0", "1", "all", "none", "yes", "no", "true", "false", "csv", "xlsx", "upload"],
        *["unreviewed", "discard", "in_review", "video", "image", "2019", "2019-03-14", "-size"],
        *["\x00", "²", "٣", "1e9", " 1", "1_000", "%", "'", '"><', "a/../b", "../../etc"],
    ]
)


def query_value():
    return st.one_of(
        INTS.map(str),
        HUGE.map(str),
        TEXT,
        KNOWN,
        st.binary(max_size=8).map(lambda b: b.decode("latin-1")),
    )


def query_string(names: list[str]):
    """``name=value`` pairs, repeated names allowed, some values raw invalid UTF-8."""
    # Mostly the endpoint's own parameters; now and then one it does not know.
    name = st.one_of(st.sampled_from(names), st.sampled_from(names), TEXT)
    pair = st.tuples(name, query_value())
    raw = st.tuples(st.sampled_from(names), st.binary(min_size=1, max_size=6))

    def encode(pairs):
        return "&".join(
            f"{quote(name, safe='')}={quote(value, safe='')}"
            if isinstance(value, str)
            else f"{quote(name, safe='')}={quote_from_bytes(value, safe='')}"
            for name, value in pairs
        )

    return st.lists(st.one_of(pair, raw), max_size=6).map(encode)


#: JSON text may hold lone surrogates as escapes (json.dumps writes ``\udce9``).
JSON_TEXT = st.text(max_size=20)
JSON_SCALAR = st.one_of(st.none(), st.booleans(), INTS, st.floats(), JSON_TEXT, KNOWN)
JSON_ANY = st.recursive(
    JSON_SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_TEXT, inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["status", "title", "project_group", "date", "description", "notes"]
FIELD_VALUES = st.one_of(
    st.sampled_from([s.value for s in Status] + ["2019-03-14", "14/03/2019", "", None]),
    JSON_SCALAR,
    JSON_ANY,
)


def json_body():
    fields = st.dictionaries(st.one_of(st.sampled_from(FIELDS), JSON_TEXT), FIELD_VALUES)
    obj = st.fixed_dictionaries(
        {},
        optional={
            "version": st.one_of(st.integers(0, 3), INTS, JSON_ANY),
            "changes": st.one_of(fields, JSON_ANY),
            "base": st.one_of(fields, JSON_ANY),
            "comment": st.one_of(JSON_TEXT, JSON_ANY),
        },
    ).map(lambda data: json.dumps(data).encode())
    nested = st.integers(1, 60_000).map(lambda depth: ("[" * depth).encode())
    return st.one_of(obj, JSON_ANY.map(lambda v: json.dumps(v).encode()), nested, st.binary())


def an_id(kind: str, ids: dict):
    return st.one_of(st.sampled_from(ids[kind]), st.integers(0, 2**70))


# --- the checks ------------------------------------------------------------------------


def no_500(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"


LISTINGS = {
    "/admin/snippets/catalog/fileentry/": [
        *["q", "p", "ordering", "drive", "status", "review_state", "category"],
        *["project_group", "camera", "duplicate", "date_after", "date_before", "export"],
    ],
    "/admin/snippets/catalog/fileentry/results/": ["q", "p", "ordering", "drive", "status"],
    "/admin/find/": [
        *["q", "p", "sort", "drive", "category", "status", "review", "project_group"],
        *["camera", "year", "duplicate", "exported", "export"],
    ],
    "/admin/snippets/catalog/drive/": ["q", "p", "ordering", "export"],
    "/admin/snippets/catalog/duplicategroup/": ["q", "p", "ordering"],
    "/admin/snippets/catalog/projectgroup/": ["q", "p", "ordering"],
    "/admin/padma-export/requests/": ["p", "ordering", "state", "batch"],
    "/admin/padma-export/batches/": ["p", "ordering", "dry_run"],
    "/admin/": ["q", "p"],
}


@pytest.mark.parametrize("url", list(LISTINGS))
def test_listings_never_500(world, url):
    clients, _ids = world

    @FUZZ
    @given(role=st.sampled_from(ROLES), query=query_string(LISTINGS[url]))
    def check(role, query):
        no_500(clients[role].get(f"{url}?{query}"), f"{role} GET {url}?{query}")

    check()


CURATE_QUERIES = {
    "/admin/curate/api/tree/": ["drive", "path", "filter", "offset", "limit"],
    "/admin/curate/api/next-unreviewed/": ["drive", "path", "filename"],
    "/admin/curate/api/step/": ["drive", "path", "filename", "direction", "filter", "wrap"],
    "/admin/curate/": ["drive", "file"],
}


@pytest.mark.parametrize("url", list(CURATE_QUERIES))
def test_curate_reads_never_500(world, url):
    clients, ids = world

    @FUZZ
    @given(
        role=st.sampled_from(ROLES),
        query=query_string(CURATE_QUERIES[url]),
        drive=an_id("drive", ids),
    )
    def check(role, query, drive):
        full = f"{url}?drive={drive}&{query}"
        no_500(clients[role].get(full, HTTP_X_REQUESTED_WITH="XMLHttpRequest"), f"{role} {full}")

    check()


@pytest.mark.parametrize("action", ["", "submit/", "approve/", "reject/", "cancel/"])
def test_curate_writes_never_500(world, action):
    clients, ids = world

    @FUZZ
    @given(role=st.sampled_from(ROLES), file_id=an_id("file", ids), body=json_body())
    def check(role, file_id, body):
        url = f"/admin/curate/api/files/{file_id}/{action}"
        response = clients[role].post(url, body, content_type="application/json")
        no_500(response, f"{role} POST {url} {body[:200]!r}")
        no_500(clients[role].get(url), f"{role} GET {url}")

    check()


BULK = [
    "catalog/fileentry/set_status",
    "catalog/fileentry/set_project_group",
    "catalog/fileentry/submit_for_review",
    "catalog/fileentry/approve",
    "catalog/fileentry/reject",
    "catalog/fileentry/make_primary",
    "catalog/drive/delete",
    "catalog/projectgroup/delete",
]


@pytest.mark.parametrize("action", BULK)
def test_bulk_actions_never_500(world, action):
    clients, ids = world
    url = f"/admin/bulk/{action}/"
    form = st.dictionaries(
        st.sampled_from(["status", "project_group", "comment", "next"]), query_value()
    )

    @FUZZ
    @given(
        role=st.sampled_from(ROLES),
        chosen=st.lists(an_id("file", ids).map(str) | query_value(), max_size=3),
        query=query_string(["id", "next", "childOf"]),
        data=form,
    )
    def check(role, chosen, query, data):
        full = url + "?" + "&".join(f"id={quote(i, safe='')}" for i in chosen) + "&" + query
        client = clients[role]
        no_500(client.get(full), f"{role} GET {full}")
        if not action.endswith("delete"):  # "all" would empty the catalog for the rest
            no_500(client.post(full, data), f"{role} POST {full} {data}")

    check()


EDITOR_FIELDS = [*FIELDS, "opened_version", "opened_values", "action-cancel-workflow"]
EDITOR_VALUES = st.one_of(
    query_value(),
    json_body().map(lambda body: body.decode("utf-8", "replace")),
    st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, JSON_SCALAR)).map(json.dumps),
)


def test_the_file_editor_never_500s(world):
    clients, ids = world

    @FUZZ
    @given(
        role=st.sampled_from(ROLES),
        file_id=an_id("file", ids),
        data=st.dictionaries(st.sampled_from(EDITOR_FIELDS), EDITOR_VALUES),
    )
    def check(role, file_id, data):
        url = f"/admin/snippets/catalog/fileentry/edit/{file_id}/"
        no_500(clients[role].post(url, data), f"{role} POST {url} {data}")

    check()


# --- what the fuzz found, kept as plain examples -----------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        f"drive={2**63}",  # OverflowError
        f"q=0&drive={2**63}",
        f"project_group={2**64}",
        "drive=%C2%B2",  # "²".isdigit() is True, int("²") a ValueError
        "drive=1&drive=%C2%B2",
        "project_group=%C2%B2",
        "year=%C2%B2",
        "p=%C2%B2",
    ],
)
def test_find_files_ignores_ids_that_are_no_row_ids(world, query):
    clients, _ids = world
    response = clients["curator"].get(f"/admin/find/?{query}")
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["get", "post"])
def test_preview_addresses_never_500(world, method):
    """Preview addresses: any oshash and kind in the path, any upload and frame times."""
    clients, _ids = world
    segment = st.one_of(
        st.sampled_from(["000000000000a001", "0000000000000000", "thumb", "review", "strip"]),
        st.text(alphabet=st.characters(blacklist_characters="/?#"), min_size=1, max_size=40),
    )

    @FUZZ
    @given(
        role=st.sampled_from(ROLES),
        oshash=segment,
        kind=st.sampled_from(["thumb", "review", "poster", "strip", "waveform", "page", "text"]),
        image=st.binary(max_size=2048),
        times=st.text(max_size=60),
    )
    def check(role, oshash, kind, image, times):
        url = f"/admin/previews/{quote(oshash, safe='')}/{kind}/"
        if method == "get":
            response = clients[role].get(url)
        else:
            upload = SimpleUploadedFile("preview.webp", image, content_type="image/webp")
            response = clients[role].post(url, {"image": upload, "times": times})
        no_500(response, f"{role} {method.upper()} {url}")

    check()
