"""Reading the approved version of the files behind a set of export requests.

Exported metadata is the file's ``live_revision`` — what a reviewer approved — never the
current row, which a curator may have edited since (such edits wait for re-approval).
Two queries per chunk, whatever its size: the requests with their files, drives, groups
and live revisions, then the project groups those revisions name.
"""

from catalog.models import FileEntry, ProjectGroup
from workflow.models import ExportRequest

from .base import ExportItem
from .eligibility import ExportFacts, export_refusal


def load_items(request_ids) -> list[ExportItem]:
    requests = list(
        ExportRequest.objects.filter(pk__in=request_ids)
        # with_content_json() also reads latest_revision: fetch it here, without its content.
        .select_related(
            "file__drive",
            "file__duplicate_group",
            "file__live_revision",
            "file__latest_revision",
        )
        .defer("file__latest_revision__content")
        .order_by("pk")
    )
    approved = {req.pk: approved_version(req.file) for req in requests}
    group_ids = {file.project_group_id for file in approved.values() if file is not None}
    groups = dict(ProjectGroup.objects.filter(pk__in=group_ids - {None}).values_list("pk", "name"))
    return [_item(req, approved[req.pk], groups) for req in requests]


def approved_version(file: FileEntry) -> FileEntry | None:
    """``file.live_revision.as_object()``, without fetching the file a second time."""
    revision = file.live_revision
    if revision is None:
        return None
    return file.with_content_json(revision.content)


def _item(request: ExportRequest, approved: FileEntry | None, groups: dict) -> ExportItem:
    file = request.file
    source = approved or file
    item = ExportItem(
        request_id=request.pk,
        file_id=file.pk,
        revision_id=file.live_revision_id,
        drive_id=file.drive_id,
        drive=file.drive.name,
        path=file.path,
        filename=file.filename,
        oshash=file.oshash,
        size=file.size,
        duration=file.duration,
        mime_type=file.mime_type,
        status=source.status,
        title=source.title,
        description=source.description,
        date=source.date,
        project=groups.get(source.project_group_id, ""),
        padma_id=file.padma_id,
    )
    item.skip_reason = _skip_reason(file, approved)
    return item


def _skip_reason(file: FileEntry, approved: FileEntry | None) -> str:
    refusal = export_refusal(ExportFacts.at_export(file, approved))
    return refusal.message if refusal else ""
