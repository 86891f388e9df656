"""Settling a duplicate group whose copies carry conflicting decisions, in one step.

A group is *conflicting* when its reviewed copies disagree (one *upload*, another
*discard*): it is not exported until they agree (``catalog.services.duplicates.
refresh_conflicts``, docs/workflow.md). A reviewer settles it by choosing the copy
whose decision stands: that copy becomes the primary (by hand, if it was not) and its
decision is given to every other copy, through the same bulk *Set status* a curator's
selection takes — revisions, folder counters, and ``effects.decisions_saved``, which
re-flags the group and, once it agrees, releases its approved primary to the export.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction

from catalog.models import DuplicateGroup, FileEntry, Status
from catalog.services.duplicates import make_primary
from workflow.services import bulk, effects
from workflow.services.permissions import CHANGE

#: Choosing primaries is this permission (Reviewers, Operators); deciding is ``CHANGE``.
CHOOSE_PRIMARY = "catalog.change_duplicategroup"


class SettleError(Exception):
    pass


@dataclass
class Settled:
    keep: FileEntry
    #: The kept copy was not the primary before.
    made_primary: bool
    #: The other copies' *Set status* (changed, and skipped by reason).
    applied: bulk.BulkResult
    #: The group still has conflicting decisions (some copies were skipped).
    still_conflicting: bool

    def __str__(self):
        status = self.keep.get_status_display()
        parts = []
        if self.made_primary:
            parts.append(f"{self.keep.location} is now the primary copy")
        changed = self.applied.changed
        parts.append(
            f"{changed} other cop{'y' if changed == 1 else 'ies'} now {status}"
            if changed
            else f"every other copy was already {status}"
        )
        for reason, count in self.applied.skipped.items():
            if reason == f"already {status}":
                continue
            parts.append(f"{count} skipped ({reason})")
        text = "; ".join(parts) + "."
        if self.still_conflicting:
            text += " The group still has conflicting decisions."
        return text[0].upper() + text[1:]


def may_settle(user) -> bool:
    return bool(user.is_active and user.has_perm(CHOOSE_PRIMARY) and user.has_perm(CHANGE))


@transaction.atomic
def settle_conflict(*, group: DuplicateGroup, keep: FileEntry, user) -> Settled:
    """Make ``keep`` the primary of ``group`` and give its decision to every other copy.

    Copies locked by someone else or in review are skipped (with their reason) and the
    group then stays flagged. Refuses a copy of another group, or one not yet decided.
    """
    if not may_settle(user):
        raise PermissionDenied("Only reviewers choose primary copies and settle duplicates.")
    group = DuplicateGroup.objects.select_for_update().get(pk=group.pk)
    keep = FileEntry.objects.select_related("drive").get(pk=keep.pk)
    if keep.duplicate_group_id != group.pk:
        raise SettleError(f"{keep.location} is not a copy in this duplicate group.")
    if keep.status == Status.UNREVIEWED:
        raise SettleError(
            f"{keep.location} has no decision yet: choose a copy whose decision should stand."
        )
    made_primary = group.primary_id != keep.pk
    if made_primary:
        make_primary([keep], user=user)
    others = FileEntry.objects.filter(duplicate_group=group).exclude(pk=keep.pk)
    # The flag and the release of the group's primary follow the statuses
    # (``effects.decisions_saved`` → ``settle_conflicts``).
    applied = bulk.set_status(others, status=keep.status, user=user)
    if made_primary:
        effects.primaries_chosen(ids=[keep.pk], user=user)
    group.refresh_from_db(fields=["has_conflict"])
    return Settled(
        keep=keep,
        made_primary=made_primary,
        applied=applied,
        still_conflicting=group.has_conflict,
    )
