"""Word-level differences between two texts, for showing what an edit changed."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import NamedTuple

# Words and the whitespace between them are separate tokens, so that a changed word is marked
# alone and line breaks survive. Beyond this many tokens a text is compared line by line (the
# matcher's cost grows with the square of the length).
_TOKEN = re.compile(r"\s+|[^\s]+")
_WORD_LIMIT = 4000


class Piece(NamedTuple):
    kind: str  # "same", "removed" or "added"
    text: str


def word_diff(before: str, after: str) -> list[Piece]:
    """The pieces that turn `before` into `after`: unchanged text, removed text, added text
    (a replaced stretch is its removal followed by its addition); neighbours of one kind are
    joined."""
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    if max(len(a), len(b)) > _WORD_LIMIT:
        a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    pieces: list[Piece] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        for kind, tokens in (("removed", removed), ("added", added)):
            if tokens:
                pieces.append(Piece(kind, "".join(tokens)))
                tokens.clear()

    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        # Whitespace alone between two changes belongs to them: "we wtorki" → "w środy" reads
        # as one replacement, not two words with an unchanged space between.
        between_changes = (op == "equal" and 0 < index < len(opcodes) - 1
                           and not "".join(a[i1:i2]).strip())
        if op == "equal" and not between_changes:
            flush()
            pieces.append(Piece("same", "".join(a[i1:i2])))
        else:
            removed.extend(a[i1:i2])
            added.extend(b[j1:j2])
    flush()
    return pieces
