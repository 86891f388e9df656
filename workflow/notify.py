"""E-mail to reviewers: one digest per reviewer per submitted batch, not one per file."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.urls import reverse


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
    subject = f"{count:,} files are waiting for your review"
    body = (
        f"{submitted_by} submitted {count:,} files for pad.ma publication.\n"
        f"Review them in the PHS Archive admin: {link}\n"
    )
    sender = getattr(settings, "DEFAULT_FROM_EMAIL", None)
    return send_mass_mail([(subject, body, sender, [user.email]) for user in reviewers])
