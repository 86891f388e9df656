"""import_json: created / updated / unchanged, folders, idempotence, and bad input that
leaves the database exactly as it was."""

import json

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Drive, FileEntry, Folder, Status
from catalog.services.files import update_file
from catalog.services.imports import ImportRefused, ManifestInvalid, import_manifest
from tests.conftest import entry

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    """Everything the catalog holds, to compare before and after a refused import."""
    return {
        "drives": list(Drive.objects.values().order_by("id")),
        "folders": list(Folder.objects.values().order_by("id")),
        "files": list(FileEntry.objects.values().order_by("id")),
    }


def run(path, *args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_json", str(path), *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def three_files(write_manifest):
    return write_manifest(
        [
            entry("HD.1080.mp4", "PHS-Videos", file_type="video/mp4", duration=13.96),
            entry("a.jpg", "2019/rehearsal/day-1"),
            entry("notes.txt", "", file_type="text/plain", date_exif=None),
        ],
        "PHS_copyALL_2026-01-24.json",
    )


def test_fresh_import_creates_drive_files_and_folders(three_files):
    output = run(three_files)
    assert "drive PHS_copyALL (new): 3 entries, 3 created, 0 updated, 0 unchanged" in output
    drive = Drive.objects.get()
    assert drive.name == "PHS_copyALL"
    assert drive.last_manifest == "PHS_copyALL_2026-01-24.json"
    assert sorted(Folder.objects.values_list("path", flat=True)) == [
        "",
        "2019",
        "2019/rehearsal",
        "2019/rehearsal/day-1",
        "PHS-Videos",
    ]
    root = Folder.objects.get(path="")
    assert (root.file_count, root.count_unreviewed, root.reviewed_count) == (3, 3, 0)
    assert Folder.objects.get(path="2019").file_count == 1
    video = FileEntry.objects.get(filename="HD.1080.mp4")
    assert video.folder.path == "PHS-Videos"
    assert video.category == "video"
    assert video.date.isoformat() == "2021-12-23"  # curated date starts as the EXIF date
    assert video.status == Status.UNREVIEWED


def test_reimport_changes_nothing(three_files):
    run(three_files)
    before = snapshot()
    output = run(three_files)
    assert "0 created, 0 updated, 3 unchanged" in output
    after = snapshot()
    after["drives"][0]["last_imported_at"] = before["drives"][0]["last_imported_at"]
    assert after == before


def test_update_refreshes_scanner_fields_but_never_curator_fields(write_manifest, curator):
    path = write_manifest([entry("a.jpg", "x", size_exif=10, camera="Old")])
    run(path)
    file = FileEntry.objects.get()
    update_file(file=file, user=curator, changes={"status": "upload", "title": "Kept"})

    write_manifest([entry("a.jpg", "x", size_exif=20, camera="New", oshash="ab" * 8)])
    assert "0 created, 0 updated, 1 unchanged" in run(path)  # without --update: left alone
    assert FileEntry.objects.get().camera == "Old"

    assert "0 created, 1 updated, 0 unchanged" in run(path, "--update")
    file.refresh_from_db()
    assert (file.size, file.camera, file.oshash) == (20, "New", "abababababababab")
    assert (file.status, file.title, file.reviewed_by) == ("upload", "Kept", curator)
    assert "0 updated, 1 unchanged" in run(path, "--update")


def test_drive_flag_overrides_the_rule(three_files):
    run(three_files, "--drive", "Expansion")
    assert Drive.objects.get().name == "Expansion"


def test_dry_run_writes_nothing(three_files):
    output = run(three_files, "--dry-run")
    assert "Dry run (nothing written)" in output and "3 created" in output
    assert not Drive.objects.exists() and not FileEntry.objects.exists()


def test_a_dry_run_does_not_advise_refreshing_duplicate_groups(three_files):
    assert "update_duplicates" not in run(three_files, "--dry-run")
    assert "Run `manage.py update_duplicates`" in run(three_files)


@pytest.mark.parametrize("args", [(), ("--dry-run",), ("--skip-invalid", "--update")])
def test_an_empty_manifest_is_refused_and_leaves_no_empty_drive(three_files, write_manifest, args):
    empty = write_manifest("[ ]", "Fresh.json")
    with pytest.raises(CommandError, match=r"Fresh.json: the manifest lists no files .*Nothing"):
        run(empty, *args)
    assert not Drive.objects.exists()
    run(three_files)
    before = snapshot()
    with pytest.raises(CommandError, match="the manifest lists no files"):
        run(write_manifest("[]", "PHS_copyALL.json"), *args)
    assert snapshot() == before


def test_an_empty_manifest_is_refused_by_the_service(write_manifest):
    with pytest.raises(ImportRefused, match="the manifest lists no files"):
        import_manifest(write_manifest([]), drive_name="Fresh")
    assert not Drive.objects.exists() and not Folder.objects.exists()


def test_bytes_that_are_not_utf8_name_the_entry_and_field_and_change_nothing(
    three_files, write_manifest
):
    from io import StringIO

    run(three_files)
    before = snapshot()
    bad = write_manifest(
        b'[{"filename": "caf\xe9.jpg", "path": "x"}, {"filename": "ok.jpg", "path": "x"}]',
        "PHS_copyALL.json",
    )
    err = StringIO()
    with pytest.raises(CommandError, match="1 invalid entry; nothing was imported"):
        call_command("import_json", str(bad), stdout=StringIO(), stderr=err)
    assert (
        "entry 0: filename: 'caf\\udce9.jpg' is not valid Unicode (byte 0xE9 is not UTF-8): "
        "rename it on the drive and scan again" in err.getvalue()
    )
    assert snapshot() == before
    assert "1 entries, 1 created, 0 updated, 0 unchanged, 1 skipped" in run(bad, "--skip-invalid")
    assert FileEntry.objects.filter(path="x").get().filename == "ok.jpg"


def test_a_size_past_64_bits_names_the_entry_and_field(write_manifest):
    from io import StringIO

    huge = json.dumps([entry("a.jpg"), entry("b.jpg", size_exif=10**30)])
    err = StringIO()
    with pytest.raises(CommandError, match="1 invalid entry; nothing was imported"):
        call_command("import_json", str(write_manifest(huge)), stdout=StringIO(), stderr=err)
    assert "entry 1: size_exif: too large (it does not fit in 64 bits)" in err.getvalue()
    assert not Drive.objects.exists()


def test_repeated_location_is_reported_and_last_wins(write_manifest):
    path = write_manifest(
        [entry("a.jpg", "x", size_exif=1), entry("b.jpg"), entry("a.jpg", "/x/", size_exif=2)]
    )
    output = run(path)
    assert "'x/a.jpg' appears at entries 0, 2; the last wins" in output
    assert "2 entries, 2 created" in output
    assert FileEntry.objects.get(filename="a.jpg").size == 2


def test_unicode_names_are_stored_exactly_as_given(write_manifest):
    nfc, nfd = "café.jpg", "cafe\u0301.jpg"
    path = write_manifest([entry(nfc), entry(nfd), entry("रिहर्सल.jpg", "नाटक/२०१९")])
    run(path)
    names = set(FileEntry.objects.values_list("filename", flat=True))
    assert names == {nfc, nfd, "रिहर्सल.jpg"}  # two different files on disk, two rows
    assert Folder.objects.filter(path="नाटक/२०१९", name="२०१९").exists()


def test_hostile_names_that_are_legal_are_kept(write_manifest):
    names = ["'; DROP TABLE catalog_fileentry; --.jpg", "%_wild*.jpg", "<script>.jpg", " spaced "]
    path = write_manifest([entry(n, "odd ' path") for n in names])
    run(path)
    assert sorted(FileEntry.objects.values_list("filename", flat=True)) == sorted(names)


def test_backslashes_and_copy_markers_in_names_are_kept(write_manifest):
    # PostgreSQL stages rows in COPY's text format, where a backslash escapes and "\\N"
    # is NULL: names holding them must still arrive exactly as written.
    names = ["back\\slash.jpg", "\\N", "\\.", "ends with \\", "\\t not a tab.jpg"]
    path = write_manifest([entry(n, "dir\\with\\backslashes", camera="C:\\cam") for n in names])
    run(path)
    stored = FileEntry.objects.values_list("filename", "path", "camera")
    assert sorted(stored) == sorted((n, "dir\\with\\backslashes", "C:\\cam") for n in names)


def test_files_missing_from_a_new_manifest_are_reported_not_deleted(write_manifest):
    path = write_manifest([entry("a.jpg"), entry("b.jpg")])
    run(path)
    write_manifest([entry("a.jpg")])
    output = run(path)
    assert "1 files of Expansion in the catalog are not in this manifest" in output
    assert FileEntry.objects.count() == 2


BAD_MANIFESTS = [
    ("not json at all", "not valid JSON"),
    ('{"path": "a", "filename": "b"}', "expected a JSON list of entries, found an object"),
    ("", "the manifest is empty"),
    ('[{"filename": "a.jpg"}, ', "not valid JSON"),
]


@pytest.mark.parametrize(("text", "message"), BAD_MANIFESTS)
def test_malformed_files_are_refused_and_change_nothing(three_files, write_manifest, text, message):
    run(three_files)
    before = snapshot()
    bad = write_manifest(text, "PHS_copyALL.json")
    with pytest.raises(CommandError, match=message):
        run(bad)
    assert snapshot() == before


def test_invalid_entries_refuse_the_whole_import(three_files, write_manifest, capsys):
    run(three_files)
    before = snapshot()
    bad = write_manifest(
        [
            entry("new.jpg"),
            entry("x.jpg", "../outside"),
            {"path": "a"},
            entry("y.jpg", size_exif="twelve"),
            entry("z.jpg", oshash="nothex"),
        ],
        "PHS_copyALL.json",
    )
    from io import StringIO

    err = StringIO()
    with pytest.raises(CommandError, match="4 invalid entries; nothing was imported"):
        call_command("import_json", str(bad), stdout=StringIO(), stderr=err)
    text = err.getvalue()
    assert "entry 1: path: '../outside' escapes the drive" in text
    assert "entry 2: filename: is missing" in text
    assert "entry 3: size_exif: 'twelve' is not a number" in text
    assert "entry 4: oshash: 'nothex' is not 16 hexadecimal digits" in text
    assert snapshot() == before


def test_invalid_entries_for_a_new_drive_leave_no_drive(write_manifest):
    with pytest.raises(ManifestInvalid):
        import_manifest(write_manifest([{"filename": 5}]), drive_name="Fresh")
    assert not Drive.objects.exists()


def test_skip_invalid_imports_the_rest(write_manifest):
    path = write_manifest([entry("ok.jpg"), entry("bad.jpg", size_exif=-5)])
    output = run(path, "--skip-invalid")
    assert "1 entries, 1 created, 0 updated, 0 unchanged, 1 skipped" in output
    assert list(FileEntry.objects.values_list("filename", flat=True)) == ["ok.jpg"]


@pytest.mark.parametrize("name", ["", "a/b", "tab\there"])
def test_bad_drive_names_are_refused(three_files, name):
    with pytest.raises(CommandError, match="drive name"):
        run(three_files, "--drive", name)
    assert not Drive.objects.exists()


def test_missing_manifest_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run(tmp_path / "nope.json")


def test_service_reports_numbers(write_manifest):
    path = write_manifest([entry(f"f{i}.jpg", f"d{i % 3}/sub") for i in range(12)])
    result = import_manifest(path, drive_name="D")
    assert (result.entries, result.created, result.updated, result.unchanged) == (12, 12, 0, 0)
    assert result.folders == 7  # root, d0..d2, d0/sub..d2/sub
    with pytest.raises(ImportRefused):
        import_manifest(path, drive_name="bad/name")


def test_folder_counts_follow_curator_status_changes(write_manifest, curator):
    run(write_manifest([entry("a.jpg", "x/y"), entry("b.jpg", "x")]))
    file = FileEntry.objects.get(filename="a.jpg")
    update_file(file=file, user=curator, changes={"status": Status.DISCARD})
    for path in ("", "x", "x/y"):
        folder = Folder.objects.get(path=path)
        assert folder.count_discard == 1, path
        assert folder.reviewed_count == 1
    assert Folder.objects.get(path="x").count_unreviewed == 1
    # A recount from scratch agrees with the incremental counts.
    from catalog.services.folders import recount_folders

    assert recount_folders(Drive.objects.get()) == 0


def test_large_manifest_streams_in_batches(write_manifest):
    entries = [entry(f"f{i:05}.jpg", f"d{i % 50}") for i in range(12_345)]
    path = write_manifest(entries)
    result = import_manifest(path, drive_name="Big")
    assert result.created == 12_345
    assert Folder.objects.get(path="").file_count == 12_345
    assert json.loads(path.read_text())[0]["filename"] == "f00000.jpg"


# Chunks: an import parses, stages and merges the manifest in chunks (``CHUNK`` entries);
# with chunks of two entries these small manifests cross several chunk boundaries.


@pytest.fixture
def two_per_chunk(monkeypatch):
    monkeypatch.setattr("catalog.services.imports.CHUNK", 2)


def test_a_chunked_import_equals_a_whole_one(write_manifest, monkeypatch):
    entries = [entry(f"f{i}.jpg", f"d{i % 3}/sub{i % 2}", size_exif=i) for i in range(9)]
    import_manifest(write_manifest(entries), drive_name="D")
    whole = snapshot()
    FileEntry.objects.all().delete()
    Folder.objects.all().delete()
    Drive.objects.all().delete()
    monkeypatch.setattr("catalog.services.imports.CHUNK", 2)
    result = import_manifest(write_manifest(entries), drive_name="D")
    assert (result.entries, result.created, result.folders) == (9, 9, 10)

    def without_ids(state):
        keep = ("path", "filename", "size", "oshash", "date", "status")
        return (
            sorted(tuple(f[k] for k in keep) for f in state["files"]),
            sorted((f["path"], f["file_count"], f["count_unreviewed"]) for f in state["folders"]),
        )

    assert without_ids(snapshot()) == without_ids(whole)


def test_a_repeat_across_chunks_is_reported_and_the_last_wins(write_manifest, two_per_chunk):
    path = write_manifest(
        [
            entry("a.jpg", "x", size_exif=1, date_exif="2001:01:01 10:00:00"),
            entry("b.jpg"),
            entry("c.jpg"),
            entry("a.jpg", "x", size_exif=2),
            entry("a.jpg", "x", size_exif=3, date_exif="2003:03:03 10:00:00"),
        ]
    )
    output = run(path)
    assert "'x/a.jpg' appears at entries 0, 3, 4; the last wins" in output
    assert "3 entries, 3 created, 0 updated, 0 unchanged" in output
    a = FileEntry.objects.get(filename="a.jpg")
    assert (a.size, a.date.isoformat()) == (3, "2003-03-03")
    assert Folder.objects.get(path="x").total_size == 3
    assert "0 created, 0 updated, 3 unchanged" in run(path)
    assert "0 created, 0 updated, 3 unchanged" in run(path, "--update")


def test_repeats_are_found_in_their_chunks_when_invalid_entries_were_skipped(
    write_manifest, two_per_chunk
):
    # Chunks hold staged entries: skipped ones shift every later entry's chunk.
    bad = entry("bad.jpg", size_exif=-1)
    first = [bad, entry("a.jpg", size_exif=1), bad, bad, entry("b.jpg"), entry("c.jpg")]
    then = [bad, entry("d.jpg"), entry("a.jpg", size_exif=2), entry("b.jpg", size_exif=3)]
    path = write_manifest([*first, *then])
    result = import_manifest(path, drive_name="D", skip_invalid=True)
    assert [(r.filename, r.indexes) for r in result.repeated] == [
        ("a.jpg", [1, 8]),
        ("b.jpg", [4, 9]),
    ]
    assert dict(FileEntry.objects.values_list("filename", "size")) == {
        "a.jpg": 2,
        "b.jpg": 3,
        "c.jpg": 1005,
        "d.jpg": 1005,
    }


def test_a_repeat_across_chunks_leaves_an_existing_file_alone_or_updates_it_once(
    write_manifest, two_per_chunk
):
    run(write_manifest([entry("a.jpg", "x", size_exif=1)]))
    path = write_manifest(
        [entry("a.jpg", "x", size_exif=2), entry("b.jpg"), entry("a.jpg", "x", size_exif=3)]
    )
    assert "0 updated, 1 unchanged" in run(path)
    assert FileEntry.objects.get(filename="a.jpg").size == 1
    assert "2 entries, 0 created, 1 updated, 1 unchanged" in run(path, "--update")
    assert FileEntry.objects.get(filename="a.jpg").size == 3


def test_a_bad_entry_in_a_later_chunk_leaves_the_database_as_it_was(
    three_files, write_manifest, two_per_chunk
):
    run(three_files)
    before = snapshot()
    bad = write_manifest(
        [entry(f"new{i}.jpg", "fresh") for i in range(5)] + [entry("z.jpg", oshash="nothex")],
        "PHS_copyALL.json",
    )
    with pytest.raises(CommandError, match="1 invalid entry; nothing was imported"):
        run(bad)
    assert snapshot() == before


def test_json_breaking_off_in_a_later_chunk_leaves_the_database_as_it_was(
    three_files, write_manifest, two_per_chunk
):
    run(three_files)
    before = snapshot()
    text = json.dumps([entry(f"new{i}.jpg") for i in range(5)])
    with pytest.raises(CommandError, match="not valid JSON"):
        run(write_manifest(text[:-40], "PHS_copyALL.json"))
    assert snapshot() == before


def test_many_repeats_inside_and_across_chunks(write_manifest, monkeypatch):
    monkeypatch.setattr("catalog.services.imports.CHUNK", 800)
    first = [entry(f"f{i}.jpg", "x", size_exif=1) for i in range(700)]
    last = [entry(f"f{i}.jpg", "x", size_exif=2) for i in range(700)]
    # Chunk one: all of ``first`` and 100 of ``last``; chunk two: the other 600.
    result = import_manifest(write_manifest(first + last), drive_name="D")
    assert (result.entries, result.created, len(result.repeated)) == (700, 700, 700)
    assert result.repeated[0].indexes == [0, 700]
    assert set(FileEntry.objects.values_list("size", flat=True)) == {2}
    assert Folder.objects.get(path="x").total_size == 1400


def test_verbose_prints_progress_every_hundred_entries(write_manifest):
    from io import StringIO

    out, err = StringIO(), StringIO()
    path = write_manifest([entry(f"f{i}.jpg", f"d{i % 7}") for i in range(350)])
    call_command("import_json", str(path), "--verbose", stdout=out, stderr=err)
    counts = [line.split(": ")[1].split(" ")[0] for line in err.getvalue().splitlines()]
    assert counts[:3] == ["100", "200", "300"]
    assert counts[-1] == "350"
    assert "350 entries, 350 created" in out.getvalue()


def test_a_name_that_is_not_unicode_refuses_the_import_and_changes_nothing(
    three_files, write_manifest, two_per_chunk
):
    run(three_files)
    before = snapshot()
    entries = [entry("new-1.jpg"), entry("new-2.jpg"), entry("new-3.jpg"), entry("bad\udce9.jpg")]
    bad = write_manifest(json.dumps(entries).encode(), "PHS_copyALL.json")
    with pytest.raises(CommandError, match="1 invalid entry; nothing was imported"):
        run(bad)
    assert snapshot() == before


def test_skip_invalid_imports_around_a_name_that_is_not_unicode(write_manifest, two_per_chunk):
    # The bad name is in the third chunk: the first two are staged before the manifest is
    # read again from the start, and none of their entries is staged twice.
    entries = [entry(f"f{i}.jpg", "d") for i in range(4)]
    entries += [entry("bad\udce9.jpg", "d"), entry("after.jpg", "d")]
    output = run(write_manifest(json.dumps(entries).encode()), "--skip-invalid")
    assert "entry 4: filename: 'bad\\udce9.jpg' is not valid Unicode" in output
    assert "5 entries, 5 created, 0 updated, 0 unchanged, 1 skipped" in output
    assert sorted(FileEntry.objects.values_list("filename", flat=True)) == [
        "after.jpg",
        *[f"f{i}.jpg" for i in range(4)],
    ]
    assert Folder.objects.get(path="d").file_count == 5


def test_an_import_has_its_own_sqlite_page_cache_and_gives_the_sites_back(
    write_manifest, monkeypatch
):
    from django.db import connection

    from catalog.services import imports

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's page cache lives in the server")

    def cache_size():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            return cursor.fetchone()[0]

    seen, real_import = [], imports._import
    monkeypatch.setattr(
        imports, "_import", lambda *args: seen.append(cache_size()) or real_import(*args)
    )
    before = cache_size()
    import_manifest(write_manifest([entry("a.jpg")]), drive_name="D")
    assert seen == [-imports.IMPORT_SQLITE_CACHE_KIB]
    assert cache_size() == before != seen[0]


# Repeats in a new drive imported next to an existing one (issue #22): PostgreSQL had no
# statistics saying the new drive had files, and settled repeats with a join that read
# the whole staging table once per file of the drive (85 s instead of 8 for 40,000).


def manifest_with_repeats(count: int, places: dict[str, int], again: int = 3) -> list[dict]:
    """``count`` files; at each place, ``again`` entries listed once more (size + 1000)
    right after themselves, so a repeat sits in the same chunk as its first entry."""
    entries = []
    for i in range(count):
        entries.append(entry(f"f{i:04}.jpg", f"d{i % 7}", size_exif=i, camera="first"))
        for at in places.values():
            if i == at + again - 1:
                entries += [
                    entry(f"f{j:04}.jpg", f"d{j % 7}", size_exif=j + 1000, camera="last")
                    for j in range(at, at + again)
                ]
    return entries


PLACES = {"start": 0, "middle": 100, "end": 197}


@pytest.mark.parametrize("place", [*PLACES, "all"])
def test_repeats_at_the_start_middle_or_end_leave_one_file_with_the_last_entry(
    write_manifest, monkeypatch, place
):
    import_manifest(
        write_manifest([entry(f"old{i}.jpg", f"o{i % 5}") for i in range(60)], "Old.json"),
        drive_name="Old",
    )
    monkeypatch.setattr("catalog.services.imports.CHUNK", 40)
    places = PLACES if place == "all" else {place: PLACES[place]}
    result = import_manifest(write_manifest(manifest_with_repeats(200, places)), drive_name="New")

    repeated = sorted(j for at in places.values() for j in range(at, at + 3))
    assert (result.entries, result.created) == (200, 200)
    assert sorted(r.filename for r in result.repeated) == [f"f{j:04}.jpg" for j in repeated]
    assert all(len(r.indexes) == 2 for r in result.repeated)
    files = FileEntry.objects.filter(drive__name="New")
    assert files.count() == 200
    assert files.values("path", "filename").distinct().count() == 200
    changed = files.filter(camera="last")
    assert sorted(changed.values_list("size", flat=True)) == [j + 1000 for j in repeated]
    assert files.exclude(camera="last").filter(size__gte=1000).count() == 0
    assert FileEntry.objects.filter(drive__name="Old").count() == 60
    assert Folder.objects.get(drive__name="New", path="").total_size == sum(range(200)) + (
        1000 * len(repeated)
    )


def test_settling_repeats_reads_staging_once_and_the_files_by_their_key(
    write_manifest, monkeypatch
):
    """The plan of every statement that writes from staging, as PostgreSQL ran it
    (EXPLAIN ANALYZE, rolled back): no staging table is scanned more than once, and the
    file table is only ever read through an index with all its key columns given, never
    scanned across the new drive (a new drive has no statistics: the planner took it
    for empty, and settling 5 repeats took 85 s instead of 8 for 40,000 files)."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the planner's choice is PostgreSQL's; SQLite's result is tested above")
    import_manifest(
        write_manifest([entry(f"old{i}.jpg", f"o{i % 5}") for i in range(600)], "Old.json"),
        drive_name="Old",
    )
    monkeypatch.setattr("catalog.services.imports.CHUNK", 500)
    plans = []

    def explain(execute, sql, params, many, context):
        if "phs_import_staging" in sql and sql.lstrip().upper().startswith(
            ("INSERT", "UPDATE", "DELETE")
        ):
            raw = context["cursor"].cursor
            for one in params if many else [params]:
                with transaction.atomic():
                    raw.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", one)
                    plans.append((sql, raw.fetchone()[0][0]["Plan"]))
                    transaction.set_rollback(True)
        return execute(sql, params, many, context)

    entries = manifest_with_repeats(1000, {"start": 0, "middle": 300, "end": 997})
    with connection.execute_wrapper(explain):
        result = import_manifest(write_manifest(entries), drive_name="New")
    assert len(result.repeated) == 9
    assert FileEntry.objects.filter(drive=result.drive, camera="last").count() == 9

    def nodes(plan):
        yield plan
        for child in plan.get("Plans", []):
            yield from nodes(child)

    def key_columns(index: str) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_indexdef(i.indexrelid, n, true) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid, generate_series(1, i.indnkeyatts) n "
                "WHERE c.relname = %s ORDER BY n",
                [index],
            )
            return [column for (column,) in cursor.fetchall()]

    assert plans
    for sql, plan in plans:
        for node in nodes(plan):
            relation = node.get("Relation Name", "")
            if relation.startswith("phs_import_staging") and "Scan" in node["Node Type"]:
                assert node["Actual Loops"] == 1, (sql, plan)
            if relation == "catalog_fileentry" and "Scan" in node["Node Type"]:
                assert node["Node Type"] in ("Index Scan", "Index Only Scan"), (sql, plan)
                given = node.get("Index Cond", "")
                columns = key_columns(node["Index Name"])
                assert all(f"({column} = " in given for column in columns), (sql, plan)
