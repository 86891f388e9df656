"""The Curate view's JSON endpoints, under ``/admin/curate/api/``.

Each view checks the user's permission, parses and validates its input, calls one
selector or one ``workflow.services.review`` function, and answers JSON. Anything a
client can get wrong (unknown id, wrong status, oversized text, stale version, a lock)
is a 4xx with a ``{"error": "…"}`` message; never a 500. Writes need the CSRF token
(Django's middleware) and the ``version`` the client read (optimistic concurrency).
"""

import json
from functools import wraps

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.urls import reverse

from catalog.models import STATUS_COLOURS, FileEntry, Folder, ProjectGroup, ReviewState, Status
from catalog.previews.kinds import BROWSER_KINDS
from catalog.previews.selectors import preview_map
from workflow.export.eligibility import file_export_warning
from workflow.models import is_reviewer
from workflow.services import review
from workflow.services.permissions import permissions_for

from . import conflicts, selectors

#: Largest request body accepted (a save is a few KiB at most).
MAX_BODY = 256 * 1024
#: Longest description or notes accepted, in characters.
MAX_TEXT = 20_000
#: Largest page of files in one tree request.
MAX_PAGE = 500
DEFAULT_PAGE = 200
#: Largest whole number a query parameter may hold: the databases' 64-bit integers.
MAX_INT = 2**63 - 1

VIEW = "catalog.view_fileentry"
CHANGE = "catalog.change_fileentry"


class ApiError(Exception):
    def __init__(self, message: str, status: int = 400, **extra):
        super().__init__(message)
        self.status = status
        self.extra = extra


def error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def api(permission: str, methods: tuple[str, ...] = ("GET",)):
    """Method and permission checks and error mapping for one endpoint."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in methods:
                return error(f"Use {' or '.join(methods)} here.", 405)
            if not request.user.is_authenticated:
                return error("Log in again: your session has ended.", 401)
            if not request.user.has_perm(permission):
                return error("You do not have permission to do this.", 403)
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return error(str(exc), exc.status, **exc.extra)
            except FileEntry.DoesNotExist:
                return error("No such file in the catalog.", 404)
            except Folder.DoesNotExist:
                return error("No such folder on this drive.", 404)
            except PermissionDenied as exc:
                return error(str(exc) or "You do not have permission to do this.", 403)
            except ValidationError as exc:
                return error(" ".join(exc.messages), 400)
            except review.ReviewError as exc:
                return error(str(exc), 409)

        return wrapped

    return decorator


# --- input -----------------------------------------------------------------------------


def _int_param(request, name: str, *, default: int | None = None, minimum: int = 0) -> int:
    raw = request.GET.get(name)
    if raw in (None, ""):
        if default is None:
            raise ApiError(f"'{name}' is required.")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(f"'{name}' must be a whole number, not {raw[:40]!r}.") from None
    if value < minimum:
        raise ApiError(f"'{name}' must be at least {minimum}.")
    if value > MAX_INT:
        raise ApiError(f"'{name}' is too large (at most {MAX_INT}).")
    return value


def _text_param(request, name: str) -> str:
    value = request.GET.get(name, "")
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise ApiError(f"'{name}' must not contain a NUL character.")
    return value


def _json_body(request) -> dict:
    if len(request.body) > MAX_BODY:
        raise ApiError(f"The request is too large (over {MAX_BODY // 1024} KiB).", 413)
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("The request body is not valid JSON.") from None
    except RecursionError:
        raise ApiError("The request body is nested too deeply to be a save.") from None
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.")
    if (where := _not_text(data)) is not None:
        raise ApiError(
            f"'{where}' is not valid text: it holds a lone surrogate, half of a UTF-16 "
            "pair, which no database can store."
        )
    return data


def _not_text(data) -> str | None:
    """Where in parsed JSON a string holds a lone surrogate (JSON's ``\\udce9`` escapes
    allow them; UTF-8 cannot encode them), as ``changes.notes``; None if nowhere."""
    stack = [("", data)]
    while stack:  # iterative: the depth is whatever the client sent
        where, value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode()
            except UnicodeEncodeError:
                return where.encode(errors="backslashreplace").decode()
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append((f"{where}.{key}" if where else key, key))
                stack.append((f"{where}.{key}" if where else key, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
    return None


class DecisionForm(forms.Form):
    """Validates the curator fields a save sends; only the fields sent are applied."""

    status = forms.ChoiceField(choices=Status.choices)
    title = forms.CharField(max_length=255, required=False, strip=False)
    project_group = forms.ModelChoiceField(queryset=ProjectGroup.objects.all(), required=False)
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    description = forms.CharField(max_length=MAX_TEXT, required=False, strip=False)
    notes = forms.CharField(max_length=MAX_TEXT, required=False, strip=False)


def _clean_changes(raw) -> dict:
    if not isinstance(raw, dict):
        raise ApiError("'changes' must be an object of field names to values.")
    unknown = set(raw) - set(DecisionForm.base_fields)
    if unknown:
        raise ApiError(f"Not a field you can change: {', '.join(sorted(unknown))}.")
    data = {}
    for name, value in raw.items():
        if value is not None and not isinstance(value, (str, int)):
            raise ApiError(f"'{name}' must be text.")
        data[name] = "" if value is None else str(value)
    form = DecisionForm(data=data)
    for name in set(form.fields) - set(data):
        del form.fields[name]
    if not form.is_valid():
        fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        first = next(iter(fields.items()))
        label = DecisionForm.base_fields[first[0]].label or first[0].replace("_", " ")
        raise ApiError(f"{label.capitalize()}: {first[1][0]}", 400, fields=fields)
    return {name: form.cleaned_data[name] for name in data}


# --- output ----------------------------------------------------------------------------


_user_name = conflicts.user_name


def curate_url(file_id: int, drive_id: int) -> str:
    return f"{reverse('phs_curate')}?drive={drive_id}&file={file_id}"


def _folder_json(folder: Folder) -> dict:
    return {
        "path": folder.path,
        "name": folder.name,
        "total": folder.file_count,
        "reviewed": folder.reviewed_count,
        "counts": folder.status_counts(),
    }


def _file_row(row: dict) -> dict:
    return {**row, "in_review": row["review_state"] == ReviewState.IN_REVIEW}


_values = conflicts.values_of


def _preview_upload(file: FileEntry, user) -> dict:
    if not file.oshash or not user.has_perm(CHANGE):
        return {}
    return {
        str(kind): reverse("phs_previews:show", args=[file.oshash, str(kind)])
        for kind in BROWSER_KINDS
    }


def _pane_json(pane: selectors.FilePane, user) -> dict:
    file = pane.file
    locked_by_other = bool(file.locked and file.locked_by_id and file.locked_by_id != user.pk)
    own_submission = pane.submitted_by_id == user.pk
    allowed = permissions_for(file, user, submitted_by_id=pane.submitted_by_id)
    return {
        "id": file.pk,
        "drive": {"id": file.drive_id, "name": file.drive.name},
        "path": file.path,
        "filename": file.filename,
        "relative_path": file.relative_path,
        "location": file.location,
        "facts": {
            "size": file.size,
            "mime_type": file.mime_type,
            "category": file.category,
            "exif_date": file.exif_date.isoformat() if file.exif_date else None,
            "exif_date_raw": file.exif_date_raw,
            "camera": file.camera,
            "duration": file.duration,
            "resolution": file.resolution,
            "oshash": file.oshash,
            "imported_at": file.imported_at.isoformat() if file.imported_at else None,
        },
        "values": _values(file),
        "project_group_name": file.project_group.name if file.project_group else "",
        "version": file.version,
        "reviewed_at": file.reviewed_at.isoformat() if file.reviewed_at else None,
        "reviewed_by": _user_name(file.reviewed_by),
        "review": {
            "state": file.review_state,
            "label": str(ReviewState(file.review_state).label),
            "comment": file.review_comment,
            "own_submission": own_submission,
        },
        "lock": {
            "locked": bool(file.locked),
            "by": _user_name(file.locked_by) if file.locked else "",
            "mine": bool(file.locked) and not locked_by_other,
        },
        "can": allowed.as_dict(),
        # Why pad.ma could never take this file, whatever is decided (a tiny file's oshash
        # is its size): the form shows it as soon as upload or restricted is chosen.
        "export_warning": file_export_warning(file),
        "duplicate_group": file.duplicate_group_id,
        "is_primary": file.is_primary,
        "copies": [
            {
                "id": copy.pk,
                "drive": {"id": copy.drive_id, "name": copy.drive.name},
                "relative_path": copy.relative_path,
                "status": copy.status,
                "in_review": copy.review_state == ReviewState.IN_REVIEW,
                "is_primary": copy.is_primary,
                "url": curate_url(copy.pk, copy.drive_id),
            }
            for copy in pane.copies
        ],
        "copy_total": pane.copy_total,
        "edit_url": reverse("wagtailsnippets_catalog_fileentry:edit", args=[file.pk]),
        # The catalogue's offline previews (kind -> url, size, …; one query), and where
        # this person's browser may send the ones it makes from a mounted drive.
        "previews": preview_map([file.oshash]).get(file.oshash, {}),
        "preview_upload": _preview_upload(file, user),
    }


def _counts_json(drive_id: int, path: str) -> dict:
    """The counters a write to a file in ``path`` moved: its folder and every folder
    above it, up to the drive's root (the drive's own reviewed/total)."""
    folders = selectors.folder_counts(drive_id, path)
    return {"drive": drive_id, "folders": [_folder_json(folder) for folder in folders]}


def _pane_response(
    file_id: int, user, status: int = 200, *, counts: bool = False, **extra
) -> JsonResponse:
    pane = selectors.file_pane(file_id)
    data = {"file": _pane_json(pane, user), **extra}
    if counts:
        data["counts"] = _counts_json(pane.file.drive_id, pane.file.path)
    return JsonResponse(data, status=status)


#: The end of a walk, in words: "the last file", "the last unreviewed file", …
WALKED = {
    "": "file",
    "unreviewed": "unreviewed file",
    "needs_attention": "file that needs attention",
    "upload": "file for upload",
}


def _direction(raw) -> int:
    if raw in ("next", "", None):
        return 1
    if raw in ("previous", "prev"):
        return -1
    raise ApiError(f"'direction' is next or previous, not {str(raw)[:40]!r}.")


def _chip(raw) -> str:
    chip = raw or ""
    if not isinstance(chip, str) or chip not in selectors.FILTERS:
        raise ApiError(
            f"Unknown filter {str(chip)[:40]!r}; use one of {', '.join(selectors.FILTERS)}."
        )
    return chip


def _step_json(user, drive_id, path, filename, *, direction, chip, wrap=False) -> dict:
    """The file a step lands on, as a whole pane (one request per key press), or why not."""
    found = selectors.step(
        drive_id, path, filename, direction=direction, status=selectors.FILTERS[chip], wrap=wrap
    )
    if found is None:
        what = WALKED[chip]
        if not filename:
            message = f"There is no {what} on this drive."
        elif wrap:
            message = f"No {what} left on this drive."
        elif direction > 0:
            message = f"That was the last {what} on this drive."
        else:
            message = f"That is the first {what} on this drive."
        return {"file": None, "message": message}
    if (found.path, found.filename) == (path, filename):  # wrapped round to itself
        return {"file": None, "message": f"This is the only {WALKED[chip]} left on this drive."}
    pane = _pane_json(selectors.file_pane(found.pk), user)
    return {"file": pane, "folder_changed": found.path != path}


# --- endpoints -------------------------------------------------------------------------


@api(VIEW)
def tree(request):
    """GET ?drive=&path=&filter=&offset=&limit= — one folder's children and a page of files."""
    drive_id = _int_param(request, "drive")
    path = _text_param(request, "path").strip("/")
    chip = request.GET.get("filter", "")
    if chip not in selectors.FILTERS:
        raise ApiError(f"Unknown filter {chip[:40]!r}; use one of {', '.join(selectors.FILTERS)}.")
    offset = _int_param(request, "offset", default=0)
    limit = min(_int_param(request, "limit", default=DEFAULT_PAGE, minimum=1), MAX_PAGE)
    listing = selectors.tree_listing(
        drive_id, path, status=selectors.FILTERS[chip], offset=offset, limit=limit
    )
    end = offset + len(listing.files)
    return JsonResponse(
        {
            "folder": _folder_json(listing.folder),
            "folders": [_folder_json(child) for child in listing.subfolders],
            "files": [_file_row(file) for file in listing.files],
            "file_total": listing.file_total,
            "offset": offset,
            "next_offset": end if end < listing.file_total else None,
        }
    )


def file_detail(request, file_id: int):
    """GET: the file pane. POST: save the form (``{"version", "changes", "base"?}``)."""
    if request.method == "POST":
        return save(request, file_id)
    return _read(request, file_id)


@api(VIEW)
def _read(request, file_id: int):
    return _pane_response(file_id, request.user)


@api(CHANGE, ("POST",))
def save(request, file_id: int):
    body = _json_body(request)
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ApiError("'version' (the version you opened) is required and must be a number.")
    changes = _clean_changes(body.get("changes", {}))
    then = _then(body.get("then"))
    try:
        saved = review.save_decision(
            file=FileEntry(pk=file_id), user=request.user, changes=changes, expected_version=version
        )
    except review.FileLocked as locked:
        holder = _user_name(locked.file.locked_by)
        raise ApiError(
            f"{locked.file.location} is locked by {holder}; it is read-only.", 423, locked_by=holder
        ) from locked
    except review.VersionConflict as conflict:
        return _conflict(request, conflict, body.get("base"))
    if then is not None:
        # Save & Next: the next file's pane comes in the same answer, and the saved file
        # — which the page leaves at once — only as much as its tree row needs.
        step = _step_json(
            request.user,
            saved.drive_id,
            saved.path,
            saved.filename,
            direction=then["direction"],
            chip=then["filter"],
        )
        if step["file"] is not None:
            return JsonResponse(
                {
                    "file": _saved_json(saved),
                    "saved": True,
                    "counts": _counts_json(saved.drive_id, saved.path),
                    "then": step,
                }
            )
    pane = selectors.file_pane(file_id)
    file = pane.file
    data = {
        "file": _pane_json(pane, request.user),
        "saved": True,
        "counts": _counts_json(file.drive_id, file.path),
    }
    if then is not None:  # the drive's end: the saved file stays, with why
        data["then"] = step
    return JsonResponse(data)


def _saved_json(file: FileEntry) -> dict:
    """What the answer of a Save & Next says about the file it saved."""
    return {
        "id": file.pk,
        "drive": {"id": file.drive_id},
        "path": file.path,
        "filename": file.filename,
        "version": file.version,
        "values": _values(file),
        "review": {"state": file.review_state},
    }


def _then(raw) -> dict | None:
    """``"then": {"direction": "next", "filter": ""}``: after saving, step on."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ApiError('\'then\' must be an object such as {"direction": "next"}.')
    return {"direction": _direction(raw.get("direction")), "filter": _chip(raw.get("filter"))}


def _conflict(request, conflict: review.VersionConflict, base) -> JsonResponse:
    """409: the file as it is now, and what the other person changed — the fields whose
    value differs from ``base`` (what the client opened), labelled and in words."""
    current = conflict.file
    changed = conflicts.changes_since(base, current) if isinstance(base, dict) else []
    pane = _pane_json(selectors.file_pane(current.pk), request.user)
    by = conflicts.last_changed_by(current)
    return error(
        f"{by} saved this file since you opened it. Your own edits are kept; the other "
        "fields now show what they saved. Check, then save again.",
        409,
        conflict={"changed_by": by, "version": current.version, "changed": changed},
        file=pane,
        counts=_counts_json(current.drive_id, current.path),
    )


def _action(name: str, permission: str):
    @api(permission, ("POST",))
    def view(request, file_id: int):
        body = _json_body(request)
        file = FileEntry.objects.select_related("drive").get(pk=file_id)
        version = body.get("version")
        if isinstance(version, int) and version != file.version:
            raise ApiError(
                f"{file.location} changed since you opened it; reload it first.",
                409,
            )
        match name:
            case "submit":
                review.submit_for_review(file=file, user=request.user)
            case "approve":
                if not is_reviewer(request.user):
                    raise PermissionDenied("Only reviewers approve files.")
                review.approve(file=file, user=request.user, comment=_comment(body))
            case "reject":
                if not is_reviewer(request.user):
                    raise PermissionDenied("Only reviewers reject files.")
                review.reject(file=file, user=request.user, comment=_comment(body))
            case "cancel":
                review.cancel_review(file=file, user=request.user)
        return _pane_response(file_id, request.user, counts=True, done=name)

    view.__name__ = f"{name}_view"
    return view


def _comment(body: dict) -> str:
    comment = body.get("comment", "")
    if not isinstance(comment, str):
        raise ApiError("'comment' must be text.")
    if len(comment) > MAX_TEXT:
        raise ApiError(f"The comment is too long (at most {MAX_TEXT:,} characters).")
    return comment


submit = _action("submit", CHANGE)
approve = _action("approve", VIEW)
reject = _action("reject", VIEW)
cancel = _action("cancel", CHANGE)


@api(VIEW)
def step(request):
    """GET ?drive=&path=&filename=&direction=next|previous&filter=&wrap= — the file after
    (or before) that one in tree order across the whole drive, as its pane."""
    drive_id = _int_param(request, "drive")
    path = _text_param(request, "path").strip("/")
    filename = _text_param(request, "filename")
    return JsonResponse(
        _step_json(
            request.user,
            drive_id,
            path,
            filename,
            direction=_direction(request.GET.get("direction")),
            chip=_chip(request.GET.get("filter")),
            wrap=request.GET.get("wrap") in ("1", "true"),
        )
    )


@api(VIEW)
def next_unreviewed(request):
    """GET ?drive=&path=&filename= — the next unreviewed file of the drive after that one,
    in tree order, wrapping round to the start; as its pane."""
    drive_id = _int_param(request, "drive")
    path = _text_param(request, "path").strip("/")
    filename = _text_param(request, "filename")
    return JsonResponse(
        _step_json(
            request.user, drive_id, path, filename, direction=1, chip="unreviewed", wrap=True
        )
    )


def page_data(request, drives: list[dict]) -> dict:
    """What the page hands the scripts (``json_script``): drives, choices, URLs, the user."""
    user = request.user
    return {
        "drives": drives,
        "statuses": [
            {"value": value, "label": str(label), "colour": STATUS_COLOURS[value], "key": i + 1}
            for i, (value, label) in enumerate(Status.choices)
        ],
        "project_groups": list(ProjectGroup.objects.values("id", "name")),
        "filters": [
            {"value": "unreviewed", "label": "Unreviewed only"},
            {"value": "needs_attention", "label": "Needs attention"},
            {"value": "upload", "label": "For upload"},
        ],
        "user": {
            "id": user.pk,
            "name": _user_name(user),
            "can_edit": user.has_perm(CHANGE),
            "is_reviewer": is_reviewer(user),
        },
        "urls": {
            "tree": reverse("phs_curate_api_tree"),
            "file": reverse("phs_curate_api_file", args=[0]),
            "next_unreviewed": reverse("phs_curate_api_next_unreviewed"),
            "step": reverse("phs_curate_api_step"),
            "page": reverse("phs_curate"),
        },
        "limits": {"text": MAX_TEXT, "page": DEFAULT_PAGE},
    }
