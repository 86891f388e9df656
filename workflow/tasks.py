"""Background tasks of the workflow app (Django's ``django.tasks``).

``export_pending`` is enqueued after an approval commits (``workflow.export.requests``).
With ``PHS_TASKS_BACKEND=database`` it runs in ``manage.py db_worker``; otherwise inline,
after the commit. See docs/export.md.
"""

import logging

from django.tasks import task

from workflow.export.base import ExportError, load_backends
from workflow.export.runner import note_waiting, run_export
from workflow.export.status import export_backlog

logger = logging.getLogger("workflow")


@task()
def export_pending(limit: int | None = None) -> dict:
    """Export every due request with ``PADMA_EXPORT_BACKENDS``; waits for a running export.

    Without pad.ma credentials it does nothing: the requests wait, and each says why in
    the export report.
    """
    problems = [backend.not_configured() for backend in load_backends()]
    problem = "; ".join(problem for problem in problems if problem)
    if problem:
        note_waiting(problem)  # the export report says why, not only this log line
        backlog = export_backlog()
        logger.info("pad.ma export not run (%s); %d requests wait", problem, backlog["pending"])
        return {"not_run": problem, **backlog}
    try:
        result = run_export(limit=limit, wait_for_lock=True)
    except ExportError as error:
        logger.error("pad.ma export failed: %s", error)
        return {"error": str(error)}
    return result.summary()
