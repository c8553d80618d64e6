"""Database ids as the outside world sends them: whole numbers within the 64-bit range.

A URL, a query string or a Socket.IO payload can carry any integer; one of 10^30 would
otherwise reach the database driver and fail there (a server error where "not found" is
meant, issue 19). Every entry point checks ids through this module.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1  # the largest BIGINT in PostgreSQL, and SQLite's INTEGER


def is_id(value: object, *, allow_zero: bool = False) -> bool:
    """A JSON number usable as a row id (not a bool, not a float, within range)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return (0 if allow_zero else 1) <= value <= MAX_ID


def query_id(text: str) -> int:
    """`type=` for request.args/form.get: a number out of range is no number (the default)."""
    value = int(text)
    if not 0 <= value <= MAX_ID:
        raise ValueError("out of range")
    return value


class IdConverter(IntegerConverter):
    """`<int:…>` in routes: an id past the 64-bit range does not match (404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(text: object) -> int | None:
    """A decimal id from a form field, token or cursor; None for anything else or too big."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if 0 <= text <= MAX_ID else None
    if not isinstance(text, str) or not 0 < len(text) <= 19 or not text.isascii() \
            or not text.isdigit():
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def parse_ids(values) -> list[int]:
    """The valid ids among form values (checkboxes, hidden fields), in order, without repeats."""
    return list(dict.fromkeys(i for i in map(parse_id, values or []) if i is not None))
