"""``catalog.schema``: the names raw SQL uses are the models' and the database's."""

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps

from catalog.models import FileEntry, Folder, ProjectGroup
from catalog.schema import FILE_ENTRY, FOLDER, PROJECT_GROUP, Table

TABLES = [(FILE_ENTRY, FileEntry), (FOLDER, Folder), (PROJECT_GROUP, ProjectGroup)]


@pytest.mark.parametrize(("table", "model"), TABLES, ids=lambda t: getattr(t, "__name__", ""))
def test_names_are_the_models_meta_quoted(table, model):
    quote = connection.ops.quote_name
    assert str(table) == f"{table}" == quote(model._meta.db_table)
    for field in model._meta.concrete_fields:
        assert getattr(table, field.name) == quote(field.column), field.name
        assert getattr(table, field.attname) == quote(field.column), field.attname


@isolate_apps("catalog")
def test_a_field_with_its_own_column_name_is_named_by_its_column():
    class Renamed(models.Model):
        checksum = models.CharField(max_length=16, db_column="oshash_hex")

        class Meta:
            app_label = "catalog"
            db_table = "catalog_renamed_for_test"

        def __str__(self):
            return self.checksum

    table = Table(Renamed)
    assert str(table) == '"catalog_renamed_for_test"'
    assert table.checksum == '"oshash_hex"'


@pytest.mark.django_db
@pytest.mark.parametrize(("table", "model"), TABLES, ids=lambda t: getattr(t, "__name__", ""))
def test_the_tables_and_columns_exist_in_the_database(table, model):
    with connection.cursor() as cursor:
        assert model._meta.db_table in connection.introspection.table_names(cursor)
        described = connection.introspection.get_table_description(cursor, model._meta.db_table)
    in_database = {connection.ops.quote_name(column.name) for column in described}
    named = {getattr(table, field.name) for field in model._meta.concrete_fields}
    assert named == in_database


def test_an_unknown_field_is_an_error_naming_the_model_and_the_field():
    with pytest.raises(AttributeError, match="FileEntry has no column for a field 'osh'"):
        _ = FILE_ENTRY.osh


def test_names_cannot_be_changed():
    with pytest.raises(AttributeError, match="read-only"):
        FILE_ENTRY.oshash = '"other"'
    assert FILE_ENTRY.oshash == connection.ops.quote_name("oshash")
