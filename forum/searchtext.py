"""The text that search indexes, and the forms a query word is looked for in: one function
for the time of writing and one for the time of asking, the same on SQLite and PostgreSQL.

A stored search text is the folded text (lower case, no diacritics: "Łódź" → "lodz"),
then a line of extra word forms: for each word, the stems that are not already its
beginning. A query word is looked for as the beginning of a word of that text, in any of
its forms (the word as typed, its stems): "diagnozę" is stored as "diagnoze", the query
"diagnoza" looks for "diagnoz…", so either finds the other.

The stems come from the Snowball stemmers (the `snowballstemmer` package): Polish, and also
Catalan and English (the forum's three languages; a word of one language stemmed by the
other two gains at worst a form that only its own inflections share). Snowball removes
endings only, so on top of it a few Polish stem endings that alternate are brought to one
form ("asystent" and "asystenci", "wniosek" and "wnioski", "rower" and "rowerze" match), and
a word typed without Polish letters is also stemmed as if its ending had them
("asystentow" as "asystentów"). PostgreSQL 15 ships no Polish dictionary, so both databases
index this text as plain words (FTS5's unicode61, PostgreSQL's 'simple' configuration).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import snowballstemmer

from forum.text import fold

_WORD = re.compile(r"[^\W_]+")  # letters and digits
MIN_FORM_CHARS = 3  # a stem shorter than this is not looked for (too many words begin so)
MIN_FOREIGN_CHARS = 4  # the same for a Catalan or English stem (of any word: Polish ones too)
MAX_INDEXED_CHARS = 200_000  # of one item's text (an extracted file is the longest)

_local = threading.local()  # Snowball stemmers keep state: one set per thread


def _stemmers():
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = tuple(
            snowballstemmer.stemmer(name) for name in ("polish", "catalan", "english"))
    return stemmers


# Word endings typed without Polish letters, and the endings they most often stand for.
_ASCII_ENDINGS = (("osci", "ości"), ("osc", "ość"), ("ow", "ów"), ("e", "ę"), ("a", "ą"),
                  ("c", "ć"))
_FLEETING_E = re.compile(r"(?<=[^aeiouy])i?e(?=[cn]$)")


def _alternation(stem: str) -> str:
    """One form for Polish stems whose last consonant alternates or whose 'e' drops out
    (asystent/asystenci → asystenc, polak/polacy → polac, rower/rowerze → rower,
    wniosek/wnioski → wniosc, mieszkaniec/mieszkańcy → mieszkanc, uczeń/uczniów → uczn)."""
    if len(stem) >= 5 and stem.endswith("i"):
        stem = stem[:-1]
    if len(stem) < 4:
        return stem
    if stem.endswith(("dz", "rz")):
        stem = stem[:-1]
    elif stem[-1] in "tk":
        stem = stem[:-1] + "c"
    elif stem[-1] == "g":
        stem = stem[:-1] + "d"
    return _FLEETING_E.sub("", stem)


def _polish_spellings(word: str) -> list[str]:
    """The word, and for a word without Polish letters also its likely spellings with them
    at the end ("asystentow" → "asystentów")."""
    spellings = [word]
    if word.isascii():
        for plain, polish in _ASCII_ENDINGS:
            if word.endswith(plain) and len(word) > len(plain) + 2:
                spellings.append(word[:-len(plain)] + polish)
    return spellings


@lru_cache(maxsize=50_000)
def word_forms(word: str) -> tuple[str, ...]:
    """The folded forms a word is found by: the folded word first, then its stems (at least
    MIN_FORM_CHARS long), without repeats. `word` in lower case."""
    polish, catalan, english = _stemmers()
    folded = fold(word)
    forms = []
    for spelling in _polish_spellings(word):
        stem = fold(polish.stemWord(spelling))
        forms += [stem, _alternation(stem)]
    forms = [form for form in forms if len(form) >= MIN_FORM_CHARS]
    forms += [form for form in (fold(catalan.stemWord(word)), fold(english.stemWord(word)))
              if len(form) >= MIN_FOREIGN_CHARS]
    seen: list[str] = [folded]
    for form in forms:
        if form not in seen:
            seen.append(form)
    return tuple(seen)


def extra_forms(word: str) -> tuple[str, ...]:
    """The forms of a word that are not a beginning of the folded word itself (those are
    found by a prefix search of the word anyway)."""
    forms = word_forms(word)
    return tuple(form for form in forms[1:] if not forms[0].startswith(form))


def search_text(*parts: str) -> str:
    """What is stored to be searched: the folded text, then a line of the words' extra
    forms (each once)."""
    text = "\n".join(part for part in parts if part)[:MAX_INDEXED_CHARS]
    extra: dict[str, None] = {}
    for word in dict.fromkeys(_WORD.findall(text.lower())):
        for form in extra_forms(word):
            extra[form] = None
    folded = fold(text)
    return f"{folded}\n{' '.join(extra)}" if extra else folded


def query_forms(word: str) -> tuple[str, ...]:
    """The beginnings a query word is looked for by (any one matches): its forms, without
    those that begin with another of them (found by the shorter one)."""
    forms = word_forms(word.lower())
    return tuple(form for form in forms
                 if not any(other != form and form.startswith(other) for other in forms))
