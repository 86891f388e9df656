"""``run_upload``: send pad.ma the media it asks for, from a mounted drive.

1. Sign in (``PADMA_USERNAME``/``PADMA_PASSWORD``), ``init`` for pad.ma's video profile.
2. ``update`` with no files: the oshashes pad.ma wants ``info`` (ffprobe), ``data``
   (media to encode) or the ``file`` itself for — across all of the user's volumes.
3. For each wanted file that is exported from this drive (``plan.on_padma``), in path
   order: check size and oshash on the mount (a changed file is refused and recorded
   with both hashes); send ffprobe's info if asked; encode with pad.ma's profile and
   upload in chunks (``pandora_client.API.uploadVideo``), or send the file as it is
   (``uploadData``). Images, documents and other files are kept out (``plan``).
4. Every step is recorded on the file's ``MediaUpload`` row; an interrupted run leaves
   ``uploading`` with the bytes sent, and the next run resumes from the last chunk
   pad.ma took (pandora_client's resume file, kept per file in the cache).
"""

import fcntl
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from catalog.models import Drive
from workflow.models import MediaUpload, UploadState

from ..base import ExportError
from . import media
from .client import (
    ChunkRefused,
    ConnectionLost,
    PadmaActionError,
    UploadClient,
    UploadStopped,
    pandora_client,
    run_library,
)
from .plan import (
    MEDIA_CATEGORIES,
    format_bytes,
    format_duration,
    kept_out_reason,
    on_padma,
    uploadable,
)

logger = logging.getLogger("workflow")

DEFAULT_CHUNK_BYTES = 5 * 1024 * 1024  # pandora_client's own CHUNK_SIZE
#: pg_advisory_lock's first key for uploads ("upld"); the second is the drive's id.
LOCK_CLASS = 0x75706C64


@contextmanager
def drive_lock(drive: Drive, cache: Path):
    """One upload per drive at a time: a lock file in the cache (this machine) and, on
    PostgreSQL, an advisory lock (any machine). Yields whether both were taken."""
    path = cache / "locks" / f"drive-{drive.pk}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        if connection.vendor != "postgresql":
            yield True
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, drive.pk])
            taken = cursor.fetchone()[0]
        try:
            yield taken
        finally:
            if taken:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, drive.pk])


@dataclass
class UploadResult:
    wanted: int = 0  # files of this drive pad.ma asked for
    uploaded: int = 0
    info_sent: int = 0
    failed: int = 0
    refused: int = 0
    kept_out: int = 0
    already: int = 0  # recorded as done: pad.ma no longer asks for them
    bytes_sent: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    plan: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.failed or self.refused)

    def summary(self) -> str:
        rate = self.bytes_sent / self.seconds if self.seconds else 0
        return (
            f"{self.uploaded} uploaded, {self.failed} failed, "
            f"{self.refused} refused (changed on the drive), {self.kept_out} kept out "
            f"(not video or audio), {self.info_sent} with ffprobe info sent, "
            f"{self.already} already on pad.ma; {format_bytes(self.bytes_sent)} sent in "
            f"{format_duration(self.seconds)} ({format_bytes(rate)}/s)"
        )


def cache_dir() -> Path:
    return Path(getattr(settings, "PADMA_UPLOAD_CACHE", settings.VAR_DIR / "padma-upload"))


class Progress:
    """The whole run's progress: files, source bytes handled, bytes sent, rate, ETA."""

    def __init__(self, files: list, say):
        self.say = say
        self.total = len(files)
        self.total_bytes = sum(f["size"] for f in files) or 1
        self.started = time.monotonic()
        self.index = 0
        self.handled_bytes = 0
        self.sent = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def line(self) -> str:
        elapsed = self.elapsed()
        share = self.handled_bytes / self.total_bytes
        eta = elapsed * (1 - share) / share if share else None
        rate = self.sent / elapsed if elapsed else 0
        return (
            f"{100 * share:.0f}% of {format_bytes(self.total_bytes)} source, "
            f"{format_bytes(self.sent)} sent at {format_bytes(rate)}/s, "
            f"ETA {format_duration(eta) if eta is not None else 'unknown'}"
        )

    def file_done(self, entry: dict, what: str) -> None:
        self.handled_bytes += entry["size"]
        self.say(f"[{self.index}/{self.total}] {entry['where']}: {what} · {self.line()}")


def run_upload(
    *,
    drive: str,
    mount: str,
    dry_run: bool = False,
    limit: int | None = None,
    only_oshash: list[str] | None = None,
    say=lambda line: None,
    chunk_progress=None,
) -> UploadResult:
    """Upload what pad.ma wants from ``drive`` mounted at ``mount``. Raises
    ``UploadStopped`` (one line) when the run cannot start or pad.ma is lost; the rows
    say how far each file got."""
    drive_row = Drive.objects.filter(name=drive).first()
    if drive_row is None:
        raise UploadStopped(f"No drive named {drive!r} in the catalogue")
    root = Path(mount)
    if not root.is_dir():
        raise UploadStopped(f"{mount} is not a directory: is the drive {drive!r} mounted there?")
    for name in ("PADMA_USERNAME", "PADMA_PASSWORD"):
        if not getattr(settings, name, ""):
            raise UploadStopped(f"{name} is not set")

    cache = cache_dir()
    with drive_lock(drive_row, cache) as taken:
        if not taken:
            raise UploadStopped(
                f"Another upload from drive {drive!r} is running; try again when it has finished"
            )
        return _run(drive_row, root, cache, dry_run, limit, only_oshash, say, chunk_progress)


def _run(drive_row, root, cache, dry_run, limit, only_oshash, say, chunk_progress):
    drive = drive_row.name
    # upload_chunks reads its module's CHUNK_SIZE: the one knob it has for the chunk size.
    pandora_client.CHUNK_SIZE = getattr(settings, "PADMA_UPLOAD_CHUNK_BYTES", DEFAULT_CHUNK_BYTES)
    client = UploadClient(settings.PADMA_URL, media_cache=str(cache / "media"))
    result = UploadResult()
    started = time.monotonic()
    try:
        client.connect()
        client.signin(settings.PADMA_USERNAME, settings.PADMA_PASSWORD)
        site = client.site()
        wanted = client.call("update", {"info": {}})
        files = _wanted_files(drive_row, wanted, only_oshash)
        result.wanted = len(files)
        if not dry_run and not only_oshash:
            result.already = _record_already_there(drive_row, wanted)
        work = _handle_kept_out(files, result, dry_run)
        if limit is not None:
            work = work[:limit]
        say(
            f"pad.ma wants {len(files)} files from {drive}: {len(work)} to handle now, "
            f"{format_bytes(sum(f['size'] for f in work))} of source."
        )
        progress = Progress(work, say)
        for entry in work:
            progress.index += 1
            _handle(client, site, root, entry, result, progress, dry_run, chunk_progress)
    except ExportError as error:
        raise UploadStopped(str(error)) from None
    except ConnectionLost as lost:
        where = f"pad.ma at {settings.PADMA_URL}"
        reason = "interrupted" if str(lost) == "interrupted" else f"connection lost: {lost}"
        raise UploadStopped(
            f"Upload stopped, {where} {reason}; nothing is lost: run the same command again "
            "to resume from the last chunk pad.ma took"
        ) from None
    finally:
        result.seconds = time.monotonic() - started
        client.close()
    logger.info("padma upload drive=%s %s", drive, result.summary())
    return result


def _wanted_files(drive: Drive, wanted: dict, only: list[str] | None) -> list[dict]:
    """This drive's exported files among those pad.ma wants, in path order."""
    needs = {}
    for kind in ("file", "data", "info"):  # "info" last: it does not replace the others
        for oshash in wanted.get(kind) or []:
            needs.setdefault(oshash, set()).add(kind)
    if only:
        needs = {h: kinds for h, kinds in needs.items() if h in set(only)}
    hashes = list(needs)
    files = []
    for start in range(0, len(hashes), 2000):
        rows = (
            on_padma(drive)
            .filter(oshash__in=hashes[start : start + 2000])
            .values("pk", "oshash", "path", "filename", "size", "category")
        )
        files.extend(rows)
    for entry in files:
        entry["needs"] = needs[entry["oshash"]]
        entry["where"] = f"{entry['path']}/{entry['filename']}".lstrip("/")
    return sorted(files, key=lambda e: (e["path"], e["filename"]))


def _record_already_there(drive: Drive, wanted: dict) -> int:
    """Media files of this drive pad.ma no longer asks for have their media there: set
    their rows to done in two statements (new rows, then the open ones)."""
    asked = set(wanted.get("data") or []) | set(wanted.get("file") or [])
    open_files = on_padma(drive).filter(uploadable()).exclude(media_upload__state=UploadState.DONE)
    rows = open_files.values_list("pk", "oshash", "media_upload__pk")
    there = [(pk, row) for pk, oshash, row in rows.iterator(chunk_size=5000) if oshash not in asked]
    if not there:
        return 0
    now = timezone.now()
    done = {"state": UploadState.DONE, "finished_at": now, "message": ALREADY_THERE}
    MediaUpload.objects.bulk_create(
        [MediaUpload(file_id=pk, **done) for pk, row in there if row is None], batch_size=2000
    )
    existing = [row for _pk, row in there if row is not None]
    for start in range(0, len(existing), 2000):
        MediaUpload.objects.filter(pk__in=existing[start : start + 2000]).update(**done)
    return len(there)


ALREADY_THERE = "pad.ma has the media (it no longer asks for them)"


def _handle_kept_out(files: list[dict], result: UploadResult, dry_run: bool) -> list[dict]:
    """Record images, documents and other files as kept out; return the media files."""
    work = []
    for entry in files:
        if entry["category"] in MEDIA_CATEGORIES or "file" in entry["needs"]:
            work.append(entry)
            continue
        result.kept_out += 1
        reason = kept_out_reason(entry["category"])
        if dry_run:
            result.plan.append({"file": entry["where"], "action": "keep out", "reason": reason})
        else:
            _record(entry, state=UploadState.KEPT_OUT, message=reason)
    return work


def _record(entry: dict, **fields) -> None:
    MediaUpload.objects.update_or_create(file_id=entry["pk"], defaults=fields)


def _fail(entry, result, message, **fields) -> None:
    result.failed += 1
    result.failures.append(f"{entry['where']}: {message}")
    _record(entry, state=UploadState.FAILED, message=message, **fields)
    logger.warning("padma upload failed file=%s: %s", entry["pk"], message)


def _handle(client, site, root, entry, result, progress, dry_run, chunk_progress) -> None:
    check = media.check_on_mount(
        root,
        path=entry["path"],
        filename=entry["filename"],
        size=entry["size"],
        oshash=entry["oshash"],
    )
    if check.problem:
        if dry_run:
            result.plan.append(
                {"file": entry["where"], "action": "refuse", "reason": check.message}
            )
        elif check.problem == "changed":
            result.refused += 1
            result.failures.append(f"{entry['where']}: {check.message}")
            _record(
                entry,
                state=UploadState.MISMATCH,
                message=check.message,
                found_size=check.found_size,
                found_oshash=check.found_oshash,
            )
        else:
            _fail(entry, result, check.message, found_size=None, found_oshash="")
        progress.file_done(entry, "refused" if check.problem == "changed" else "missing")
        return
    needs = entry["needs"]
    api = client.api
    info = media.probe(check.path) if ("info" in needs or "data" in needs) else None
    as_is = "file" in needs
    profile = "original" if as_is else media.profile_for(info, site) if "data" in needs else ""
    if profile and profile != "original" and not (info.get("video") or info.get("audio")):
        reason = info.get("error") or "no video or audio stream"
        message = f"Not encoded: ffprobe finds no video or audio in it ({reason})"
        if dry_run:
            result.plan.append({"file": entry["where"], "action": "fail", "reason": message})
        else:
            _fail(entry, result, message)
        progress.file_done(entry, "failed")
        return
    if dry_run:
        action = "upload as is" if as_is else f"encode {profile} and upload" if profile else ""
        plan = {"file": entry["where"], "oshash": entry["oshash"], "size": entry["size"]}
        plan |= {"send info": "info" in needs, "action": action or "info only"}
        result.plan.append(plan)
        progress.file_done(entry, f"would {plan['action']}")
        return

    row, _ = MediaUpload.objects.get_or_create(
        file_id=entry["pk"], defaults={"state": UploadState.WAITING}
    )
    started = time.monotonic()
    if profile:  # media to send: a new attempt (a file pad.ma only asks info of keeps its row)
        MediaUpload.objects.filter(pk=row.pk).update(
            attempts=row.attempts + 1,
            started_at=timezone.now(),
            message="",
            found_size=None,
            found_oshash="",
            profile=profile,
        )
    try:
        if "info" in needs:
            client.call("update", {"info": {entry["oshash"]: info}, "upload": True})
            result.info_sent += 1
            _record(entry, info_sent_at=timezone.now())
        if as_is:
            _record(entry, state=UploadState.UPLOADING, upload_size=entry["size"])
            reply = run_library(api, api.uploadData, str(check.path), entry["oshash"])
            status = (reply or {}).get("status") or {}
            if status.get("code") != 200:
                raise PadmaActionError("upload", status.get("code"), status.get("text", ""))
            sent = entry["size"]
        elif profile:
            sent = _encode_and_upload(
                api, check.path, entry, profile, info, progress, chunk_progress, row.bytes_sent
            )
            if sent is None:
                result.failures.append(f"{entry['where']}: {row_message(entry)}")
                result.failed += 1
                progress.file_done(entry, "failed")
                return
        else:
            sent = 0
    except ChunkRefused as refused:
        _fail(entry, result, f"pad.ma refused a chunk: {refused}")
        progress.file_done(entry, "failed")
        return
    except PadmaActionError as error:
        _fail(entry, result, str(error))
        progress.file_done(entry, "failed")
        return
    seconds = time.monotonic() - started
    result.bytes_sent += sent
    if profile:
        result.uploaded += 1
        _record(
            entry,
            state=UploadState.DONE,
            bytes_sent=sent,
            finished_at=timezone.now(),
            seconds=row.seconds + seconds,
            message=f"Uploaded ({profile})",
        )
        progress.file_done(entry, f"uploaded {format_bytes(sent)} ({profile})")
    else:
        MediaUpload.objects.filter(file_id=entry["pk"]).exclude(state=UploadState.DONE).update(
            message="ffprobe info sent; pad.ma has not asked for the media"
        )
        progress.file_done(entry, "info sent")
    logger.info(
        "padma upload file=%s oshash=%s profile=%s bytes=%d",
        entry["pk"],
        entry["oshash"],
        profile or "-",
        sent,
    )


def row_message(entry) -> str:
    return MediaUpload.objects.filter(file_id=entry["pk"]).values_list("message", flat=True)[0]


def _encode_and_upload(api, location, entry, profile, info, progress, chunk_progress, before):
    """Encode (cached) and send in chunks; the bytes sent, or None (recorded as failed)."""
    cache = Path(api.media_cache).parent
    log = cache / "logs" / f"{entry['oshash']}.ffmpeg.log"
    _record(entry, state=UploadState.ENCODING)
    encoded = media.encode(api, location, profile=profile, info=info, log=log)
    if encoded is None:
        _record(
            entry,
            state=UploadState.FAILED,
            message=f"Encoding failed: {media.last_lines(log) or 'ffmpeg gave no output'}",
        )
        return None
    size = encoded.stat().st_size
    _record(entry, state=UploadState.UPLOADING, upload_size=size)
    resume = cache / "resume" / f"{entry['oshash']}.{profile}.json"
    resume.parent.mkdir(parents=True, exist_ok=True)
    api._resume_file = str(resume)
    sent_before = progress.sent

    def on_chunk(offset: int) -> None:
        MediaUpload.objects.filter(file_id=entry["pk"]).update(bytes_sent=offset)
        progress.sent = sent_before + offset
        if chunk_progress:
            chunk_progress(
                f"  {entry['where']}: {format_bytes(offset)} of {format_bytes(size)} sent"
                f" · {progress.line()}"
            )

    api.on_chunk = on_chunk
    api.refused = ""
    try:
        ok = run_library(api, api.uploadVideo, str(location), {}, profile, info)
    finally:
        api.on_chunk = None
    if not ok:
        _record(
            entry,
            state=UploadState.FAILED,
            message=f"pad.ma did not take the upload: {api.refused or 'no reason given'}",
        )
        return None
    progress.sent = sent_before + size
    return size
