"""The export report in the admin: who sees it, what it shows, and that it is read-only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workflow.export.requests import request_exports
from workflow.export.runner import run_export
from workflow.models import ExportBatch, ExportRequest

from .conftest import clip

pytestmark = pytest.mark.django_db

BATCHES = "/admin/padma-export/batches/"
REQUESTS = "/admin/padma-export/requests/"


@pytest.fixture
def exported(padma, import_files, approve):
    files = approve(import_files([clip(f"c{i}.mp4") for i in range(6)]))
    request_exports(files)
    padma.fail("edit", text="Item is locked", when=lambda d: d["id"] == "C")
    run_export()
    return ExportBatch.objects.get()


def test_anonymous_users_get_the_login_page(client, exported):
    for url in (BATCHES, REQUESTS, f"{BATCHES}inspect/{exported.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("role", ["operator", "reviewer"])
def test_operators_and_reviewers_see_batches_and_results(client, exported, role, request):
    client.force_login(request.getfixturevalue(role))
    listing = client.get(BATCHES)
    assert listing.status_code == 200
    assert "PandoraExporter" in listing.content.decode()
    page = client.get(f"{BATCHES}inspect/{exported.pk}/").content.decode()
    assert "Item is locked" in page and "c2.mp4" in page
    assert client.get(REQUESTS).status_code == 200


def test_the_request_list_filters_by_state(client, exported, operator):
    client.force_login(operator)
    page = client.get(REQUESTS, {"state": "pending"}).content.decode()
    assert "Item is locked" in page and "c2.mp4" in page and "c0.mp4" not in page
    page = client.get(REQUESTS, {"state": "done"}).content.decode()
    assert "c0.mp4" in page and "c2.mp4" not in page


def test_curators_are_denied(client, exported, curator):
    client.force_login(curator)
    for url in (BATCHES, REQUESTS, f"{BATCHES}inspect/{exported.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/admin/"


def test_nobody_can_change_the_outbox_through_the_admin(client, exported, admin_user):
    client.force_login(admin_user)
    request = ExportRequest.objects.first()
    for url in (
        f"{BATCHES}new/",
        f"{BATCHES}edit/{exported.pk}/",
        f"{BATCHES}delete/{exported.pk}/",
        f"{REQUESTS}edit/{request.pk}/",
        f"{REQUESTS}delete/{request.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{REQUESTS}delete/{request.pk}/").status_code == 404
    assert ExportRequest.objects.filter(pk=request.pk).exists()
    assert client.get(BATCHES).status_code == 200


def test_the_request_list_takes_a_constant_number_of_queries(
    client, exported, operator, import_files, approve
):
    client.force_login(operator)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(REQUESTS).status_code == 200
        return len(captured)

    few = queries()
    more = approve(import_files([clip(f"m{i}.mp4", "more") for i in range(30)]))
    request_exports(more)
    assert queries() == few


def test_a_dry_run_batch_shows_its_plan(client, padma, import_files, approve, operator):
    request_exports(approve(import_files([clip("a.mp4")])))
    run_export(dry_run=True)
    client.force_login(operator)
    page = client.get(f"{BATCHES}inspect/{ExportBatch.objects.get().pk}/").content.decode()
    assert "addMedia" in page and "report-only run" in page


def test_inspect_pages_show_times_in_the_archives_time_zone(client, exported, operator):
    import re
    from datetime import UTC, datetime

    ExportBatch.objects.filter(pk=exported.pk).update(
        started_at=datetime(2026, 3, 1, 4, 30, tzinfo=UTC)  # 10:00 in Kolkata
    )
    request = ExportRequest.objects.filter(batch=exported).first()
    client.force_login(operator)
    for url in (f"{BATCHES}inspect/{exported.pk}/", f"{REQUESTS}inspect/{request.pk}/"):
        html = client.get(url).content.decode()
        values = [v.strip() for v in re.findall(r"<dd>(.*?)</dd>", html, re.S)]
        assert values and "None" not in values, url
    batch_page = client.get(f"{BATCHES}inspect/{exported.pk}/").content.decode()
    assert "1 Mar 2026, 10 a.m." in batch_page  # not 4:30 a.m. (UTC)
