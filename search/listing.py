"""Searching the file listing: the engine behind Catalog → Files' search box (and the
bulk actions' "select all" over a searched listing).

Every word must match: a word in the title, description, notes, project group or
camera; a fragment of the path and filename; or an oshash prefix. See docs/search.md.
"""

from django.db.models import QuerySet

from .backends import get_backend
from .text import parse_query


def search_files(queryset: QuerySet, query: str) -> QuerySet:
    parsed = parse_query(query)
    if not parsed:
        return queryset if not query.strip() else queryset.none()
    return get_backend().filter(queryset, parsed)
