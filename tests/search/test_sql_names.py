"""Raw SQL (search/, catalog/services/, workflow/) names the catalog's tables only
through ``catalog.schema``.

A literal ``catalog_fileentry`` in search's SQL would keep working until the table is
renamed, and then break searches at run time; the guard fails as soon as one is
written. Migrations are history and keep their literal names.
"""

import ast
import re
from pathlib import Path

from django.apps import apps

from catalog.models import FileEntry
from search.backends.sql import FOLDERS, TABLE
from search.models import FileIndex, FolderIndex

ROOT = Path(__file__).resolve().parents[2]


def catalog_tables() -> set[str]:
    models = apps.get_app_config("catalog").get_models(include_auto_created=True)
    return {model._meta.db_table for model in models}


def table_literals(source: str, tables: set[str]) -> list[tuple[int, str]]:
    """(line, table) for each of ``tables`` named in a string of ``source`` (the
    constant parts of f-strings included, docstrings left out: they are prose)."""
    pattern = re.compile(r"\b(" + "|".join(re.escape(table) for table in sorted(tables)) + r")\b")
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        (node.lineno, match.group(1))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        for match in pattern.finditer(node.value)
    ]


def test_no_catalog_table_name_is_written_out_in_raw_sql():
    tables = catalog_tables()
    assert FileEntry._meta.db_table in tables
    sources = [
        path
        for folder in ("search", "catalog/services", "workflow")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    ]
    assert len(sources) > 30
    found = [
        f"{path.relative_to(ROOT)}:{line}: {table}"
        for path in sorted(sources)
        for line, table in table_literals(path.read_text(), tables)
    ]
    assert found == [], "name catalog tables and columns through catalog.schema"


def test_the_guard_finds_a_table_in_sql_but_not_in_prose_or_a_url_name():
    source = (
        '"""Reads catalog_fileentry."""\n'
        'URL = "wagtailsnippets_catalog_fileentry:edit"\n'
        'SQL = (f"SELECT {x} FROM catalog_folder d "\n'
        '    "JOIN catalog_fileentry f ON f.folder_id = d.id")\n'
    )
    assert table_literals(source, catalog_tables()) == [
        (3, "catalog_folder"),
        (3, "catalog_fileentry"),
    ]


def test_the_index_tables_are_the_index_models_tables():
    """``search.backends.sql`` spells the index's own tables out (migrations copy it)."""
    assert FileIndex._meta.db_table == TABLE
    assert FolderIndex._meta.db_table == FOLDERS
