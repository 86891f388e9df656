"""How the site connects to its database: prepared statements on PostgreSQL, unless a
transaction-mode pooler forbids them."""

import pytest
from django.db import connection

from catalog.models import FileEntry
from phs_site.settings.base import database_config

PG_URL = "postgres://phs:secret@127.0.0.1:5432/phs"


def test_postgresql_binds_parameters_on_the_server_and_prepares_repeated_queries(monkeypatch):
    monkeypatch.delenv("PHS_DB_PREPARED_STATEMENTS", raising=False)
    config = database_config(PG_URL)
    assert config["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert config["CONN_MAX_AGE"] == 600 and config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize("value", ["off", "0", "false", "No"])
def test_prepared_statements_can_be_turned_off_for_a_pooler(monkeypatch, value):
    monkeypatch.setenv("PHS_DB_PREPARED_STATEMENTS", value)
    assert database_config(PG_URL).get("OPTIONS", {}) == {}


def test_sqlite_needs_no_statement_options(monkeypatch, tmp_path):
    monkeypatch.setenv("PHS_VAR_DIR", str(tmp_path))
    config = database_config(None)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert "server_side_binding" not in config["OPTIONS"]


@pytest.mark.django_db
def test_a_query_run_repeatedly_is_prepared_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's; SQLite caches its own")
    for pk in range(1, 8):  # the same statement, different parameters
        list(FileEntry.objects.filter(pk=pk).values_list("filename", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%FROM "catalog_fileentry" WHERE "catalog_fileentry"."id" = $1%'],
        )
        (prepared,) = cursor.fetchone()
    assert prepared == 1


@pytest.mark.django_db
def test_the_file_table_is_vacuumed_after_two_percent_changes_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("autovacuum is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'catalog_fileentry'")
        (options,) = cursor.fetchone()
    assert set(options) == {
        "autovacuum_vacuum_scale_factor=0.02",
        "autovacuum_analyze_scale_factor=0.02",
    }
