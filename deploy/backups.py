"""Backups that are proven: dump, verify by restoring into a scratch database, rotate; restore.

Run through ``deploy/backup`` and ``deploy/restore`` (which pick the project's Python).
The database is the one ``DATABASE_URL`` names, as for the site; without it, the
development SQLite file. Each dump gets a ``.json`` manifest with the row count of every
table at the moment of the dump; verification and restore both compare against it.

- PostgreSQL: ``pg_dump -Fc`` inside an exported snapshot, so the counts taken in that
  same snapshot describe the dump exactly, while the site keeps writing.
- SQLite: the online backup API copies a consistent snapshot, safe while the site writes.
"""

import argparse
import fcntl
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PHS_VAR_DIR", ROOT / "var"))  # as in phs_site.settings.base
DEFAULT_DIR = VAR_DIR / "backups"
#: Scratch databases made for verification start with this (tests use ``phs_test_``).
SCRATCH_PREFIX = os.environ.get("PHS_SCRATCH_DB_PREFIX", "phs_verify_")


class BackupError(Exception):
    """A dump or restore that must not be trusted; the message says why."""


@dataclass(frozen=True)
class Database:
    """Where a database lives, parsed from a DATABASE_URL."""

    engine: str  # "postgresql" or "sqlite"
    name: str  # database name, or SQLite file path
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""
    sslmode: str = ""

    @classmethod
    def from_url(cls, url: str | None) -> "Database":
        if not url:
            return cls("sqlite", str(VAR_DIR / "phs.sqlite3"))
        parts = urlsplit(url)
        # sqlite:////absolute/path or sqlite:///relative/path, as dj-database-url reads them
        if parts.scheme == "sqlite":
            return cls("sqlite", unquote(parts.path[1:]))
        if parts.scheme in {"postgres", "postgresql", "pgsql"}:
            return cls(
                "postgresql",
                unquote(parts.path.lstrip("/")),
                host=parts.hostname or "",
                port=str(parts.port or ""),
                user=unquote(parts.username or ""),
                password=unquote(parts.password or ""),
                sslmode=parse_qs(parts.query).get("sslmode", [""])[0],
            )
        raise BackupError(f"DATABASE_URL scheme {parts.scheme!r} is not PostgreSQL or SQLite")

    def named(self, name: str) -> "Database":
        return Database(
            self.engine, name, self.host, self.port, self.user, self.password, self.sslmode
        )

    def libpq_env(self) -> dict[str, str]:
        """Connection details for pg_dump/pg_restore by environment: no password in argv."""
        values = {
            "PGHOST": self.host,
            "PGPORT": self.port,
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.name,
            "PGSSLMODE": self.sslmode,
        }
        return {**os.environ, **{key: value for key, value in values.items() if value}}

    def connect(self):
        """An autocommit connection: callers that want a transaction say BEGIN themselves."""
        if self.engine == "sqlite":
            return sqlite3.connect(self.name, timeout=30, isolation_level=None)
        import psycopg

        return psycopg.connect(
            host=self.host or None,
            port=self.port or None,
            user=self.user or None,
            password=self.password or None,
            dbname=self.name,
            sslmode=self.sslmode or None,
            autocommit=True,
        )


def row_counts(cursor, engine: str) -> dict[str, int]:
    """Rows in every table (every table is a main table somewhere: none is skipped)."""
    if engine == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    tables = sorted(row[0] for row in cursor.fetchall())
    counts = {}
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        cursor.execute(f"SELECT count(*) FROM {quoted}")  # noqa: S608 — names from the catalog
        counts[table] = cursor.fetchone()[0]
    return counts


# -- dump ---------------------------------------------------------------------------------


def dump(db: Database, target: Path) -> dict[str, int]:
    """Write a consistent dump of ``db`` to ``target``; return the counts it holds."""
    if db.engine == "sqlite":
        return _dump_sqlite(db, target)
    return _dump_postgresql(db, target)


def _dump_postgresql(db: Database, target: Path) -> dict[str, int]:
    with closing(db.connect()) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        counts = row_counts(conn.cursor(), "postgresql")
        # pg_dump reads the very snapshot the counts came from, while this transaction lives.
        _run(
            ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}"],
            db.libpq_env(),
        )
        conn.execute("ROLLBACK")
    return counts


def _dump_sqlite(db: Database, target: Path) -> dict[str, int]:
    if not Path(db.name).exists():
        raise BackupError(f"SQLite database {db.name} does not exist")
    with closing(db.connect()) as source, closing(sqlite3.connect(target)) as copy:
        source.execute("BEGIN")  # one read snapshot for the counts and the copy
        counts = row_counts(source.cursor(), "sqlite")
        source.backup(copy)  # all pages in one step, under the same read snapshot
        source.execute("COMMIT")
    return counts


# -- restore ------------------------------------------------------------------------------


def restore(dump_file: Path, db: Database, *, clean: bool) -> None:
    """Load ``dump_file`` into ``db``, replacing what its tables hold."""
    if db.engine == "sqlite":
        with closing(sqlite3.connect(dump_file)) as source, closing(db.connect()) as target:
            source.backup(target)  # takes the target's write lock; readers wait, then see it
        return
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
    if clean:
        command += ["--clean", "--if-exists", "--single-transaction"]
    _run([*command, f"--dbname={db.name}", str(dump_file)], db.libpq_env())


def current_counts(db: Database) -> dict[str, int]:
    with closing(db.connect()) as conn:
        return row_counts(conn.cursor(), db.engine)


def verify(dump_file: Path, db: Database, expected: dict[str, int]) -> str:
    """Restore ``dump_file`` into a fresh scratch database and compare every table's count."""
    with scratch_database(db) as scratch:
        restore(dump_file, scratch, clean=False)
        if scratch.engine == "sqlite":
            with closing(scratch.connect()) as conn:
                check = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"{dump_file.name}: restored copy fails integrity_check: {check}")
        compare_counts(expected, current_counts(scratch), what=f"{dump_file.name} restored")
        return scratch.name


def compare_counts(expected: dict[str, int], actual: dict[str, int], *, what: str) -> None:
    differences = [
        f"{table}: expected {expected.get(table)}, found {actual.get(table)}"
        for table in sorted(set(expected) | set(actual))
        if expected.get(table) != actual.get(table)
    ]
    if differences:
        raise BackupError(f"{what} differs from the dump's counts: " + "; ".join(differences))


@contextmanager
def scratch_database(db: Database):
    """An empty database beside ``db`` (same server, or a temp file), dropped afterwards."""
    if db.engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as folder:
            yield db.named(str(Path(folder) / "scratch.sqlite3"))
        return
    from psycopg import sql

    scratch = db.named(f"{SCRATCH_PREFIX}{secrets.token_hex(4)}")
    with closing(db.connect()) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch.name)))
    try:
        yield scratch
    finally:
        with closing(db.connect()) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(scratch.name)
                )
            )


# -- the commands -------------------------------------------------------------------------


def backup_command(db: Database, folder: Path, keep: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with _lock(folder / ".lock"):
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")  # sortable, unique
        suffix = ".sqlite3" if db.engine == "sqlite" else ".pgdump"
        final = folder / f"phs-{stamp}{suffix}"
        partial = final.with_name(final.name + ".partial")
        started = time.monotonic()
        try:
            counts = dump(db, partial)
            scratch = verify(partial, db, counts)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        manifest = {"engine": db.engine, "created": stamp, "counts": counts}
        manifest_path(final).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        partial.rename(final)  # a dump under its final name has been verified
        removed = rotate(folder, keep)
    print(
        f"backup {final}: {len(counts)} tables, {sum(counts.values())} rows, "
        f"{final.stat().st_size} bytes; verified by restoring into {scratch}; "
        f"{time.monotonic() - started:.1f}s; rotated out {len(removed)}"
    )
    return final


def restore_command(db: Database, dump_file: Path, folder: Path, keep: int) -> None:
    manifest = json.loads(manifest_path(dump_file).read_text())
    if manifest["engine"] != db.engine:
        raise BackupError(
            f"{dump_file.name} is a {manifest['engine']} dump; DATABASE_URL is {db.engine}"
        )
    if db.engine == "postgresql" or Path(db.name).exists():
        # The state being replaced is kept, verified, in case this restore was a mistake;
        # in its own folder, so its rotation can never remove the dump being restored.
        print("first, a backup of the current database:")
        backup_command(db, folder / "pre-restore", keep)
    restore(dump_file, db, clean=True)
    compare_counts(manifest["counts"], current_counts(db), what=db.name)
    print(f"restored {dump_file} into {db.name}: counts match the dump's manifest")


def rotate(folder: Path, keep: int) -> list[Path]:
    dumps = sorted(p for p in folder.glob("phs-*") if p.suffix in {".pgdump", ".sqlite3"})
    old = dumps[: max(0, len(dumps) - keep)]
    for path in old:
        path.unlink()
        manifest_path(path).unlink(missing_ok=True)
    return old


def manifest_path(dump_file: Path) -> Path:
    return dump_file.with_name(dump_file.name + ".json")


@contextmanager
def _lock(path: Path):
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"another backup or restore holds {path}") from None
        yield


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dir", type=Path, default=Path(os.environ.get("PHS_BACKUP_DIR", DEFAULT_DIR))
    )
    parser.add_argument("--keep", type=int, default=int(os.environ.get("PHS_BACKUP_KEEP", "14")))
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("backup", help="dump, verify by restoring into a scratch database, rotate")
    restore_parser = commands.add_parser("restore", help="restore one dump (backs up first)")
    restore_parser.add_argument("dump", type=Path)
    restore_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)

    db = Database.from_url(os.environ.get("DATABASE_URL"))
    try:
        if args.command == "backup":
            backup_command(db, args.dir, args.keep)
        else:
            if (
                not args.yes
                and input(f"Replace the contents of {db.name} with {args.dump}? [y/N] ") != "y"
            ):
                print("nothing restored")
                return 1
            restore_command(db, args.dump, args.dir, args.keep)
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
