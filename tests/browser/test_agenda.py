"""Agenda builder and session recap in Chromium: a moderator brings a thread to the next
session, adds it to that session's agenda in one step and sees it listed; the session page and
the recap page pass axe.

Labels are looked up in the app's catalogue for the page's language (the demo moderator reads
Polish). The test restores the demo data it changed (marks and agenda items) at the end.
"""

from __future__ import annotations

from tests.browser.conftest import assert_accessible, expect, sign_in, submit

GROUP = "miasta"
LIVE_NUMBER = 5  # forum.demo: session 5 of Miasta is live today


def _state(live_server):
    """The thread to mark, the next session's number, and what to restore afterwards."""
    from forum.discussions.models import Thread
    from forum.extensions import db
    from forum.groups.models import Group
    from forum.pages import agenda
    from forum.workshops.models import AgendaItem

    with live_server.app.app_context():
        group = db.session.scalar(db.select(Group).where(Group.slug == GROUP))
        thread = db.session.scalar(
            db.select(Thread).where(Thread.group_id == group.id,
                                    Thread.merged_into_id.is_(None),
                                    Thread.agenda_marked_at.is_(None))
            .order_by(Thread.id).limit(1))
        assert thread is not None, "the demo data has no thread in Miasta"
        session = agenda.next_workshop(group)
        assert session is not None, "the demo data has no upcoming session in Miasta"
        marked = {t.id: (t.agenda_marked_at, t.agenda_marked_by_id) for t in db.session.scalars(
            db.select(Thread).where(Thread.group_id == group.id,
                                    Thread.agenda_marked_at.is_not(None)))}
        items = set(db.session.scalars(db.select(AgendaItem.id).where(
            AgendaItem.workshop_id == session.id)))
        return thread.id, thread.title, session.number, session.id, marked, items


def _restore(live_server, thread_id, session_id, marked, items):
    from forum.discussions.models import Thread
    from forum.extensions import db
    from forum.workshops.models import AgendaItem

    with live_server.app.app_context():
        db.session.execute(db.delete(AgendaItem).where(
            AgendaItem.workshop_id == session_id, AgendaItem.id.not_in(items or {0})))
        ours = db.session.get(Thread, thread_id)
        ours.agenda_marked_at = ours.agenda_marked_by_id = None
        for other_id, (at, by) in marked.items():
            thread = db.session.get(Thread, other_id)
            thread.agenda_marked_at, thread.agenda_marked_by_id = at, by
        db.session.commit()


def test_a_moderator_brings_a_thread_to_the_next_session(page, live_server):
    from forum.demo import MODERATOR_EMAIL

    thread_id, title, number, session_id, marked, items = _state(live_server)
    text = lambda msgid, **values: live_server.text(page, msgid, **values)  # noqa: E731
    try:
        sign_in(page, live_server, MODERATOR_EMAIL)
        page.goto(f"{live_server.url}/g/{GROUP}/t/{thread_id}?page=1")
        submit(page, page.get_by_role("button", name=text("Bring to the next session"),
                                      exact=True))
        expect(page.get_by_role("status").filter(
            has_text=text("The thread will be brought to the next session."))).to_be_visible()
        expect(page.get_by_role("button", name=text("Do not bring to the next session"),
                                exact=True)).to_be_visible()

        page.goto(f"{live_server.url}/g/{GROUP}/sessions/{number}")
        proposals = page.locator("section#proposals")
        expect(proposals.get_by_role("heading", name=text("Brought to this session"))
               ).to_be_visible()
        expect(proposals.get_by_label(title, exact=True)).to_be_checked()
        assert_accessible(page)

        submit(page, proposals.get_by_role("button", name=text("Add these to the agenda")))
        agenda_list = page.locator("ol.agenda-items")
        expect(agenda_list.get_by_role("link", name=title, exact=True)).to_be_visible()
        expect(page.locator("section#proposals")).not_to_contain_text(title)
        assert_accessible(page)

        # Removing asks first, and the thread goes back among the proposals (not lost).
        item = agenda_list.locator("li.agenda-item", has_text=title)
        item.locator("summary", has_text=text("Remove")).click()
        expect(item).to_contain_text(text(
            "The thread stays in the forum and goes back to the threads brought to this "
            "session."))
        assert_accessible(page)
        submit(page, item.get_by_role("button", name=text("Remove from the agenda")))
        expect(page.get_by_role("status").filter(has_text=title)).to_be_visible()
        expect(agenda_list.get_by_role("link", name=title, exact=True)).to_have_count(0)
        proposals = page.locator("section#proposals")
        expect(proposals.get_by_label(title, exact=True)).to_be_checked()
        submit(page, proposals.get_by_role("button", name=text("Add these to the agenda")))
        expect(agenda_list.get_by_role("link", name=title, exact=True)).to_be_visible()

        # The thread page no longer offers to unmark: the mark became an agenda item.
        page.goto(f"{live_server.url}/g/{GROUP}/t/{thread_id}?page=1")
        expect(page.get_by_role("button", name=text("Bring to the next session"),
                                exact=True)).to_be_visible()

        page.goto(f"{live_server.url}/g/{GROUP}/sessions/{LIVE_NUMBER}")
        submit(page, page.get_by_role("link", name=text("Recap of the session")))
        expect(page.get_by_role("heading", level=1)).to_contain_text(str(LIVE_NUMBER))
        expect(page.get_by_role("heading", name=text("Chat during the session"))
               ).to_be_visible()
        assert_accessible(page)
    finally:
        _restore(live_server, thread_id, session_id, marked, items)
