"""Search posts by words: ranked, limited, visible to the actor only, with a highlighted excerpt.

`post.search_text` holds the folded text (lower case, no diacritics; for the first post of a
thread the title too). SQLite searches it through the FTS5 table `post_fts`, PostgreSQL through
the stored column `post.search_vector` (to_tsvector('simple', search_text)) and its GIN index;
both come from migration 0004 and only `_index_query` knows which is which.

Every query word must match, as a prefix ("eduk" finds "edukacja"; a one-letter word matches
whole words only; on SQLite, words with more than MAX_MATCHES whole-word matches are searched
as whole words, since FTS5 gathers every prefix match before a LIMIT applies). The newest
MAX_MATCHES matches are ranked (BM25: by PostgreSQL's ts_rank, on SQLite here in Python, as
FTS5's bm25() reads every match of a word), so a common word costs no more than a rare one;
`total` is None when there are more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape
from sqlalchemy import column, func, literal_column, table
from sqlalchemy.orm import defaultload, joinedload, lazyload

from forum.discussions.models import Post, Thread
from forum.errors import NotFound
from forum.extensions import db
from forum.groups.models import Group
from forum.groups.policy import can_view_group, is_admin, roles_of
from forum.text import fold, fold_char, plain_text

MAX_QUERY_CHARS = 500
MAX_WORDS = 10
MAX_WORD_CHARS = 64
MIN_PREFIX_CHARS = 2  # shorter words match whole words only ("w" does not find everything)
MAX_LIMIT = 100
MAX_MATCHES = 1000  # ranked among the newest this many; `total` None above
SNIPPET_CHARS = 200
SNIPPET_SCAN_CHARS = 20_000  # the excerpt looks for a match this far into a post

_WORD = re.compile(r"[^\W_]+")  # letters and digits


@dataclass(frozen=True)
class SearchHit:
    post: Post
    thread: Thread
    snippet: Markup  # escaped plain text of the post with the matched words in <mark>


@dataclass(frozen=True)
class SearchResults:
    hits: list[SearchHit]
    total: int | None  # None: more than MAX_MATCHES matches
    query: str


def query_words(query: str) -> list[str]:
    """The folded words of a query, without repeats: "Łódź, ŁÓDŹ!" → ["lodz"]."""
    words: list[str] = []
    for word in _WORD.findall(fold((query or "")[:MAX_QUERY_CHARS])):
        word = word[:MAX_WORD_CHARS]
        if word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def search(actor, query: str, *, group: Group | None = None, limit: int = 20,
           offset: int = 0) -> SearchResults:
    """Visible posts of `group` (or of every group the actor sees) matching all query words,
    best first, then newest; NotFound if the actor may not see `group`."""
    if group is not None and not can_view_group(actor, group):
        raise NotFound()
    query = (query or "").strip()[:MAX_QUERY_CHARS]
    words = query_words(query)
    if group is not None:
        group_ids: list[int] | None = [group.id]
    else:
        group_ids = None if is_admin(actor) else sorted(roles_of(actor))
    if not words or group_ids == []:
        return SearchResults([], 0, query)
    limit = min(max(limit, 1), MAX_LIMIT)
    offset = min(max(offset, 0), MAX_MATCHES)

    # The newest MAX_MATCHES + 1 matches (newest first is cheap in both indexes), ranked here:
    # the cost of a search stays bounded however common its words are.
    sqlite = db.session.get_bind().dialect.name == "sqlite"

    def matches(prefix: bool):
        statement, score = _index_query(words, prefix, ranked=not sqlite)
        statement = (statement.add_columns(Post.created_at, *score)
                     .join(Thread, Thread.id == Post.thread_id)
                     .where(Post.deleted_at.is_(None), Post.hidden_at.is_(None)))
        if group_ids is not None:
            statement = statement.where(Thread.group_id.in_(group_ids))
        return db.session.execute(statement.limit(MAX_MATCHES + 1)).all()

    rows = None
    if sqlite:
        # FTS5 gathers every match of a prefix before the LIMIT applies, while whole words
        # stream newest first: a word common enough to fill the page is searched whole.
        rows = matches(prefix=False)
        if len(rows) <= MAX_MATCHES:
            rows = None
    if rows is None:
        rows = matches(prefix=True)
    total = len(rows) if len(rows) <= MAX_MATCHES else None
    del rows[MAX_MATCHES:]
    if sqlite:
        rows = _ranked_here(rows)
    rows.sort(key=lambda row: (row[1], row[0]), reverse=True)  # newest first among equals
    rows.sort(key=lambda row: row[2])  # then best first
    ids = [row[0] for row in rows[offset:offset + limit]]
    # A hit shows its thread's title and group and the post's author: nothing else of theirs.
    posts = {post.id: post for post in db.session.scalars(
        db.select(Post).where(Post.id.in_(ids))
        .options(lazyload("*"), joinedload(Post.author).lazyload("*"),
                 joinedload(Post.thread).lazyload("*"),
                 defaultload(Post.thread).joinedload(Thread.group).lazyload("*")))} if ids else {}
    hits = [SearchHit(posts[i], posts[i].thread, highlight(posts[i].body, words))
            for i in ids]
    return SearchResults(hits, total, query)


def _index_query(words: list[str], prefix: bool = True, ranked: bool = True):
    """SELECT post.id of the posts matching every word, newest first, and a score of how well
    each matches (lower is better; without `ranked`, on SQLite, what _ranked_here scores it
    from: the length of the post's text and how often each word occurs in it)."""
    if db.session.get_bind().dialect.name == "sqlite":
        # FTS5 query syntax: "word"* is a prefix, "word" a whole word; spaces mean AND.
        terms = " ".join(f'"{w}"*' if prefix and len(w) >= MIN_PREFIX_CHARS else f'"{w}"'
                         for w in words)
        index = literal_column("post_fts")
        fts = table("post_fts", column("rowid"))
        statement = (db.select(Post.id).select_from(fts).join(Post, Post.id == fts.c.rowid)
                     .where(index.op("MATCH")(terms)).order_by(fts.c.rowid.desc()))
        if ranked:
            return statement, [func.bm25(index)]
        text = Post.search_text
        return statement, [func.length(text), *(
            (func.length(text) - func.length(func.replace(text, w, ""))) / len(w) for w in words)]
    # to_tsquery syntax: word:* is a prefix; words are letters and digits only, so nothing
    # the user typed becomes an operator, and the string is sent as a bound parameter.
    terms = " & ".join(f"{w}:*" if len(w) >= MIN_PREFIX_CHARS else w for w in words)
    vector = literal_column("post.search_vector")  # to_tsvector('simple', search_text), stored
    tsquery = func.to_tsquery(literal_column("'simple'"), terms)
    statement = db.select(Post.id).where(vector.bool_op("@@")(tsquery)).order_by(Post.id.desc())
    # Normalisation 1: divided by 1 + log(length), so a long post does not win by length.
    return statement, [-func.ts_rank(vector, tsquery, 1)]


# Okapi BM25's usual constants: how fast repeating a word stops adding to the score, and how
# much a long post is held against its matches.
BM25_K1, BM25_B = 1.2, 0.75


def _ranked_here(rows: list) -> list[tuple]:
    """(id, created_at, score) from rows of (id, created_at, text length, occurrences of each
    word): BM25 over the matches themselves, lower is better. SQLite's bm25() counts every post
    containing each word to weigh it, which costs as much as the word is common (10–15 ms for
    a word in one post of six at a million posts); every row here contains every word, so the
    words are weighed equally and the score depends on how often they occur and how long the
    post is (its characters, against the average of the matches)."""
    if not rows:
        return []
    average = max(sum(row[2] for row in rows) / len(rows), 1.0)
    ranked = []
    for post_id, created_at, length, *occurrences in rows:
        norm = BM25_K1 * (1 - BM25_B + BM25_B * length / average)
        score = sum(tf * (BM25_K1 + 1) / (tf + norm) for tf in occurrences if tf)
        ranked.append((post_id, created_at, -score))
    return ranked


# --- the excerpt -------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return fold_char(char)


def _folded_with_origins(text: str) -> tuple[str, list[int] | range]:
    """fold(text), and for each of its characters the index of the character it came from."""
    table = {}
    for char in set(text):
        folded = _fold_char(char)
        if folded != char:
            table[ord(char)] = folded
    if all(len(folded) == 1 for folded in table.values()):  # "Łódź" → "lodz": one for one
        return text.translate(table), range(len(text))
    origins = [index for index, char in enumerate(text) for _ in _fold_char(char)]
    return text.translate(table), origins


def _words_pattern(words: list[str]) -> re.Pattern[str]:
    # A word starts after a non-letter; a prefix match is highlighted to the end of its word.
    alternatives = sorted(words, key=len, reverse=True)
    return re.compile("|".join(
        rf"(?<![^\W_]){re.escape(w)}" + (r"[^\W_]*" if len(w) >= MIN_PREFIX_CHARS
                                          else r"(?![^\W_])")
        for w in alternatives))


def highlight(text: str, words: list[str] | str, width: int = SNIPPET_CHARS) -> Markup:
    """About `width` characters of `text` (Markdown) around the first match, escaped, with
    every matched word in <mark>; `words` from query_words() or a query string."""
    if isinstance(words, str):
        words = query_words(words)
    plain = plain_text(text, SNIPPET_SCAN_CHARS)
    spans: list[tuple[int, int]] = []
    if words:
        folded, origins = _folded_with_origins(plain)
        spans = [(origins[m.start()], origins[m.end() - 1] + 1)
                 for m in _words_pattern(words).finditer(folded)]
    start = 0
    if spans and spans[0][1] > width * 2 // 3:
        start = max(spans[0][0] - width // 4, 0)
        space = plain.find(" ", start, spans[0][0])
        start = space + 1 if space != -1 else start
    end = min(start + width, len(plain))
    if end < len(plain):
        space = plain.rfind(" ", start + width // 2, end)
        end = space if space != -1 else end
    out = [Markup("…")] if start else []
    position = start
    for span_start, span_end in spans:
        if span_start < position or span_end > end:
            continue
        out += [escape(plain[position:span_start]),
                Markup("<mark>%s</mark>") % plain[span_start:span_end]]
        position = span_end
    out.append(escape(plain[position:end]))
    if end < len(plain):
        out.append(Markup("…"))
    return Markup("").join(out)
