"""Fill the stored search texts again (`flask forum reindex-search`): after an upgrade that
changes how they are made (migration 0011 adds chat messages and materials, and word stems
to posts), or to read the text of files uploaded before text extraction existed."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from contextlib import closing
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import selectinload

from forum.chat.models import ChatMessage, MessageKind
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.materials.backends import storage_for
from forum.materials.extract import extract_text
from forum.materials.filetypes import DOCX, ODT, PDF
from forum.materials.models import Material, MaterialVersion
from forum.materials.services import reindex_material
from forum.searchtext import search_text

log = logging.getLogger(__name__)
BATCH = 500
_EXTRACTABLE = {kind.mime: kind for kind in (PDF, DOCX, ODT)}


@dataclass
class Reindexed:
    posts: int = 0
    messages: int = 0
    materials: int = 0
    files_read: int = 0


def _batches(statement, key):
    """Rows of `statement` in batches of BATCH, by increasing `key` (an id)."""
    last = 0
    while True:
        rows = db.session.execute(statement.where(key > last).order_by(key).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def reindex(*, read_files: bool = False) -> Reindexed:
    """Every post, chat message and material gets its search text again, one batch per
    transaction; with `read_files`, current PDF/ODT/DOCX versions without extracted text
    are read from storage first."""
    done = Reindexed()
    posts = (db.select(Post.id, Post.number, Post.body, Thread.title)
             .join(Thread, Thread.id == Post.thread_id).where(Post.deleted_at.is_(None)))
    for rows in _batches(posts, Post.id):
        db.session.execute(update(Post), [
            {"id": post_id, "search_text": search_text(title if number == 1 else "", body)}
            for post_id, number, body, title in rows])
        db.session.commit()
        done.posts += len(rows)
    messages = db.select(ChatMessage.id, ChatMessage.body).where(
        ChatMessage.kind == MessageKind.MESSAGE)
    for rows in _batches(messages, ChatMessage.id):
        db.session.execute(update(ChatMessage), [
            {"id": message_id, "search_text": search_text(body)} for message_id, body in rows])
        db.session.commit()
        done.messages += len(rows)
    last = 0
    while True:
        materials = list(db.session.scalars(
            db.select(Material).where(Material.id > last).order_by(Material.id).limit(BATCH)
            .options(selectinload(Material.versions))))
        if not materials:
            break
        for material in materials:
            current = material.versions[0] if material.versions else None
            if read_files and current is not None and not current.text \
                    and current.mime in _EXTRACTABLE:
                current.text = _read(current)
                done.files_read += 1
            reindex_material(material)
        db.session.commit()
        done.materials += len(materials)
        last = materials[-1].id
    return done


def _read(version: MaterialVersion) -> str:
    """The text of a stored version (a local copy in a temporary file: the readers want a
    path); "" when the file is missing or unreadable (logged)."""
    try:
        with closing(storage_for(current_app).open(version.storage_key)) as source, \
                tempfile.NamedTemporaryFile(delete=False) as copy:
            shutil.copyfileobj(source, copy)
        try:
            return extract_text(copy.name, _EXTRACTABLE[version.mime])
        finally:
            os.unlink(copy.name)
    except OSError:
        log.warning("stored file of material version %s could not be read", version.id,
                    exc_info=True)
        return ""
