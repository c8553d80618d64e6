"""Links built once per page and filled in per row."""

from __future__ import annotations

from flask import url_for
from flask.globals import _cv_request

_PLACEHOLDER = 987654321


class UrlPattern:
    """A link built once by url_for around a placeholder id, then filled in per post by
    joining strings: url_for costs tens of microseconds, thirty posts times several links
    showed in the page's profile. The placeholder is the last thing of its kind in the URL
    (ids come after the group's slug), so only the id is replaced."""

    __slots__ = ("head", "tail")

    def __init__(self, endpoint: str, key: str, anchor: str = "", **values):
        url = url_for(endpoint, **values, **{key: _PLACEHOLDER})
        self.head, found, tail = url.rpartition(str(_PLACEHOLDER))
        if not found:
            raise ValueError(f"{endpoint} does not show {key} in its URL")
        self.tail = tail + anchor

    def __call__(self, value: int) -> str:
        return f"{self.head}{value}{self.tail}"


def page_numbers(current: int, count: int, around: int = 2) -> list[int | None]:
    """The pages a pager shows: the first, the last and `around` either side of the current
    one; None where pages are left out. Its length does not grow with `count`."""
    shown = sorted({1, count, *range(max(current - around, 1), min(current + around, count) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


# --- url_for for templates -------------------------------------------------------------------
# A page calls url_for 20-40 times (header, footer, forms), about 10 microseconds each, and
# asks for the same few addresses on every request. A relative address depends only on the
# endpoint, its values and where the application is mounted (script root), so it is kept
# under exactly those. Anything else (external or blueprint-relative addresses, anchors,
# values other than str and int) goes to Flask's url_for every time.
_KEPT_URLS: dict[tuple, str] = {}
MAX_KEPT_URLS = 20_000


def template_url_for(endpoint: str, **values) -> str:
    context = _cv_request.get(None)
    if context is None or endpoint[0] == ".":
        return url_for(endpoint, **values)
    for name, value in values.items():
        if name[0] == "_" or value.__class__ not in (str, int):  # bool is not int here
            return url_for(endpoint, **values)
    key = (context.request.script_root, endpoint, *values.items())
    url = _KEPT_URLS.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(_KEPT_URLS) >= MAX_KEPT_URLS:
            _KEPT_URLS.clear()
        _KEPT_URLS[key] = url
    return url
