"""Reads that plan their queries: folder listings, filtered file pages, drive progress.

Each function issues a fixed number of queries whatever the size of the catalog;
the tests count them.
"""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import OuterRef, QuerySet, Subquery, Sum
from wagtail.admin.paginator import WagtailPaginator

from .models import Drive, FileEntry, Folder, Status

FILE_LISTING_FIELDS = (
    "id",
    "drive_id",
    "folder_id",
    "path",
    "filename",
    "status",
    "category",
    "size",
    "oshash",
    "title",
    "duplicate_group_id",
    "is_primary",
)


@dataclass
class FolderListing:
    folder: Folder
    subfolders: list[Folder]
    files: list[FileEntry]
    #: Files directly in this folder (not in subfolders), whatever the page.
    file_total: int


def folder_listing(
    drive: Drive | int, path: str = "", *, offset: int = 0, limit: int = 200
) -> FolderListing:
    """One folder: its subfolders with subtree counts, and one page of its own files.

    Three queries at any depth: the folder, its children, the page of files. The
    number of files directly inside comes from the counts, not from a COUNT.
    """
    drive_id = drive if isinstance(drive, int) else drive.id
    folder = Folder.objects.get(drive_id=drive_id, path=path)
    subfolders = list(Folder.objects.filter(parent=folder).order_by("name"))
    files = list(
        FileEntry.objects.filter(drive_id=drive_id, path=path)
        .only(*FILE_LISTING_FIELDS)
        .order_by("filename")[offset : offset + limit]
    )
    direct = folder.file_count - sum(child.file_count for child in subfolders)
    return FolderListing(folder=folder, subfolders=subfolders, files=files, file_total=direct)


CAMERA_CHOICES_CACHE = "catalog:camera-choices"


def camera_choices() -> list[tuple[str, str]]:
    """Distinct cameras, cached: a DISTINCT over a million rows is not per-request work.

    Imports drop the cache (``forget_camera_choices``) so new cameras appear at once.
    """
    choices = cache.get(CAMERA_CHOICES_CACHE)
    if choices is None:
        cameras = (
            FileEntry.objects.exclude(camera="")
            .order_by("camera")
            .values_list("camera", flat=True)
            .distinct()
        )
        choices = [(camera, camera) for camera in cameras]
        cache.set(CAMERA_CHOICES_CACHE, choices, 300)
    return choices


def forget_camera_choices() -> None:
    cache.delete(CAMERA_CHOICES_CACHE)


def files_for_listing() -> QuerySet[FileEntry]:
    """The file listing's base queryset: what each row shows, joined up front."""
    return FileEntry.objects.select_related("drive", "project_group")


class IdFirstPaginator(WagtailPaginator):
    """Pages of a large ordered listing, read ids first.

    ``OFFSET 500000`` over full rows makes the database build and throw away half a
    million rows; over ids alone it walks the ordering index only. The page's rows
    are then read by primary key and put back in the listing's order.
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if top + self.orphans >= self.count:
            top = self.count
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or bottom == 0:
            return self._get_page(queryset[bottom:top], number, self)
        ids = list(queryset.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)


def drives_with_totals() -> QuerySet[Drive]:
    """Drives annotated with their file count and size (from the root folder)."""
    root = Folder.objects.filter(drive=OuterRef("pk"), depth=0)
    return Drive.objects.annotate(
        file_total=Subquery(root.values("file_count")[:1]),
        size_total=Subquery(root.values("total_size")[:1]),
    )


def root_folder_count(*, drive: Drive | None = None, statuses: list[str] = ()) -> int:
    """Files on one drive (or all), optionally of some statuses, from root folder counters."""
    roots = Folder.objects.filter(depth=0)
    if drive is not None:
        roots = roots.filter(drive=drive)
    columns = [f"count_{status}" for status in statuses] or ["file_count"]
    totals = roots.aggregate(**{column: Sum(column) for column in columns})
    return sum(value or 0 for value in totals.values())


def drive_progress() -> list[dict]:
    """Per-drive totals and counts by status, from the drives' root folders (one query)."""
    roots = Folder.objects.filter(depth=0).select_related("drive").order_by("drive__name")
    return [
        {
            "drive": root.drive,
            "total": root.file_count,
            "reviewed": root.reviewed_count,
            "size": root.total_size,
            "by_status": {status: getattr(root, f"count_{status}") for status in Status.values},
        }
        for root in roots
    ]
