"""Export fixtures: a pan.do/ra-protocol server on loopback, and approved or grouped files.

Approved and grouped files are made through the services, as people make them: a
curator saves the decision and submits, another person (a reviewer) approves; duplicate
groups come from ``update_duplicates`` and the primary from ``make_primary`` (the admin's
"Make primary"). So a fixture's file has everything the review leaves — revisions, the
workflow, folder counts, conflict flags, and the export requests the approval queued.
"""

import pytest

from catalog.models import DuplicateGroup, FileEntry, Status
from catalog.services.duplicates import make_primary, update_duplicates
from catalog.services.imports import import_manifest
from tests.conftest import entry
from tests.support.pandora_server import PandoraTestServer
from workflow.export.admin import register_export_admin
from workflow.services import bulk, review
from workflow.states import NEEDS_APPROVAL

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


def save_decisions(files, *, user, status=Status.UPLOAD, **fields) -> list[FileEntry]:
    """Save ``status`` (and any curator ``fields``) on each file as ``user``, one by one."""
    for file in files:
        review.save_decision(file=file, user=user, changes={"status": status, **fields})
    return _reloaded(files)


def approve_through_review(
    files, *, curator, reviewer, status=Status.UPLOAD, **fields
) -> list[FileEntry]:
    """Decide ``files`` as ``curator``, submit them, and approve them as ``reviewer``.

    The approval queues their exports (``request_exports``), as every approval does.
    """
    if status not in NEEDS_APPROVAL:
        raise ValueError(f"{status!r} needs no approval: use save_decisions()")
    save_decisions(files, user=curator, status=status, **fields)
    chosen = FileEntry.objects.filter(pk__in=[file.pk for file in files])
    submitted = bulk.submit(chosen, user=curator)
    approved = bulk.approve(chosen, user=reviewer)
    assert submitted.changed == approved.changed == len(files), (submitted, approved)
    return _reloaded(files)


@pytest.fixture
def approve(curator, reviewer):
    """``approve(files, status=…, **fields)``: decided by the curator, approved by the
    reviewer; returns the files reloaded, ordered by location."""

    def do(files, status=Status.UPLOAD, **fields):
        return approve_through_review(
            files, curator=curator, reviewer=reviewer, status=status, **fields
        )

    return do


@pytest.fixture
def decide(curator):
    """``decide(files, status=…, **fields)``: saved by the curator; returns the files."""

    def do(files, status=Status.UPLOAD, **fields):
        return save_decisions(files, user=curator, status=status, **fields)

    return do


def make_group(files, *, primary, conflict=False) -> DuplicateGroup:
    """Group ``files`` (they must share an oshash) with ``primary`` chosen by hand.

    ``conflict`` says whether the copies' decisions must disagree already: the flag is
    the services' answer, so a test asks for a conflict by deciding the copies apart.
    """
    (oshash,) = {file.oshash for file in files}
    update_duplicates(only_hashes=[oshash])
    make_primary(FileEntry.objects.filter(pk=primary.pk))
    group = DuplicateGroup.objects.get(oshash=oshash)
    assert group.member_count == len(files), f"{oshash} has other copies than these files"
    assert group.has_conflict is conflict, (
        f"the copies of {oshash} {'agree' if conflict else 'disagree'}: "
        f"{sorted(FileEntry.objects.filter(oshash=oshash).values_list('status', flat=True))}"
    )
    return group


def _reloaded(files) -> list[FileEntry]:
    return list(
        FileEntry.objects.filter(pk__in=[file.pk for file in files]).order_by("path", "filename")
    )


def clip(name: str, path: str = "2019/rehearsal", **fields) -> dict:
    """A video manifest entry with a stable, unique oshash."""
    fields.setdefault("oshash", f"{abs(hash(('clip', path, name))) % 16**16:016x}")
    fields.setdefault("file_type", "video/mp4")
    return entry(name, path, **fields)
