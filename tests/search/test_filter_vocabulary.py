"""One filter vocabulary: the file listing and Find files select the same files for the
same key and value, and neither page fails on values it cannot read."""

import pytest
from django.http import QueryDict

from catalog.file_filters import FILTERS
from catalog.filters import FileEntryFilterSet
from catalog.models import Drive, FileEntry
from search.finder import FACET_KEYS, Search, matching_files
from search.views import listing_query_for

from .test_find_view import decided  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

LISTING = "/admin/snippets/catalog/fileentry/"
FIND = "/admin/find/"


def listing_files(query: str) -> set[int]:
    files = FileEntryFilterSet(QueryDict(query), queryset=FileEntry.objects.all()).qs
    return set(files.values_list("pk", flat=True))


def found_files(query: str) -> set[int]:
    return set(matching_files(Search.from_params(QueryDict(query))).values_list("pk", flat=True))


def test_find_files_facets_are_the_vocabulary():
    assert list(FILTERS) == FACET_KEYS


@pytest.fixture
def values(decided):  # noqa: F811
    return {
        "drive": [str(Drive.objects.get(name="Expansion").pk)],
        "status": ["upload", "discard"],
        "review": ["decided"],
        "category": ["video"],
        "project_group": [str(decided.pk)],
        "camera": ["Canon"],
        "duplicate": ["yes", "no"],
        "exported": ["yes", "no"],
    }


def test_every_shared_key_selects_the_same_files_on_both_pages(values):
    shared = [key for key in FILTERS if key in FileEntryFilterSet.base_filters]
    assert set(shared) == set(values)  # year is the listing's date range: below
    everything = set(FileEntry.objects.values_list("pk", flat=True))
    for key in shared:
        choices = [[v] for v in values[key]] + ([values[key]] if key == "status" else [])
        for chosen in choices:
            query = "&".join(f"{key}={v}" for v in chosen)
            files = found_files(query)
            assert files and files != everything, query  # the value does select
            assert listing_files(query) == files, query
            assert listing_files(listing_query_for(Search.from_params(QueryDict(query)))) == files


def test_a_year_is_the_listings_date_range(decided):  # noqa: F811
    listing = listing_query_for(Search.from_params(QueryDict("year=2011")))
    assert listing_files(listing) == found_files("year=2011") != set()


def test_the_listings_former_spellings_still_work(decided):  # noqa: F811
    assert listing_files("review_state=decided") == found_files("review=decided") != set()
    assert listing_files("duplicate=true") == found_files("duplicate=yes") != set()
    assert listing_files("duplicate=false") == found_files("duplicate=no") != set()
    # what select all replays: a dict of values or lists (workflow.bulk_tasks)
    files = FileEntryFilterSet({"review_state": "decided"}, queryset=FileEntry.objects.all()).qs
    assert set(files.values_list("pk", flat=True)) == found_files("review=decided")


def test_select_all_is_refused_when_the_listing_would_drop_a_value(decided):  # noqa: F811
    # The listing voids a whole field for one value it cannot read: more files.
    assert listing_query_for(Search.from_params(QueryDict("status=upload&status=bogus"))) is None


HOSTILE = [
    f"drive={2**63}",
    "drive=99999999999999999999",
    "drive=%C2%B2",
    "drive=-1",
    f"project_group={2**64}",
    "project_group=x",
    "status=bogus",
    "review=bogus",
    "review_state=bogus",
    "category=zz",
    "camera=nope",
    f"year={2**64}",
    "year=x",
    "duplicate=maybe",
    "exported=zz",
    "date_from=2011-99-99",
]


@pytest.mark.parametrize("url", [LISTING, FIND])
def test_hostile_values_are_ignored_not_errors(client, decided, curator, url):  # noqa: F811
    client.force_login(curator)
    for query in HOSTILE:
        assert client.get(f"{url}?{query}").status_code == 200, query
