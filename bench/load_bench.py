#!/usr/bin/env python
"""Load and fault benchmark: curators and reviewers over HTTPS against the production stack.

Run from the repository root (as root or a user who may run nginx and reach PostgreSQL)::

    .venv/bin/python bench/load_bench.py [--files 1000000] [--duration 60]
        [--curators 20] [--reviewers 5] [--reuse-db] [--keep-db] [--think-ms 1000]

What it does, all on loopback, everything it starts stopped and removed at the end:

1. **Catalog.** ``bench/catalog_bench.py --steps generate`` writes (or reuses) seeded
   manifests of ``--files`` files; they are imported with ``manage.py import_json`` into
   the PostgreSQL database ``--db`` (``phs_bench_load``, dropped and recreated), then
   ``update_duplicates``, the search indexing the imports queued (``db_worker --batch``)
   and ``VACUUM ANALYZE``. ``--reuse-db`` keeps a database an earlier run loaded with the
   same manifests (marked with ``COMMENT ON DATABASE``). ``--snapshot`` runs the stack
   from ``git archive HEAD`` instead of this working tree, which others edit meanwhile.
2. **Stack**, as ``deploy/smoke-test`` brings it up: production settings from the
   environment only; gunicorn with ``deploy/gunicorn.conf.py`` (its worker and thread
   defaults unless ``--workers``/``--threads``); nginx with ``deploy/nginx/phs-archive.conf``
   rendered with loopback ports, a self-signed certificate and temp paths; ``manage.py
   db_worker`` with ``PHS_TASKS_BACKEND=database``; the pan.do/ra test server
   (``bench/padma_server.py``, its own process, ``--padma-latency-ms`` per reply) as
   ``PADMA_URL``, so approvals really export over HTTP.
3. **Users.** ``--curators`` in the Curators group and ``--reviewers`` in the Reviewers
   group (as ``catalog.demo`` makes its demo users), each logging in through nginx
   (Wagtail's login form, CSRF), one ``requests.Session`` and one thread per user. Each
   curator gets its own files (disjoint, not in a duplicate group, never touched before).
4. **Load** (``--duration`` s): curators loop open (``GET /admin/curate/api/files/<id>/``),
   save (``POST`` the same URL with the version read), submit (``…/submit/``); reviewers
   take submitted files, open them and approve (``…/approve/``). 409s are counted apart.
5. **Fault: web server.** The load again for ``--fault-duration`` s; at a third of it the
   gunicorn master gets SIGKILL; what systemd does for ``phs-web.service`` follows
   (``KillMode=mixed``: the orphaned workers get SIGKILL; ``RestartSec``; start again).
6. **Fault: task worker.** Reviewers approve a backlog of submitted files; while an export
   batch has sent pad.ma work it has not committed, ``db_worker`` gets SIGKILL and is
   started again after ``phs-worker.service``'s ``RestartSec``. Then the export must drain.
7. **Checks in the database**: every acknowledged (2xx) save has its Wagtail revision
   (the save's unique ``notes`` marker) and the file's version is at least the one
   acknowledged; every acknowledged submit has its workflow state; every acknowledged
   approval its approved task state by that reviewer; every approved file is exported
   once (``ExportRequest`` done, ``padma_id`` = the test server's item for its oshash) and
   the test server got no second ``addMedia`` for any oshash.

Prints a table and writes ``<workdir>/results-load-<files>-<run id>.json``. Latency is
client-side (TLS through nginx included); the app's own ``duration_ms`` from its JSON
request log is reported next to it, with CPU seconds per process role and the load
averages of the machine. ``--profile N`` adds N open/save/submit/approve cycles under
cProfile in-process (``django.test.Client``), and ``--slow-ms`` logs slower statements of
this database (PostgreSQL's log) and summarises them.
"""

import argparse
import collections
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests
import urllib3
from harness import (
    command_line,
    free_port,
    git_state,
    loadavg,
    loopback_nginx,
    percentile,
    self_signed_certificate,
    uptime,
)

REPO = Path(__file__).resolve().parent.parent
PY = str(REPO / ".venv" / "bin" / "python")
GUNICORN = str(REPO / ".venv" / "bin" / "gunicorn")
#: The code under test: this working tree, or a frozen copy (``--app-dir``, ``--snapshot``).
APP = REPO
#: ``python -c FROZEN_MANAGE manage.py …``: manage.py without the venv's editable-install
#: finder, which would serve modules missing from a frozen copy from this working tree
#: (the same as bench/catalog_bench.py).
FROZEN_MANAGE = (
    "import runpy, sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in "
    "getattr(f, '__module__', '')]; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def manage_cmd() -> list[str]:
    """The start of a ``manage.py`` command line for the code under test (cwd: APP)."""
    return [PY, "-c", FROZEN_MANAGE, "manage.py"] if APP != REPO else [PY, "manage.py"]


PG = "postgres://postgres@127.0.0.1:5432"
PG_LOG = Path("/var/log/postgresql/postgresql-15-main.log")
PADMA_USER = "phs-bench-exporter"
API = "/admin/curate/api/files/{id}/"
#: Statuses a curator picks (weights): most need review; some do not.
DECISIONS = [("upload", 6), ("restricted", 2), ("keep_offline", 1), ("discard", 1)]
CURATOR_OPS = ("open", "save", "submit")
REVIEWER_OPS = ("review-open", "approve")
OPS = CURATOR_OPS + REVIEWER_OPS
HTTP_TIMEOUT = (5, 60)


def log(message: str) -> None:
    # UTC, as uptime prints it (Django's TIME_ZONE changes this process's local time).
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", flush=True)


def unit_setting(unit: str, name: str, default: str) -> str:
    """A ``Name=value`` from ``deploy/systemd/<unit>``: what systemd would do."""
    text = (APP / "deploy" / "systemd" / unit).read_text()
    match = re.search(rf"^{name}=(\S+)", text, re.MULTILINE)
    return match.group(1) if match else default


# --- the record of what the clients did -------------------------------------------------


@dataclass
class Sample:
    phase: str
    op: str
    start: float  # perf_counter
    ms: float
    status: int  # 0: no HTTP answer
    error: str = ""


@dataclass
class Ledger:
    """Everything the clients were told succeeded (2xx), to look up in the database."""

    samples: list[Sample] = field(default_factory=list)
    saves: list[dict] = field(default_factory=list)  # file, version, marker, user, phase
    submits: list[dict] = field(default_factory=list)  # file, user, phase
    approvals: list[dict] = field(default_factory=list)  # file, user, phase
    #: writes that got no 2xx (the request may or may not have committed)
    unacknowledged: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, row: dict) -> None:
        with self.lock:
            getattr(self, kind).append(row)


class ReviewQueue:
    """Files submitted by curators and not yet approved, for the reviewers."""

    def __init__(self):
        self._items: collections.deque[int] = collections.deque()
        self._lock = threading.Lock()

    def put(self, file_id: int) -> None:
        with self._lock:
            self._items.append(file_id)

    def take(self) -> int | None:
        with self._lock:
            return self._items.popleft() if self._items else None

    def __len__(self) -> int:
        return len(self._items)


class User:
    """One simulated person: a logged-in HTTPS session through nginx."""

    def __init__(self, bench: "Bench", username: str, password: str, user_id: int, role: str):
        self.bench, self.username, self.password = bench, username, password
        self.user_id, self.role = user_id, role
        self.session = requests.Session()
        # Not the environment's REQUESTS_CA_BUNDLE (it would replace this verify) nor proxies.
        self.session.trust_env = False
        self.session.verify = str(bench.cert)
        self.base = bench.base
        self.seq = 0

    def login(self) -> float:
        started = time.perf_counter()
        page = self.session.get(f"{self.base}/admin/login/", timeout=HTTP_TIMEOUT)
        page.raise_for_status()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if not token:
            raise RuntimeError("the login page has no CSRF token")
        answer = self.session.post(
            f"{self.base}/admin/login/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": self.username,
                "password": self.password,
                "next": "/admin/",
            },
            headers={"Referer": f"{self.base}/admin/login/", "Origin": self.base},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
        if answer.status_code != 302 or not answer.headers.get("Location", "").endswith("/admin/"):
            raise RuntimeError(f"login of {self.username} failed: HTTP {answer.status_code}")
        if "sessionid" not in self.session.cookies:
            raise RuntimeError(f"login of {self.username}: no session cookie")
        # Django rotates the CSRF token at login; the Curate page's scripts send it back.
        self.session.headers.update(
            {
                "X-CSRFToken": self.session.cookies["csrftoken"],
                "Referer": f"{self.base}/admin/curate/",
                "Origin": self.base,
                "Accept": "application/json",
            }
        )
        return (time.perf_counter() - started) * 1000

    def call(self, phase: str, op: str, method: str, path: str, body: dict | None = None):
        """One request; returns (status, JSON or None). Never raises for HTTP trouble."""
        started = time.perf_counter()
        status, data, error = 0, None, ""
        try:
            if method == "GET":
                response = self.session.get(self.base + path, timeout=HTTP_TIMEOUT)
            else:
                response = self.session.post(
                    self.base + path,
                    data=json.dumps(body or {}),
                    headers={"Content-Type": "application/json"},
                    timeout=HTTP_TIMEOUT,
                )
            status = response.status_code
            if response.headers.get("Content-Type", "").startswith("application/json"):
                data = response.json()
            elif status >= 400:
                error = response.text[:120].replace("\n", " ")
        except (requests.RequestException, ValueError) as exc:
            error = f"{type(exc).__name__}: {str(exc)[:160]}"
        ms = (time.perf_counter() - started) * 1000
        self.bench.ledger.add("samples", Sample(phase, op, started, ms, status, error))
        return status, data


def ok(status: int) -> bool:
    return 200 <= status < 300


# --- the simulated users ------------------------------------------------------------------


def curator_loop(bench: "Bench", user: User, files: list[int], phase: str, stop: threading.Event):
    """Open → save (the version read) → submit when the answer allows it; next file."""
    rng = random.Random(f"{bench.args.seed}-{user.username}-{phase}")
    think = bench.args.think_ms / 1000
    while not stop.is_set():
        file_id = files[bench.cursor[user.username] % len(files)]
        if curator_cycle(bench, user, file_id, phase, rng):
            bench.cursor[user.username] += 1
            if think:
                stop.wait(think)
        else:
            stop.wait(0.25)  # a person retries after a moment; the same file again


def curator_cycle(bench, user: User, file_id: int, phase: str, rng: random.Random) -> bool:
    url = API.format(id=file_id)
    status, data = user.call(phase, "open", "GET", url)
    if not ok(status):
        return False
    pane = data["file"]
    if pane["review"]["state"] == "in_review":
        # Submitted by an earlier try whose answer was lost: it waits for a reviewer.
        if file_id not in bench.queued:
            bench.queued.add(file_id)
            bench.queue.put(file_id)
        return True
    user.seq += 1
    marker = f"load-bench {bench.run_id} {user.username} #{user.seq}"
    decision = rng.choices([d for d, _ in DECISIONS], [w for _, w in DECISIONS])[0]
    changes = {"status": decision, "title": f"Bench title {user.seq}", "notes": marker}
    body = {"version": pane["version"], "changes": changes, "base": pane["values"]}
    status, data = user.call(phase, "save", "POST", url, body)
    if status == 409:
        bench.conflicts[phase] += 1
        return False
    if not ok(status):
        bench.ledger.add("unacknowledged", {"op": "save", "file": file_id, "marker": marker})
        return False
    saved = data["file"]
    bench.ledger.add(
        "saves",
        {"file": file_id, "version": saved["version"], "marker": marker, "user": user.user_id},
    )
    if not saved["can"]["submit"]:
        return True
    status, data = user.call(
        phase, "submit", "POST", url + "submit/", {"version": saved["version"]}
    )
    if status == 409:
        bench.conflicts[phase] += 1
        return False
    if not ok(status):
        bench.ledger.add("unacknowledged", {"op": "submit", "file": file_id})
        return False
    bench.ledger.add("submits", {"file": file_id, "user": user.user_id})
    bench.queued.add(file_id)
    bench.queue.put(file_id)
    return True


def reviewer_loop(bench: "Bench", user: User, phase: str, stop: threading.Event, drain=False):
    """Take a submitted file, open it, approve it (never one's own: reviewers submit none)."""
    think = bench.args.think_ms / 1000
    while not stop.is_set():
        file_id = bench.queue.take()
        if file_id is None:
            if drain:
                return
            stop.wait(0.05)
            continue
        url = API.format(id=file_id)
        status, data = user.call(phase, "review-open", "GET", url)
        if not ok(status):
            bench.queue.put(file_id)
            stop.wait(0.25)
            continue
        pane = data["file"]
        if not pane["can"]["approve"]:
            # Approved by an earlier try whose answer was lost, or not in review.
            bench.not_approvable[phase] += 1
            continue
        status, data = user.call(
            phase, "approve", "POST", url + "approve/", {"version": pane["version"]}
        )
        if ok(status):
            bench.ledger.add("approvals", {"file": file_id, "user": user.user_id})
        elif status == 409:
            bench.conflicts[phase] += 1
        else:
            bench.ledger.add("unacknowledged", {"op": "approve", "file": file_id})
            bench.queue.put(file_id)
            stop.wait(0.25)
        if think:
            stop.wait(think)


# --- the stack ----------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.run_id = time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(2)
        self.work = Path(tempfile.mkdtemp(prefix="phs-load."))
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.ledger = Ledger()
        self.queue = ReviewQueue()
        self.queued: set[int] = set()
        self.cursor: collections.Counter = collections.Counter()
        self.conflicts: collections.Counter = collections.Counter()
        self.not_approvable: collections.Counter = collections.Counter()
        self.results: dict = {
            "run_id": self.run_id,
            "command": command_line(),
            "args": {k: str(v) for k, v in vars(args).items()},
            "uptime_start": uptime(),
            "phases": {},
            "notes": [],
        }
        self.db_created = False
        self.env: dict[str, str] = {}
        self.app_port = self.http_port = self.https_port = 0
        self.base = ""
        self.cert = self.work / "cert.pem"
        self.users: list[User] = []
        self.phase_windows: dict[str, tuple[float, float]] = {}
        self.started_at = None  # timezone.now() once Django is set up

    # -- processes -------------------------------------------------------------------

    def spawn(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        path = self.work / f"{name}.log"
        self.logs[name] = path
        handle = path.open("ab")
        proc = subprocess.Popen(
            argv,
            cwd=APP,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
        handle.close()
        self.procs[name] = proc
        return proc

    def stop(self, name: str, sig=signal.SIGTERM, wait: float = 20) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        for signum, limit in ((sig, wait), (signal.SIGKILL, 10)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signum)
            try:
                proc.wait(timeout=limit)
                break
            except subprocess.TimeoutExpired:
                continue
        # Children that outlived their leader (gunicorn workers after a master kill).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def run(self, argv: list[str], *, timeout: float, what: str) -> str:
        started = time.perf_counter()
        proc = subprocess.run(
            argv,
            cwd=APP,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            raise SystemExit(f"{what} failed ({proc.returncode}): {shlex.join(argv)}")
        log(f"{what}: {time.perf_counter() - started:.1f}s")
        return proc.stdout

    def cleanup(self) -> None:
        for name in ("nginx", "gunicorn", "worker", "padma"):
            with contextlib.suppress(Exception):
                self.stop(name, wait=10)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if self.db_created or self.args.reuse_db or self.args.keep_db:
            with contextlib.suppress(Exception), self.admin() as conn:
                if self.args.slow_ms:
                    conn.execute(
                        f'ALTER DATABASE "{self.args.db}" RESET log_min_duration_statement'
                    )
                if not (self.args.keep_db or self.args.reuse_db):
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.args.db}" WITH (FORCE)')
                    log(f"dropped database {self.args.db}")
        shutil.rmtree(self.work, ignore_errors=True)

    @contextlib.contextmanager
    def admin(self):
        with psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=10) as conn:
            yield conn

    # -- catalog ---------------------------------------------------------------------

    def manifests(self) -> list[Path]:
        sys.path.insert(0, str(REPO / "bench"))
        import catalog_bench

        params = catalog_bench.parse_args(["--files", str(self.args.files), "--seed", "20260124"])
        params.workdir = self.args.workdir
        directory = catalog_bench.manifest_dir(params)
        deadline = time.monotonic() + 1800
        # Another run may be writing the same manifests: never generate over it.
        while not (directory / "params.json").exists() and list(directory.glob("*.tmp")):
            if time.monotonic() > deadline:
                raise SystemExit(f"{directory} is being generated by another run for 30 min")
            log(f"waiting for another run generating {directory.name} …")
            time.sleep(15)
        self.run(
            [
                PY,
                str(REPO / "bench" / "catalog_bench.py"),
                "--steps",
                "generate",
                "--files",
                str(self.args.files),
                "--workdir",
                str(self.args.workdir),
            ],
            timeout=3600,
            what="manifests (catalog_bench.py --steps generate)",
        )
        paths = catalog_bench.manifest_paths(params)
        self.results["manifests"] = str(directory)
        return paths

    def database_marker(self, manifests: list[Path]) -> str:
        return f"load_bench files={self.args.files} manifests={manifests[0].parent.name}"

    def prepare_database(self, manifests: list[Path]) -> None:
        db = self.args.db
        marker = self.database_marker(manifests)
        with self.admin() as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [db],
            ).fetchone()
        if self.args.reuse_db and row and row[0] == marker:
            log(f"reusing database {db} ({marker})")
            self.run(
                [*manage_cmd(), "migrate", "--no-input", "-v", "0"], timeout=600, what="migrate"
            )
            self.results["database"] = {"name": db, "reused": True}
            self.results["database"]["task_backlog_s"] = self.run_task_backlog()
            return
        if self.args.reuse_db:
            log(f"--reuse-db: {db} is missing or holds another catalog; loading it")
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db}"')
        self.db_created = True
        started = time.perf_counter()
        self.run([*manage_cmd(), "migrate", "--no-input", "-v", "0"], timeout=900, what="migrate")
        for path in manifests:
            out = self.run(
                [*manage_cmd(), "import_json", str(path)],
                timeout=3600,
                what=f"import {path.name}",
            )
            summary = [line for line in out.splitlines() if "entries/s" in line] or [""]
            log("  " + summary[-1][:160])
        self.run([*manage_cmd(), "update_duplicates"], timeout=1800, what="update_duplicates")
        # Imports over SYNC_LIMIT files leave their search indexing to a task after commit
        # (search.indexing.index_drive): a deployed worker runs it; so does this, before
        # the load, which is to measure the steady state, not the index build.
        index_s = self.run_task_backlog()
        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        with self.admin() as conn:
            conn.execute(f"COMMENT ON DATABASE \"{db}\" IS '{marker}'")
        load_s = round(time.perf_counter() - started, 1)
        log(f"database {db} loaded in {load_s}s")
        self.results["database"] = {
            "name": db,
            "reused": False,
            "load_s": load_s,
            "task_backlog_s": index_s,
        }

    def run_task_backlog(self) -> float:
        """``db_worker --batch``: run every queued task (the import's search indexing)."""
        started = time.perf_counter()
        self.run(
            [*manage_cmd(), "db_worker", "--batch", "--no-startup-delay", "-v", "0"],
            timeout=3600,
            what="queued tasks (db_worker --batch: the deferred search indexing)",
        )
        return round(time.perf_counter() - started, 1)

    def ensure_search_index(self) -> dict:
        """Every file indexed before the load (a killed run may have left a drive half done)."""
        from django.db import transaction

        from catalog.models import Drive
        from search.indexing import get_backend, index_drive_now

        backend, done = get_backend(), {}
        for drive_id in Drive.objects.values_list("pk", flat=True):
            if backend.count_unindexed(drive_id, limit=1):
                started = time.perf_counter()
                with transaction.atomic():
                    done[drive_id] = index_drive_now(drive_id)
                log(f"search index of drive {drive_id} completed in "
                    f"{time.perf_counter() - started:.1f}s")  # fmt: skip
        return done

    # -- stack -----------------------------------------------------------------------

    def configure(self) -> None:
        self.app_port, self.http_port, self.https_port = free_port(), free_port(), free_port()
        self.base = f"https://localhost:{self.https_port}"
        padma_password = secrets.token_urlsafe(16)
        os.environ["PHS_BENCH_PADMA_PASSWORD"] = padma_password
        padma = self.spawn(
            "padma",
            [
                PY,
                str(REPO / "bench" / "padma_server.py"),
                "--user",
                PADMA_USER,
                "--password-env",
                "PHS_BENCH_PADMA_PASSWORD",
                "--latency-ms",
                str(self.args.padma_latency_ms),
            ],
            {"PHS_BENCH_APP": str(APP)},
        )
        self.padma_url = self._padma_url(padma)
        self.env = {
            "DJANGO_SETTINGS_MODULE": "phs_site.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"{PG}/{self.args.db}",
            "STATIC_ROOT": str(self.work / "static"),
            "PHS_VAR_DIR": str(self.work / "var"),
            "WAGTAILADMIN_BASE_URL": self.base,
            "PHS_TASKS_BACKEND": "database",
            "PADMA_URL": self.padma_url,
            "PADMA_USERNAME": PADMA_USER,
            "PADMA_PASSWORD": padma_password,
            "oxCACHE": str(self.work / "ox-cache"),
        }
        os.environ.update(self.env)
        log(
            f"work dir {self.work}; gunicorn :{self.app_port}; nginx :{self.http_port} "
            f"(http) :{self.https_port} (https); pad.ma test server {self.padma_url}"
        )

    def _padma_url(self, proc: subprocess.Popen) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = self.logs["padma"].read_text()
            for line in text.splitlines():
                if line.startswith("{"):
                    return json.loads(line)["url"]
            if proc.poll() is not None:
                raise SystemExit(f"the pad.ma test server exited:\n{text[-2000:]}")
            time.sleep(0.1)
        raise SystemExit("the pad.ma test server did not start in 30 s")

    def start_stack(self) -> None:
        self.run(
            [*manage_cmd(), "collectstatic", "--no-input", "-v", "0"],
            timeout=600,
            what="collectstatic",
        )
        self_signed_certificate(self.work)
        self.start_gunicorn()
        self.start_nginx()
        self.start_worker()
        self.wait_healthy(120)

    def gunicorn_env(self) -> dict:
        env = {"GUNICORN_BIND": f"127.0.0.1:{self.app_port}"}
        if self.args.workers:
            env["GUNICORN_WORKERS"] = str(self.args.workers)
        if self.args.threads:
            env["GUNICORN_THREADS"] = str(self.args.threads)
        return env

    def start_gunicorn(self) -> None:
        self.spawn("gunicorn", [GUNICORN, "-c", "deploy/gunicorn.conf.py"], self.gunicorn_env())

    def start_worker(self) -> None:
        self.spawn("worker", [*manage_cmd(), "db_worker"])

    def start_nginx(self) -> None:
        argv = loopback_nginx(
            self.work,
            app_port=self.app_port,
            http_port=self.http_port,
            https_port=self.https_port,
            static_root=self.env["STATIC_ROOT"],
            cert=self.cert,
            key=self.work / "key.pem",
            app=APP,
        )
        self.spawn("nginx", [*argv, "-g", "daemon off;"])
        self.nginx_dir = self.work / "nginx"

    def wait_healthy(self, limit: float) -> float:
        """Seconds until /healthz answers 200 through nginx."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            for name in ("gunicorn", "nginx"):
                proc = self.procs.get(name)
                if proc is not None and proc.poll() is not None:
                    tail = self.logs[name].read_text()[-3000:]
                    raise SystemExit(f"{name} exited ({proc.returncode}):\n{tail}")
            with contextlib.suppress(requests.RequestException):
                answer = requests.get(f"{self.base}/healthz", verify=str(self.cert), timeout=5)
                if answer.status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.2)
        raise SystemExit(f"/healthz did not answer 200 through nginx within {limit:.0f}s")

    # -- users and their files -------------------------------------------------------

    def create_users(self) -> None:
        from django.contrib.auth.models import Group
        from django.contrib.auth.models import User as DjangoUser
        from django.db import transaction

        from catalog.roles import CURATORS, REVIEWERS

        wanted = [(f"bench-curator-{i:02}", CURATORS) for i in range(1, self.args.curators + 1)]
        wanted += [(f"bench-reviewer-{i:02}", REVIEWERS) for i in range(1, self.args.reviewers + 1)]
        password = secrets.token_urlsafe(18)
        hashed = DjangoUser(username="x")
        hashed.set_password(password)  # one hash for all: 25 PBKDF2 runs would take ~15 s
        with transaction.atomic():
            for username, group_name in wanted:
                user, _ = DjangoUser.objects.get_or_create(username=username)
                user.password = hashed.password
                user.is_active, user.is_staff, user.is_superuser = True, False, False
                user.save()
                user.groups.set([Group.objects.get(name=group_name)])
                role = "curator" if group_name == CURATORS else "reviewer"
                self.users.append(User(self, username, password, user.pk, role))

    def pick_files(self) -> dict[str, list[int]]:
        """Disjoint, never-touched files per curator: no copies, readable, not tiny."""
        from django.db import connection

        curators = [u for u in self.users if u.role == "curator"]
        need = len(curators) * self.args.files_per_curator
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM catalog_fileentry WHERE version = 0 AND review_state = '' "
                "AND duplicate_group_id IS NULL AND NOT locked AND oshash <> '' "
                "AND size >= 65536 ORDER BY md5(id::text || %s) LIMIT %s",
                [self.run_id, need],
            )
            ids = [row[0] for row in cursor.fetchall()]
        if len(ids) < need:
            raise SystemExit(f"only {len(ids)} untouched files left for {need}: load a new catalog")
        per = self.args.files_per_curator
        return {u.username: ids[i * per : (i + 1) * per] for i, u in enumerate(curators)}

    def login_all(self) -> None:
        times = []
        errors = []

        def one(user: User) -> None:
            try:
                times.append(user.login())
            except Exception as exc:  # reported below, the run stops
                errors.append(f"{user.username}: {exc}")

        threads = [threading.Thread(target=one, args=(u,)) for u in self.users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        if errors or len(times) != len(self.users):
            raise SystemExit("login through nginx failed: " + "; ".join(errors[:5]))
        self.results["logins"] = {
            "users": len(times),
            "p50_ms": round(percentile(times, 50), 1),
            "max_ms": round(max(times), 1),
        }
        log(f"{len(times)} users logged in through nginx (p50 {percentile(times, 50):.0f} ms)")

    # -- phases ----------------------------------------------------------------------

    def run_users(self, phase: str, seconds: float, files, *, reviewers=True, curators=True,
                  during=None) -> dict:  # fmt: skip
        stop = threading.Event()
        threads = []
        for user in self.users:
            if user.role == "curator" and curators:
                target = (curator_loop, (self, user, files[user.username], phase, stop))
            elif user.role == "reviewer" and reviewers:
                target = (reviewer_loop, (self, user, phase, stop))
            else:
                continue
            threads.append(threading.Thread(target=target[0], args=target[1], daemon=True))
        load_before, log_offset = loadavg(), self.log_size("gunicorn")
        cpu_before = self.cpu_snapshot()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        extra = {}
        if during is not None:
            extra = during(started, seconds, stop) or {}
        stop.wait(max(0.0, seconds - (time.perf_counter() - started)))
        stop.set()
        for thread in threads:
            thread.join(90)
        ended = time.perf_counter()
        cpu = self.cpu_usage(cpu_before, self.cpu_snapshot(), ended - started)
        self.phase_windows[phase] = (started, ended)
        summary = self.summarize(phase, started, ended)
        summary["cpu"] = cpu
        requests_done = summary["ops"]["all"]["requests"]
        if requests_done:
            summary["cpu_ms_per_request"] = {
                k: round(v * 1000 / requests_done, 1) for k, v in cpu["seconds"].items()
            }
        summary.update(extra)
        summary["loadavg_before"], summary["loadavg_after"] = load_before, loadavg()
        summary["uptime_after"] = uptime()
        summary["server"] = self.server_times(log_offset)
        self.results["phases"][phase] = summary
        return summary

    def summarize(self, phase: str, started: float, ended: float) -> dict:
        samples = [s for s in self.ledger.samples if s.phase == phase]
        wall = ended - started
        ops = {}
        for op in (*OPS, "all"):
            mine = [s for s in samples if op == "all" or s.op == op]
            good = [s.ms for s in mine if ok(s.status)]
            ops[op] = {
                "requests": len(mine),
                "ok": len(good),
                "conflicts_409": sum(1 for s in mine if s.status == 409),
                "errors": sum(1 for s in mine if not ok(s.status) and s.status != 409),
                "p50_ms": _round(percentile(good, 50)),
                "p95_ms": _round(percentile(good, 95)),
                "p99_ms": _round(percentile(good, 99)),
                "max_ms": _round(max(good) if good else None),
            }
        statuses = collections.Counter(s.status for s in samples if not ok(s.status))
        error_texts = collections.Counter(
            f"{s.op} {s.status} {s.error}"[:140] for s in samples if not ok(s.status)
        )
        return {
            "seconds": round(wall, 1),
            "requests_per_s": round(len(samples) / wall, 1),
            "saves_per_s": round(ops["save"]["ok"] / wall, 2),
            "submits_per_s": round(ops["submit"]["ok"] / wall, 2),
            "approvals_per_s": round(ops["approve"]["ok"] / wall, 2),
            "ops": ops,
            "errors": sum(ops[op]["errors"] for op in OPS),
            "conflicts_409": self.conflicts[phase],
            "not_approvable": self.not_approvable[phase],
            "error_statuses": {str(k): v for k, v in statuses.items()},
            "error_samples": dict(error_texts.most_common(8)),
            "review_queue_left": len(self.queue),
        }

    def cpu_snapshot(self) -> dict:
        """CPU seconds so far: per role of ours, and the whole machine (busy, total)."""
        tick = os.sysconf("SC_CLK_TCK")
        groups = {self.procs[n].pid: n for n in ("gunicorn", "nginx", "worker", "padma")
                  if n in self.procs}  # fmt: skip
        per_pid: dict[int, tuple[str, float]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                role = groups.get(int(fields[2]))  # process group
                if role is None:
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                    if (
                        cmdline.startswith(b"postgres: ")
                        and f" {self.args.db} ".encode() in cmdline
                    ):
                        role = "postgres"
                if role is not None:
                    per_pid[int(entry.name)] = (role, (int(fields[11]) + int(fields[12])) / tick)
            except (OSError, ValueError, IndexError):
                continue
        with open("/proc/stat") as handle:
            cpu = [int(v) for v in handle.readline().split()[1:]]
        idle = cpu[3] + cpu[4]
        return {
            "pids": per_pid,
            "client": time.process_time(),
            "machine_busy": (sum(cpu) - idle) / tick,
            "machine_total": sum(cpu) / tick,
        }

    @staticmethod
    def cpu_usage(before: dict, after: dict, wall: float) -> dict:
        """CPU seconds each role used in between, and what the rest of the machine used."""
        used: dict[str, float] = collections.Counter()
        for pid, (role, seconds) in after["pids"].items():
            previous = before["pids"].get(pid)
            used[role] += seconds - (previous[1] if previous and previous[0] == role else 0)
        used["client (this process)"] = after["client"] - before["client"]
        busy = after["machine_busy"] - before["machine_busy"]
        ours = sum(used.values())
        return {
            "seconds": {k: round(v, 2) for k, v in sorted(used.items())},
            "ours_cores": round(ours / wall, 2),
            "machine_busy_cores": round(busy / wall, 2),
            "others_cores": round(max(0.0, busy - ours) / wall, 2),
            "cpus": os.cpu_count(),
        }

    def log_size(self, name: str) -> int:
        path = self.logs.get(name)
        return path.stat().st_size if path and path.exists() else 0

    def server_times(self, offset: int) -> dict:
        """The app's own ``duration_ms`` per operation, from its JSON request log."""
        path = self.logs.get("gunicorn")
        if not path:
            return {}
        with path.open("rb") as handle:
            handle.seek(offset)
            lines = handle.read().decode("utf-8", "replace").splitlines()
        by_op: dict[str, list[float]] = collections.defaultdict(list)
        for line in lines:
            if '"phs.request"' not in line:
                continue
            with contextlib.suppress(ValueError, KeyError):
                entry = json.loads(line)
                by_op[_op_of(entry["method"], entry["path"])].append(entry["duration_ms"])
                by_op["all"].append(entry["duration_ms"])
        return {
            op: {
                "n": len(v),
                "p50_ms": _round(percentile(v, 50)),
                "p95_ms": _round(percentile(v, 95)),
                "p99_ms": _round(percentile(v, 99)),
            }
            for op, v in sorted(by_op.items())
        }

    # -- fault (a): the web server -----------------------------------------------------

    def kill_web(self, started: float, seconds: float, stop: threading.Event) -> dict:
        kill_mode = unit_setting("phs-web.service", "KillMode", "control-group")
        restart_sec = float(unit_setting("phs-web.service", "RestartSec", "0.1"))
        stop.wait(max(0.0, seconds / 3 - (time.perf_counter() - started)))
        master = self.procs["gunicorn"]
        children = _children(master.pid)
        log(f"fault: SIGKILL gunicorn master {master.pid} ({len(children)} workers) mid-load")
        killed_at = time.perf_counter()
        os.kill(master.pid, signal.SIGKILL)
        master.wait(10)
        # systemd (KillMode=mixed or control-group): the rest of the unit's cgroup goes too.
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.procs.pop("gunicorn", None)
        time.sleep(restart_sec)  # RestartSec= of phs-web.service
        log(f"fault: restarting gunicorn after RestartSec={restart_sec:g}")
        self.start_gunicorn()
        ready_after = self.wait_healthy(120)
        back = time.perf_counter()
        log(f"fault: gunicorn answers again {back - killed_at:.1f}s after the kill")
        return {
            "fault": {
                "what": "SIGKILL to the gunicorn master mid-load, then as systemd would: "
                f"SIGKILL to its workers (KillMode={kill_mode}), RestartSec={restart_sec:g}, "
                "start again",
                "killed_workers": len(children),
                "killed_at_s": round(killed_at - started, 2),
                "outage_s": round(back - killed_at, 2),
                "start_to_healthy_s": round(ready_after, 2),
                "window": (killed_at, back),
            }
        }

    # -- fault (b): the task worker ----------------------------------------------------

    def padma_state(self, brief: bool = True) -> dict:
        answer = requests.post(
            self.padma_url,
            data={"action": "benchState", "data": json.dumps({})},
            timeout=30,
        )
        state = answer.json()["data"]
        if brief:
            state.pop("item_of", None)
        return state

    def kill_worker_mid_export(self, started: float, seconds: float, stop) -> dict:
        """Kill db_worker when a batch has sent pad.ma edits it has not committed."""
        from django.db import connection

        from workflow.models import ExportBatch, ExportRequest, ExportState

        restart_sec = float(unit_setting("phs-worker.service", "RestartSec", "0.1"))
        deadline = time.monotonic() + self.args.fault_timeout
        baseline: dict[int, int] = {}
        try:
            while time.monotonic() < deadline and not stop.is_set():
                batch = (
                    ExportBatch.objects.filter(finished_at__isnull=True, dry_run=False)
                    .order_by("-pk")
                    .first()
                )
                if batch is None:
                    idle = (
                        not len(self.queue)
                        and not ExportRequest.objects.filter(state=ExportState.PENDING).exists()
                    )
                    if idle:
                        break  # the backlog is exported: nothing left to interrupt
                    time.sleep(0.02)
                    continue
                edits = self.padma_state()["by_action"].get("edit", 0)
                baseline.setdefault(batch.pk, edits)
                committed = ExportRequest.objects.filter(
                    batch=batch, state=ExportState.DONE
                ).count()
                in_flight = edits - baseline[batch.pk] - committed
                if in_flight >= 3:
                    proc = self.procs["worker"]
                    log(
                        f"fault: SIGKILL db_worker {proc.pid} mid-export (batch {batch.pk}: "
                        f"{committed} committed, ~{in_flight} sent to pad.ma, not committed)"
                    )
                    killed_at = time.perf_counter()
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(10)
                    self.procs.pop("worker", None)
                    time.sleep(restart_sec)  # RestartSec= of phs-worker.service
                    self.start_worker()
                    log(f"fault: db_worker started again after RestartSec={restart_sec:g}")
                    return {
                        "fault": {
                            "what": "SIGKILL to db_worker while an export batch had sent pad.ma "
                            f"work it had not committed; started again after "
                            f"RestartSec={restart_sec:g} (phs-worker.service)",
                            "killed_batch": batch.pk,
                            "committed_in_batch_before_kill": committed,
                            "sent_not_committed": in_flight,
                            "killed_at_s": round(killed_at - started, 2),
                        }
                    }
                time.sleep(0.02)
            return {"fault": {"what": "no export batch was caught mid-chunk", "killed_batch": None}}
        finally:
            connection.close()

    def wait_export_drained(self, limit: float) -> dict:
        from django_tasks_db.models import DBTaskResult

        from workflow.export.status import export_backlog

        started = time.monotonic()
        idle_since = None
        ran_command = False
        while time.monotonic() - started < limit:
            backlog = export_backlog()
            ready = DBTaskResult.objects.ready().count()
            if backlog["pending"] == 0 and ready == 0:
                break
            if ready == 0 and backlog["pending"]:
                # Nothing queued will run: only the next approval or an operator's
                # export_padma (docs/export.md) would pick the pending requests up.
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 15 and not ran_command:
                    self.results["notes"].append(
                        f"{backlog['pending']} export requests stayed pending with no task "
                        "queued: ran `manage.py export_padma` as the documented timer would"
                    )
                    self.run([*manage_cmd(), "export_padma"], timeout=600, what="export_padma")
                    ran_command = True
            else:
                idle_since = None
            time.sleep(0.5)
        backlog = export_backlog()
        tasks = collections.Counter(
            DBTaskResult.objects.filter(enqueued_at__gte=self.started_at).values_list(
                "status", flat=True
            )
        )
        return {
            "drain_s": round(time.monotonic() - started, 1),
            "pending": backlog["pending"],
            "failed": backlog["failed"],
            "tasks": dict(tasks),
            "export_padma_needed": ran_command,
        }

    # -- checks in the database --------------------------------------------------------

    def verify(self, files: dict[str, list[int]]) -> dict:
        from django.contrib.contenttypes.models import ContentType
        from wagtail.models import Revision, TaskState, WorkflowState

        from catalog.models import FileEntry
        from workflow.models import ExportBatch, ExportRequest, ExportState

        ids = sorted({i for chunk in files.values() for i in chunk})
        str_ids = [str(i) for i in ids]
        ct = ContentType.objects.get_for_model(FileEntry)
        revisions = collections.defaultdict(set)
        revision_count = 0
        for object_id, notes in Revision.objects.filter(
            base_content_type=ct, object_id__in=str_ids
        ).values_list("object_id", "content__notes"):
            revisions[int(object_id)].add(notes)
            revision_count += 1
        versions = dict(FileEntry.objects.filter(pk__in=ids).values_list("pk", "version"))
        saves = self.ledger.saves
        missing_saves = [s for s in saves if s["marker"] not in revisions[s["file"]]]
        stale = [s for s in saves if versions.get(s["file"], -1) < s["version"]]
        markers = {s["marker"] for s in saves}
        committed_unacked = sum(
            1
            for notes in (n for v in revisions.values() for n in v)
            if notes and notes.startswith(f"load-bench {self.run_id}") and notes not in markers
        )

        submitted = set(
            WorkflowState.objects.filter(base_content_type=ct, object_id__in=str_ids).values_list(
                "object_id", "requested_by_id"
            )
        )
        missing_submits = [
            s for s in self.ledger.submits if (str(s["file"]), s["user"]) not in submitted
        ]
        approved = set(
            TaskState.objects.filter(
                workflow_state__base_content_type=ct,
                workflow_state__object_id__in=str_ids,
                status="approved",
            ).values_list("workflow_state__object_id", "finished_by_id")
        )
        missing_approvals = [
            a for a in self.ledger.approvals if (str(a["file"]), a["user"]) not in approved
        ]
        approved_files = {int(object_id) for object_id, _ in approved}

        # Exports: every approved file exported, once, under the test server's item.
        state = self.padma_state(brief=False)
        requests_by_file = collections.defaultdict(list)
        for file_id, request_state, padma_id in ExportRequest.objects.filter(
            file_id__in=approved_files
        ).values_list("file_id", "state", "padma_id"):
            requests_by_file[file_id].append((request_state, padma_id))
        rows = FileEntry.objects.filter(pk__in=approved_files).values_list(
            "pk", "oshash", "padma_id", "status", "review_state"
        )
        not_exported, wrong_item, exportable = [], [], 0
        for pk, oshash, padma_id, status, review_state in rows:
            if status not in ("upload", "restricted") or review_state != "approved":
                continue  # changed after approval (not by this run's design)
            exportable += 1
            done = [r for r in requests_by_file[pk] if r[0] == ExportState.DONE]
            if not done or not padma_id:
                not_exported.append(pk)
            elif state["item_of"].get(oshash) != padma_id:
                wrong_item.append(pk)
        unfinished_batches = list(
            ExportBatch.objects.filter(
                finished_at__isnull=True, started_at__gte=self.started_at
            ).values_list("pk", flat=True)
        )
        return {
            "files_assigned": len(ids),
            "acknowledged_saves": len(saves),
            "revisions_of_these_files": revision_count,
            "acknowledged_saves_missing_revision": len(missing_saves),
            "acknowledged_saves_with_older_version_in_db": len(stale),
            "committed_saves_never_acknowledged": committed_unacked,
            "acknowledged_submits": len(self.ledger.submits),
            "acknowledged_submits_missing": len(missing_submits),
            "acknowledged_approvals": len(self.ledger.approvals),
            "acknowledged_approvals_missing": len(missing_approvals),
            "approved_files_in_db": len(approved_files),
            "approved_exportable": exportable,
            "approved_not_exported": len(not_exported),
            "exported_under_other_item": len(wrong_item),
            "padma_items": state["items"],
            "padma_media_files": state["files"],
            "padma_add_media_repeated": len(state["add_media_repeated"]),
            "padma_requests": state["by_action"],
            "unfinished_export_batches": unfinished_batches,
            "unacknowledged_writes": dict(
                collections.Counter(u["op"] for u in self.ledger.unacknowledged)
            ),
            "examples": {
                "missing_saves": missing_saves[:3],
                "missing_approvals": missing_approvals[:3],
                "not_exported": not_exported[:5],
            },
        }

    # -- diagnosis -------------------------------------------------------------------

    def profile(self, files: dict[str, list[int]], cycles: int) -> dict:
        """N open/save/submit/approve cycles in-process under cProfile, with their queries.

        No network, no contention: what one request costs by itself. Own time is summed
        by area (PostgreSQL round trips, Django ORM, Wagtail, templates, the app …).
        """
        from django.contrib.auth.models import User as DjangoUser
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        def client_for(role: str) -> Client:
            user = next(u for u in self.users if u.role == role)
            # As nginx sends it: the production settings redirect anything not HTTPS.
            client = Client(HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")
            client.force_login(DjangoUser.objects.get(pk=user.user_id))
            return client

        curator, reviewer = client_for("curator"), client_for("reviewer")
        name = next(u.username for u in self.users if u.role == "curator")
        spare = files[name][self.cursor[name] :][: cycles + 1]  # the first one warms up
        per_op: dict[str, list] = collections.defaultdict(list)
        shapes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        profilers = {op: cProfile.Profile() for op in ("open", "save", "submit", "approve")}
        for n, file_id in enumerate(spare):
            url = API.format(id=file_id)
            version = 0
            for op in ("open", "save", "submit", "approve"):
                client = reviewer if op == "approve" else curator
                body = {"version": version}
                if op == "save":
                    body["changes"] = {"status": "upload", "notes": f"profile {n}"}
                path = (
                    url + {"open": "", "save": "", "submit": "submit/", "approve": "approve/"}[op]
                )
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    if n:
                        profilers[op].enable()
                    if op == "open":
                        response = client.get(path)
                    else:
                        response = client.post(
                            path, json.dumps(body), content_type="application/json"
                        )
                    profilers[op].disable()
                    ms = (time.perf_counter() - started) * 1000
                if not n:
                    continue
                for query in queries.captured_queries:
                    shapes[op][_sql_shape(query["sql"])] += 1
                if response.headers.get("Content-Type", "").startswith("application/json"):
                    version = response.json().get("file", {}).get("version", version)
                sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
                per_op[op].append((ms, len(queries.captured_queries), sql_ms, response.status_code))
        summary, text = {}, []
        for op, rows in per_op.items():
            stats = pstats.Stats(profilers[op])
            areas: dict[str, float] = collections.Counter()
            for (filename, _line, _func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
                areas[_area(filename)] += tottime
            total = sum(areas.values()) or 1
            summary[op] = {
                "n": len(rows),
                "p50_ms": _round(percentile([r[0] for r in rows], 50)),
                "queries_p50": percentile([r[1] for r in rows], 50),
                "sql_ms_p50": _round(percentile([r[2] for r in rows], 50)),
                "statuses": dict(collections.Counter(r[3] for r in rows)),
                "queries_by_kind": {
                    k: round(v / len(rows), 1) for k, v in shapes[op].most_common(12)
                },
                "own_time_share": {
                    k: f"{v / total:.0%}" for k, v in sorted(areas.items(), key=lambda kv: -kv[1])
                },
            }
            stream = io.StringIO()
            stats.stream = stream
            stats.sort_stats("tottime").print_stats(15)
            text.append(f"== {op} (sorted by own time)\n{stream.getvalue()}")
        (self.args.workdir / f"profile-load-{self.args.files}-{self.run_id}.txt").write_text(
            "\n".join(text)
        )
        return {"ops": summary}

    def slow_queries(self, offset: int) -> dict:
        if not self.args.slow_ms or not PG_LOG.exists():
            return {}
        with PG_LOG.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
        pattern = re.compile(
            rf"@{re.escape(self.args.db)} LOG:\s+duration: ([\d.]+) ms\s+"
            r"(?:statement|execute [^:]*): (.*)"
        )
        found = collections.defaultdict(list)
        for match in pattern.finditer(text):
            statement = re.sub(r"\s+", " ", match.group(2))
            shape = re.sub(r"'[^']*'|\b\d+\b|\$\d+", "?", statement)[:160]
            found[shape].append(float(match.group(1)))
        top = sorted(found.items(), key=lambda kv: -sum(kv[1]))[:12]
        return {
            "threshold_ms": self.args.slow_ms,
            "statements": sum(len(v) for v in found.values()),
            "top": [
                {"n": len(v), "total_ms": round(sum(v)), "max_ms": round(max(v)), "sql": k}
                for k, v in top
            ],
        }


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _area(filename: str) -> str:
    """Where a function lives, for the profile's own-time summary."""
    for needle, area in (
        ("psycopg", "psycopg (PostgreSQL round trips)"),
        ("django/db/", "Django ORM"),
        ("django/template", "templates"),
        ("wagtail/", "Wagtail"),
        ("modelcluster", "Wagtail"),
        ("treebeard", "Wagtail"),
        ("/django/", "Django other"),
        (str(APP / "catalog"), "app"),
        (str(APP / "workflow"), "app"),
        (str(APP / "search"), "app"),
        (str(APP / "phs_site"), "app"),
        ("json", "JSON"),
    ):
        if needle in filename:
            return area
    return "Python stdlib / other"


def _sql_shape(sql: str) -> str:
    """``UPDATE catalog_folder``, ``SELECT wagtailcore_taskstate`` … for counting queries."""
    words = sql.split()
    verb = words[0].upper() if words else "?"
    target = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE", "DELETE": "FROM"}.get(verb)
    if target is None:
        return verb
    upper = [w.upper() for w in words]
    if target in upper[1:] or verb == "UPDATE":
        index = upper.index(target, 1) + 1 if verb != "UPDATE" else 1
        if index < len(words):
            return f"{verb} {words[index].strip('"')}"
    return verb


def _round(value):
    return None if value is None else round(value, 1)


def _op_of(method: str, path: str) -> str:
    if "/curate/api/files/" not in path:
        return "other " + method
    if path.endswith("/submit/"):
        return "submit"
    if path.endswith("/approve/"):
        return "approve"
    return "save" if method == "POST" else "open (both roles)"


# --- the run ------------------------------------------------------------------------------


def main() -> None:
    global APP
    args = parse_args()
    os.chdir(REPO)
    args.workdir.mkdir(parents=True, exist_ok=True)
    urllib3.disable_warnings()
    bench = Bench(args)
    if args.app_dir:
        APP = args.app_dir.resolve()
    elif args.snapshot:
        # Others edit this working tree meanwhile: measure the committed HEAD, frozen.
        APP = bench.work / "app"
        APP.mkdir()
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=REPO, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(APP)], input=archive.stdout, check=True)
    bench.results["app"] = {"dir": str(APP), "snapshot_of_head": bool(args.snapshot)}
    bench.results["git"] = git_state(REPO, dirty=APP == REPO)  # a frozen copy has no changes

    def hard_stop(signum, frame):
        raise SystemExit(
            f"stopped by {signal.Signals(signum).name} (limit --timeout {args.timeout}s)"
        )

    signal.signal(signal.SIGALRM, hard_stop)
    signal.signal(signal.SIGTERM, hard_stop)
    signal.alarm(args.timeout)
    try:
        run(bench, args)
    finally:
        signal.alarm(0)
        bench.cleanup()
        log("stopped everything this run started; removed " + str(bench.work))


def run(bench: Bench, args) -> None:
    log(f"load bench {bench.run_id}: {uptime()}")
    manifests = bench.manifests()
    bench.configure()
    bench.prepare_database(manifests)
    sys.path.insert(0, str(APP))
    if APP != REPO:
        import catalog_bench

        catalog_bench.strip_editable_finders()
    import django

    django.setup()
    import logging

    for name in ("phs.request", "workflow", "catalog", "search"):
        logging.getLogger(name).setLevel(logging.WARNING)  # the profile's requests: quiet
    from django.db import connection
    from django.utils import timezone

    from catalog.models import FileEntry

    bench.started_at = timezone.now()
    bench.results["catalog_files"] = FileEntry.objects.count()
    bench.results["database"]["indexed_before_load"] = bench.ensure_search_index()
    pg_offset = PG_LOG.stat().st_size if PG_LOG.exists() else 0
    if args.slow_ms:
        with bench.admin() as conn:
            conn.execute(
                f'ALTER DATABASE "{args.db}" SET log_min_duration_statement = {int(args.slow_ms)}'
            )
    bench.start_stack()
    bench.create_users()
    files = bench.pick_files()
    connection.close()
    bench.login_all()
    bench.results["stack"] = {
        "gunicorn": {
            "workers": args.workers or "deploy/gunicorn.conf.py default (2 × CPUs + 1)",
            "threads": args.threads or "deploy/gunicorn.conf.py default (4)",
            "cpus": os.cpu_count(),
        },
        "nginx": "deploy/nginx/phs-archive.conf, loopback ports, self-signed certificate",
        "padma_latency_ms": args.padma_latency_ms,
    }

    log(f"phase load: {args.curators} curators, {args.reviewers} reviewers, {args.duration}s")
    summary = bench.run_users("load", args.duration, files)
    print_phase("load", summary)

    if not args.no_faults:
        log(f"phase fault-web: {args.fault_duration}s of load, gunicorn master killed at 1/3")
        summary = bench.run_users("fault-web", args.fault_duration, files, during=bench.kill_web)
        window = summary["fault"].pop("window")
        outage = [
            s
            for s in bench.ledger.samples
            if s.phase == "fault-web" and not ok(s.status) and s.status != 409
        ]
        summary["fault"]["failed_requests"] = len(outage)
        summary["fault"]["failed_inside_outage_window"] = sum(
            1 for s in outage if window[0] - 1 <= s.start + s.ms / 1000 <= window[1] + 1
        )
        print_phase("fault-web", summary)

        # Fault (b): a backlog of submitted files, approved while the worker is killed.
        want = args.export_backlog
        if len(bench.queue) < want:
            log(f"phase fault-worker: topping the review queue up to {want} (curators only)")

            def until_queue(started, seconds, stop):
                while len(bench.queue) < want and not stop.is_set():
                    if time.perf_counter() - started > args.fault_timeout:
                        break
                    time.sleep(0.2)
                stop.set()

            bench.run_users(
                "fault-worker-prep", args.fault_timeout, files, reviewers=False,
                during=until_queue,
            )  # fmt: skip
        log(f"phase fault-worker: reviewers approve {len(bench.queue)} files; db_worker killed")
        summary = bench.run_users(
            "fault-worker", args.fault_timeout, files, curators=False,
            during=lambda started, seconds, stop: _approve_and_kill(bench, started, seconds, stop),
        )  # fmt: skip
        print_phase("fault-worker", summary)

    log("waiting for the export to drain")
    bench.results["export"] = bench.wait_export_drained(args.drain_timeout)
    bench.results["export"]["padma"] = bench.padma_state()
    bench.results["verify"] = bench.verify(files)
    if args.profile:
        log(f"profile: {args.profile} open/save/submit/approve cycles in-process (cProfile)")
        try:
            bench.results["profile"] = bench.profile(files, args.profile)
        except Exception as exc:  # a diagnosis must not cost the figures above
            bench.results["notes"].append(f"profile failed: {type(exc).__name__}: {exc}")
    bench.results["slow_queries"] = bench.slow_queries(pg_offset)
    bench.results["uptime_end"] = uptime()
    out = args.workdir / f"results-load-{args.files}-{bench.run_id}.json"
    out.write_text(json.dumps(bench.results, indent=2, default=str))
    print_report(bench.results)
    print(f"\nwritten {out}")


def _approve_and_kill(bench: Bench, started, seconds, stop) -> dict:
    """Reviewers run (in run_users); kill the worker mid-export; end when the queue is empty."""
    result = {}
    done = threading.Event()
    killer = threading.Thread(
        target=lambda: result.update(bench.kill_worker_mid_export(started, seconds, done)),
        daemon=True,
    )
    killer.start()
    while len(bench.queue) and time.perf_counter() - started < seconds and killer.is_alive():
        time.sleep(0.2)
    while len(bench.queue) and time.perf_counter() - started < seconds:
        time.sleep(0.2)  # killed and restarted: the reviewers finish the backlog
    # The last approvals are in flight: give the killer a chance to catch their export.
    killer.join(min(60.0, max(0.0, seconds - (time.perf_counter() - started))))
    done.set()
    killer.join(10)
    stop.set()
    return result


# --- output -------------------------------------------------------------------------------


def print_phase(name: str, s: dict) -> None:
    all_ = s["ops"]["all"]
    log(
        f"{name}: {s['requests_per_s']} req/s, {s['saves_per_s']} saves/s, "
        f"{s['approvals_per_s']} approvals/s; p50/p95/p99 {all_['p50_ms']}/{all_['p95_ms']}/"
        f"{all_['p99_ms']} ms; errors {s['errors']}, 409 {s['conflicts_409']}; "
        f"load {s['loadavg_after']}"
    )


def print_report(r: dict) -> None:
    print(f"\nLoad benchmark {r['run_id']}: {r['catalog_files']:,} files in the catalog")
    print(f"command: {r['command']}")
    print(f"start: {r['uptime_start']}")
    print(f"end:   {r['uptime_end']}")
    for name, s in r["phases"].items():
        print(
            f"\n== {name}: {s['seconds']} s — {s['requests_per_s']} requests/s, "
            f"{s['saves_per_s']} saves/s, {s['submits_per_s']} submits/s, "
            f"{s['approvals_per_s']} approvals/s; errors {s['errors']}, 409 conflicts "
            f"{s['conflicts_409']}; load average after {s['loadavg_after']}"
        )
        print(
            f"{'operation':<14}{'requests':>9}{'ok':>8}{'409':>6}{'errors':>8}"
            f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        )
        for op, row in s["ops"].items():
            if not row["requests"]:
                continue
            print(
                f"{op:<14}{row['requests']:>9}{row['ok']:>8}{row['conflicts_409']:>6}"
                f"{row['errors']:>8}{_fmt(row['p50_ms']):>9}{_fmt(row['p95_ms']):>9}"
                f"{_fmt(row['p99_ms']):>9}{_fmt(row['max_ms']):>9}"
            )
        server = s.get("server") or {}
        if server:
            print("  app time (duration_ms in the request log), p50/p95/p99:")
            for op, row in server.items():
                print(
                    f"    {op:<20} n={row['n']:<6} {row['p50_ms']}/{row['p95_ms']}/{row['p99_ms']}"
                )
        cpu = s.get("cpu")
        if cpu:
            print(
                f"  CPU: this benchmark's processes {cpu['ours_cores']} cores, the rest of the "
                f"machine {cpu['others_cores']} of {cpu['cpus']}; CPU s {cpu['seconds']}"
            )
            print(f"  CPU ms per request: {s.get('cpu_ms_per_request')}")
        if s.get("error_samples"):
            print("  errors: " + "; ".join(f"{k} ×{v}" for k, v in s["error_samples"].items()))
        if s.get("fault"):
            print("  fault: " + json.dumps(s["fault"]))
    v = r["verify"]
    print("\n== in the database afterwards")
    for key, value in v.items():
        if key != "examples":
            print(f"  {key}: {value}")
    print(f"== export: {json.dumps(r['export'])}")
    if r.get("profile"):
        print("== profile (in-process, django.test.Client, one request at a time):")
        for op, row in r["profile"]["ops"].items():
            print(f"  {op}: {json.dumps(row)}")
    if r.get("slow_queries"):
        sq = r["slow_queries"]
        print(f"== statements slower than {sq['threshold_ms']} ms: {sq['statements']}")
        for row in sq["top"]:
            print(f"  n={row['n']} total={row['total_ms']}ms max={row['max_ms']}ms  {row['sql']}")
    for note in r["notes"]:
        print(f"note: {note}")
    all_ = r["phases"]["load"]["ops"]["all"]
    verdict = (
        "met" if r["phases"]["load"]["errors"] == 0 and (all_["p95_ms"] or 0) <= 200 else "MISSED"
    )
    print(f"\ntarget (load phase: zero errors, p95 ≤ 200 ms): {verdict}")


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1_000_000, help="catalog size")
    parser.add_argument("--db", default="phs_bench_load", help="PostgreSQL database (recreated)")
    parser.add_argument("--reuse-db", action="store_true", help="keep and reuse a loaded database")
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    parser.add_argument("--duration", type=float, default=60, help="seconds of the load phase")
    parser.add_argument("--fault-duration", type=float, default=30, help="seconds of fault (a)")
    parser.add_argument("--no-faults", action="store_true", help="only the load phase")
    parser.add_argument("--curators", type=int, default=20)
    parser.add_argument("--reviewers", type=int, default=5)
    parser.add_argument("--files-per-curator", type=int, default=400)
    parser.add_argument(
        "--think-ms",
        type=float,
        default=1000,
        help="a user's pause after each file (0: no pause, the saturation run)",
    )
    parser.add_argument("--workers", type=int, default=0, help="GUNICORN_WORKERS (0: the config's)")
    parser.add_argument("--threads", type=int, default=0, help="GUNICORN_THREADS (0: the config's)")
    parser.add_argument("--padma-latency-ms", type=float, default=20)
    parser.add_argument("--export-backlog", type=int, default=150, help="approvals in fault (b)")
    parser.add_argument("--fault-timeout", type=float, default=180)
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--profile", type=int, default=0, help="cycles under cProfile at the end")
    parser.add_argument("--slow-ms", type=int, default=0, help="log statements slower than this")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "out")
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="run the stack from `git archive HEAD` (not this working tree, which others edit)",
    )
    parser.add_argument("--app-dir", type=Path, default=None, help="run the stack from this copy")
    parser.add_argument("--timeout", type=int, default=5400, help="hard limit for the whole run")
    args = parser.parse_args()
    args.workdir = args.workdir.resolve()
    return args


if __name__ == "__main__":
    main()
