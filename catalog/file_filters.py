"""The file filters' one vocabulary, shared by the file listing (``catalog.filters``) and
Find files (``search.finder``): each filter's URL key, its label, how its values are read
and the condition it selects.

Values are query-string text. Values a filter cannot read (not a row id, past 64 bits,
an unknown choice) are ignored, never an error: a hand-edited or old URL shows more files,
not a server error. Saved searches store Find files' query strings, so these keys and
values are for keeps; the listing's older spellings are ``LISTING_ALIASES``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .models import Category, ReviewState, Status

YES_NO = {"yes": _("Yes"), "no": _("No")}
#: The listing's former keys and values, still accepted in its URLs (bookmarks, the
#: dashboard's links): ``review_state`` is ``review``; ``duplicate=true`` is ``yes``.
LISTING_ALIASES = {"review_state": "review"}
LISTING_VALUE_ALIASES = {"duplicate": {"true": "yes", "false": "no"}}


def whole_numbers(values: list[str]) -> list[int]:
    """The values that are row ids: ASCII digits ("²" is a digit to str.isdigit, not to
    int()) within the databases' 64-bit integers (past them, an OverflowError)."""
    return [int(v) for v in values if v.isascii() and v.isdigit() and int(v) < 2**63]


def _any_of(field: str, values: list) -> Q:
    # One value is an equality, as the listing always asked for: the same plan either way,
    # and the same SQL on both pages.
    return Q(**{field: values[0]}) if len(values) == 1 else Q(**{f"{field}__in": values})


def _choices(field: str, allowed: list[str]) -> Callable[[list[str]], Q | None]:
    def condition(values: list[str]) -> Q | None:
        chosen = [v for v in values if v in allowed]
        return _any_of(field, chosen) if chosen else None

    return condition


def _ids(field: str) -> Callable[[list[str]], Q | None]:
    def condition(values: list[str]) -> Q | None:
        ids = whole_numbers(values)
        return _any_of(field, ids) if ids else None

    return condition


def _review(values: list[str]) -> Q | None:
    # "" is a state too: nothing to review.
    states = [v for v in values if v in ReviewState.values]
    return _any_of("review_state", states) if states else None


def _project_group(values: list[str]) -> Q | None:
    ids = whole_numbers(values)
    q = _any_of("project_group_id", ids) if ids else None
    if "none" in values:
        return Q(project_group__isnull=True) if q is None else q | Q(project_group__isnull=True)
    return q


def _camera(values: list[str]) -> Q | None:
    return _any_of("camera", values) if values else None


def _year(values: list[str]) -> Q | None:
    q = Q()
    for year in whole_numbers(values):
        if 1800 <= year <= 2200:
            q |= Q(date__year=year)
    if "none" in values:
        q |= Q(date__isnull=True)
    return q or None


def _yes_no(yes: Q) -> Callable[[list[str]], Q | None]:
    def condition(values: list[str]) -> Q | None:
        if values == ["yes"]:
            return yes
        if values == ["no"]:
            return ~yes
        return None

    return condition


@dataclass(frozen=True)
class FileFilter:
    key: str
    label: str
    #: The condition for the selected values (any of them); None if none can be read.
    condition: Callable[[list[str]], Q | None]


FILTERS = {
    f.key: f
    for f in [
        FileFilter("drive", _("Drive"), _ids("drive_id")),
        FileFilter("category", _("Type"), _choices("category", Category.values)),
        FileFilter("status", _("Status"), _choices("status", Status.values)),
        FileFilter("review", _("Review"), _review),
        FileFilter("project_group", _("Project group"), _project_group),
        FileFilter("camera", _("Camera"), _camera),
        FileFilter("year", _("Year"), _year),
        FileFilter("duplicate", _("Has copies"), _yes_no(Q(duplicate_group__isnull=False))),
        FileFilter("exported", _("On pad.ma"), _yes_no(~Q(padma_id=""))),
    ]
}


def file_filter(key: str, values: list[str]) -> Q | None:
    """The condition for one filter's selected values; None if the key is unknown or no
    value can be read."""
    known = FILTERS.get(key)
    return known.condition(values) if known is not None and values else None


def listing_params(data) -> QueryDict:
    """The listing's query parameters (a QueryDict, or a dict of values or lists of
    them) with its former spellings in today's words."""
    params = QueryDict(mutable=True)
    if hasattr(data, "getlist"):
        params.update(data)
    else:
        for key, value in data.items():
            params.setlist(key, value if isinstance(value, list) else [value])
    for old, new in LISTING_ALIASES.items():
        values = params.pop(old, [])
        if values and new not in params:
            params.setlist(new, values)
    for key, aliases in LISTING_VALUE_ALIASES.items():
        if key in params:
            params.setlist(key, [aliases.get(v, v) for v in params.getlist(key)])
    return params
