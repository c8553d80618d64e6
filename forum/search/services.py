"""One search over everything a person may see: posts (and thread titles), chat messages,
materials and good practices; ranked, counted, filtered, limited, with highlighted titles and
excerpts.

Each kind keeps a `search_text` (forum.searchtext: the folded text and its word stems) that
its own index covers: SQLite FTS5 tables `post_fts`, `chat_message_fts`, `material_fts`;
PostgreSQL stored tsvector columns `search_vector` with GIN indexes (migrations 0004, 0011);
only `_index_query` knows which is which.

Every query word must match as the beginning of a word, in one of its forms
(searchtext.query_forms: "diagnozę" is looked for as "diagnoz…"; a one-letter word matches
whole words only). Visibility is decided in the same statement as the match: only groups the
actor belongs to (every group for an administrator), never a deleted or hidden post, a
removed chat message or a deleted material. Of each table the newest MAX_MATCHES matches are
counted and ranked (BM25: PostgreSQL's ts_rank, on SQLite computed here), so a common word
costs no more than a rare one; a count is None when there are more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from markupsafe import Markup, escape
from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    column,
    func,
    literal_column,
    null,
    or_,
    table,
    union_all,
)
from sqlalchemy.orm import aliased

from forum.accounts.models import User
from forum.chat.models import ChatMessage, MessageKind
from forum.discussions.models import Post, Thread
from forum.errors import NotFound
from forum.extensions import db
from forum.groups.models import Group, Membership
from forum.groups.policy import can_view_group, is_admin, roles_of
from forum.i18n import collation_key
from forum.library.models import ListingStatus, PracticeListing
from forum.materials.models import GoodPractice, Material, MaterialKind, MaterialVersion
from forum.searchtext import query_forms, word_forms
from forum.text import fold, fold_char, plain_text
from forum.workshops.models import Workshop

MAX_QUERY_CHARS = 500
MAX_WORDS = 10
MAX_WORD_CHARS = 64
MIN_PREFIX_CHARS = 2  # shorter words match whole words only ("w" does not find everything)
MAX_LIMIT = 100
MAX_MATCHES = 1000  # of each table, ranked among the newest this many; counts None above
SNIPPET_CHARS = 200
SNIPPET_SCAN_CHARS = 20_000  # the excerpt looks for a match this far into a text
MAX_AUTHORS = 500  # in the author filter's list

POST, CHAT, MATERIAL, PRACTICE = "post", "chat", "material", "practice"
KINDS = (POST, CHAT, MATERIAL, PRACTICE)

_WORD = re.compile(r"[^\W_]+")  # letters and digits


@dataclass(frozen=True)
class SearchHit:
    kind: str  # one of KINDS
    id: int  # of the post, chat message or material
    group_slug: str
    group_name: str
    title: Markup  # escaped, matched words in <mark> ("" for a chat message)
    snippet: Markup  # escaped plain text around the first match, matched words in <mark>
    author_id: int | None
    author_name: str | None  # None: a former member
    created_at: datetime
    workshop_number: int | None
    thread_id: int | None = None  # a post's thread
    post_number: int | None = None


@dataclass(frozen=True)
class SearchResults:
    hits: list[SearchHit]
    total: int | None  # None: more than MAX_MATCHES matches in some table
    query: str
    counts: dict[str, int | None] = field(default_factory=dict)  # per kind (None: more)


@dataclass(frozen=True)
class Choice:
    value: int | str
    label: str
    id: int | None = None  # a session's id


@dataclass(frozen=True)
class FilterChoices:
    groups: list[Choice]  # value: slug
    sessions: list[Choice]  # value: the session's number, and its id (only with a group)
    authors: list[Choice]  # value: user id (only with a group)


def query_words(query: str) -> list[str]:
    """The folded words of a query, without repeats: "Łódź, ŁÓDŹ!" → ["lodz"]."""
    return [folded for folded, _ in _query_terms(query)]


def _query_terms(query: str) -> list[tuple[str, tuple[str, ...]]]:
    """(folded word, the beginnings it is looked for by) for each word of the query."""
    terms: dict[str, tuple[str, ...]] = {}
    for word in _WORD.findall((query or "")[:MAX_QUERY_CHARS].lower()):
        word = word[:MAX_WORD_CHARS]
        folded = fold(word)
        if folded and folded not in terms:
            terms[folded] = query_forms(word) if len(folded) >= MIN_PREFIX_CHARS else (folded,)
    return list(terms.items())[:MAX_WORDS]


def search(actor, query: str, *, group: Group | None = None, kind: str | None = None,
           workshop_id: int | None = None, author_id: int | None = None, limit: int = 20,
           offset: int = 0) -> SearchResults:
    """What the actor may see (in `group`, or in every group they see) matching all query
    words, best first, then newest; optionally of one kind, session (of `group`: a session
    of another group finds nothing) or author. NotFound if the actor may not see `group`."""
    if group is not None and not can_view_group(actor, group):
        raise NotFound()
    query = (query or "").strip()[:MAX_QUERY_CHARS]
    terms = _query_terms(query)
    if group is not None:
        group_ids: list[int] | None = [group.id]
    else:
        group_ids = None if is_admin(actor) else sorted(roles_of(actor))
    kind = kind if kind in KINDS else None
    if not terms or group_ids == [] or (workshop_id is not None and group is None):
        return SearchResults([], 0, query, dict.fromkeys(KINDS, 0))
    limit = min(max(limit, 1), MAX_LIMIT)
    offset = min(max(offset, 0), MAX_MATCHES)
    # Searching everywhere, a member of the programme also finds what the library published.
    scope = _Scope(group_ids, workshop_id, author_id,
                   library=group is None and group_ids is not None and workshop_id is None)
    sqlite = db.session.get_bind().dialect.name == "sqlite"

    rows_of: dict[str, list] = {}
    titled: set[tuple[str, int]] = set()  # (kind, id) whose title holds every query word
    if sqlite:
        # FTS5 gathers every match of a prefix before the LIMIT applies, while whole words
        # stream newest first: a table where whole words fill the page is searched so.
        whole = _matches(terms, scope, list(_TABLES), prefix=False, ranked=False,
                         titled=titled)
        rows_of = {name: rows for name, rows in whole.items() if len(rows) > MAX_MATCHES}
    rest = [name for name in _TABLES if name not in rows_of]
    if rest:
        rows_of.update(_matches(terms, scope, rest, prefix=True, ranked=not sqlite,
                                titled=titled))

    counts: dict[str, int | None] = dict.fromkeys(KINDS, 0)
    rows: list[tuple] = []
    for name, table_rows in rows_of.items():
        overflow = len(table_rows) > MAX_MATCHES
        del table_rows[MAX_MATCHES:]
        for row in table_rows:
            row_kind = _kind_of(row[0])
            if counts[row_kind] is not None:
                counts[row_kind] += 1
            if kind is None or row_kind == kind:
                rows.append((row_kind, *row[1:]))
        if overflow:
            for table_kind in _TABLES[name]:
                counts[table_kind] = None
    total = (counts[kind] if kind else
             None if None in counts.values() else sum(counts.values()))
    if sqlite:
        rows = _ranked_here(rows)
    rows.sort(key=lambda row: (row[2], row[1]), reverse=True)  # newest first among equals
    rows.sort(key=lambda row: row[3])  # then best first
    rows.sort(key=lambda row: (row[0], row[1]) not in titled)  # title matches before the rest
    page = [(row[0], row[1]) for row in rows[offset:offset + limit]]
    return SearchResults(_hits(page, terms), total, query, counts)


# --- matching ----------------------------------------------------------------------------------

# Table → the kinds its rows are.
_TABLES = {"post": (POST,), "chat_message": (CHAT,), "material": (MATERIAL, PRACTICE)}


def _kind_of(label: str) -> str:
    if label in (POST, CHAT):
        return label
    return PRACTICE if label == MaterialKind.GOOD_PRACTICE else MATERIAL


@dataclass(frozen=True)
class _Scope:
    group_ids: list[int] | None  # None: every group (an administrator)
    workshop_id: int | None
    author_id: int | None
    # Good practices published in the programme's library, whatever their group (forum.library).
    library: bool = False


# The statements are built once per shape (tables, phase, number of words, filters used) and
# run with bound parameters: building and compiling them again cost more than running them.


def _source(name: str, shape: tuple[bool, bool, bool, bool], fts=None):
    """(statement of the visible rows of table `name`, its model); `shape`: whether it is
    limited to groups (:group_ids), a session (:workshop_id), an author (:author_id), and
    whether published good practices of other groups are in as well. On SQLite it starts from
    the FTS5 table `fts`, so that the match drives the query."""
    by_group, by_workshop, by_author, with_library = shape
    model = {"post": Post, "chat_message": ChatMessage, "material": Material}[name]
    statement = db.select()
    statement = (statement.select_from(fts).join(model, model.id == fts.c.rowid)
                 if fts is not None else statement.select_from(model))
    if name == "post":
        statement = (statement.join(Thread, Thread.id == Post.thread_id)
                     .where(Post.deleted_at.is_(None), Post.hidden_at.is_(None)))
        group_id, workshop_id, author_id = Thread.group_id, Thread.workshop_id, Post.author_id
        label = literal_column(f"'{POST}'", String)
        title = case((Post.number == 1, Thread.title), else_="")  # a title: its opening post
    elif name == "chat_message":
        statement = statement.where(ChatMessage.removed_at.is_(None),
                                    ChatMessage.kind == MessageKind.MESSAGE)
        group_id, workshop_id = ChatMessage.group_id, ChatMessage.workshop_id
        author_id, label = ChatMessage.author_id, literal_column(f"'{CHAT}'", String)
        title = literal_column("''", String)
    else:
        statement = statement.where(Material.deleted_at.is_(None))
        group_id, workshop_id = Material.group_id, Material.workshop_id
        author_id, label = Material.uploaded_by_id, Material.kind
        title = Material.title
    if by_group and with_library and name == "material":
        published = db.select(PracticeListing.material_id).where(
            PracticeListing.status == ListingStatus.PUBLISHED)
        statement = statement.where(or_(
            group_id.in_(bindparam("group_ids", expanding=True)), Material.id.in_(published)))
    elif by_group:
        statement = statement.where(group_id.in_(bindparam("group_ids", expanding=True)))
    if by_workshop:
        statement = statement.where(workshop_id == bindparam("workshop_id"))
    if by_author:
        statement = statement.where(author_id == bindparam("author_id"))
    statement = statement.add_columns(literal_column(f"'{name}'", String).label("source"),
                                      label.label("label"), model.id.label("id"),
                                      model.created_at.label("created_at"),
                                      title.label("title"))
    return statement, model


@lru_cache(maxsize=256)
def _matches_statement(sqlite: bool, names: tuple[str, ...], ranked: bool, words: int,
                       shape: tuple[bool, bool, bool, bool]):
    parts = []
    for name in names:
        fts = table(f"{name}_fts", column("rowid")) if sqlite else None
        statement, model = _source(name, shape, fts)
        statement = _index_query(statement, sqlite, name, model, words, ranked)
        parts.append(db.select(statement.limit(MAX_MATCHES + 1).subquery()))
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _matches(terms, scope: _Scope, names: list[str], *, prefix: bool, ranked: bool,
             titled: set | None = None) -> dict[str, list]:
    """For each table: up to MAX_MATCHES + 1 rows (label, id, created_at, *score), newest
    first, in one statement; `titled` gets the (kind, id) of those whose title holds every
    query word."""
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    shape = (scope.group_ids is not None, scope.workshop_id is not None,
             scope.author_id is not None, scope.library)
    statement = _matches_statement(sqlite, tuple(names), ranked, len(terms), shape)
    params = {"match": _match_string(sqlite, terms, prefix)}
    if shape[0]:
        params["group_ids"] = scope.group_ids
    if shape[1]:
        params["workshop_id"] = scope.workshop_id
    if shape[2]:
        params["author_id"] = scope.author_id
    if sqlite and not ranked:
        params |= {f"form{n}": forms[0] for n, (_, forms) in enumerate(terms)}
    found: dict[str, list] = {name: [] for name in names}
    for row in db.session.execute(statement, params):
        source, label, item_id, created_at, title, *score = row
        found[source].append((label, item_id, created_at, *score))
        if titled is not None and title and all(_spans(title, [term]) for term in terms):
            titled.add((_kind_of(label), item_id))
    return found


def _match_string(sqlite: bool, terms, prefix: bool) -> str:
    """The query in the index's syntax; words are letters and digits only, so nothing typed
    becomes an operator (and the string is a bound parameter)."""
    if sqlite:
        # FTS5: "word"* is a prefix, "word" a whole word; OR between the forms of a word,
        # AND between words.
        def alternatives(folded, forms):
            forms = forms if prefix else tuple(dict.fromkeys((folded, *forms)))
            return " OR ".join(f'"{form}"*' if prefix and len(form) >= MIN_PREFIX_CHARS
                               else f'"{form}"' for form in forms)
        return " AND ".join(f"({alternatives(*term)})" for term in terms)
    # to_tsquery: word:* is a prefix, | between the forms of a word, & between words.
    return " & ".join("(" + " | ".join(f"{form}:*" if len(form) >= MIN_PREFIX_CHARS else form
                                       for form in forms) + ")" for _, forms in terms)


def _index_query(statement, sqlite: bool, name: str, model, words: int, ranked: bool):
    """`statement` restricted to rows matching :match, newest first, with columns of how well
    each matches: lower is better; without `ranked`, on SQLite, what _ranked_here scores it
    from (the length of the text and how often each word's first form :formN occurs)."""
    match = bindparam("match", type_=String)
    if sqlite:
        fts_name = f"{name}_fts"
        index = literal_column(fts_name)
        statement = (statement.where(index.op("MATCH")(match))
                     .order_by(literal_column(f"{fts_name}.rowid").desc()))
        if ranked:
            return statement.add_columns(func.bm25(index).label("score"))
        text = model.search_text
        forms = [bindparam(f"form{n}", type_=String) for n in range(words)]
        return statement.add_columns(func.length(text).label("length"), *(
            ((func.length(text) - func.length(func.replace(text, form, "")))
             / func.length(form)).label(f"tf{n}") for n, form in enumerate(forms)))
    vector = literal_column(f"{name}.search_vector")  # to_tsvector('simple', search_text)
    tsquery = func.to_tsquery(literal_column("'simple'"), match)
    statement = statement.where(vector.bool_op("@@")(tsquery)).order_by(model.id.desc())
    # Normalisation 1: divided by 1 + log(length), so a long text does not win by length.
    return statement.add_columns((-func.ts_rank(vector, tsquery, 1)).label("score"))


# Okapi BM25's usual constants: how fast repeating a word stops adding to the score, and how
# much a long text is held against its matches.
BM25_K1, BM25_B = 1.2, 0.75


def _ranked_here(rows: list) -> list[tuple]:
    """(kind, id, created_at, score) from rows of (kind, id, created_at, text length,
    occurrences of each word): BM25 over the matches themselves, lower is better. SQLite's
    bm25() counts every row containing each word to weigh it, which costs as much as the
    word is common; every row here contains every word, so the words are weighed equally
    and the score depends on how often they occur and how long the text is (its
    characters, against the average of the matches)."""
    if not rows:
        return []
    average = max(sum(row[3] for row in rows) / len(rows), 1.0)
    ranked = []
    for row_kind, item_id, created_at, length, *occurrences in rows:
        norm = BM25_K1 * (1 - BM25_B + BM25_B * length / average)
        score = sum(tf * (BM25_K1 + 1) / (tf + norm) for tf in occurrences if tf)
        ranked.append((row_kind, item_id, created_at, -score))
    return ranked


# --- the page's hits -----------------------------------------------------------------------


@lru_cache(maxsize=16)
def _hits_statement(tables: tuple[str, ...]):
    """What a page's hits show, for ids :post_ids, :chat_ids, :material_ids."""
    author = aliased(User)
    session = aliased(Workshop)
    no_int = null().cast(Integer)
    parts = []
    if "post" in tables:
        parts.append(
            db.select(literal_column(f"'{POST}'", String).label("kind"), Post.id, Group.slug,
                      Group.name, Thread.title, func.substr(Post.body, 1, SNIPPET_SCAN_CHARS),
                      Post.author_id, author.name, Post.created_at, session.number,
                      Thread.id, Post.number)
            .join(Thread, Thread.id == Post.thread_id).join(Group, Group.id == Thread.group_id)
            .outerjoin(author, author.id == Post.author_id)
            .outerjoin(session, session.id == Thread.workshop_id)
            .where(Post.id.in_(bindparam("post_ids", expanding=True))))
    if "chat_message" in tables:
        parts.append(
            db.select(literal_column(f"'{CHAT}'", String), ChatMessage.id, Group.slug,
                      Group.name, literal_column("''", String),
                      func.substr(ChatMessage.body, 1, SNIPPET_SCAN_CHARS),
                      ChatMessage.author_id, author.name, ChatMessage.created_at,
                      session.number, no_int, no_int)
            .join(Group, Group.id == ChatMessage.group_id)
            .outerjoin(author, author.id == ChatMessage.author_id)
            .outerjoin(session, session.id == ChatMessage.workshop_id)
            .where(ChatMessage.id.in_(bindparam("chat_ids", expanding=True))))
    if "material" in tables:
        practice = [func.coalesce(getattr(GoodPractice, name), "")
                    for name in ("problem", "actions", "results", "costs")]
        text = Material.description
        for part in (*practice, func.coalesce(MaterialVersion.text, "")):
            text = text + "\n" + part
        parts.append(
            db.select(case((Material.kind == MaterialKind.GOOD_PRACTICE, PRACTICE),
                           else_=MATERIAL), Material.id, Group.slug, Group.name,
                      Material.title, func.substr(text, 1, SNIPPET_SCAN_CHARS),
                      Material.uploaded_by_id, author.name, Material.created_at,
                      session.number, no_int, no_int)
            .join(Group, Group.id == Material.group_id)
            .outerjoin(author, author.id == Material.uploaded_by_id)
            .outerjoin(session, session.id == Material.workshop_id)
            .outerjoin(GoodPractice, GoodPractice.material_id == Material.id)
            .outerjoin(MaterialVersion, (MaterialVersion.material_id == Material.id)
                       & (MaterialVersion.number == Material.version_count))
            .where(Material.id.in_(bindparam("material_ids", expanding=True))))
    return parts[0] if len(parts) == 1 else union_all(*parts)


_IDS_PARAM = {POST: "post_ids", CHAT: "chat_ids", MATERIAL: "material_ids",
              PRACTICE: "material_ids"}
_TABLE_OF = {POST: "post", CHAT: "chat_message", MATERIAL: "material", PRACTICE: "material"}


def _hits(page: list[tuple[str, int]], terms) -> list[SearchHit]:
    """The hits of one page, in its order: what each shows, read in one statement."""
    if not page:
        return []
    params: dict[str, list[int]] = {}
    for row_kind, item_id in page:
        params.setdefault(_IDS_PARAM[row_kind], []).append(item_id)
    tables = tuple(name for name in _TABLES if any(
        _TABLE_OF[row_kind] == name for row_kind, _ in page))
    found = {}
    for (row_kind, item_id, slug, group_name, title, text, author_id, author_name, created_at,
         workshop_number, thread_id, post_number) in db.session.execute(
            _hits_statement(tables), params):
        found[(row_kind, item_id)] = SearchHit(
            kind=row_kind, id=item_id, group_slug=slug, group_name=group_name,
            title=highlight_title(title or "", terms), snippet=highlight(text or "", terms),
            author_id=author_id, author_name=author_name, created_at=created_at,
            workshop_number=workshop_number, thread_id=thread_id, post_number=post_number)
    return [found[key] for key in page if key in found]


@lru_cache(maxsize=20_000)
def _collated(key, name: str):
    """key(name), remembered: the same members' names are sorted on every search page."""
    return key(name)


@lru_cache(maxsize=4)
def _choices_statement(every_group: bool, with_group: bool):
    visible = db.select(literal_column("'group'", String).label("what"),
                        Group.slug.label("value"), Group.name.label("label"),
                        literal_column("0", Integer).label("number"),
                        literal_column("0", Integer).label("id"))
    if not every_group:
        visible = visible.where(Group.id.in_(bindparam("group_ids", expanding=True)))
    if not with_group:
        return visible
    return union_all(
        visible,
        db.select(literal_column("'session'", String), literal_column("''", String),
                  Workshop.theme, Workshop.number, Workshop.id)
        .where(Workshop.group_id == bindparam("group_id")),
        db.select(literal_column("'author'", String), literal_column("''", String), User.name,
                  User.id, literal_column("0", Integer))
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == bindparam("group_id")))


def filter_choices(actor, group: Group | None) -> FilterChoices:
    """The groups the actor may search, and with a group its sessions and members: one
    statement."""
    every_group = is_admin(actor)
    params: dict = {} if every_group else {"group_ids": sorted(roles_of(actor)) or [0]}
    if group is not None:
        params["group_id"] = group.id
    groups, sessions, authors = [], [], []
    for what, value, label, number, row_id in db.session.execute(
            _choices_statement(every_group, group is not None), params):
        if what == "group":
            groups.append(Choice(value, label))
        elif what == "session":
            sessions.append(Choice(number, label, row_id))
        else:
            authors.append(Choice(number, label))
    key = collation_key()
    groups.sort(key=lambda choice: _collated(key, choice.label))
    authors.sort(key=lambda choice: _collated(key, choice.label))
    sessions.sort(key=lambda choice: choice.value)
    return FilterChoices(groups, sessions, authors[:MAX_AUTHORS])


# --- highlighting --------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return fold_char(char)


def _folded_with_origins(text: str) -> tuple[str, list[int] | range]:
    """fold(text), and for each of its characters the index of the character it came from."""
    table_ = {}
    for char in set(text):
        folded = _fold_char(char)
        if folded != char:
            table_[ord(char)] = folded
    if all(len(folded) == 1 for folded in table_.values()):  # "Łódź" → "lodz": one for one
        return text.translate(table_), range(len(text))
    origins = [index for index, char in enumerate(text) for _ in _fold_char(char)]
    return text.translate(table_), origins


def _terms_of(words) -> list[tuple[str, tuple[str, ...]]]:
    return _query_terms(words) if isinstance(words, str) else [
        (word, (word,)) if isinstance(word, str) else word for word in words]


def _spans(plain: str, terms) -> list[tuple[int, int]]:
    """Where the words that match a term are in `plain`: a word matches when one of a term's
    forms begins it or begins one of its own forms ("asystenci" for "asystentów")."""
    if not terms:
        return []
    whole = {forms[0] for folded, forms in terms if len(folded) < MIN_PREFIX_CHARS}
    prefixes = tuple(form for folded, forms in terms if len(folded) >= MIN_PREFIX_CHARS
                     for form in forms)
    heads = {form[:2] for form in prefixes}
    folded_text, origins = _folded_with_origins(plain)
    spans = []
    for match in _WORD.finditer(folded_text):
        word = match.group(0)
        if word in whole or word.startswith(prefixes) or (word[:2] in heads and any(
                form.startswith(prefixes) for form in word_forms(
                    plain[origins[match.start()]:origins[match.end() - 1] + 1].lower()))):
            spans.append((origins[match.start()], origins[match.end() - 1] + 1))
    return spans


def _marked(plain: str, spans, start: int, end: int) -> list:
    out = []
    position = start
    for span_start, span_end in spans:
        if span_start < position or span_end > end:
            continue
        out += [escape(plain[position:span_start]),
                Markup("<mark>%s</mark>") % plain[span_start:span_end]]
        position = span_end
    out.append(escape(plain[position:end]))
    return out


def highlight_title(title: str, words) -> Markup:
    """The title, escaped, with every matched word in <mark>."""
    return Markup("").join(_marked(title, _spans(title, _terms_of(words)), 0, len(title)))


def highlight(text: str, words, width: int = SNIPPET_CHARS) -> Markup:
    """About `width` characters of `text` (Markdown) around the first match, escaped, with
    every matched word in <mark>; `words`: a query string, or terms of _query_terms."""
    plain = plain_text(text, SNIPPET_SCAN_CHARS)
    spans = _spans(plain, _terms_of(words))
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
    out += _marked(plain, spans, start, end)
    if end < len(plain):
        out.append(Markup("…"))
    return Markup("").join(out)
