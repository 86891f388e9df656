"""Export approved files to pad.ma now (the background task does the same after approvals).

manage.py export_padma [--dry-run] [--limit N] [--retry-failed] [--backend DOTTED]

Exits 0 when every handled request was exported or skipped; 1 (one line on stderr)
when a request failed, or the run could not start or was stopped (settings, sign-in,
pad.ma unreachable, another export running).
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from workflow.export.base import ExportError
from workflow.export.runner import run_export
from workflow.export.status import export_backlog


class Command(BaseCommand):
    help = (
        "Export approved files waiting in the outbox to pad.ma with PADMA_EXPORT_BACKENDS. "
        "--dry-run asks pad.ma only findMedia and prints the plan with the exact write "
        "requests as JSON. See docs/export.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Plan only: look the files up on pad.ma, change nothing, print the plan.",
        )
        parser.add_argument(
            "--limit", type=int, metavar="N", help="Handle at most N requests in this run."
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="Also retry requests that failed too often, and retries still in backoff.",
        )
        parser.add_argument(
            "--backend",
            action="append",
            metavar="DOTTED",
            help="Use this exporter instead of PADMA_EXPORT_BACKENDS (repeatable), e.g. "
            "workflow.export.manifest.ManifestExporter.",
        )

    def handle(self, *args, dry_run, limit, retry_failed, backend, verbosity, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be a positive number")
        if dry_run and backend:
            raise CommandError("--dry-run uses the dry-run exporter; leave out --backend")
        backlog = export_backlog()
        self.stdout.write(
            f"{backlog['pending']} export requests pending, {backlog['failed']} failed."
        )
        try:
            result = run_export(
                backends=backend,
                dry_run=dry_run,
                limit=limit,
                retry_failed=retry_failed,
                progress=self.stdout.write if verbosity >= 1 else None,
                file_progress=self.stdout.write if verbosity >= 2 else None,
            )
        except ExportError as error:
            raise CommandError(f"Export stopped: {error}") from error

        batch = result.batch
        if batch.dry_run:
            if dry_run:
                self.stdout.write(json.dumps(result.report, indent=2, ensure_ascii=False))
            self.stdout.write(
                self.style.SUCCESS(
                    f"Batch {batch.pk} (nothing changed): {result.planned} files planned, "
                    f"{result.skipped} would be skipped."
                )
            )
        else:
            style = self.style.WARNING if result.failed or result.error else self.style.SUCCESS
            self.stdout.write(
                style(
                    f"Batch {batch.pk}: {result.exported} exported, {result.failed} failed, "
                    f"{result.skipped} skipped; {result.located} file locations recorded."
                )
            )
            for failure in result.report.get("failures", [])[:20]:
                self.stdout.write(f"  failed: {failure['location']}: {failure['message']}")
        for path in result.report.get("manifests", []):
            self.stdout.write(f"Wrote {path}")
        if result.error:
            raise CommandError(f"Export stopped: {result.error}")
        if result.failed:
            # A timer (deploy/systemd/phs-export.timer) sees only the exit status.
            raise CommandError(
                f"{result.failed} export request{pluralize(result.failed)} failed; "
                "Admin → pad.ma export → Export requests says why, and when each is retried"
            )
