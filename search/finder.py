"""The Find files read: a query plus facets → one page, the total and every facet's counts.

Planned queries, whatever the catalog's size: one for all facet counts (a materialised
CTE of the matching rows grouped nine ways), one for the page, and one each for the
drive and project-group names the facets show. Ranking, facets and sorting work on
the catalog's own columns and the index's folded text, the same on both databases.
"""

# Set-based SQL: only module constants and the catalog's names (``catalog.schema``) are
# interpolated; every value is a parameter.
# ruff: noqa: S608

from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import F, Func, IntegerField, Q, QuerySet, Value
from django.http import QueryDict

from catalog.file_filters import FILTERS, YES_NO, file_filter, whole_numbers
from catalog.models import Category, Drive, FileEntry, ProjectGroup, ReviewState, Status
from catalog.schema import FILE_ENTRY

from .backends import get_backend
from .backends.base import IndexFacets
from .text import Query, parse_query

PER_PAGE = 50
#: Values shown per facet (the selected ones are always shown).
FACET_LIMIT = 12
#: Whole-catalog counts (no query, no facet) are cached this long.
ALL_COUNTS_SECONDS = 300
ALL_COUNTS_CACHE = "phs_search:facets:all"


@dataclass(frozen=True)
class Facet:
    key: str
    label: str


#: The facets, in the page's order; keys, labels and conditions are the vocabulary's
#: (``catalog.file_filters``), which the file listing shares.
FACETS = [Facet(f.key, f.label) for f in FILTERS.values()]
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
    return file_filter(key, values)


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
            page=int(page) if whole_numbers([str(page)]) and 0 < int(page) < 100_000 else 1,
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


def ordered(files: QuerySet, search: Search) -> QuerySet:
    """The files in the search's order, for the sorts on the catalog's columns (and for
    exports, which are in relevance order only through ``find``'s page)."""
    path = ("drive__name", "path", "filename")
    if search.text.strip():
        # With a query, sort the (few) matches rather than walking a whole index in
        # order and filtering it: the planner's LIMIT trap, seconds at a million rows.
        path = (F("drive_id") + 0, "path", "filename")
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
    #: ``count`` is an estimate from a sample (shown as "≈").
    approximate: bool = False


@dataclass
class FacetCounts:
    facet: Facet
    values: list[FacetValue]
    more: int = 0


@dataclass
class Tally:
    """Facet counts and the total of a result set, exact or estimated from a sample."""

    counts: dict[str, dict]
    total: int
    #: The facet counts were estimated from this many sampled matches (0: exact).
    sampled: int = 0


@dataclass
class Results:
    search: Search
    total: int
    files: list[FileEntry]
    facets: list[FacetCounts]
    messages: list[str]
    #: Facet counts were estimated from a sample of this many matching files (0: exact).
    sampled: int = 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))


# ------------------------------------------------------------------ counting

#: Facet counts are exact for result sets up to this size. Above it they are estimated
#: from an evenly spread sample of about this many matching files, and shown as such
#: ("≈"): counting every match of a broad query costs time proportional to the matches
#: (a row of the catalog's file table each), seconds at a million files.
EXACT_LIMIT = 5_000
SAMPLE_SIZE = 5_000
#: The sample: files whose ``(id * 40503) mod 2**16`` (a Weyl sequence over the ids, so
#: evenly spread over every drive and folder) is below a threshold.
SAMPLE_MODULUS = 65536

#: The ``FileEntry`` field behind each facet (``year``: the year of ``date``).
COLUMNS = {
    "drive": "drive_id",
    "category": "category",
    "status": "status",
    "review": "review_state",
    "project_group": "project_group_id",
    "camera": "camera",
    "year": "date",
    "duplicate": "duplicate_group_id",
    "exported": "padma_id",
}


class Year(Func):
    """The year of a date column: EXTRACT on PostgreSQL, the text's first four characters
    on SQLite (Django's ExtractYear calls a Python function per row there)."""

    output_field = IntegerField()
    template = "CAST(EXTRACT(YEAR FROM %(expressions)s) AS integer)"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="CAST(substr(%(expressions)s, 1, 4) AS integer)"
        )


def facet_rows(files: QuerySet) -> QuerySet:
    """The facet columns (``COLUMNS`` order) of the files, as tuples."""
    names = [column if key != "year" else "_year" for key, column in COLUMNS.items()]
    return files.order_by().annotate(_year=Year("date")).values_list(*names)


def facet_columns() -> list[str]:
    """The facet columns of ``FileEntry``'s table in ``COLUMNS`` order, as raw SQL."""
    date = f"{FILE_ENTRY}.{FILE_ENTRY.date}"
    year = (
        f"CAST(substr({date}, 1, 4) AS integer)"
        if connection.vendor == "sqlite"
        else f"CAST(EXTRACT(YEAR FROM {date}) AS integer)"
    )
    return [
        year if key == "year" else f"{FILE_ENTRY}.{getattr(FILE_ENTRY, field)}"
        for key, field in COLUMNS.items()
    ]


def sample_threshold(matches: int) -> int:
    return min(SAMPLE_MODULUS, -(-SAMPLE_MODULUS * SAMPLE_SIZE // max(matches, 1)))


def sample_sql(column: str, threshold: str) -> str:
    """SQL: is the file ``column`` in the sample below ``threshold`` (an SQL expression)?"""
    return f"(({column} * 40503) & {SAMPLE_MODULUS - 1}) < {threshold}"


def facet_value(key: str, value) -> str | None:
    """A row's value for a facet, as the facet's counts key it."""
    if key == "year":
        return None if value is None else str(value)
    if key == "duplicate":
        return "yes" if value is not None else "no"
    if key == "exported":
        return "yes" if value else "no"
    if key in ("drive", "project_group"):
        return None if value is None else str(value)
    return value


def count_rows(rows, scale: float = 1.0) -> dict[str, dict]:
    """{facet key: {value: count}} from rows of the ``COLUMNS`` values (the year for
    ``date``), each counting ``scale`` (an estimate, two significant figures, if > 1)."""
    counts: dict[str, dict] = {key: {} for key in COLUMNS}
    columns = list(zip(*rows, strict=True)) or [() for _ in COLUMNS]
    for key, column in zip(COLUMNS, columns, strict=True):
        tally = counts[key]
        for value, n in Counter(column).items():  # few distinct values: C-speed counting
            value = facet_value(key, value)
            tally[value] = tally.get(value, 0) + n
        for value, n in tally.items():
            tally[value] = estimate(n, scale)
    return counts


def estimate(count: int, scale: float) -> int:
    """``count`` sampled rows, scaled; two significant figures when it is an estimate."""
    if scale <= 1:
        return count
    value = count * scale
    digits = max(0, len(str(int(value))) - 2)
    return max(1, int(round(value, -digits)))


def facet_counts(files: QuerySet, cache_key: str | None = None) -> dict[str, dict]:
    """{facet key: {value: count}} for every file of the queryset, exactly."""
    if cache_key and (cached := cache.get(cache_key)) is not None:
        return cached
    counts = count_rows(facet_rows(files))
    if cache_key:
        cache.set(cache_key, counts, ALL_COUNTS_SECONDS)
    return counts


#: Facets the index holds too (only imports set them): applied to its rows.
INDEX_FACETS = ("drive", "category")


def _facet_where(search: Search) -> tuple[str, list]:
    """The selected facets but INDEX_FACETS, as a condition on ``FileEntry``'s table
    (``("", [])`` if none)."""
    facets = {key: v for key, v in search.facets.items() if key not in INDEX_FACETS}
    if not facets:
        return "", []
    files = matching_files(Search(facets=facets))
    query = files.query
    compiler = query.get_compiler(connection=connection)
    try:
        sql, params = compiler.compile(query.where)
    except EmptyResultSet:
        return "1 = 0", []
    joins = [alias for alias, count in query.alias_refcount.items() if count]
    if len(joins) > 1 or not sql:  # a join: as a subquery instead
        inner, params = files.values("pk").query.sql_with_params()
        return f"{FILE_ENTRY}.{FILE_ENTRY.id} IN ({inner})", list(params)
    return sql, list(params)


def _index_facets(search: Search) -> IndexFacets:
    """The selected INDEX_FACETS, for the backend to narrow the query with."""
    return IndexFacets(
        drives=tuple(whole_numbers(search.facets.get("drive", []))),
        categories=tuple(v for v in search.facets.get("category", []) if v in Category.values),
    )


def _rows(sql: str, params: list) -> list[tuple]:
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # The plans of broad queries are estimated above jit_above_cost: compiling them
        # takes longer (~100 ms) than running them. Parallel workers double the time of
        # the bitmap scans here (index-driven, a few ms of work each) on a busy server.
        cursor.execute("SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql, params)
        return cursor.fetchall()


def find(search: Search) -> Results:
    """The page, the total and the facet counts for ``search``."""
    query = search.query
    messages = list(query.messages)
    has_text = bool(search.text.strip())
    if has_text and not query:
        messages.append("Nothing to search for: type a word, a part of a name or an oshash.")
        tally, files = Tally(counts={key: {} for key in FACET_KEYS}, total=0), []
    elif has_text:
        tally, files = _find_text(search, query)
    else:
        tally, files = _find_facets(search)
    return Results(
        search=search,
        total=tally.total,
        files=files,
        facets=_label_facets(search, tally.counts, approximate=bool(tally.sampled)),
        messages=messages,
        sampled=tally.sampled,
    )


def _find_facets(search: Search) -> tuple[Tally, list[FileEntry]]:
    """No query: the facets alone. The total is always exact (a COUNT on the catalog's
    indexes); the facet counts are exact up to EXACT_LIMIT files."""
    cache_key = ALL_COUNTS_CACHE if search.is_empty else None
    tally = cache.get(cache_key) if cache_key else None
    files = matching_files(search)
    if tally is None:
        total = files.count()
        if total <= EXACT_LIMIT:
            tally = Tally(counts=count_rows(facet_rows(files)), total=total)
        else:
            threshold = sample_threshold(total)
            sample = files.alias(_sample=(F("id") * 40503).bitand(SAMPLE_MODULUS - 1)).filter(
                _sample__lt=threshold
            )
            rows = list(facet_rows(sample))
            tally = Tally(
                counts=count_rows(rows, SAMPLE_MODULUS / threshold),
                total=total,
                sampled=len(rows),
            )
        if cache_key:
            cache.set(cache_key, tally, ALL_COUNTS_SECONDS)
    offset = (search.page - 1) * PER_PAGE
    page = (
        list(
            ordered(files, search).select_related("drive", "project_group")[
                offset : offset + PER_PAGE
            ]
        )
        if tally.total
        else []
    )
    return tally, page


def _find_text(search: Search, query: Query) -> tuple[Tally, list[FileEntry]]:
    """A query (and maybe facets), in one statement: the matching files (and their
    relevance) are materialised once; from them come the total, the page (the top
    PER_PAGE by relevance) and the facet columns of every match — or, above EXACT_LIMIT
    matches, of an evenly spread sample of about SAMPLE_SIZE of them."""
    facet_where, facet_params = _facet_where(search)
    relevance = search.sort == "relevance"
    ranked, ranked_params = get_backend().ranked_sql(
        query, score=relevance, facets=_index_facets(search)
    )
    offset = (search.page - 1) * PER_PAGE
    threshold = (
        f"(SELECT CASE WHEN n <= {EXACT_LIMIT} THEN {SAMPLE_MODULUS} "
        f"ELSE ({SAMPLE_MODULUS * SAMPLE_SIZE} + n - 1) / n END FROM c)"
    )
    width = len(COLUMNS)  # the widest part: the facet columns
    columns = ", ".join(f"{column} AS c{i}" for i, column in enumerate(facet_columns()))
    if facet_where:
        # Every match's catalog row is read to check the facets: its facet columns come
        # along, and are not looked up again for the sample.
        source = (
            f"SELECT r.file_id, r.score, {columns} FROM ({ranked}) r "
            f"JOIN {FILE_ENTRY} ON {FILE_ENTRY}.{FILE_ENTRY.id} = r.file_id WHERE {facet_where}"
        )
        facet_row, sampled_rows = "m", ""
    elif connection.vendor == "postgresql":
        source, facet_row = f"SELECT r.file_id, r.score FROM ({ranked}) r", "f"
        # One index probe per sampled match, always: a plain join is estimated at a third
        # of the matches (the sample condition's default selectivity) and can be planned
        # as a hash join over all of the catalog's files (1.2 s at 1M files).
        sampled_rows = (
            f"CROSS JOIN LATERAL (SELECT {columns} FROM {FILE_ENTRY} "
            f"WHERE {FILE_ENTRY}.{FILE_ENTRY.id} = m.file_id OFFSET 0) f"
        )
    else:
        source, facet_row = f"SELECT r.file_id, r.score FROM ({ranked}) r", "f"
        sampled_rows = (
            f"JOIN (SELECT {FILE_ENTRY}.{FILE_ENTRY.id} AS id, {columns} FROM {FILE_ENTRY}) f "
            "ON f.id = m.file_id"
        )
    nulls = lambda k: ", NULL" * k  # noqa: E731
    text = lambda sql: f"CAST({sql} AS TEXT)"  # noqa: E731
    parts = [
        f"SELECT 0, {text('n')}{nulls(width - 1)} FROM c",
        f"SELECT 2, {', '.join(text(f'{facet_row}.c{i}') for i in range(width))} "
        f"FROM m {sampled_rows} WHERE {sample_sql('m.file_id', threshold)}",
    ]
    if relevance:
        parts.insert(
            1,
            f"SELECT 1, {text('p.file_id')}, {text('p.score')}{nulls(width - 2)} "
            f"FROM (SELECT file_id, score FROM m ORDER BY score DESC, file_id "
            f"LIMIT {PER_PAGE} OFFSET {int(offset)}) p",
        )
    rows = _rows(
        f"WITH m AS MATERIALIZED ({source}), c AS (SELECT COUNT(*) AS n FROM m) "
        + " UNION ALL ".join(parts),
        [*ranked_params, *facet_params],
    )
    total, ids, facet_rows = 0, [], []
    for row in rows:
        if row[0] == 0:
            total = int(row[1])
        elif row[0] == 1:
            ids.append((int(row[2]), int(row[1])))
        else:
            facet_rows.append(row[1:])
    cut = SAMPLE_MODULUS if total <= EXACT_LIMIT else -(-SAMPLE_MODULUS * SAMPLE_SIZE // total)
    tally = Tally(
        counts=count_rows(facet_rows, SAMPLE_MODULUS / cut),
        total=total,
        sampled=len(facet_rows) if cut < SAMPLE_MODULUS else 0,
    )
    if not total:
        return tally, []
    if not relevance:
        files = ordered(matching_files(search), search).select_related("drive", "project_group")
        return tally, list(files[offset : offset + PER_PAGE])
    ids = [pk for _, pk in sorted(ids, key=lambda item: (-item[0], item[1]))]
    found = FileEntry.objects.select_related("drive", "project_group").in_bulk(ids)
    return tally, [found[pk] for pk in ids if pk in found]


def _label_facets(
    search: Search, counts: dict[str, dict], *, approximate: bool = False
) -> list[FacetCounts]:
    drive_ids = [int(v) for v in counts["drive"] if v is not None]
    drive_ids += whole_numbers(search.facets.get("drive", []))
    group_ids = [int(v) for v in counts["project_group"] if v is not None]
    group_ids += whole_numbers(search.facets.get("project_group", []))
    # Both sets of names in one query (none for an empty set).
    drives_query = (
        Drive.objects.filter(pk__in=drive_ids)
        .order_by()
        .annotate(kind=Value("drive"))
        .values_list("kind", "pk", "name")
    )
    groups_query = (
        ProjectGroup.objects.filter(pk__in=group_ids)
        .order_by()
        .annotate(kind=Value("group"))
        .values_list("kind", "pk", "name")
    )
    if drive_ids and group_ids:
        names = list(drives_query.union(groups_query, all=True))
    else:
        names = list(drives_query) if drive_ids else list(groups_query) if group_ids else []
    drives, groups = {}, {}
    for kind, pk, name in names:
        (drives if kind == "drive" else groups)[pk] = name
    labels = {
        "drive": lambda v: drives.get(int(v), v) if whole_numbers([str(v)]) else v,
        "category": lambda v: Category(v).label if v in Category.values else v,
        "status": lambda v: Status(v).label if v in Status.values else v,
        "review": lambda v: ReviewState(v).label if v in ReviewState.values else v,
        "project_group": lambda v: groups.get(int(v), v) if whole_numbers([str(v)]) else v,
        "camera": lambda v: v or "(none)",
        "year": lambda v: v,
        "duplicate": lambda v: YES_NO.get(v, v),
        "exported": lambda v: YES_NO.get(v, v),
    }
    result = []
    for facet in FACETS:
        raw = counts[facet.key]
        if facet.key in ("project_group", "year"):
            raw = {("none" if v is None else v): n for v, n in raw.items()}
        selected = search.facets.get(facet.key, [])
        # A selected value is always listed (to be unselected), even with no count.
        for value in selected:
            if value not in raw and facet_filter(facet.key, [value]) is not None:
                raw[value] = 0
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
                    approximate=approximate,
                )
            )
        if facet.key == "year":
            values.sort(key=lambda v: v.value if v.value != "none" else "0", reverse=True)
        shown = [v for i, v in enumerate(values) if i < FACET_LIMIT or v.selected]
        result.append(FacetCounts(facet=facet, values=shown, more=len(values) - len(shown)))
    return result
