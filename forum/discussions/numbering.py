"""Posts are numbered 1, 2, 3 … in their thread; a thread page holds POSTS_PER_PAGE of them."""

from __future__ import annotations

POSTS_PER_PAGE = 30


def page_of(number: int) -> int:
    return (max(number, 1) - 1) // POSTS_PER_PAGE + 1
