"""Searching the file listing by the ORM: words in names, paths and titles; oshash prefixes.

Every word must match somewhere. A word of 4–16 hex digits also matches oshash
prefixes through the oshash index. The full-text engine replaces this in ``search/``.
"""

import re

from django.db.models import Q, QuerySet

HEX_PREFIX = re.compile(r"^[0-9a-fA-F]{4,16}$")
MAX_WORDS = 8


def search_files(queryset: QuerySet, query: str) -> QuerySet:
    words = query.split()[:MAX_WORDS]
    for word in words:
        match = Q(filename__icontains=word) | Q(path__icontains=word) | Q(title__icontains=word)
        if HEX_PREFIX.match(word):
            prefix = word.lower()
            # A range, not LIKE: SQLite's LIKE is case-insensitive and skips the index.
            match |= Q(oshash__gte=prefix, oshash__lte=prefix + "g" * (16 - len(prefix)))
        queryset = queryset.filter(match)
    return queryset
