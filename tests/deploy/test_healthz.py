"""/healthz: no login, JSON, 200 when the database answers and migrations are applied."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import OperationalError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from phs_site import health

pytestmark = pytest.mark.django_db


def test_healthy_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "vendor": connection.vendor}
    assert body["migrations"] == {"ok": True, "pending": []}
    assert "no-cache" in response["Cache-Control"]


def test_reports_the_task_backlog_when_django_tasks_db_is_installed(client):
    body = client.get("/healthz").json()
    if apps.is_installed("django_tasks_db"):
        assert body["tasks"] == {
            "ready": 0,
            "running": 0,
            "failed": 0,
            "oldest_ready_seconds": None,
        }
    else:
        assert "tasks" not in body


def test_unapplied_migration_makes_it_unavailable(client):
    leaf = next(
        node for node in MigrationLoader(connection).graph.leaf_nodes() if node[0] == "catalog"
    )
    MigrationRecorder(connection).record_unapplied(*leaf)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["migrations"] == {"ok": False, "pending": [f"{leaf[0]}.{leaf[1]}"]}


def test_database_failure_is_503_with_the_error_class_only(client, monkeypatch):
    def refuse():
        raise OperationalError('connection to server at "db.internal" (10.0.0.5) refused')

    monkeypatch.setitem(health.REQUIRED_CHECKS, "database", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "database": {"ok": False, "error": "OperationalError"},
        "status": "unavailable",
    }
    assert b"db.internal" not in response.content


def test_reports_the_export_backlog(client, write_manifest):
    from django.utils import timezone

    from catalog.models import FileEntry
    from catalog.services.imports import import_manifest
    from tests.conftest import entry
    from workflow.models import ExportRequest, ExportState

    import_manifest(write_manifest([entry("a.mp4"), entry("b.mp4")]), drive_name="D")
    a, b = FileEntry.objects.order_by("pk")
    ExportRequest.objects.create(file=a)
    ExportRequest.objects.filter(file=a).update(requested_at=timezone.now() - timedelta(minutes=5))
    ExportRequest.objects.create(file=b, state=ExportState.FAILED)
    exports = client.get("/healthz").json()["exports"]
    assert (exports["pending"], exports["failed"]) == (1, 1)
    assert 299 <= exports["oldest_pending_age_seconds"] < 400


def test_a_failing_export_check_is_reported_but_keeps_the_site_in_rotation(client, monkeypatch):
    def broken():
        raise RuntimeError("pad.ma password=hunter2")

    monkeypatch.setitem(health.REPORTED_CHECKS, "exports", broken)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["exports"] == {"ok": False, "error": "RuntimeError"}
    assert b"hunter2" not in response.content


def test_only_safe_methods(client):
    assert client.post("/healthz").status_code == 405


# --- who sees what ------------------------------------------------------------------------
OUTSIDE = "203.0.113.7"
#: How requests reach Django: directly over loopback, or through nginx (which connects
#: from loopback and says whom it served, overwriting any such header of the client's).
DIRECT_LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
DIRECT_LOOPBACK_V6 = {"REMOTE_ADDR": "::1"}
NGINX_FROM_LOOPBACK = {
    "REMOTE_ADDR": "127.0.0.1",
    "HTTP_X_REAL_IP": "127.0.0.1",
    "HTTP_X_FORWARDED_FOR": "127.0.0.1",
}
NGINX_FROM_OUTSIDE = {
    "REMOTE_ADDR": "127.0.0.1",
    "HTTP_X_REAL_IP": OUTSIDE,
    "HTTP_X_FORWARDED_FOR": OUTSIDE,
}
#: A proxy that sets only X-Forwarded-For (its last entry is the proxy's own client).
PROXY_WITHOUT_REAL_IP = {"REMOTE_ADDR": "::1", "HTTP_X_FORWARDED_FOR": f"127.0.0.1, {OUTSIDE}"}
#: A client off the machine claiming to be local: its headers are its own words.
SPOOFED = {"REMOTE_ADDR": OUTSIDE, "HTTP_X_REAL_IP": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "::1"}


@pytest.mark.parametrize(
    "caller",
    [{"REMOTE_ADDR": OUTSIDE}, NGINX_FROM_OUTSIDE, PROXY_WITHOUT_REAL_IP, SPOOFED],
    ids=["direct", "through-nginx", "proxy-without-x-real-ip", "spoofed-headers"],
)
def test_anonymous_callers_from_elsewhere_get_the_status_only(client, caller):
    response = client.get("/healthz", **caller)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "caller",
    [DIRECT_LOOPBACK, DIRECT_LOOPBACK_V6, NGINX_FROM_LOOPBACK],
    ids=["direct", "direct-ipv6", "through-nginx"],
)
def test_the_machine_itself_gets_the_details(client, caller):
    body = client.get("/healthz", **caller).json()
    assert body["database"] == {"ok": True, "vendor": connection.vendor}
    assert body["migrations"] == {"ok": True, "pending": []}
    assert "exports" in body


def test_admin_users_get_the_details_from_anywhere(client, curator):
    client.force_login(curator)
    body = client.get("/healthz", **NGINX_FROM_OUTSIDE).json()
    assert body["database"]["vendor"] == connection.vendor
    assert "exports" in body


def test_a_user_without_admin_access_gets_the_status_only(client, make_user):
    client.force_login(make_user("visitor"))
    assert client.get("/healthz", **NGINX_FROM_OUTSIDE).json() == {"status": "ok"}


def test_an_unhealthy_site_tells_outsiders_only_that(client):
    leaf = next(
        node for node in MigrationLoader(connection).graph.leaf_nodes() if node[0] == "catalog"
    )
    MigrationRecorder(connection).record_unapplied(*leaf)
    response = client.get("/healthz", **NGINX_FROM_OUTSIDE)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
