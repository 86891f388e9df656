#!/usr/bin/env python
"""Pages with offline-preview thumbnails on the million-file catalogue: the file listing
(Wagtail's snippet listing) and Find files, server time per request, with every file
holding a thumbnail (videos a poster and a strip too, 2 % placeholders), so the page's
one ``preview_map`` query reads a table of over a million previews.

Run from the repository root, on a copy of the 1M PostgreSQL catalogue (``phs_bench``,
which other benchmarks read; never written here)::

    createdb -h 127.0.0.1 -U postgres -T phs_bench phs_bench_c2
    .venv/bin/python bench/bench_preview_pages.py --database phs_bench_c2 --prepare

``--prepare`` migrates the copy and fills ``catalog_preview`` with one set-based INSERT
per kind (rows only: the page never opens a preview's file). Then each URL is requested
``--requests`` times through ``django.test.Client`` (as ``catalog_bench.py``'s snippet
step: in-process, so the figure is the server's time) and p50/p95 are printed with the
query count, the preview query's own time, the command, the commit and the load; and
the same pages without thumbnails, interleaved request by request, for the difference.
Target (issue #20): the listing's p95 stays within 150 ms.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import harness

REPO = harness.REPO
SETTINGS = "phs_site.settings.dev"


def prepare(dsn: str) -> None:
    env = {**os.environ, "DATABASE_URL": dsn, "DJANGO_SETTINGS_MODULE": SETTINGS}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
    )
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE catalog_preview")
        common = (
            "INSERT INTO catalog_preview (oshash, kind, file, width, height, bytes, content_type,"
            " reason, frame_times, source, created_at) "
        )
        hashes = "SELECT DISTINCT oshash FROM catalog_fileentry WHERE oshash <> ''"
        # Every file a 320 × 240 thumbnail; videos a poster and a ten-frame strip too.
        cursor.execute(
            common + "SELECT oshash, 'thumb', substr(oshash, 1, 2) || '/' || oshash || "
            "'/thumb.webp', 320, 240, 9000, 'image/webp', '', '[]', 'scan', now() "
            f"FROM ({hashes}) AS h"
        )
        videos = (
            "SELECT DISTINCT oshash FROM catalog_fileentry WHERE oshash <> '' "
            "AND category = 'video'"
        )
        for kind, width, height, times in (
            ("poster", 1280, 720, "[]"),
            ("strip", 2400, 135, json.dumps([0.5 + n for n in range(10)])),
        ):
            cursor.execute(
                common + f"SELECT oshash, '{kind}', substr(oshash, 1, 2) || '/' || oshash || "
                f"'/{kind}.webp', {width}, {height}, 60000, 'image/webp', '', '{times}', 'scan', "
                f"now() FROM ({videos}) AS h"
            )
        # A file in fifty could not be previewed: a placeholder row of its own kind.
        cursor.execute(
            common + "SELECT oshash, 'placeholder', '', NULL, NULL, 0, '', "
            "'ffprobe cannot read this file', '[]', 'scan', now() "
            f"FROM ({hashes}) AS h WHERE ('x' || right(oshash, 2))::bit(8)::int % 50 = 0"
        )
        cursor.execute("ANALYZE catalog_preview")
        cursor.execute("SELECT kind, count(*) FROM catalog_preview GROUP BY kind ORDER BY kind")
        counts = dict(cursor.fetchall())
    print(f"previews: {counts} ({time.perf_counter() - started:.0f} s)")


def measure(requests: int) -> list[dict]:
    """Each page ``requests`` times with thumbnails and ``requests`` times without (no
    preview query: ``preview_map`` answers nothing, every cell says "no preview"),
    interleaved request by request, so the machine's load weighs on both alike."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from catalog.models import Drive, FileEntry
    from catalog.templatetags import phs_previews

    real_map = phs_previews._preview_map
    user_model = get_user_model()
    user = user_model.objects.filter(username="bench-previews").first()
    if user is None:
        user = user_model.objects.create_superuser("bench-previews", "b@example.org", "x")
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    listing = "/admin/snippets/catalog/fileentry/"
    drive = Drive.objects.order_by("name").first()
    deep = FileEntry.objects.count() // 25 // 2
    urls = {
        "listing, default": listing,
        "listing, drive+status=unreviewed": f"{listing}?drive={drive.pk}&status=unreviewed",
        f"listing, deep page ?p={deep}": f"{listing}?p={deep}",
        "listing, category=video": f"{listing}?category=video",
        "Find files, q=img": "/admin/find/?q=img",
        "Find files, category=video": "/admin/find/?category=video",
    }
    rows = []
    for label, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = response.content.decode()
        times = {"with": [], "without": []}
        preview_ms = []
        for _ in range(requests):
            for mode in ("with", "without"):
                phs_previews._preview_map = real_map if mode == "with" else (lambda hashes: {})
                with CaptureQueriesContext(connection) as ctx:
                    started = time.perf_counter()
                    response = client.get(url)
                    times[mode].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
                if mode == "with":
                    preview_ms += [
                        float(q["time"]) * 1000
                        for q in ctx.captured_queries
                        if "catalog_preview" in q["sql"]
                    ]
                else:
                    queries_without = len(ctx.captured_queries)
        phs_previews._preview_map = real_map
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        previews = [q for q in ctx.captured_queries if "catalog_preview" in q["sql"]]
        rows.append(
            {
                "page": label,
                "p50_ms": round(harness.percentile(times["with"], 50), 1),
                "p95_ms": round(harness.percentile(times["with"], 95), 1),
                "p50_ms_without": round(harness.percentile(times["without"], 50), 1),
                "p95_ms_without": round(harness.percentile(times["without"], 95), 1),
                "queries": len(ctx.captured_queries),
                "queries_without": queries_without,
                "preview_queries": len(previews),
                "preview_query_p95_ms": round(harness.percentile(preview_ms, 95), 1),
                "thumbnails": html.count('class="phs-thumb phs-thumb--'),
                "lazy": html.count('loading="lazy"'),
                "load": harness.loadavg(),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="phs_bench_c2")
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    if args.database == "phs_bench":
        parser.error("phs_bench is shared and read-only: copy it (createdb -T phs_bench …)")
    dsn = f"{harness.PG}/{args.database}"
    os.environ["DATABASE_URL"] = dsn
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    print(harness.provenance())
    if args.prepare:
        prepare(dsn)
    rows = measure(args.requests)
    worst = max(row["p95_ms"] for row in rows if row["page"].startswith("listing"))
    print(f"listing p95, worst of the variants: {worst} ms (target <= 150 ms)")
    out = Path(REPO / "bench" / "out")
    out.mkdir(exist_ok=True)
    (out / "preview-pages.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
