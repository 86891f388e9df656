"""The one write path for previews: a folder of scan-made previews taken in
(``import_preview_folder``) and a browser-made preview stored
(``store_browser_preview``). Stored content-addressed by oshash on
``STORAGES["previews"]``: copies of a file share one row and one stored file per kind.
"""

import contextlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from ..models import FileEntry
from .bundle import INDEX_NAME, iter_bundles
from .kinds import (
    BROWSER_KINDS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_SIDE,
    MAX_STRIP_FRAMES,
    TEXT_CONTENT_TYPE,
    Kind,
    Source,
)
from .models import Preview
from .validate import InvalidPreview, check_image

OSHASH_RE = re.compile(r"^[0-9a-f]{16}$")


def storage_name(oshash: str, kind: str, extension: str, *, source: str = Source.SCAN) -> str:
    """``ab/abcdef0123456789/thumb.webp``: two hex digits first, so no folder holds more
    than a 256th of the archive. Browser-made files have names of their own
    (``thumb.browser.jpg``), so neither source ever overwrites the other's file."""
    marker = "" if source == Source.SCAN else f".{source}"
    return f"{oshash[:2]}/{oshash}/{kind}{marker}.{extension}"


class PreviewRefused(ValueError):
    """A browser preview that cannot be stored: ``field`` names the culprit."""

    def __init__(self, message: str, *, field: str, status: int = 400):
        super().__init__(message)
        self.field, self.status = field, status


@dataclass(frozen=True)
class BrowserOutcome:
    stored: bool
    preview: Preview
    message: str


def store_browser_preview(
    *, oshash: str, kind: str, data: bytes, frame_times: list[float] | None = None
) -> BrowserOutcome:
    """Store a preview a curator's browser made from a mounted drive.

    Only image kinds (``BROWSER_KINDS``), only for a catalogued oshash, only an image
    that decodes within the kind's caps. Never replaces a preview already stored: a
    scan-made one is better (made from the whole file by ffmpeg/Pillow) and a browser-made
    one is the same file's; sending the same preview twice stores it once.
    """
    if not OSHASH_RE.match(oshash or ""):
        raise PreviewRefused("not an oshash (16 hex digits)", field="oshash", status=404)
    limits = BROWSER_KINDS.get(kind)
    if limits is None:
        allowed = ", ".join(BROWSER_KINDS)
        raise PreviewRefused(f"browsers may send only {allowed}", field="kind", status=404)
    existing = Preview.objects.filter(oshash=oshash, kind=kind).first()
    if existing is not None:
        return BrowserOutcome(False, existing, f"a {existing.source}-made {kind} is stored")
    # Under 8 bytes a file's oshash is its size: a preview would stand for every such file.
    if not FileEntry.objects.filter(oshash=oshash, size__gte=8).exists():
        raise PreviewRefused(f"no catalogued file has oshash {oshash}", field="oshash", status=404)
    times = _checked_frame_times(kind, frame_times)
    try:
        checked = check_image(data, **limits)
    except InvalidPreview as error:
        raise PreviewRefused(str(error), field="image") from error
    preview = Preview(
        oshash=oshash,
        kind=kind,
        width=checked.width,
        height=checked.height,
        bytes=len(data),
        content_type=checked.content_type,
        frame_times=times,
        source=Source.BROWSER,
    )
    name = storage_name(oshash, kind, checked.extension, source=Source.BROWSER)
    try:
        with transaction.atomic():
            preview.file.save(name, ContentFile(data), save=False)
            preview.save()
    except IntegrityError:  # another tab sent the same preview a moment earlier
        existing = Preview.objects.get(oshash=oshash, kind=kind)
        return BrowserOutcome(False, existing, f"a {existing.source}-made {kind} is stored")
    return BrowserOutcome(True, preview, f"{kind} stored")


def _checked_frame_times(kind: str, frame_times: list[float] | None) -> list[float]:
    if kind != Kind.STRIP:
        return []
    if not frame_times:
        raise PreviewRefused("a strip needs the time of each frame", field="times")
    if len(frame_times) > MAX_STRIP_FRAMES:
        raise PreviewRefused(f"at most {MAX_STRIP_FRAMES} frames", field="times")
    if any(not (0 <= time < 10**7) for time in frame_times):
        raise PreviewRefused("frame times are seconds from the start", field="times")
    return [round(float(time), 3) for time in frame_times]


# --- taking in a folder of scan-made previews ---------------------------------------------

#: Bundles read, checked and stored per transaction.
IMPORT_CHUNK = 500
_FILE_NAME = re.compile(r"^[a-z]+\.(webp|png|jpg|txt)$")


@dataclass
class FolderImport:
    """What ``import_preview_folder`` did; ``warnings`` name each file it could not take."""

    folder: str
    bundles: int = 0
    stored: Counter = field(default_factory=Counter)
    placeholders: int = 0
    unchanged: int = 0
    replaced: int = 0
    not_catalogued: int = 0
    bytes: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def stored_total(self) -> int:
        return sum(self.stored.values())


def import_preview_folder(
    folder: str | os.PathLike[str],
    *,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
) -> FolderImport:
    """Take the previews ``scan_folder``/``make_previews`` wrote into the catalogue.

    Only oshashes some catalogued file has are taken. A preview already stored from a scan
    is left as it is unless ``replace`` (so importing twice changes nothing); a browser-made
    one gives way to the scan's. A preview that is missing, unreadable or does not decode
    is skipped with a warning naming its file: it never stops the rest.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder} is not a folder of previews")
    report = FolderImport(folder)
    batch: list[tuple[str, str]] = []
    with ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="previews") as pool:
        for bundle in iter_bundles(folder):
            batch.append(bundle)
            if len(batch) >= IMPORT_CHUNK:
                _import_chunk(batch, report, replace=replace, pool=pool)
                batch = []
                if progress:
                    progress(report.bundles)
        if batch:
            _import_chunk(batch, report, replace=replace, pool=pool)
    if progress:
        progress(report.bundles)
    return report


def _import_chunk(
    batch: list[tuple[str, str]], report: FolderImport, *, replace: bool, pool: ThreadPoolExecutor
) -> None:
    report.bundles += len(batch)
    oshashes = [oshash for oshash, _ in batch]
    catalogued = set(
        FileEntry.objects.filter(oshash__in=oshashes).values_list("oshash", flat=True).distinct()
    )
    existing: dict[tuple[str, str], tuple[int, str, str]] = {
        (oshash, kind): (pk, source, name)
        for pk, oshash, kind, source, name in Preview.objects.filter(
            oshash__in=oshashes
        ).values_list("pk", "oshash", "kind", "source", "file")
    }
    # What to check and store: the index of every catalogued bundle, read here.
    jobs: list[tuple[str, str, str, dict, tuple | None]] = []
    bundles: list[tuple[str, dict, bool]] = []  # oshash, kinds, a scan's preview is kept
    for oshash, bundle in batch:
        if oshash not in catalogued:
            report.not_catalogued += 1
            continue
        kinds = _read_index(bundle, oshash, report)
        if kinds is None:
            continue
        kept = False
        for kind, record in kinds.items():
            if kind == Kind.PLACEHOLDER:
                continue
            old = existing.get((oshash, kind))
            if old is not None and old[1] == Source.SCAN and not replace:
                report.unchanged += 1
                kept = True
            else:
                jobs.append((oshash, bundle, kind, record, old))
        bundles.append((oshash, kinds, kept))
    # Decoding every image to check it is the slow part: on every core (Pillow lets go of
    # the interpreter lock while it decodes).
    checked = list(pool.map(lambda job: _checked_row(job[1], job[0], job[2], job[3]), jobs))
    new_rows: list[Preview] = []
    drop: list[int] = []
    drop_files: list[str] = []
    stored: set[str] = set()
    for (oshash, _bundle, kind, _record, old), (row, warning) in zip(jobs, checked, strict=True):
        if row is None:
            report.warnings.append(warning)
            continue
        stored.add(oshash)
        new_rows.append(row)
        report.stored[kind] += 1
        report.bytes += row.bytes
        if old is not None:
            report.replaced += 1
            drop.append(old[0])
            if old[2] and old[2] != row.file.name:
                drop_files.append(old[2])
    for oshash, kinds, kept in bundles:
        placeholder = existing.get((oshash, Kind.PLACEHOLDER))
        has_real = kept or oshash in stored
        has_real = has_real or any((oshash, kind) in existing for kind in _IMAGE_KINDS)
        if has_real:
            if placeholder is not None:
                drop.append(placeholder[0])  # a preview now exists: no reason to show
        elif Kind.PLACEHOLDER in kinds:
            if placeholder is not None:
                report.unchanged += 1
            else:
                reason = str(kinds[Kind.PLACEHOLDER].get("reason") or "no preview")[:300]
                new_rows.append(Preview(oshash=oshash, kind=Kind.PLACEHOLDER, reason=reason))
                report.placeholders += 1
    with transaction.atomic():
        if drop:
            Preview.objects.filter(pk__in=drop).delete()
        # A browser upload racing this import loses nothing: its row is kept (no conflict
        # error), and the next import replaces it.
        Preview.objects.bulk_create(new_rows, ignore_conflicts=True)
        if drop_files:
            storage = Preview._meta.get_field("file").storage
            transaction.on_commit(lambda: _delete_files(storage, drop_files))


_IMAGE_KINDS = [kind for kind in Kind.values if kind != Kind.PLACEHOLDER]


def _read_index(bundle: str, oshash: str, report: FolderImport) -> dict | None:
    index_path = os.path.join(bundle, INDEX_NAME)
    try:
        with open(index_path, "rb") as source:
            index = json.load(source)
        kinds = index["kinds"]
        if index.get("oshash") != oshash or not isinstance(kinds, dict):
            raise ValueError("it is not this oshash's index")
        if any(kind not in Kind.values or not isinstance(v, dict) for kind, v in kinds.items()):
            raise ValueError("it names a kind of preview this site does not know")
    except (OSError, ValueError, KeyError, TypeError) as error:
        report.warnings.append(f"{index_path}: unreadable index ({_reason(error)}); skipped")
        return None
    return kinds


def _checked_row(bundle: str, oshash: str, kind: str, record: dict):
    """``(row, None)`` with the preview's file saved to storage, or ``(None, warning)``."""
    name = record.get("file")
    if not isinstance(name, str) or not _FILE_NAME.match(name):
        return None, f"{bundle}/{INDEX_NAME}: {kind} names no file; skipped"
    path = os.path.join(bundle, name)
    try:
        # Never through a symlink: a previews folder must not smuggle other files in.
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as source:
            if os.fstat(source.fileno()).st_size > MAX_IMPORT_BYTES:
                raise InvalidPreview(f"larger than {MAX_IMPORT_BYTES:,} bytes")
            data = source.read(MAX_IMPORT_BYTES + 1)
        if kind == Kind.TEXT:
            data.decode("utf-8")
            content_type, extension, width, height = TEXT_CONTENT_TYPE, "txt", None, None
        else:
            checked = check_image(data, max_bytes=MAX_IMPORT_BYTES, max_side=MAX_IMPORT_SIDE)
            content_type, extension = checked.content_type, checked.extension
            width, height = checked.width, checked.height
        times = _frame_times(record) if kind == Kind.STRIP else []
    except (OSError, UnicodeDecodeError, InvalidPreview, ValueError) as error:
        return None, f"{path}: {_reason(error)}; skipped"
    row = Preview(
        oshash=oshash,
        kind=kind,
        width=width,
        height=height,
        bytes=len(data),
        content_type=content_type,
        frame_times=times,
        source=Source.SCAN,
    )
    row.file.save(storage_name(oshash, kind, extension), ContentFile(data), save=False)
    return row, None


def _frame_times(record: dict) -> list[float]:
    times = record.get("frame_times")
    if not isinstance(times, list) or not 0 < len(times) <= MAX_STRIP_FRAMES:
        raise ValueError("a strip without its frame times")
    return [round(float(time), 3) for time in times]


def _delete_files(storage, names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(OSError):
            storage.delete(name)


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
