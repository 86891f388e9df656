"""Offline previews in pages: one ``preview_map`` query per page, then plain HTML per row.

Pages that list files read the previews of the whole page at once
(``catalog.previews.selectors.preview_map``) and render each thumbnail with
``thumbnail_html`` — ``format_html``, not a template per row, since the file listing
renders 25 rows at a million files within its 150 ms. Templates use the same through
``{% preview_map files as previews %}`` and ``{% preview_thumb previews file.oshash %}``.

Every image is ``loading="lazy"`` with its width and height, so the page never waits
for a thumbnail and nothing shifts when one arrives. A placeholder shows its reason;
a file with no preview yet says so.
"""

from collections.abc import Iterable

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from catalog.previews.selectors import preview_map as _preview_map

register = template.Library()

#: Which stored kind stands for a file, by what it is shown for: the first one a file has.
#: A thumbnail prefers the small image; a review pane the large one. The strip is never a
#: still (it is many frames side by side) and the text kind may be stored as text only.
CHOICES = {
    "thumb": ("thumb", "poster", "page", "waveform", "review", "text"),
    "review": ("review", "poster", "page", "waveform", "thumb", "text"),
}
#: Long side, in CSS pixels, of a thumbnail in a listing row.
THUMB_BOX = 64


def oshashes_of(files: Iterable) -> list[str]:
    """The distinct oshashes of ``files`` (objects with ``.oshash``, or the hashes)."""
    seen = []
    for item in files:
        value = item if isinstance(item, str) else getattr(item, "oshash", None)
        if value and value not in seen:
            seen.append(value)
    return seen


def previews_for(files: Iterable) -> dict[str, dict[str, dict]]:
    """oshash -> kind -> preview, for every file of a page, in one query."""
    hashes = oshashes_of(files)
    return _preview_map(hashes) if hashes else {}


def choose(kinds: dict[str, dict], purpose: str = "thumb") -> tuple[str, dict] | None:
    """The stored (kind, preview) that shows a file for ``purpose``, or None."""
    for kind in CHOICES[purpose]:
        found = kinds.get(kind)
        if found and found.get("url") and found.get("width") and found.get("height"):
            return kind, found
    return None


def fit(width: int, height: int, box: int) -> tuple[int, int]:
    """``width`` × ``height`` scaled to fit a ``box`` square (never enlarged)."""
    scale = min(1.0, box / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def thumbnail_html(
    previews: dict,
    oshash: str | None,
    *,
    purpose: str = "thumb",
    box: int = THUMB_BOX,
    alt: str = "",
) -> SafeString:
    """A file's offline preview as an ``<img>``, its placeholder's reason, or "no preview"."""
    kinds = previews.get(oshash, {}) if oshash else {}
    chosen = choose(kinds, purpose)
    if chosen:
        kind, found = chosen
        width, height = fit(found["width"], found["height"], box)
        return format_html(
            '<img class="phs-thumb phs-thumb--{}" src="{}" width="{}" height="{}" alt="{}" '
            'loading="lazy" decoding="async">',
            kind,
            found["url"],
            width,
            height,
            alt,
        )
    placeholder = kinds.get("placeholder")
    if placeholder:
        reason = placeholder.get("reason") or "No preview can be made of this file."
        return format_html(
            '<span class="phs-thumb phs-thumb--placeholder" style="--phs-thumb-box: {}px" '
            'title="{}">{}</span>',
            box,
            reason,
            reason,
        )
    return format_html(
        '<span class="phs-thumb phs-thumb--none" style="--phs-thumb-box: {}px" '
        'title="{}">{}</span>',
        box,
        "No offline preview yet: one is made when the drive is scanned or mounted in Curate."
        if oshash
        else "No oshash, so no preview.",
        "no preview",
    )


@register.simple_tag
def preview_map(files) -> dict:
    """``{% preview_map files as previews %}`` (or one oshash): the page's previews, one query."""
    return previews_for([files] if isinstance(files, str) else files)


@register.simple_tag
def preview_thumb(previews, oshash, purpose="thumb", box=THUMB_BOX, alt=""):
    """``{% preview_thumb previews file.oshash %}`` (or ``"review" 480``)."""
    return thumbnail_html(previews, oshash, purpose=purpose, box=int(box), alt=alt)


@register.filter
def get_strip(previews, oshash):
    """``previews|get_strip:oshash``: a video's frame strip, if it has one."""
    strip = previews.get(oshash, {}).get("strip") if oshash else None
    return strip if strip and strip.get("url") else None
