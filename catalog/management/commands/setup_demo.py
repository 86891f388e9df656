"""``setup_demo``: the archive ``make run`` opens on a fresh machine.

Generates two demo drives, scans and imports them, groups their duplicates and
creates three logins. Safe to re-run: imports are upserts and users are only
created when missing. The work is in ``catalog.demo``; this only orchestrates.
"""

import errno
import socket
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog import demo
from catalog.models import DuplicateGroup, FileEntry

STEPS = 5


class Command(BaseCommand):
    help = "Generate, scan and import the demo drives and create the demo logins (dev only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--media-dir",
            type=Path,
            help="Where the demo drives and manifests go (default: VAR_DIR/demo).",
        )
        parser.add_argument(
            "--host",
            default=demo.DEFAULT_HOST,
            help="Where the site will be served (runserver's address:port, as make run's "
            f"HOST=): the ready banner links there, and a busy port is reported. "
            f"Default {demo.DEFAULT_HOST}.",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set the demo passwords on demo users that already exist.",
        )

    def handle(
        self, *args, media_dir: Path | None, host: str, reset_passwords: bool, **options
    ) -> None:
        # The passwords below are in the source code: never let them into production.
        if not getattr(settings, "PHS_DEMO_LOGINS", False):
            raise CommandError(
                "setup_demo creates logins with published passwords and only runs with "
                "PHS_DEMO_LOGINS = True (the dev and test settings). Refusing to run here."
            )
        try:
            url = demo.admin_url(host)
        except ValueError as error:
            raise CommandError(f"--host: {error}") from error
        root = (media_dir or Path(settings.VAR_DIR) / "demo").resolve()
        # Subcommands speak through our streams, so callers capturing output get all of it.
        io = {"stdout": self.stdout, "stderr": self.stderr, "verbosity": options["verbosity"]}

        self.step(1, f"Generating demo media in {root}")
        drives = demo.build_demo_media(root)

        self.step(2, "Scanning the demo drives")
        manifests = []
        for name, directory in drives.items():
            # The manifest's file name is the drive's name: PHS_Demo_A.json -> PHS_Demo_A.
            manifest = root / f"{name}.json"
            call_command("scan_folder", str(directory), str(manifest), **io)
            manifests.append(manifest)

        self.step(3, "Importing the manifests")
        for manifest in manifests:
            # --update refreshes scanner fields only (curator fields are never written),
            # so a re-run after the generator changed brings the rows up to date.
            call_command("import_json", str(manifest), update=True, **io)

        self.step(4, "Grouping duplicates")
        call_command("update_duplicates", **io)

        self.step(5, "Creating project groups and demo users")
        groups = demo.ensure_project_groups()
        logins = demo.ensure_demo_users(reset_passwords=reset_passwords)

        self.stdout.write(
            f"{FileEntry.objects.filter(drive__name__in=drives).count()} demo files on "
            f"{len(drives)} drives, {DuplicateGroup.objects.count()} duplicate groups, "
            f"{len(groups)} project groups, {get_user_model().objects.count()} users."
        )
        self.stdout.write(self.style.SUCCESS(login_box(url, logins)))
        if busy := port_in_use(host):
            self.stderr.write(self.style.WARNING(busy))

    def step(self, number: int, text: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"[{number}/{STEPS}] {text} …"))


def login_box(url: str, logins: list[demo.DemoLogin]) -> str:
    rows = [("username", "password", "role")] + [
        (
            login.username,
            login.password if login.password_valid else "(changed: use --reset-passwords)",
            login.role,
        )
        for login in logins
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "PHS Archive demo is ready.",
        f"Open {url}",
        "",
        *(
            "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ),
        "",
        "Development logins only: these passwords are public.",
    ]
    inner = max(len(line) for line in lines)
    border = "+" + "-" * (inner + 4) + "+"
    return "\n".join([border, *(f"|  {line.ljust(inner)}  |" for line in lines), border])


def port_in_use(addrport: str) -> str | None:
    """What to do when another program already listens where the site is to be served
    (runserver would stop with "That port is already in use"), or ``None``."""
    address, port = demo.split_host(addrport)
    family = socket.AF_INET6 if address.startswith("[") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address.strip("[]"), port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                return None
            return (
                f"Port {port} is already in use (another make run?). Serve on another "
                f"one: make run HOST={address}:{port + 1}"
            )
    return None
