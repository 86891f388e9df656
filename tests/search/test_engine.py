"""The engine: what matches, how it ranks, Unicode forms, oshash, bad input, freshness."""

import unicodedata

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from catalog.models import FileEntry, ProjectGroup, Status
from catalog.services.imports import import_manifest
from search.finder import Search, find, matching_files
from search.indexing import index_files, rebuild_index
from search.listing import search_files
from search.models import FileIndex
from search.text import MAX_QUERY_CHARS, fold, parse_query
from tests.conftest import entry
from workflow.services import bulk
from workflow.services.review import save_decision

from .conftest import NAMASTE, NFC_CAFE, NFD_CAFE, SAME, file

pytestmark = pytest.mark.django_db


def names(query: str) -> set[str]:
    return set(search_files(FileEntry.objects.all(), query).values_list("filename", flat=True))


def ranked(query: str) -> list[str]:
    return [f.filename for f in find(Search.from_params({"q": query})).files]


def test_the_importer_indexes_every_file(archive):
    assert FileIndex.objects.count() == FileEntry.objects.count() == 9


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("0042", {"IMG_0042.JPG"}),
        ("IMG_12", {"IMG_1234.jpg"}),
        ("img_12", {"IMG_1234.jpg"}),
        ("rehearsal/2019", {"IMG_1234.jpg"}),
        ("2019/rehearsal", {"IMG_0042.JPG"}),
        ("PHS-Videos", {"HD.1080.mp4"}),
        ("hd.1080", {"HD.1080.mp4"}),
        ("nikon", {"IMG_9999.jpg"}),  # camera (a word)
        ("NIKON d750", {"IMG_9999.jpg"}),  # every term must match
        ("nikon canon", set()),
        ("performance 9999", {"IMG_9999.jpg"}),
    ],
)
def test_fragments_words_and_case(archive, query, expected):
    assert names(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # A fragment across the last "/": the folder's path ends with the part before it,
        # the filename starts with the part after it.
        ("stage/img_12", {"IMG_1234.jpg"}),
        ("day-1/IMG_0042.JPG", {"IMG_0042.JPG"}),
        ("2019/rehearsal/day-1/IMG_0042.JPG", {"IMG_0042.JPG"}),  # the whole location
        ("rehearsal/day-1/", {"IMG_0042.JPG"}),
        ("/IMG_0042", {"IMG_0042.JPG"}),
        ("videos/hd.", {"HD.1080.mp4"}),
        ("/rehearsal-notes", set()),  # at the drive root: no "/" before the name
        ("stage/img_0042", set()),  # the right name in the wrong folder
        ("2020/stage", set()),
    ],
)
def test_fragments_across_the_folder_and_the_name(archive, query, expected):
    assert names(query) == expected


def test_folder_fragments_match_every_file_in_the_folder(archive, write_manifest):
    import_manifest(
        write_manifest(
            [entry(f"clip_{i}.mov", "Shoots/Jehangir Gallery/cam A") for i in range(3)]
            + [entry("elsewhere.mov", "Shoots/other")],
            "Shoots.json",
        ),
        drive_name="Shoots",
    )
    assert names("gallery") == {"clip_0.mov", "clip_1.mov", "clip_2.mov"}
    assert names("gallery/cam a/clip_1") == {"clip_1.mov"}
    assert names("shoots/") == {"clip_0.mov", "clip_1.mov", "clip_2.mov", "elsewhere.mov"}


def test_glob_and_like_characters_in_names_are_literal(archive, write_manifest):
    import_manifest(
        write_manifest(
            [entry("odd[1]*?.jpg", "we?ird*[x]"), entry("odd_1_%.jpg", "plain")], "Odd.json"
        ),
        drive_name="Odd",
    )
    assert names("odd[1]*?") == {"odd[1]*?.jpg"}
    assert names("d[1]*?.jpg") == {"odd[1]*?.jpg"}
    assert names("we?ird*[x]") == {"odd[1]*?.jpg"}  # in the folder's path
    assert names("[x]/odd[") == {"odd[1]*?.jpg"}  # across the folder and the name
    assert names("odd_1_%") == {"odd_1_%.jpg"}
    assert names("odd?1") == set()
    assert names("odd%1") == set()
    assert names("odd_1_") == {"odd_1_%.jpg"}


def test_an_exact_name_ranks_above_a_longer_one(archive, write_manifest):
    import_manifest(
        write_manifest(
            [entry("rehearsal", "x"), entry("rehearsal-2.txt", "x"), entry("a.txt", "rehearsal")],
            "Rank.json",
        ),
        drive_name="Rank",
    )
    order = ranked("rehearsal")
    # exact name (16), then names containing it (8), then folders saying it (1)
    assert order[0] == "rehearsal"
    assert set(order[1:3]) == {"rehearsal-notes.txt", "rehearsal-2.txt"}
    assert set(order[3:]) == {"a.txt", "IMG_0042.JPG", "IMG_1234.jpg"}


def test_unicode_forms_match_each_other(archive):
    cafe = f"{NFD_CAFE} menu.pdf"
    assert names(NFC_CAFE) == {cafe}
    assert names(NFD_CAFE) == {cafe}
    assert names(NFC_CAFE.upper()) == {cafe}
    nfd_namaste = unicodedata.normalize("NFD", NAMASTE)
    assert names(NAMASTE) == names(nfd_namaste) == {f"{NAMASTE}.jpg"}


def test_unicode_words_in_curator_text(archive, curator):
    target = file("old.mov")
    save_decision(
        file=target,
        user=curator,
        changes={"title": unicodedata.normalize("NFD", "Réunion à Mumbai"), "notes": "नमस्ते दुनिया"},
    )
    assert names("réunion") == {"old.mov"}
    assert names(unicodedata.normalize("NFD", "RÉUNION")) == {"old.mov"}
    assert names("दुनिया") == {"old.mov"}
    assert names("दुनि") == {"old.mov"}  # word prefix


@pytest.mark.parametrize("length", [4, 8, 16])
def test_oshash_full_and_prefix(archive, length):
    assert names(SAME[:length]) == {"HD.1080.mp4"}  # on both drives
    assert search_files(FileEntry.objects.all(), SAME[:length].upper()).count() == 2


def test_ranking_puts_name_hits_first(archive, curator):
    save_decision(file=file("old.mov"), user=curator, changes={"title": "Rehearsal at Khoj"})
    order = ranked("rehearsal")
    # The filename hit, then the title hit, then files whose folder says rehearsal.
    assert order[0] == "rehearsal-notes.txt"
    assert order[1] == "old.mov"
    assert set(order[2:]) == {"IMG_0042.JPG", "IMG_1234.jpg"}
    assert ranked("IMG_0042.JPG")[0] == "IMG_0042.JPG"


def test_description_notes_and_project_group_are_words(archive, curator):
    group = archive
    save_decision(
        file=file("IMG_9999.jpg"),
        user=curator,
        changes={"description": "Stage lights", "notes": "ask Shabnam", "project_group": group},
    )
    assert names("lights") == {"IMG_9999.jpg"}
    assert names("shabnam") == {"IMG_9999.jpg"}
    assert names("khoj resid") == {"IMG_9999.jpg"}


def test_words_joined_by_punctuation_are_found_one_by_one(archive, curator):
    """PostgreSQL's parser took ``rehearsal/stage``, ``v1.2`` or ``khoj.in`` for one word,
    ``take-42`` for ``take`` and ``-42``, and dropped ``<untitled>``."""
    save_decision(
        file=file("IMG_9999.jpg"),
        user=curator,
        changes={
            "title": "Rehearsal/Stagecraft v1.2 take-42 <untitled>",
            "notes": "mail shabnam@khoj.in, ~d1 a&b;",
        },
    )
    for query in (
        *("stagecraft", "rehearsal/stagecraft", "v1.2", "42", "take-42", "untitled"),
        *("khoj.in", "khoj", "in", "d1", "~d1", "b"),
    ):
        assert "IMG_9999.jpg" in names(query), query


def test_index_rows_hold_the_folded_text_each_part_folded_alike(archive, curator):
    """Each part of the body and tags is folded on its own: the stored text is the
    fold of the whole, empty parts included."""
    description = unicodedata.normalize("NFD", "ÉTÉ à Khoj")
    save_decision(
        file=file("IMG_9999.jpg"),
        user=curator,
        changes={"description": description, "notes": "", "title": "Ünïcode TITLE"},
    )
    row = FileIndex.objects.get(file__filename="IMG_9999.jpg")
    entry_ = FileEntry.objects.select_related("project_group").get(filename="IMG_9999.jpg")
    assert row.title == fold("Ünïcode TITLE") == "unicode title"
    assert row.body == fold(f"{description} ") == "ete a khoj "
    assert row.tags == fold(f" {entry_.camera}")
    assert row.name == "img_9999.jpg"


BAD = [
    '"',
    '""',
    "*",
    ":",
    "NEAR",
    "NEAR(",
    "'",
    "(",
    ")",
    "-",
    "--",
    "a OR b",
    "title:foo",
    '"IMG',
    "IMG*",
    "'; DROP TABLE catalog_fileentry; --",
    "%_%",
    "\\",
    "\x00",
    "AND OR NOT",
    "^img",
    "{title}: x",
    "x" * 10_000,
    "IMG_ " * 3000,
]


@pytest.mark.parametrize("query", BAD, ids=range(len(BAD)))
def test_bad_input_is_a_plain_match_never_an_error(archive, query):
    files = search_files(FileEntry.objects.all(), query)
    assert files.count() <= FileEntry.objects.count()
    results = find(Search.from_params({"q": query}))
    assert results.total == files.count() or not parse_query(query)
    assert FileEntry.objects.count() == 9


def test_syntax_characters_are_literal(archive):
    assert names("near") == set()
    assert names("IMG*") == set()  # no file has a literal "img*"
    assert names("IMG_0042.JPG") == {"IMG_0042.JPG"}
    assert names("%_%") == set()  # LIKE wildcards are escaped


def test_empty_and_long_queries(archive):
    assert names("") == {f.filename for f in FileEntry.objects.all()}
    assert not parse_query("   ")
    long = parse_query("IMG " + "x" * 10_000)
    assert long.truncated and len(long.terms[-1].text) <= MAX_QUERY_CHARS
    assert "shortened" in long.messages[0]
    assert "Ignored" in parse_query("( IMG").messages[0]


def test_index_follows_a_save(archive, curator):
    assert names("ganesha") == set()
    save_decision(file=file("IMG_0042.JPG"), user=curator, changes={"title": "Ganesha puja"})
    assert names("ganesha") == {"IMG_0042.JPG"}
    save_decision(file=file("IMG_0042.JPG"), user=curator, changes={"title": "Diwali"})
    assert names("ganesha") == set()
    assert names("diwali") == {"IMG_0042.JPG"}


def test_index_follows_an_import_and_a_reimport(archive, write_manifest):
    assert names("newcomer") == set()
    import_manifest(
        write_manifest([entry("newcomer.jpg", "later", camera="Fujifilm")], "Third.json"),
        drive_name="Third",
    )
    assert names("newcomer") == {"newcomer.jpg"}
    assert names("later") == {"newcomer.jpg"}  # its folder, new with the import
    assert names("fujifilm") == {"newcomer.jpg"}
    import_manifest(
        write_manifest([entry("newcomer.jpg", "later", camera="Leica")], "Third.json"),
        drive_name="Third",
        update=True,
    )
    assert names("fujifilm") == set()
    assert names("leica") == {"newcomer.jpg"}


def test_a_reimport_that_changes_nothing_does_not_read_the_index(archive, write_manifest):
    manifest = write_manifest([entry("newcomer.jpg", "later")], "Third.json")
    import_manifest(manifest, drive_name="Third")
    with CaptureQueriesContext(connection) as queries:
        result = import_manifest(manifest, drive_name="Third")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert not [q["sql"] for q in queries if "phs_search" in q["sql"]]
    assert names("newcomer") == {"newcomer.jpg"}


def test_a_dry_run_import_leaves_the_index_alone(archive, write_manifest):
    import_manifest(
        write_manifest([entry("ghost.jpg")], "Ghost.json"), drive_name="Ghost", dry_run=True
    )
    assert names("ghost") == set()
    assert FileIndex.objects.count() == FileEntry.objects.count()


def test_bulk_status_and_project_group(archive, curator):
    images = FileEntry.objects.filter(filename__startswith="IMG_")
    bulk.set_status(images, status=Status.DISCARD, user=curator)
    found = matching_files(Search.from_params({"q": "img", "status": "discard"}))
    assert found.count() == 3
    group = ProjectGroup.objects.create(name="Sarai Archive")
    bulk.set_project_group(images, project_group=group, user=curator)
    assert names("sarai") == {"IMG_0042.JPG", "IMG_1234.jpg", "IMG_9999.jpg"}


def test_renaming_a_project_group_reindexes_its_files(archive, curator):
    group = archive
    bulk.set_project_group(
        FileEntry.objects.filter(filename="old.mov"), project_group=group, user=curator
    )
    assert names("khoj") == {"old.mov"}
    group.name = "Pad.ma Tapes"
    group.save()
    assert names("khoj") == set()
    assert names("tapes") == {"old.mov"}


def test_rebuild_gives_the_same_answers(archive, curator):
    save_decision(file=file("old.mov"), user=curator, changes={"title": "Rehearsal at Khoj"})
    before = {q: names(q) for q in ("rehearsal", "0042", NFC_CAFE, SAME[:6], "khoj")}
    FileIndex.objects.all().delete()
    assert names("rehearsal") == set()
    assert rebuild_index() == 9
    assert {q: names(q) for q in before} == before
    assert rebuild_index() == 9  # twice is fine


def test_deleted_files_leave_no_hits(archive):
    FileEntry.objects.filter(filename="IMG_0042.JPG").delete()
    assert names("0042") == set()
    assert not FileIndex.objects.filter(file_id__in=[]).exists()


def test_index_files_ignores_missing_ids(archive):
    assert index_files([10**9]) == 0
    assert index_files([]) == 0


def test_listing_filters_compose_with_the_engine(archive):
    files = FileEntry.objects.filter(drive__name="Backup")
    assert search_files(files, SAME[:8]).count() == 1
    assert search_files(FileEntry.objects.filter(size__gt=F("size")), "img").count() == 0


def test_big_imports_are_indexed_after_commit(
    archive, write_manifest, monkeypatch, django_capture_on_commit_callbacks
):
    import search.indexing

    monkeypatch.setattr(search.indexing, "SYNC_LIMIT", 2)
    manifest = write_manifest([entry(f"later_{i}.jpg", "big") for i in range(5)], "Big.json")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        import_manifest(manifest, drive_name="Big")
        assert names("later_") == set()  # not yet: the import has not committed
    assert len(callbacks) == 1
    assert len(names("later_")) == 5


def test_deleting_a_project_group_reindexes_its_files(archive, curator):
    bulk.set_project_group(
        FileEntry.objects.filter(filename="old.mov"), project_group=archive, user=curator
    )
    assert names("khoj") == {"old.mov"}
    archive.delete()  # its files keep no group (SET_NULL), and no longer match its name
    assert FileEntry.objects.get(filename="old.mov").project_group is None
    assert names("khoj") == set()
