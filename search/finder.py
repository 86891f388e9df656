"""The Find files read: a query plus facets → one page, the total and every facet's counts.

Planned queries, whatever the catalog's size: one for all facet counts (a materialised
CTE of the matching rows grouped nine ways), one for the page, and one each for the
drive and project-group names the facets show. Ranking, facets and sorting work on
the catalog's own columns and the index's folded text, the same on both databases.
"""

# Set-based SQL: only module constants are interpolated; every value is a parameter.
# ruff: noqa: S608

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Case, F, Func, IntegerField, Q, QuerySet, Value, When
from django.http import QueryDict

from catalog.models import Category, Drive, FileEntry, ProjectGroup, ReviewState, Status

from .backends import get_backend
from .text import Query, parse_query

PER_PAGE = 50
#: Values shown per facet (the selected ones are always shown).
FACET_LIMIT = 12
#: Whole-catalog counts (no query, no facet) are cached this long.
ALL_COUNTS_SECONDS = 300
ALL_COUNTS_CACHE = "phs_search:facets:all"

YES_NO = {"yes": "Yes", "no": "No"}


@dataclass(frozen=True)
class Facet:
    key: str
    label: str


FACETS = [
    Facet("drive", "Drive"),
    Facet("category", "Type"),
    Facet("status", "Status"),
    Facet("review", "Review"),
    Facet("project_group", "Project group"),
    Facet("camera", "Camera"),
    Facet("year", "Year"),
    Facet("duplicate", "Has copies"),
    Facet("exported", "On pad.ma"),
]
FACET_KEYS = [facet.key for facet in FACETS]

SORTS = {
    "relevance": "Relevance",
    "path": "Drive and path",
    "-date": "Newest first",
    "date": "Oldest first",
    "-size": "Largest first",
    "size": "Smallest first",
}


def facet_filter(key: str, values: list[str]) -> Q | None:
    """The condition for one facet's selected values (any of them); None if invalid."""
    if key == "drive":
        ids = [int(v) for v in values if v.isdigit()]
        return Q(drive_id__in=ids) if ids else None
    if key == "category":
        categories = [v for v in values if v in Category.values]
        return Q(category__in=categories) if categories else None
    if key == "status":
        statuses = [v for v in values if v in Status.values]
        return Q(status__in=statuses) if statuses else None
    if key == "review":
        states = [v for v in values if v in ReviewState.values]
        return Q(review_state__in=states) if states or "" in values else None
    if key == "project_group":
        ids = [int(v) for v in values if v.isdigit()]
        q = Q(project_group_id__in=ids) if ids else Q(pk__in=[])
        return q | Q(project_group__isnull=True) if "none" in values else (q if ids else None)
    if key == "camera":
        return Q(camera__in=values) if values else None
    if key == "year":
        years = [int(v) for v in values if v.isdigit() and 1800 <= int(v) <= 2200]
        q = Q()
        for year in years:
            q |= Q(date__year=year)
        if "none" in values:
            q |= Q(date__isnull=True)
        return q or None
    if key == "duplicate":
        return _yes_no(values, Q(duplicate_group__isnull=False))
    if key == "exported":
        return _yes_no(values, ~Q(padma_id=""))
    return None


def _yes_no(values: list[str], yes: Q) -> Q | None:
    if values == ["yes"]:
        return yes
    if values == ["no"]:
        return ~yes
    return None


@dataclass
class Search:
    """A Find files request, parsed from its query string."""

    text: str = ""
    facets: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1

    @classmethod
    def from_params(cls, params: QueryDict | dict) -> "Search":
        def getlist(key):
            if hasattr(params, "getlist"):
                return params.getlist(key)
            value = params.get(key)
            return value if isinstance(value, list) else [value] if value is not None else []

        facets = {}
        for key in FACET_KEYS:
            values = [str(v)[:255] for v in getlist(key) if v is not None][:50]
            if values and facet_filter(key, values) is not None:
                facets[key] = values
        text = (getlist("q") or [""])[0] or ""
        sort = (getlist("sort") or [""])[0]
        if sort not in SORTS:
            sort = "relevance" if text.strip() else "path"
        page = (getlist("p") or ["1"])[0]
        return cls(
            text=text[:20_000],
            facets=facets,
            sort=sort,
            page=int(page) if str(page).isdigit() and 0 < int(page) < 100_000 else 1,
        )

    @property
    def query(self) -> Query:
        return parse_query(self.text)

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and not self.facets

    def params(self, **changes) -> list[tuple[str, str]]:
        """This search as query-string pairs, with ``changes`` applied (None removes)."""
        values: dict[str, list[str]] = {"q": [self.text] if self.text else []}
        values.update({key: list(v) for key, v in self.facets.items()})
        values["sort"] = [self.sort] if self.sort not in ("relevance", "path") else []
        for key, value in changes.items():
            values[key] = [] if value is None else value if isinstance(value, list) else [value]
        return [(key, v) for key, vs in values.items() for v in vs]

    def url_query(self, **changes) -> str:
        return urlencode(self.params(**changes))


def matching_files(search: Search, queryset: QuerySet | None = None) -> QuerySet[FileEntry]:
    """Every file the search finds (query and facets), unordered."""
    files = FileEntry.objects.all() if queryset is None else queryset
    for key, values in search.facets.items():
        condition = facet_filter(key, values)
        if condition is not None:
            files = files.filter(condition)
    query = search.query
    if search.text.strip():
        files = get_backend().filter(files, query) if query else files.none()
    return files


def files_from_query_string(query_string: str) -> QuerySet[FileEntry]:
    """The files a Find files URL's query string finds: for *select all* in bulk actions."""
    return matching_files(Search.from_params(QueryDict(query_string)))


def score(query: Query):
    """Relevance, on the index's folded text: exact filename, then a hit in the filename,
    oshash, title, project group/camera, description/notes, then the folder."""
    total = Value(0)
    for term in query.terms:
        text = term.text
        parts = [
            When(search_index__name=text, then=Value(16)),
            When(search_index__name__contains=text, then=Value(8)),
        ]
        total += Case(*parts, default=Value(0), output_field=IntegerField())
        weights = [("title", 4), ("tags", 2), ("body", 1), ("location", 1)]
        if term.hex_prefix:
            weights.insert(0, ("oshash__startswith", 12))
        for lookup, weight in weights:
            if "__" not in lookup:
                lookup += "__contains"
            total += Case(
                When(**{f"search_index__{lookup}": text}, then=Value(weight)),
                default=Value(0),
                output_field=IntegerField(),
            )
    return total


def ordered(files: QuerySet, search: Search) -> QuerySet:
    path = ("drive__name", "path", "filename")
    if search.text.strip():
        # With a query, sort the (few) matches rather than walking a whole index in
        # order and filtering it: the planner's LIMIT trap, seconds at a million rows.
        path = (F("drive_id") + 0, "path", "filename")
    if search.sort == "relevance" and search.query:
        return files.annotate(rank=score(search.query)).order_by("-rank", *path)
    if search.sort in ("date", "-date"):
        date = (
            F("date").asc(nulls_last=True)
            if search.sort == "date"
            else F("date").desc(nulls_last=True)
        )
        return files.order_by(date, *path)
    if search.sort in ("size", "-size"):
        size = (
            F("size").asc(nulls_last=True)
            if search.sort == "size"
            else F("size").desc(nulls_last=True)
        )
        return files.order_by(size, *path)
    if search.text.strip():
        return files.order_by(*path)
    return files.order_by("drive_id", "path", "filename")


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    url_query: str


@dataclass
class FacetCounts:
    facet: Facet
    values: list[FacetValue]
    more: int = 0


@dataclass
class Results:
    search: Search
    total: int
    files: list[FileEntry]
    facets: list[FacetCounts]
    messages: list[str]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))


def find(search: Search) -> Results:
    """The page, the total and the facet counts for ``search``."""
    query = search.query
    messages = list(query.messages)
    if search.text.strip() and not query:
        messages.append("Nothing to search for: type a word, a part of a name or an oshash.")
    files = matching_files(search)
    counts = facet_counts(files, cache_key=ALL_COUNTS_CACHE if search.is_empty else None)
    total = sum(counts.get("drive", {}).values())
    offset = (search.page - 1) * PER_PAGE
    page = (
        list(
            ordered(files, search).select_related("drive", "project_group")[
                offset : offset + PER_PAGE
            ]
        )
        if total
        else []
    )
    return Results(
        search=search,
        total=total,
        files=page,
        facets=_label_facets(search, counts),
        messages=messages,
    )


class Year(Func):
    """The year of a date column: EXTRACT on PostgreSQL, the text's first four characters
    on SQLite (Django's ExtractYear calls a Python function per row there)."""

    output_field = IntegerField()
    template = "EXTRACT(YEAR FROM %(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="CAST(substr(%(expressions)s, 1, 4) AS integer)"
        )


def facet_counts(files: QuerySet, cache_key: str | None = None) -> dict[str, dict]:
    """{facet key: {value: count}} for the files, in one query."""
    if cache_key and (cached := cache.get(cache_key)) is not None:
        return cached
    columns = files.order_by().annotate(
        _year=Year("date"),
        _dup=Case(When(duplicate_group__isnull=True, then=Value(0)), default=Value(1)),
        _exp=Case(When(padma_id="", then=Value(0)), default=Value(1)),
    )
    names = ["drive_id", "category", "status", "review_state", "project_group_id"]
    names += ["camera", "_year", "_dup", "_exp"]
    keys = FACET_KEYS
    try:
        inner, params = columns.values_list(*names).query.sql_with_params()
    except EmptyResultSet:  # files.none(): a query with nothing searchable
        return {key: {} for key in keys}
    aliases = [f"c{i}" for i in range(len(keys))]
    materialized = "MATERIALIZED " if connection.vendor in ("postgresql", "sqlite") else ""
    selects = " UNION ALL ".join(
        f"SELECT {i}, CAST({alias} AS TEXT), COUNT(*) FROM m GROUP BY {alias}"
        for i, alias in enumerate(aliases)
    )
    sql = f"WITH m ({', '.join(aliases)}) AS {materialized}({inner}) {selects}"
    counts: dict[str, dict] = {key: {} for key in keys}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for index, value, count in cursor.fetchall():
            counts[keys[index]][value] = count
    if cache_key:
        cache.set(cache_key, counts, ALL_COUNTS_SECONDS)
    return counts


def _label_facets(search: Search, counts: dict[str, dict]) -> list[FacetCounts]:
    drive_ids = [int(v) for v in counts["drive"] if v is not None]
    drive_ids += [int(v) for v in search.facets.get("drive", []) if v.isdigit()]
    group_ids = [int(v) for v in counts["project_group"] if v is not None]
    group_ids += [int(v) for v in search.facets.get("project_group", []) if v.isdigit()]
    drives = dict(Drive.objects.filter(pk__in=drive_ids).values_list("pk", "name"))
    groups = dict(ProjectGroup.objects.filter(pk__in=group_ids).values_list("pk", "name"))
    labels = {
        "drive": lambda v: drives.get(int(v), v),
        "category": lambda v: Category(v).label if v in Category.values else v,
        "status": lambda v: Status(v).label if v in Status.values else v,
        "review": lambda v: ReviewState(v).label if v in ReviewState.values else v,
        "project_group": lambda v: groups.get(int(v), v),
        "camera": lambda v: v or "(none)",
        "year": lambda v: v,
        "duplicate": lambda v: YES_NO[v],
        "exported": lambda v: YES_NO[v],
    }
    result = []
    for facet in FACETS:
        raw = counts[facet.key]
        if facet.key in ("duplicate", "exported"):
            raw = {"yes" if v == "1" else "no": n for v, n in raw.items()}
        elif facet.key in ("project_group", "year"):
            raw = {("none" if v is None else v): n for v, n in raw.items()}
        selected = search.facets.get(facet.key, [])
        values = []
        for value, count in sorted(raw.items(), key=lambda item: (-item[1], str(item[0]))):
            label = "(none)" if value == "none" else labels[facet.key](value)
            if facet.key == "review" and value == "":
                label = "Nothing to review"
            values.append(
                FacetValue(
                    value=value,
                    label=str(label),
                    count=count,
                    selected=value in selected,
                    url_query=search.url_query(
                        **{facet.key: [v for v in selected if v != value]}
                        if value in selected
                        else {facet.key: [*selected, value]},
                        p=None,
                    ),
                )
            )
        if facet.key == "year":
            values.sort(key=lambda v: v.value if v.value != "none" else "0", reverse=True)
        shown = [v for i, v in enumerate(values) if i < FACET_LIMIT or v.selected]
        result.append(FacetCounts(facet=facet, values=shown, more=len(values) - len(shown)))
    return result
