"""A small archive on two drives, imported through the real importer (so indexed by it)."""

import unicodedata

import pytest

from catalog.models import FileEntry, ProjectGroup
from catalog.services.duplicates import update_duplicates
from catalog.services.imports import import_manifest
from tests.conftest import entry

SAME = "abcdef0123456789"
NFC_CAFE = unicodedata.normalize("NFC", "café")
NFD_CAFE = unicodedata.normalize("NFD", "café")
NAMASTE = unicodedata.normalize("NFC", "नमस्ते")


def file(filename: str) -> FileEntry:
    return FileEntry.objects.get(filename=filename)


@pytest.fixture
def archive(write_manifest):
    expansion = [
        entry("IMG_0042.JPG", "2019/rehearsal/day-1", oshash="0042aaaa00000001"),
        entry("IMG_1234.jpg", "PHS/rehearsal/2019/stage", oshash="1234bbbb00000002"),
        entry("IMG_9999.jpg", "PHS/performance/2020", camera="Nikon D750"),
        entry(f"{NAMASTE}.jpg", "Devanagari", camera=""),
        entry(f"{NFD_CAFE} menu.pdf", "docs", file_type="application/pdf", camera=""),
        entry("rehearsal-notes.txt", "", file_type="text/plain", camera=""),
        entry("HD.1080.mp4", "PHS-Videos", file_type="video/mp4", oshash=SAME, camera="Canon"),
        entry("old.mov", "archive", file_type="video/quicktime", date_exif="2011:01:05 10:00:00"),
    ]
    import_manifest(write_manifest(expansion), drive_name="Expansion")
    import_manifest(
        write_manifest([entry("HD.1080.mp4", "copies", oshash=SAME)], "Backup.json"),
        drive_name="Backup",
    )
    update_duplicates()
    return ProjectGroup.objects.create(name="Khoj Residency")
