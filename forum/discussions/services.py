"""Threads and posts: start, reply, edit, delete, react, read tracking, moderation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, bindparam, case, cast, exists, func, or_, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.accounts.services import too_long
from forum.audit.models import AuditEntry
from forum.audit.services import blank_earlier_audit_text, record_audit
from forum.discussions import live
from forum.discussions.models import (
    Draft,
    Post,
    PostRevision,
    Reaction,
    Thread,
    ThreadMaterial,
    ThreadRead,
)
from forum.discussions.notify import notify_new_post
from forum.discussions.numbering import POSTS_PER_PAGE, page_of
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group
from forum.groups.policy import (
    can_delete_post,
    can_edit_post,
    can_moderate_group,
    can_participate,
    can_post_in_thread,
    can_see_hidden_post,
    can_see_post_history,
    can_view_group,
)
from forum.ids import parse_id, parse_ids
from forum.materials.models import Material
from forum.notifications.inbox import watch_thread
from forum.notifications.mentions import mention_links
from forum.notifications.models import GroupWatch, ThreadWatch
from forum.searchtext import search_text as index_text
from forum.text import render_markdown, unstorable
from forum.timeutil import utcnow
from forum.workshops.models import Workshop

TITLE_MAX = 200
BODY_MAX = 50_000  # characters of Markdown
THREADS_PER_PAGE = 30
REACTIONS = {"useful": _l("Useful"), "agree": _l("Agree"), "thanks": _l("Thanks")}


# --- loading ---------------------------------------------------------------------------------


def get_thread_for(actor, group: Group, thread_id: int) -> Thread:
    """The thread if the actor may see the group; NotFound for missing and closed alike."""
    if not can_view_group(actor, group):
        raise NotFound()
    thread = db.session.get(Thread, thread_id)
    if thread is None or thread.group_id != group.id:
        raise NotFound()
    return thread


# Audit actions shown to members as public notices at the top of a thread.
NOTICE_ACTIONS = ("thread.rename", "thread.merge", "thread.split", "thread.move",
                  "thread.close", "thread.reopen")


def thread_notices_filter(group_id, thread_id) -> tuple:
    """The conditions of a thread's public notices (the audit entries curation.thread_header
    shows); the thread page asks whether there is any along with the thread."""
    return (AuditEntry.group_id == group_id, AuditEntry.action.in_(NOTICE_ACTIONS),
            or_(and_(AuditEntry.subject_type == Thread.__tablename__,
                     AuditEntry.subject_id == thread_id),
                and_(AuditEntry.action == "thread.split",
                     AuditEntry.details["new_thread_id"].as_integer() == thread_id)))


class ThreadReader(NamedTuple):
    """The reader's own state on a thread, read along with the thread (get_thread_for_reader)."""

    last_read: int | None  # None: never opened
    watch_level: str | None
    has_notices: bool  # whether curation.thread_header has notices to look for
    draft: SavedDraft | None = None  # the reader's own draft of a reply to the thread


@functools.cache
def _thread_for_reader_statement():
    actor_id = bindparam("actor_id")
    return (db.select(
        Thread,
        db.select(ThreadRead.last_read_number).where(
            ThreadRead.user_id == actor_id, ThreadRead.thread_id == Thread.id).scalar_subquery(),
        db.select(ThreadWatch.level).where(
            ThreadWatch.user_id == actor_id, ThreadWatch.thread_id == Thread.id).scalar_subquery(),
        exists().where(*thread_notices_filter(Thread.group_id, Thread.id)),
        Draft.body, Draft.reply_to_id, Draft.saved_at)
        .outerjoin(Draft, and_(Draft.thread_id == Thread.id, Draft.user_id == actor_id))
        .options(joinedload(Thread.materials))
        .where(Thread.id == bindparam("thread_id")))


def get_thread_for_reader(actor, group: Group, thread_id: int) -> tuple[Thread, ThreadReader]:
    """get_thread_for, for the thread page: the thread with its materials, and the reader's
    read mark, watch level and draft of a reply, in one query (one round trip where there
    were five)."""
    if not can_view_group(actor, group):
        raise NotFound()
    row = db.session.execute(_thread_for_reader_statement(),
                             {"actor_id": actor.id, "thread_id": thread_id}).unique().first()
    if row is None or row[0].group_id != group.id:
        raise NotFound()
    thread, last_read, watch_level, has_notices, body, reply_to_id, saved_at = row
    draft = (SavedDraft(body=body, reply_to_id=reply_to_id, saved_at=saved_at)
             if saved_at is not None and can_participate(actor, group) else None)
    return thread, ThreadReader(last_read, watch_level, bool(has_notices), draft)


def get_post_for(actor, group: Group, post_id: int) -> Post:
    if not can_view_group(actor, group):
        raise NotFound()
    post = db.session.get(Post, post_id)
    if post is None or post.thread.group_id != group.id:
        raise NotFound()
    return post


# --- the thread list -------------------------------------------------------------------------


class MaterialLink(NamedTuple):
    id: int
    title: str


class ThreadSummary(NamedTuple):
    """What a thread list shows of a thread: plain values from one query, no ORM entity."""

    id: int
    title: str
    pinned: bool
    locked: bool
    agenda_marked: bool
    closed: bool
    workshop_number: int | None
    author_name: str | None  # None: the author's account is gone or erased
    reply_count: int
    last_number: int
    last_post_at: datetime
    last_author_name: str | None  # None: no last author to show
    materials: tuple[MaterialLink, ...]


@dataclass(frozen=True, slots=True)
class ThreadItem:
    thread: ThreadSummary
    last_read: int | None  # None: never opened

    @property
    def unread(self) -> int:
        return self.thread.last_number - (self.last_read or 0)


@dataclass(frozen=True)
class ThreadPage:
    pinned: list[ThreadItem]
    items: list[ThreadItem]
    next_cursor: str | None
    # The reader's watch level for the group, read along with the threads (one round trip
    # less); known only when the list has a row to carry it.
    watch_level: str | None = None
    watch_known: bool = False


def linked_materials_column(thread_id):
    """A column: the materials linked to the thread `thread_id` (a correlated column), by
    title, encoded as "id:length:title" joined by "," (read with `read_linked_materials`);
    a thread list or page gets them in its own query instead of one more round trip."""
    linked = (db.select(Material.id, Material.title)
              .join(ThreadMaterial, ThreadMaterial.material_id == Material.id)
              .where(ThreadMaterial.thread_id == thread_id)
              .order_by(Material.title, Material.id).subquery())
    return db.select(func.aggregate_strings(
        cast(linked.c.id, String) + ":" + cast(func.length(linked.c.title), String) + ":"
        + linked.c.title, ",")).scalar_subquery()


def read_linked_materials(encoded: str | None) -> tuple[MaterialLink, ...]:
    """Undo `linked_materials_column` (the length says where a title ends, whatever it holds)."""
    links, at = [], 0
    while encoded and at < len(encoded):
        id_end = encoded.index(":", at)
        length_end = encoded.index(":", id_end + 1)
        end = length_end + 1 + int(encoded[id_end + 1:length_end])
        links.append(MaterialLink(int(encoded[at:id_end]), encoded[length_end + 1:end]))
        at = end + 1  # past the ","
    return tuple(links)


def _cursor(thread: ThreadSummary) -> str:
    return f"{thread.last_post_at.timestamp():.6f}_{thread.id}"


def _parse_cursor(cursor: str | None):
    try:
        stamp, thread_id = (cursor or "").split("_")
        when = datetime.fromtimestamp(float(stamp), tz=utcnow().tzinfo)
    except (ValueError, OverflowError, OSError):  # not a cursor, or a date out of range
        return None
    number = parse_id(thread_id)
    return (when, number) if number is not None else None


@functools.cache
def _list_statement(*, first_page: bool, workshop: bool, material: bool, unread_only: bool,
                    limit: int):
    """The thread list's one statement for this kind of page, built once per process (building
    a statement costs more than running it); the values are bound parameters. Only the columns
    a list shows, in ThreadSummary's order, then the reader's read mark; on the first page the
    pinned threads and the page's are one UNION ALL of the two index ranges."""
    read, author, last_author = db.aliased(ThreadRead), db.aliased(User), db.aliased(User)
    statement = (
        db.select(
            Thread.id, Thread.title, Thread.pinned, Thread.locked,
            Thread.agenda_marked_at.is_not(None).label("agenda_marked"),
            Thread.closed_at.is_not(None).label("closed"), Workshop.number.label("workshop_number"),
            # An erased account's name is not shown (None: "former member").
            case((author.anonymised_at.is_(None), author.stored_name)).label("author_name"),
            Thread.reply_count, Thread.last_number, Thread.last_post_at,
            last_author.stored_name.label("last_author_name"),  # None: no last author
            last_author.anonymised_at.is_not(None).label("last_author_erased"),
            read.last_read_number,
            linked_materials_column(Thread.id).label("materials"),
            # The same for every row (PostgreSQL and SQLite work it out once).
            db.select(GroupWatch.level).where(GroupWatch.user_id == bindparam("actor_id"),
                                              GroupWatch.group_id == bindparam("group_id"))
            .scalar_subquery().label("group_watch"),
        )
        .outerjoin(Workshop, Workshop.id == Thread.workshop_id)
        .outerjoin(author, author.id == Thread.author_id)
        .outerjoin(last_author, last_author.id == Thread.last_author_id)
        .outerjoin(read, and_(read.thread_id == Thread.id,
                              read.user_id == bindparam("actor_id")))
        .where(Thread.group_id == bindparam("group_id"), Thread.merged_into_id.is_(None))
    )
    if workshop:
        statement = statement.where(Thread.workshop_id == bindparam("workshop_id"))
    if material:
        statement = statement.where(Thread.id.in_(
            db.select(ThreadMaterial.thread_id)
            .where(ThreadMaterial.material_id == bindparam("material_id"))))
    if unread_only:
        statement = statement.where(Thread.last_number > func.coalesce(read.last_read_number, 0))
    page = (statement.where(Thread.pinned.is_(False))
            .order_by(Thread.last_post_at.desc(), Thread.id.desc()).limit(limit + 1))
    if not first_page:
        stamp, after = bindparam("stamp", type_=Thread.last_post_at.type), bindparam("after")
        return page.where(or_(Thread.last_post_at < stamp,
                              and_(Thread.last_post_at == stamp, Thread.id < after)))
    pinned = statement.where(Thread.pinned.is_(True))
    both = union_all(pinned.subquery().select(), page.subquery().select()).subquery()
    return db.select(both).order_by(both.c.pinned.desc(), both.c.last_post_at.desc(),
                                    both.c.id.desc())


def list_threads(actor, group: Group, *, workshop: Workshop | None = None,
                 material: Material | None = None, unread_only: bool = False,
                 cursor: str | None = None, limit: int = THREADS_PER_PAGE) -> ThreadPage:
    """Pinned threads (first page only), then the newest activity first, keyset-paginated by
    `cursor`: one query whatever the page (the materials linked to the threads and the
    reader's watch level for the group are columns of it)."""
    if not can_view_group(actor, group):
        raise NotFound()
    position = _parse_cursor(cursor)
    statement = _list_statement(first_page=position is None, workshop=workshop is not None,
                                material=material is not None, unread_only=unread_only,
                                limit=limit)
    values = {"actor_id": actor.id, "group_id": group.id,
              "workshop_id": workshop.id if workshop else None,
              "material_id": material.id if material else None}
    if position is not None:
        values["stamp"], values["after"] = position
    rows = db.session.execute(statement, values).all()
    former = None
    items = []
    for (thread_id, title, pinned, locked, agenda_marked, closed, workshop_number, author,
         reply_count, last_number, last_post_at, last_author, last_author_erased,
         last_read, materials, _group_watch) in rows:
        if last_author_erased:
            last_author = former = former or gettext("former member")
        items.append(ThreadItem(ThreadSummary(
            thread_id, title, pinned, locked, agenda_marked, closed, workshop_number, author,
            reply_count, last_number, last_post_at, last_author,
            read_linked_materials(materials)), last_read))
    pinned = [item for item in items if item.thread.pinned]
    rest = items[len(pinned):]
    next_cursor = _cursor(rest[limit - 1].thread) if len(rest) > limit else None
    return ThreadPage(pinned, rest[:limit], next_cursor, rows[0][-1] if rows else None,
                      bool(rows))


# --- reading a thread ------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadView:
    thread: Thread
    posts: list[Post]
    page: int
    page_count: int
    reactions: dict[int, dict[str, int]]  # post id → kind → count
    my_reactions: set[tuple[int, str]]
    first_unread: int | None
    # post id → kind → the names of who reacted so (for "who reacted")
    reacted_by: dict[int, dict[str, list[str]]] = field(default_factory=dict)


def post_view(actor, thread, number: int):
    """A ThreadView holding the one post `number` of the thread (for the fragment endpoint:
    the thread page's own markup, the reader's own permissions). NotFound when there is no
    such post. Reading it live does not mark it read: the next visit of the page does."""
    post = db.session.scalar(db.select(Post).where(Post.thread_id == thread.id,
                                                   Post.number == number))
    if post is None:
        raise NotFound()
    names: dict[str, list[str]] = {}
    mine = set()
    for kind, user_id, name in db.session.execute(
            db.select(Reaction.kind, Reaction.user_id, User.name)
            .join(User, User.id == Reaction.user_id).where(Reaction.post_id == post.id)):
        names.setdefault(kind, []).append(name)
        if user_id == actor.id:
            mine.add((post.id, kind))
    counts = {kind: len(who) for kind, who in names.items()}
    return ThreadView(thread, [post], page_of(number), max(page_of(thread.last_number), 1),
                      {post.id: counts} if counts else {}, mine, None,
                      {post.id: names} if names else {})


def last_read_number(actor, thread: Thread) -> int | None:
    return db.session.scalar(db.select(ThreadRead.last_read_number).where(
        ThreadRead.user_id == actor.id, ThreadRead.thread_id == thread.id))


def first_unread_number(actor, thread: Thread) -> int:
    read = last_read_number(actor, thread) or 0
    return min(read + 1, thread.last_number) if thread.last_number else 1


@functools.cache
def _page_of_posts_statement():
    """A page of posts with their reactions as two columns: every reaction as its kind and
    who reacted (for "who reacted"), and the reader's own kinds (one query where there were
    two)."""
    def kinds(*where):
        return (db.select(func.aggregate_strings(Reaction.kind, ","))
                .where(Reaction.post_id == Post.id, *where).scalar_subquery())

    every = (db.select(func.aggregate_strings(Reaction.kind + _UNIT + User.name, _RECORD))
             .join(User, User.id == Reaction.user_id)
             .where(Reaction.post_id == Post.id).scalar_subquery())
    return (db.select(Post, every, kinds(Reaction.user_id == bindparam("actor_id")))
            .where(Post.thread_id == bindparam("thread_id"),
                   Post.number.between(bindparam("first"), bindparam("last")))
            .order_by(Post.number))


# Separators of the aggregated reactions: control characters no name contains.
_UNIT, _RECORD = "\x1f", "\x1e"
_NOT_READ_YET = object()


def read_thread(actor, thread: Thread, page: int, last_read=_NOT_READ_YET, *,
                mark: bool = True) -> ThreadView:
    """One page of posts (numbers, not OFFSET: cost does not grow with the thread).
    `last_read`: the reader's read mark when the caller has it (get_thread_for_reader);
    `mark=False`: the caller marks the page read itself (mark_read) once it is shown."""
    page_count = max(page_of(thread.last_number), 1)
    page = min(max(page, 1), page_count)
    first = (page - 1) * POSTS_PER_PAGE + 1
    posts = []
    counts: dict[int, dict[str, int]] = {}
    reacted_by: dict[int, dict[str, list[str]]] = {}
    mine: set[tuple[int, str]] = set()
    for post, every_reaction, my_kinds in db.session.execute(
            _page_of_posts_statement(), {"actor_id": actor.id, "thread_id": thread.id,
                                         "first": first, "last": first + POSTS_PER_PAGE - 1}):
        posts.append(post)
        if every_reaction:
            names = reacted_by[post.id] = {}
            for record in every_reaction.split(_RECORD):
                kind, _unit, name = record.partition(_UNIT)
                names.setdefault(kind, []).append(name)
            counts[post.id] = {kind: len(who) for kind, who in names.items()}
        if my_kinds:
            mine.update((post.id, kind) for kind in my_kinds.split(","))
    if last_read is _NOT_READ_YET:
        last_read = last_read_number(actor, thread)
    read = last_read or 0
    first_unread = read + 1 if read < thread.last_number else None
    if posts and mark:
        mark_read(actor, thread, posts[-1].number, last_read)
    return ThreadView(thread, posts, page, page_count, counts, mine, first_unread, reacted_by)


def mark_read(actor, thread: Thread, number: int, last_read=_NOT_READ_YET) -> None:
    """Remember the furthest post read (never goes back): one INSERT ... ON CONFLICT DO
    UPDATE ... WHERE the stored mark is lower, atomic on its own, so two pages read at once
    cannot move the mark back. `last_read`: the mark as the caller read it (nothing to write
    when the page is not further)."""
    if last_read is not _NOT_READ_YET and last_read is not None and number <= last_read:
        return
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ThreadRead).values(user_id=actor.id, thread_id=thread.id,
                                                  last_read_number=number)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[ThreadRead.user_id, ThreadRead.thread_id],
            set_={"last_read_number": statement.excluded.last_read_number},
            where=ThreadRead.last_read_number < statement.excluded.last_read_number)
        # One statement is atomic by itself: on a reading request (forum.extensions) it needs
        # no BEGIN and COMMIT of its own.
        .execution_options(atomic_alone=True))
    # A ThreadRead the session holds may be behind now; nothing else it holds changed, so the
    # commit keeps them (expiring them would load the signed-in user again, one more query).
    session = db.session()
    for row in [o for o in session.identity_map.values() if isinstance(o, ThreadRead)]:
        session.expire(row)
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


# --- writing ---------------------------------------------------------------------------------


def _check_body(body: str, field: str = "body") -> None:
    if not body or not body.strip():
        raise InvalidInput({field: _l("Write something first.")})
    if len(body) > BODY_MAX:
        raise InvalidInput({field: too_long(BODY_MAX)})


def _check_title(title: str) -> None:
    if not title or not title.strip():
        raise InvalidInput({"title": _l("Enter a title.")})
    if len(title) > TITLE_MAX:
        raise InvalidInput({"title": too_long(TITLE_MAX)})


def _usable_token(client_token: str | None) -> str | None:
    """The form's resubmission token if it is one (1–64 characters, as the column holds);
    anything else is as if none was sent: the post is saved, only not de-duplicated."""
    if isinstance(client_token, str) and 0 < len(client_token) <= 64 \
            and not unstorable(client_token):
        return client_token
    return None


def _existing_submission(actor, client_token: str | None) -> Post | None:
    if not client_token:
        return None
    return db.session.scalar(db.select(Post).where(Post.author_id == actor.id,
                                                   Post.client_token == client_token))


def _new_post(actor, thread: Thread, body: str, *, reply_to: Post | None = None,
              client_token: str | None = None) -> Post:
    # Take the next number with one atomic UPDATE: concurrent replies never collide.
    now = utcnow()
    # A thread merged meanwhile (curation.merge_threads) takes no more posts.
    number = db.session.execute(
        update(Thread).where(Thread.id == thread.id, Thread.merged_into_id.is_(None))
        .values(last_number=Thread.last_number + 1, last_post_at=now, last_author_id=actor.id,
                reply_count=Thread.reply_count + (1 if thread.last_number else 0))
        .returning(Thread.last_number)
    ).scalar_one_or_none()
    if number is None:
        db.session.rollback()
        raise InvalidInput({"body": _l("This thread was just merged into another one: open it "
                                       "again and send your reply there.")})
    db.session.refresh(thread)
    post = Post(thread=thread, number=number, author_id=actor.id, body=body,
                body_html=_post_html(thread.group, body), reply_to=reply_to,
                search_text=index_text(thread.title if number == 1 else "", body),
                client_token=client_token or None, created_at=now)
    db.session.add(post)
    db.session.flush()
    db.session.merge(ThreadRead(user_id=actor.id, thread_id=thread.id, last_read_number=number))
    return post


def _post_html(group: Group, body: str) -> str:
    """A post's HTML: its Markdown, with mentions of the group's members as links."""
    return render_markdown(body, mention_links(group, body))


def _materials(group: Group, material_ids: list[int]) -> list[Material]:
    if not material_ids:
        return []
    found = list(db.session.scalars(db.select(Material).where(
        Material.id.in_(material_ids), Material.group_id == group.id,
        Material.deleted_at.is_(None))))
    if len(found) != len(set(material_ids)):
        raise InvalidInput({"material_ids": _l("Choose materials of this group.")})
    return found


def _workshop(group: Group, number: int | None) -> Workshop | None:
    if not number:
        return None
    workshop = db.session.scalar(db.select(Workshop).where(
        Workshop.group_id == group.id, Workshop.number == number))
    if workshop is None:
        raise InvalidInput({"workshop_number": _l("Choose a session from the list.")})
    return workshop


def start_thread(actor, group: Group, *, title: str, body: str,
                 workshop_number: int | None = None, material_ids: list[int] | None = None,
                 client_token: str | None = None,
                 before_commit: Callable[[Thread], None] | None = None) -> Thread:
    """`before_commit` runs in the thread's own transaction, just before it is committed: a
    caller can link the new thread elsewhere atomically, or raise to abandon it."""
    if not can_participate(actor, group):
        raise PermissionDenied()
    client_token = _usable_token(client_token)
    existing = _existing_submission(actor, client_token)
    if existing is not None:
        return existing.thread
    errors: dict = {}

    def collect(check, *args):
        try:
            return check(*args)
        except InvalidInput as error:
            errors.update(error.errors)

    collect(_check_title, title)
    collect(_check_body, body)
    workshop = collect(_workshop, group, workshop_number)
    materials = collect(_materials, group, material_ids or [])
    if errors:
        raise InvalidInput(errors)
    thread = Thread(group=group, workshop=workshop, title=title.strip(), author_id=actor.id,
                    last_number=0, reply_count=0)
    thread.materials = materials
    db.session.add(thread)
    db.session.flush()
    post = _new_post(actor, thread, body, client_token=client_token)
    _delete_draft(actor, group, None)  # sent: the draft of a new thread in this group goes
    watch_thread(actor, thread)
    notify_new_post(actor, group, thread, post, new_thread=True)
    if before_commit is not None:
        try:
            before_commit(thread)
        except BaseException:
            db.session.rollback()
            raise
    db.session.commit()
    return thread


def reply(actor, thread: Thread, body: str, *, reply_to_id: int | None = None,
          client_token: str | None = None) -> Post:
    group = thread.group
    if not can_participate(actor, group):
        raise PermissionDenied()
    client_token = _usable_token(client_token)
    existing = _existing_submission(actor, client_token)
    if existing is not None:
        return existing
    if not can_post_in_thread(actor, group, thread):
        raise InvalidInput({"body": _l("This thread is closed: no new replies can be added.")
                            if thread.closed_at and not thread.locked else
                            _l("This thread is locked: no new replies can be added.")})
    _check_body(body)
    reply_to = None
    if reply_to_id:
        reply_to = db.session.get(Post, reply_to_id)
        if reply_to is None or reply_to.thread_id != thread.id:
            raise InvalidInput({"reply_to_id": _l("You can only reply to a post of this thread.")})
    post = _new_post(actor, thread, body, reply_to=reply_to, client_token=client_token)
    _delete_draft(actor, group, thread)  # sent: the draft of a reply goes
    watch_thread(actor, thread)
    notify_new_post(actor, group, thread, post)
    live.post_created_after_commit(post)  # to the thread's followers, once committed
    db.session.commit()
    return post


def edit_post(actor, post: Post, body: str, *, redact: bool = False) -> Post:
    """The author edits the post. `redact`: the edit removes personal data, so no earlier
    text is kept (the revisions go; a redaction entry in the audit log keeps the fact)."""
    group = post.thread.group
    if not can_edit_post(actor, group, post):
        raise PermissionDenied()
    _check_body(body)
    if body == post.body:
        return post
    if redact:
        db.session.execute(db.delete(PostRevision).where(PostRevision.post_id == post.id))
        blank_earlier_audit_text("post", post.id)
        record_audit(actor, "post.redact", group=group, target=post.thread.title,
                     details={"post_id": post.id, "redacted": True}, subject=post)
    else:
        db.session.add(PostRevision(post_id=post.id, body=post.body, edited_by_id=actor.id))
    post.body, post.body_html = body, _post_html(group, body)
    post.search_text = index_text(post.thread.title if post.number == 1 else "", body)
    post.edited_at = utcnow()
    live.post_changed_after_commit(post)
    db.session.commit()
    return post


def post_history(actor, post: Post) -> list[PostRevision]:
    if not can_see_post_history(actor, post.thread.group, post):
        raise NotFound()
    return list(db.session.scalars(db.select(PostRevision).where(
        PostRevision.post_id == post.id).order_by(PostRevision.id.desc())))


def delete_post(actor, post: Post) -> None:
    """Soft delete: a "post removed" placeholder keeps the reply chain."""
    thread = post.thread
    if not can_delete_post(actor, thread.group, post):
        raise PermissionDenied()
    post.deleted_at = utcnow()
    if post.number > 1 and post.hidden_at is None:
        thread.reply_count -= 1
    if actor.id != post.author_id:
        record_audit(actor, "post.delete", group=thread.group, target=thread.title,
                     details={"post_id": post.id}, subject=post)
    live.post_changed_after_commit(post)
    db.session.commit()


def hide_post(actor, post: Post, reason: str) -> None:
    thread = post.thread
    if not can_moderate_group(actor, thread.group):
        raise PermissionDenied()
    hide_post_in_transaction(actor, post, reason)
    db.session.commit()


def hide_post_in_transaction(actor, post: Post, reason: str, *,
                             details: dict | None = None) -> None:
    """Hide the post and record it, in the caller's transaction (no permission check: the
    caller checks; the moderation desk resolves a report with it). `details` are added to
    the audit entry's."""
    thread = post.thread
    if not reason.strip():
        raise InvalidInput({"reason": _l("Say why the post is hidden; its author will see it.")})
    if len(reason) > 500:
        raise InvalidInput({"reason": too_long(500)})
    if post.hidden_at is None and post.deleted_at is None and post.number > 1:
        thread.reply_count -= 1
    post.hidden_at, post.hidden_reason, post.hidden_by_id = utcnow(), reason.strip(), actor.id
    record_audit(actor, "post.hide", group=thread.group, target=thread.title,
                 details={"post_id": post.id, "reason": reason.strip(), **(details or {})},
                 subject=post, reason=reason.strip())
    live.post_changed_after_commit(post)


def unhide_post(actor, post: Post) -> None:
    thread = post.thread
    if not can_moderate_group(actor, thread.group):
        raise PermissionDenied()
    if post.hidden_at is not None:
        if post.deleted_at is None and post.number > 1:
            thread.reply_count += 1
        post.hidden_at, post.hidden_reason, post.hidden_by_id = None, "", None
        record_audit(actor, "post.unhide", group=thread.group, target=thread.title,
                     details={"post_id": post.id}, subject=post)
        live.post_changed_after_commit(post)
        db.session.commit()


def toggle_reaction(actor, post: Post, kind: str) -> bool:
    """Add the reaction, or take it back if it was there; True when it is now on."""
    if kind not in REACTIONS:
        raise InvalidInput({"kind": _l("Choose a reaction from the list.")})
    if not can_participate(actor, post.thread.group) or not post.visible:
        raise PermissionDenied()
    existing = db.session.get(Reaction, (post.id, actor.id, kind))
    if existing is not None:
        db.session.delete(existing)
    else:
        db.session.add(Reaction(post_id=post.id, user_id=actor.id, kind=kind))
    db.session.commit()
    return existing is None


def visible_body(actor, post: Post) -> str | None:
    """The post's HTML for this reader, or None when a placeholder is shown instead."""
    if post.deleted_at is not None:
        return None
    return shown_body(post, post.hidden_at is None
                      or can_see_hidden_post(actor, post.thread.group, post))


def shown_body(post: Post, may_see_hidden: bool) -> str | None:
    """visible_body when the reader's `can_see_hidden_post` for this post is already known."""
    if post.deleted_at is not None or (post.hidden_at is not None and not may_see_hidden):
        return None
    return post.body_html


# --- moderation of threads -------------------------------------------------------------------


def _moderate(actor, thread: Thread) -> None:
    if not can_moderate_group(actor, thread.group):
        raise PermissionDenied()


def set_pinned(actor, thread: Thread, pinned: bool) -> None:
    _moderate(actor, thread)
    if thread.pinned != pinned:
        thread.pinned = pinned
        record_audit(actor, "thread.pin" if pinned else "thread.unpin", group=thread.group,
                     target=thread.title, subject=thread)
        db.session.commit()


def set_locked(actor, thread: Thread, locked: bool) -> None:
    _moderate(actor, thread)
    if thread.locked != locked:
        thread.locked = locked
        record_audit(actor, "thread.lock" if locked else "thread.unlock", group=thread.group,
                     target=thread.title, subject=thread)
        db.session.commit()


def move_to_workshop(actor, thread: Thread, workshop_number: int | None) -> None:
    _moderate(actor, thread)
    workshop = _workshop(thread.group, workshop_number)
    old = thread.workshop.number if thread.workshop else None
    thread.workshop = workshop
    record_audit(actor, "thread.move", group=thread.group, target=thread.title,
                 details={"from": old, "to": workshop.number if workshop else None},
                 subject=thread)
    db.session.commit()


def render_preview(body: str) -> str:
    """The HTML a post would get (for the preview button)."""
    return render_markdown(body[:BODY_MAX])


def thread_posts(thread: Thread, post_ids: list[int]) -> list[Post]:
    """Posts of this thread among the given ids (others are ignored)."""
    return list(db.session.scalars(db.select(Post).where(Post.thread_id == thread.id,
                                                         Post.id.in_(post_ids))))


def post_id_at(thread: Thread, number: int) -> int | None:
    return db.session.scalar(db.select(Post.id).where(Post.thread_id == thread.id,
                                                      Post.number == number))


def thread_links(ids: set[int]) -> dict[int, tuple[str, dict]]:
    """Audit-log links (forum.audit.services.register_links) to the threads that still exist."""
    return {thread_id: ("discussions.thread", {"slug": slug, "thread_id": thread_id})
            for thread_id, slug in db.session.execute(
                db.select(Thread.id, Group.slug).join(Group, Group.id == Thread.group_id)
                .where(Thread.id.in_(ids))).all()}


def post_links(ids: set[int]) -> dict[int, tuple[str, dict]]:
    return {post_id: ("discussions.post_link", {"slug": slug, "post_id": post_id})
            for post_id, slug in db.session.execute(
                db.select(Post.id, Group.slug).join(Thread, Thread.id == Post.thread_id)
                .join(Group, Group.id == Thread.group_id).where(Post.id.in_(ids))).all()}


# --- drafts ----------------------------------------------------------------------------------
# What a person is writing, kept on the server (forum.discussions.models.Draft) so that it
# survives a reload and follows them to another device. Only members who may write in the
# group have drafts; only their writer ever reads them.

MATERIALS_IN_A_DRAFT = 50


class SavedDraft(NamedTuple):
    body: str
    saved_at: datetime
    reply_to_id: int | None = None
    title: str = ""
    workshop_number: int | None = None
    material_ids: tuple[int, ...] = ()


def _draft_scope(actor, group: Group, thread: Thread | None) -> None:
    """Only a member who may write in the group keeps drafts there; NotFound for whoever may
    not see the group (or a thread of another group), PermissionDenied for an observer."""
    if not can_view_group(actor, group) or (thread is not None and thread.group_id != group.id):
        raise NotFound()
    if not can_participate(actor, group):
        raise PermissionDenied()


def _draft_where(actor, group: Group, thread: Thread | None) -> tuple:
    return (Draft.user_id == actor.id, Draft.group_id == group.id,
            Draft.thread_id == thread.id if thread is not None else Draft.thread_id.is_(None))


def _delete_draft(actor, group: Group, thread: Thread | None) -> None:
    db.session.execute(db.delete(Draft).where(*_draft_where(actor, group, thread)))


def save_draft(actor, group: Group, thread: Thread | None = None, *, body: str, title: str = "",
               reply_to_id: int | None = None, workshop_number: int | None = None,
               material_ids=()) -> SavedDraft | None:
    """Keep what the actor is writing: a reply to `thread`, or (no thread) a new thread in the
    group with its title, session and materials. One draft per person and thread (and per
    person and group for a new thread): saving again replaces it. Nothing written (no text,
    no title): the draft goes, and None is returned."""
    _draft_scope(actor, group, thread)
    if len(body) > BODY_MAX:
        raise InvalidInput({"body": too_long(BODY_MAX)})
    if len(title) > TITLE_MAX:
        raise InvalidInput({"title": too_long(TITLE_MAX)})
    if not body.strip() and not title.strip():
        discard_draft(actor, group, thread)
        return None
    if thread is None or not reply_to_id or not db.session.scalar(
            db.select(Post.id).where(Post.id == reply_to_id, Post.thread_id == thread.id)):
        reply_to_id = None  # only a post of this thread is answered
    materials = tuple(parse_ids(material_ids))[:MATERIALS_IN_A_DRAFT] \
        if thread is None else ()
    saved = SavedDraft(body=body, saved_at=utcnow(), reply_to_id=reply_to_id,
                       title=title if thread is None else "",
                       workshop_number=workshop_number or None if thread is None else None,
                       material_ids=materials)
    values = {"body": saved.body, "title": saved.title, "reply_to_id": saved.reply_to_id,
              "workshop_number": saved.workshop_number,
              "material_ids": ",".join(str(m) for m in materials), "saved_at": saved.saved_at}
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Draft).values(user_id=actor.id, group_id=group.id,
                                             thread_id=thread.id if thread else None, **values)
    # One statement whatever is there already (two saves at once leave the later one).
    if thread is not None:
        target = {"index_elements": [Draft.user_id, Draft.thread_id],
                  "index_where": Draft.thread_id.is_not(None)}
    else:
        target = {"index_elements": [Draft.user_id, Draft.group_id],
                  "index_where": Draft.thread_id.is_(None)}
    try:
        db.session.execute(statement.on_conflict_do_update(
            **target, set_={name: statement.excluded[name] for name in values}))
        db.session.commit()
    except IntegrityError:
        # The thread (or the post answered) went while this request ran, e.g. a page still
        # open saves its draft as it closes: nothing to keep it for (404, not a server error).
        db.session.rollback()
        raise NotFound() from None
    return saved


def discard_draft(actor, group: Group, thread: Thread | None = None) -> None:
    """The actor's draft of a reply to `thread` (or of a new thread in the group) goes."""
    _draft_scope(actor, group, thread)
    _delete_draft(actor, group, thread)
    db.session.commit()


def draft_for(actor, group: Group, thread: Thread | None = None) -> SavedDraft | None:
    """The actor's own draft of a reply to `thread` (or of a new thread in the group); None
    when there is none or the actor may no longer write in the group. (The thread page reads
    it along with the thread: get_thread_for_reader.)"""
    if not can_view_group(actor, group) or not can_participate(actor, group) or (
            thread is not None and thread.group_id != group.id):
        return None
    draft = db.session.scalar(db.select(Draft).where(*_draft_where(actor, group, thread)))
    if draft is None:
        return None
    return SavedDraft(body=draft.body, saved_at=draft.saved_at, reply_to_id=draft.reply_to_id,
                      title=draft.title, workshop_number=draft.workshop_number,
                      material_ids=tuple(int(m) for m in draft.material_ids.split(",") if m))
