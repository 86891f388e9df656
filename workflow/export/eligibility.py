"""May this file be exported to pad.ma, and if not, why: the one rule.

Every path that decides asks ``export_refusal``: the approvals recording export requests
(``requests.py``), the runner checking each request again before it sends anything
(``items.py``), the volume lists sent with ``update`` (``runner.volume_files``), the
reviewer's dashboard panel (``phs_site.ui.dashboard.review``) and the Curate form. Each path only
gathers the facts (``ExportFacts``) from what it has read — rows in sets, or one file
and its approved version — so the rule itself exists once.

``file_export_warning`` is the part that no decision or review can change (the file has
no oshash, or one shared with every file of its size): the Curate form and the review
queue show it beside such a file before anyone approves it.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.template.defaultfilters import pluralize

from catalog.models import ReviewState

#: Files under this many bytes hash to their size (``catalog.oshash``): pad.ma, which
#: identifies media by oshash, would merge every file of that size into one item.
#: ``catalog.services.duplicates`` leaves them out of duplicate groups for the same reason.
UNIQUE_OSHASH_MIN_SIZE = 8


class Blocker(StrEnum):
    """Why a file is not exported. Request-time paths count the situational ones (an
    approval or a conflict may change them) and record the permanent ones (``NO_OSHASH``,
    ``AMBIGUOUS_OSHASH``) on a skipped request, so the reason is in the export report."""

    NOT_APPROVED = "not_approved"
    DECISION_NOT_EXPORTED = "decision_not_exported"
    DECISION_CHANGED = "decision_changed"
    CONFLICT = "conflict"
    SPARE_COPY = "spare_copy"
    NO_OSHASH = "no_oshash"
    AMBIGUOUS_OSHASH = "ambiguous_oshash"

    @property
    def permanent(self) -> bool:
        return self in (Blocker.NO_OSHASH, Blocker.AMBIGUOUS_OSHASH)


@dataclass(frozen=True)
class Refusal:
    blocker: Blocker
    #: For people: the export report's message, the dry run's plan, the review queue.
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ExportFacts:
    """What the rule reads about one file."""

    #: The curator's decision now.
    status: str
    #: The decision in the version that would be exported (what a reviewer approved);
    #: ``None`` when there is no approved version to export.
    approved_status: str | None
    oshash: str | None
    size: int | None
    in_group: bool = False
    is_group_primary: bool = False
    group_has_conflict: bool = False

    @classmethod
    def at_approval(
        cls,
        *,
        status: str,
        review_state: str,
        has_live_revision: bool,
        oshash: str | None,
        size: int | None,
        group_id: int | None,
        group_primary_id: int | None,
        group_has_conflict: bool | None,
        file_id: int,
    ) -> "ExportFacts":
        """From a file's row when an approval queues it: approved now, the live version
        is the current row (``workflow.states``: any later save leaves *approved*)."""
        approved = review_state == ReviewState.APPROVED and has_live_revision
        return cls(
            status=status,
            approved_status=status if approved else None,
            oshash=oshash,
            size=size,
            in_group=group_id is not None,
            is_group_primary=group_primary_id == file_id,
            group_has_conflict=bool(group_has_conflict),
        )

    @classmethod
    def at_export(cls, file, approved) -> "ExportFacts":
        """From a queued file and its approved version (``None`` if it has none): the
        approval that queued it still counts after a curator's later edit, whose metadata
        waits for re-approval."""
        group = file.duplicate_group
        return cls(
            status=file.status,
            approved_status=approved.status if approved is not None else None,
            oshash=file.oshash,
            size=file.size,
            in_group=group is not None,
            is_group_primary=group is not None and group.primary_id == file.pk,
            group_has_conflict=group is not None and group.has_conflict,
        )


def exportable_statuses() -> list[str]:
    """Decisions that have a pan.do/ra rights level (``PADMA_RIGHTS_LEVELS``)."""
    return list(settings.PADMA_RIGHTS_LEVELS)


def oshash_is_ambiguous(size: int | None, oshash: str | None = None) -> bool:
    """Whether the oshash is shared by every file of this size (files under 8 bytes)."""
    if size is not None:
        return size < UNIQUE_OSHASH_MIN_SIZE
    return bool(oshash) and int(oshash, 16) < UNIQUE_OSHASH_MIN_SIZE


def file_refusal(*, size: int | None, oshash: str | None) -> Refusal | None:
    """What keeps this file off pad.ma whatever is decided about it, or ``None``."""
    if not oshash:
        return Refusal(Blocker.NO_OSHASH, "no oshash (the scanner could not read the file)")
    if oshash_is_ambiguous(size, oshash):
        bytes_ = size if size is not None else int(oshash, 16)
        return Refusal(
            Blocker.AMBIGUOUS_OSHASH,
            "Not sent to pad.ma: files under 8 bytes have no unique oshash (this one is "
            f"{bytes_} byte{pluralize(bytes_)}), so pad.ma would merge it with every other "
            "file of that size",
        )
    return None


def file_export_warning(file) -> str | None:
    """For the Curate form and the review queue: why ``file`` (anything with ``size``
    and ``oshash``) would never reach pad.ma even if decided *upload* and approved."""
    refusal = file_refusal(size=file.size, oshash=file.oshash)
    return refusal.message if refusal else None


def export_refusal(facts: ExportFacts) -> Refusal | None:
    """Why the file may not be exported now, or ``None`` when it may."""
    statuses = exportable_statuses()
    if facts.approved_status is None:
        return Refusal(Blocker.NOT_APPROVED, "no approved version")
    if facts.approved_status not in statuses:
        return Refusal(
            Blocker.DECISION_NOT_EXPORTED,
            f"the approved decision is {facts.approved_status!r}, which is not exported",
        )
    if facts.status not in statuses:
        return Refusal(
            Blocker.DECISION_CHANGED, f"the decision changed to {facts.status!r} after approval"
        )
    # Before the spare-copy check: once settled, the group's primary is released
    # (``request_exports`` again), and which copy is primary may change with it.
    if facts.in_group and facts.group_has_conflict:
        return Refusal(
            Blocker.CONFLICT,
            "its duplicate group has conflicting decisions for a reviewer to settle",
        )
    if facts.in_group and not facts.is_group_primary:
        return Refusal(
            Blocker.SPARE_COPY, "a spare copy: only its duplicate group's primary copy is exported"
        )
    return file_refusal(size=facts.size, oshash=facts.oshash)
