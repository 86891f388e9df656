"""``scan_folder DIR OUT.json``: walk a folder (a mounted drive) into a manifest.

The manifest is the JSON array ``import_json`` reads: one entry per regular file with
its folder, name, media type, oshash, size, and for images the EXIF date, camera and
resolution. The work is done by ``catalog.scanner``; this command checks the arguments,
shows progress on stderr and prints a summary. The database is not touched.

    python manage.py scan_folder /Volumes/Expansion data/Expansion.json --verbose
"""

import os
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.previews.bundle import previews_dir_for
from catalog.scanner import ScanResult, format_size, scan_to_manifest

#: Problems and skipped paths listed in the summary; the rest are only counted.
LIST_LIMIT = 20
#: Seconds between progress lines without ``--verbose``.
PROGRESS_EVERY = 5.0
#: Files between progress lines with ``--verbose``.
VERBOSE_EVERY = 100


class Command(BaseCommand):
    help = (
        "Walk DIR and write a manifest of its files (path, name, type, oshash, size, "
        "EXIF date, camera, resolution) to OUT as JSON for import_json. Symlinks are not "
        "followed, FIFOs and devices are not opened, OS junk (.DS_Store, ._* files, "
        "$RECYCLE.BIN, ...) is skipped unless --include-junk. OUT is replaced atomically "
        "and must lie outside DIR. Offline previews (thumbnails, video frames, waveforms, "
        "first pages and lines) are made beside OUT in OUT's name with .previews, keyed by "
        "oshash, unless --no-previews; import_json takes them in."
    )
    # Reads files and writes one; no models, so no need to check the project first.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", metavar="DIR", help="Folder to scan, e.g. a drive.")
        parser.add_argument("output", metavar="OUT", help="Manifest file to write (.json).")
        parser.add_argument(
            "--verbose",
            action="store_true",
            help=f"Report progress every {VERBOSE_EVERY} files and list skipped symlinks.",
        )
        parser.add_argument(
            "--include-junk",
            action="store_true",
            help="Also list OS junk files such as .DS_Store, ._* and Thumbs.db.",
        )
        parser.add_argument(
            "--no-previews",
            action="store_true",
            help="Only the manifest: make no previews (make_previews can make them later).",
        )
        parser.add_argument(
            "--previews-dir",
            metavar="FOLDER",
            help="Where to write previews (default: beside OUT, e.g. Expansion.previews).",
        )
        parser.add_argument(
            "--preview-workers",
            type=int,
            metavar="N",
            help="Threads making previews (default: one per CPU core).",
        )
        parser.add_argument(
            "--force-previews",
            action="store_true",
            help="Make previews again even where the previews folder already has them.",
        )

    def handle(self, *args, **options) -> None:
        root = options["directory"]
        out = os.path.abspath(options["output"])
        _check_arguments(root, out)
        previews_dir = None
        if not options["no_previews"]:
            previews_dir = os.path.abspath(options["previews_dir"] or previews_dir_for(out))
            check_previews_dir(root, previews_dir)
        verbose = options["verbose"]
        quiet = options["verbosity"] == 0

        started = time.monotonic()
        progress = _Progress(self, started, every_files=VERBOSE_EVERY if verbose else None)
        try:
            result = scan_to_manifest(
                root,
                out,
                skip_junk=not options["include_junk"],
                progress=None if quiet else progress,
                previews_dir=previews_dir,
                preview_workers=options["preview_workers"],
                force_previews=options["force_previews"],
            )
        except OSError as error:
            reason = error.strerror or str(error)
            if error.filename == root:
                raise CommandError(f"{root}: {reason}; {out} was not written") from error
            raise CommandError(
                f"cannot write {out}: {reason} (nothing there was replaced)"
            ) from error
        if not quiet:
            self._summary(result, time.monotonic() - started, verbose=verbose)
            if result.previews is not None:
                self._previews_summary(result, previews_dir, verbose=verbose)
        # Listed even with -v 0: unreadable files and folders need someone's attention.
        self._list("Problems", [f"{path or '.'}: {message}" for path, message in result.errors])
        if not quiet:
            self.stdout.write(self.style.SUCCESS(f"Wrote {result.files:,} entries to {out}."))

    def _summary(self, result: ScanResult, elapsed: float, *, verbose: bool) -> None:
        rate = result.files / elapsed if elapsed > 0 else 0
        self.stdout.write(
            f"Scanned {result.root} in {elapsed:.1f}s: {result.files:,} files, "
            f"{format_size(result.bytes)} ({rate:,.0f} files/s)."
        )
        self.stdout.write(
            f"Skipped: {result.skipped_junk:,} junk, {result.skipped_symlinks:,} symlinks, "
            f"{result.skipped_special:,} special files."
        )
        if verbose:
            self._list("Skipped", [f"{path} ({reason})" for path, reason in result.skipped])

    def _previews_summary(self, result: ScanResult, previews_dir: str, *, verbose: bool):
        write_previews_summary(self, result.previews, previews_dir, verbose=verbose)

    def _list(self, title: str, lines: list[str]) -> None:
        if not lines:
            return
        self.stdout.write(self.style.WARNING(f"{title} ({len(lines):,}):"))
        for line in lines[:LIST_LIMIT]:
            self.stdout.write(f"  {line}")
        if len(lines) > LIST_LIMIT:
            self.stdout.write(f"  ... and {len(lines) - LIST_LIMIT:,} more")


def _check_arguments(root: str, out: str) -> None:
    """Fail before a long scan, not after it, on arguments that cannot work."""
    if not os.path.exists(root):
        raise CommandError(f"DIR {root} does not exist")
    if not os.path.isdir(root):
        raise CommandError(f"DIR {root} is not a directory")
    if os.path.isdir(out):
        raise CommandError(f"OUT {out} is a directory; give a file name such as drive.json")
    out_dir = os.path.dirname(out)
    if not os.path.isdir(out_dir):
        raise CommandError(f"cannot write {out}: folder {out_dir} does not exist")
    real_root, real_out_dir = os.path.realpath(root), os.path.realpath(out_dir)
    if os.path.commonpath([real_root, real_out_dir]) == real_root:
        raise CommandError(f"OUT {out} is inside DIR; the manifest would list itself")


def check_previews_dir(root: str, previews_dir: str) -> None:
    """Refuse a previews folder the scan would walk into, or one with no parent."""
    real_root, real_previews = os.path.realpath(root), os.path.realpath(previews_dir)
    if os.path.commonpath([real_root, real_previews]) == real_root:
        raise CommandError(f"the previews folder {previews_dir} is inside DIR; it would be scanned")
    parent = os.path.dirname(previews_dir)
    if not os.path.isdir(parent):
        raise CommandError(f"cannot write previews in {previews_dir}: {parent} does not exist")


def write_previews_summary(command: BaseCommand, stats, previews_dir: str, *, verbose: bool):
    """Files previewed per kind of file, with the time each took on average."""
    made = ", ".join(
        f"{count:,} {family} ({stats.seconds[family] / count:.2f} s each)"
        for family, count in sorted(stats.files.items())
        if family != "placeholder"
    )
    stored = sum(stats.bytes.values())
    command.stdout.write(
        f"Previews in {previews_dir}: {made or 'none made'}; "
        f"{stats.placeholders:,} placeholders; {stats.already_there:,} already there "
        f"(copies or an earlier run); {format_size(stored)} written."
    )
    if verbose and stats.placeholder_examples:
        command.stdout.write(command.style.WARNING("No preview (placeholder and reason):"))
        for path, reason in stats.placeholder_examples[:LIST_LIMIT]:
            command.stdout.write(f"  {path}: {reason}")


class _Progress:
    """Progress lines on stderr: every ``every_files`` files, or every few seconds."""

    def __init__(self, command: BaseCommand, started: float, *, every_files: int | None):
        self.command, self.started, self.every_files = command, started, every_files
        self.last = started

    def __call__(self, result: ScanResult) -> None:
        if self.every_files:
            if result.files % self.every_files:
                return
            now = time.monotonic()
        else:
            now = time.monotonic()
            if now - self.last < PROGRESS_EVERY:
                return
        self.last = now
        rate = result.files / max(now - self.started, 1e-9)
        # Progress is not an error: keep it out of stderr's red error style.
        self.command.stderr.write(
            f"{result.files:,} files, {format_size(result.bytes)} ({rate:,.0f} files/s)",
            style_func=str,
        )
