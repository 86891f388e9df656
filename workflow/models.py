"""Workflow models: the pad.ma export outbox and its batches, and the review task.

An approval writes an ``ExportRequest`` row in the same transaction (the outbox), so
no approved file is ever forgotten; a background task or ``export_padma`` works the
pending rows off in ``ExportBatch``es. See docs/export.md.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.models import GroupApprovalTask


class PadmaReviewTask(GroupApprovalTask):
    """A reviewer group approves files for pad.ma; never the person who submitted them.

    The four-eyes rule holds even for a reviewer who is also a curator: their own
    submissions get no approve/reject actions and are left out of their queue.
    """

    def _is_own_submission(self, obj, user) -> bool:
        state = getattr(obj, "current_workflow_state", None)
        return state is not None and state.requested_by_id == user.pk

    def get_actions(self, obj, user):
        if self._is_own_submission(obj, user):
            return []
        return super().get_actions(obj, user)

    def on_action(self, task_state, user, action_name, **kwargs):
        if task_state.workflow_state.requested_by_id == user.pk:
            raise PermissionDenied("You cannot review your own submission.")
        return super().on_action(task_state, user, action_name, **kwargs)

    def get_task_states_user_can_moderate(self, user, **kwargs):
        return (
            super()
            .get_task_states_user_can_moderate(user, **kwargs)
            .exclude(workflow_state__requested_by=user)
        )

    @classmethod
    def get_description(cls):
        return _("Members of the chosen groups approve files for pad.ma (never their own).")

    class Meta:
        verbose_name = _("pad.ma review task")
        verbose_name_plural = _("pad.ma review tasks")


def is_reviewer(user) -> bool:
    """Whether ``user`` reviews for pad.ma (a superuser, or in an active review task's group)."""
    if user.is_superuser:
        return True
    # Asked several times per request (pane, buttons, actions): one query per user object,
    # as Django caches permissions on the user. A new request has a new user object.
    if not hasattr(user, "_phs_is_reviewer"):
        user._phs_is_reviewer = PadmaReviewTask.objects.filter(
            active=True, groups__in=user.groups.all()
        ).exists()
    return user._phs_is_reviewer


class ExportState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Exported")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class ExportBatch(models.Model):
    """One run of the exporter over some pending requests."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: Dotted path of the exporter backend that ran.
    backend = models.CharField(max_length=255)
    dry_run = models.BooleanField(default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    exported = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    #: Dry runs keep their plan here (the write requests they would send).
    report = models.JSONField(default=dict, blank=True)
    #: Why the run stopped early (pad.ma unreachable, sign-in refused), if it did.
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name_plural = _("export batches")

    def __str__(self):
        return f"{self.backend.rsplit('.', 1)[-1]} {self.started_at:%Y-%m-%d %H:%M}"


class ExportRequest(models.Model):
    """The outbox: one file whose approved version must reach pad.ma."""

    file = models.ForeignKey(
        "catalog.FileEntry", on_delete=models.CASCADE, related_name="export_requests"
    )
    #: The approved revision whose metadata is exported.
    revision = models.ForeignKey(
        "wagtailcore.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(
        max_length=16, choices=ExportState.choices, default=ExportState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    #: Failed requests are retried with backoff, not before this time.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    batch = models.ForeignKey(
        ExportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    padma_id = models.CharField(max_length=64, blank=True)
    #: When pad.ma recorded the file's location on its drive (the ``update`` call).
    located_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="export_due"),
        ]
        constraints = [
            # The outbox holds at most one pending export per file.
            models.UniqueConstraint(
                fields=["file"],
                condition=models.Q(state="pending"),
                name="export_one_pending_per_file",
            ),
        ]

    def __str__(self):
        return f"export of file {self.file_id} ({self.state})"


class UploadState(models.TextChoices):
    """Where a file's media stand on their way to pad.ma (``upload_padma``)."""

    WAITING = "waiting", _("Waiting for its drive")
    ENCODING = "encoding", _("Encoding")
    UPLOADING = "uploading", _("Uploading")
    DONE = "done", _("Uploaded")
    FAILED = "failed", _("Failed")
    #: The file on the mount is not the catalogued one (size or oshash differ).
    MISMATCH = "mismatch", _("Refused: changed on the drive")
    #: Images, documents and other files pad.ma items cannot play (docs/export.md).
    KEPT_OUT = "kept_out", _("Kept out")


class MediaUpload(models.Model):
    """The media upload of one exported file: its state, bytes sent and last message.

    One row per file, written by ``workflow.export.upload`` only; a file with no row has
    not been asked for yet (it waits for its drive).
    """

    file = models.OneToOneField(
        "catalog.FileEntry", on_delete=models.CASCADE, related_name="media_upload"
    )
    state = models.CharField(max_length=16, choices=UploadState.choices)
    #: pad.ma's encoding profile (``480p.webm``), or ``original`` for an ``uploadData``.
    profile = models.CharField(max_length=32, blank=True)
    #: Size of what is sent (the encoded file), once known.
    upload_size = models.PositiveBigIntegerField(null=True, blank=True)
    bytes_sent = models.PositiveBigIntegerField(default=0)
    info_sent_at = models.DateTimeField(null=True, blank=True)
    #: What was found on the mount when it was not the catalogued file.
    found_size = models.PositiveBigIntegerField(null=True, blank=True)
    found_oshash = models.CharField(max_length=16, blank=True)
    #: Why it stands where it does: pad.ma's own message for a failure.
    message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: Seconds spent encoding and uploading, for the plan's time estimate.
    seconds = models.FloatField(default=0)

    class Meta:
        indexes = [models.Index(fields=["state"], name="media_upload_state")]

    def __str__(self):
        return f"upload of file {self.file_id} ({self.state})"
