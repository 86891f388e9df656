"""The catalog's tables and columns as raw SQL names, read once from the models' ``_meta``.

Raw SQL outside the ORM (``search/``; the tables in ``catalog/services/``) names the
catalog's tables and columns only through this module, never as literals: a renamed
field or table then renames them in every statement, and a name that no longer exists
fails when the SQL is built, naming the model and the field. Names come quoted as the
database quotes them (the same quoting the ORM uses, so raw SQL and compiled querysets
agree); values stay parameters.

    f"SELECT f.{FILE_ENTRY.id} FROM {FILE_ENTRY} f WHERE f.{FILE_ENTRY.oshash} >= %s"
"""

from django.db import connection
from django.db.models import Model

from catalog.models import Drive, FileEntry, Folder, ProjectGroup


class Table:
    """One model's table: ``str(table)`` is its quoted name, ``table.<field>`` the quoted
    column of a field, by name or attname (``FILE_ENTRY.drive`` and ``.drive_id`` are
    both ``"drive_id"``). Read-only."""

    __slots__ = ("_columns", "_model", "_name")

    def __init__(self, model: type[Model]) -> None:
        quote = connection.ops.quote_name
        columns = {}
        for field in model._meta.concrete_fields:
            columns[field.name] = columns[field.attname] = quote(field.column)
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_name", quote(model._meta.db_table))
        object.__setattr__(self, "_columns", columns)

    def __str__(self) -> str:
        return self._name

    def __getattr__(self, field: str) -> str:
        if field.startswith("_"):  # the slots themselves, before __init__ set them
            raise AttributeError(field)
        try:
            return self._columns[field]
        except KeyError:
            raise AttributeError(
                f"{self._model.__name__} has no column for a field {field!r}"
            ) from None

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"{self._model.__name__}'s table names are read-only")

    def __repr__(self) -> str:
        return f"<Table {self._name} of {self._model.__name__}>"


DRIVE = Table(Drive)
FILE_ENTRY = Table(FileEntry)
FOLDER = Table(Folder)
PROJECT_GROUP = Table(ProjectGroup)
