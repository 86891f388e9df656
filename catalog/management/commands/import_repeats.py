"""Apply a pre-computed repeats file (oshash → copies) to the duplicate groups."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from catalog.manifest import ManifestFormatError
from catalog.services.duplicates import AUTO_METHODS, DuplicateError
from catalog.services.repeats import RepeatsInvalid, import_repeats

SHOW_PROBLEMS = 50


class Command(BaseCommand):
    help = (
        'Apply a repeats file of the shape {"<oshash>": [["<path>", "<filename>"], ...]} '
        "(from the production scanner) to the duplicate groups. Locations are matched on "
        "(path, filename) across all drives and count only when the catalogued file has "
        "the same oshash. Primaries chosen by hand are kept; others are re-chosen with "
        "--selection-method. A malformed file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("repeats", type=Path, help="Path to the repeats JSON file.")
        parser.add_argument(
            "--selection-method",
            choices=AUTO_METHODS,
            default=AUTO_METHODS[0],
            help="How to choose each group's primary copy (default: %(default)s).",
        )

    def handle(self, *args, repeats: Path, selection_method, **options):
        try:
            result = import_repeats(repeats, method=selection_method)
        except (ManifestFormatError, DuplicateError) as error:
            raise CommandError(f"{repeats}: {error}. Nothing was changed.") from error
        except RepeatsInvalid as error:
            for problem in error.problems.items[:SHOW_PROBLEMS]:
                where = f"copy {problem.index} of " if problem.index >= 0 else ""
                self.stderr.write(f"  {where}{problem.field!r}: {problem.message}")
            raise CommandError(
                f"{repeats}: {error.problems.count} problems; nothing was changed."
            ) from error
        dup = result.duplicates
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.hashes:,} hashes, {result.locations:,} locations: "
                f"{result.matched:,} matched, {result.not_in_catalog:,} not in the catalog, "
                f"{result.hash_differs:,} with a different oshash in the catalog (skipped). "
                f"{dup.groups:,} duplicate groups, {filesizeformat(dup.bytes_reclaimable)} "
                "reclaimable."
            )
        )
