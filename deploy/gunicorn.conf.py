"""gunicorn for the PHS Archive: ``gunicorn -c deploy/gunicorn.conf.py``.

Every value can be overridden from the environment (the systemd unit reads
/etc/phs-archive/env); the defaults suit one server behind deploy/nginx/phs-archive.conf.
"""

import multiprocessing
import os

wsgi_app = "phs_site.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# One thread per worker process, a few more processes than cores. The admin's requests
# spend most of their time in Python (Django's ORM, Wagtail's workflow), not waiting on
# PostgreSQL: threads in one process then queue for its interpreter lock. Measured with
# bench/load_bench.py (25 users, 1 s between actions, 2 cores): 5 workers x 4 threads
# p95 276 ms at 55 requests/s; 6 workers x 1 thread p95 120 ms at 59 requests/s.
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 2))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))

# Bulk actions over thousands of files and the CSV/XLSX export take time; nginx's
# proxy_read_timeout is a little longer so gunicorn's own timeout is what fires.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "180"))
graceful_timeout = 30  # a reload (HUP) lets requests in flight finish
keepalive = 5
# Recycle workers now and then: bounded memory over months of uptime.
max_requests = 2000
max_requests_jitter = 200

# One log line per request comes from the app (phs_site.logs, JSON, no query strings);
# gunicorn's access log would repeat it with the query string, so it is off.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# X-Forwarded-* are trusted from nginx on this machine only.
forwarded_allow_ips = "127.0.0.1,::1"
proc_name = "phs-web"


def post_worker_init(worker):
    """Once Django and Wagtail are loaded, move their objects out of the garbage
    collector's sight: a full collection then walks only what requests create (one took
    200 ms of a save's time with every module's objects in the young generations)."""
    import gc

    gc.collect()
    gc.freeze()
