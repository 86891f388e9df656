"""The export report in the admin: who sees it, what it shows, and that it is read-only."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from workflow.export.base import ExportError
from workflow.export.runner import run_export
from workflow.export.status import request_message
from workflow.models import ExportBatch, ExportRequest

from .conftest import clip
from .export_support import closed_port_url

pytestmark = pytest.mark.django_db

BATCHES = "/admin/padma-export/batches/"
REQUESTS = "/admin/padma-export/requests/"


@pytest.fixture
def exported(padma, import_files, approve):
    approve(import_files([clip(f"c{i}.mp4") for i in range(6)]))
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
    approve(import_files([clip(f"m{i}.mp4", "more") for i in range(30)]))
    assert queries() == few


def test_a_dry_run_batch_shows_its_plan(client, padma, import_files, approve, operator):
    approve(import_files([clip("a.mp4")]))
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


# -- the Message column: why a request is pending ----------------------------------------


def messages_in_listing(client, operator) -> dict[str, str]:
    """{file name: its Message cell} from the request listing's HTML."""
    client.force_login(operator)
    html = client.get(REQUESTS).content.decode()
    html = html[html.index('<table class="listing">') :]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    cells = {}
    for row in rows:
        tds = [
            re.sub(r"<[^>]+>|\s+", " ", td).strip()
            for td in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        names = re.findall(r"[\w-]+\.mp4", row)
        if tds and names:
            cells[names[0]] = unescape(tds[MESSAGE_COLUMN])
    return cells


#: The listing's cells: File, State, Attempts, Message, …
MESSAGE_COLUMN = 3


@pytest.fixture
def waiting(import_files, approve):
    return approve(import_files([clip("w0.mp4"), clip("w1.mp4")]))


def test_a_new_request_waits_for_the_next_run(client, waiting, operator):
    assert messages_in_listing(client, operator) == {
        "w0.mp4": "Waiting for the next export run",
        "w1.mp4": "Waiting for the next export run",
    }


def test_missing_settings_are_the_message(
    client, import_files, approve, operator, settings, django_capture_on_commit_callbacks
):
    settings.PADMA_USERNAME, settings.PADMA_PASSWORD = "", "set"
    with django_capture_on_commit_callbacks(execute=True):  # the approval's export task runs
        approve(import_files([clip("w0.mp4")]))
    assert messages_in_listing(client, operator) == {
        "w0.mp4": "Not sent yet: PADMA_USERNAME is not set"
    }


def test_a_refused_sign_in_is_the_message_without_the_password(
    client, padma, waiting, operator, settings
):
    settings.PADMA_PASSWORD = "nope-not-it"
    with pytest.raises(ExportError):
        run_export()
    message = messages_in_listing(client, operator)["w0.mp4"]
    assert message == (
        f"Not sent yet: pad.ma at {padma.url} refused the sign-in for user 'phs-exporter' "
        "(password: Incorrect password); check PADMA_USERNAME and PADMA_PASSWORD"
    )
    assert "nope-not-it" not in message


def test_unreachable_pad_ma_is_the_message(client, waiting, operator, settings):
    settings.PADMA_URL = url = closed_port_url()
    settings.PADMA_USERNAME, settings.PADMA_PASSWORD = "u", "p"
    with pytest.raises(ExportError):
        run_export()
    assert messages_in_listing(client, operator)["w1.mp4"] == (
        f"Not sent yet: pad.ma at {url} is unreachable: connection refused"
    )
    # A dry run reports only: it leaves the requests' messages alone.
    ExportRequest.objects.update(last_error="")
    with pytest.raises(ExportError):
        run_export(dry_run=True)
    assert set(ExportRequest.objects.values_list("last_error", flat=True)) == {""}


def test_a_retry_in_backoff_says_when_in_the_archives_time_zone(client, padma, waiting, operator):
    padma.fail("edit", code=500, text="server error", when=lambda d: d["id"] == "A")
    run_export()
    request = ExportRequest.objects.get(state="pending")
    # Tomorrow in the archive's time zone (whatever the hour of the run), so the cell
    # carries the date too: 14:05 there.
    kolkata = ZoneInfo("Asia/Kolkata")
    tomorrow = timezone.now().astimezone(kolkata) + timedelta(days=1)
    local = tomorrow.replace(hour=14, minute=5, second=0, microsecond=0)
    retry_at = local.astimezone(UTC)
    ExportRequest.objects.filter(pk=request.pk).update(next_attempt_at=retry_at)
    assert messages_in_listing(client, operator)[request.file.filename] == (
        f"Retrying after {local.day} {local:%b} 14:05 (attempt 2): edit: server error (status 500)"
    )


def test_message_of_a_retry_today_is_the_time_alone(import_files, approve):
    approve(import_files([clip("a.mp4")]))
    request = ExportRequest.objects.get()
    request.attempts, request.last_error = 1, "edit: server error (status 500)"
    request.next_attempt_at = datetime(2026, 3, 1, 8, 35, tzinfo=UTC)
    now = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    assert request_message(request, now=now) == (
        "Retrying after 14:05 (attempt 2): edit: server error (status 500)"
    )
    request.state, request.attempts, request.next_attempt_at = "failed", 6, None
    assert request_message(request, now=now) == (
        "Gave up after 6 attempts: edit: server error (status 500); "
        "export_padma --retry-failed tries again"
    )


def test_pad_ma_going_away_mid_run_is_the_message_of_those_left(client, padma, waiting, operator):
    padma.fail("edit", mode="drop", when=lambda d: d["id"] == "A")
    run_export()
    cells = messages_in_listing(client, operator)
    assert cells["w0.mp4"].startswith("Retrying after ")
    assert cells["w1.mp4"].startswith("Not sent yet: pad.ma did not answer edit: the ")
