"""Curating threads (services): close, reopen, rename, merge, split, conclusion."""

from datetime import timedelta

import pytest

from forum.audit.models import AuditEntry
from forum.chat.models import ChatMessage
from forum.discussions import curation, services
from forum.discussions.models import Post, Thread, ThreadRead
from forum.errors import InvalidInput, PermissionDenied
from forum.extensions import db
from forum.moderation.models import Report
from forum.notifications.models import Notification, ThreadWatch
from forum.search import services as search
from forum.timeutil import utcnow
from forum.workshops.models import AgendaItem
from tests import factories


def _thread(people, group, title="Dowozy uczniów", body="Pierwszy wpis", who="member"):
    return factories.make_thread(people[who], group, title, body)


def _posts(thread) -> list[Post]:
    return list(db.session.scalars(db.select(Post).where(Post.thread_id == thread.id)
                                   .order_by(Post.number)))


def _at(post, minutes: int) -> None:
    """Give a post a known time (relative to a fixed start) to control the interleaving."""
    post.created_at = START + timedelta(minutes=minutes)
    db.session.commit()


START = utcnow() - timedelta(days=1)


def _audit(action=None) -> list[AuditEntry]:
    statement = db.select(AuditEntry).order_by(AuditEntry.id)
    if action:
        statement = statement.where(AuditEntry.action == action)
    return list(db.session.scalars(statement))


def _read(user, thread) -> int | None:
    row = db.session.get(ThreadRead, (user.id, thread.id))
    return row.last_read_number if row else None


def _two_threads(people, group):
    """A: posts at minutes 0, 20, 40; B: posts at minutes 10, 30 (interleave to A B A B A)."""
    a = _thread(people, group, title="Wątek A", body="a1")
    a2 = services.reply(people["moderator"], a, "a2")
    a3 = services.reply(people["member"], a, "a3")
    b = _thread(people, group, title="Wątek B", body="b1", who="moderator")
    b2 = services.reply(people["member"], b, "b2")
    a1, b1 = _posts(a)[0], _posts(b)[0]
    for post, minute in ((a1, 0), (b1, 10), (a2, 20), (b2, 30), (a3, 40)):
        _at(post, minute)
    return a, b, {"a1": a1, "a2": a2, "a3": a3, "b1": b1, "b2": b2}


# --- permissions -----------------------------------------------------------------------------


def test_only_moderators_and_admins_curate(people, group):
    thread = _thread(people, group)
    other = _thread(people, group, title="Inny")
    post = _posts(thread)[0]
    for who in ("member", "observer"):
        with pytest.raises(PermissionDenied):
            curation.close_thread(people[who], thread, "koniec")
        with pytest.raises(PermissionDenied):
            curation.rename_thread(people[who], thread, "Nowy")
        with pytest.raises(PermissionDenied):
            curation.merge_threads(people[who], thread, other)
        with pytest.raises(PermissionDenied):
            curation.split_thread(people[who], thread, [post.id], title="x")
        with pytest.raises(PermissionDenied):
            curation.set_conclusion(people[who], thread, post)
        with pytest.raises(PermissionDenied):
            curation.reopen_thread(people[who], thread)
    curation.rename_thread(people["admin"], thread, "Admin może")
    assert thread.title == "Admin może"
    assert [e.action for e in _audit()] == ["thread.rename"]


# --- close and reopen ------------------------------------------------------------------------


def test_close_needs_a_summary_and_stops_replies_like_a_lock(people, group):
    thread = _thread(people, group)
    with pytest.raises(InvalidInput) as error:
        curation.close_thread(people["moderator"], thread, "   ")
    assert "summary" in error.value.errors
    with pytest.raises(InvalidInput) as error:
        curation.close_thread(people["moderator"], thread, "x" * 10_001)
    assert "10000" in str(error.value.errors["summary"])
    curation.close_thread(people["moderator"], thread, "Ustalono **dwa** kursy <script>")
    assert thread.closed_at is not None and thread.closed_by_id == people["moderator"].id
    assert "<strong>dwa</strong>" in thread.close_summary_html
    assert "<script>" not in thread.close_summary_html
    with pytest.raises(InvalidInput):
        services.reply(people["member"], thread, "jeszcze")
    assert services.reply(people["moderator"], thread, "dopisek").number == 2
    [entry] = _audit("thread.close")
    assert (entry.subject_type, entry.subject_id) == ("thread", thread.id)

    curation.reopen_thread(people["moderator"], thread, "wracamy do tematu")
    assert thread.closed_at is None and thread.close_summary == ""
    assert services.reply(people["member"], thread, "znów można").number == 3
    [entry] = _audit("thread.reopen")
    assert entry.before.startswith("Ustalono") and entry.reason == "wracamy do tematu"
    curation.reopen_thread(people["moderator"], thread)  # not closed: nothing to record
    assert len(_audit("thread.reopen")) == 1


# --- rename ----------------------------------------------------------------------------------


def test_rename_validates_keeps_the_old_title_and_moves_the_search(people, group):
    thread = _thread(people, group, title="Stołówki szkolne", body="treść")
    for bad in ("", "  ", "x" * 201):
        with pytest.raises(InvalidInput) as error:
            curation.rename_thread(people["moderator"], thread, bad)
        assert "title" in error.value.errors
    curation.rename_thread(people["moderator"], thread, "  Żywienie w szkołach ", "jaśniej")
    assert thread.title == "Żywienie w szkołach"
    [entry] = _audit("thread.rename")
    assert (entry.before, entry.reason, entry.subject_id) == (
        "Stołówki szkolne", "jaśniej", thread.id)
    found = search.search(people["member"], "zywienie", group=group)
    assert [h.thread_id for h in found.hits] == [thread.id]
    assert search.search(people["member"], "stolowki", group=group).hits == []
    curation.rename_thread(people["moderator"], thread, "Żywienie w szkołach")  # unchanged
    assert len(_audit("thread.rename")) == 1


# --- merge -----------------------------------------------------------------------------------


def test_merge_refuses_itself_other_groups_and_merged_threads(people, group):
    a = _thread(people, group, title="A")
    b = _thread(people, group, title="B")
    foreign = factories.make_thread(people["outsider"], people["g2"], "Obcy", "x")
    with pytest.raises(InvalidInput, match="itself"):
        curation.merge_threads(people["moderator"], a, a)
    with pytest.raises(InvalidInput, match="within one group"):
        curation.merge_threads(people["admin"], a, foreign)
    curation.merge_threads(people["moderator"], a, b)
    with pytest.raises(InvalidInput, match="already merged"):
        curation.merge_threads(people["moderator"], a, b)
    c = _thread(people, group, title="C")
    with pytest.raises(InvalidInput, match="merged into another"):
        curation.merge_threads(people["moderator"], c, a)
    assert len(_audit("thread.merge")) == 1


def test_merge_interleaves_posts_by_time_and_keeps_counters(people, group):
    a, b, p = _two_threads(people, group)
    services.hide_post(people["moderator"], p["b2"], "nie na temat")
    curation.merge_threads(people["moderator"], a, b, "ten sam temat")
    posts = _posts(b)
    assert [x.body for x in posts] == ["a1", "b1", "a2", "b2", "a3"]
    assert [x.number for x in posts] == [1, 2, 3, 4, 5]
    assert {x.id for x in posts} == {x.id for x in p.values()}  # the same posts, same ids
    assert (b.last_number, b.reply_count) == (5, 3)  # hidden b2 is not a visible reply
    assert b.last_post_at == p["a3"].created_at and b.last_author_id == people["member"].id
    assert (a.merged_into_id, a.last_number, a.reply_count) == (b.id, 0, 0)
    assert _posts(a) == []
    listed = services.list_threads(people["member"], group)
    assert [i.thread.id for i in listed.items] == [b.id]  # the tombstone leaves the list
    [entry] = _audit("thread.merge")
    assert (entry.subject_id, entry.reason, entry.details["source_id"]) == (
        b.id, "ten sam temat", a.id)


def test_merge_read_state_is_the_read_prefix_of_the_new_order(people, group):
    a, b, p = _two_threads(people, group)
    reader, partial, stranger = people["observer"], people["admin"], people["outsider"]
    # reader read all of A and all of B; partial read A up to a2 and nothing of B.
    db.session.merge(ThreadRead(user_id=reader.id, thread_id=a.id, last_read_number=3))
    db.session.merge(ThreadRead(user_id=reader.id, thread_id=b.id, last_read_number=2))
    db.session.merge(ThreadRead(user_id=partial.id, thread_id=a.id, last_read_number=2))
    db.session.commit()
    curation.merge_threads(people["moderator"], a, b)
    assert _read(reader, b) == 5
    assert _read(partial, b) == 1  # a1 read; b1 (second in the new order) was never seen
    assert _read(stranger, b) is None
    assert db.session.scalar(db.select(db.func.count()).select_from(ThreadRead).where(
        ThreadRead.thread_id == a.id)) == 0


def test_merge_keeps_links_search_reports_chat_notifications_and_materials(people, group):
    a, b, p = _two_threads(people, group)
    report = Report(group_id=group.id, post_id=p["a2"].id,
                    content_author_id=p["a2"].author_id, flag_count=1)
    chat = ChatMessage(group_id=group.id, author_id=people["member"].id, body="zob. wątek",
                       body_html="", client_id="c-1", kind="thread_notice", thread_id=a.id)
    db.session.add_all([report, chat])
    db.session.add(Notification(user_id=people["observer"].id, kind="reply", group_id=group.id,
                                thread_id=a.id, post_id=p["a3"].id))
    db.session.commit()
    reply = services.reply(people["member"], a, "a4 odpowiedź", reply_to_id=p["a2"].id)
    curation.set_conclusion(people["moderator"], a, p["a2"])
    curation.merge_threads(people["moderator"], a, b)

    assert services.get_post_for(people["member"], group, p["a2"].id).thread_id == b.id
    assert reply.reply_to_id == p["a2"].id and reply.thread_id == b.id
    db.session.refresh(report)
    assert report.post.thread_id == b.id
    assert db.session.get(ChatMessage, chat.id).thread_id == b.id
    notice = db.session.scalar(db.select(Notification).where(
        Notification.post_id == p["a3"].id))
    assert notice.thread_id == b.id
    assert b.conclusion_post_id == p["a2"].id and a.conclusion_post_id is None
    hits = search.search(people["member"], "odpowiedz", group=group).hits
    assert [(h.id, h.thread_id) for h in hits] == [(reply.id, b.id)]
    # The merged thread's title is carried by its new first post (a1, the oldest) only.
    assert [h.id for h in search.search(people["member"], "watek b", group=group).hits] \
        == [p["a1"].id]
    assert search.search(people["member"], "watek a", group=group).hits == []


def test_merge_combines_watches_muted_wins(people, group):
    a, b, _p = _two_threads(people, group)
    observer, admin = people["observer"], people["admin"]
    db.session.add_all([
        ThreadWatch(user_id=observer.id, thread_id=a.id, level="muted"),
        ThreadWatch(user_id=observer.id, thread_id=b.id, level="watching"),
        ThreadWatch(user_id=admin.id, thread_id=a.id, level="watching"),
    ])
    db.session.commit()
    curation.merge_threads(people["moderator"], a, b)
    levels = dict(db.session.execute(db.select(ThreadWatch.user_id, ThreadWatch.level).where(
        ThreadWatch.thread_id == b.id)).all())
    assert levels[observer.id] == "muted"
    assert levels[admin.id] == "watching"
    assert levels[people["member"].id] == "watching"  # posted in both
    assert db.session.scalar(db.select(db.func.count()).select_from(ThreadWatch).where(
        ThreadWatch.thread_id == a.id)) == 0


def test_merge_moves_agenda_items_but_never_repeats_one(people, group):
    a, b, _p = _two_threads(people, group)
    one = factories.make_workshop(people["moderator"], group, 1, days_from_today=7,
                                  theme="Pierwsza")
    two = factories.make_workshop(people["moderator"], group, 2, days_from_today=37,
                                  theme="Druga")
    only_a = AgendaItem(workshop_id=one.id, thread_id=a.id, title="A na 1")
    both_a = AgendaItem(workshop_id=two.id, thread_id=a.id, title="A na 2")
    both_b = AgendaItem(workshop_id=two.id, thread_id=b.id, title="B na 2")
    db.session.add_all([only_a, both_a, both_b])
    a.agenda_marked_at = utcnow()
    db.session.commit()
    curation.merge_threads(people["moderator"], a, b)
    for item in (only_a, both_a, both_b):
        db.session.refresh(item)
    assert (only_a.thread_id, both_a.thread_id, both_b.thread_id) == (b.id, a.id, b.id)
    assert b.agenda_marked_at is not None and a.agenda_marked_at is None


def test_merged_threads_resolve_to_their_target_even_through_a_chain(people, group):
    a, b, c = (_thread(people, group, title=t) for t in ("A", "B", "C"))
    curation.merge_threads(people["moderator"], a, b)
    curation.merge_threads(people["moderator"], b, c)
    assert curation.resolve_merged(people["member"], a).id == c.id
    assert curation.resolve_merged(people["member"], c) is None
    assert db.session.get(Thread, a.id).merged_into_id == c.id
    assert [x.body for x in _posts(c)] == ["Pierwszy wpis"] * 3


def test_a_merged_thread_takes_no_curation_or_replies(people, group):
    a, b = _thread(people, group, title="A"), _thread(people, group, title="B")
    curation.merge_threads(people["moderator"], a, b)
    with pytest.raises(InvalidInput):
        curation.rename_thread(people["moderator"], a, "Znowu")
    with pytest.raises(InvalidInput):
        services.reply(people["moderator"], a, "do nagrobka")


# --- split -----------------------------------------------------------------------------------


def test_split_refuses_bad_choices(people, group):
    a, b, p = _two_threads(people, group)
    with pytest.raises(InvalidInput) as error:
        curation.split_thread(people["moderator"], a, [], title="Nowy")
    assert "post_ids" in error.value.errors
    with pytest.raises(InvalidInput) as error:
        curation.split_thread(people["moderator"], a, [p["a2"].id], title="  ",
                              workshop_number=7)
    assert set(error.value.errors) == {"title", "workshop_number"}
    with pytest.raises(InvalidInput, match="this thread only"):
        curation.split_thread(people["moderator"], a, [p["a2"].id, p["b2"].id], title="Nowy")
    with pytest.raises(InvalidInput, match="at least one post"):
        curation.split_thread(people["moderator"], a, [p["a1"].id, p["a2"].id, p["a3"].id],
                              title="Nowy")
    assert _audit("thread.split") == [] and [x.number for x in _posts(a)] == [1, 2, 3]


def test_split_moves_posts_in_time_order_and_keeps_everything_right(people, group):
    a = _thread(people, group, title="Transport", body="t1")
    t2 = services.reply(people["moderator"], a, "t2 basen")
    services.reply(people["member"], a, "t3")
    t4 = services.reply(people["moderator"], a, "t4 basen", reply_to_id=t2.id)
    t5 = services.reply(people["member"], a, "t5")
    for post, minute in zip(_posts(a), (0, 10, 20, 30, 40), strict=True):
        _at(post, minute)
    observer = people["observer"]
    db.session.merge(ThreadRead(user_id=observer.id, thread_id=a.id, last_read_number=3))
    db.session.add(ThreadWatch(user_id=observer.id, thread_id=a.id, level="muted"))
    db.session.commit()
    factories.make_workshop(people["moderator"], group, 3, days_from_today=7, theme="Sport")

    new = curation.split_thread(people["moderator"], a, [t4.id, t2.id], title="Basen",
                                workshop_number=3, reason="osobny temat")
    assert [x.body for x in _posts(new)] == ["t2 basen", "t4 basen"]
    assert [x.body for x in _posts(a)] == ["t1", "t3", "t5"]
    assert [x.number for x in _posts(a)] == [1, 2, 3]
    assert (new.group_id, new.workshop.number, new.title) == (group.id, 3, "Basen")
    assert (new.last_number, new.reply_count, a.last_number, a.reply_count) == (2, 1, 3, 2)
    assert new.last_post_at == t4.created_at and a.last_post_at == t5.created_at
    assert new.author_id == people["moderator"].id
    assert t4.reply_to_id == t2.id
    # observer had read t1..t3: in A that is t1, t3 (2 posts); in the new thread t2 only.
    assert (_read(observer, a), _read(observer, new)) == (2, 1)
    assert db.session.get(ThreadWatch, (observer.id, new.id)).level == "muted"
    assert db.session.get(ThreadWatch, (people["member"].id, new.id)).level == "watching"
    hits = search.search(people["member"], "basen", group=group).hits
    assert {h.thread_id for h in hits} == {new.id}
    assert [h.id for h in search.search(people["member"], "basen t2", group=group).hits] \
        == [t2.id]  # the new first post carries the new title
    [entry] = _audit("thread.split")
    assert (entry.subject_id, entry.reason, entry.details["new_thread_id"]) == (
        a.id, "osobny temat", new.id)
    assert sorted(entry.details["post_ids"]) == sorted([t2.id, t4.id])


# --- conclusion ------------------------------------------------------------------------------


def test_conclusion_must_be_a_visible_post_of_the_thread(people, group):
    a, b, p = _two_threads(people, group)
    with pytest.raises(InvalidInput):
        curation.set_conclusion(people["moderator"], a, p["b1"])
    services.hide_post(people["moderator"], p["a2"], "nie")
    with pytest.raises(InvalidInput):
        curation.set_conclusion(people["moderator"], a, p["a2"])
    curation.set_conclusion(people["moderator"], a, p["a3"])
    assert a.conclusion_post_id == p["a3"].id
    assert curation.thread_header(people["member"], a).conclusion.id == p["a3"].id
    curation.set_conclusion(people["moderator"], a, p["a3"])  # the same again: no entry
    curation.set_conclusion(people["moderator"], a, None)
    assert a.conclusion_post_id is None
    assert [e.action for e in _audit() if e.action.startswith("thread.conclusion")] == [
        "thread.conclusion", "thread.conclusion_clear"]


# --- notices and audit -----------------------------------------------------------------------


def test_public_notices_on_both_sides_of_a_split_and_a_merge(people, group):
    a, b, p = _two_threads(people, group)
    curation.rename_thread(people["moderator"], a, "Wątek A2")
    new = curation.split_thread(people["moderator"], a, [p["a3"].id], title="Odnoga")
    curation.merge_threads(people["moderator"], new, b)
    services.set_pinned(people["moderator"], b, True)  # not a public notice
    on_a = [e.action for e in curation.thread_header(people["member"], a).notices]
    on_b = [e.action for e in curation.thread_header(people["member"], b).notices]
    on_new = [e.action for e in curation.thread_header(people["member"], new).notices]
    assert on_a == ["thread.rename", "thread.split"]
    assert on_b == ["thread.merge"]
    assert on_new == ["thread.split"]


def test_each_curation_action_records_one_entry_with_its_subject(people, group):
    a, b, p = _two_threads(people, group)
    moderator = people["moderator"]
    steps = [
        ("thread.pin", lambda: services.set_pinned(moderator, a, True)),
        ("thread.lock", lambda: services.set_locked(moderator, a, True)),
        ("thread.unlock", lambda: services.set_locked(moderator, a, False)),
        ("thread.move", lambda: services.move_to_workshop(moderator, a, None)),
        ("thread.rename", lambda: curation.rename_thread(moderator, a, "Nowa nazwa")),
        ("thread.close", lambda: curation.close_thread(moderator, a, "Podsumowanie")),
        ("thread.reopen", lambda: curation.reopen_thread(moderator, a)),
        ("thread.conclusion", lambda: curation.set_conclusion(moderator, a, p["a1"])),
        ("thread.conclusion_clear", lambda: curation.set_conclusion(moderator, a, None)),
        ("thread.split", lambda: curation.split_thread(moderator, a, [p["a2"].id], title="N")),
        ("thread.merge", lambda: curation.merge_threads(moderator, a, b)),
    ]
    for action, step in steps:
        before = len(_audit())
        step()
        entries = _audit()
        assert len(entries) == before + 1, action
        assert entries[-1].action == action
        assert entries[-1].subject_type == "thread"
        assert entries[-1].actor_id == moderator.id and entries[-1].group_id == group.id


def test_a_reply_racing_a_merge_never_lands_in_the_tombstone(people, group):
    a, b = _thread(people, group, title="A"), _thread(people, group, title="B")
    curation.merge_threads(people["moderator"], a, b)
    # As if the reply had passed its checks just before the merge committed:
    with pytest.raises(InvalidInput, match="merged"):
        services._new_post(people["member"], a, "za późno")
    assert _posts(a) == [] and a.last_number == 0
