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
        "and must lie outside DIR."
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

    def handle(self, *args, **options) -> None:
        root = options["directory"]
        out = os.path.abspath(options["output"])
        _check_arguments(root, out)
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
