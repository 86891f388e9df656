"""Each duplicate group records the rule that actually chose its primary."""

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

from catalog.models import DuplicateGroup, FileEntry, SelectionMethod, SelectionReason
from catalog.services.duplicates import make_primary, update_duplicates
from catalog.services.imports import import_manifest
from tests.conftest import entry

from .conftest import A, B

pytestmark = pytest.mark.django_db


def group(oshash) -> DuplicateGroup:
    return DuplicateGroup.objects.select_related("primary", "selected_by").get(oshash=oshash)


def test_copies_of_one_size_are_decided_by_drive_name_and_say_so(two_drives):
    update_duplicates()
    a, b = group(A), group(B)
    # A: three copies of 5,000 bytes; DriveA's comes first.
    assert a.primary.filename == "one.mp4"
    assert a.selection_reason == SelectionReason.DRIVE
    assert a.selection_summary == "Automatic: same size, first by drive name"
    assert b.selection_reason == SelectionReason.DRIVE
    assert a.selected_at is not None and a.selected_by is None


def test_a_larger_copy_is_decided_by_size(write_manifest):
    import_manifest(
        write_manifest(
            [entry("small.mov", "a", oshash=A, size_exif=10), entry("big.mov", "z", oshash=A)]
        ),
        drive_name="Zed",
    )
    update_duplicates()
    assert group(A).primary.filename == "big.mov"
    assert group(A).selection_reason == SelectionReason.LARGEST
    assert group(A).selection_summary == "Automatic: largest copy"


def test_same_drive_is_decided_by_path_then_by_file_name(write_manifest):
    import_manifest(
        write_manifest(
            [
                entry("b.mov", "x", oshash=A, size_exif=100),
                entry("a.mov", "y", oshash=A, size_exif=100),
                entry("b.jpg", "same", oshash=B, size_exif=100),
                entry("a.jpg", "same", oshash=B, size_exif=100),
            ]
        ),
        drive_name="One",
    )
    update_duplicates()
    assert (group(A).primary.filename, group(A).selection_reason) == ("b.mov", "path")
    assert group(A).selection_summary == "Automatic: same size and drive, first by folder path"
    assert (group(B).primary.filename, group(B).selection_reason) == ("a.jpg", "filename")

    update_duplicates(reset=True, method=SelectionMethod.AUTO_SHORTEST_PATH)
    assert group(A).selection_reason == SelectionReason.PATH  # x/b.mov and y/a.mov: 1+5
    assert (
        group(A).selection_summary == "Automatic: same path length and drive, first by folder path"
    )


def test_shortest_path_decides_when_the_paths_differ_in_length(two_drives):
    update_duplicates(method=SelectionMethod.AUTO_SHORTEST_PATH)
    assert group(A).selection_reason == SelectionReason.SHORTEST_PATH
    assert group(A).selection_summary == "Automatic: shortest path"


def test_a_hand_made_choice_says_who_and_when(two_drives, reviewer):
    update_duplicates()
    make_primary([FileEntry.objects.get(filename="one-again.mp4")], user=reviewer)
    a = group(A)
    assert a.selection_reason == SelectionReason.MANUAL and a.selected_by == reviewer
    assert a.selection_summary.startswith("Chosen by reviewer on ")
    update_duplicates()  # kept, and still says so
    assert group(A).selection_summary == a.selection_summary


def test_a_primary_overtaken_by_a_new_copy_is_kept_and_says_so(two_drives, write_manifest):
    update_duplicates()
    import_manifest(
        write_manifest([entry("first.mp4", "", oshash=A, size_exif=5000)], "Aardvark.json"),
        drive_name="Aardvark",  # sorts before DriveA
    )
    update_duplicates()
    a = group(A)
    assert a.primary.filename == "one.mp4" and a.member_count == 4
    assert a.selection_reason == SelectionReason.KEPT
    assert "a copy added since would come first" in a.selection_summary
    update_duplicates(rechoose_automatic=True)
    assert group(A).primary.filename == "first.mp4"
    assert group(A).selection_reason == SelectionReason.DRIVE


def test_the_migration_records_reasons_for_existing_groups(two_drives, reviewer):
    update_duplicates()
    make_primary([FileEntry.objects.get(filename="two.jpg", drive__name="DriveB")])
    DuplicateGroup.objects.update(selection_reason="", selected_at=None)  # as before 0011
    migration = importlib.import_module("catalog.migrations.0011_duplicate_selection_reason")
    with connection.cursor() as cursor:
        editor = SimpleNamespace(execute=lambda sql, params=(): cursor.execute(sql, params or None))
        migration.record_reasons(None, editor)
    assert group(A).selection_reason == SelectionReason.DRIVE
    assert group(B).selection_reason == SelectionReason.MANUAL
    assert group(B).selection_summary == "Chosen by someone"
