"""Folding and query parsing: the one place that decides what a query means.

Index text and queries go through the same ``fold``: lower-case; accents off Latin
letters (``Café`` → ``cafe``, ``Łódź`` → ``lodz``, ``Straße`` → ``strasse``), so
``cafe`` finds ``Café`` and ``café`` finds ``Cafe``; then Unicode NFC, so a name typed
with a precomposed letter and with a letter + combining mark is one string. Only
marks on Latin letters go: Devanagari vowel signs and viramas, Greek tonos and
Cyrillic ``ё`` stay as they are (a word in those scripts matches exactly as typed, in
any composition). PostgreSQL folds index text in SQL (``backends.postgres.fold_sql``),
the same steps as here; keep the two in step.

A query is split on whitespace into **terms**; every term must match (AND). A term
matches a file when it is

- the start of a word in the title, description, notes, project group or camera
  (every word of the term, in order, e.g. ``rehears`` → "Rehearsal");
- a fragment (with 3+ letters or digits) of the file's ``path/filename`` (``0042``, ``IMG_12``,
  ``rehearsal/2019``);
- the start of its oshash (4–16 hex digits).

Nothing in a term is syntax: quotes, ``*``, ``:``, ``NEAR``, ``(``, ``-`` are matched
as the characters they are. Terms that can match nothing (punctuation shorter than
three characters) are dropped and reported.
"""

import re
import unicodedata
from dataclasses import dataclass, field

#: Longer queries are cut here (and the user is told).
MAX_QUERY_CHARS = 500
MAX_TERMS = 12
#: Shortest fragment the trigram indexes can find.
MIN_FRAGMENT = 3
HEX = re.compile(r"^[0-9a-f]{4,16}$")


#: Combining accents (U+0300–U+036F) right after a Latin letter, once decomposed (NFD).
LATIN_ACCENTS = re.compile("([a-z\u00c0-\u024f\u1e00-\u1eff])[\u0300-\u036f]+")
#: Latin letters with no decomposition that an archivist types without the stroke.
LATIN_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i"})
#: And the ones written as two letters.
LATIN_LIGATURES = (("æ", "ae"), ("œ", "oe"), ("ß", "ss"))


def fold(text: str | None) -> str:
    """The form both the index and queries are compared in (see the module's docstring)."""
    if not text:
        return ""
    text = text.lower()
    if text.isascii():
        return text
    text = LATIN_ACCENTS.sub(r"\1", unicodedata.normalize("NFD", text))
    for letters, plain in LATIN_LIGATURES:
        text = text.replace(letters, plain)
    return unicodedata.normalize("NFC", text.translate(LATIN_LETTERS))


def words(text: str) -> list[str]:
    """The words of a folded text: runs of letters, digits and combining marks (so a
    Devanagari word keeps its vowel signs), the way the database tokenizers see them."""
    found, current = [], []
    for char in text:
        if unicodedata.category(char)[0] in "LNM":
            current.append(char)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return [word for word in found if any(ch.isalnum() for ch in word)]


@dataclass(frozen=True)
class Term:
    text: str
    words: tuple[str, ...]
    fragment: str | None
    hex_prefix: str | None


@dataclass
class Query:
    raw: str
    terms: list[Term] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    truncated: bool = False

    def __bool__(self):
        return bool(self.terms)

    @property
    def messages(self) -> list[str]:
        notes = []
        if self.truncated:
            notes.append(
                f"The search was shortened to its first {MAX_QUERY_CHARS} characters "
                f"and {MAX_TERMS} words."
            )
        if self.ignored:
            notes.append("Ignored (too short to search for): " + " ".join(self.ignored[:10]) + ".")
        return notes


def parse_query(raw: str | None) -> Query:
    raw = raw or ""
    query = Query(raw=raw)
    text = fold(raw.strip())
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        query.truncated = True
    parts = text.split()
    if len(parts) > MAX_TERMS:
        parts = parts[:MAX_TERMS]
        query.truncated = True
    seen = set()
    for part in parts:
        if part in seen:
            continue
        seen.add(part)
        term = Term(
            text=part,
            words=tuple(words(part)),
            # Three letters or digits at least: fewer give the trigram indexes nothing
            # to look up (a scan of the whole index), and match half the archive.
            fragment=part if sum(ch.isalnum() for ch in part) >= MIN_FRAGMENT else None,
            hex_prefix=part if HEX.match(part) else None,
        )
        if term.words or term.fragment or term.hex_prefix:
            query.terms.append(term)
        else:
            query.ignored.append(part)
    return query
