"""Recompute duplicate groups from the oshashes in the catalog."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from catalog.services.duplicates import AUTO_METHODS, DuplicateError, update_duplicates


class Command(BaseCommand):
    help = (
        "Find every oshash held by more than one file and create or refresh its duplicate "
        "group, choosing a primary copy where a group has none. Incremental by default: "
        "primaries chosen by hand are kept. --reset chooses every primary again, by hand or not. "
        "Empty files and files under 8 bytes (whose oshash is just their size) are left out."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Drop every group (and manual choices) first."
        )
        parser.add_argument(
            "--selection-method",
            choices=AUTO_METHODS,
            default=AUTO_METHODS[0],
            help="How to choose the primary copy of a group that has none (default: %(default)s).",
        )

    def handle(self, *args, reset, selection_method, **options):
        started = time.monotonic()
        self.stderr.write("Computing duplicate groups …")
        try:
            result = update_duplicates(reset=reset, method=selection_method)
        except DuplicateError as error:
            raise CommandError(str(error)) from error
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.groups:,} duplicate groups ({result.created:,} new, "
                f"{result.removed:,} removed) holding {result.files:,} files; "
                f"{filesizeformat(result.bytes_reclaimable)} reclaimable; "
                f"{result.primaries_chosen:,} primaries chosen or changed; {elapsed:.1f}s"
            )
        )
        if result.tiny_files_left_out:
            self.stdout.write(
                f"{result.tiny_files_left_out:,} empty or under-8-byte files left out: their "
                "oshash is their size, not their content."
            )
