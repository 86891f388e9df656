"""Reads of stored previews: what exists for a page of files, in one query."""

from collections.abc import Iterable

from django.urls import reverse

from .kinds import Kind
from .models import Preview

#: Columns ``preview_map`` reads; the file itself is never opened.
_COLUMNS = ("oshash", "kind", "width", "height", "reason", "frame_times", "created_at")


def preview_url(oshash: str, kind: str, *, version: str = "") -> str:
    """The private URL of one preview (login and the files' view permission required).

    ``version`` (``preview_map`` passes it) changes when the stored preview is replaced,
    so browsers may keep a preview as long as they like.
    """
    url = reverse("phs_previews:show", args=[oshash, kind])
    return f"{url}?v={version}" if version else url


def preview_map(oshashes: Iterable[str | None]) -> dict[str, dict[str, dict]]:
    """``oshash -> kind -> {"url", "width", "height", ...}`` for the given oshashes.

    One query, whatever their number (the unique (oshash, kind) index answers it).
    Oshashes without previews are absent. Strips add ``"frames"`` (how many frames are
    side by side) and ``"times"`` (each frame's time in seconds); placeholders have no
    URL, only ``"reason"``: why the file has no preview.
    """
    wanted = {oshash for oshash in oshashes if oshash}
    if not wanted:
        return {}
    result: dict[str, dict[str, dict]] = {}
    rows = Preview.objects.filter(oshash__in=wanted).values_list(*_COLUMNS)
    for oshash, kind, width, height, reason, times, created_at in rows:
        if kind == Kind.PLACEHOLDER:
            entry = {"reason": reason}
        else:
            version = format(int(created_at.timestamp()), "x")
            entry = {
                "url": preview_url(oshash, kind, version=version),
                "width": width,
                "height": height,
            }
            if kind == Kind.STRIP:
                entry["frames"] = len(times)
                entry["times"] = times
        result.setdefault(oshash, {})[kind] = entry
    return result


def stored_preview(oshash: str, kind: str) -> Preview | None:
    """The stored preview to serve, or None (placeholders are never served)."""
    return Preview.objects.filter(oshash=oshash, kind=kind).exclude(kind=Kind.PLACEHOLDER).first()
