#!/usr/bin/env python
"""Curate endpoints at archive scale: open folder, open file, save, next unreviewed.

    .venv/bin/python bench/bench_curate.py [--database sqlite|postgres] [--samples 200]

Reuses the million-file database that ``bench/catalog_bench.py`` leaves (SQLite at
``bench/out/var-sqlite/phs.sqlite3``, PostgreSQL database ``phs_bench``); run that first.
Each figure is server time for one request through ``django.test.Client`` — the whole
middleware stack, session, permissions, the view and JSON encoding; no network — as a
user in the Curators group. Runs ``migrate`` first (schema only). Saves are real
(committed) and their status and title are put back afterwards.

On PostgreSQL, until ``workflow.services.review.save_decision`` locks with
``select_for_update(of=("self",))`` (it joins the nullable ``reviewed_by``, which
PostgreSQL cannot lock), the save figure is taken with that one change patched in.

Targets (p95): open folder 30 ms at any depth, open file 30 ms, save 50 ms, next
unreviewed 30 ms; each endpoint's query count does not depend on the data.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

from harness import loadavg, percentile, provenance

REPO = Path(__file__).resolve().parent.parent
PG_DSN = "postgres://postgres@127.0.0.1:5432/phs_bench"
TARGETS = {"open folder": 30, "open file": 30, "save": 50, "next unreviewed": 30}


def configure(database: str) -> None:
    sys.path.insert(0, str(REPO))
    if database == "postgres":
        os.environ["DATABASE_URL"] = PG_DSN
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["PHS_VAR_DIR"] = str(REPO / "bench" / "out" / "var-sqlite")
        if not (REPO / "bench/out/var-sqlite/phs.sqlite3").exists():
            sys.exit("No bench database: run bench/catalog_bench.py --database sqlite first.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phs_site.settings.dev")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    import logging

    logging.getLogger("phs.request").setLevel(logging.WARNING)
    # The bench database may predate later migrations (e.g. the search index table that
    # saves now write to): bring its schema up to date. Schema only; rows stay.
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def server_settings() -> str:
    """What the figures depend on besides the code: PostgreSQL's buffers, prepared statements."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return "SQLite"
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_buffers")
        (buffers,) = cursor.fetchone()
    prepared = "on" if connection.settings_dict["OPTIONS"].get("prepare_threshold") else "off"
    return f"PostgreSQL shared_buffers={buffers}, prepared statements {prepared}"


class Bench:
    def __init__(self, client, samples: int, seed: int):
        self.client = client
        self.samples = samples
        self.rng = random.Random(seed)
        self.rows: list[tuple] = []

    def measure(self, name: str, requests: list, note: str = "", status: int = 200) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        # Warm-up, then the query counts on a few, then the timed run (no query logging).
        for call in requests[:10]:
            call()
        counts = set()
        for call in requests[:: max(1, len(requests) // 10)]:
            with CaptureQueriesContext(connection) as queries:
                call()
            counts.add(len(queries))
        times = []
        for call in requests:
            started = time.perf_counter()
            response = call()
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == status, (
                name,
                response.status_code,
                response.content[:300],
            )
        self.rows.append(
            (
                name,
                note,
                len(times),
                statistics.median(times),
                percentile(times, 95),
                max(times),
                "/".join(str(c) for c in sorted(counts)),
            )
        )

    def report(self, database: str) -> None:
        print(f"\n# {provenance()}")
        print(f"# database: {database}; times in ms of server time per request")
        print(f"# {server_settings()}; load average {loadavg()[0]:.2f}\n")
        print("| endpoint | sample | n | p50 | p95 | max | queries | target p95 |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for name, note, n, p50, p95, top, queries in self.rows:
            base = name.split(" (")[0]
            target = TARGETS.get(base)
            verdict = "" if target is None else f"{target} {'✓' if p95 <= target else '✗'}"
            print(
                f"| {name} | {note} | {n} | {p50:.1f} | {p95:.1f} | {top:.1f} | {queries} | "
                f"{verdict} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    configure(args.database)

    from django.contrib.auth.models import Group, User
    from django.db import NotSupportedError, connection
    from django.db.models import QuerySet
    from django.test import Client
    from django.urls import reverse

    from catalog.models import FileEntry, Folder
    from catalog.roles import CURATORS
    from workflow.services.review import save_decision

    user, _ = User.objects.get_or_create(username="bench-curator")
    user.groups.add(Group.objects.get(name=CURATORS))
    client = Client()
    client.force_login(user)
    xhr = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
    bench = Bench(client, args.samples, args.seed)
    rng = bench.rng
    total = FileEntry.objects.count()
    print(f"{total:,} files, {Folder.objects.count():,} folders", flush=True)

    tree = reverse("phs_curate_api_tree")
    nxt = reverse("phs_curate_api_next_unreviewed")

    def get(url):
        return lambda: client.get(url, **xhr)

    def sample_folders(where: str, n: int) -> list[tuple[int, str]]:
        random_order = "RANDOM()" if connection.vendor == "sqlite" else "random()"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT drive_id, path FROM catalog_folder WHERE {where} "
                f"ORDER BY {random_order} LIMIT %s",
                [n],
            )
            return cursor.fetchall()

    def folder_url(drive_id, path, **extra):
        query = "&".join(f"{k}={v}" for k, v in extra.items())
        return f"{tree}?drive={drive_id}&path={path}{'&' + query if query else ''}"

    n = args.samples
    # The floor: session, user, permissions and Wagtail's admin wrapper, then a 400.
    bench.measure(
        "baseline (no view work)",
        [get(f"{tree}?drive=x")] * n,
        "session + auth + admin wrapper, 400",
        status=400,
    )
    roots = sample_folders("depth = 0", n)
    roots = (roots * (n // max(len(roots), 1) + 1))[:n]
    max_depth = Folder.objects.order_by("-depth").values_list("depth", flat=True).first()
    mids = sample_folders("depth BETWEEN 2 AND 3", n)
    leaves = sample_folders(f"depth >= {max(max_depth - 1, 1)}", n)
    mixed = sample_folders("1 = 1", n)
    bench.measure("open folder", [get(folder_url(d, p)) for d, p in roots], "drive roots")
    bench.measure("open folder", [get(folder_url(d, p)) for d, p in mids], "depth 2–3")
    bench.measure(
        "open folder", [get(folder_url(d, p)) for d, p in leaves], f"depth ≥ {max_depth - 1}"
    )
    bench.measure("open folder", [get(folder_url(d, p)) for d, p in mixed], "any folder")
    bench.measure(
        "open folder (Unreviewed only)",
        [get(folder_url(d, p, filter="unreviewed")) for d, p in mixed],
        "any folder",
    )
    # The folder with the most files of its own: its first page, and its last page.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT drive_id, path, COUNT(*) AS n FROM catalog_fileentry "
            "GROUP BY drive_id, path ORDER BY n DESC LIMIT 1"
        )
        big_drive, big_path, big_n = cursor.fetchone()
    last = max(big_n - 200, 0)
    bench.measure(
        "open folder",
        [get(folder_url(big_drive, big_path))] * n,
        f"largest folder ({big_n:,} files), first page",
    )
    bench.measure(
        "open folder (next page)",
        [get(folder_url(big_drive, big_path, offset=last))] * n,
        f"largest folder, offset {last:,}",
    )

    bounds = FileEntry.objects.order_by("pk").values_list("pk", flat=True)
    low, high = bounds.first(), bounds.last()
    ids = [rng.randint(low, high) for _ in range(n * 2)]
    ids = list(FileEntry.objects.filter(pk__in=ids).values_list("pk", flat=True))[:n]
    file_url = lambda pk: reverse("phs_curate_api_file", args=[pk])  # noqa: E731
    bench.measure("open file", [get(file_url(pk)) for pk in ids], "random files")
    copies = list(
        FileEntry.objects.filter(duplicate_group__isnull=False, pk__gte=rng.randint(low, high))
        .order_by("pk")
        .values_list("pk", flat=True)[:n]
    )
    if len(copies) < n:  # started too near the end: take the first ones instead
        copies = list(
            FileEntry.objects.filter(duplicate_group__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)[:n]
        )
    if copies:
        bench.measure("open file", [get(file_url(pk)) for pk in copies], "files with copies")
    else:
        print("note: no duplicate groups in this database (run update_duplicates)")

    positions = list(
        FileEntry.objects.filter(pk__in=ids).values_list("drive_id", "path", "filename")
    )
    bench.measure(
        "next unreviewed",
        [get(f"{nxt}?drive={d}&path={p}&filename={f}") for d, p, f in positions],
        "after random files",
    )

    # Saves: a new title and status on random files, committed; put back afterwards.
    targets = list(
        FileEntry.objects.filter(pk__in=ids[: n // 2 + 10]).values(
            "pk", "status", "title", "version"
        )
    )
    originals = {row["pk"]: row for row in targets}
    versions = {row["pk"]: row["version"] for row in targets}
    statuses = ["upload", "keep_offline", "discard", "needs_attention", "restricted"]

    def save_call(pk):
        def call():
            body = {
                "version": versions[pk],
                "changes": {"title": f"bench {versions[pk]}", "status": rng.choice(statuses)},
            }
            response = client.post(
                file_url(pk), json.dumps(body), content_type="application/json", **xhr
            )
            if response.status_code == 200:
                versions[pk] = response.json()["file"]["version"]
            return response

        return call

    note = "random files, status + title"
    probe = targets[0]["pk"]
    try:
        save_call(probe)()
    except NotSupportedError:
        # workflow/services/review.py locks with select_for_update() over a nullable join,
        # which PostgreSQL refuses; lock the file row only (of=("self",)), as the fix will.
        original = QuerySet.select_for_update

        def select_for_update(self, nowait=False, skip_locked=False, of=(), no_key=False):
            return original(self, nowait, skip_locked, of or ("self",), no_key)

        QuerySet.select_for_update = select_for_update
        note += "; with select_for_update(of=('self',)) patched in (see docstring)"
        print("note: patched select_for_update(of=('self',)) for save_decision on PostgreSQL")
    calls = [save_call(row["pk"]) for row in targets] * 2
    bench.measure("save", calls[: max(n, 20)], note)

    for pk, row in originals.items():
        file = FileEntry.objects.get(pk=pk)
        save_decision(
            file=file, user=user, changes={"status": row["status"], "title": row["title"]}
        )

    bench.report(f"{args.database} ({connection.vendor}), {total:,} files")


if __name__ == "__main__":
    main()
