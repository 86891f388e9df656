"""Searching the file listing: the search engine (``search/``) behind the listing's box.

Every word must match: a word in the title, description, notes, project group or
camera; a fragment of the path and filename; or an oshash prefix. See docs/search.md.
"""

from django.db.models import QuerySet


def search_files(queryset: QuerySet, query: str) -> QuerySet:
    from search.backends import get_backend
    from search.text import parse_query

    parsed = parse_query(query)
    if not parsed:
        return queryset if not query.strip() else queryset.none()
    return get_backend().filter(queryset, parsed)
