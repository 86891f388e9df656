"""Security headers and the Content-Security-Policy on admin pages."""

import base64
import hashlib

import pytest
from django.urls import reverse

from phs_site.csp import widget_script_hashes

pytestmark = pytest.mark.django_db


def sha256_source(script: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


def test_login_page_headers(client):
    response = client.get(reverse("wagtailadmin_login"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]  # no inline script on the login page
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]


def test_widget_initialisers_are_allowed_by_hash_on_the_page_that_has_them(client, admin_user):
    client.force_login(admin_user)
    # The file listing's date-range filter renders two inline initDateChooser calls.
    response = client.get("/admin/snippets/catalog/fileentry/")
    assert response.status_code == 200
    scripts = widget_script_hashes(response.content.decode())
    assert len(scripts) == 2
    assert directives(response)["script-src"] == ["'self'", *scripts]


def test_only_exact_widget_calls_with_json_options_are_hashed():
    date_call = 'initDateChooser("id_date", {"dayOfWeekStart": 1, "format": "Y-m-d"});'
    chooser_call = (
        'new SnippetChooser("id_project_group", {"modalUrl": "/admin/snippets/choose/x/"});'
    )
    formset_call = 'initDateChooser("id_form\\u002D0\\u002Ddate", {"format": "Y-m-d"});'
    html = "".join(
        f"<script>{body}</script>"
        for body in (
            date_call,
            chooser_call,
            formset_call,
            "alert(document.cookie);",
            'initDateChooser("id_date", {}); alert(1);',
            'initDateChooser("id_date", {"a": alert(1)});',
            'new Function("id", {});',
            'initDateChooser("x\\"); alert(1); //", {});',
        )
    )
    html += f'<script type="module">{date_call}</script>'  # attributes: not Wagtail's shape
    assert widget_script_hashes(html) == [
        sha256_source(date_call),
        sha256_source(chooser_call),
        sha256_source(formset_call),
    ]


def test_pages_without_widgets_keep_the_strict_policy(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    assert directives(response)["script-src"] == ["'self'"]
