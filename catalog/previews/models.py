"""``Preview``: one stored preview of one kind for one oshash, shared by every copy."""

from django.core.files.storage import storages
from django.db import models

from .kinds import Kind, Source


def previews_storage():
    """``STORAGES["previews"]``: the file system by default, S3 through django-storages."""
    return storages["previews"]


class Preview(models.Model):
    """Content-addressed by oshash: copies of a file on any drive share one row per kind.

    A placeholder row (``kind="placeholder"``, no file) says why a file has no preview.
    """

    #: Indexed by the unique (oshash, kind) constraint, which leads with it.
    oshash = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    #: ``<ab>/<oshash>/<kind>.<ext>`` on the previews storage; empty for a placeholder.
    file = models.FileField(storage=previews_storage, max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    bytes = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=64, blank=True)
    #: Why there is no preview (placeholder rows only).
    reason = models.CharField(max_length=300, blank=True)
    #: Strips only: the time in seconds of each frame, left to right.
    frame_times = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.SCAN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["oshash", "kind"], name="preview_oshash_kind")
        ]

    def __str__(self) -> str:
        return f"{self.oshash} {self.kind}"

    @property
    def frames(self) -> int:
        return len(self.frame_times)
