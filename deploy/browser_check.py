"""Open the admin in Debian's headless Chromium and collect Content-Security-Policy violations.

Used by deploy/smoke-test (through nginx, production settings) and by
tests/deploy/test_browser_csp.py (pytest's live server). Never downloads a browser.

    python deploy/browser_check.py BASE_URL USERNAME PASSWORD   # exit 1 on any violation
"""

import sys
from dataclasses import dataclass, field

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


@dataclass
class Report:
    titles: dict[str, str] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    date_picker_opened: bool = False
    chooser_modal_opened: bool = False


def admin_pages_under_csp(
    base_url: str, username: str, password: str, extra_paths=(), ignore_https_errors=False
) -> Report:
    from playwright.sync_api import sync_playwright

    report = Report()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(ignore_https_errors=ignore_https_errors)
        page = context.new_page()

        def on_console(message):
            # Chromium reports a blocked resource or inline script as a console error
            # naming the Content Security Policy.
            if "Content Security Policy" in message.text:
                report.violations.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: report.page_errors.append(f"{page.url}: {error}"))

        page.goto(f"{base_url}/admin/login/")
        report.titles["/admin/login/"] = page.title()
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/admin/")
        for path in ["/admin/", *extra_paths]:
            page.goto(f"{base_url}{path}")
            page.wait_for_load_state("networkidle")
            report.titles[path] = page.title()
            if "/edit/" in path:
                report.date_picker_opened = _opens_date_picker(page)
                report.chooser_modal_opened = _opens_chooser_modal(page)
        browser.close()
    return report


def _opens_date_picker(page) -> bool:
    date_input = page.locator("input[autocomplete=off][name=date]")
    if not date_input.count():
        return False
    date_input.first.click()
    page.wait_for_timeout(300)
    opened = page.locator(".xdsoft_datetimepicker:visible").count() > 0
    page.keyboard.press("Escape")
    return opened


def _opens_chooser_modal(page) -> bool:
    button = page.locator("[data-chooser-action-choose]")
    if not button.count():
        return False
    button.first.click()
    try:
        page.wait_for_selector(".modal-body", timeout=5000)
    except Exception:  # playwright's TimeoutError: the modal never came
        return False
    page.wait_for_load_state("networkidle")
    return True


def main(argv: list[str]) -> int:
    base_url, username, password = argv[1:4]
    report = admin_pages_under_csp(base_url, username, password, ignore_https_errors=True)
    for path, title in report.titles.items():
        print(f"  {path}: {title}")
    for problem in report.violations + report.page_errors:
        print(f"  CSP/JS problem: {problem}")
    return 1 if report.violations or report.page_errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
