"""Reads for the Curate view, each a fixed number of indexed queries at any catalog size.

``catalog.selectors.folder_listing`` serves the unfiltered tree; the filtered listing,
the file with everything its pane shows, and *next unreviewed* live here.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, Sum
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.db.models.functions import TruncDate
from django.utils import timezone
from wagtail.models import WorkflowState

from catalog.models import DuplicateGroup, FileEntry, Folder, ReviewState, Status

#: What a tree row needs: name, status dot, in-review mark, type and size.
TREE_FIELDS = ("id", "filename", "status", "review_state", "category", "mime_type", "size")

#: Chip name -> the status it shows (None: every file).
FILTERS = {
    "": None,
    "unreviewed": Status.UNREVIEWED,
    "needs_attention": Status.NEEDS_ATTENTION,
    "upload": Status.UPLOAD,
}

#: Copies shown in the file pane; a group larger than this says "and N more".
COPIES_SHOWN = 50


@dataclass
class TreeListing:
    folder: Folder
    subfolders: list[Folder]
    files: list[dict]
    #: Files directly in this folder matching the filter, whatever the page.
    file_total: int


def tree_listing(
    drive_id: int, path: str, *, status: str | None = None, offset: int = 0, limit: int = 200
) -> TreeListing:
    """One folder of a drive: subfolders (with subtree counts) and a page of its own files.

    Three queries at any depth and size: the folder row, its children, one page of
    files. With ``status``, files come from the (drive, status, path, filename) index and
    subfolders holding no such file are left out; totals come from the folder counters.
    Raises ``Folder.DoesNotExist`` for an unknown folder.
    """
    folder = Folder.objects.get(drive_id=drive_id, path=path)
    children = Folder.objects.filter(parent=folder).order_by("name")
    files = FileEntry.objects.filter(drive_id=drive_id, path=path)
    counter = "file_count" if status is None else f"count_{status}"
    if status is not None:
        children = children.filter(**{f"{counter}__gt": 0})
        files = files.filter(status=status)
    subfolders = list(children)
    # Plain rows, not model instances: a 500-file page is serialised as it is read.
    page = list(files.order_by("filename").values(*TREE_FIELDS)[offset : offset + limit])
    if status is None:
        direct = folder.file_count - sum(child.file_count for child in subfolders)
    else:
        # Children with none of this status were filtered out: they add nothing.
        direct = getattr(folder, counter) - sum(getattr(c, counter) for c in subfolders)
    return TreeListing(folder=folder, subfolders=subfolders, files=page, file_total=direct)


@dataclass
class FilePane:
    file: FileEntry
    copies: list[FileEntry]
    copy_total: int
    #: Who submitted the file for review, when it is in review (the four-eyes rule).
    submitted_by_id: int | None


def file_pane(file_id: int) -> FilePane:
    """A file with its drive, project group, reviewer and lock holder; its other copies;
    who submitted it. Three queries (two when it has no copies and is not in review).

    Raises ``FileEntry.DoesNotExist``.
    """
    file = FileEntry.objects.select_related(
        "drive", "project_group", "reviewed_by", "locked_by"
    ).get(pk=file_id)
    copies: list[FileEntry] = []
    copy_total = 0
    if file.duplicate_group_id is not None:
        copies = list(
            FileEntry.objects.filter(duplicate_group_id=file.duplicate_group_id)
            .exclude(pk=file.pk)
            .select_related("drive")
            .only(
                "id",
                "drive__id",
                "drive__name",
                "path",
                "filename",
                "status",
                "is_primary",
                "review_state",
            )
            .order_by("drive__name", "path", "filename")[:COPIES_SHOWN]
        )
        copy_total = len(copies)
        if copy_total == COPIES_SHOWN:
            copy_total = (
                DuplicateGroup.objects.values_list("member_count", flat=True).get(
                    pk=file.duplicate_group_id
                )
                - 1
            )
    submitted_by_id = None
    if file.review_state == ReviewState.IN_REVIEW:
        submitted_by_id = (
            WorkflowState.objects.filter(
                base_content_type=ContentType.objects.get_for_model(FileEntry),
                object_id=str(file.pk),
                status=WorkflowState.STATUS_IN_PROGRESS,
            )
            .values_list("requested_by_id", flat=True)
            .first()
        )
    return FilePane(
        file=file, copies=copies, copy_total=copy_total, submitted_by_id=submitted_by_id
    )


def next_unreviewed(drive_id: int, path: str = "", filename: str = "") -> FileEntry | None:
    """The first unreviewed file of a drive after (path, filename), wrapping to the start.

    A range read on the (drive, status, path, filename) index: at most two queries,
    each returning one row, however many files come before.
    """
    unreviewed = FileEntry.objects.filter(drive_id=drive_id, status=Status.UNREVIEWED).only(
        "id", "drive_id", "path", "filename", "folder_id"
    )
    ordered = unreviewed.order_by("path", "filename")
    after = ordered.filter(TupleGreaterThan(Tuple("path", "filename"), (path, filename))).first()
    if after is not None or (not path and not filename):
        return after
    return ordered.first()


# --- the dashboard ---------------------------------------------------------------------


def recent_work(user, *, days: int = 14, shown: int = 6) -> dict:
    """The user's own saves: per day over ``days`` days, and the latest few files.

    Two queries on the (reviewed_by, -reviewed_at) index.
    """
    since = timezone.now() - timedelta(days=days - 1)
    since = since.replace(hour=0, minute=0, second=0, microsecond=0)
    per_day = dict(
        FileEntry.objects.filter(reviewed_by=user, reviewed_at__gte=since)
        .annotate(day=TruncDate("reviewed_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    latest = list(
        FileEntry.objects.filter(reviewed_by=user)
        .select_related("drive")
        .only("id", "drive__id", "drive__name", "path", "filename", "status", "reviewed_at")
        .order_by("-reviewed_at")[:shown]
    )
    today = timezone.localdate()
    series = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        series.append((day, per_day.get(day, 0)))
    return {"series": series, "latest": latest, "total": sum(n for _d, n in series)}


def duplicate_savings() -> dict:
    """Bytes reclaimable through duplicates against the catalogued total (two queries)."""
    groups = DuplicateGroup.objects.aggregate(
        groups=Count("id"),
        reclaimable=Sum("bytes_reclaimable"),
        conflicts=Count("id", filter=Q(has_conflict=True)),
    )
    total = Folder.objects.filter(depth=0).aggregate(size=Sum("total_size"))["size"] or 0
    return {
        "groups": groups["groups"] or 0,
        "reclaimable": groups["reclaimable"] or 0,
        "conflicts": groups["conflicts"] or 0,
        "total": total,
    }


def catalog_summary() -> dict:
    """Drives, files and their size (from the drives' root folders), in one query."""
    totals = Folder.objects.filter(depth=0).aggregate(
        drives=Count("id"), files=Sum("file_count"), size=Sum("total_size")
    )
    return {key: value or 0 for key, value in totals.items()}
