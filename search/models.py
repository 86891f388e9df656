"""The search index (derived data, rebuilt at will) and users' saved searches.

``FileIndex`` holds one row per file with its searchable text already folded
(``search.text.fold``), ``FolderIndex`` one row per folder with its folded path. Each
database adds its own matching structures to them in migration 0003, outside the ORM
(``search.backends.sql``): a ``tsvector`` expression GIN index, ``pg_trgm`` GIN
indexes on the filename and the folder path and btrees on PostgreSQL; three
external-content FTS5 tables (words, filename trigrams, folder-path trigrams) and
btrees on SQLite. Only ``search.indexing`` writes them.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import FileEntry, Folder


class RowIdOneToOneField(models.OneToOneField):
    """A one-to-one primary key that is SQLite's ``INTEGER PRIMARY KEY`` (the rowid):
    Django's ``bigint`` key would add a second b-tree that every insert and every
    lookup by file id goes through. Other databases: the usual column type."""

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class FileIndex(models.Model):
    file = RowIdOneToOneField(
        FileEntry,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="search_index",
        db_constraint=False,
    )
    #: The file's folder (``FolderIndex``): fragments of its path match the file.
    folder_id = models.BigIntegerField()
    #: The file's drive and type, copied (only imports set them, and an import re-indexes
    #: the rows it changes): a query with these facets is narrowed inside the index.
    drive_id = models.BigIntegerField()
    category = models.CharField(max_length=16)
    #: Folded filename: fragments are matched against it (and against the folder's
    #: path, in ``FolderIndex``); a hit in the name ranks above a hit in the folder.
    name = models.TextField()
    title = models.TextField(blank=True)
    #: Description and notes.
    body = models.TextField(blank=True)
    #: Project group name and camera.
    tags = models.TextField(blank=True)
    #: ``FileEntry.imported_at`` when indexed: an import re-indexes only rows it touched.
    imported_at = models.DateTimeField(null=True)

    # oshash prefixes are looked up in ``FileEntry``'s table (its ``(oshash, size)``
    # index); the indexes on ``folder_id``, ``drive_id`` and ``category`` are made with
    # the other matching structures (a rebuild drops and recreates them).

    def __str__(self):
        return self.name


class FolderIndex(models.Model):
    """One row per folder: its folded path, matched by fragments once for all its files."""

    folder = RowIdOneToOneField(
        Folder,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="search_index",
        db_constraint=False,
    )
    #: Folded path (``""`` for the drive root).
    location = models.TextField(blank=True)

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
