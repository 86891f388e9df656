"""Signal receivers: SQLite's fold function on each new connection, and project groups.

A project group's name is indexed with its files: a rename re-indexes them, and so does
a deletion (the files lose the group: ``on_delete=SET_NULL``).

A receiver rather than a service call because project groups are edited by Wagtail's
generic snippet views (no service of ours in that path). The work is one set-based
statement, and only when the name changed.
"""

from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from catalog.models import FileEntry, ProjectGroup

from .indexing import index_files, index_project_group


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
    pre_save.connect(remember_old_name, sender=ProjectGroup, dispatch_uid="search-pg-old")
    post_save.connect(reindex_on_rename, sender=ProjectGroup, dispatch_uid="search-pg-rename")
    pre_delete.connect(remember_files, sender=ProjectGroup, dispatch_uid="search-pg-files")
    post_delete.connect(reindex_after_delete, sender=ProjectGroup, dispatch_uid="search-pg-del")
