"""Upload the media pad.ma asks for from a mounted drive, with pandora_client.

manage.py upload_padma --drive NAME --mount PATH [--dry-run] [--limit N] [--only-oshash H]
manage.py upload_padma --plan [--drive NAME]

Exits 0 when every file handled was uploaded (or kept out with its reason); 1 (one line
on stderr) when a file failed or was refused, or the run could not start or lost pad.ma.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from catalog.models import Drive
from workflow.export.upload import UploadStopped, run_upload, upload_plan
from workflow.export.upload.plan import format_bytes, format_duration


class Command(BaseCommand):
    help = (
        "Encode and upload to pad.ma the media it asks for, from the drive mounted at "
        "--mount; --plan shows, per drive, what waits and how long it should take. "
        "See docs/export.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--drive", metavar="NAME", help="The drive (pad.ma volume) name.")
        parser.add_argument("--mount", metavar="PATH", help="Where the drive is mounted.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Ask pad.ma what it wants and check the files on the mount; send nothing, "
            "record nothing; print the plan as JSON.",
        )
        parser.add_argument("--limit", type=int, metavar="N", help="Handle at most N files.")
        parser.add_argument(
            "--only-oshash",
            action="append",
            metavar="H",
            help="Only this file (repeatable).",
        )
        parser.add_argument(
            "--plan",
            action="store_true",
            help="Per drive: approved media waiting, their size and the estimated upload "
            "time. Asks nothing of pad.ma.",
        )

    def handle(self, *args, drive, mount, dry_run, limit, only_oshash, plan, verbosity, **kw):
        if plan:
            return self._plan(drive)
        if not drive or not mount:
            raise CommandError("--drive and --mount are required (or --plan)")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be a positive number")
        say = self.stdout.write if verbosity >= 1 else (lambda line: None)
        try:
            result = run_upload(
                drive=drive,
                mount=mount,
                dry_run=dry_run,
                limit=limit,
                only_oshash=only_oshash,
                say=say,
                chunk_progress=self.stdout.write if verbosity >= 2 else None,
            )
        except UploadStopped as error:
            raise CommandError(str(error)) from None
        if dry_run:
            self.stdout.write(json.dumps(result.plan, indent=2, ensure_ascii=False))
            self.stdout.write(self.style.SUCCESS("Dry run: nothing sent, nothing recorded."))
            return
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"Upload finished: {result.summary()}"))
            return
        self.stdout.write(f"Upload finished: {result.summary()}")
        for failure in result.failures[:20]:
            self.stdout.write(f"  {failure}")
        problems = result.failed + result.refused
        raise CommandError(
            f"{problems} file{'s' if problems != 1 else ''} not uploaded "
            f"({result.failed} failed, {result.refused} refused); see above or the export report"
        )

    def _plan(self, drive):
        drive_row = None
        if drive:
            drive_row = Drive.objects.filter(name=drive).first()
            if drive_row is None:
                raise CommandError(f"No drive named {drive!r} in the catalogue")
        rows = upload_plan(drive_row)
        if not rows:
            self.stdout.write("Nothing exported to pad.ma yet: no media wait for upload.")
        for row in rows:
            size, time = format_bytes(row.waiting_bytes), format_duration(row.estimate_seconds)
            self.stdout.write(
                f"{row.drive}: {row.waiting} media files wait ({size}, about {time}); "
                f"{row.done} uploaded, {row.failed} failed, {row.refused} refused, "
                f"{row.kept_out} kept out (not video or audio)"
            )
