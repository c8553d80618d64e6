"""Agenda builder: marking threads, the next session, proposals, agenda items (services and
HTTP)."""

from datetime import timedelta

import pytest

from forum.audit.models import AuditEntry
from forum.discussions import services as discussions
from forum.discussions.models import Thread
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.pages import agenda
from forum.timeutil import utcnow
from forum.workshops import services as workshops
from forum.workshops.models import AgendaItem
from tests import factories


def _session(people, group, number, days_from_today, **fields):
    return factories.make_workshop(people["moderator"], group, number,
                                   days_from_today=days_from_today, **fields)


def _thread(people, group, title="Dowozy uczniów", who="member", **fields):
    return factories.make_thread(people[who], group, title, **fields)


def _audits(action):
    return list(db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


# --- marking ---------------------------------------------------------------------------------


def test_a_moderator_marks_and_unmarks_a_thread_once_each(people, group):
    thread = _thread(people, group)
    agenda.mark_for_next_workshop(people["moderator"], thread)
    first_mark = thread.agenda_marked_at
    assert first_mark is not None and thread.agenda_marked_by_id == people["moderator"].id
    agenda.mark_for_next_workshop(people["admin"], thread)  # twice: nothing changes
    assert thread.agenda_marked_at == first_mark
    assert thread.agenda_marked_by_id == people["moderator"].id
    [entry] = _audits("thread.agenda_mark")
    assert (entry.subject_type, entry.subject_id, entry.group_id) == ("thread", thread.id,
                                                                       group.id)
    agenda.unmark(people["moderator"], thread)
    agenda.unmark(people["moderator"], thread)
    assert thread.agenda_marked_at is None and thread.agenda_marked_by_id is None
    assert len(_audits("thread.agenda_unmark")) == 1


def test_only_moderators_and_admins_mark_threads(people, group):
    thread = _thread(people, group)
    for who in ("member", "observer"):
        with pytest.raises(PermissionDenied):
            agenda.mark_for_next_workshop(people[who], thread)
        with pytest.raises(PermissionDenied):
            agenda.unmark(people[who], thread)
    with pytest.raises(NotFound):
        agenda.mark_for_next_workshop(people["outsider"], thread)
    assert thread.agenda_marked_at is None
    agenda.mark_for_next_workshop(people["admin"], thread)
    assert thread.agenda_marked_at is not None


def test_a_merged_thread_cannot_be_marked(people, group):
    survivor, merged = _thread(people, group, "A"), _thread(people, group, "B")
    merged.merged_into_id = survivor.id
    db.session.commit()
    with pytest.raises(InvalidInput, match="merged"):
        agenda.mark_for_next_workshop(people["moderator"], merged)
    assert merged.agenda_marked_at is None and not _audits("thread.agenda_mark")


def test_a_deleted_thread_cannot_be_marked(people, group):
    thread = _thread(people, group)
    thread_id = thread.id
    db.session.execute(db.delete(Thread).where(Thread.id == thread_id))
    db.session.commit()
    ghost = Thread(id=thread_id, group=group, title="Dowozy uczniów")
    with pytest.raises(InvalidInput, match="deleted"):
        agenda.mark_for_next_workshop(people["moderator"], ghost)


# --- the next session ------------------------------------------------------------------------


def test_next_session_is_the_nearest_upcoming_then_the_live_one(people, group):
    assert agenda.next_workshop(group) is None
    _session(people, group, 1, -30)
    assert agenda.next_workshop(group) is None  # only a concluded one
    live = _session(people, group, 2, 0)
    assert agenda.next_workshop(group).id == live.id
    later = _session(people, group, 4, 40)
    sooner = _session(people, group, 3, 12)
    assert agenda.next_workshop(group).id == sooner.id
    workshops.set_cancelled(people["moderator"], sooner, True)
    assert agenda.next_workshop(group).id == later.id
    assert agenda.takes_proposals(later) and agenda.takes_proposals(live)
    assert not agenda.takes_proposals(sooner)


# --- proposals -------------------------------------------------------------------------------


def test_proposals_are_marked_threads_in_mark_order_with_counts_and_conclusions(people,
                                                                                 group):
    first, second, third = (_thread(people, group, t) for t in ("Pierwszy", "Drugi", "Trzeci"))
    _thread(people, group, "Nieoznaczony")
    reply = discussions.reply(people["moderator"], first, "Wniosek: **wspólne** zakupy.")
    hidden = discussions.reply(people["member"], first, "Do ukrycia")
    discussions.hide_post(people["moderator"], hidden, "nie na temat")
    first.conclusion_post_id = reply.id
    second.closed_at, second.close_summary_html = utcnow(), "<p>Zamknięte: <em>tak</em></p>"
    db.session.commit()
    for thread in (second, first, third):
        agenda.mark_for_next_workshop(people["moderator"], thread)

    proposals = agenda.proposed_threads(people["member"], group)
    assert [p.thread.title for p in proposals] == ["Drugi", "Pierwszy", "Trzeci"]
    by_title = {p.thread.title: p for p in proposals}
    assert by_title["Pierwszy"].post_count == 2  # the hidden reply is not counted
    assert (by_title["Pierwszy"].conclusion_kind, by_title["Pierwszy"].conclusion) == (
        "post", "Wniosek: wspólne zakupy.")
    assert (by_title["Drugi"].conclusion_kind, by_title["Drugi"].conclusion) == (
        "summary", "Zamknięte: tak")
    assert by_title["Trzeci"].conclusion_kind is None and by_title["Trzeci"].post_count == 1
    with pytest.raises(NotFound):
        agenda.proposed_threads(people["outsider"], group)


def test_a_hidden_conclusion_is_not_shown(people, group):
    thread = _thread(people, group)
    reply = discussions.reply(people["member"], thread, "Tajny wniosek")
    thread.conclusion_post_id = reply.id
    db.session.commit()
    discussions.hide_post(people["moderator"], reply, "dane osobowe")
    agenda.mark_for_next_workshop(people["moderator"], thread)
    [proposal] = agenda.proposed_threads(people["member"], group)
    assert proposal.conclusion == "" and proposal.conclusion_kind is None


def test_excerpts_are_plain_text_cut_at_a_word():
    assert agenda.excerpt("<p>a <strong>b</strong> &amp; c</p>") == "a b & c"
    long = "<p>" + "słowo " * 100 + "</p>"
    cut = agenda.excerpt(long, 50)
    assert cut.endswith("…") and len(cut) <= 51 and "słow…" not in cut


# --- adding to the agenda --------------------------------------------------------------------


def test_marked_threads_become_agenda_items_in_one_step(people, group):
    session = _session(people, group, 5, 14)
    existing = AgendaItem(workshop_id=session.id, title="Powitanie", position=3)
    db.session.add(existing)
    db.session.commit()
    a, b = _thread(people, group, "A"), _thread(people, group, "B")
    agenda.mark_for_next_workshop(people["moderator"], b)
    agenda.mark_for_next_workshop(people["moderator"], a)

    result = agenda.add_to_agenda(people["moderator"], session)
    assert [i.title for i in result.added] == ["B", "A"] and result.skipped == []
    items = [e.item for e in agenda.agenda_items(people["member"], session)]
    assert [(i.title, i.position) for i in items] == [("Powitanie", 3), ("B", 4), ("A", 5)]
    assert all(i.created_by_id == people["moderator"].id for i in items[1:])
    assert a.agenda_marked_at is None and b.agenda_marked_at is None
    [entry] = _audits("workshop.agenda")
    assert (entry.subject_type, entry.subject_id) == ("workshop", session.id)
    assert entry.details["thread_ids"] == [b.id, a.id]
    assert agenda.proposed_threads(people["member"], group) == []


def test_a_thread_already_on_the_agenda_is_skipped(people, group):
    session = _session(people, group, 5, 14)
    a, b = _thread(people, group, "A"), _thread(people, group, "B")
    agenda.mark_for_next_workshop(people["moderator"], a)
    agenda.add_to_agenda(people["moderator"], session)
    agenda.mark_for_next_workshop(people["moderator"], a)
    agenda.mark_for_next_workshop(people["moderator"], b)
    result = agenda.add_to_agenda(people["moderator"], session)
    assert [i.thread_id for i in result.added] == [b.id]
    assert [t.id for t in result.skipped] == [a.id]
    assert a.agenda_marked_at is None
    assert db.session.scalar(db.select(db.func.count()).select_from(AgendaItem)) == 2


def test_chosen_threads_only(people, group):
    session = _session(people, group, 5, 14)
    a, b = _thread(people, group, "A"), _thread(people, group, "B")
    unmarked = _thread(people, group, "C")
    for t in (a, b):
        agenda.mark_for_next_workshop(people["moderator"], t)
    result = agenda.add_to_agenda(people["moderator"], session, [str(b.id), unmarked.id])
    assert {i.thread_id for i in result.added} == {b.id, unmarked.id}
    assert a.agenda_marked_at is not None  # not chosen: still marked
    assert b.agenda_marked_at is None


def test_bad_choices_are_refused_and_nothing_changes(people, group):
    session = _session(people, group, 5, 14)
    a = _thread(people, group, "A")
    agenda.mark_for_next_workshop(people["moderator"], a)
    other_group = people["g2"]
    factories.add_member(people["moderator"], other_group)
    foreign = factories.make_thread(people["outsider"], other_group, "Obcy", "treść")
    merged = _thread(people, group, "M")
    merged.merged_into_id = a.id
    db.session.commit()
    for choice, message in (([], "at least one"), ([foreign.id], "of this group"),
                            ([a.id, 999999], "of this group"), (["x"], "of this group"),
                            ([merged.id], "merged")):
        with pytest.raises(InvalidInput, match=message) as error:
            agenda.add_to_agenda(people["moderator"], session, choice)
        assert set(error.value.errors) == {"thread_ids"}
    assert db.session.scalar(db.select(db.func.count()).select_from(AgendaItem)) == 0
    assert a.agenda_marked_at is not None and not _audits("workshop.agenda")


def test_nothing_marked_is_a_clear_error(people, group):
    session = _session(people, group, 5, 14)
    with pytest.raises(InvalidInput, match="No thread is marked"):
        agenda.add_to_agenda(people["moderator"], session)


def test_only_upcoming_or_live_sessions_take_agenda_items(people, group):
    past = _session(people, group, 1, -30)
    cancelled = _session(people, group, 2, 10)
    workshops.set_cancelled(people["moderator"], cancelled, True)
    live = _session(people, group, 3, 0)
    thread = _thread(people, group)
    agenda.mark_for_next_workshop(people["moderator"], thread)
    with pytest.raises(InvalidInput, match="ended"):
        agenda.add_to_agenda(people["moderator"], past)
    with pytest.raises(InvalidInput, match="cancelled"):
        agenda.add_to_agenda(people["moderator"], cancelled)
    assert thread.agenda_marked_at is not None
    assert len(agenda.add_to_agenda(people["moderator"], live).added) == 1


def test_only_moderators_add_to_the_agenda(people, group):
    session = _session(people, group, 5, 14)
    thread = _thread(people, group)
    agenda.mark_for_next_workshop(people["moderator"], thread)
    with pytest.raises(PermissionDenied):
        agenda.add_to_agenda(people["member"], session)
    with pytest.raises(NotFound):
        agenda.add_to_agenda(people["outsider"], session)
    with pytest.raises(NotFound):
        agenda.agenda_items(people["outsider"], session)


# --- ordering and removing -------------------------------------------------------------------


def _agenda_of(people, group, session, titles):
    threads = [_thread(people, group, t) for t in titles]
    agenda.add_to_agenda(people["moderator"], session, [t.id for t in threads])
    return threads


def _titles(people, session):
    return [e.item.title for e in agenda.agenda_items(people["member"], session)]


def test_move_items_up_and_down(people, group):
    session = _session(people, group, 5, 14)
    _agenda_of(people, group, session, ["A", "B", "C"])
    ids = {e.item.title: e.item.id for e in agenda.agenda_items(people["member"], session)}
    agenda.move_agenda_item(people["moderator"], session, ids["C"], "up")
    assert _titles(people, session) == ["A", "C", "B"]
    agenda.move_agenda_item(people["moderator"], session, ids["A"], "down")
    assert _titles(people, session) == ["C", "A", "B"]
    agenda.move_agenda_item(people["moderator"], session, ids["C"], "up")  # at the top
    agenda.move_agenda_item(people["moderator"], session, ids["B"], "down")  # at the end
    assert _titles(people, session) == ["C", "A", "B"]
    with pytest.raises(InvalidInput):
        agenda.move_agenda_item(people["moderator"], session, ids["A"], "sideways")
    with pytest.raises(PermissionDenied):
        agenda.move_agenda_item(people["member"], session, ids["A"], "up")


def test_remove_an_item(people, group):
    session, other = _session(people, group, 5, 14), _session(people, group, 6, 60)
    _agenda_of(people, group, session, ["A", "B"])
    ids = {e.item.title: e.item.id for e in agenda.agenda_items(people["member"], session)}
    with pytest.raises(NotFound):  # an item of another session
        agenda.remove_agenda_item(people["moderator"], other, ids["A"])
    with pytest.raises(PermissionDenied):
        agenda.remove_agenda_item(people["member"], session, ids["A"])
    agenda.remove_agenda_item(people["moderator"], session, ids["A"])
    assert _titles(people, session) == ["B"]
    [entry] = _audits("workshop.agenda_remove")
    assert entry.details["item"] == "A" and entry.subject_id == session.id


def test_a_concluded_sessions_agenda_no_longer_changes(people, group):
    session = _session(people, group, 5, 0)
    _agenda_of(people, group, session, ["A"])
    [entry] = agenda.agenda_items(people["member"], session)
    session.day1 = session.day2 = workshops.group_today(group) - timedelta(days=3)
    db.session.commit()
    with pytest.raises(InvalidInput, match="ended"):
        agenda.remove_agenda_item(people["moderator"], session, entry.item.id)
    with pytest.raises(InvalidInput, match="ended"):
        agenda.move_agenda_item(people["moderator"], session, entry.item.id, "up")


# --- items outlive their threads -------------------------------------------------------------


def test_items_of_deleted_threads_keep_their_title(people, group):
    session = _session(people, group, 5, 14)
    [thread] = _agenda_of(people, group, session, ["Dowozy"])
    db.session.delete(thread)
    db.session.commit()
    db.session.expire_all()
    [entry] = agenda.agenda_items(people["member"], session)
    assert entry.item.title == "Dowozy" and entry.thread is None and entry.summary is None


def test_items_of_merged_threads_lead_to_the_survivor(people, group):
    session = _session(people, group, 5, 14)
    [source] = _agenda_of(people, group, session, ["Stary wątek"])
    target = _thread(people, group, "Nowy wątek")
    discussions.reply(people["member"], target, "druga")
    source.merged_into_id = target.id  # as if the merge left the item on the source
    db.session.commit()
    [entry] = agenda.agenda_items(people["member"], session)
    assert entry.item.title == "Stary wątek"
    assert entry.thread.id == target.id and entry.summary.post_count == 2


# --- HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def http(app, personas):
    """A marked-ready thread and an upcoming session in g1, as plain ids."""
    with app.app_context():
        people = factories.people_of(personas)
        member, moderator, group = people["member"], people["moderator"], people["g1"]
        factories.make_workshop(moderator, group, 7, days_from_today=20,
                                theme="Edukacja kulturalna")
        thread = factories.make_thread(member, group, "Świetlice wiejskie", "Jak je prowadzić?")
        other = factories.make_thread(member, group, "Stołówki", "Kto gotuje?")
        return {"thread": thread.id, "other": other.id, "slug": personas.g1.slug}


def _marked(app, thread_id):
    with app.app_context():
        return db.session.get(Thread, thread_id).agenda_marked_at is not None


PERSONAS = [("admin", 302), ("moderator", 302), ("member", 403), ("observer", 403),
            ("outsider", 404), (None, 302)]


@pytest.mark.parametrize(("who", "status"), PERSONAS)
def test_mark_route_statuses(app, personas, login_as, http, who, status):
    client = login_as(getattr(personas, who) if who else None)
    response = client.post(f"/g/{http['slug']}/t/{http['thread']}/agenda", data={"mark": "1"})
    assert response.status_code == status
    assert _marked(app, http["thread"]) == (who in ("admin", "moderator"))


def test_mark_and_unmark_from_the_thread_page(app, personas, login_as, http):
    client = login_as(personas.moderator)
    page = client.get(f"/g/{http['slug']}/t/{http['thread']}?page=1").get_data(as_text=True)
    assert "Bring to the next session" in page
    response = client.post(f"/g/{http['slug']}/t/{http['thread']}/agenda", data={"mark": "1"},
                           follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "will be brought to the next session" in body
    assert "Do not bring to the next session" in body
    listing = client.get(f"/g/{http['slug']}/").get_data(as_text=True)
    assert "for the next session" in listing
    client.post(f"/g/{http['slug']}/t/{http['thread']}/agenda", data={"mark": "0"})
    assert not _marked(app, http["thread"])
    member_page = login_as(personas.member).get(
        f"/g/{http['slug']}/t/{http['thread']}?page=1").get_data(as_text=True)
    assert "Bring to the next session" not in member_page
    assert client.post(f"/g/{http['slug']}/t/999999/agenda", data={"mark": "1"}
                       ).status_code == 404


def test_marking_a_merged_thread_says_why(app, personas, login_as, http):
    with app.app_context():
        db.session.get(Thread, http["other"]).merged_into_id = http["thread"]
        db.session.commit()
    client = login_as(personas.moderator)
    response = client.post(f"/g/{http['slug']}/t/{http['other']}/agenda", data={"mark": "1"},
                           follow_redirects=True)
    assert "merged into another one" in response.get_data(as_text=True)
    assert not _marked(app, http["other"])


def test_the_next_session_page_lists_the_proposals_and_adds_them(app, personas, login_as,
                                                                  http):
    moderator = login_as(personas.moderator)
    moderator.post(f"/g/{http['slug']}/t/{http['thread']}/agenda", data={"mark": "1"})
    url = f"/g/{http['slug']}/sessions/7"
    member_page = login_as(personas.member).get(url).get_data(as_text=True)
    assert "Brought to this session" in member_page and "Świetlice wiejskie" in member_page
    assert "Add these to the agenda" not in member_page
    page = moderator.get(url).get_data(as_text=True)
    assert "Add these to the agenda" in page and 'name="thread_ids"' in page
    response = moderator.post(f"{url}/agenda", data={"choose": "1",
                                                     "thread_ids": [str(http["thread"])]})
    assert response.status_code == 302
    page = moderator.get(url).get_data(as_text=True)
    assert "1 thread added to the agenda." in page
    assert "Threads on the agenda" in page and "Świetlice wiejskie" in page
    assert "No thread is marked for the next session" in page
    assert not _marked(app, http["thread"])


def test_a_failed_agenda_form_keeps_the_choice(app, personas, login_as, http):
    client = login_as(personas.moderator)
    for thread_id in (http["thread"], http["other"]):
        client.post(f"/g/{http['slug']}/t/{thread_id}/agenda", data={"mark": "1"})
    url = f"/g/{http['slug']}/sessions/7"
    response = client.post(f"{url}/agenda", data={"choose": "1"})  # nothing ticked
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Choose at least one thread." in body
    assert f'id="propose-{http["thread"]}" name="thread_ids" value="{http["thread"]}">' in body
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AgendaItem)) == 0


@pytest.mark.parametrize(("who", "status"), PERSONAS)
def test_agenda_routes_statuses(app, personas, login_as, http, who, status):
    with app.app_context():
        moderator = factories.user(personas.moderator.id)
        thread = db.session.get(Thread, http["thread"])
        agenda.mark_for_next_workshop(moderator, thread)
        session = workshops.get_workshop_for(moderator, thread.group, 7)
        agenda.add_to_agenda(moderator, session)
        agenda.mark_for_next_workshop(moderator, db.session.get(Thread, http["other"]))
        item_id = db.session.scalar(db.select(AgendaItem.id))
    client = login_as(getattr(personas, who) if who else None)
    base = f"/g/{http['slug']}/sessions/7/agenda"
    assert client.post(base, data={}).status_code == status
    assert client.post(f"{base}/{item_id}/move", data={"direction": "down"}
                       ).status_code == status
    assert client.post(f"{base}/{item_id}/remove").status_code == status
    if who in ("admin", "moderator"):
        assert client.post(f"{base}/999999/remove").status_code == 404
        assert client.post(f"/g/{http['slug']}/sessions/99/agenda").status_code == 404


def test_remove_and_move_buttons_work_without_js(app, personas, login_as, http):
    client = login_as(personas.moderator)
    for thread_id in (http["thread"], http["other"]):
        client.post(f"/g/{http['slug']}/t/{thread_id}/agenda", data={"mark": "1"})
    url = f"/g/{http['slug']}/sessions/7"
    client.post(f"{url}/agenda", data={})  # no choice offered: all marked threads
    with app.app_context():
        items = list(db.session.scalars(db.select(AgendaItem).order_by(AgendaItem.position)))
        first, second = items[0].id, items[1].id
        assert [i.title for i in items] == ["Świetlice wiejskie", "Stołówki"]
    client.post(f"{url}/agenda/{second}/move", data={"direction": "up"})
    page = client.get(url).get_data(as_text=True)
    assert page.index("Stołówki") < page.index("Świetlice wiejskie")
    # Removing asks first: the visible control only opens the question; the real button is
    # inside it, named after the item for screen readers.
    assert ('<details class="confirm" data-menu>\n    <summary class="button secondary small">'
            'Remove<span class="visually-hidden">: Świetlice wiejskie</span>') in page
    assert "The thread stays in the forum and goes back to the threads brought to this " \
        "session." in page
    response = client.post(f"{url}/agenda/{first}/remove", follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "“Świetlice wiejskie” was removed from the agenda. The thread is back among the " \
        "threads brought to this session." in body
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AgendaItem)) == 1
        # …and the thread is marked for the session again, not lost from both lists.
        assert db.session.get(Thread, http["thread"]).agenda_marked_at is not None
    proposals = body[body.index('id="proposals-heading"'):]
    assert f'id="propose-{http["thread"]}"' in proposals


def test_session_page_queries_do_not_grow_with_agenda_and_proposals(app, personas, login_as,
                                                                     http):
    from tests.test_query_counts import count_queries

    client = login_as(personas.moderator)
    url = f"/g/{http['slug']}/sessions/7"

    def grow(n):
        with app.app_context():
            group = factories.group(personas.g1.id)
            moderator, member = (factories.user(personas.moderator.id),
                                 factories.user(personas.member.id))
            session = workshops.get_workshop_for(moderator, group, 7)
            threads = []
            for k in range(n):
                thread = discussions.start_thread(member, group, title=f"W {n}.{k}", body="x")
                post = discussions.reply(moderator, thread, "Wniosek")
                thread.conclusion_post_id = post.id
                db.session.commit()
                threads.append(thread)
            for thread in threads:
                agenda.mark_for_next_workshop(moderator, thread)
            agenda.add_to_agenda(moderator, session, [t.id for t in threads[: n // 2]])

    grow(2)
    client.get(url)
    with count_queries(app) as small:
        assert client.get(url).status_code == 200
    grow(6)
    client.get(url)
    with count_queries(app) as large:
        body = client.get(url).get_data(as_text=True)
    assert "W 6.5" in body and "W 6.0" in body
    assert len(large) == len(small), "\n".join(large)


# --- the session page's one statement ----------------------------------------------------------


def _entry_values(entry):
    summary = entry.summary
    return (entry.item.id, entry.item.title, entry.thread.id if entry.thread else None,
            entry.thread.title if entry.thread else None, _summary_values(summary))


def _summary_values(summary):
    if summary is None:
        return None
    thread = summary.thread
    return (thread.id, thread.title, thread.closed_at,
            thread.workshop.number if thread.workshop else None, summary.post_count,
            summary.conclusion, summary.conclusion_kind, summary.conclusion_post_id)


def _both_ways(people, session):
    """session_agenda against agenda_items and proposed_threads (+ takes_proposals)."""
    db.session.expire_all()
    entries, proposals = agenda.session_agenda(people["member"], session)
    expected_proposals = (agenda.proposed_threads(people["member"], session.group)
                          if agenda.takes_proposals(session) else None)
    assert [_entry_values(e) for e in entries] == [
        _entry_values(e) for e in agenda.agenda_items(people["member"], session)]
    if expected_proposals is None:
        assert proposals is None
    else:
        assert [_summary_values(s) for s in proposals] == [
            _summary_values(s) for s in expected_proposals]
    return entries, proposals


def test_the_session_page_statement_gives_what_the_two_lists_give(people, group):
    concluded = _session(people, group, 1, -30)
    live = _session(people, group, 2, 0)
    later = _session(people, group, 4, 40)
    sooner = _session(people, group, 3, 12)
    cancelled = _session(people, group, 5, 5)
    workshops.set_cancelled(people["moderator"], cancelled, True)
    for session in (concluded, live, sooner, later, cancelled):  # nothing anywhere yet
        _both_ways(people, session)

    # Agenda items of every kind on the next session: a thread with a conclusion post, a
    # closed one with a summary, a deleted one, one of another session, a plain one.
    with_conclusion, closed, deleted, other_session, plain = (
        _thread(people, group, title) for title in ("Wniosek", "Zamknięty", "Usunięty",
                                                    "Inna sesja", "Zwykły"))
    post = discussions.reply(people["moderator"], with_conclusion, "Wniosek: **tak**.")
    with_conclusion.conclusion_post_id = post.id
    closed.closed_at, closed.close_summary_html = utcnow(), "<p>Podsumowanie</p>"
    other_session.workshop_id = concluded.id
    db.session.commit()
    for thread in (with_conclusion, closed, deleted, other_session, plain):
        agenda.mark_for_next_workshop(people["moderator"], thread)
    agenda.add_to_agenda(people["moderator"], sooner,
                         [t.id for t in (with_conclusion, closed, deleted, other_session)])
    db.session.delete(deleted)
    db.session.commit()
    hidden_conclusion = _thread(people, group, "Ukryty wniosek")
    secret = discussions.reply(people["member"], hidden_conclusion, "Tajne")
    hidden_conclusion.conclusion_post_id = secret.id
    db.session.commit()
    discussions.hide_post(people["moderator"], secret, "dane osobowe")
    for thread in (hidden_conclusion, _thread(people, group, "Drugi zwykły")):
        agenda.mark_for_next_workshop(people["moderator"], thread)

    entries, proposals = _both_ways(people, sooner)
    assert [e.item.title for e in entries] == ["Wniosek", "Zamknięty", "Usunięty",
                                               "Inna sesja"]
    assert entries[2].thread is None and entries[2].summary is None
    assert [s.thread.title for s in proposals] == ["Zwykły", "Ukryty wniosek", "Drugi zwykły"]
    for session in (concluded, live, later, cancelled):
        _both_ways(people, session)
    assert agenda.session_agenda(people["member"], later)[1] is None  # not the next one
    assert agenda.session_agenda(people["member"], live)[1] is not None  # live takes them

    # An item left on a merged thread leads to the survivor, as agenda_items does.
    survivor = _thread(people, group, "Ocalały")
    with_conclusion.merged_into_id = survivor.id
    db.session.commit()
    entries, _ = _both_ways(people, sooner)
    assert entries[0].thread.id == survivor.id
    with pytest.raises(NotFound):
        agenda.session_agenda(people["outsider"], sooner)
