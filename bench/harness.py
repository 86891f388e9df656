#!/usr/bin/env python
"""What the benchmarks share: percentiles, where a figure came from, scratch databases,
and the production stack (gunicorn behind nginx) on loopback.

The benchmarks import it as ``harness`` (a script's own folder is on ``sys.path``).
``deploy/smoke-test`` renders its nginx configuration through it too, so the load
benchmark and the smoke test serve the same site file the same way::

    .venv/bin/python bench/harness.py loopback-nginx WORK APP_PORT HTTP_PORT HTTPS_PORT STATIC_ROOT

writes ``WORK/cert.pem``, ``WORK/key.pem`` (self-signed, for localhost) and
``WORK/nginx/nginx.conf`` (``deploy/nginx/phs-archive.conf`` pointed at loopback).
"""

import math
import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"
USAGE = (
    "bench/harness.py loopback-nginx WORK APP_PORT HTTP_PORT HTTPS_PORT STATIC_ROOT [PREVIEWS_ROOT]"
)


# --- figures --------------------------------------------------------------------------


def percentile(values, q: float):
    """Nearest-rank percentile (the smallest value with ``q`` % at or below it); None for
    no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def loadavg() -> list[float]:
    """The 1-, 5- and 15-minute load averages: printed beside figures taken on a shared
    machine."""
    return [round(v, 2) for v in os.getloadavg()]


def uptime() -> str:
    """``uptime``'s line (in UTC: Django's TIME_ZONE sets this process's TZ)."""
    try:
        env = {**os.environ, "TZ": "UTC"}
        return subprocess.run(
            ["uptime"], capture_output=True, text=True, timeout=5, env=env
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average: " + ", ".join(map(str, loadavg()))


# --- where a figure came from ------------------------------------------------------------


def command_line() -> str:
    """This run's command line, as typed from the repository root."""
    return shlex.join([".venv/bin/python", *sys.argv])


def git_state(repo: Path = REPO, *, dirty: bool = True) -> dict:
    """The commit measured, and the files changed in the working tree (``dirty``: skip for
    a frozen copy, which has none)."""

    def git(*argv):
        return subprocess.run(["git", *argv], cwd=repo, capture_output=True, text=True).stdout

    state = {"head": git("rev-parse", "HEAD").strip()}
    if dirty:
        state["dirty"] = [line for line in git("status", "--short").splitlines() if line]
    return state


def provenance(repo: Path = REPO) -> str:
    """One line for a printed report: command, commit (and uncommitted files), load."""
    state = git_state(repo)
    changed = f" + {len(state['dirty'])} uncommitted" if state["dirty"] else ""
    return f"{command_line()}  (at {state['head'][:10]}{changed}; {uptime()})"


# --- scratch databases ----------------------------------------------------------------------


def recreate_postgres_database(name: str) -> str:
    """Drop (closing its sessions) and create database ``name``; return its URL."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


# --- the stack on loopback --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_binary() -> str:
    """nginx, installed from Debian when missing (another apt run may hold the lock)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        print("installing nginx from Debian", file=sys.stderr, flush=True)
        subprocess.run(
            ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", "nginx"],
            check=True,
            capture_output=True,
            timeout=900,
        )
        nginx = "/usr/sbin/nginx"
    return nginx


def self_signed_certificate(work: Path) -> tuple[Path, Path]:
    """A one-day certificate for localhost and 127.0.0.1: (cert, key) in ``work``."""
    cert, key = work / "cert.pem", work / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def loopback_nginx(
    work: Path,
    *,
    app_port: int,
    http_port: int,
    https_port: int,
    static_root: str,
    cert: Path,
    key: Path,
    app: Path = REPO,
    worker_connections: int = 1024,
    previews_root: str | None = None,
) -> list[str]:
    """Write ``work/nginx/nginx.conf``: the production site file with loopback ports, the
    certificate ``cert``/``key``, and paths under ``work``. Returns nginx's argv (add
    ``-g "daemon off;"`` to run it in the foreground); the configuration is tested."""
    conf = work / "nginx"
    conf.mkdir(parents=True, exist_ok=True)
    site = (app / "deploy" / "nginx" / "phs-archive.conf").read_text()
    for old, new in [
        ("server 127.0.0.1:8000", f"server 127.0.0.1:{app_port}"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("server_name archive.example.org;", "server_name localhost 127.0.0.1;"),
        ("https://$host$request_uri", f"https://$host:{https_port}$request_uri"),
        ("/etc/letsencrypt/live/archive.example.org/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/archive.example.org/privkey.pem", str(key)),
        ("/srv/phs-archive/static/", f"{static_root.rstrip('/')}/"),
        ("/var/log/nginx/phs-archive.", f"{conf}/"),
        ("/var/www/letsencrypt", str(work / "acme")),
        ("/srv/phs-archive/var/previews/", f"{(previews_root or str(work / 'previews'))}/"),
    ]:
        if old not in site:
            raise SystemExit(f"deploy/nginx/phs-archive.conf no longer contains {old!r}")
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (conf / "site.conf").write_text(site + "\n")
    user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    (conf / "nginx.conf").write_text(
        f"""user {user};
worker_processes 1;
pid {conf}/nginx.pid;
error_log {conf}/error.log warn;
events {{ worker_connections {worker_connections}; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {conf}/body;
    proxy_temp_path {conf}/proxy;
    fastcgi_temp_path {conf}/fastcgi;
    uwsgi_temp_path {conf}/uwsgi;
    scgi_temp_path {conf}/scgi;
    include {conf}/site.conf;
}}
"""
    )
    argv = [nginx_binary(), "-c", str(conf / "nginx.conf"), "-p", str(conf)]
    subprocess.run([*argv, "-t", "-q"], check=True, timeout=30)
    return argv


def main(argv: list[str]) -> None:
    if len(argv) not in (6, 7) or argv[0] != "loopback-nginx":
        raise SystemExit(f"usage: {USAGE}")
    work = Path(argv[1])
    cert, key = self_signed_certificate(work)
    app_port, http_port, https_port = (int(port) for port in argv[2:5])
    loopback_nginx(
        work,
        app_port=app_port,
        http_port=http_port,
        https_port=https_port,
        static_root=argv[5],
        cert=cert,
        key=key,
        previews_root=argv[6] if len(argv) == 7 else None,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
