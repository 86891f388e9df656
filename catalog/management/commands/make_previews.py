"""``make_previews DIR MANIFEST``: offline previews for a drive scanned before, or again."""

import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.management.progress import ProgressReporter
from catalog.manifest import ManifestFormatError, ManifestReader
from catalog.previews.bundle import PreviewWriter, previews_dir_for

from .scan_folder import LIST_LIMIT, check_previews_dir, write_previews_summary


class Command(BaseCommand):
    help = (
        "Make offline previews for the files of DIR (a mounted drive) that MANIFEST, its "
        "scan, lists: thumbnails and review images, video poster frames and frame strips, "
        "audio waveforms, first pages of PDFs, first lines of text; a placeholder with the "
        "reason for the rest. Written beside MANIFEST (Expansion.previews for "
        "Expansion.json) for import_json or import_previews. Each file's oshash is checked "
        "first, so a file changed since the scan is reported, not misfiled. Files that "
        "already have previews there are skipped (copies, an interrupted run) unless --force."
    )
    # Reads files and writes previews; the database is not touched.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR", help="The drive (folder) scanned.")
        parser.add_argument("manifest", type=Path, metavar="MANIFEST", help="Its manifest.")
        parser.add_argument(
            "--previews-dir", metavar="FOLDER", help="Where to write (default: beside MANIFEST)."
        )
        parser.add_argument(
            "--workers", type=int, metavar="N", help="Threads (default: one per CPU core)."
        )
        parser.add_argument(
            "--force", action="store_true", help="Make previews again where they exist."
        )
        parser.add_argument(
            "--verbose", action="store_true", help="List every placeholder's reason."
        )

    def handle(self, *args, directory, manifest: Path, **options):
        if not os.path.isdir(directory):
            raise CommandError(f"DIR {directory} is not a folder")
        if not manifest.is_file():
            raise CommandError(f"MANIFEST {manifest} does not exist; scan DIR with scan_folder")
        previews_dir = os.path.abspath(options["previews_dir"] or previews_dir_for(manifest))
        check_previews_dir(directory, previews_dir)
        writer = PreviewWriter(
            previews_dir, workers=options["workers"], force=options["force"], verify_oshash=True
        )
        started = time.monotonic()
        progress = ProgressReporter(self.stderr, "Making previews", unit="files", every=5.0)
        try:
            with manifest.open("rb") as stream:
                reader = ManifestReader(stream)
                for count, entry in enumerate(reader, start=1):
                    relative = f"{entry.path}/{entry.filename}" if entry.path else entry.filename
                    writer.submit(
                        os.path.join(directory, relative),
                        oshash=entry.oshash,
                        mime_type=entry.mime_type,
                        size=entry.size,
                        label=relative,
                    )
                    progress(count)
            stats = writer.close()
        except ManifestFormatError as error:
            writer.abort()
            raise CommandError(f"{manifest}: {error}") from error
        except BaseException:
            writer.abort()
            raise
        progress.done()
        write_previews_summary(self, stats, previews_dir, verbose=options["verbose"])
        if reader.invalid_entries:
            self.stdout.write(f"{reader.invalid_entries:,} invalid manifest entries left out.")
        if stats.not_matching:
            self.stdout.write(
                self.style.WARNING(f"Not previewed ({len(stats.not_matching):,}): gone or changed")
            )
            for path, problem in stats.not_matching[:LIST_LIMIT]:
                self.stdout.write(f"  {path}: {problem}")
        self.stdout.write(
            self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f}s: {previews_dir}")
        )
