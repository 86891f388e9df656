"""Working off the export outbox: claim due requests in chunks, export, record results.

One function, ``run_export``, serves the background task and ``manage.py export_padma``.

- **Claim.** Each chunk is claimed and recorded in one transaction: on PostgreSQL with
  ``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite the write transaction is the claim. A
  crash mid-chunk rolls the chunk back, so its requests stay pending and a rerun resumes
  them. pan.do/ra's side is idempotent (``findMedia`` first), so nothing is created twice.
- **Results.** Per request: ``done`` (with the pad.ma item id, also stored on the file),
  ``skipped`` (with the reason), or a failure with pad.ma's message: retried with
  exponential backoff (``next_attempt_at``) up to ``PADMA_EXPORT_MAX_ATTEMPTS``, then
  ``failed`` until an operator runs ``--retry-failed``.
- **Locations.** After the chunks, every drive with newly exported files gets one
  ``update`` with its whole list of exported files (``ExportRequest.located_at``).
- **One writer.** On PostgreSQL a run holds an advisory lock, so two runs never send
  overlapping volume lists.

Exporters that only report (dry run, manifest) read the due requests and change none.
"""

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import FileEntry
from workflow.models import ExportBatch, ExportRequest, ExportState

from .base import (
    ExportError,
    ExportItem,
    ItemResult,
    Outcome,
    PadmaUnavailable,
    load_backends,
)
from .eligibility import file_refusal
from .items import load_items
from .padma import PadmaActionError

logger = logging.getLogger("workflow")

#: pg_advisory_lock key: "padma" in ASCII.
LOCK_KEY = 0x7061646D61
MAX_BACKOFF = timedelta(hours=6)
#: Failures kept in full on the batch's report (the requests keep every message).
REPORTED_FAILURES = 500


@dataclass
class RunResult:
    batch: ExportBatch
    exported: int = 0
    failed: int = 0
    skipped: int = 0
    planned: int = 0
    located: int = 0
    error: str = ""
    report: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "batch": self.batch.pk,
            "exported": self.exported,
            "failed": self.failed,
            "skipped": self.skipped,
            "planned": self.planned,
            "located": self.located,
            "error": self.error,
        }


def backoff(attempts: int) -> timedelta:
    """Delay before retry number ``attempts``: 1, 2, 4, 8 … × the base, at most 6 hours."""
    base = timedelta(seconds=settings.PADMA_EXPORT_RETRY_SECONDS)
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def due_requests(*, now=None, retry_failed: bool = False):
    now = now or timezone.now()
    if retry_failed:
        due = Q(state=ExportState.PENDING) | Q(state=ExportState.FAILED)
    else:
        due = Q(state=ExportState.PENDING) & (
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )
    return ExportRequest.objects.filter(due).order_by("requested_at", "id")


def run_export(
    *,
    backends: list[str] | None = None,
    dry_run: bool = False,
    limit: int | None = None,
    retry_failed: bool = False,
    user=None,
    progress=None,
    file_progress=None,
    wait_for_lock: bool = False,
    backend_options: dict | None = None,
) -> RunResult:
    """Run the export backends over the due requests.

    Raises ``ExportError`` when the run cannot start (settings, sign-in, another run) or
    a report-only backend fails; a run that pad.ma interrupts returns with ``error`` set.
    ``progress`` receives one line per chunk, ``file_progress`` one per file.
    """
    if dry_run:
        backends = ["workflow.export.padma.DryRunExporter"]
    exporters = load_backends(backends, progress=file_progress, **(backend_options or {}))
    writes = any(exporter.writes for exporter in exporters)
    say = progress or (lambda message: None)

    with _export_lock(wait=wait_for_lock and writes) as acquired:
        if writes and not acquired:
            raise ExportError("another export is running; try again when it has finished")
        batch = ExportBatch.objects.create(
            backend=", ".join(type(exporter).dotted_path() for exporter in exporters),
            dry_run=not writes,
            started_by=user,
        )
        result = RunResult(batch=batch)
        logger.info("export batch=%s started backends=%s", batch.pk, batch.backend)
        stopped: ExportError | None = None
        try:
            for exporter in exporters:
                exporter.open()
            if writes:
                _run_writing(exporters, result, limit, retry_failed, say)
            else:
                _run_reporting(exporters, result, limit, say)
        except ExportError as error:
            result.error, stopped = str(error), error
        except BaseException:
            _close_and_finish(batch, exporters, result)
            raise
        # Not inside the except block: saving the batch runs Wagtail's reference-index
        # task inline, and a task finished while an exception is being handled logs that
        # exception's traceback — twice, before the operator's one-line message.
        _close_and_finish(batch, exporters, result)
        if writes and result.error:
            note_waiting(result.error)
    if stopped is not None:
        raise stopped
    return result


def note_waiting(reason: str) -> int:
    """Record on every due pending request why it was not sent (the export report's
    *Message*): the export is not configured, pad.ma refused the sign-in or did not
    answer. Requests in backoff keep their own error and retry time. Returns how many."""
    message = f"Not sent yet: {reason}"
    return (
        due_requests()
        .filter(state=ExportState.PENDING)
        .exclude(last_error=message)
        .update(last_error=message)
    )


def _close_and_finish(batch: ExportBatch, exporters, result: RunResult) -> None:
    for exporter in exporters:
        exporter.close()
    _finish(batch, exporters, result)


def _run_writing(exporters, result: RunResult, limit, retry_failed, say) -> None:
    batch = result.batch
    chunk_size = settings.PADMA_EXPORT_CHUNK_SIZE
    writer = next(exporter for exporter in exporters if exporter.writes)
    processed = 0
    while limit is None or processed < limit:
        size = chunk_size if limit is None else min(chunk_size, limit - processed)
        with transaction.atomic():
            claimed = _claim(batch, size, retry_failed)
            if not claimed:
                break
            items = load_items(list(claimed))
            results: list[ItemResult] = []
            for exporter in exporters:
                outcome = exporter.export(items)
                if exporter is writer:
                    results = outcome
            _record(batch, items, results, claimed, result)
        processed += len(claimed)
        say(
            f"Chunk of {len(claimed)}: {result.exported} exported, {result.failed} failed, "
            f"{result.skipped} skipped so far"
        )
        interrupted = getattr(writer, "interrupted", None)
        if interrupted:
            result.error = f"{interrupted}; the remaining requests stay pending"
            return
    _locate_exported(exporters, writer, result, say)


def _claim(batch: ExportBatch, size: int, retry_failed: bool) -> dict[int, tuple[int, str]]:
    """Lock up to ``size`` due requests not yet tried in this batch: {id: (attempts, state)}."""
    due = due_requests(retry_failed=retry_failed).exclude(batch=batch)
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self",))
    return {
        pk: (attempts, state)
        for pk, attempts, state in due.values_list("pk", "attempts", "state")[:size]
    }


def _record(batch, items: list[ExportItem], results, claimed: dict, result) -> None:
    now = timezone.now()
    items_by_request = {item.request_id: item for item in items}
    max_attempts = settings.PADMA_EXPORT_MAX_ATTEMPTS
    requests, files = [], []
    failures = result.report.setdefault("failures", [])
    for outcome in results:
        item = items_by_request[outcome.request_id]
        request = ExportRequest(pk=outcome.request_id, batch=batch, revision_id=item.revision_id)
        request.attempts, previous_state = claimed[outcome.request_id]
        request.padma_id, request.located_at = "", None
        request.next_attempt_at, request.finished_at = None, None
        request.last_error = outcome.message
        if outcome.outcome == Outcome.DONE:
            request.attempts += 1
            request.state, request.finished_at = ExportState.DONE, now
            request.padma_id = outcome.padma_id
            files.append(FileEntry(pk=item.file_id, padma_id=outcome.padma_id, exported_at=now))
            result.exported += 1
        elif outcome.outcome == Outcome.SKIPPED:
            request.state, request.finished_at = ExportState.SKIPPED, now
            result.skipped += 1
        else:
            request.attempts += 1
            # A retried "failed" request stays failed: it must not become a second
            # pending request for a file that was approved again in the meantime.
            if request.attempts >= max_attempts or previous_state == ExportState.FAILED:
                request.state, request.finished_at = ExportState.FAILED, now
            else:
                request.state = ExportState.PENDING
                request.next_attempt_at = now + backoff(request.attempts)
            result.failed += 1
            if len(failures) < REPORTED_FAILURES:
                failures.append(
                    {
                        "request": item.request_id,
                        "file": item.file_id,
                        "location": item.location,
                        "message": outcome.message,
                    }
                )
        requests.append(request)
    ExportRequest.objects.bulk_update(
        requests,
        [
            "batch",
            "revision",
            "attempts",
            "state",
            "padma_id",
            "located_at",
            "next_attempt_at",
            "finished_at",
            "last_error",
        ],
    )
    FileEntry.objects.bulk_update(files, ["padma_id", "exported_at"])


def _locate_exported(exporters, writer, result: RunResult, say) -> None:
    """One ``update`` per drive with newly exported files, listing all its exported files."""
    drives = (
        ExportRequest.objects.filter(state=ExportState.DONE, located_at__isnull=True)
        .values_list("file__drive_id", "file__drive__name")
        .distinct()
        .order_by("file__drive__name")
    )
    for drive_id, drive_name in list(drives):
        files = volume_files(drive_id)
        try:
            for exporter in exporters:
                if hasattr(exporter, "locate"):
                    exporter.locate(drive_name, files)
        except (PadmaActionError, PadmaUnavailable) as error:
            message = f"recording locations on drive {drive_name} failed: {error}"
            logger.warning("export %s", message)
            result.report.setdefault("location_errors", []).append(message)
            if isinstance(error, PadmaUnavailable):
                result.error = f"{error}; the locations are recorded on the next run"
                return
            continue
        result.located += ExportRequest.objects.filter(
            state=ExportState.DONE, located_at__isnull=True, file__drive_id=drive_id
        ).update(located_at=timezone.now())


def volume_files(drive_id: int, extra: list[ExportItem] = ()) -> list[dict]:
    """Every exported file on the drive (plus ``extra`` not yet exported), by path;
    never one that may not be on pad.ma whatever was decided (no or a shared oshash)."""
    rows = (
        FileEntry.objects.filter(drive_id=drive_id)
        .exclude(padma_id="")
        .order_by("path", "filename")
        .values_list("pk", "oshash", "path", "filename", "size", "padma_id", "imported_at")
    )
    files = {}
    for pk, oshash, path, filename, size, padma_id, imported_at in rows.iterator(chunk_size=5000):
        # A tiny file sent before the rule existed would name the item every file of its
        # size shares: pad.ma must not learn it (see ``eligibility``).
        if file_refusal(size=size, oshash=oshash):
            continue
        files[pk] = {
            "oshash": oshash,
            "path": f"{path}/{filename}" if path else filename,
            "size": size,
            # Our scanner keeps no mtime; pan.do/ra wants one: the time we saw the file.
            "mtime": int(imported_at.timestamp()) if imported_at else 0,
            "padma_id": padma_id,
        }
    for item in extra:
        entry = files.setdefault(item.file_id, item.volume_file() | {"mtime": 0})
        entry.update(title=item.title, rightslevel=item.rightslevel)
        entry.setdefault("padma_id", item.padma_id)
    return sorted(files.values(), key=lambda entry: entry["path"])


def _run_reporting(exporters, result: RunResult, limit, say) -> None:
    """Dry run / manifest: read the due requests, plan or list them, change nothing."""
    ids = list(due_requests().values_list("pk", flat=True)[:limit])
    chunk_size = settings.PADMA_EXPORT_CHUNK_SIZE
    by_drive: dict[tuple[int, str], list[ExportItem]] = {}
    for start in range(0, len(ids), chunk_size):
        items = load_items(ids[start : start + chunk_size])
        for exporter in exporters:
            exporter.export(items)
        for item in items:
            if item.skip_reason:
                result.skipped += 1
                continue
            result.planned += 1
            by_drive.setdefault((item.drive_id, item.drive), []).append(item)
        say(f"Planned {min(start + chunk_size, len(ids))} of {len(ids)} requests")
    for (drive_id, drive_name), items in sorted(by_drive.items(), key=lambda kv: kv[0][1]):
        files = volume_files(drive_id, items)
        for exporter in exporters:
            if hasattr(exporter, "locate"):
                exporter.locate(drive_name, files)


def _finish(batch: ExportBatch, exporters, result: RunResult) -> None:
    report = dict(result.report)
    for exporter in exporters:
        try:
            report.update(exporter.finish())
        except Exception:  # a report must never hide the run's own outcome
            logger.exception("export backend %s could not finish", type(exporter).__name__)
    report["summary"] = report.get("summary") or result.summary()
    result.report = report
    batch.exported, batch.failed, batch.skipped = result.exported, result.failed, result.skipped
    batch.report, batch.error = report, result.error
    batch.finished_at = timezone.now()
    batch.save(update_fields=["exported", "failed", "skipped", "report", "error", "finished_at"])
    logger.info(
        "export batch=%s finished exported=%d failed=%d skipped=%d planned=%d error=%s",
        batch.pk,
        result.exported,
        result.failed,
        result.skipped,
        result.planned,
        result.error or "-",
    )


@contextmanager
def _export_lock(*, wait: bool):
    """PostgreSQL: a session advisory lock; SQLite allows one writer anyway."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
            acquired = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
