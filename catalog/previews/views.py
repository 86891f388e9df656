"""Serving a stored preview (GET) and taking one a browser made (POST), at one address:
``/admin/previews/<oshash>/<kind>/``. Private: login and the files' permissions."""

import json

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import FileSystemStorage
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
    JsonResponse,
)
from django.views.decorators.http import require_http_methods

from .kinds import Kind
from .selectors import preview_url, stored_preview
from .services import OSHASH_RE, PreviewRefused, store_browser_preview

VIEW_PERMISSION = "catalog.view_fileentry"
CHANGE_PERMISSION = "catalog.change_fileentry"
#: Previews never change under their URL's version (``?v=``); a day, then revalidate.
CACHE_CONTROL = "private, max-age=86400, immutable"
#: Seconds a signed URL of an S3-style store lasts (long enough to load a page).
SIGNED_URL_SECONDS = 300


def _json_error(message: str, status: int, field: str | None = None) -> JsonResponse:
    body = {"error": f"{field}: {message}" if field else message}
    if field:
        body["field"] = field
    return JsonResponse(body, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def preview_view(request, oshash: str, kind: str):
    if request.method == "POST":
        return _upload(request, oshash, kind)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.has_perm(VIEW_PERMISSION):
        return HttpResponse("You may not see the catalogue's previews.", status=403)
    return _show(request, oshash, kind)


def _show(request, oshash: str, kind: str) -> HttpResponse:
    if not OSHASH_RE.match(oshash) or kind not in Kind.values:
        raise Http404("No such preview.")
    preview = stored_preview(oshash, kind)
    if preview is None:
        raise Http404("No such preview.")
    etag = f'"{oshash}-{kind}-{int(preview.created_at.timestamp()):x}-{preview.bytes}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = _file_response(preview)
    response["ETag"] = etag
    if isinstance(response, HttpResponseRedirect):
        # The signed URL expires: the browser may keep the redirect only a little less.
        response["Cache-Control"] = f"private, max-age={SIGNED_URL_SECONDS - 60}"
    else:
        response["Cache-Control"] = CACHE_CONTROL
    return response


def _file_response(preview) -> HttpResponse:
    storage = preview.file.storage
    if not isinstance(storage, FileSystemStorage):
        # An S3-style store: a short-lived signed URL (docs/previews.md).
        return HttpResponseRedirect(storage.url(preview.file.name, expire=SIGNED_URL_SECONDS))
    accel_prefix = settings.PHS_PREVIEWS_ACCEL_PREFIX
    if accel_prefix:
        # nginx sends the file from its `internal` location; Django only said yes.
        response = HttpResponse(content_type=preview.content_type)
        response["X-Accel-Redirect"] = accel_prefix.rstrip("/") + "/" + preview.file.name
        return response
    try:
        handle = storage.open(preview.file.name, "rb")
    except FileNotFoundError as error:
        raise Http404("The preview's file is missing from the previews storage.") from error
    return FileResponse(handle, content_type=preview.content_type)


def _upload(request, oshash: str, kind: str) -> JsonResponse:
    if not request.user.is_authenticated:
        return _json_error("Log in again: your session has ended.", 401)
    if not request.user.has_perm(CHANGE_PERMISSION):
        return _json_error("You may not add previews to the catalogue.", 403)
    upload = request.FILES.get("image")
    if upload is None:
        return _json_error("send the preview as the multipart field 'image'", 400, "image")
    try:
        times = _frame_times(request.POST.get("times", ""))
        cap = 8 * 1024 * 1024  # read no more than any cap allows, plus one byte
        data = upload.read(cap + 1)
        outcome = store_browser_preview(oshash=oshash, kind=kind, data=data, frame_times=times)
    except PreviewRefused as refused:
        return _json_error(str(refused), refused.status, refused.field)
    return JsonResponse(
        {
            "stored": outcome.stored,
            "message": outcome.message,
            "source": outcome.preview.source,
            "url": preview_url(oshash, kind),
        },
        status=201 if outcome.stored else 200,
    )


def _frame_times(raw: str) -> list[float] | None:
    """``times``: a JSON list of seconds (strips only)."""
    if not raw:
        return None
    try:
        times = json.loads(raw)
        if not isinstance(times, list):
            raise ValueError
        return [float(time) for time in times]
    except (ValueError, TypeError) as error:
        raise PreviewRefused("a JSON list of seconds, e.g. [1.5, 4.5]", field="times") from error
