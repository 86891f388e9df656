"""Wagtail's bulk-action address, ``/admin/bulk/<app>/<model>/<action>/?id=…&next=…``,
with its parameters checked first.

Every bulk action — Wagtail's own deletes, the catalog's and the review's — reads the
selection from ``?id=`` and hands it to the database as it came (``?id=abc`` was a
ValueError, an id past 64 bits an OverflowError), and redirects to ``next`` through
``redirect()``, which takes a word such as ``next=0`` for a URL name (NoReverseMatch):
all 500s. Checked here, once, in front of Wagtail's dispatcher, they are a 400 that says
which parameter is wrong.
"""

from django.http import HttpResponseBadRequest
from django.urls import path
from wagtail.admin import urls as wagtailadmin_urls

#: The largest id a database row can have (64-bit integers).
MAX_ID = 2**63 - 1


def _wagtail_dispatcher():
    """Wagtail's view as its URLconf serves it: with the admin's login and access checks."""
    return next(
        pattern.callback
        for pattern in wagtailadmin_urls.urlpatterns
        if getattr(pattern, "name", None) == "wagtail_bulk_action"
    )


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else f"{value[:40]}…")


def problem(request) -> str | None:
    """What is wrong with the request's ``id`` or ``next``, in words; None if nothing."""
    for value in request.GET.getlist("id"):
        if value != "all" and not (value.isascii() and value.isdigit() and int(value) <= MAX_ID):
            return (
                "'id' must be the ids of the selected rows (whole numbers) or 'all', "
                f"not {_shown(value)}."
            )
    for value in [*request.GET.getlist("next"), *request.POST.getlist("next")]:
        # redirect() reads a value with neither "/" nor "." as a URL pattern's name.
        if value and "/" not in value and "." not in value:
            return f"'next' must be an address on this site, not {_shown(value)}."
    return None


def checked(dispatcher):
    def view(request, *args, **kwargs):
        # Not logged in: Wagtail's own answer (the login page), whatever the parameters.
        if request.user.is_authenticated and (message := problem(request)):
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return dispatcher(request, *args, **kwargs)

    return view


urlpatterns = [
    # Matched before Wagtail's own at the same address; its URL name still resolves there.
    path(
        "admin/bulk/<str:app_label>/<str:model_name>/<str:action>/",
        checked(_wagtail_dispatcher()),
    ),
]
