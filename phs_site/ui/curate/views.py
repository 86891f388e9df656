"""The Curate page: a shell the scripts fill in; its data goes in through ``json_script``."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from catalog.selectors import drive_progress

from .api import VIEW, page_data

#: Previews are object URLs of the curator's own files: the page's policy admits ``blob:``
#: for images, audio/video and the PDF frame — on this page only, and nothing else.
BLOB_DIRECTIVES = ("img-src", "media-src", "frame-src")


def preview_policy(policy: dict) -> dict:
    """The site's Content-Security-Policy with ``blob:`` added where previews need it."""
    if not policy:
        return policy
    widened = dict(policy)
    fallback = list(policy.get("default-src", ["'self'"]))
    for directive in BLOB_DIRECTIVES:
        sources = list(policy.get(directive, fallback))
        if "blob:" not in sources and "'none'" not in sources:
            sources.append("blob:")
        elif "'none'" in sources:
            sources = ["blob:"]
        widened[directive] = sources
    return widened


def curate(request):
    if not request.user.has_perm(VIEW):
        raise PermissionDenied
    drives = [
        {
            "id": row["drive"].pk,
            "name": row["drive"].name,
            "total": row["total"],
            "reviewed": row["reviewed"],
        }
        for row in drive_progress()
    ]
    response = TemplateResponse(
        request,
        "catalog/curate/index.html",
        {"curate": page_data(request, drives), "drives": drives},
    )
    # The widget-hash middleware widens this one further if it finds Wagtail widgets.
    response._csp_config = preview_policy(getattr(settings, "SECURE_CSP", {}))
    return response
