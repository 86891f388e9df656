"""The admin runs under the Content-Security-Policy: real Chromium, no CSP violations.

Debian's chromium only (never a downloaded browser). Without it the test skips, except
in CI (CI=true), where a missing browser is a failure.
"""

import os
from pathlib import Path

import pytest
from deploy_browser import CHROMIUM, admin_pages_under_csp

from tests.conftest import entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


@pytest.fixture
def wagtail_root_page():
    """The dashboard needs the locale and root page migrations make; transactional tests flush them."""
    from django.conf import settings
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Locale, Page

    language = get_supported_content_language_variant(settings.LANGUAGE_CODE)
    Locale.objects.get_or_create(language_code=language)
    if not Page.objects.filter(depth=1).exists():
        Page.add_root(instance=Page(title="Root", slug="root"))


@pytest.fixture
def catalogued_file(write_manifest):
    from io import StringIO

    from django.core.management import call_command

    from catalog.models import FileEntry

    call_command("import_json", str(write_manifest([entry("P1000101.JPG")])), stdout=StringIO())
    return FileEntry.objects.get()


def test_admin_pages_run_without_csp_violations(
    chromium, live_server, wagtail_root_page, admin_user, catalogued_file
):
    report = admin_pages_under_csp(
        live_server.url,
        "admin",
        "pw",
        extra_paths=[
            "/admin/snippets/catalog/fileentry/",
            f"/admin/snippets/catalog/fileentry/edit/{catalogued_file.pk}/",
            "/admin/snippets/catalog/duplicategroup/",
            "/admin/signin-lockouts/",
        ],
    )
    assert report.violations == []
    assert report.page_errors == []
    assert report.titles["/admin/"].startswith("Dashboard")
    assert report.titles["/admin/signin-lockouts/"].startswith("Sign-in lockouts")
    # Widgets whose inline initialisers the policy admits by hash really ran:
    assert report.date_picker_opened
    assert report.chooser_modal_opened
