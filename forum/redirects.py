"""Where a form may send the browser back to: only paths inside this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """Only paths inside this site: never another host, scheme or a protocol-relative URL."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    if target.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 32 for c in target) or "\\" in target:
        return None
    return target
