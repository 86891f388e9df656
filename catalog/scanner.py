"""Walk a folder (a mounted drive) into manifest entries, the JSON that ``import_json`` reads.

One entry per regular file, in the shape of docs/manifest.md: where it is, its oshash
and size, and for images the EXIF date, camera and resolution. Symlinks are never
followed, FIFOs/sockets/devices are never opened, and OS junk (``.DS_Store``,
AppleDouble ``._*`` files, ``$RECYCLE.BIN``, …) is skipped unless asked for.

Usable without Django: ``scan_directory`` returns the entries in memory,
``scan_to_manifest`` streams them into a file for drives too large to hold in memory.
"""

import contextlib
import errno
import functools
import heapq
import json
import mimetypes
import os
import re
import secrets
import stat
import wave
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

from PIL import Image

from .oshash import oshash_of_open_file
from .previews.bundle import MakerStats, PreviewWriter

#: Threads hashing files while the walk continues. Measured on 3,000 uncached files
#: (virtio disk): 1 thread ~2,300 files/s, 4 threads ~3,200 files/s; with the files
#: already in the page cache threads cost instead (22k vs 12k files/s), but a drive
#: is scanned cold, once. More threads than 4 gained nothing and would thrash a disk head.
DEFAULT_WORKERS = 4

#: Compared case-insensitively: Windows and macOS create them in any case.
JUNK_FILE_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "icon\r"})
JUNK_DIR_NAMES = frozenset(
    {
        ".spotlight-v100",
        ".trashes",
        ".fseventsd",
        ".documentrevisions-v100",
        ".temporaryitems",
        "$recycle.bin",
        "system volume information",
    }
)
#: AppleDouble resource forks that macOS writes next to files on non-HFS drives.
APPLEDOUBLE_PREFIX = "._"

#: Media types missing from Python's built-in table that an archive of camera and
#: office files needs. The table is private so the manifest does not depend on the
#: host's /etc/mime.types (which, for one, calls AVCHD ``.mts`` a 3D model).
EXTRA_MIME_TYPES = {
    ".mkv": "video/x-matroska",
    ".mts": "video/mp2t",
    ".m2ts": "video/mp2t",
    ".vob": "video/mpeg",
    ".mod": "video/mpeg",
    ".tod": "video/mpeg",
    ".wmv": "video/x-ms-wmv",
    ".flv": "video/x-flv",
    ".m4v": "video/x-m4v",
    ".dv": "video/x-dv",
    ".ogv": "video/ogg",
    # Python says audio/3gpp; phones write video into .3gp.
    ".3gp": "video/3gpp",
    ".3g2": "video/3gpp2",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".wma": "audio/x-ms-wma",
    ".amr": "audio/amr",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".epub": "application/epub+zip",
    ".psd": "image/vnd.adobe.photoshop",
}
WAV_TYPES = frozenset({"audio/x-wav", "audio/wav", "audio/vnd.wave"})

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EXIF_IFD = 0x8769
_TAG_MAKE, _TAG_MODEL, _TAG_DATETIME = 0x010F, 0x0110, 0x0132
_TAG_DATETIME_ORIGINAL, _TAG_OFFSET_TIME, _TAG_OFFSET_TIME_ORIGINAL = 0x9003, 0x9010, 0x9011

# Never follow a symlink that replaced a file since the listing; never block on a FIFO.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)


def _build_mime_table() -> mimetypes.MimeTypes:
    table = mimetypes.MimeTypes()  # built-in defaults only, no system files
    for extension, mime_type in EXTRA_MIME_TYPES.items():
        table.add_type(mime_type, extension)
    return table


_MIME = _build_mime_table()

Entry = dict[str, Any]
#: What became of a listed file once opened.
Outcome = Literal["listed", "special", "vanished"]
Progress = Callable[["ScanResult"], None]


@dataclass
class ScanResult:
    """What a scan found. Counts are live while the entries are being produced."""

    root: str
    entries: list[Entry] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    skipped_junk: int = 0
    skipped_symlinks: int = 0
    skipped_special: int = 0
    #: (relative path, reason) for every skipped symlink and special file.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: (relative path, message): unreadable files (listed with ``oshash: null``),
    #: unreadable folders and names that are not UTF-8 (not listed).
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: The root's device when the scan started, to notice the drive going away.
    root_device: int | None = field(default=None, repr=False)
    #: What the preview maker made, when previews were asked for.
    previews: MakerStats | None = None


@dataclass(frozen=True, slots=True)
class _FileJob:
    folder: str
    name: str
    path: str


def scan_directory(
    root: str | os.PathLike[str],
    *,
    skip_junk: bool = True,
    progress: Progress | None = None,
    workers: int = DEFAULT_WORKERS,
) -> ScanResult:
    """Scan ``root`` and return every entry in memory, sorted by path then filename."""
    result = ScanResult(root=_checked_root(root))
    result.entries = list(
        iter_entries(result, skip_junk=skip_junk, progress=progress, workers=workers)
    )
    return result


def scan_to_manifest(
    root: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    skip_junk: bool = True,
    progress: Progress | None = None,
    workers: int = DEFAULT_WORKERS,
    previews_dir: str | None = None,
    preview_workers: int | None = None,
    force_previews: bool = False,
) -> ScanResult:
    """Scan ``root`` straight into the manifest ``out_path``; ``entries`` stays empty.

    With ``previews_dir``, each file's previews are made there as the walk goes
    (``catalog.previews.bundle``, on ``preview_workers`` threads), keyed by oshash; the
    manifest is renamed into place once they are all written.
    """
    result = ScanResult(root=_checked_root(root))
    entries = iter_entries(result, skip_junk=skip_junk, progress=progress, workers=workers)
    if previews_dir is None:
        write_manifest(entries, out_path)
        return result
    writer = PreviewWriter(previews_dir, workers=preview_workers, force=force_previews)
    try:
        write_manifest(_making_previews(entries, result, writer), out_path)
    except BaseException:
        writer.abort()
        raise
    return result


def _making_previews(
    entries: Iterator[Entry], result: ScanResult, writer: PreviewWriter
) -> Iterator[Entry]:
    for entry in entries:
        relative = _relative(entry["path"], entry["filename"])
        writer.submit(
            os.path.join(result.root, relative),
            oshash=entry["oshash"],
            mime_type=entry["file_type"],
            size=entry["size_exif"],
            label=relative,
        )
        yield entry
    result.previews = writer.close()


def iter_entries(
    result: ScanResult,
    *,
    skip_junk: bool = True,
    progress: Progress | None = None,
    workers: int = DEFAULT_WORKERS,
) -> Iterator[Entry]:
    """Yield the entries under ``result.root`` in order, counting into ``result``."""
    _register_heif()  # once, before worker threads open images
    jobs = _walk(result, skip_junk=skip_junk)
    for entry, error, outcome in _ordered_map(_describe, jobs, workers):
        relative = _relative(entry["path"], entry["filename"])
        if error:
            _check_root_still_there(result)
            result.errors.append((relative, error))
        if outcome == "special":
            # Replaced by a FIFO or the like between the listing and the open.
            result.skipped_special += 1
            result.skipped.append((relative, "special"))
        if outcome != "listed":
            continue
        result.files += 1
        result.bytes += entry["size_exif"] or 0
        if progress:
            progress(result)
        yield entry


def write_manifest(entries: Iterable[Mapping[str, Any]], out_path: str | os.PathLike[str]) -> int:
    """Write ``entries`` as a JSON array, one entry per line; return how many.

    Atomic: the array is streamed into a temporary file next to ``out_path`` and renamed
    over it only when complete, so a failed or interrupted scan leaves an existing
    manifest untouched and no temporary file behind.
    """
    out_path = os.path.abspath(out_path)
    directory, name = os.path.split(out_path)
    temp_path = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: never write through a file or symlink planted at the temporary name;
    # mode 0o666 lets the umask decide the permissions, as for any new file.
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    count = 0
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write("[")
            for entry in entries:
                out.write(",\n" if count else "\n")
                out.write(json.dumps(entry, ensure_ascii=False))
                count += 1
            out.write("\n]\n" if count else "]\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_path, out_path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise
    return count


def format_size(size: int) -> str:
    """``36256397`` → ``"34.6 MB"`` (binary multiples, as the seed scanner wrote them)."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB", "PB"):
        value /= 1024
        if round(value, 1) < 1024 or unit == "PB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def format_timecode(seconds: float) -> str:
    """``13.96`` → ``"00:00:13.960"``."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def is_junk(name: str, *, is_dir: bool) -> bool:
    lowered = name.lower()
    if is_dir:
        return lowered in JUNK_DIR_NAMES
    return lowered in JUNK_FILE_NAMES or name.startswith(APPLEDOUBLE_PREFIX)


def _checked_root(root: str | os.PathLike[str]) -> str:
    root = os.fspath(root)
    if not os.path.exists(root):
        raise FileNotFoundError(f"{root} does not exist")
    if not os.path.isdir(root):
        raise NotADirectoryError(f"{root} is not a directory")
    return root


def _check_root_still_there(result: ScanResult) -> None:
    """Abort rather than list an unplugged drive as a tree of unreadable files."""
    try:
        device = os.stat(result.root).st_dev
    except OSError as error:
        raise FileNotFoundError(
            errno.ENOENT, f"the folder went away during the scan ({_message(error)})", result.root
        ) from error
    # An unmounted drive leaves its mount point behind, on another device.
    if device != result.root_device:
        raise FileNotFoundError(
            errno.ENOENT, "the drive was unmounted during the scan", result.root
        )


def _relative(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _walk(result: ScanResult, *, skip_junk: bool) -> Iterator[_FileJob]:
    """Yield regular files sorted by (folder, name), counting everything skipped.

    Folders wait in a heap keyed by their relative path: a folder's descendants all
    sort after it, so popping the smallest visits folders in exactly the sorted order
    of their paths, while only the not-yet-visited folders are held in memory.
    """
    result.root_device = os.stat(result.root).st_dev
    pending: list[tuple[str, str]] = [("", result.root)]
    while pending:
        folder, folder_path = heapq.heappop(pending)
        try:
            with os.scandir(folder_path) as listing:
                children = sorted(listing, key=lambda child: child.name)
        except OSError as error:
            if not folder:
                raise  # the root itself: nothing can be scanned
            _check_root_still_there(result)
            result.errors.append((folder, _message(error)))
            continue
        for child in children:
            relative = _relative(folder, child.name)
            if not _is_utf8(child.name):
                # A lone surrogate would make the manifest invalid UTF-8 for the importer.
                result.errors.append((relative, "name is not valid UTF-8; not listed"))
                continue
            try:
                if child.is_symlink():
                    result.skipped_symlinks += 1
                    result.skipped.append((relative, "symlink"))
                elif child.is_dir(follow_symlinks=False):
                    if skip_junk and is_junk(child.name, is_dir=True):
                        result.skipped_junk += 1
                    else:
                        heapq.heappush(pending, (relative, child.path))
                elif skip_junk and is_junk(child.name, is_dir=False):
                    result.skipped_junk += 1
                elif child.is_file(follow_symlinks=False):
                    yield _FileJob(folder, child.name, child.path)
                else:
                    result.skipped_special += 1
                    result.skipped.append((relative, "special"))
            except OSError as error:  # the entry vanished or cannot be stat'ed
                result.errors.append((relative, _message(error)))


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _ordered_map[T, R](function: Callable[[T], R], items: Iterator[T], workers: int) -> Iterator[R]:
    """``map`` on a thread pool, results in input order, at most a few per worker queued."""
    if workers <= 1:
        yield from map(function, items)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan")
    window: deque[Future[R]] = deque()
    try:
        for item in items:
            window.append(pool.submit(function, item))
            if len(window) >= workers * 4:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _describe(job: _FileJob) -> tuple[Entry, str | None, Outcome]:
    """Build one entry; return it with an error message or None, and whether to list it."""
    mime_type = _MIME.guess_file_type(job.name)[0]
    entry: Entry = {
        "path": job.folder,
        "filename": job.name,
        "file_type": mime_type,
        "oshash": None,
        "size_exif": None,
        "size_pretty": None,
        "date_exif": None,
        "duration": None,
        "duration_tc": None,
        "resolution": None,
        "camera": None,
    }
    try:
        fd = os.open(job.path, _OPEN_FLAGS)
    except FileNotFoundError:
        return entry, "deleted during the scan; not listed", "vanished"
    except OSError as open_error:
        # Listed all the same, with the size from the listing, so the catalog knows it.
        with contextlib.suppress(OSError):
            _set_size(entry, os.lstat(job.path).st_size)
        return entry, _message(open_error), "listed"
    with open(fd, "rb") as fileobj:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return entry, None, "special"
        _set_size(entry, info.st_size)
        try:
            entry["oshash"] = oshash_of_open_file(fileobj, info.st_size)
        except OSError as read_error:
            return entry, _message(read_error), "listed"
        if mime_type and mime_type.startswith("image/"):
            entry.update(_image_metadata(fileobj))
        elif mime_type in WAV_TYPES:
            entry.update(_wav_metadata(fileobj))
    return entry, None, "listed"


def _set_size(entry: Entry, size: int) -> None:
    entry["size_exif"] = size
    entry["size_pretty"] = format_size(size)


def _message(error: OSError) -> str:
    return error.strerror or str(error)


def _image_metadata(fileobj: BinaryIO) -> Entry:
    """Resolution, EXIF date and camera; whatever Pillow cannot read is left out."""
    fileobj.seek(0)
    metadata: Entry = {}
    # Pillow raises many kinds of errors on damaged or exotic files; none may stop a scan.
    try:
        image = Image.open(fileobj)
    except Exception:
        return metadata
    with image:
        width, height = image.size
        metadata["resolution"] = f"{width} x {height}"
        # A PNG's eXIf chunk may follow the pixels; finding it means decoding them all.
        if image.format == "PNG" and "exif" not in image.info:
            return metadata
        try:
            exif = image.getexif()
            exif_ifd = exif.get_ifd(_EXIF_IFD)
        except Exception:
            return metadata
    date = _exif_text(exif_ifd.get(_TAG_DATETIME_ORIGINAL))
    offset = _exif_text(exif_ifd.get(_TAG_OFFSET_TIME_ORIGINAL))
    if not date:
        # DateTime (last modified) pairs with OffsetTime, not OffsetTimeOriginal.
        date = _exif_text(exif.get(_TAG_DATETIME))
        offset = _exif_text(exif_ifd.get(_TAG_OFFSET_TIME))
    if date:
        metadata["date_exif"] = date + (offset or "")
    make, model = _exif_text(exif.get(_TAG_MAKE)), _exif_text(exif.get(_TAG_MODEL))
    if make and model:
        metadata["camera"] = f"{model} ({make})"
    elif make or model:
        metadata["camera"] = make or model
    return metadata


def _exif_text(value: Any) -> str | None:
    """EXIF ASCII as text: NUL padding and control characters dropped, blanks are None."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    # The importer rejects control characters; in EXIF they are only ever padding.
    cleaned = _CONTROL_CHARS.sub("", value).strip()
    return cleaned or None


@functools.cache
def _register_heif() -> None:
    """Let Pillow read HEIC/HEIF (phone photos) when pillow-heif is installed."""
    with contextlib.suppress(ImportError):
        from pillow_heif import register_heif_opener

        register_heif_opener()


def _wav_metadata(fileobj: BinaryIO) -> Entry:
    """Duration of PCM WAV files; other encodings (float, ADPCM) are left out."""
    fileobj.seek(0)
    try:
        with wave.open(fileobj) as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
    except (wave.Error, EOFError, OSError, ValueError):
        return {}
    if rate <= 0:
        return {}
    duration = frames / rate
    return {"duration": round(duration, 3), "duration_tc": format_timecode(duration)}
