"""The listings offer each person only the bulk actions they may use: no *Delete* on
files or duplicate groups (never deleted in the admin), *Approve*/*Reject* for
reviewers, *Make primary* for those who choose primaries, drive *Delete* for operators
with the permission."""

import re

import pytest

from catalog.models import FileEntry
from catalog.services.duplicates import update_duplicates
from catalog.services.imports import import_manifest
from tests.conftest import entry

pytestmark = pytest.mark.django_db

FILES = "/admin/snippets/catalog/fileentry/"
GROUPS = "/admin/snippets/catalog/duplicategroup/"
DRIVES = "/admin/snippets/catalog/drive/"


@pytest.fixture
def catalog(write_manifest):
    entries = [entry("a.jpg", oshash="00000000000000aa"), entry("b.jpg", oshash="00000000000000aa")]
    import_manifest(write_manifest(entries), drive_name="D")
    update_duplicates()
    return FileEntry.objects.all()


def offered(client, url) -> set[str]:
    html = client.get(url).content.decode()
    footer = html[html.index("data-bulk-action-footer") :]
    footer = footer[: footer.index("</section>")]
    return set(re.findall(r'/admin/bulk/catalog/\w+/(\w+)/"', footer))


def test_a_curator_is_offered_only_what_a_curator_may_do(client, catalog, curator):
    client.force_login(curator)
    assert offered(client, FILES) == {"set_status", "set_project_group", "submit_for_review"}
    assert offered(client, GROUPS) == set()


def test_a_reviewer_also_approves_rejects_and_chooses_primaries(client, catalog, reviewer):
    client.force_login(reviewer)
    assert offered(client, FILES) == {
        "set_status",
        "set_project_group",
        "submit_for_review",
        "approve",
        "reject",
        "make_primary",
    }
    assert "delete" not in offered(client, GROUPS)


def test_not_even_a_superuser_is_offered_to_delete_files_or_groups(client, catalog, admin_user):
    client.force_login(admin_user)
    assert "delete" not in offered(client, FILES)
    assert "delete" not in offered(client, GROUPS)
    assert "delete" in offered(client, DRIVES)  # drives are deleted through delete_drive


def test_drive_delete_is_offered_to_operators_only(client, catalog, curator, operator):
    client.force_login(curator)
    assert "delete" not in offered(client, DRIVES)
    client.force_login(operator)
    assert "delete" in offered(client, DRIVES)
    # Operators hold catalog.delete_fileentry, yet files are never deleted in the admin.
    assert "delete" not in offered(client, FILES)
