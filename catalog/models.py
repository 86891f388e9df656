"""The catalog: one row per file on an external drive, plus the folders that hold them.

The media never live here. A drive is scanned into a manifest (``scan_folder``),
the manifest is imported (``import_json``), and archivists annotate the rows.
Writes go through ``catalog.services``; reads through ``catalog.selectors``.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from wagtail.models import DraftStateMixin, LockableMixin, RevisionMixin, WorkflowMixin

from .previews.models import Preview  # noqa: F401 (a catalog model, kept in its package)


class Status(models.TextChoices):
    """The six curator decisions of the seed tool; order is the 1-6 keyboard order."""

    UNREVIEWED = "unreviewed", _("Unreviewed")
    UPLOAD = "upload", _("Upload")
    RESTRICTED = "restricted", _("Restricted")
    KEEP_OFFLINE = "keep_offline", _("Keep offline")
    DISCARD = "discard", _("Discard")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")


#: The seed's status colours (grey, green, blue, slate, red, amber).
STATUS_COLOURS = {
    Status.UNREVIEWED: "#9ca3af",
    Status.UPLOAD: "#16a34a",
    Status.RESTRICTED: "#2563eb",
    Status.KEEP_OFFLINE: "#475569",
    Status.DISCARD: "#dc2626",
    Status.NEEDS_ATTENTION: "#d97706",
}


class ReviewState(models.TextChoices):
    """Where a file's decision stands in review; the table is in docs/workflow.md."""

    NONE = "", _("Nothing to review")
    DECIDED = "decided", _("Decided, not submitted")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Category(models.TextChoices):
    VIDEO = "video", _("Video")
    IMAGE = "image", _("Image")
    AUDIO = "audio", _("Audio")
    DOCUMENT = "document", _("Document")
    OTHER = "other", _("Other")


class SelectionMethod(models.TextChoices):
    """How a duplicate group's primary copy was chosen."""

    AUTO_LARGEST = "auto_largest", _("Automatic: largest copy")
    AUTO_SHORTEST_PATH = "auto_shortest_path", _("Automatic: shortest path")
    MANUAL = "manual", _("Chosen by hand")


class SelectionReason(models.TextChoices):
    """What actually decided a group's primary: the first step of its method's order at
    which the primary came before every other copy (``catalog.services.duplicates``).
    Copies of one oshash nearly always have one size, so "largest copy" rarely decides."""

    LARGEST = "largest", _("the largest copy")
    SHORTEST_PATH = "shortest_path", _("the shortest path")
    DRIVE = "drive", _("first by drive name")
    PATH = "path", _("first by folder path")
    FILENAME = "filename", _("first by file name")
    #: Chosen by an earlier run; a copy added since would now come first.
    KEPT = "kept", _("kept from an earlier run: a copy added since would come first")
    MANUAL = "manual", _("chosen by hand")


class Drive(models.Model):
    #: Derived from the manifest file name (``Expansion.json`` → ``Expansion``).
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_imported_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: File name of the manifest last imported into this drive.
    last_manifest = models.CharField(max_length=255, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Folder(models.Model):
    """A directory on a drive, with counts for its whole subtree.

    Exists so that opening one folder reads its children by ``parent`` and never
    scans the drive's file table. The counts are maintained by the services
    (``catalog.services.folders``) after every import and status change.
    """

    drive = models.ForeignKey(Drive, on_delete=models.CASCADE, related_name="folders")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    #: Relative to the drive root, no leading or trailing slash; "" is the root.
    path = models.TextField(blank=True)
    name = models.TextField(blank=True)
    depth = models.PositiveSmallIntegerField(default=0)

    file_count = models.PositiveIntegerField(default=0)
    total_size = models.PositiveBigIntegerField(default=0)
    count_unreviewed = models.PositiveIntegerField(default=0)
    count_upload = models.PositiveIntegerField(default=0)
    count_restricted = models.PositiveIntegerField(default=0)
    count_keep_offline = models.PositiveIntegerField(default=0)
    count_discard = models.PositiveIntegerField(default=0)
    count_needs_attention = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["drive", "path"], name="folder_unique_drive_path"),
        ]
        indexes = [
            models.Index(fields=["parent", "name"], name="folder_parent_name"),
            # Drive roots: listing totals and the dashboard sum them (one row per drive,
            # found without reading the other 50,000 folders).
            models.Index(fields=["drive"], condition=models.Q(depth=0), name="folder_roots"),
        ]

    def __str__(self):
        return f"{self.drive}:/{self.path}"

    @property
    def reviewed_count(self) -> int:
        return self.file_count - self.count_unreviewed

    def status_counts(self) -> dict[str, int]:
        return {status: getattr(self, f"count_{status}") for status in Status.values}


class ProjectGroup(models.Model):
    """The typo-safe list of projects a file can belong to."""

    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class DuplicateGroup(models.Model):
    """Every file sharing one oshash, when more than one file has it."""

    oshash = models.CharField(max_length=16, unique=True)
    primary = models.ForeignKey(
        "FileEntry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The copy that is catalogued and exported; the others are spares."),
    )
    selection_method = models.CharField(
        max_length=32, choices=SelectionMethod.choices, default=SelectionMethod.AUTO_LARGEST
    )
    #: What decided the primary (see ``SelectionReason``); "" until a choice records it.
    selection_reason = models.CharField(
        max_length=16, choices=SelectionReason.choices, blank=True, default="", db_default=""
    )
    #: When the primary was chosen, and by whom when by hand.
    selected_at = models.DateTimeField(null=True, blank=True)
    selected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    member_count = models.PositiveIntegerField(default=0)
    #: Bytes freed by keeping only the primary copy.
    bytes_reclaimable = models.PositiveBigIntegerField(default=0)
    #: Copies carry decisions that disagree (one upload, another discard): a reviewer
    #: must settle it before the group is exported.
    has_conflict = models.BooleanField(default=False, db_default=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-bytes_reclaimable", "oshash"]

    def __str__(self):
        return f"{self.oshash} ({self.member_count} copies)"

    @property
    def selection_summary(self) -> str:
        """The rule that chose the primary, in words: "Chosen by anna on 4 Dec 2026",
        "Automatic: same size, first by drive name"."""
        when = formats.date_format(self.selected_at, "DATE_FORMAT") if self.selected_at else ""
        if self.selection_method == SelectionMethod.MANUAL:
            who = self.selected_by.get_username() if self.selected_by_id else _("someone")
            if when:
                return _("Chosen by %(who)s on %(when)s") % {"who": who, "when": when}
            return _("Chosen by %(who)s") % {"who": who}
        reason = self.selection_reason
        if reason in (SelectionReason.LARGEST, SelectionReason.SHORTEST_PATH, ""):
            text = self.get_selection_method_display()  # the method's own step decided
        elif reason == SelectionReason.KEPT:
            text = _("Automatic: %(rule)s") % {"rule": self.get_selection_reason_display()}
        else:
            tie = TIES[self.selection_method, reason]
            text = _("Automatic: %(tie)s, %(rule)s") % {
                "tie": tie,
                "rule": self.get_selection_reason_display(),
            }
        return text

    @property
    def decisions_label(self) -> str:
        return _("Conflicting") if self.has_conflict else ""


#: What the copies had in common when a later step of the order decided.
TIES = {
    (SelectionMethod.AUTO_LARGEST, SelectionReason.DRIVE): _("same size"),
    (SelectionMethod.AUTO_LARGEST, SelectionReason.PATH): _("same size and drive"),
    (SelectionMethod.AUTO_LARGEST, SelectionReason.FILENAME): _("same size, drive and folder"),
    (SelectionMethod.AUTO_SHORTEST_PATH, SelectionReason.DRIVE): _("same path length"),
    (SelectionMethod.AUTO_SHORTEST_PATH, SelectionReason.PATH): _("same path length and drive"),
    (SelectionMethod.AUTO_SHORTEST_PATH, SelectionReason.FILENAME): _(
        "same path length, drive and folder"
    ),
}


#: What a revision of a file records and restores: the curator's decision and metadata.
REVISIONED_FIELDS = {"status", "title", "description", "project_group", "date", "notes"}


def revision_content(*, pk, status, title, description, project_group_id, date, notes) -> dict:
    """A file revision's JSON, built from values so bulk actions need no model instances."""
    return {
        "pk": pk,
        "status": status,
        "title": title,
        "description": description,
        "project_group": project_group_id,
        "date": date.isoformat() if date else None,
        "notes": notes,
    }


class FileEntry(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, models.Model):
    # Where the file is. Unique per (drive, path, filename).
    # No index of its own: the unique (drive, path, filename) index starts with it.
    drive = models.ForeignKey(Drive, on_delete=models.CASCADE, related_name="files", db_index=False)
    folder = models.ForeignKey(
        Folder, on_delete=models.CASCADE, related_name="files", db_index=False
    )
    path = models.TextField(blank=True, help_text=_("Folder on the drive; empty for the root."))
    filename = models.TextField()

    # What the scanner saw. Refreshed by ``import_json --update``; never edited by hand.
    # Null, not "", for unreadable files: "no hash" must never look like a shared value.
    oshash = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001
    size = models.PositiveBigIntegerField(null=True, blank=True)
    mime_type = models.CharField(max_length=255, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.OTHER)
    exif_date_raw = models.CharField(max_length=64, blank=True)
    exif_date = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text=_("Seconds."))
    resolution = models.CharField(max_length=64, blank=True)
    camera = models.CharField(max_length=255, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True, editable=False)

    # What archivists decide.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNREVIEWED)
    title = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    project_group = models.ForeignKey(
        ProjectGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="files",
        db_index=False,  # fileentry_project_group: grouped files only
    )
    date = models.DateField(
        null=True, blank=True, help_text=_("Curated date; starts as the EXIF date.")
    )
    notes = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    # Duplicates: set by ``update_duplicates`` / ``import_repeats``.
    duplicate_group = models.ForeignKey(
        DuplicateGroup,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="files",
        db_index=False,  # fileentry_group_members below, which covers what groups read
    )
    is_primary = models.BooleanField(default=False, editable=False)

    # Review: the columns lists and counts use; kept in step with Wagtail's workflow
    # state by ``workflow.services`` (see docs/workflow.md).
    review_state = models.CharField(
        max_length=16, choices=ReviewState.choices, default=ReviewState.NONE, editable=False
    )
    #: The reviewer's comment on the last rejection, shown to the curator.
    review_comment = models.TextField(blank=True, editable=False)
    #: Bumped by every curator save: a save based on an older version is refused.
    version = models.PositiveIntegerField(default=0, editable=False)

    # pad.ma: set by the exporter once the file's item exists there.
    padma_id = models.CharField(max_length=64, blank=True, editable=False)
    exported_at = models.DateTimeField(null=True, blank=True, editable=False)

    _revisions = GenericRelation(
        "wagtailcore.Revision",
        content_type_field="base_content_type",
        object_id_field="object_id",
        related_query_name="fileentry",
        for_concrete_model=False,
    )
    workflow_states = GenericRelation(
        "wagtailcore.WorkflowState",
        content_type_field="base_content_type",
        object_id_field="object_id",
        related_query_name="fileentry",
        for_concrete_model=False,
    )

    # Wagtail's mixin fields, redefined only to index the rows that have a value: an
    # imported file has none of them, so a fresh import writes no entry in these indexes
    # (see Meta.indexes); lookups by value (``= x``, ``IS NOT NULL``) still use them.
    latest_revision = models.ForeignKey(
        "wagtailcore.Revision",
        related_name="+",
        verbose_name=_("latest revision"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        db_index=False,
    )
    live_revision = models.ForeignKey(
        "wagtailcore.Revision",
        related_name="+",
        verbose_name=_("live revision"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        db_index=False,
    )
    first_published_at = models.DateTimeField(
        verbose_name=_("first published at"), blank=True, null=True
    )
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("locked by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="locked_%(class)ss",
        db_index=False,
    )
    locked_by.wagtail_reference_index_ignore = True

    # Wagtail's reference index would hold a row per file and foreign key (millions), cost
    # a query per save, and be bypassed by set-based imports and bulk actions anyway; the
    # catalog's own indexed filters answer "which files are in this drive / group".
    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("file")
        verbose_name_plural = _("files")
        # On PostgreSQL this constraint and fileentry_drive_status also carry the id
        # (INCLUDE, migration 0008): deep listing pages read ids from the index alone.
        constraints = [
            models.UniqueConstraint(
                fields=["drive", "path", "filename"], name="fileentry_unique_location"
            ),
        ]
        indexes = [
            # Filtered, ordered listings: status within a drive, by path.
            models.Index(
                fields=["drive", "status", "path", "filename"], name="fileentry_drive_status"
            ),
            # Per-folder counts by status and size are read from this index alone.
            models.Index(fields=["folder", "status", "size"], name="fileentry_folder_status"),
            # Duplicate grouping reads (oshash, size) from the index alone.
            models.Index(fields=["oshash", "size"], name="fileentry_oshash_size"),
            # Group members only (about a sixth of the files): everything update_duplicates
            # reads per group (hash, decisions, sizes, primary flag) without the table.
            models.Index(
                fields=["duplicate_group", "oshash", "status", "size", "is_primary"],
                condition=models.Q(duplicate_group__isnull=False),
                name="fileentry_group_members",
            ),
            models.Index(fields=["status"], name="fileentry_status"),
            models.Index(fields=["category"], name="fileentry_category"),
            models.Index(fields=["camera"], name="fileentry_camera"),
            models.Index(
                fields=["reviewed_by", "-reviewed_at"],
                condition=models.Q(reviewed_by__isnull=False),
                name="fileentry_reviewed",
            ),
            *[
                models.Index(
                    fields=[name],
                    condition=models.Q(**{f"{name}__isnull": False}),
                    name=f"fileentry_{name}",
                )
                for name in (
                    "project_group",
                    "latest_revision",
                    "live_revision",
                    "first_published_at",
                    "locked_by",
                )
            ],
            models.Index(fields=["review_state", "status"], name="fileentry_review"),
        ]

    def __str__(self):
        return self.location

    @property
    def revisions(self):
        return self._revisions

    def serializable_data(self):
        """What a revision stores: the curator's fields only (see ``with_content_json``)."""
        return revision_content(
            pk=self.pk,
            status=self.status,
            title=self.title,
            description=self.description,
            project_group_id=self.project_group_id,
            date=self.date,
            notes=self.notes,
        )

    def with_content_json(self, content):
        """Restore curator fields from a revision; keep what the scanner and services own.

        A revision stores the whole row, but publishing an older revision must not
        roll back a later import, duplicate grouping, review bookkeeping or export.
        """
        obj = super().with_content_json(content)
        for field in self._meta.concrete_fields:
            if field.name not in REVISIONED_FIELDS:
                setattr(obj, field.attname, getattr(self, field.attname))
        return obj

    @property
    def location(self) -> str:
        return f"{self.drive.name}:/{self.relative_path}"

    @property
    def relative_path(self) -> str:
        return f"{self.path}/{self.filename}" if self.path else self.filename

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS[Status(self.status)]

    @property
    def copies_label(self) -> str:
        if self.duplicate_group_id is None:
            return ""
        return _("primary copy") if self.is_primary else _("spare copy")
