"""The one write path for previews: a folder of scan-made previews taken in
(``import_preview_folder``) and a browser-made preview stored
(``store_browser_preview``). Stored content-addressed by oshash on
``STORAGES["previews"]``: copies of a file share one row and one stored file per kind.
"""

import re
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from ..models import FileEntry
from .kinds import BROWSER_KINDS, MAX_STRIP_FRAMES, Kind, Source
from .models import Preview
from .validate import InvalidPreview, check_image

OSHASH_RE = re.compile(r"^[0-9a-f]{16}$")


def storage_name(oshash: str, kind: str, extension: str, *, source: str = Source.SCAN) -> str:
    """``ab/abcdef0123456789/thumb.webp``: two hex digits first, so no folder holds more
    than a 256th of the archive. Browser-made files have names of their own
    (``thumb.browser.jpg``), so neither source ever overwrites the other's file."""
    marker = "" if source == Source.SCAN else f".{source}"
    return f"{oshash[:2]}/{oshash}/{kind}{marker}.{extension}"


class PreviewRefused(ValueError):
    """A browser preview that cannot be stored: ``field`` names the culprit."""

    def __init__(self, message: str, *, field: str, status: int = 400):
        super().__init__(message)
        self.field, self.status = field, status


@dataclass(frozen=True)
class BrowserOutcome:
    stored: bool
    preview: Preview
    message: str


def store_browser_preview(
    *, oshash: str, kind: str, data: bytes, frame_times: list[float] | None = None
) -> BrowserOutcome:
    """Store a preview a curator's browser made from a mounted drive.

    Only image kinds (``BROWSER_KINDS``), only for a catalogued oshash, only an image
    that decodes within the kind's caps. Never replaces a preview already stored: a
    scan-made one is better (made from the whole file by ffmpeg/Pillow) and a browser-made
    one is the same file's; sending the same preview twice stores it once.
    """
    if not OSHASH_RE.match(oshash or ""):
        raise PreviewRefused("not an oshash (16 hex digits)", field="oshash", status=404)
    limits = BROWSER_KINDS.get(kind)
    if limits is None:
        allowed = ", ".join(BROWSER_KINDS)
        raise PreviewRefused(f"browsers may send only {allowed}", field="kind", status=404)
    existing = Preview.objects.filter(oshash=oshash, kind=kind).first()
    if existing is not None:
        return BrowserOutcome(False, existing, f"a {existing.source}-made {kind} is stored")
    if not FileEntry.objects.filter(oshash=oshash).exists():
        raise PreviewRefused(f"no catalogued file has oshash {oshash}", field="oshash", status=404)
    times = _checked_frame_times(kind, frame_times)
    try:
        checked = check_image(data, **limits)
    except InvalidPreview as error:
        raise PreviewRefused(str(error), field="image") from error
    preview = Preview(
        oshash=oshash,
        kind=kind,
        width=checked.width,
        height=checked.height,
        bytes=len(data),
        content_type=checked.content_type,
        frame_times=times,
        source=Source.BROWSER,
    )
    name = storage_name(oshash, kind, checked.extension, source=Source.BROWSER)
    try:
        with transaction.atomic():
            preview.file.save(name, ContentFile(data), save=False)
            preview.save()
    except IntegrityError:  # another tab sent the same preview a moment earlier
        existing = Preview.objects.get(oshash=oshash, kind=kind)
        return BrowserOutcome(False, existing, f"a {existing.source}-made {kind} is stored")
    return BrowserOutcome(True, preview, f"{kind} stored")


def _checked_frame_times(kind: str, frame_times: list[float] | None) -> list[float]:
    if kind != Kind.STRIP:
        return []
    if not frame_times:
        raise PreviewRefused("a strip needs the time of each frame", field="times")
    if len(frame_times) > MAX_STRIP_FRAMES:
        raise PreviewRefused(f"at most {MAX_STRIP_FRAMES} frames", field="times")
    if any(not (0 <= time < 10**7) for time in frame_times):
        raise PreviewRefused("frame times are seconds from the start", field="times")
    return [round(float(time), 3) for time in frame_times]
