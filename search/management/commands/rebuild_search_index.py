"""Rebuild the search index from scratch (after a restore, or to be sure it is whole)."""

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from search.indexing import rebuild_index


class Command(BaseCommand):
    help = (
        "Empty the search index and index every catalogued file again, set-based. "
        "Searches see the old index until the rebuild commits."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        verbosity = options["verbosity"]

        def progress(done: int, total: int) -> None:
            if verbosity:
                self.stdout.write(f"  {done:,} of {total:,} files indexed")

        with transaction.atomic():
            written = rebuild_index(progress=progress)
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"Search index rebuilt: {written:,} files in {seconds:.1f}s.")
        )
