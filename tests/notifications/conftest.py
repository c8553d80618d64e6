"""Helpers for the e-mail tests: people of the test group, reading what reached the sink."""

from __future__ import annotations

import re


def parts(message) -> tuple[str, str]:
    """(plain text, html) of a message from the sink."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return (text.get_content() if text else "", html.get_content() if html else "")


def links(text: str) -> list[str]:
    return re.findall(r"http://forum\.test/\S+", text)


def link_to(text: str, path_part: str) -> str:
    [url] = [u for u in links(text) if path_part in u][:1] or [None]
    assert url, f"no link with {path_part!r} in:\n{text}"
    return url


def to_of(messages) -> list[str]:
    return [m["To"] for m in messages]
