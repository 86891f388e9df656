"""The one table that maps review events to a file's ``status`` and ``review_state``.

docs/workflow.md shows the same table for people. Every path — the snippet editor,
Wagtail's workflow buttons, the bulk actions, the Curate view — goes through
``workflow.services.review``, which asks this module what the columns become.
"""

from enum import StrEnum

from catalog.models import ReviewState, Status

#: Decisions that publish something on pad.ma and so need a reviewer's approval.
NEEDS_APPROVAL = frozenset({Status.UPLOAD, Status.RESTRICTED})


class Event(StrEnum):
    SAVED = "saved"  # a curator saved a decision and/or metadata
    SUBMITTED = "submitted"  # sent to the reviewers
    APPROVED = "approved"  # a reviewer approved: published, exported
    REJECTED = "rejected"  # a reviewer requested changes, with a comment
    CANCELLED = "cancelled"  # the review was withdrawn


def review_state_after(event: Event, *, status: str, in_review: bool = False) -> str:
    """The file's ``review_state`` after ``event``, given its (new) status."""
    needs_approval = status in NEEDS_APPROVAL
    match event:
        case Event.SAVED:
            if not needs_approval:
                return ReviewState.NONE
            # Editing during review keeps the review going on the latest version.
            return ReviewState.IN_REVIEW if in_review else ReviewState.DECIDED
        case Event.SUBMITTED:
            return ReviewState.IN_REVIEW
        case Event.APPROVED:
            return ReviewState.APPROVED if needs_approval else ReviewState.NONE
        case Event.REJECTED:
            return ReviewState.REJECTED
        case Event.CANCELLED:
            return ReviewState.DECIDED if needs_approval else ReviewState.NONE
    raise ValueError(event)


def status_after(event: Event, *, status: str) -> str:
    """The file's ``status`` after ``event``: only a rejection changes it."""
    return Status.NEEDS_ATTENTION if event is Event.REJECTED else status


def can_submit(*, status: str, review_state: str) -> bool:
    return status in NEEDS_APPROVAL and review_state == ReviewState.DECIDED
