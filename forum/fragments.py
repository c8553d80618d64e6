"""Rendered pieces of pages kept for the next reader who sees the same thing.

A post shows the same markup to every member who reads it in the same language and time zone
and may do the same things with it; only the reader's own parts differ. The key of a piece
is everything it shows (the values themselves: the body, names, dates, counts, which buttons,
the language and time zone), not a version number: when anything shown changes, the key
changes, so a piece is never stale and nothing has to be invalidated. Nobody's private state
is kept in a piece except as part of its key: the reader's own reactions are in the key, so
only a reader with the same ones gets the piece, and the CSRF token (one per session) is never
in it: pieces are rendered with `CSRF_PLACEHOLDER`, which the page replaces with the reader's
token. Old pieces fall out at the least-recently-used end.

Kept in process memory, not in Redis: fetching a piece over the network would cost about as
much as rendering it again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from markupsafe import Markup

# Pieces per process. A post is about 1–4 kB of markup (its key holds the body again):
# 5,000 pieces stay under about 40 MB a worker and hold the pages a group reads during a session.
MAX_PIECES = 5000

# Stands for the reader's CSRF token inside a kept piece (letters only: escaping leaves it).
CSRF_PLACEHOLDER = "CSRFTOKENPLACEHOLDERxq"


class FragmentCache:
    """A least-recently-used map from a key to rendered markup, safe across threads."""

    def __init__(self, max_pieces: int = MAX_PIECES):
        self.max_pieces = max_pieces
        self._pieces: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Markup | None:
        with self._lock:
            piece = self._pieces.get(key)
            if piece is not None:
                self._pieces.move_to_end(key)
            return piece

    def put(self, key: Hashable, piece: str) -> Markup:
        """Keep `piece` (rendered markup) under `key`; returns it as markup."""
        piece = Markup(piece)
        with self._lock:
            self._pieces[key] = piece
            self._pieces.move_to_end(key)
            while len(self._pieces) > self.max_pieces:
                self._pieces.popitem(last=False)
        return piece

    def clear(self) -> None:
        with self._lock:
            self._pieces.clear()

    def __len__(self) -> int:
        return len(self._pieces)


fragments = FragmentCache()
