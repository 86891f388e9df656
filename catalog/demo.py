"""The demo archive that ``make run`` (``setup_demo``) lays out on a fresh machine.

Two small "drives" of real media, generated rather than shipped so the repository
stays free of binaries. Every byte comes from a seeded generator, so a re-run
rewrites nothing and the oshashes, and so the duplicate groups, are stable.
Only dev and test settings may use it: the demo logins have fixed passwords.
"""

import io
import math
import random
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from PIL import ExifTags, Image, ImageDraw, ImageFont

from catalog.models import ProjectGroup
from catalog.roles import CURATORS, REVIEWERS

DRIVE_A = "PHS_Demo_A"
DRIVE_B = "PHS_Demo_B"
#: Where ``make run`` serves by default (``HOST=`` changes it: runserver's addrport).
DEFAULT_HOST = "127.0.0.1:8000"


def split_host(addrport: str) -> tuple[str, int]:
    """runserver's ``addrport`` — ``8001``, ``127.0.0.1:8001``, ``[::1]:8001`` — as
    (address to open in a browser, port). A wildcard address is opened on loopback."""
    address, _, port = addrport.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"{addrport!r} is no address:port or port (e.g. 127.0.0.1:8001)")
    address = address or "127.0.0.1"
    if address == "0.0.0.0":  # noqa: S104 - only read, to print a loopback address
        address = "127.0.0.1"
    elif address in ("[::]", "::"):
        address = "[::1]"
    return address, int(port)


def admin_url(addrport: str = DEFAULT_HOST) -> str:
    address, port = split_host(addrport)
    return f"http://{address}:{port}/admin/"


PROJECT_GROUPS = {
    "Rehearsals": "Rehearsal photographs and room recordings.",
    "Press": "Press releases, clippings and reviews.",
    "Street Theatre": "Performances in streets, markets and squares.",
}


# --- media -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Photo:
    seed: int
    title: str
    make: str
    model: str
    taken: str  # EXIF "YYYY:MM:DD HH:MM:SS"
    offset: str = ""  # OffsetTimeOriginal; most cameras leave it out
    size: tuple[int, int] = (640, 480)
    grain: float = 0.05  # share of noise: texture is what gives a JPEG its size


PANASONIC = ("Panasonic", "DC-S1")
CANON = ("Canon", "Canon EOS 5D Mark IV")
APPLE = ("Apple", "iPhone 12")

# Keyed so a file copied to several places is built once and is byte-identical.
PHOTOS: dict[str, Photo] = {
    "day1-a": Photo(101, "Rehearsal, day 1", *PANASONIC, "2019:03:14 18:22:05", "+05:30"),
    "day1-b": Photo(102, "Rehearsal, day 1 (wide)", *PANASONIC, "2019:03:14 18:40:51", "+05:30"),
    "day2-phone": Photo(103, "Rehearsal, day 2", *APPLE, "2019:03:15 11:02:17", "+05:30"),
    # Larger than 128 KiB, so the oshash's head and tail windows don't overlap.
    "day2-big": Photo(
        104, "Rehearsal, day 2 (full cast)", *CANON, "2019:03:15 19:15:00", size=(1280, 960)
    ),
    "workshop-a": Photo(201, "Workshop, day 1", *CANON, "2021:12:23 17:57:22"),
    "workshop-b": Photo(202, "Workshop, day 1 (circle)", *CANON, "2021:12:23 18:05:40"),
    "workshop-phone": Photo(203, "Workshop, day 2", *APPLE, "2021:12:24 10:31:09", "+05:30"),
}


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def _picture(seed: int, size: tuple[int, int], title: str, grain: float) -> Image.Image:
    """A gradient with shapes, grain and a caption: distinct content for every seed."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible bytes, not secrecy
    width, height = size
    mask = Image.linear_gradient("L").resize(size)
    img = Image.composite(
        Image.new("RGB", size, _colour(rng)), Image.new("RGB", size, _colour(rng)), mask
    )
    draw = ImageDraw.Draw(img)
    for _ in range(14):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(20, width // 5)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x - r, y - r, x + r, y + r), fill=_colour(rng))
    noise = Image.frombytes("L", size, rng.randbytes(width * height)).convert("RGB")
    img = Image.blend(img, noise, grain)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(18, height // 16))
    draw.text(
        (24, height - height // 8),
        title,
        fill="white",
        font=font,
        stroke_width=2,
        stroke_fill="black",
    )
    return img


@cache
def _jpeg(key: str) -> bytes:
    photo = PHOTOS[key]
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = photo.make
    exif[ExifTags.Base.Model] = photo.model
    exif[ExifTags.Base.DateTime] = photo.taken
    exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    exif_ifd[ExifTags.Base.DateTimeOriginal] = photo.taken
    if photo.offset:
        exif_ifd[ExifTags.Base.OffsetTimeOriginal] = photo.offset
    out = io.BytesIO()
    img = _picture(photo.seed, photo.size, photo.title, photo.grain)
    img.save(out, "JPEG", quality=88, exif=exif)
    return out.getvalue()


@cache
def _png(seed: int, title: str) -> bytes:
    out = io.BytesIO()
    _picture(seed, (480, 640), title, grain=0.0).save(out, "PNG", optimize=True)
    return out.getvalue()


@cache
def _wav(frequency: float, seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A mono 16-bit sine tone that fades out, so it doesn't click at the end."""
    n = int(seconds * rate)
    frames = b"".join(
        struct.pack("<h", int(12000 * (1 - i / n) * math.sin(2 * math.pi * frequency * i / rate)))
        for i in range(n)
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


@cache
def _pdf(*lines: str) -> bytes:
    """A one-page PDF written by hand: Pillow's PDFs carry the time they were made."""
    text = " ".join(f"({line}) Tj 0 -20 Td" for line in lines)
    stream = f"BT /F1 14 Tf 72 760 Td {text} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# A Finder droppings file: real drives are full of them and the scanner must skip them.
DS_STORE = b"\x00\x00\x00\x01Bud1" + bytes(4084)

README = """PHS demo drive A
================

Generated by `manage.py setup_demo`. Photographs, a poster, a room recording,
a press release and notes from the 2019 rehearsals. Some files are copied on
purpose, here and on PHS_Demo_B, so that the duplicate groups have members.
"""

SHOOT_NOTES = """# Shoot notes, March 2019

- **Day 1**: blocking of scenes 1 to 4, Panasonic S1 on the balcony.
- **Day 2**: full cast run-through; phone stills by the stage manager.
- Press release went out on 16 March; see `Documents/press/`.
"""

PRESS_LINES = ("PHS - Press release, March 2019", "New production opens at Prithvi.")

WORKSHOP_NOTES = """# Workshop, December 2021

Two days with the street theatre group. Photographs by the workshop lead.
Warm-up tone recorded for the sound check.
"""

Builder = Callable[[], bytes]

DEMO_FILES: dict[str, dict[str, Builder]] = {
    DRIVE_A: {
        "2019/rehearsal/day-1/P1000101.JPG": lambda: _jpeg("day1-a"),
        "2019/rehearsal/day-1/P1000102.JPG": lambda: _jpeg("day1-b"),
        "2019/rehearsal/day-2/रिहर्सल.jpg": lambda: _jpeg("day2-phone"),
        "2019/rehearsal/day-2/IMG_4821.JPG": lambda: _jpeg("day2-big"),
        "2019/rehearsal/.DS_Store": lambda: DS_STORE,
        "2019/street-theatre/Café_Prithvi_poster.png": lambda: _png(301, "Cafe Prithvi, 2019"),
        # The same still, copied into the video folder: a duplicate inside one drive.
        "PHS-Videos/stills/P1000101.JPG": lambda: _jpeg("day1-a"),
        "PHS-Audio/interview/room-tone.wav": lambda: _wav(440.0),
        "Documents/press/press-release-2019.pdf": lambda: _pdf(*PRESS_LINES),
        "Documents/notes/README.txt": lambda: README.encode(),
        "Documents/notes/shoot-notes.md": lambda: SHOOT_NOTES.encode(),
        ".DS_Store": lambda: DS_STORE,
    },
    DRIVE_B: {
        # A backup of part of drive A, as the real drives have.
        "Backup_2019/rehearsal/day-1/P1000101.JPG": lambda: _jpeg("day1-a"),
        "Backup_2019/rehearsal/day-2/IMG_4821.JPG": lambda: _jpeg("day2-big"),
        "Documents/press/press-release-2019.pdf": lambda: _pdf(*PRESS_LINES),
        "2021/workshop/day-1/IMG_0107.JPG": lambda: _jpeg("workshop-a"),
        "2021/workshop/day-1/IMG_0108.JPG": lambda: _jpeg("workshop-b"),
        "2021/workshop/day-2/IMG_2030.jpg": lambda: _jpeg("workshop-phone"),
        "2021/workshop/Atelier_été_notes.md": lambda: WORKSHOP_NOTES.encode(),
        "PHS-Audio/workshop/warm-up.wav": lambda: _wav(523.25, seconds=1.5),
        ".DS_Store": lambda: DS_STORE,
    },
}


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Leave identical files alone, so mtimes (and the oshash cache) survive a re-run."""
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def build_demo_media(root: Path) -> dict[str, Path]:
    """Create (or refresh) the demo drives under ``root``; return drive name -> directory.

    Files that are not ours are left alone: ``root`` may be a directory the user chose.
    """
    drives = {}
    for drive, files in DEMO_FILES.items():
        base = Path(root) / drive
        for relative, build in files.items():
            _write_if_changed(base / relative, build())
        drives[drive] = base
    return drives


# --- projects and logins ---------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    group: str | None  # None: superuser, needs no group
    #: False when the user existed and keeps a password other than the demo one.
    password_valid: bool = True

    @property
    def email(self) -> str:
        """Where the demo's notifications go: with the dev settings, a file in var/mail/."""
        return f"{self.username}@example.org"


DEMO_LOGINS = (
    DemoLogin("admin", "admin-demo-2026", "Superuser", None),
    DemoLogin("curator", "curator-demo-2026", "Curator", CURATORS),
    DemoLogin("reviewer", "reviewer-demo-2026", "Reviewer", REVIEWERS),
)


def ensure_project_groups() -> list[ProjectGroup]:
    return [
        ProjectGroup.objects.get_or_create(name=name, defaults={"description": description})[0]
        for name, description in PROJECT_GROUPS.items()
    ]


@transaction.atomic
def ensure_demo_users(*, reset_passwords: bool = False) -> list[DemoLogin]:
    """Create the three demo users if missing and make sure each holds its role and an
    e-mail address (``username@example.org``), so review notifications have somewhere
    to go — ``var/mail/`` with the dev settings.

    An existing user's password is only replaced with ``reset_passwords``: someone
    may have changed it on purpose.
    """
    user_model = get_user_model()
    result = []
    for login in DEMO_LOGINS:
        user, created = user_model.objects.get_or_create(username=login.username)
        if created or reset_passwords:
            user.set_password(login.password)
        if not user.email:  # an address someone gave the user is theirs to keep
            user.email = login.email
        if login.group is None:
            user.is_staff = user.is_superuser = True
        user.save()
        if login.group is not None:
            # The groups come from migration 0002_roles, with their permissions;
            # a missing one means an unmigrated database, not something to invent.
            user.groups.add(Group.objects.get(name=login.group))
        valid = created or reset_passwords or user.check_password(login.password)
        result.append(replace(login, password_valid=valid))
    return result
