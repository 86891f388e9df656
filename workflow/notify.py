"""E-mail around reviews: to reviewers, one per submitted batch and one when the review
queue fills again after it was empty; to curators, one per rejection (single or bulk)
with the reviewer's comment — never one per file (see docs/workflow.md)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse

from catalog.models import FileEntry, ReviewState


def notify_reviewers(*, task, submitted_by, count: int) -> int:
    """Tell each reviewer of ``task`` (not the submitter) that ``count`` files wait."""
    reviewers = (
        get_user_model()
        .objects.filter(groups__in=task.groups.all(), is_active=True)
        .exclude(pk=getattr(submitted_by, "pk", None))
        .exclude(email="")
        .distinct()
    )
    link = settings.WAGTAILADMIN_BASE_URL + reverse("wagtailadmin_home")
    files = "1 file" if count == 1 else f"{count:,} files"
    subject = f"{files} {'is' if count == 1 else 'are'} waiting for your review"
    body = (
        f"{submitted_by} submitted {files} for pad.ma publication.\n"
        f"Review {'it' if count == 1 else 'them'} in the PHS Archive admin: {link}\n"
    )
    sender = getattr(settings, "DEFAULT_FROM_EMAIL", None)
    return send_mass_mail([(subject, body, sender, [user.email]) for user in reviewers])


def notify_reviewers_if_first(*, file: FileEntry, task, submitted_by) -> None:
    """After one file was submitted: tell the reviewers if it is the only file waiting.

    A curator submits file after file from the Curate view; one e-mail per file (what
    Wagtail sends) would bury the reviewers. They hear when the queue fills again and
    find the rest on their dashboard.
    """
    waiting = FileEntry.objects.filter(review_state=ReviewState.IN_REVIEW).exclude(pk=file.pk)
    if not waiting.exists():
        transaction.on_commit(
            lambda: notify_reviewers(task=task, submitted_by=submitted_by, count=1)
        )


#: A rejection e-mail lists at most this many files; the rest are counted.
LISTED_FILES = 20


def notify_submitters(*, reviewer, comment: str, files_by_submitter: dict) -> int:
    """Tell each submitter which of their files ``reviewer`` sent back, and why.

    ``files_by_submitter`` maps a user to the locations (``drive:/path/name``) of their
    files. A bulk rejection of 500 files sends each curator one message.
    """
    link = settings.WAGTAILADMIN_BASE_URL + reverse("wagtailadmin_home")
    sender = getattr(settings, "DEFAULT_FROM_EMAIL", None)
    messages = []
    for submitter, locations in files_by_submitter.items():
        if submitter is None or not submitter.email or submitter.pk == reviewer.pk:
            continue
        count = len(locations)
        files = "1 file" if count == 1 else f"{count:,} files"
        listed = "\n".join(f"  {location}" for location in sorted(locations)[:LISTED_FILES])
        more = f"\n  … and {count - LISTED_FILES:,} more" if count > LISTED_FILES else ""
        body = (
            f"{reviewer} sent back {files} you submitted for pad.ma publication:\n\n"
            f"{comment}\n\n{listed}{more}\n\n"
            f"They are marked *needs attention*; see 'Sent back to you' in the PHS Archive "
            f"admin: {link}\n"
        )
        subject = f"{files} {'was' if count == 1 else 'were'} sent back to you"
        messages.append((subject, body, sender, [submitter.email]))
    return send_mass_mail(messages)
