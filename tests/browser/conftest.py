"""Browser tests: Debian's headless Chromium driven by Playwright against pytest-django's
live server. Never downloads a browser.

Without /usr/bin/chromium the tests skip, except in CI (``CI=true``), where a missing
browser is a failure.
"""

import os
from io import StringIO
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pw"  # tests.conftest.make_user's password
#: Set to write the screenshots into docs/img/ (otherwise they go to a temporary folder).
UPDATE_SCREENSHOTS = os.environ.get("PHS_UPDATE_SCREENSHOTS") == "1"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture(scope="session")
def chromium_path():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt install chromium); browser tests skipped")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path):
    """One Chromium per test module.

    Playwright's sync API runs an event loop in this thread while it is open, and Django
    then refuses ORM calls from "an async context"; the tests' own ORM calls between
    browser steps are synchronous and safe, so DJANGO_ALLOW_ASYNC_UNSAFE is set for as
    long as the browser runs, and only then (``check --deploy`` rightly flags it).
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server):
    """A fresh context (its own cookies, IndexedDB and OPFS) logged in as ``username``."""
    contexts = []

    def make(username: str, **context_options):
        context = browser.new_context(viewport={"width": 1440, "height": 960}, **context_options)
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on(
            "console",
            lambda message: (
                page.problems.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        try:
            page.wait_for_url(f"{live_server.url}/admin/")
        except Exception as error:
            text = page.locator("body").inner_text()[:500]
            raise AssertionError(f"login as {username} failed on {page.url}: {text}") from error
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def demo_drives(tmp_path):
    """The demo's two drives of real media, scanned, imported and grouped; name -> folder."""
    from django.core.management import call_command

    from catalog.demo import build_demo_media, ensure_project_groups
    from catalog.services.duplicates import update_duplicates

    drives = build_demo_media(tmp_path / "media")
    for name, folder in drives.items():
        manifest = tmp_path / f"{name}.json"
        call_command("scan_folder", str(folder), str(manifest), stdout=StringIO())
        call_command("import_json", str(manifest), "--drive", name, stdout=StringIO())
    update_duplicates()
    ensure_project_groups()
    return drives


@pytest.fixture
def screenshot_dir(tmp_path):
    if UPDATE_SCREENSHOTS:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        return DOCS_IMG
    return tmp_path


@pytest.fixture(autouse=True)
def roles_and_workflow(transactional_db):
    """The groups, permissions and review workflow that migrations create.

    Transactional tests flush the database between tests, and the serialized copy is
    not always restored with the live server's shared in-memory SQLite; the migrations'
    own functions (idempotent) put the rows back.
    """
    import importlib

    from django.apps import apps

    importlib.import_module("catalog.migrations.0002_roles").create_roles(apps, None)
    importlib.import_module("workflow.migrations.0002_publication_workflow").create_workflow(
        apps, None
    )
