"""Wagtail's bulk-action address, ``/admin/bulk/<app>/<model>/<action>/?id=…``, with its
ids checked first.

Every bulk action — Wagtail's own deletes, the catalog's and the review's — reads the
selection from ``?id=`` and hands it to the database as it came: ``?id=abc`` was a
ValueError and an id past 64 bits an OverflowError, both 500s. Checked here, once, in
front of Wagtail's dispatcher, they are a 400 that says which parameter is wrong.
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


def bad_id(ids: list[str]) -> str | None:
    """The first ``id`` that is neither ``all`` nor a row id, or None."""
    for value in ids:
        if value == "all":
            continue
        if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
            return value
    return None


def checked(dispatcher):
    def view(request, *args, **kwargs):
        # Not logged in: Wagtail's own answer (the login page), whatever the ids.
        if request.user.is_authenticated and (wrong := bad_id(request.GET.getlist("id"))):
            shown = wrong if len(wrong) <= 40 else f"{wrong[:40]}…"
            return HttpResponseBadRequest(
                f"'id' must be the ids of the selected rows (whole numbers) or 'all', "
                f"not {shown!r}.",
                content_type="text/plain; charset=utf-8",
            )
        return dispatcher(request, *args, **kwargs)

    return view


urlpatterns = [
    # Matched before Wagtail's own at the same address; its URL name still resolves there.
    path(
        "admin/bulk/<str:app_label>/<str:model_name>/<str:action>/",
        checked(_wagtail_dispatcher()),
    ),
]
