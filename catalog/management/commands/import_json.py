"""Import a drive manifest (the JSON a scan of one drive produced) into the catalog."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.management.progress import ProgressReporter
from catalog.manifest import drive_name_from_manifest
from catalog.previews.bundle import previews_dir_for
from catalog.previews.services import import_preview_folder
from catalog.services.imports import ImportRefused, ManifestInvalid, import_manifest

from .import_previews import write_import_summary

SHOW_PROBLEMS = 50


class Command(BaseCommand):
    help = (
        "Import a drive manifest into the catalog. The drive name comes from the file "
        "name (Expansion.json -> Expansion, PHS_copyALL_2026-01-24.json -> PHS_copyALL) "
        "unless --drive is given. Files are matched by (drive, path, filename): new ones "
        "are added; existing ones are left as they are, or with --update get their "
        "scanner fields (oshash, size, type, EXIF date, camera, ...) refreshed. Curator "
        "fields are never touched. Every entry is validated first; if any is bad nothing "
        "is imported (see --skip-invalid). Running the same import twice changes nothing. "
        "Offline previews beside the manifest (Expansion.previews for Expansion.json, as "
        "scan_folder writes them) are taken in afterwards unless --no-previews; a missing "
        "or broken preview is a warning, never a reason to refuse the import."
    )

    def add_arguments(self, parser):
        parser.add_argument("manifest", type=Path, help="Path to the manifest JSON file.")
        parser.add_argument("--drive", help="Drive name to import into (overrides the rule).")
        parser.add_argument(
            "--update",
            action="store_true",
            help="Refresh scanner fields of files already in the catalog (default: skip them).",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid entries and report the invalid ones instead of refusing.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )
        parser.add_argument(
            "--verbose", action="store_true", help="Print progress every 100 entries."
        )
        parser.add_argument(
            "--no-previews",
            action="store_true",
            help="Leave the previews folder beside the manifest alone (import_previews "
            "takes it in later).",
        )

    def handle(self, *args, manifest: Path, drive, update, skip_invalid, dry_run, verbose, **kw):
        self._import_catalogue(manifest, drive, update, skip_invalid, dry_run, verbose)
        previews = Path(previews_dir_for(manifest))
        if not dry_run and not kw["no_previews"] and previews.is_dir():
            self._import_previews(previews)

    def _import_previews(self, folder: Path) -> None:
        """After the catalogue's own transaction: nothing here can undo the import."""
        progress = ProgressReporter(self.stderr, f"Previews {folder.name}", unit="files")
        try:
            report = import_preview_folder(folder, progress=progress)
        except OSError as error:
            reason = error.strerror or str(error)
            self.stdout.write(self.style.WARNING(f"warning: previews in {folder}: {reason}"))
            return
        write_import_summary(self, report, progress.done())

    def _import_catalogue(self, manifest, drive, update, skip_invalid, dry_run, verbose):
        drive_name = drive if drive is not None else drive_name_from_manifest(manifest.name)
        progress = ProgressReporter(
            self.stderr, f"Importing {manifest.name}", every=0.0 if verbose else 2.0
        )
        reporter = _every_hundred(progress) if verbose else progress
        try:
            result = import_manifest(
                manifest,
                drive_name=drive_name,
                update=update,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                progress=reporter,
            )
        except ImportRefused as error:
            raise CommandError(f"{manifest}: {error}. Nothing was imported.") from error
        except ManifestInvalid as error:
            self._print_problems(error.problems)
            raise CommandError(
                f"{manifest}: {error.invalid_entries} invalid "
                f"entr{'y' if error.invalid_entries == 1 else 'ies'}; nothing was imported. "
                "Fix the manifest, or use --skip-invalid to import the valid entries."
            ) from error
        elapsed = progress.done()

        if result.skipped:
            self._print_problems(result.problems)
        for repeat in result.repeated[:SHOW_PROBLEMS]:
            self.stdout.write(self.style.WARNING(f"repeated: {repeat}"))
        if len(result.repeated) > SHOW_PROBLEMS:
            self.stdout.write(f"... and {len(result.repeated) - SHOW_PROBLEMS} more repeats")
        rate = result.entries / elapsed if elapsed > 0 else 0
        prefix = "Dry run (nothing written): " if dry_run else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}drive {result.drive.name}"
                f"{' (new)' if result.drive_created else ''}: {result.entries:,} entries, "
                f"{result.created:,} created, {result.updated:,} updated, "
                f"{result.unchanged:,} unchanged, {result.skipped:,} skipped; "
                f"{result.folders:,} folders; {elapsed:.1f}s ({rate:,.0f} entries/s)"
            )
        )
        if result.not_in_manifest:
            self.stdout.write(
                f"{result.not_in_manifest:,} files of {result.drive.name} in the catalog are "
                "not in this manifest; they were left as they are."
            )
        if not dry_run and (result.created or result.updated):
            self.stdout.write("Run `manage.py update_duplicates` to refresh duplicate groups.")

    def _print_problems(self, problems):
        for problem in problems.items[:SHOW_PROBLEMS]:
            self.stderr.write(f"  {problem}")
        if problems.count > SHOW_PROBLEMS:
            self.stderr.write(f"  ... and {problems.count - SHOW_PROBLEMS:,} more problems")


def _every_hundred(progress: ProgressReporter):
    def report(count: int) -> None:
        if count // 100 != progress.count // 100:
            progress(count)
        progress.count = count

    return report
