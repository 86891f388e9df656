"""Accents fold on Latin letters, on both databases; other scripts match exactly as before."""

import importlib
import unicodedata
from types import SimpleNamespace

import pytest
from django.db import connection

from catalog.models import FileEntry
from catalog.services.imports import import_manifest
from search.backends import get_backend
from search.listing import search_files
from search.models import FileIndex, FolderIndex
from search.text import fold
from tests.conftest import entry
from workflow.services.review import save_decision

pytestmark = pytest.mark.django_db

NFC, NFD = (
    (lambda text: unicodedata.normalize("NFC", text)),
    (lambda text: unicodedata.normalize("NFD", text)),
)
NAMASTE = NFC("नमस्ते")
GREEK = NFC("Ελληνικά")
CYRILLIC = NFC("ёлка")


def names(query: str) -> set[str]:
    return set(search_files(FileEntry.objects.all(), query).values_list("filename", flat=True))


@pytest.fixture
def accented(write_manifest):
    import_manifest(
        write_manifest(
            [
                entry(NFC("Café_Prithvi_poster.png"), "2019/street-theatre"),
                entry(NFD("café menu.pdf"), "docs"),
                entry("Cafe_list.txt", "docs"),
                entry(NFC("Łódź.jpg"), NFC("Été/Straße")),
                entry(f"{NAMASTE}.jpg", "Devanagari"),
                entry(f"{GREEK}.jpg", "greek"),
                entry(f"{CYRILLIC}.jpg", "cyrillic"),
                entry("plain.jpg", "x"),
            ]
        ),
        drive_name="Expansion",
    )


def test_cafe_finds_cafe_with_and_without_its_accent(accented):
    cafes = {NFC("Café_Prithvi_poster.png"), NFD("café menu.pdf"), "Cafe_list.txt"}
    assert names("cafe") == cafes
    assert names(NFC("Café")) == cafes
    assert names(NFD("CAFÉ")) == cafes
    assert names("cafe_prithvi") == {NFC("Café_Prithvi_poster.png")}


def test_letters_without_a_decomposition_and_folder_paths_fold_too(accented):
    assert names("lodz") == {NFC("Łódź.jpg")}
    assert names("ete/strasse") == {NFC("Łódź.jpg")}  # the folder's path
    assert names(NFC("Été/Straße/Łódź")) == {NFC("Łódź.jpg")}  # across folder and name


def test_other_scripts_match_exactly_as_before(accented):
    namaste = {f"{NAMASTE}.jpg"}
    assert names(NAMASTE) == names(NFD(NAMASTE)) == namaste
    assert names("नमस") == namaste  # a prefix of the word
    assert names("नमसत") == set()  # the virama is part of the word: not dropped
    assert names(GREEK.lower()) == {f"{GREEK}.jpg"}
    assert names("ελληνικα") == set()  # the tonos is kept
    assert names(CYRILLIC) == {f"{CYRILLIC}.jpg"}
    assert names("елка") == set()  # ё is not е


def test_curator_words_fold_both_ways(accented, curator):
    save_decision(
        file=FileEntry.objects.get(filename="plain.jpg"),
        user=curator,
        changes={"title": NFD("Réunion à Mumbai"), "notes": "naive facade"},
    )
    assert names("reunion") == {"plain.jpg"}
    assert names(NFC("RÉUNION")) == {"plain.jpg"}
    assert names(NFC("naïve façade")) == {"plain.jpg"}


SAMPLES = [
    "Café",
    NFD("Café"),
    "Ærø Łódź đ ħ ı Œuvre Straße",
    NFC("ǿ ệ İstanbul"),
    NAMASTE,
    NFD(NAMASTE),
    GREEK,
    CYRILLIC,
    "plain ASCII / IMG_0042",
    "",
]


def test_the_database_folds_index_text_as_python_folds_queries():
    """PostgreSQL folds in SQL (``fold_sql``), SQLite calls ``fold``: the same strings."""
    backend = get_backend()
    backend.prepare()
    connection.ensure_connection()
    sql = f"SELECT {backend.fold_sql.format('t.x')} FROM (SELECT %s AS x) t"  # noqa: S608
    with connection.cursor() as cursor:
        for sample in SAMPLES:
            cursor.execute(sql, [sample])
            assert cursor.fetchone()[0] == fold(sample), sample


def test_the_migration_refolds_an_index_folded_the_old_way(accented):
    """Rows written by the old fold (lower-case + NFC) are re-folded in place, the FTS
    tables (SQLite) with them; ASCII rows are left alone."""
    refold = importlib.import_module("search.migrations.0006_fold_latin_accents").refold

    def old(text):
        return NFC(text.lower())

    poster = FileIndex.objects.get(file__filename=NFC("Café_Prithvi_poster.png"))
    FileIndex.objects.filter(pk=poster.pk).update(name=old(NFC("Café_Prithvi_poster.png")))
    folder = FolderIndex.objects.get(folder__path=NFC("Été/Straße"))
    if connection.vendor == "sqlite":  # the folders' FTS table has no update trigger
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO phs_search_folders(phs_search_folders, rowid, location) "
                "VALUES ('delete', %s, %s)",
                [folder.pk, folder.location],
            )
            cursor.execute(
                "INSERT INTO phs_search_folders(rowid, location) VALUES (%s, %s)",
                [folder.pk, old(NFC("Été/Straße"))],
            )
    FolderIndex.objects.filter(pk=folder.pk).update(location=old(NFC("Été/Straße")))
    assert "Café_Prithvi_poster.png" not in {NFC(n) for n in names("cafe_prithvi")}
    assert names("strasse") == set()

    refold(None, SimpleNamespace(connection=connection))  # all it reads of the schema editor

    assert FileIndex.objects.get(pk=poster.pk).name == "cafe_prithvi_poster.png"
    assert FolderIndex.objects.get(pk=folder.pk).location == "ete/strasse"
    assert names("cafe_prithvi") == {NFC("Café_Prithvi_poster.png")}
    assert names("strasse") == {NFC("Łódź.jpg")}
    assert names(NAMASTE) == {f"{NAMASTE}.jpg"}
