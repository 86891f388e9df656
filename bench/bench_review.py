#!/usr/bin/env python
"""Bulk review benchmark: decide, submit and approve N files (default 10,000) in sets.

    .venv/bin/python bench/bench_review.py [--files 10000] [--database sqlite|postgres]

Uses a scratch database (a temporary SQLite file, or the PostgreSQL database
``phs_bench_review`` on 127.0.0.1:5432, dropped and recreated). Reports wall time,
files per second and queries per file for each step.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from harness import provenance, recreate_postgres_database

REPO = Path(__file__).resolve().parent.parent
PG_DB = "phs_bench_review"


def prepare_database(kind: str) -> None:
    os.environ["PHS_VAR_DIR"] = tempfile.mkdtemp(prefix="phs-bench-review-")
    if kind == "postgres":
        os.environ["DATABASE_URL"] = recreate_postgres_database(PG_DB)
    else:
        os.environ.pop("DATABASE_URL", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--slowest", type=int, default=0, help="Show the N slowest queries.")
    args = parser.parse_args()
    prepare_database(args.database)
    sys.path.insert(0, str(REPO))
    os.environ["DJANGO_SETTINGS_MODULE"] = "phs_site.settings.dev"
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.models import FileEntry, Status
    from catalog.services.imports import import_manifest
    from workflow.services import bulk

    call_command("migrate", verbosity=0)
    curator = User.objects.create_user("curator")
    curator.groups.add(Group.objects.get(name="Curators"))
    reviewer = User.objects.create_user("reviewer")
    reviewer.groups.add(Group.objects.get(name="Reviewers"))

    manifest = Path(os.environ["PHS_VAR_DIR"]) / "Bench.json"
    manifest.write_text(
        json.dumps(
            [
                {"path": f"batch/{i % 50}", "filename": f"f{i:06}.jpg", "oshash": f"{i + 1:016x}"}
                for i in range(args.files)
            ]
        )
    )
    import_manifest(manifest, drive_name="Bench")
    files = FileEntry.objects.all()

    steps = [
        ("set status (upload)", lambda: bulk.set_status(files, status=Status.UPLOAD, user=curator)),
        ("submit for review", lambda: bulk.submit(files, user=curator)),
        ("approve (+ export requests)", lambda: bulk.approve(files, user=reviewer)),
    ]
    print(f"# {provenance()}")
    print(f"# {args.database}, {args.files:,} files")
    print(f"{'step':32} {'wall s':>8} {'files/s':>10} {'queries':>8} {'q/file':>7}")
    for name, step in steps:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = step()
            elapsed = time.perf_counter() - started
        assert result.changed == args.files, (name, str(result))
        print(
            f"{name:32} {elapsed:8.2f} {args.files / elapsed:10,.0f} {len(queries):8} "
            f"{len(queries) / args.files:7.3f}"
        )
        if args.slowest:
            slow = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))
            for query in slow[: args.slowest]:
                print(f"    {query['time']}s  {query['sql'][:160]}")


if __name__ == "__main__":
    main()
