"""Reads for the Curate view, each a fixed number of indexed queries at any catalog size.

``catalog.selectors.folder_listing`` serves the unfiltered tree; the filtered listing,
the file with everything its pane shows, and *next unreviewed* live here.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, Sum
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


# --- walking a drive in tree order ------------------------------------------------------
#
# The tree shows a folder's subfolders (by name) first, then its own files (by filename);
# "next" and "previous" follow that order across the whole drive, depth first. A step is
# a handful of indexed reads that each return at most one row — the next own file on the
# (drive, path, filename) or (drive, status, path, filename) index, the next sibling
# folder holding a matching file on the (parent, name) index, with the subtree counters
# saying where one is — so its cost grows with the folder depth, never with the number
# of files: no walk over the drive in Python.


def ancestor_paths(path: str) -> list[str]:
    """The path of each folder from the root down to ``path``: "", "a", "a/b", …"""
    if not path:
        return [""]
    parts = path.split("/")
    return ["", *("/".join(parts[: i + 1]) for i in range(len(parts)))]


#: Deeper than any drive's folders (and few enough for one ``IN`` list on SQLite).
MAX_DEPTH = 1000
STEP_FIELDS = ("id", "drive_id", "path", "filename", "status")
FOLDER_STEP_FIELDS = ("id", "parent_id", "path", "name")


class _Walk:
    """One step through one drive, optionally only over files of one status."""

    def __init__(self, drive_id: int, status: str | None):
        self.drive_id = drive_id
        self.status = status
        #: The subtree counter that says a folder holds a matching file.
        self.counter = "file_count" if status is None else f"count_{status}"

    def own(self, path: str, *, after=None, before=None, last=False) -> FileEntry | None:
        """A folder's first (or last) own file, optionally after/before a filename."""
        files = FileEntry.objects.filter(drive_id=self.drive_id, path=path)
        if self.status is not None:
            files = files.filter(status=self.status)
        if after is not None:
            files = files.filter(filename__gt=after)
        if before is not None:
            files = files.filter(filename__lt=before)
        return files.only(*STEP_FIELDS).order_by("-filename" if last else "filename").first()

    def child(self, parent_id: int, *, after=None, before=None, last=False) -> Folder | None:
        """The first (or last) subfolder holding a matching file, after/before a name."""
        folders = Folder.objects.filter(parent_id=parent_id, **{f"{self.counter}__gt": 0})
        if after is not None:
            folders = folders.filter(name__gt=after)
        if before is not None:
            folders = folders.filter(name__lt=before)
        return folders.only(*FOLDER_STEP_FIELDS).order_by("-name" if last else "name").first()

    def first_in(self, folder: Folder) -> FileEntry | None:
        """The first matching file of a subtree: down the first subfolders, then files."""
        while (child := self.child(folder.pk)) is not None:
            folder = child
        return self.own(folder.path)

    def last_in(self, folder: Folder) -> FileEntry | None:
        """The last matching file of a subtree: its own last file, else its last subfolder's."""
        while True:
            file = self.own(folder.path, last=True)
            if file is not None:
                return file
            folder = self.child(folder.pk, last=True)
            if folder is None:
                return None

    def ancestors(self, path: str) -> list[Folder]:
        """The folders from the root down to ``path``, in one query."""
        if path.count("/") >= MAX_DEPTH:  # no drive is that deep: not a folder it has
            raise Folder.DoesNotExist(f"No folder {path[:80]!r}… on drive {self.drive_id}.")
        paths = ancestor_paths(path)
        found = {
            f.path: f
            for f in Folder.objects.filter(drive_id=self.drive_id, path__in=paths).only(
                *FOLDER_STEP_FIELDS
            )
        }
        if path not in found:
            raise Folder.DoesNotExist(f"No folder {path!r} on drive {self.drive_id}.")
        return [found[p] for p in paths if p in found]

    def after(self, path: str, filename: str) -> FileEntry | None:
        file = self.own(path, after=filename)
        if file is not None:
            return file
        chain = self.ancestors(path)
        for node, parent in zip(reversed(chain), reversed(chain[:-1]), strict=False):
            # After a folder's subtree: its later siblings, then the parent's own files.
            sibling = self.child(parent.pk, after=node.name)
            file = self.first_in(sibling) if sibling is not None else None
            if file is None:
                file = self.own(parent.path)
            if file is not None:
                return file
        return None

    def before(self, path: str, filename: str) -> FileEntry | None:
        file = self.own(path, before=filename, last=True)
        if file is not None:
            return file
        chain = self.ancestors(path)
        # Before a folder's own files come its subfolders.
        child = self.child(chain[-1].pk, last=True)
        if child is not None and (file := self.last_in(child)) is not None:
            return file
        for node, parent in zip(reversed(chain), reversed(chain[:-1]), strict=False):
            sibling = self.child(parent.pk, before=node.name, last=True)
            if sibling is not None and (file := self.last_in(sibling)) is not None:
                return file
        return None

    def start(self) -> FileEntry | None:
        return self.first_in(self.ancestors("")[0])

    def end(self) -> FileEntry | None:
        return self.last_in(self.ancestors("")[0])


def step(
    drive_id: int,
    path: str = "",
    filename: str = "",
    *,
    direction: int = 1,
    status: str | None = None,
    wrap: bool = False,
) -> FileEntry | None:
    """The file after (``direction`` 1) or before (-1) (path, filename) in tree order.

    With ``status``, only files of that status count (the chips, *next unreviewed*).
    No filename: from the start of the drive (or its end, going back). ``wrap``: past
    the end, start again from the beginning (or the other way round). None when there
    is none. Raises ``Folder.DoesNotExist`` for a path the drive does not have.
    """
    walk = _Walk(drive_id, status)
    if not filename:
        return walk.start() if direction > 0 else walk.end()
    found = walk.after(path, filename) if direction > 0 else walk.before(path, filename)
    if found is None and wrap:
        found = walk.start() if direction > 0 else walk.end()
    return found


def next_unreviewed(drive_id: int, path: str = "", filename: str = "") -> FileEntry | None:
    """The first unreviewed file of a drive after (path, filename) in tree order,
    wrapping round to the start."""
    return step(drive_id, path, filename, status=Status.UNREVIEWED, wrap=True)


def folder_counts(drive_id: int, path: str) -> list[Folder]:
    """The counters of a folder and every folder above it, root first (one query): what
    a save moved, for the page to show without reloading."""
    return list(
        Folder.objects.filter(drive_id=drive_id, path__in=ancestor_paths(path)).order_by("depth")
    )


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
