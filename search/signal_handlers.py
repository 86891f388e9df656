"""Signal receivers: SQLite's fold function on each new connection, imports, and
project groups.

An import's new and changed files are indexed when the catalog says a drive's files
changed (``catalog.signals``): the catalog, a lower layer, does not import search.

A project group's name is indexed with its files: a rename re-indexes them, and so does
a deletion (the files lose the group: ``on_delete=SET_NULL``).

A receiver rather than a service call because project groups are edited by Wagtail's
generic snippet views (no service of ours in that path). The work is one set-based
statement, and only when the name changed.
"""

from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from catalog.models import FileEntry, ProjectGroup
from catalog.signals import drive_files_changed

from .indexing import index_drive, index_files, index_project_group


def index_imported_drive(sender, drive_id, **kwargs):
    index_drive(drive_id)  # set-based; large imports are indexed after commit


def remember_old_name(sender, instance, **kwargs):
    if instance.pk:
        old = ProjectGroup.objects.filter(pk=instance.pk).values_list("name", flat=True).first()
        instance._search_old_name = old


def reindex_on_rename(sender, instance, created, **kwargs):
    old = getattr(instance, "_search_old_name", None)
    if not created and old is not None and old != instance.name:
        index_project_group(instance.pk)


def remember_files(sender, instance, **kwargs):
    instance._search_file_ids = list(
        FileEntry.objects.filter(project_group=instance).values_list("id", flat=True)
    )


def reindex_after_delete(sender, instance, **kwargs):
    if ids := getattr(instance, "_search_file_ids", None):
        index_files(ids)


def connect():
    from .backends.sqlite import register_functions

    connection_created.connect(register_functions, dispatch_uid="search-sqlite-functions")
    drive_files_changed.connect(index_imported_drive, dispatch_uid="search-index-imported-drive")
    pre_save.connect(remember_old_name, sender=ProjectGroup, dispatch_uid="search-pg-old")
    post_save.connect(reindex_on_rename, sender=ProjectGroup, dispatch_uid="search-pg-rename")
    pre_delete.connect(remember_files, sender=ProjectGroup, dispatch_uid="search-pg-files")
    post_delete.connect(reindex_after_delete, sender=ProjectGroup, dispatch_uid="search-pg-del")
