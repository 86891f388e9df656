"""The folder of previews a scan writes beside its manifest, and the writer that fills it.

Layout, for the manifest ``Expansion.json``::

    Expansion.previews/
      ab/abcdef0123456789/preview.json   the small index: kinds, sizes, frame times, reason
      ab/abcdef0123456789/thumb.webp     one file per kind
      ab/abcdef0123456789/review.webp

Keyed by oshash, so copies of a file are previewed once. ``preview.json`` is written
last and atomically: a folder without it is unfinished and is made again. Needs no
Django settings (the scanner runs where the drives are).
"""

import contextlib
import json
import os
import re
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from .generate import Made, make_previews, timed

INDEX_NAME = "preview.json"
FORMAT_VERSION = 1
PREVIEWS_SUFFIX = ".previews"
_OSHASH = re.compile(r"^[0-9a-f]{16}$")


def previews_dir_for(manifest_path: str | os.PathLike[str]) -> str:
    """``/data/Expansion.json`` -> ``/data/Expansion.previews``."""
    root, _extension = os.path.splitext(os.path.abspath(manifest_path))
    return root + PREVIEWS_SUFFIX


def bundle_dir(previews_dir: str, oshash: str) -> str:
    return os.path.join(previews_dir, oshash[:2], oshash)


def has_bundle(previews_dir: str, oshash: str) -> bool:
    return os.path.exists(os.path.join(bundle_dir(previews_dir, oshash), INDEX_NAME))


def write_bundle(previews_dir: str, oshash: str, made: list[Made], *, mime_type: str | None):
    """Write one oshash's previews and then, atomically, its ``preview.json``."""
    folder = bundle_dir(previews_dir, oshash)
    os.makedirs(folder, exist_ok=True)
    index: dict = {"version": FORMAT_VERSION, "oshash": oshash, "file_type": mime_type}
    kinds: dict[str, dict] = {}
    for preview in made:
        record: dict = {}
        if preview.data:
            name = f"{preview.kind}.{preview.extension}"
            _write_atomically(os.path.join(folder, name), preview.data)
            record = {"file": name, "content_type": preview.content_type}
            record["bytes"] = len(preview.data)
            if preview.width:
                record.update(width=preview.width, height=preview.height)
            if preview.frame_times:
                record["frame_times"] = preview.frame_times
        if preview.reason:
            record["reason"] = preview.reason
        kinds[str(preview.kind)] = record
    index["kinds"] = kinds
    _write_atomically(
        os.path.join(folder, INDEX_NAME),
        json.dumps(index, ensure_ascii=False, indent=1).encode("utf-8"),
    )


def _write_atomically(path: str, data: bytes) -> None:
    temp = f"{path}.{secrets.token_hex(4)}.tmp"
    try:
        with open(temp, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def iter_bundles(previews_dir: str) -> Iterator[tuple[str, str]]:
    """``(oshash, folder)`` of every finished bundle, in oshash order, read lazily."""
    for prefix in _sorted_names(previews_dir):
        if len(prefix) != 2:
            continue
        prefix_dir = os.path.join(previews_dir, prefix)
        for oshash in _sorted_names(prefix_dir):
            folder = os.path.join(prefix_dir, oshash)
            finished = os.path.exists(os.path.join(folder, INDEX_NAME))
            if _OSHASH.match(oshash) and oshash.startswith(prefix) and finished:
                yield oshash, folder


def _sorted_names(folder: str) -> list[str]:
    try:
        with os.scandir(folder) as listing:
            return sorted(entry.name for entry in listing if entry.is_dir(follow_symlinks=False))
    except NotADirectoryError:
        return []


@dataclass
class MakerStats:
    """What a run made: files previewed per family, seconds spent, placeholders."""

    files: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    bytes: Counter = field(default_factory=Counter)
    placeholders: int = 0
    already_there: int = 0
    #: (relative path, problem): files that are gone or changed since the manifest.
    not_matching: list[tuple[str, str]] = field(default_factory=list)
    #: (relative path, reason) of the first placeholders, for the summary.
    placeholder_examples: list[tuple[str, str]] = field(default_factory=list)


class PreviewWriter:
    """Makes previews on a pool of threads while the caller goes on (the scan's walk).

    Pillow, ffmpeg and pdftoppm do their work outside Python's lock, so threads use every
    core. ``submit`` blocks when ``workers * 4`` files wait, keeping memory flat.
    A file whose oshash already has a finished bundle (a copy, or a scan resumed) is skipped
    unless ``force``.
    """

    def __init__(
        self,
        previews_dir: str,
        *,
        workers: int | None = None,
        force: bool = False,
        verify_oshash: bool = False,
    ):
        self.previews_dir = previews_dir
        self.force = force
        #: Hash the file again first (make_previews: the drive may have changed since its
        #: scan) and make nothing for a file whose oshash is no longer the manifest's.
        self.verify_oshash = verify_oshash
        self.workers = workers or max(1, os.cpu_count() or 1)
        self.stats = MakerStats()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="previews")
        self._slots = threading.BoundedSemaphore(self.workers * 4)
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()
        #: With ``force``: oshashes made again in this run (a later copy is not made thrice).
        self._done_this_run: set[str] = set()
        self._errors: list[BaseException] = []
        os.makedirs(previews_dir, exist_ok=True)

    def submit(self, path: str, *, oshash: str | None, mime_type: str | None, size: int | None,
               label: str = "") -> bool:  # fmt: skip
        """Queue the file at ``path``; False when it needs no previews (or has no oshash)."""
        if self._errors:
            raise self._errors[0]
        if not oshash or not _OSHASH.match(oshash):
            return False
        with self._lock:
            if oshash in self._in_flight or (self.force and oshash in self._done_this_run):
                self.stats.already_there += 1  # a copy of a file being previewed
                return False
            if not self.force and has_bundle(self.previews_dir, oshash):
                self.stats.already_there += 1
                return False
            self._in_flight.add(oshash)
        self._slots.acquire()
        future = self._pool.submit(self._make, path, oshash, mime_type, size, label or path)
        future.add_done_callback(self._finished)
        return True

    def _make(self, path, oshash, mime_type, size, label) -> None:
        try:
            if self.verify_oshash and (problem := _changed(path, oshash)):
                with self._lock:
                    self.stats.not_matching.append((label, problem))
                return
            made, seconds = timed(lambda: make_previews(path, mime_type, size))
            write_bundle(self.previews_dir, oshash, made, mime_type=mime_type)
        finally:
            with self._lock:
                self._in_flight.discard(oshash)
                if self.force:
                    self._done_this_run.add(oshash)
        family = _family_of(made, mime_type)
        with self._lock:
            stats = self.stats
            stats.files[family] += 1
            stats.seconds[family] += seconds
            for preview in made:
                stats.kinds[str(preview.kind)] += 1
                stats.bytes[str(preview.kind)] += len(preview.data)
                if preview.reason:
                    stats.placeholders += 1
                    if len(stats.placeholder_examples) < 50:
                        stats.placeholder_examples.append((label, preview.reason))

    def _finished(self, future: Future) -> None:
        self._slots.release()
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:  # writing the bundle failed: the disk, not the file
            self._errors.append(error)

    def close(self) -> MakerStats:
        """Wait for every queued file; raise the first write error, if any."""
        self._pool.shutdown(wait=True)
        if self._errors:
            raise self._errors[0]
        return self.stats

    def abort(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _family_of(made: list[Made], mime_type: str | None) -> str:
    from .generate import preview_family

    if len(made) == 1 and made[0].reason:
        return "placeholder"
    return preview_family(mime_type) or "other"


def _changed(path: str, oshash: str) -> str | None:
    """Why the file at ``path`` is no longer the one with ``oshash``, or None."""
    from ..oshash import oshash_of_open_file

    try:
        with open(path, "rb") as source:
            current = oshash_of_open_file(source, os.fstat(source.fileno()).st_size)
    except OSError as error:
        return error.strerror or str(error)
    if current != oshash:
        return f"changed since the scan (oshash {current}, the manifest says {oshash})"
    return None
