"""Removing a drive: its files and folders go, and the duplicate groups it shared settle."""

import pytest
from wagtail.models import ModelLogEntry

from catalog.models import Drive, DuplicateGroup, FileEntry, Folder, SelectionMethod
from catalog.services.drives import delete_drive
from catalog.services.duplicates import make_primary, update_duplicates
from search.finder import Search, find

from .conftest import A, B
from .test_duplicates import members

pytestmark = pytest.mark.django_db


def test_deleting_a_drive_settles_the_groups_it_shared(two_drives, operator):
    update_duplicates()
    # DriveA's copy of A chosen by hand: it stays; B's group loses one of its two copies.
    make_primary([FileEntry.objects.get(filename="one.mp4")])
    drive_b = Drive.objects.get(name="DriveB")

    removal = delete_drive(drive_b, user=operator)

    assert (removal.name, removal.files, removal.folders) == ("DriveB", 6, 4)
    assert not FileEntry.objects.filter(drive_id=drive_b.pk).exists()
    assert not Folder.objects.filter(drive_id=drive_b.pk).exists()
    assert list(DuplicateGroup.objects.values_list("oshash", flat=True)) == []  # both alone
    assert not FileEntry.objects.filter(duplicate_group__isnull=False).exists()
    assert not FileEntry.objects.filter(is_primary=True).exists()
    assert removal.duplicates.removed == 2
    assert find(Search.from_params({"q": "one-copy"})).total == 0  # out of the index
    entry = ModelLogEntry.objects.get(action="wagtail.delete")
    assert (entry.label, entry.user_id) == ("DriveB", operator.pk)


def test_a_group_that_keeps_two_copies_keeps_its_hand_made_primary(two_drives, write_manifest):
    from catalog.services.imports import import_manifest
    from tests.conftest import entry

    import_manifest(
        write_manifest([entry("third.mp4", "c", oshash=A, size_exif=5000)], "DriveC.json"),
        drive_name="DriveC",
    )
    update_duplicates()
    make_primary([FileEntry.objects.get(filename="third.mp4")])
    delete_drive(Drive.objects.get(name="DriveB"))
    group = DuplicateGroup.objects.get(oshash=A)
    assert members(A) == {"one.mp4", "third.mp4"}
    assert (group.member_count, group.primary.filename) == (2, "third.mp4")
    assert group.selection_method == SelectionMethod.MANUAL
    assert group.bytes_reclaimable == 5000
    assert not DuplicateGroup.objects.filter(oshash=B).exists()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/snippets/catalog/drive/delete/{pk}/",  # the drive's Delete
        "/admin/bulk/catalog/drive/delete/?id={pk}&next=/admin/snippets/catalog/drive/",
    ],
    ids=["delete view", "bulk delete"],
)
def test_the_admin_deletes_drives_through_the_service(client, two_drives, operator, url):
    """Wagtail's own deletes left both groups behind, counting files that were gone."""
    update_duplicates()
    client.force_login(operator)
    url = url.format(pk=Drive.objects.get(name="DriveB").pk)
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert list(Drive.objects.values_list("name", flat=True)) == ["DriveA"]
    assert not DuplicateGroup.objects.exists()
    assert ModelLogEntry.objects.filter(action="wagtail.delete", label="DriveB").exists()
