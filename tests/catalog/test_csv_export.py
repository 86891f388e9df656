"""CSV and XLSX exports: drive-supplied text never reaches a spreadsheet as a formula.

Every CSV the admin writes (Find files, the file listing, Wagtail's site history report)
puts a ``'`` before a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return (OWASP); XLSX keeps the same text as a string cell, unchanged.
"""

import csv
import io

import openpyxl
import pytest
from wagtail.log_actions import log

from catalog.models import FileEntry
from catalog.services.imports import import_manifest
from phs_site.spreadsheets import formula_safe
from tests.conftest import entry

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("evil.example","x")'
DDE = "=cmd|' -C calc'!A0"
#: Cells a spreadsheet program would run, as the drive supplied them.
HOSTILE = {
    "filename": HYPERLINK,
    "path": "+1+cmd|' -C calc'!A0/stills",
    "camera": DDE,
}
DRIVE = "@SUM(1+1)*cmd|' -C calc'!A0"
FIND = "/admin/find/"
LISTING = "/admin/snippets/catalog/fileentry/"
SITE_HISTORY = "/admin/reports/site-history/"


@pytest.fixture
def hostile_file(write_manifest) -> FileEntry:
    import_manifest(
        write_manifest(
            [
                entry(HOSTILE["filename"], HOSTILE["path"], camera=DDE),
                entry("@home.jpg", "-rough cuts", camera="+Canon"),
            ]
        ),
        drive_name=DRIVE,
    )
    return FileEntry.objects.get(filename=HYPERLINK)


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/csv"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_rows(response) -> list[dict[str, openpyxl.cell.Cell]]:
    assert response.status_code == 200, response.status_code
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    heading, *rows = sheet.iter_rows()
    return [{h.value: cell for h, cell in zip(heading, row, strict=True)} for row in rows]


def is_inert(cell: str) -> bool:
    return not cell or cell[0] not in "=+-@\t\r"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        (DDE, "'" + DDE),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("IMG_0042.JPG", "IMG_0042.JPG"),
        ("a=b", "a=b"),
        ("", ""),
        (-5, -5),
        (None, None),
    ],
)
def test_formula_safe(value, cell):
    assert formula_safe(value) == cell


def test_find_files_csv(client, hostile_file, curator):
    client.force_login(curator)
    rows = csv_rows(client.get(f"{FIND}?export=csv"))
    assert len(rows) == 2
    assert all(is_inert(cell) for row in rows for cell in row.values()), rows
    row = next(row for row in rows if row["Filename"] == "'" + HYPERLINK)
    assert (row["Drive"], row["Path"], row["Camera"]) == (
        "'" + DRIVE,
        "'" + HOSTILE["path"],
        "'" + DDE,
    )
    other = next(row for row in rows if row["Filename"] == "'@home.jpg")
    assert (other["Path"], other["Camera"]) == ("'-rough cuts", "'+Canon")


def test_file_listing_csv(client, hostile_file, curator):
    client.force_login(curator)
    rows = csv_rows(client.get(f"{LISTING}?export=csv"))
    assert len(rows) == 2
    assert all(is_inert(cell) for row in rows for cell in row.values()), rows
    assert {row["Filename"] for row in rows} == {"'" + HYPERLINK, "'@home.jpg"}
    assert {row["Drive"] for row in rows} == {"'" + DRIVE}


def test_site_history_csv(client, hostile_file, admin_user):
    """Wagtail's own report: a log entry's label is the file's location (drive first)."""
    log(instance=hostile_file, action="wagtail.edit", user=admin_user)
    client.force_login(admin_user)
    rows = csv_rows(client.get(f"{SITE_HISTORY}?export=csv"))
    labels = [row["Name"] for row in rows if row["Name"].lstrip("'").startswith(DRIVE)]
    assert labels == ["'" + hostile_file.location]
    assert all(is_inert(cell) for row in rows for cell in row.values()), rows


@pytest.mark.parametrize("url", [FIND, LISTING])
def test_xlsx_keeps_the_text_as_text(client, hostile_file, curator, url):
    client.force_login(curator)
    rows = xlsx_rows(client.get(f"{url}?export=xlsx"))
    row = next(row for row in rows if row["Filename"].value == HYPERLINK)
    assert row["Drive"].value == DRIVE
    assert row["Path"].value == HOSTILE["path"]
    cells = [cell for row in rows for cell in row.values() if isinstance(cell.value, str)]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_wagtail_reports_still_open_and_export(client, hostile_file, admin_user):
    """phs_site.urls serves every Wagtail report that exports through the formula-safe
    view; each still opens, and its URL name still resolves to it."""
    from django.urls import resolve, reverse

    from phs_site.spreadsheets import FormulaSafeExportMixin
    from phs_site.urls import formula_safe_reports

    client.force_login(admin_user)
    assert len(formula_safe_reports) >= 6  # site history, workflows, tasks: page + results
    for pattern in formula_safe_reports:
        url = f"/{pattern.pattern}"
        assert issubclass(resolve(url).func.view_class, FormulaSafeExportMixin), url
        assert client.get(url).status_code == 200, url
        assert client.get(f"{url}?export=csv").status_code == 200, url
    assert resolve(reverse("wagtailadmin_reports:site_history")).func.view_class.__name__ == (
        "FormulaSafeLogEntriesView"
    )


def test_the_reports_stay_behind_the_admin_login(client, make_user):
    """Served outside wagtail.admin.urls, the reports keep its login: an anonymous
    visitor is sent to sign in, a user without admin access is refused (site history
    answered 200 to anyone while the views were re-routed without it)."""
    from phs_site.urls import formula_safe_reports

    urls = [f"/{pattern.pattern}" for pattern in formula_safe_reports]
    for url in urls:
        response = client.get(f"{url}?export=csv")
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    client.force_login(make_user("nobody"))
    for url in urls:
        assert client.get(f"{url}?export=csv").status_code in (302, 403), url
