"""Large bulk actions run in the background (``django.tasks``), not in the request.

A selection is passed as data — explicit ids, or the listing's query string for
"select all matching" — and turned back into a queryset by the task, so nothing
but a few bytes crosses the queue.
"""

import logging
from urllib.parse import parse_qs

from django.contrib.auth import get_user_model
from django.tasks import task

from catalog.filters import FileEntryFilterSet
from catalog.models import FileEntry, ProjectGroup
from search.listing import search_files
from workflow.services import bulk

logger = logging.getLogger("workflow")


def files_from_selection(selection: dict):
    """``{"ids": [...]}`` or ``{"listing_query": "status=upload&q=…"}`` → a file queryset."""
    if "ids" in selection:
        return FileEntry.objects.filter(pk__in=selection["ids"])
    params = parse_qs(selection.get("listing_query", ""))
    data = {key: values if len(values) > 1 else values[0] for key, values in params.items()}
    files = FileEntryFilterSet(data, queryset=FileEntry.objects.all()).qs
    query = (params.get("q") or [""])[0]
    return search_files(files, query) if query.strip() else files


def run_action(action: str, files, *, user, data: dict) -> bulk.BulkResult:
    """The one dispatch from an action name to its bulk service."""
    match action:
        case "set_status":
            return bulk.set_status(files, status=data["status"], user=user)
        case "set_project_group":
            group = ProjectGroup.objects.filter(pk=data.get("project_group")).first()
            return bulk.set_project_group(files, project_group=group, user=user)
        case "submit_for_review":
            return bulk.submit(files, user=user)
        case "approve":
            return bulk.approve(files, user=user, comment=data.get("comment", ""))
        case "reject":
            return bulk.reject(files, user=user, comment=data["comment"])
    raise ValueError(f"unknown bulk action {action!r}")


@task()
def run_bulk_action(action: str, user_id: int, selection: dict, data: dict) -> str:
    user = get_user_model().objects.get(pk=user_id)
    result = run_action(action, files_from_selection(selection), user=user, data=data)
    logger.info("bulk %s by user %s: %s", action, user_id, result)
    return str(result)
