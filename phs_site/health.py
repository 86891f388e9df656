"""``/healthz``: is this instance fit to serve, and is background work keeping up?

The load balancer reads the status code: 200 when the database answers and every
migration is applied, 503 otherwise. Monitoring reads the JSON body, which also
reports the task backlog (django-tasks-db's queue) and the pad.ma export backlog
(pending and failed requests, the oldest pending one's age). Those two are
informational: a slow export queue is an alert for a person, not a reason to take
the site out of rotation.

Anyone may ask, but only the status (``{"status": "ok"}``) is for everyone: the
details (database vendor, pending migration names, backlogs) are for the machine
itself (a monitor on loopback, directly or through nginx: ``phs_site.proxy``) and
for signed-in admin users.
"""

import logging
from datetime import timedelta

from django.apps import apps
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from phs_site.proxy import is_local

logger = logging.getLogger("phs.health")


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def check_migrations() -> dict:
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return {"ok": not pending, "pending": [f"{m.app_label}.{m.name}" for m, _ in pending]}


def task_backlog() -> dict | None:
    """Ready, running and failed tasks in django-tasks-db's queue; None when it is not installed."""
    if not apps.is_installed("django_tasks_db"):
        return None
    from django_tasks_db.models import DBTaskResult

    results = DBTaskResult.objects.all()
    oldest_ready = results.ready().order_by("enqueued_at").values_list("enqueued_at", flat=True)
    oldest = oldest_ready.first()
    return {
        "ready": results.ready().count(),
        "running": results.running().count(),
        "failed": results.failed().count(),
        "oldest_ready_seconds": _seconds(timezone.now() - oldest) if oldest else None,
    }


def export_backlog() -> dict:
    """Pending and failed pad.ma exports and the oldest pending one's age (one query)."""
    from workflow.export.status import export_backlog as backlog

    return backlog()


#: Checks that decide the status code, then the ones that only report.
REQUIRED_CHECKS = {"database": check_database, "migrations": check_migrations}
REPORTED_CHECKS = {"tasks": task_backlog, "exports": export_backlog}


@never_cache
@require_safe
def healthz(request):
    body: dict = {}
    healthy = True
    for name, check in REQUIRED_CHECKS.items():
        body[name] = _run(name, check)
        healthy = healthy and body[name].get("ok", False)
        if not healthy:
            break  # without a database the rest cannot answer
    if healthy:
        for name, check in REPORTED_CHECKS.items():
            if (result := _run(name, check)) is not None:
                body[name] = result
    body["status"] = "ok" if healthy else "unavailable"
    if not may_see_details(request):
        body = {"status": body["status"]}
    return JsonResponse(body, status=200 if healthy else 503)


def may_see_details(request) -> bool:
    """The machine itself, or someone signed in to the admin."""
    if is_local(request):
        return True
    try:  # a session lookup: with the database down, nobody is signed in
        return request.user.has_perm("wagtailadmin.access_admin")
    except DatabaseError:
        return False


def _run(name: str, check) -> dict | None:
    try:
        return check()
    except Exception as error:  # any failure is the answer, not a crash
        # The class name only: driver messages can carry host names and user names.
        logger.exception("health check %s failed", name, extra={"check": name})
        return {"ok": False, "error": type(error).__name__}


def _seconds(age: timedelta) -> int:
    return max(0, int(age.total_seconds()))
