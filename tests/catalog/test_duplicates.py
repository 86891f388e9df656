"""update_duplicates, import_repeats and make_primary."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import DuplicateGroup, FileEntry, SelectionMethod
from catalog.services.duplicates import DuplicateError, make_primary, update_duplicates
from catalog.services.imports import import_manifest
from tests.conftest import entry

from .conftest import A, B

pytestmark = pytest.mark.django_db


def members(oshash):
    return set(
        FileEntry.objects.filter(duplicate_group__oshash=oshash).values_list("filename", flat=True)
    )


def primary_of(oshash):
    return DuplicateGroup.objects.get(oshash=oshash).primary.filename


def test_groups_only_real_duplicates(two_drives):
    result = update_duplicates()
    assert set(DuplicateGroup.objects.values_list("oshash", flat=True)) == {A, B}
    assert members(A) == {"one.mp4", "one-copy.mp4", "one-again.mp4"}
    assert (
        members(B) == {"two.jpg"}
        and FileEntry.objects.filter(duplicate_group__oshash=B).count() == 2
    )
    group = DuplicateGroup.objects.get(oshash=A)
    assert (group.member_count, group.bytes_reclaimable) == (3, 10000)
    assert (result.groups, result.created, result.files) == (2, 2, 5)
    assert result.bytes_reclaimable == 10300
    assert result.tiny_files_left_out == 4  # two empty, two under 8 bytes
    # Exactly one primary per group, flagged on the file too.
    assert FileEntry.objects.filter(is_primary=True).count() == 2
    for group in DuplicateGroup.objects.all():
        assert group.primary.is_primary and group.primary.duplicate_group_id == group.id


def test_auto_largest_breaks_ties_by_drive_then_path(two_drives):
    update_duplicates()
    assert primary_of(A) == "one.mp4"  # equal sizes: DriveA sorts first
    assert DuplicateGroup.objects.get(oshash=A).selection_method == SelectionMethod.AUTO_LARGEST


def test_incremental_keeps_manual_choice_and_reset_drops_it(two_drives):
    update_duplicates()
    copy = FileEntry.objects.get(filename="one-again.mp4")
    assert make_primary([copy]) == 1
    assert primary_of(A) == "one-again.mp4"
    group = DuplicateGroup.objects.get(oshash=A)
    assert group.selection_method == SelectionMethod.MANUAL
    assert FileEntry.objects.get(filename="one.mp4").is_primary is False

    result = update_duplicates()
    assert (result.created, result.removed, result.primaries_chosen) == (0, 0, 0)
    assert primary_of(A) == "one-again.mp4"

    update_duplicates(reset=True)
    assert primary_of(A) == "one.mp4"


def test_recompute_follows_changed_hashes(two_drives, write_manifest):
    update_duplicates()
    # DriveB is rescanned: its copy of two.jpg changed, so B is no longer duplicated.
    import_manifest(
        write_manifest(
            [
                entry("one-copy.mp4", "backup", oshash=A, size_exif=5000),
                entry("one-again.mp4", "backup/more", oshash=A, size_exif=5000),
                entry("two.jpg", "x", oshash="dddddddddddddddd", size_exif=301),
            ],
            "DriveB.json",
        ),
        drive_name="DriveB",
        update=True,
    )
    result = update_duplicates()
    assert result.removed == 1
    assert set(DuplicateGroup.objects.values_list("oshash", flat=True)) == {A}
    assert not FileEntry.objects.filter(filename="two.jpg", duplicate_group__isnull=False).exists()
    assert not FileEntry.objects.filter(filename="two.jpg", is_primary=True).exists()


def test_make_primary_refuses_two_copies_of_one_group_and_lonely_files(two_drives):
    update_duplicates()
    one, copy = FileEntry.objects.filter(filename__in=["one.mp4", "one-copy.mp4"])
    with pytest.raises(DuplicateError, match="copies of the same file"):
        make_primary([one, copy])
    with pytest.raises(DuplicateError, match="has no duplicates"):
        make_primary([FileEntry.objects.get(filename="unique.jpg")])
    assert primary_of(A) == "one.mp4"


def test_shortest_path_method(two_drives):
    update_duplicates(method=SelectionMethod.AUTO_SHORTEST_PATH)
    assert primary_of(A) == "one.mp4"  # "videos/one.mp4" is shorter than "backup/one-copy.mp4"
    assert primary_of(B) == "two.jpg"
    with pytest.raises(DuplicateError, match="unknown selection method"):
        update_duplicates(method="coin_flip")


def test_command_output(two_drives):
    out = StringIO()
    call_command("update_duplicates", "--reset", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "2 duplicate groups (2 new, 0 removed) holding 5 files" in text
    assert "10.1\xa0KB reclaimable" in text
    assert "4 empty or under-8-byte files left out" in text


def test_import_repeats(two_drives, tmp_path):
    repeats = tmp_path / "REPEATS_allHDDs.json"
    repeats.write_text(
        json.dumps(
            {
                A: [["videos", "one.mp4"], ["/backup/", "one-copy.mp4"], ["gone", "x.mp4"]],
                B: [["deep/down/here", "two.jpg"], ["videos", "one.mp4"]],
            }
        )
    )
    out = StringIO()
    call_command(
        "import_repeats",
        str(repeats),
        "--selection-method",
        "auto_shortest_path",
        stdout=out,
    )
    text = out.getvalue()
    assert "2 hashes, 5 locations: 3 matched, 1 not in the catalog, 1 with a different" in text
    # Confirmed hashes are grouped with every catalogued copy, listed or not.
    assert set(DuplicateGroup.objects.values_list("oshash", flat=True)) == {A, B}
    assert members(A) == {"one.mp4", "one-copy.mp4", "one-again.mp4"}
    assert DuplicateGroup.objects.get(oshash=A).selection_method == "auto_shortest_path"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "expected a JSON object"),
        ('{"zz": []}', "1 problems"),
        (f'{{"{A}": "videos/one.mp4"}}', "1 problems"),
        (f'{{"{A}": [["videos"]]}}', "1 problems"),
        (f'{{"{A}": [["a", "b"]', "not valid JSON"),
    ],
)
def test_bad_repeats_change_nothing(two_drives, tmp_path, content, message):
    update_duplicates()
    before = list(DuplicateGroup.objects.values().order_by("id"))
    repeats = tmp_path / "r.json"
    repeats.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("import_repeats", str(repeats), stdout=StringIO(), stderr=StringIO())
    assert list(DuplicateGroup.objects.values().order_by("id")) == before
