"""Removing a drive from the catalog: its folders and files, and what they leave behind.

A drive is taken out when it was imported by mistake (a wrong name, a test manifest) or
is retired. Its files' revisions, workflow states, search index rows and export
requests go with them (database and generic-relation cascades); duplicate groups that
held one of its copies are then settled: a group left with one copy is dissolved, one
that lost its primary gets a new one, and reclaimable bytes are counted again.
Nothing is taken off pad.ma.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from wagtail.log_actions import log

from catalog.models import Drive, FileEntry, Folder

from .duplicates import DuplicateResult, update_duplicates

logger = logging.getLogger(__name__)


@dataclass
class DriveRemoval:
    name: str
    files: int
    folders: int
    duplicates: DuplicateResult


def delete_drive(drive: Drive, *, user=None) -> DriveRemoval:
    """Delete ``drive`` and everything catalogued on it, in one transaction, logged
    (``wagtail.delete``) as the admin logs any deletion."""
    with transaction.atomic():
        grouped = FileEntry.objects.filter(drive=drive, duplicate_group__isnull=False)
        hashes = list(grouped.values_list("oshash", flat=True).distinct())
        root = Folder.objects.filter(drive=drive, depth=0).first()
        folders = Folder.objects.filter(drive=drive).count()
        name = drive.name
        log(instance=drive, action="wagtail.delete", user=user, deleted=True)
        drive.delete()
        duplicates = update_duplicates(only_hashes=hashes) if hashes else DuplicateResult()
    removal = DriveRemoval(name, root.file_count if root else 0, folders, duplicates)
    logger.info(
        "drive deleted name=%s files=%d folders=%d groups_settled=%d groups_removed=%d",
        name,
        removal.files,
        removal.folders,
        len(hashes),
        duplicates.removed,
    )
    return removal
