"""Fixtures shared by the catalog's tests."""

import pytest

from catalog.services.imports import import_manifest
from tests.conftest import entry

A, B, C = "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc"


@pytest.fixture
def two_drives(write_manifest):
    import_manifest(
        write_manifest(
            [
                entry("one.mp4", "videos", oshash=A, size_exif=5000),
                entry("two.jpg", "deep/down/here", oshash=B, size_exif=300),
                entry("unique.jpg", "", oshash=C, size_exif=10),
                entry("empty1.txt", oshash="0000000000000000", size_exif=0),
                entry("tiny1.txt", oshash="0000000000000005", size_exif=5),
                entry("unreadable.bin", oshash=None),
            ]
        ),
        drive_name="DriveA",
    )
    import_manifest(
        write_manifest(
            [
                entry("one-copy.mp4", "backup", oshash=A, size_exif=5000),
                entry("one-again.mp4", "backup/more", oshash=A, size_exif=5000),
                entry("two.jpg", "x", oshash=B, size_exif=300),
                entry("empty2.txt", oshash="0000000000000000", size_exif=0),
                entry("tiny2.txt", oshash="0000000000000005", size_exif=5),
                entry("unreadable2.bin", oshash=None),
            ],
            "DriveB.json",
        ),
        drive_name="DriveB",
    )
