"""Export fixtures: a pan.do/ra-protocol server on loopback, and approved files.

Approved files are set up directly in the shape the review services leave them: the
decision on the row, ``review_state="approved"``, a revision saved with
``save_revision`` and made live with an UPDATE.
"""

import pytest
from django.db.models import F

from catalog.models import DuplicateGroup, FileEntry, ReviewState, Status
from catalog.services.imports import import_manifest
from tests.conftest import entry
from tests.support.pandora_server import PandoraTestServer
from workflow.export.admin import register_export_admin

# workflow/wagtail_hooks.py calls this too; it registers once. Called here as well so the
# export report is in the admin URLs whichever module Wagtail imports first.
register_export_admin()

PADMA_USER = "phs-exporter"
PADMA_PASSWORD = "correct horse battery staple"


@pytest.fixture
def padma(settings, tmp_path):
    """A running test server, with the settings pointing the exporter at it."""
    with PandoraTestServer(users={PADMA_USER: PADMA_PASSWORD}) as server:
        settings.PADMA_URL = server.url
        settings.PADMA_USERNAME = PADMA_USER
        settings.PADMA_PASSWORD = PADMA_PASSWORD
        settings.PADMA_EXPORT_BACKENDS = ["workflow.export.padma.PandoraExporter"]
        settings.PADMA_MANIFEST_DIR = tmp_path / "manifests"
        settings.PADMA_EXPORT_CHUNK_SIZE = 100
        yield server


@pytest.fixture
def import_files(write_manifest):
    """Import ``entries`` (see tests.conftest.entry) onto a drive; return its files."""

    def do(entries, drive="Expansion") -> list[FileEntry]:
        import_manifest(write_manifest(entries, f"{drive}.json"), drive_name=drive)
        return list(FileEntry.objects.filter(drive__name=drive).order_by("path", "filename"))

    return do


def approve_directly(files, *, user, status=Status.UPLOAD, **fields) -> list[FileEntry]:
    """Decide, revision and approve ``files`` as the review services would leave them."""
    ids = [file.pk for file in files]
    FileEntry.objects.filter(pk__in=ids).update(
        status=status, review_state=ReviewState.APPROVED, **fields
    )
    approved = []
    for file in FileEntry.objects.filter(pk__in=ids).order_by("pk"):
        file.save_revision(user=user)
        approved.append(file)
    FileEntry.objects.filter(pk__in=ids).update(
        live=True, live_revision=F("latest_revision"), has_unpublished_changes=False
    )
    return list(FileEntry.objects.filter(pk__in=ids).order_by("path", "filename"))


@pytest.fixture
def approve(reviewer):
    def do(files, status=Status.UPLOAD, **fields):
        return approve_directly(files, user=reviewer, status=status, **fields)

    return do


def make_group(files, *, primary, conflict=False) -> DuplicateGroup:
    """Put ``files`` in one duplicate group (they must share an oshash)."""
    group = DuplicateGroup.objects.create(
        oshash=files[0].oshash, primary=primary, member_count=len(files), has_conflict=conflict
    )
    FileEntry.objects.filter(pk__in=[f.pk for f in files]).update(duplicate_group=group)
    FileEntry.objects.filter(pk=primary.pk).update(is_primary=True)
    return group


def clip(name: str, path: str = "2019/rehearsal", **fields) -> dict:
    """A video manifest entry with a stable, unique oshash."""
    fields.setdefault("oshash", f"{abs(hash(('clip', path, name))) % 16**16:016x}")
    fields.setdefault("file_type", "video/mp4")
    return entry(name, path, **fields)
