"""Manifest reading and validation, without the database."""

import io
import json
from datetime import date

import pytest

from catalog.manifest import (
    ManifestFormatError,
    ManifestReader,
    category_for_mime,
    drive_name_from_manifest,
    parse_exif_date,
    validate_drive_name,
)


def read(entries) -> tuple[list, list[str]]:
    data = entries if isinstance(entries, bytes) else json.dumps(entries).encode()
    reader = ManifestReader(io.BytesIO(data))
    valid = list(reader)
    return valid, [str(p) for p in reader.problems.items]


@pytest.mark.parametrize(
    ("filename", "drive"),
    [
        ("Expansion.json", "Expansion"),
        ("PHS_copyALL_2026-01-24.json", "PHS_copyALL"),
        ("data/PHS_copyALL_2026-01-24.json", "PHS_copyALL"),
        ("Backup_1999-01-01.json", "Backup_1999-01-01"),  # only 20YY dates are stripped
        ("Drive.JSON", "Drive"),
    ],
)
def test_drive_name_rule(filename, drive):
    assert drive_name_from_manifest(filename) == drive


@pytest.mark.parametrize("name", ["", "  ", "a/b", "bad\x07name", "x" * 256])
def test_bad_drive_names_are_named(name):
    assert validate_drive_name(name)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2021:12:23 17:57:22+05:30", "2021-12-23T17:57:22+05:30"),
        ("2021:12:23 17:57:22", "2021-12-23T17:57:22+05:30"),  # naive: the archive's zone
        ("2019-03-04T10:11:12Z", "2019-03-04T10:11:12+00:00"),
        ("0000:00:00 00:00:00", None),
        ("    :  :     :  :  ", None),
        ("not a date", None),
        ("", None),
        ("9999:99:99 99:99:99", None),
        ("1200:01:01 00:00:00", None),
        ("2021:02:30 10:00:00", None),  # the EXIF shape, an impossible day
        ("2021:12:23 24:00:00", None),
        ("2021:12:23 17:57:22+24:00", None),
        ("2021:12:23 17:57:22-03:30", "2021-12-23T17:57:22-03:30"),
    ],
)
def test_exif_dates_parse_or_give_none(raw, expected):
    parsed = parse_exif_date(raw)
    assert (parsed.isoformat() if parsed else None) == expected


@pytest.mark.parametrize(
    ("mime", "category"),
    [
        ("video/mp4", "video"),
        ("image/jpeg", "image"),
        ("audio/x-wav", "audio"),
        ("application/pdf", "document"),
        ("text/plain", "document"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document"),
        ("application/zip", "other"),
        ("", "other"),
    ],
)
def test_category_from_mime(mime, category):
    assert category_for_mime(mime) == category


def test_valid_entry_is_normalised():
    valid, problems = read(
        [
            {
                "path": "/PHS-Videos//2019/./",
                "filename": "HD.1080.mp4",
                "file_type": "video/mp4",
                "oshash": "050858A68CAB09AA",
                "size_exif": "36256397",
                "size_pretty": "34.6 MB",
                "date_exif": "2021:12:23 17:57:22+05:30",
                "duration": "13.96",
                "resolution": "1920 x 1080",
                "camera": "DC-S1 (Panasonic)",
                "unknown_extra": {"ignored": True},
            }
        ]
    )
    assert problems == []
    (e,) = valid
    assert (e.path, e.filename, e.oshash) == ("PHS-Videos/2019", "HD.1080.mp4", "050858a68cab09aa")
    assert (e.size, e.duration, e.category) == (36256397, 13.96, "video")
    assert e.date == date(2021, 12, 23)
    assert e.exif_date_raw == "2021:12:23 17:57:22+05:30"


PLAIN = {
    "path": "PHS-Videos/2019",
    "filename": "HD.1080.mp4",
    "file_type": "video/mp4",
    "oshash": "050858a68cab09aa",
    "size_exif": 36256397,
    "date_exif": "2021:12:23 17:57:22",
    "duration": 13.96,
    "resolution": "1920 x 1080",
    "camera": "DC-S1 (Panasonic)",
}
#: Variations on PLAIN: each must come out of the fast path exactly as the thorough
#: validator makes it, or be handed to the thorough validator (problems and all).
VARIATIONS = [
    {},
    {"path": ""},
    {"path": None},
    {"path": "/PHS-Videos//2019/./"},
    {"path": ".thumbnails/a"},
    {"path": "a/.hidden/b"},
    {"path": "a/b/"},
    {"path": "a/../b"},
    {"path": ".."},
    {"path": 0},
    {"path": "x" * 4097},
    {"filename": ".DS_Store"},
    {"filename": "..."},
    {"filename": ".."},
    {"filename": ""},
    {"filename": "tab\there"},
    {"filename": "é́ नाटक.jpg"},
    {"filename": "c1\x85control"},
    {"oshash": "050858A68CAB09AA"},
    {"oshash": "IOError"},
    {"oshash": ""},
    {"oshash": None},
    {"oshash": "050858a68cab09a"},
    {"oshash": "050858a68cab09ag"},
    {"oshash": 12},
    {"size_exif": 0},
    {"size_exif": "12"},
    {"size_exif": 12.0},
    {"size_exif": True},
    {"size_exif": -1},
    {"size_exif": 2**63},
    {"size_exif": 10**30},
    {"size_exif": "1" * 30},
    {"size_exif": ""},
    {"size_exif": None},
    {"duration": 0},
    {"duration": 7},
    {"duration": "7.5"},
    {"duration": -0.5},
    {"duration": 2**63},
    {"duration": 1e30},
    {"duration": False},
    {"duration": ""},
    {"file_type": None},
    {"file_type": 0},
    {"file_type": ""},
    {"file_type": "x" * 256},
    {"date_exif": "0000:00:00 00:00:00"},
    {"date_exif": "2021:12:23 17:57:22+05:30"},
    {"date_exif": "2021-12-23T17:57:22Z"},
    {"date_exif": False},
    {"camera": ["x"]},
    {"resolution": "r" * 65},
]


@pytest.mark.parametrize("change", VARIATIONS, ids=lambda change: repr(change)[:40])
def test_fast_path_agrees_with_the_thorough_validator(change):
    from catalog.manifest import ProblemLog, _EntryValidator

    raw = {**PLAIN, **change}
    fast, thorough = _EntryValidator(ProblemLog()), _EntryValidator(ProblemLog())
    assert fast(3, raw) == thorough.thorough(3, raw)
    assert fast.problems.items == thorough.problems.items
    assert fast.invalid_entries == thorough.invalid_entries


def test_nan_and_infinity_are_refused_as_json():
    for bad in (
        b'[{"filename": "a", "duration": NaN}]',
        b'[{"filename": "a", "size_exif": 1e999}]',
    ):
        try:
            valid, problems = read(bad)
        except ManifestFormatError:
            continue
        assert valid == [] and problems


def test_unreadable_oshash_is_kept_as_missing():
    valid, problems = read(
        [{"filename": "a", "oshash": None}, {"filename": "b", "oshash": "IOError"}]
    )
    assert problems == []
    assert [e.oshash for e in valid] == [None, None]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("just a string", "entry 0: -: expected an object, got a string"),
        ({"path": "a"}, "entry 0: filename: is missing"),
        ({"filename": 12}, "entry 0: filename: must be a string, got a number"),
        ({"filename": ""}, "entry 0: filename: '' is not a file name"),
        ({"filename": ".."}, "entry 0: filename: '..' is not a file name"),
        ({"filename": "a/b"}, "entry 0: filename: 'a/b' contains a slash"),
        ({"filename": "bell\x07.jpg"}, "entry 0: filename: 'bell\\x07.jpg' contains a control"),
        (
            {"filename": "a", "path": "x/../../etc"},
            "entry 0: path: 'x/../../etc' escapes the drive",
        ),
        ({"filename": "a", "path": ["x"]}, "entry 0: path: must be a string, got a list"),
        ({"filename": "a", "path": "x\ny"}, "entry 0: path: 'x\\ny' contains a control character"),
        ({"filename": "a", "size_exif": "big"}, "entry 0: size_exif: 'big' is not a number"),
        ({"filename": "a", "size_exif": -1}, "entry 0: size_exif: -1 is negative"),
        ({"filename": "a", "size_exif": 1.5}, "entry 0: size_exif: 1.5 is not a whole number"),
        (
            {"filename": "a", "size_exif": True},
            "entry 0: size_exif: must be a number, got a boolean",
        ),
        ({"filename": "a", "duration": "long"}, "entry 0: duration: 'long' is not a number"),
        ({"filename": "a", "duration": {}}, "entry 0: duration: must be a number, got an object"),
        ({"filename": "a", "oshash": "xyz"}, "entry 0: oshash: 'xyz' is not 16 hexadecimal digits"),
        ({"filename": "a", "oshash": "0" * 17}, "entry 0: oshash: '00000000000000000' is not 16"),
        ({"filename": "a", "oshash": 12345}, "entry 0: oshash: 12345 is not 16 hexadecimal digits"),
        ({"filename": "a", "camera": 5}, "entry 0: camera: must be a string, got a number"),
        ({"filename": "a", "camera": "c" * 300}, "entry 0: camera: is longer than 255 characters"),
    ],
)
def test_each_bad_entry_is_named_with_index_and_field(entry, problem):
    valid, problems = read([entry])
    assert valid == []
    assert len(problems) >= 1
    assert problems[0].startswith(problem)


def test_every_problem_is_reported_not_just_the_first():
    valid, problems = read(
        [{"filename": "ok"}, {"filename": 1}, {"filename": "b", "size_exif": "x"}, 7]
    )
    assert [e.filename for e in valid] == ["ok"]
    assert [p.split(":")[0] for p in problems] == ["entry 1", "entry 2", "entry 3"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the manifest is empty"),
        (b"   \n", "the manifest is empty"),
        (b'{"path": "a"}', "expected a JSON list of entries, found an object"),
        (b"not json", "not valid JSON"),
        (b'"a string"', "not valid JSON"),
        (b'[{"filename": "a"}, {"filename": ', "not valid JSON"),
    ],
)
def test_whole_file_problems(data, message):
    with pytest.raises(ManifestFormatError, match=message):
        read(data)


def test_problem_log_keeps_a_bounded_list_but_counts_all():
    reader = ManifestReader(io.BytesIO(json.dumps([{"x": 1}] * 5000).encode()))
    assert list(reader) == []
    assert reader.problems.count == 5000
    assert len(reader.problems.items) == 1000
    assert reader.invalid_entries == 5000


# A name that is not UTF-8 on the drive reaches a manifest as a lone surrogate escape
# ("bad\udce9.jpg": what Python's json writes for a name decoded with surrogateescape).
# The catalog cannot hold it (nor can PostgreSQL or pad.ma), so its entry is refused
# with its field, like any other bad entry, and the entries around it are read.
def surrogate_manifest() -> bytes:
    return json.dumps(
        [
            {"filename": "\U0001f600 before.jpg"},  # a surrogate *pair*: a legal emoji
            {"path": "a", "filename": "bad\udce9.jpg"},
            {"path": "caf\udce9", "filename": "in-a-bad-folder.jpg"},
            {"filename": "c.jpg", "camera": "Nikon \ud800"},
            {"filename": "after.jpg", "path": "नमस्ते"},
        ]
    ).encode()  # ensure_ascii: every non-ASCII character as an escape, as scanners write


def test_a_name_that_is_not_unicode_is_named_with_its_entry_and_field():
    valid, problems = read(surrogate_manifest())
    assert [(e.path, e.filename) for e in valid] == [
        ("", "\U0001f600 before.jpg"),
        ("नमस्ते", "after.jpg"),
    ]
    assert problems == [
        "entry 1: filename: 'bad\\udce9.jpg' is not valid Unicode (byte 0xE9 is not UTF-8): "
        "rename it on the drive and scan again",
        "entry 2: path: 'caf\\udce9' is not valid Unicode (byte 0xE9 is not UTF-8): "
        "rename it on the drive and scan again",
        "entry 3: camera: 'Nikon \\ud800' is not valid Unicode (it holds a lone surrogate escape)",
    ]


def test_a_surrogate_far_into_the_manifest_is_found_after_a_rewind():
    entries = [{"filename": f"f{i}.jpg"} for i in range(3000)]
    entries[2500] = {"filename": "bad\udce9.jpg"}
    reader = ManifestReader(io.BytesIO(json.dumps(entries).encode()))
    valid = [e.index for e in reader]
    assert valid == [i for i in range(3000) if i != 2500]  # each entry once, in order
    assert [str(p)[:30] for p in reader.problems.items] == ["entry 2500: filename: 'bad\\udc"]
    assert (reader.seen, reader.invalid_entries) == (3000, 1)


def test_a_surrogate_in_a_stream_that_cannot_rewind_refuses_the_file():
    with pytest.raises(ManifestFormatError, match="cannot be read again from the start"):
        list(ManifestReader(io.BufferedReader(OneWay(surrogate_manifest()))))


# The same names written as their bytes (a scanner that does not escape them): the
# entry and field are named in words, like a surrogate escape's, never a bytes repr.
def test_bytes_that_are_not_utf8_are_named_with_their_entry_and_field():
    valid, problems = read(
        b'[{"filename": "caf\xe9.jpg"}, {"filename": "ok.jpg", "path": "\xe2\x82\xac"}, '
        b'{"path": "Mus\xe9e \xff\xfe", "filename": "a.jpg"}, '
        b'{"filename": "b.jpg", "camera": "Nikon \xe9"}, {"filename": "c.jpg", "x": "\xe9"}]'
    )
    assert [(e.index, e.path, e.filename) for e in valid] == [
        (1, "\u20ac", "ok.jpg"),
        (4, "", "c.jpg"),
    ]
    assert problems == [
        "entry 0: filename: 'caf\\udce9.jpg' is not valid Unicode (byte 0xE9 is not UTF-8): "
        "rename it on the drive and scan again",
        "entry 2: path: 'Mus\\udce9e \\udcff\\udcfe' is not valid Unicode (bytes 0xE9, 0xFF, "
        "0xFE are not UTF-8): rename it on the drive and scan again",
        "entry 3: camera: 'Nikon \\udce9' is not valid Unicode (byte 0xE9 is not UTF-8)",
    ]


def test_bytes_that_are_not_utf8_far_into_the_manifest_are_found_after_a_rewind():
    entries = [{"path": "नाटक", "filename": f"€{i}.jpg"} for i in range(4000)]  # > 64 KiB
    data = json.dumps(entries, ensure_ascii=False).encode()
    at = data.index("€3500.jpg".encode())
    reader = ManifestReader(io.BytesIO(data[:at] + b"\xe9" + data[at:]))
    assert [e.index for e in reader] == [i for i in range(4000) if i != 3500]
    assert [str(p).split(" is ")[0] for p in reader.problems.items] == [
        "entry 3500: filename: '\\udce9€3500.jpg'"
    ]


def test_a_broken_escape_before_bytes_that_are_not_utf8_is_not_valid_json():
    # Read again for the number, the ``\<E9>`` must stay an error, not become a backslash.
    with pytest.raises(ManifestFormatError, match=r"^not valid JSON at entry 1: Invalid"):
        read(b'[{"filename": "a", "size_exif": 1' + b"0" * 30 + b'}, {"filename": "b\\\xe9"}]')


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size_exif", b"1" + b"0" * 30),
        ("size_exif", b"9223372036854775808"),  # 2**63
        ("size_exif", b'"1' + b"0" * 30 + b'"'),
        ("duration", b"1" + b"0" * 30),
        ("duration", b"1e30"),
    ],
)
def test_a_number_past_64_bits_is_too_large_naming_its_entry_and_field(field, value):
    data = b'[{"filename": "a"}, {"filename": "b", "%s": %s}, {"filename": "c"}]' % (
        field.encode(),
        value,
    )
    valid, problems = read(data)
    assert [e.filename for e in valid] == ["a", "c"]
    assert problems == [f"entry 1: {field}: too large (it does not fit in 64 bits)"]


def test_a_number_past_64_bits_in_a_field_that_is_not_read_is_ignored():
    valid, problems = read(b'[{"filename": "a", "inode": 1' + b"0" * 30 + b"}]")
    assert ([e.filename for e in valid], problems) == (["a"], [])


class OneWay(io.RawIOBase):
    """A stream that cannot be rewound (a pipe)."""

    def __init__(self, data):
        self.data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self.data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"filename": "a"}, {"filename": "b\xe9"}]', "entry 1 holds bytes that are not UTF-8"),
        (
            b'[{"filename": "a", "size_exif": 1' + b"0" * 30 + b"}]",
            "entry 0 holds a number too large for 64 bits",
        ),
    ],
)
def test_what_the_c_parser_cannot_read_in_a_stream_that_cannot_rewind_names_the_entry(
    data, message
):
    with pytest.raises(ManifestFormatError, match=f"^{message}, and the manifest cannot be read"):
        list(ManifestReader(io.BufferedReader(OneWay(data))))
