"""One structured log line per request, with nothing secret in it."""

import json
import logging

import pytest
from django.urls import reverse

from phs_site.logs import JsonFormatter

pytestmark = pytest.mark.django_db


def request_lines(caplog):
    return [r for r in caplog.records if r.name == "phs.request"]


def test_one_line_per_request_without_the_query_string(client, caplog):
    caplog.set_level(logging.INFO, logger="phs.request")
    client.get("/healthz?token=s3cr3t-token&next=/admin/")
    [line] = request_lines(caplog)
    assert (line.method, line.path, line.status, line.user_id) == ("GET", "/healthz", 200, None)
    assert line.duration_ms >= 0
    assert "s3cr3t" not in JsonFormatter().format(line)


def test_logged_in_requests_carry_the_user_id_and_never_the_password(client, admin_user, caplog):
    caplog.set_level(logging.INFO, logger="phs.request")
    client.post(reverse("wagtailadmin_login"), {"username": "admin", "password": "pw"})
    client.get(reverse("wagtailadmin_home"))
    login, home = request_lines(caplog)
    assert (login.method, login.status) == ("POST", 302)
    assert (home.path, home.status, home.user_id) == ("/admin/", 200, admin_user.pk)
    for record in request_lines(caplog):
        assert '"pw"' not in JsonFormatter().format(record)


def test_password_reset_tokens_in_the_path_are_masked(client, caplog):
    caplog.set_level(logging.INFO, logger="phs.request")
    url = reverse(
        "wagtailadmin_password_reset_confirm",
        kwargs={"uidb64": "MQ", "token": "c3b4f1-0123456789abcdef"},
    )
    client.get(url)
    [line] = request_lines(caplog)
    assert "0123456789abcdef" not in line.path
    assert line.path == "/admin/password_reset/confirm/***/***/"


def test_json_formatter_writes_one_parseable_line_with_extra_fields():
    logger = logging.getLogger("workflow")
    record = logger.makeRecord(
        "workflow",
        logging.INFO,
        __file__,
        1,
        "exported %s",
        ("file 7",),
        None,
        extra={"file_id": 7, "padma_id": "ABC"},
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "exported file 7"
    assert (parsed["logger"], parsed["level"]) == ("workflow", "INFO")
    assert (parsed["file_id"], parsed["padma_id"]) == (7, "ABC")
