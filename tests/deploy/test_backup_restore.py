"""deploy/backup then a wipe then deploy/restore gives back the same database.

Runs on the suite's engine: SQLite by default, PostgreSQL when DATABASE_URL is set (the
scratch databases on the server are named ``phs_test_…`` and dropped afterwards).
"""

import json
import os
import secrets
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import entry

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_TABLES = ("catalog_drive", "catalog_fileentry", "catalog_folder", "auth_user")

# serialized_rollback: its flush then leaves content types alone (a flush that recreates
# them gives new ids, and the next test that restores the migrations' rows collides).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def archive(write_manifest, make_user):
    """A small catalogue with the names that break naive tools: Devanagari, NFD, quotes."""
    entries = [entry(f"IMG_{n:04d}.JPG", path="2019/rehearsal") for n in range(40)]
    entries += [
        entry("प्रदर्शन.mp4", path="कार्यशाला/दिन-1", file_type="video/mp4"),
        entry("cafe\u0301 'quoted' \"name\".wav", path="audio", file_type="audio/wav"),
    ]
    call_command("import_json", str(write_manifest(entries)), stdout=StringIO())
    make_user("curator", "Curators")


@pytest.fixture
def site_database_url(archive, tmp_path):
    """A real database outside the test connection, holding the test database's data."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        path = tmp_path / "site.sqlite3"
        with closing(sqlite3.connect(path)) as copy:
            connection.ensure_connection()
            connection.connection.backup(copy)
        yield f"sqlite:///{path}"
        return
    name = f"phs_test_site_{secrets.token_hex(4)}"
    connection.close()  # CREATE DATABASE … TEMPLATE needs the template unused
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{settings["NAME"]}"')
    user = settings["USER"] or ""
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    yield f"postgres://{user}{password}@{settings['HOST']}:{settings['PORT'] or 5432}/{name}"
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(script: str, url: str, *args: str, backups: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PHS_BACKUP_DIR": str(backups),
        "PHS_SCRATCH_DB_PREFIX": "phs_test_",
    }
    result = subprocess.run(
        [str(ROOT / "deploy" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def snapshot(url: str) -> tuple[dict[str, int], dict[str, list]]:
    """Row counts of every table, and every row of the main tables in a stable order."""
    from deploy_backups import Database, row_counts

    db = Database.from_url(url)
    with closing(db.connect()) as conn:
        cursor = conn.cursor()
        counts = row_counts(cursor, db.engine)
        rows = {}
        for table in SAMPLE_TABLES:
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY id')  # noqa: S608
            rows[table] = [tuple(row) for row in cursor.fetchall()]
    return counts, rows


def wipe(url: str) -> None:
    from deploy_backups import Database

    db = Database.from_url(url)
    if db.engine == "sqlite":
        Path(db.name).unlink()
        return
    with closing(db.connect()) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def test_backup_wipe_restore_gives_back_identical_data(site_database_url, tmp_path):
    before_counts, before_rows = snapshot(site_database_url)
    assert before_counts["catalog_fileentry"] == 42
    backups = tmp_path / "backups"

    made = run("backup", site_database_url, backups=backups)
    assert "verified by restoring into" in made.stdout
    [dump] = [p for p in backups.iterdir() if p.suffix in {".pgdump", ".sqlite3"}]
    manifest = json.loads(dump.with_name(dump.name + ".json").read_text())
    assert manifest["counts"] == before_counts

    wipe(site_database_url)
    run("restore", site_database_url, str(dump), "--yes", backups=backups)

    after_counts, after_rows = snapshot(site_database_url)
    assert after_counts == before_counts
    assert after_rows == before_rows
    values = {value for row in after_rows["catalog_fileentry"] for value in row}
    assert {"प्रदर्शन.mp4", "cafe\u0301 'quoted' \"name\".wav", "कार्यशाला/दिन-1"} <= values


def test_rotation_keeps_the_newest_and_leaves_no_scratch_database(site_database_url, tmp_path):
    def scratch_names() -> set[str]:
        if connection.vendor != "postgresql":
            return {str(p) for p in Path(tempfile.gettempdir()).glob("phs_test_*")}
        with connection.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE 'phs_test_%%'")
            return {name for (name,) in cursor.fetchall()}

    before = scratch_names()
    backups = tmp_path / "backups"
    for _ in range(2):
        run("backup", site_database_url, "--keep", "1", backups=backups)
    [kept] = [p for p in backups.iterdir() if p.suffix in {".pgdump", ".sqlite3"}]
    assert (backups / f"{kept.name}.json").exists()
    assert not list(backups.glob("*.partial"))
    assert scratch_names() == before
