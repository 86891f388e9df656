"""Reading drive manifests: stream the JSON, validate each entry, name every problem.

The contract (docs/manifest.md) is the seed scanner's: a JSON array of flat objects.
Only the fields below are read; anything else in an entry is ignored. Parsing is
streamed with ijson so memory stays flat however large the manifest is.
"""

import codecs
import json
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any, NamedTuple

import ijson
from dateutil import parser as date_parser
from django.utils import timezone

from .models import Category

OSHASH_RE = re.compile(r"^[0-9a-fA-F]{16}$")
#: C0 controls, DEL and C1 controls: never legitimate in a file or folder name. Lone
#: surrogates (U+D800–U+DFFF) are in the same class so the fast path passes on them in
#: the same scan; ``_text_problem`` tells the two apart for the message.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
#: A name on the drive that is not UTF-8 (its bytes written as they are, or as surrogate
#: escapes U+DC80–U+DCFF, one per byte, as Python's json writes them): neither
#: PostgreSQL nor pad.ma can hold it, so the entry is refused.
NOT_UNICODE = "{value!r} is not valid Unicode ({what})"
NOT_UNICODE_NAME = f"{NOT_UNICODE}: rename it on the drive and scan again"
ESCAPED_BYTE_RE = re.compile(r"[\udc80-\udcff]")
#: A number a 64-bit column cannot hold (the same words for every numeric field).
TOO_LARGE = "too large (it does not fit in 64 bits)"
DRIVE_DATE_SUFFIX_RE = re.compile(r"_20\d\d-\d\d-\d\d$")
MAX_NAME_LENGTH = 4096
MAX_TEXT = {"file_type": 255, "resolution": 64, "camera": 255, "date_exif": 64}
#: What ``ox.oshash`` writes when it cannot read a file; treated like a missing hash.
UNREADABLE_OSHASH = "IOError"


class ManifestFormatError(Exception):
    """The file as a whole is unusable (not JSON, not a list)."""


@dataclass(frozen=True, slots=True)
class EntryProblem:
    index: int
    field: str
    message: str

    def __str__(self):
        return f"entry {self.index}: {self.field}: {self.message}"


class ManifestEntry(NamedTuple):
    """One validated entry, with the scanner fields as the catalog stores them.

    A named tuple: an import builds a million of these, and a tuple costs a fraction of
    a frozen dataclass to make.
    """

    index: int
    path: str
    filename: str
    oshash: str | None
    size: int | None
    mime_type: str
    category: str
    exif_date_raw: str
    exif_date: datetime | None
    date: date | None
    duration: float | None
    resolution: str
    camera: str


def drive_name_from_manifest(filename: str) -> str:
    """``Expansion.json`` → ``Expansion``; ``PHS_copyALL_2026-01-24.json`` → ``PHS_copyALL``."""
    stem = filename.rsplit("/", 1)[-1]
    if stem.lower().endswith(".json"):
        stem = stem[: -len(".json")]
    return DRIVE_DATE_SUFFIX_RE.sub("", stem)


def validate_drive_name(name: str) -> str | None:
    """Return a problem with a drive name, or None if it is usable."""
    if not name or not name.strip():
        return "drive name is empty"
    if len(name) > 255:
        return "drive name is longer than 255 characters"
    if CONTROL_RE.search(name) or "/" in name or "\\" in name:
        return f"drive name {name!r} contains a slash, a control character or bad Unicode"
    return None


def category_for_mime(mime_type: str) -> str:
    major, _, minor = mime_type.partition("/")
    if major in ("video", "image", "audio"):
        return major
    if major == "text" or minor in DOCUMENT_SUBTYPES or minor.startswith("vnd.openxmlformats"):
        return Category.DOCUMENT
    return Category.OTHER


DOCUMENT_SUBTYPES = {
    "pdf",
    "msword",
    "rtf",
    "epub+zip",
    "vnd.oasis.opendocument.text",
    "vnd.oasis.opendocument.spreadsheet",
    "vnd.oasis.opendocument.presentation",
    "vnd.ms-excel",
    "vnd.ms-powerpoint",
}

#: EXIF's "no date" placeholders (all zeros, blanks) — they mean unknown, not year 0.
_EMPTY_DATE_RE = re.compile(r"^[\s0:\-./T+]*$")


_EXIF_DATE_RE = re.compile(r"\d{4}:\d\d:\d\d \d\d:\d\d:\d\d(?:[+-]\d\d:\d\d)?")


def _fast_exif_date(raw: str) -> datetime | None:
    """``2021:12:23 17:57:22[+05:30]``, read by ``datetime.fromisoformat`` (C) once the
    date's colons are dashes; impossible dates (2021:02:30, 25:00:00) give None."""
    try:
        value = datetime.fromisoformat(f"{raw[:4]}-{raw[5:7]}-{raw[8:]}")
    except ValueError:
        return None
    if not 1800 <= value.year <= 2200:
        return None
    if value.tzinfo is None:
        # settings.TIME_ZONE (cached by Django); make_aware would look up the active
        # zone through asgiref on every call.
        return value.replace(tzinfo=timezone.get_default_timezone())
    return value


def parse_exif_date(raw: str) -> datetime | None:
    """Parse the varied EXIF date strings scanners emit; unknown or odd dates give None.

    ``2021:12:23 17:57:22+05:30`` → aware datetime. Dates without an offset are
    taken as local time in ``settings.TIME_ZONE`` (the archive's home).
    """
    raw = raw.strip()
    if not raw or _EMPTY_DATE_RE.match(raw):
        return None
    if _EXIF_DATE_RE.fullmatch(raw):
        # The common EXIF shape, parsed directly: dateutil costs ~50 µs per call.
        return _fast_exif_date(raw)
    text = raw
    # EXIF writes the date part with colons: "2021:12:23 17:57:22".
    if re.match(r"^\d{4}:\d{2}:\d{2}", text):
        text = text[:4] + "-" + text[5:7] + "-" + text[8:]
    try:
        parsed = date_parser.parse(text)
    except (ValueError, OverflowError, TypeError):
        return None
    if not 1800 <= parsed.year <= 2200:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


class ProblemLog:
    """Every problem counted; the first ``keep`` kept to show (a bad 1M-entry file stays small)."""

    def __init__(self, keep: int = 1000):
        self.keep = keep
        self.count = 0
        self.items: list[EntryProblem] = []
        self.entries: set[int] = set()

    def add(self, problem: EntryProblem) -> None:
        self.count += 1
        if len(self.items) < self.keep:
            self.items.append(problem)

    def __bool__(self) -> bool:
        return self.count > 0

    def __len__(self) -> int:
        return self.count


class _EntryValidator:
    """Turns one raw JSON object into a ManifestEntry, or records why it cannot."""

    def __init__(self, problems: ProblemLog):
        self.problems = problems
        #: How many entries had at least one problem.
        self.invalid_entries = 0

    def problem(self, index: int, field: str, message: str) -> None:
        self.problems.add(EntryProblem(index, field, message))

    def __call__(self, index: int, raw: Any) -> ManifestEntry | None:
        if type(raw) is dict and (entry := _plain_entry(index, raw)) is not None:
            return entry
        return self.thorough(index, raw)

    def thorough(self, index: int, raw: Any) -> ManifestEntry | None:
        """Check every field and name each problem; normalise what may be normalised."""
        if not isinstance(raw, dict):
            self.problem(index, "-", f"expected an object, got {_json_type(raw)}")
            self.invalid_entries += 1
            return None
        before = len(self.problems)
        filename = self.filename(index, raw.get("filename"))
        path = self.path(index, raw.get("path"))
        oshash = self.oshash(index, raw.get("oshash"))
        size = self.number(index, raw, "size_exif", integer=True)
        duration = self.number(index, raw, "duration", integer=False)
        mime_type = self.text(index, raw, "file_type")
        exif_date_raw = self.text(index, raw, "date_exif")
        resolution = self.text(index, raw, "resolution")
        camera = self.text(index, raw, "camera")
        if len(self.problems) > before:
            self.invalid_entries += 1
            return None
        exif_date = parse_exif_date(exif_date_raw) if exif_date_raw else None
        return ManifestEntry(
            index=index,
            path=path,
            filename=filename,
            oshash=oshash,
            size=size,
            mime_type=mime_type,
            category=category_for_mime(mime_type.lower()),
            exif_date_raw=exif_date_raw,
            exif_date=exif_date,
            # The wall-clock day the picture was taken, in the picture's own offset.
            date=exif_date.date() if exif_date else None,
            duration=duration,
            resolution=resolution,
            camera=camera,
        )

    def filename(self, index: int, value: Any) -> str:
        if value is None:
            self.problem(index, "filename", "is missing")
            return ""
        if not isinstance(value, str):
            self.problem(index, "filename", f"must be a string, got {_json_type(value)}")
            return ""
        if value in ("", ".", ".."):
            self.problem(index, "filename", f"{value!r} is not a file name")
        elif "/" in value:
            self.problem(index, "filename", f"{value!r} contains a slash")
        elif CONTROL_RE.search(value):
            self.problem(index, "filename", _text_problem(value, name=True))
        elif len(value) > MAX_NAME_LENGTH:
            self.problem(index, "filename", f"is longer than {MAX_NAME_LENGTH} characters")
        return value

    def path(self, index: int, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problem(index, "path", f"must be a string, got {_json_type(value)}")
            return ""
        if CONTROL_RE.search(value):
            self.problem(index, "path", _text_problem(value, name=True))
            return ""
        if len(value) > MAX_NAME_LENGTH:
            self.problem(index, "path", f"is longer than {MAX_NAME_LENGTH} characters")
            return ""
        # Normalise separators' noise ("a//b/", "/a", "./a"), refuse to leave the drive.
        parts = [part for part in value.split("/") if part not in ("", ".")]
        if ".." in parts:
            self.problem(index, "path", f"{value!r} escapes the drive ('..')")
            return ""
        return "/".join(parts)

    def oshash(self, index: int, value: Any) -> str | None:
        if value is None or value in ("", UNREADABLE_OSHASH):
            return None
        if not isinstance(value, str) or not OSHASH_RE.match(value):
            self.problem(index, "oshash", f"{value!r} is not 16 hexadecimal digits")
            return None
        return value.lower()

    def number(self, index: int, raw: dict, field: str, *, integer: bool) -> Any:
        value = raw.get(field)
        if value is None or value == "":
            return None
        # Some scanners write numbers as strings ("36256397"); accept those.
        if isinstance(value, str):
            try:
                value = float(value.strip()) if not integer else _int_from_text(value)
            except ValueError:
                self.problem(index, field, f"{_shown(value)} is not a number")
                return None
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(index, field, f"must be a number, got {_json_type(value)}")
            return None
        value = float(value) if not isinstance(value, int) else value
        if isinstance(value, float) and not math.isfinite(value):
            self.problem(index, field, f"{value!r} is not a finite number")
            return None
        if value < 0:
            self.problem(index, field, f"{_shown(value)} is negative")
            return None
        if value >= _BEYOND_64_BITS:
            self.problem(index, field, TOO_LARGE)
            return None
        if integer:
            if value != int(value):
                self.problem(index, field, f"{value!r} is not a whole number of bytes")
                return None
            value = int(value)
        return value

    def text(self, index: int, raw: dict, field: str) -> str:
        value = raw.get(field)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problem(index, field, f"must be a string, got {_json_type(value)}")
            return ""
        if len(value) > MAX_TEXT[field]:
            self.problem(index, field, f"is longer than {MAX_TEXT[field]} characters")
            return ""
        if CONTROL_RE.search(value):
            self.problem(index, field, _text_problem(value))
            return ""
        return value


_HEX16_RE = re.compile(r"[0-9a-fA-F]{16}")
_NO_HASH = (None, "", UNREADABLE_OSHASH)
_BEYOND_64_BITS = 2**63


def _plain_entry(index: int, raw: dict) -> ManifestEntry | None:
    """The entry, if every field is plainly valid as written; else None.

    Nearly every entry of a real manifest takes this path. Anything unusual (a number
    written as a string, a path to normalise, a control character, a wrong type) returns
    None, and ``_EntryValidator.thorough`` checks that entry field by field, so this
    function never decides what a problem is, only that there is none.
    """
    get = raw.get
    filename = get("filename")
    path = get("path")
    if path is None:
        path = ""
    mime_type = get("file_type")
    if mime_type is None:
        mime_type = ""
    exif_date_raw = get("date_exif")
    if exif_date_raw is None:
        exif_date_raw = ""
    resolution = get("resolution")
    if resolution is None:
        resolution = ""
    camera = get("camera")
    if camera is None:
        camera = ""
    if not (
        type(filename) is str
        and type(path) is str
        and type(mime_type) is str
        and type(exif_date_raw) is str
        and type(resolution) is str
        and type(camera) is str
        and 0 < len(filename) <= MAX_NAME_LENGTH
        and len(path) <= MAX_NAME_LENGTH
        and len(mime_type) <= MAX_TEXT["file_type"]
        and len(exif_date_raw) <= MAX_TEXT["date_exif"]
        and len(resolution) <= MAX_TEXT["resolution"]
        and len(camera) <= MAX_TEXT["camera"]
        and "/" not in filename
        and filename not in (".", "..")
        # A path is kept as written only when it needs no normalising: no leading or
        # trailing slash, no empty, "." or ".." segment (nor any segment starting with ".").
        and (not path or (path[0] not in "/." and path[-1] != "/" and "//" not in path))
        and "/." not in path
        and not CONTROL_RE.search(filename + path + mime_type + exif_date_raw + resolution + camera)
    ):
        return None
    oshash = get("oshash")
    if oshash in _NO_HASH:
        oshash = None
    elif type(oshash) is str and len(oshash) == 16 and _HEX16_RE.fullmatch(oshash):
        oshash = oshash.lower()
    else:
        return None
    size = get("size_exif")
    if size == "" or size is None:
        size = None
    elif type(size) is not int or not 0 <= size < _BEYOND_64_BITS:
        return None
    duration = get("duration")
    if duration == "" or duration is None:
        duration = None
    elif type(duration) is float:
        if not 0 <= duration < _BEYOND_64_BITS:  # NaN fails both comparisons
            return None
    elif type(duration) is not int or not 0 <= duration < _BEYOND_64_BITS:
        return None
    exif_date = parse_exif_date(exif_date_raw) if exif_date_raw else None
    return ManifestEntry(
        index,
        path,
        filename,
        oshash,
        size,
        mime_type,
        category_for_mime(mime_type.lower()),
        exif_date_raw,
        exif_date,
        exif_date.date() if exif_date else None,
        duration,
        resolution,
        camera,
    )


def _text_problem(value: str, *, name: bool = False) -> str:
    """What is wrong with a text that ``CONTROL_RE`` flagged."""
    if surrogates := SURROGATE_RE.findall(value):
        if len(ESCAPED_BYTE_RE.findall(value)) == len(surrogates):
            # Python's surrogateescape: U+DC80 + b stands for byte b, which was not UTF-8.
            shown = ", ".join(dict.fromkeys(f"0x{ord(c) - 0xDC00:02X}" for c in surrogates))
            what = f"bytes {shown} are not UTF-8" if "," in shown else f"byte {shown} is not UTF-8"
        else:
            what = "it holds a lone surrogate escape"
        return (NOT_UNICODE_NAME if name else NOT_UNICODE).format(value=value, what=what)
    return f"{value!r} contains a control character"


def _int_from_text(text: str) -> float:
    text = text.strip()
    if text.isdigit():
        # Past 19 digits it is too large anyway; int() refuses past 4,300.
        return int(text) if len(text) <= 19 else _BEYOND_64_BITS
    return float(text)


def _shown(value: Any) -> str:
    """A value as a problem quotes it: its repr, cut short if long."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:50]}… ({len(text)} characters)"


def _json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "a list"
        case dict():
            return "an object"
    return type(value).__name__


class ManifestReader:
    """Iterate the valid entries of a manifest; problems collect in ``problems``.

    Iterating raises ManifestFormatError when the file is not a JSON array at all or
    the JSON breaks off; entry-level problems never stop the stream.
    """

    def __init__(self, stream: IO[bytes], problems: ProblemLog | None = None):
        self.stream = stream
        self.problems = problems if problems is not None else ProblemLog()
        self._validate = _EntryValidator(self.problems)
        #: Entries seen so far, valid or not.
        self.seen = 0

    @property
    def invalid_entries(self) -> int:
        return self._validate.invalid_entries

    def __iter__(self) -> Iterator[ManifestEntry]:
        return read_manifest(self)


def read_manifest(reader: ManifestReader) -> Iterator[ManifestEntry]:
    validate = reader._validate
    stream = _check_is_array(reader.stream)
    items = ijson.items(stream, "item", use_float=True)
    skip, rereading = 0, False
    try:
        while True:
            try:
                for index, raw in enumerate(items, start=reader.seen):
                    reader.seen = index + 1
                    if index < skip:
                        continue  # read again after a rewind: validated already
                    entry = validate(index, raw)
                    if entry is not None:
                        yield entry
                return
            except (ijson.JSONError, UnicodeDecodeError) as error:
                # The C parser stops at what an entry may hold but it cannot return: a
                # lone surrogate (``"bad\\udce9.jpg"``, what Python's json writes for a
                # name that is not UTF-8), bytes that are not UTF-8, an integer past 64
                # bits. Read the manifest again with ijson's Python parser, which can
                # (bytes that are not UTF-8 read as surrogate escapes), so that entry is
                # reported with its field like any other and --skip-invalid imports the rest.
                cause = None if rereading else _beyond_the_c_parser(error)
                if cause is None:
                    raise
                skip, rereading = reader.seen, True
                items = _reread_with_python_parser(reader.stream, f"entry {skip} holds {cause}")
                reader.seen = 0
    except (ijson.JSONError, json.JSONDecodeError) as error:  # json's: the Python parser's
        raise ManifestFormatError(
            f"not valid JSON{_at_entry(reader)}: {_parser_message(error)}"
        ) from error
    except UnicodeDecodeError as error:
        raise ManifestFormatError(f"not UTF-8 text{_at_entry(reader)}: {error.reason}") from error


def _at_entry(reader: ManifestReader) -> str:
    """Where a whole-file problem showed: the entry being read when it did."""
    return f" at entry {reader.seen}"


def _parser_message(error: Exception) -> str:
    """The parser's own words, on one line (yajl's are bytes, with a drawing of where)."""
    message = error.args[0] if error.args else error
    if isinstance(message, bytes):
        message = message.decode("utf-8", "backslashreplace")
    lines = str(message).strip().splitlines()
    return lines[0][:200] if lines else type(error).__name__


def _beyond_the_c_parser(error: Exception) -> str | None:
    """What stopped the C parser that the Python one reads, in words; None for the rest."""
    if isinstance(error, UnicodeDecodeError):
        # yajl decodes a ``\udXXX`` escape to the three bytes ED A0–BF xx, never UTF-8.
        if isinstance(error.object, bytes) and re.search(rb"\xed[\xa0-\xbf]", error.object):
            return "a name that is not valid Unicode (a surrogate escape such as \\udce9)"
        return None
    message = error.args[0] if error.args else b""
    if isinstance(message, str):
        message = message.encode()
    if b"invalid bytes in UTF8 string" in message:
        return "bytes that are not UTF-8"
    if b"integer overflow" in message:
        return "a number too large for 64 bits"
    return None


def _reread_with_python_parser(stream: IO[bytes], problem: str):
    try:
        stream.seek(0)
    except (AttributeError, OSError) as error:
        raise ManifestFormatError(
            f"{problem}, and the manifest cannot be read again from the start to say in which field"
        ) from error
    python_parser = ijson.get_backend("python")
    source = _check_is_array(_NotUtf8AsEscapes(stream))
    return python_parser.items(source, "item", use_float=True)


class _NotUtf8AsEscapes:
    """A manifest's bytes, those that are not UTF-8 written as JSON surrogate escapes
    (E9 → ``\\udce9``, what Python's json writes for a name that is not UTF-8): the name
    then reaches the validator, which refuses its entry and names the field."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.name = getattr(stream, "name", "")
        self.decode = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode
        #: How many backslashes the text returned so far ends with.
        self.backslashes = 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        while True:
            data = self.stream.read(size)
            text = self.decode(data, final=not data)
            if text or not data:  # else only the start of a character: read on
                break
        text = _BACKSLASHES_AND_BYTE_RE.sub(self._escape, text)
        trailing = len(text) - len(text.rstrip("\\"))
        self.backslashes = trailing + (self.backslashes if trailing == len(text) else 0)
        return text.encode()

    def _escape(self, match: re.Match) -> str:
        backslashes = match[1]
        before = len(backslashes) + (self.backslashes if match.start() == 0 else 0)
        if before % 2:
            # "\<E9>" is a broken escape, and "\\udce9" would read as a backslash:
            # keep it broken for the parser to report at its entry.
            return f"{backslashes}\x00"
        return f"{backslashes}\\u{ord(match[2]):04x}"


#: A byte that is not UTF-8 (decoded as a surrogate escape) and the backslashes before it.
_BACKSLASHES_AND_BYTE_RE = re.compile(r"(\\*)([\udc80-\udcff])")


def _check_is_array(stream: IO[bytes]) -> "_Prefixed":
    """Look at the first character so "an object" or "empty" get their own message."""
    head = stream.read(65536)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        raise ManifestFormatError("the manifest is empty (expected a JSON list of entries)")
    if text[:1] == b"{":
        raise ManifestFormatError("expected a JSON list of entries, found an object")
    if text[:1] != b"[":
        raise ManifestFormatError("not valid JSON: expected a list of entries starting with '['")
    return _Prefixed(text, stream)


class _Prefixed:
    """A byte stream that replays the already-read head before the rest."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self.head, self.rest = head, rest
        self.name = getattr(rest, "name", "")

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes with read(0) to tell bytes from text
            return b""
        if self.head:
            chunk, self.head = self.head, b""
            return chunk
        return self.rest.read(size)


def display_name(name: str) -> str:
    """How a stored name is shown: NFC for display, the stored form is left untouched."""
    return unicodedata.normalize("NFC", name)
