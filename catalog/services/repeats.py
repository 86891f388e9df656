"""Applying a pre-computed repeats file: ``{"<oshash>": [["<path>", "<filename>"], …]}``.

The file comes from the production scanner's cross-drive pass. Locations carry no
drive, so they are matched on (path, filename) across all drives; a location counts
only if the catalogued file there has the same oshash, so a group never mixes hashes.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ijson
from django.db import connection, transaction

from catalog.manifest import OSHASH_RE, EntryProblem, ManifestFormatError, ProblemLog
from catalog.models import FileEntry
from catalog.schema import DRIVE

from .duplicates import DuplicateResult, update_duplicates

LOCATIONS = "phs_repeat_locations"


class RepeatsInvalid(Exception):
    def __init__(self, problems: ProblemLog):
        self.problems = problems
        super().__init__(f"{problems.count} problems")


@dataclass
class RepeatsResult:
    hashes: int = 0
    locations: int = 0
    matched: int = 0
    not_in_catalog: int = 0
    hash_differs: int = 0
    duplicates: DuplicateResult = field(default_factory=DuplicateResult)


def import_repeats(path: Path, *, method: str) -> RepeatsResult:
    """Group the listed copies; refuse the whole file if any entry is malformed."""
    result = RepeatsResult()
    problems = ProblemLog()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {LOCATIONS}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {LOCATIONS} (oshash varchar(16), path text, filename text)"
        )
        batch: list[tuple[str, str, str]] = []
        try:
            with path.open("rb") as stream:
                for oshash, location in _locations(stream, problems, result):
                    batch.append((oshash, *location))
                    if len(batch) >= 5000:
                        _insert(cursor, batch)
                        batch.clear()
        except OSError as error:
            raise ManifestFormatError(f"cannot read {path}: {error.strerror}") from error
        except ijson.JSONError as error:
            raise ManifestFormatError(f"not valid JSON: {error}") from error
        _insert(cursor, batch)
        if problems:
            raise RepeatsInvalid(problems)

        files = FileEntry._meta.db_table
        match = (
            f"FROM {LOCATIONS} r JOIN {files} f ON f.drive_id IN (SELECT id FROM {DRIVE}) "
            "AND f.path = r.path AND f.filename = r.filename"
        )
        cursor.execute(f"SELECT COUNT(*) {match} WHERE f.oshash = r.oshash")
        result.matched = cursor.fetchone()[0]
        cursor.execute(f"SELECT COUNT(*) {match} WHERE f.oshash IS NULL OR f.oshash <> r.oshash")
        result.hash_differs = cursor.fetchone()[0]
        cursor.execute(f"SELECT DISTINCT r.oshash {match} WHERE f.oshash = r.oshash")
        hashes = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"DROP TABLE IF EXISTS {LOCATIONS}")
        result.not_in_catalog = result.locations - result.matched - result.hash_differs
        result.duplicates = update_duplicates(
            method=method, only_hashes=hashes, rechoose_automatic=True
        )
    return result


def _insert(cursor, rows: list[tuple[str, str, str]]) -> None:
    if rows:
        cursor.executemany(
            f"INSERT INTO {LOCATIONS} (oshash, path, filename) VALUES (%s, %s, %s)",
            rows,
        )


def _locations(stream, problems: ProblemLog, result: RepeatsResult) -> Iterator[tuple]:
    head = stream.read(1)
    while head.isspace():
        head = stream.read(1)
    if head != b"{":
        raise ManifestFormatError('expected a JSON object {"<oshash>": [[path, filename], ...]}')
    stream.seek(stream.tell() - 1)
    for oshash, copies in ijson.kvitems(stream, ""):
        result.hashes += 1
        if not OSHASH_RE.match(oshash):
            problems.add(EntryProblem(-1, oshash, "key is not 16 hexadecimal digits"))
            continue
        if not isinstance(copies, list):
            problems.add(EntryProblem(-1, oshash, "must map to a list of [path, filename]"))
            continue
        for i, copy in enumerate(copies):
            if (
                not isinstance(copy, list)
                or len(copy) != 2
                or not all(isinstance(part, str) for part in copy)
            ):
                problems.add(EntryProblem(i, oshash, f"{copy!r} is not [path, filename]"))
                continue
            result.locations += 1
            folder = "/".join(p for p in copy[0].split("/") if p not in ("", "."))
            yield oshash.lower(), (folder, copy[1])
