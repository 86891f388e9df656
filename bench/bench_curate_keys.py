#!/usr/bin/env python
"""Curate driven by keyboard in Chromium on the million-file catalogue: Save & Next.

    .venv/bin/python bench/bench_curate_keys.py [--db phs_bench_keys] [--presses 300]

Serves the site as production does — gunicorn with ``deploy/gunicorn.conf.py`` and the
production settings, behind nginx with ``deploy/nginx/phs-archive.conf`` over HTTPS on
loopback (``bench/harness.py``) — on a COPY of the PostgreSQL catalogue that
``bench/catalog_bench.py`` builds (``createdb -T phs_bench phs_bench_keys``; the saves are
real and committed, so this refuses to run on ``phs_bench`` itself). Debian's Chromium
(never downloaded), driven by Playwright at 1280×720, logs in as a curator, opens Curate
on a file of one drive and presses ``4`` (keep offline) then Ctrl+Enter, again and again:
each press saves and lands on the next file in tree order, into the next folder when one
ends.

Measured in the page with ``performance.now()``, from the Ctrl+Enter keydown event's
timestamp (when the browser received the key) until Curate's ``phs-curate:rendered``
event for the NEW file:

* ``form``: its form is rendered (name, path, facts, status, fields, buttons in the DOM);
* ``preview``: its preview slot is filled. The files of the bench catalogue are not on
  disk and no folder is mounted, so this is the element Curate shows then (the "mount the
  drive's folder" placeholder, or an offline preview image element where the catalogue
  has one) — not a decoded picture;
* ``frame``: the next animation frame after that (the browser's next paint).

One request per press: the save's answer carries the next file's pane. The tree's own
requests (opening the new folder) follow and are not waited for. Figures: p50/p95 over
all presses, and separately for the presses that crossed into another folder.
Target: p95 ≤ 150 ms.
"""

import argparse
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import (
    PG,
    free_port,
    loopback_nginx,
    percentile,
    provenance,
    self_signed_certificate,
)

REPO = Path(__file__).resolve().parent.parent
PY = str(REPO / ".venv" / "bin" / "python")
CHROMIUM = "/usr/bin/chromium"
USER, PASSWORD = "bench-keys-curator", secrets.token_urlsafe(16)
TARGET_P95 = 150.0

RECORDER = """() => {
  const root = document.getElementById('phs-curate');
  const bench = (window.__bench = { presses: [], current: null });
  window.addEventListener('keydown', (event) => {
    if (event.ctrlKey && event.key === 'Enter') {
      bench.current = { t0: event.timeStamp, from: root.dataset.formFile };
    }
  }, true);
  root.addEventListener('phs-curate:rendered', (event) => {
    const press = bench.current;
    if (!press || String(event.detail.id) === press.from) return;
    press[event.detail.stage] = performance.now() - press.t0;
    if (event.detail.stage !== 'preview') return;
    press.id = event.detail.id;
    // The save's request, from the Resource Timing entries: sent → first byte → last byte.
    const request = performance.getEntriesByType('resource').filter(
      (entry) => entry.initiatorType === 'fetch' && entry.name.includes('/api/files/')
        && entry.startTime >= press.t0).at(0);
    if (request) {
      press.request = request.responseEnd - press.t0;
      press.sent = request.startTime - press.t0;
      press.ttfb = request.responseStart - request.requestStart;
    }
    performance.clearResourceTimings();
    press.path = document.querySelector('#phs-detail .phs-detail__path').textContent;
    bench.current = null;
    requestAnimationFrame(() => {
      press.frame = performance.now() - press.t0;
      bench.presses.push(press);
    });
  });
}"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def django_setup(db: str) -> None:
    sys.path.insert(0, str(REPO))
    os.environ["DATABASE_URL"] = f"{PG}/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phs_site.settings.dev")
    import django

    django.setup()


def prepare(db: str, seed: int) -> tuple[int, int, str]:
    """Schema up to date, a curator with a password, and the file to start on:
    (drive id, file id, drive name)."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from catalog.models import Drive, FileEntry, Folder
    from catalog.roles import CURATORS

    call_command("migrate", verbosity=0, interactive=False)
    user, _ = User.objects.get_or_create(username=USER)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name=CURATORS))
    rng = random.Random(seed)
    drive = rng.choice(list(Drive.objects.order_by("name")))
    # A folder a few levels down with files of its own: the walk then crosses folders.
    folders = list(
        Folder.objects.filter(drive=drive, depth=3, file_count__gt=0)
        .order_by("path")
        .values_list("path", flat=True)[:400]
    )
    path = rng.choice(folders)
    start = (
        FileEntry.objects.filter(drive=drive, path__startswith=path)
        .order_by("path", "filename")
        .first()
    )
    return drive.pk, start.pk, drive.name


def spawn(argv, env, log_path: Path) -> subprocess.Popen:
    out = log_path.open("w")
    return subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def serve(work: Path, db: str, workers: int | None) -> tuple[str, list[subprocess.Popen]]:
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    base = f"https://localhost:{https_port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "phs_site.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"{PG}/{db}",
        "STATIC_ROOT": str(work / "static"),
        "PHS_VAR_DIR": str(work / "var"),
        "WAGTAILADMIN_BASE_URL": base,
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "GUNICORN_LOGLEVEL": "warning",
    }
    if workers:
        env["GUNICORN_WORKERS"] = str(workers)
    subprocess.run(
        [PY, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=REPO, env=env, check=True
    )
    cert, key = self_signed_certificate(work)
    argv = loopback_nginx(
        work,
        app_port=app_port,
        http_port=http_port,
        https_port=https_port,
        static_root=env["STATIC_ROOT"],
        cert=cert,
        key=key,
    )
    procs = [
        spawn(
            [str(REPO / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py"],
            env,
            work / "gunicorn.log",
        ),
        spawn([*argv, "-g", "daemon off;"], env, work / "nginx.log"),
    ]
    import requests

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", verify=str(cert), timeout=5).status_code == 200:
                return base, procs
        except requests.RequestException:
            pass
        for proc in procs:
            if proc.poll() is not None:
                raise SystemExit(f"the stack exited; see {work}/*.log")
        time.sleep(0.3)
    raise SystemExit("/healthz did not answer through nginx within 120 s")


def drive_keys(base: str, drive_id: int, file_id: int, presses: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 720}, ignore_https_errors=True
        )
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", USER)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        page.goto(f"{base}/admin/curate/?drive={drive_id}&file={file_id}")
        page.wait_for_selector("#phs-curate[data-state=ready]")
        page.wait_for_selector(f'#phs-curate[data-preview-file="{file_id}"]')
        page.evaluate(RECORDER)
        page.locator("body").click(position={"x": 5, "y": 5})
        for i in range(presses):
            page.keyboard.press("4")
            page.keyboard.press("Control+Enter")
            page.wait_for_function("n => window.__bench.presses.length >= n", arg=i + 1)
            if (i + 1) % 50 == 0:
                log(f"  {i + 1} presses")
        results = page.evaluate("window.__bench.presses")
        if errors:
            raise SystemExit(f"page errors: {errors[:3]}")
        browser.close()
    return results


def summary(name: str, values: list[float]) -> str:
    p50, p95 = percentile(values, 50), percentile(values, 95)
    return f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(values):.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="phs_bench_keys", help="a COPY of phs_bench")
    parser.add_argument("--presses", type=int, default=300)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its conf's)")
    parser.add_argument("--json", type=Path, help="also write the per-press figures here")
    args = parser.parse_args()
    if args.db == "phs_bench":
        raise SystemExit("This saves files: run it on a copy (createdb -T phs_bench NAME).")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt install chromium)")
    django_setup(args.db)
    from catalog.models import FileEntry

    drive_id, file_id, drive_name = prepare(args.db, args.seed)
    total = FileEntry.objects.count()
    log(f"{total:,} files; drive {drive_name}, starting at file {file_id}")
    procs = []
    with tempfile.TemporaryDirectory(prefix="phs-bench-keys-") as tmp:
        try:
            base, procs = serve(Path(tmp), args.db, args.workers)
            log(f"serving {base} (gunicorn behind nginx, production settings)")
            presses = drive_keys(base, drive_id, file_id, args.presses)
        finally:
            for proc in procs:
                stop(proc)
    folders = [p["path"].rsplit("/", 1)[0] for p in presses]
    crossed = [i for i in range(1, len(presses)) if folders[i] != folders[i - 1]]
    print(f"\n# {provenance()}")
    print(
        f"# {total:,} files (PostgreSQL {args.db}); drive {drive_name}; {len(presses)} presses "
        f"of 4 then Ctrl+Enter, {len(crossed)} into another folder; Chromium 1280×720; "
        "gunicorn (deploy/gunicorn.conf.py) behind nginx, HTTPS on loopback"
    )
    for stage in ("form", "preview", "frame"):
        print(summary(f"key → {stage}", [p[stage] for p in presses]))
    timed = [p for p in presses if "request" in p]
    if timed:
        print(summary("  of which key → request sent", [p["sent"] for p in timed]))
        print(summary("  of which key → save's answer in", [p["request"] for p in timed]))
        print(summary("  server + proxy (request sent → first byte)", [p["ttfb"] for p in timed]))
    if crossed:
        print(
            summary("key → preview, folder changes only", [presses[i]["preview"] for i in crossed])
        )
    p95 = percentile([p["preview"] for p in presses], 95)
    verdict = "met" if p95 <= TARGET_P95 else "NOT met"
    print(f"target p95 ≤ {TARGET_P95:.0f} ms (key → form and preview): {verdict}")
    if args.json:
        args.json.write_text(json.dumps(presses, indent=1))


if __name__ == "__main__":
    main()
