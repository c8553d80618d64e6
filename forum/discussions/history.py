"""A post's edits, each with what it changed (for the edit-history page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from forum.discussions import services
from forum.discussions.models import Post
from forum.textdiff import Piece, word_diff


@dataclass(frozen=True)
class PostEdit:
    edited_at: datetime
    edited_by: str | None
    before: str
    changes: list[Piece]


def post_edits(actor, post: Post) -> list[PostEdit]:
    """The post's edits, newest first: each revision holds the text before an edit, and the
    text after it is the next revision's (or, for the newest edit, the current text)."""
    revisions = services.post_history(actor, post)  # authorises; newest first
    edits, after = [], post.body
    for revision in revisions:
        edits.append(PostEdit(revision.created_at,
                              revision.edited_by.name if revision.edited_by else None,
                              revision.body, word_diff(revision.body, after)))
        after = revision.body
    return edits
