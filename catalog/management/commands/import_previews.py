"""``import_previews FOLDER``: take a folder of offline previews into the catalogue."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.management.progress import ProgressReporter
from catalog.previews.bundle import PREVIEWS_SUFFIX, previews_dir_for
from catalog.previews.services import FolderImport, import_preview_folder

#: Warnings listed in full; the rest are counted.
SHOW_WARNINGS = 50


class Command(BaseCommand):
    help = (
        "Take the offline previews that scan_folder or make_previews wrote (FOLDER, e.g. "
        "data/Expansion.previews, or the manifest data/Expansion.json beside it) into the "
        "catalogue's previews storage. Only oshashes of catalogued files are taken; "
        "previews already stored from a scan are kept unless --replace, so running it "
        "twice changes nothing. A missing or broken preview is reported and skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, metavar="FOLDER", help="Previews folder.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace stored scan-made previews with these (after make_previews --force).",
        )

    def handle(self, *args, folder: Path, replace: bool, **options):
        if folder.suffix == ".json" and not folder.name.endswith(PREVIEWS_SUFFIX):
            folder = Path(previews_dir_for(folder))
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder of previews")
        progress = ProgressReporter(self.stderr, f"Importing {folder.name}", unit="files")
        report = import_preview_folder(folder, replace=replace, progress=progress)
        elapsed = progress.done()
        write_import_summary(self, report, elapsed)


def write_import_summary(command: BaseCommand, report: FolderImport, elapsed: float) -> None:
    for warning in report.warnings[:SHOW_WARNINGS]:
        command.stdout.write(command.style.WARNING(f"warning: {warning}"))
    if len(report.warnings) > SHOW_WARNINGS:
        command.stdout.write(f"... and {len(report.warnings) - SHOW_WARNINGS:,} more warnings")
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in sorted(report.stored.items()))
    command.stdout.write(
        command.style.SUCCESS(
            f"Previews from {report.folder}: {report.bundles:,} files; stored "
            f"{kinds or 'nothing new'} ({report.bytes / 1024:,.0f} KB), "
            f"{report.placeholders:,} placeholders, {report.replaced:,} replaced, "
            f"{report.unchanged:,} already stored, {report.not_catalogued:,} not catalogued, "
            f"{len(report.warnings):,} warnings; {elapsed:.1f}s"
        )
    )
