#!/usr/bin/env python
"""Export benchmark: 10,000 approved files to the local pan.do/ra test server.

Run from the repository root::

    .venv/bin/python bench/bench_export.py [--files 10000] [--database sqlite|postgres]
        [--chunk 100] [--workdir bench/out]

What it does, on a scratch database (SQLite under ``<workdir>/export-var/`` or the
PostgreSQL database ``phs_bench_export`` on 127.0.0.1:5432, dropped and recreated):

1. migrates, imports ``--files`` video files over two drives (``import_manifest``);
2. approves them the way the review services leave files (a revision each, made live);
3. ``request_exports`` of all ids — time and queries;
4. ``run_export`` with ``PandoraExporter`` through the real ``ox`` client against
   ``tests.support.pandora_server`` on 127.0.0.1 (a thread of this process, so client and
   server share one CPU's GIL: the figures are a floor, not pad.ma's speed) — wall time,
   HTTP requests by action, requests/s, files/s, database queries per file;
5. the same files approved again and exported again: all known, no ``addMedia``.

Prints a table and writes ``<workdir>/results-export-<database>.json``.
"""

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from harness import command_line, git_state, recreate_postgres_database

REPO = Path(__file__).resolve().parent.parent
PG_DB = "phs_bench_export"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--chunk", type=int, default=100, help="PADMA_EXPORT_CHUNK_SIZE")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "phs_site.settings.dev"
    os.environ.setdefault("oxCACHE", tempfile.mkdtemp(prefix="phs-ox-cache-"))
    if args.database == "postgres":
        os.environ["DATABASE_URL"] = recreate_postgres_database(PG_DB)
    else:
        var = args.workdir / "export-var"
        if var.exists():
            for path in var.glob("phs.sqlite3*"):
                path.unlink()
        os.environ["PHS_VAR_DIR"] = str(var)
    os.environ.pop("PHS_TASKS_BACKEND", None)
    sys.path.insert(0, str(REPO))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # The dev settings log the export at INFO; one line per file would time the terminal.
    import logging

    logging.getLogger("workflow").setLevel(logging.WARNING)
    logging.getLogger("django.tasks").setLevel(logging.WARNING)
    settings.PADMA_EXPORT_CHUNK_SIZE = args.chunk

    results = run(args, settings)
    results["command"], results["git"] = command_line(), git_state()
    out = args.workdir / f"results-export-{args.database}.json"
    out.write_text(json.dumps(results, indent=2))
    print_table(results)
    print(f"\nwritten {out}")


def run(args, settings) -> dict:
    from django.contrib.auth.models import User

    from catalog.models import FileEntry
    from catalog.services.imports import import_manifest
    from tests.support.pandora_server import PandoraTestServer
    from workflow.export import requests as export_requests
    from workflow.export.requests import request_exports
    from workflow.export.runner import run_export
    from workflow.models import ExportRequest

    results: dict = {"files": args.files, "database": args.database, "chunk": args.chunk}
    # The runs below are measured explicitly: no inline export after request_exports.
    export_requests._enqueue_export = lambda: None
    half = args.files // 2
    with tempfile.TemporaryDirectory() as tmp:
        for drive, count in (("Expansion", half), ("PHS_copyALL", args.files - half)):
            entries = [
                {
                    "path": f"{drive}/day-{i % 40:02}",
                    "filename": f"clip-{i:06}.mp4",
                    "file_type": "video/mp4",
                    "oshash": f"{hash((drive, i)) % 16**16:016x}",
                    "size_exif": 10_000_000 + i,
                    "date_exif": "2021:12:23 17:57:22",
                }
                for i in range(count)
            ]
            manifest = Path(tmp) / f"{drive}.json"
            manifest.write_text(json.dumps(entries))
            import_manifest(manifest, drive_name=drive)
    reviewer = User.objects.create_user("bench-reviewer")

    started = time.perf_counter()
    approve_all(reviewer)
    results["approve_setup_s"] = round(time.perf_counter() - started, 2)

    ids = list(FileEntry.objects.values_list("pk", flat=True))
    with count_queries() as queries:
        started = time.perf_counter()
        created = request_exports(ids, user=reviewer)
        results["request_exports_s"] = round(time.perf_counter() - started, 3)
    results["request_exports_created"] = created
    results["request_exports_queries"] = queries[0]

    with PandoraTestServer(users={"bench": "bench-password"}) as server:
        settings.PADMA_URL, settings.PADMA_USERNAME = server.url, "bench"
        settings.PADMA_PASSWORD = "bench-password"  # noqa: S105 - the local test server's
        for label in ("first", "again"):
            if label == "again":
                request_exports(ids, user=reviewer)
            before = len(server.requests)
            with count_queries() as queries:
                started = time.perf_counter()
                result = run_export()
                wall = time.perf_counter() - started
            sent = server.requests[before:]
            by_action: dict[str, int] = {}
            for request in sent:
                by_action[request["action"]] = by_action.get(request["action"], 0) + 1
            results[label] = {
                "exported": result.exported,
                "failed": result.failed,
                "wall_s": round(wall, 2),
                "http_requests": len(sent),
                "requests_by_action": by_action,
                "requests_per_s": round(len(sent) / wall, 1),
                "files_per_s": round(result.exported / wall, 1),
                "queries": queries[0],
                "queries_per_file": round(queries[0] / max(result.exported, 1), 3),
                "error": result.error,
            }
        results["pending_left"] = ExportRequest.objects.filter(state="pending").count()
        results["items_on_server"] = len(server.state.items)
    return results


@contextlib.contextmanager
def count_queries():
    """Count every statement (CaptureQueriesContext keeps only the last 9,000)."""
    from django.db import connection

    counter = [0]

    def wrapper(execute, sql, params, many, context):
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


def approve_all(user) -> None:
    """Every file decided 'upload', with its own revision made live (set-based)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone
    from wagtail.models import Revision

    from catalog.models import FileEntry, ReviewState, Status

    FileEntry.objects.update(status=Status.UPLOAD, review_state=ReviewState.APPROVED)
    content_type = ContentType.objects.get_for_model(FileEntry)
    now = timezone.now()
    files = FileEntry.objects.select_related("drive").order_by("pk")
    with transaction.atomic():
        for start in range(0, files.count(), 2000):
            chunk = list(files[start : start + 2000])
            revisions = Revision.objects.bulk_create(
                Revision(
                    content_type=content_type,
                    base_content_type=content_type,
                    object_id=str(file.pk),
                    content=file.serializable_data(),
                    object_str=str(file),
                    user=user,
                    created_at=now,
                )
                for file in chunk
            )
            for file, revision in zip(chunk, revisions, strict=True):
                file.live_revision_id = file.latest_revision_id = revision.pk
                file.live = True
            FileEntry.objects.bulk_update(chunk, ["live_revision", "latest_revision", "live"])


def print_table(results: dict) -> None:
    print(f"\nExport benchmark: {results['files']} files, {results['database']}")
    print(f"command: {results['command']}\n")
    print(
        f"request_exports: {results['request_exports_created']} requests in "
        f"{results['request_exports_s']} s, {results['request_exports_queries']} queries"
    )
    print(f"{'run':<8}{'wall s':>9}{'HTTP req':>10}{'req/s':>9}{'files/s':>9}{'q/file':>8}")
    for label in ("first", "again"):
        row = results[label]
        print(
            f"{label:<8}{row['wall_s']:>9}{row['http_requests']:>10}{row['requests_per_s']:>9}"
            f"{row['files_per_s']:>9}{row['queries_per_file']:>8}  {row['requests_by_action']}"
        )


if __name__ == "__main__":
    main()
