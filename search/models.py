"""The search index (derived data, rebuilt at will) and users' saved searches.

``FileIndex`` holds one row per file with its searchable text already folded
(``search.text.fold``). Each database adds its own matching structures to it in
migration 0002, outside the ORM: a generated ``tsvector`` column with a GIN index and a
``pg_trgm`` GIN index on PostgreSQL; two external-content FTS5 tables (words and
trigrams) kept in step by triggers on SQLite. Only ``search.indexing`` writes it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import FileEntry


class FileIndex(models.Model):
    file = models.OneToOneField(
        FileEntry,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="search_index",
        db_constraint=False,
    )
    #: Folded filename (ranking: a hit in the name ranks above a hit in the folder).
    name = models.TextField()
    #: Folded ``path/filename``: what fragments are matched against.
    location = models.TextField()
    title = models.TextField(blank=True)
    #: Description and notes.
    body = models.TextField(blank=True)
    #: Project group name and camera.
    tags = models.TextField(blank=True)
    oshash = models.TextField(blank=True)
    #: ``FileEntry.imported_at`` when indexed: an import re-indexes only rows it touched.
    imported_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["oshash"], name="search_oshash", opclasses=["text_pattern_ops"])
        ]

    def __str__(self):
        return self.location


class SavedSearch(models.Model):
    """A named query and facets, shown in its owner's *Find files* menu."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(max_length=100)
    #: The Find files query string (``q=…&drive=…``), without paging or sorting noise.
    query_string = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved search")
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="savedsearch_unique_name")
        ]

    def __str__(self):
        return self.name
