"""The admin's sign-in page when django-axes has locked a user out at an address.

Axes counts failed sign-ins per user *and* address (``AXES_LOCKOUT_PARAMETERS``) and,
at ``AXES_FAILURE_LIMIT``, refuses even the right password until ``AXES_COOLOFF_TIME``
has passed or an operator lifts the lock (docs/operations.md). This module makes that
refusal the ordinary sign-in page saying so and when to try again, answered 429:
the form (``WAGTAILADMIN_USER_LOGIN_FORM``) puts the message where a wrong password's
would be, and axes' middleware (``AXES_LOCKOUT_CALLABLE``) keeps that page.
"""

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.db.models import Max
from django.http import HttpResponse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm


def lockout_message(request) -> str:
    """What a locked-out person reads: why, until when, and whom to ask."""
    until = _locked_until(request)
    if until is None:
        return _(
            "Too many failed sign-ins for this user from your address. "
            "Ask an administrator to lift the lock."
        )
    return _(
        "Too many failed sign-ins for this user from your address: sign-in is locked "
        "until %(time)s. Try again then, or ask an administrator to lift the lock now."
    ) % {"time": time_format(timezone.localtime(until), "H:i")}


def _locked_until(request):
    cool_off = get_cool_off(request)
    if cool_off is None:
        return None
    last = AccessAttempt.objects.filter(
        username=get_client_username(request),
        ip_address=getattr(request, "axes_ip_address", None),
    ).aggregate(last=Max("attempt_time"))["last"]
    return (last or timezone.now()) + cool_off


class LoginForm(WagtailLoginForm):
    """Wagtail's sign-in form, naming a lockout instead of "didn't match"."""

    def get_invalid_login_error(self):
        if getattr(self.request, "axes_locked_out", False):
            return forms.ValidationError(lockout_message(self.request), code="locked_out")
        return super().get_invalid_login_error()


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """The sign-in page the view rendered (with the form's lockout message), as 429."""
    if original_response is None:  # not from the sign-in view: the message alone
        original_response = HttpResponse(lockout_message(request))
    original_response.status_code = settings.AXES_HTTP_RESPONSE_CODE
    return original_response
