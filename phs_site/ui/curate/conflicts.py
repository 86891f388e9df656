"""What someone else changed in a file since a curator opened it, in words.

Both editors refuse a save based on an older version (``review.VersionConflict``): the
Curate API's 409 and the file editor's form error list the other person's changes from
here — label, old → new value as people read them, and who — so that nothing anyone did
is undone without the next person seeing it.
"""

from datetime import date

from django.utils.formats import date_format
from django.utils.text import capfirst, normalize_newlines

from catalog.models import FileEntry, ProjectGroup, Status
from catalog.services.files import CURATOR_FIELDS

#: The curator fields' labels, as the forms show them.
LABELS = {name: capfirst(FileEntry._meta.get_field(name).verbose_name) for name in CURATOR_FIELDS}
#: How long a text value may be in a conflict message before it is shortened.
SHOWN_TEXT = 80


def user_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def values_of(file: FileEntry) -> dict:
    """The curator fields as the editors send them: ids, ISO dates, text."""
    return {
        "status": file.status,
        "title": file.title,
        "project_group": file.project_group_id,
        "date": file.date.isoformat() if file.date else None,
        "description": file.description,
        "notes": file.notes,
    }


def normalised(name: str, value):
    """A value an editor sent (JSON or form text) in ``values_of``'s form, to compare."""
    if name == "project_group":
        text = str(value) if value is not None else ""
        return int(text) if text.isascii() and text.isdigit() else None
    if name == "date":
        return str(value) if value else None
    # A browser sends a textarea's line breaks as CRLF.
    return normalize_newlines(str(value)) if value is not None else ""


def last_changed_by(file: FileEntry) -> str:
    """Who made the file's latest change: the author of its latest revision (a save, a
    rejection), or its reviewer stamp when a bulk action came later (it adds none)."""
    revision = file.latest_revision
    who = file.reviewed_by
    if revision is not None and (
        file.reviewed_at is None or revision.created_at >= file.reviewed_at
    ):
        who = revision.user
    return user_name(who) or "someone"


def changes_since(base: dict, file: FileEntry) -> list[dict]:
    """The curator fields whose value in ``file`` differs from ``base`` (what the editor
    showed), each with its label, both values in words and who changed it."""
    now = values_of(file)
    fields = [
        name
        for name in CURATOR_FIELDS
        if name in base and normalised(name, base[name]) != now[name]
    ]
    if not fields:
        return []
    by = last_changed_by(file)
    ids = {normalised("project_group", base.get("project_group")), now["project_group"]}
    groups = (
        dict(ProjectGroup.objects.filter(pk__in=ids - {None}).values_list("pk", "name"))
        if "project_group" in fields
        else {}
    )
    return [
        {
            "field": name,
            "label": LABELS[name],
            "was": normalised(name, base[name]),
            "now": now[name],
            "was_text": in_words(name, normalised(name, base[name]), groups),
            "now_text": in_words(name, now[name], groups),
            "by": by,
        }
        for name in fields
    ]


def in_words(name: str, value, groups: dict) -> str:
    if value in (None, ""):
        return "—"
    if name == "status":
        return str(Status(value).label) if value in Status.values else str(value)
    if name == "project_group":
        return groups.get(value, f"a deleted group (id {value})")
    if name == "date":
        try:
            return date_format(date.fromisoformat(value))
        except ValueError:
            return str(value)
    text = " ".join(str(value).split())
    return f"“{text[:SHOWN_TEXT]}…”" if len(text) > SHOWN_TEXT else f"“{text}”"


def as_sentence(change: dict) -> str:
    """``Status: Keep offline → Discard, by alice``."""
    return f"{change['label']}: {change['was_text']} → {change['now_text']}, by {change['by']}"
