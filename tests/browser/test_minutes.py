"""Minutes written together, end to end in Chromium: a moderator starts the minutes of a past
session from its agenda, adds a chat message in one click, edits and saves the text, opens
amendments; a member on a phone proposes an amendment; the moderator accepts and appends it,
approves the minutes, and the recap shows them. axe on the minutes page (editing, reading and
approved) and the recap.

The demo personas use Polish: labels are looked up in the app's catalogue. The session the
test makes (number 97) is deleted afterwards."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from forum.demo import MEMBER_EMAIL, MODERATOR_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, submit

GROUP = "miasta"
NUMBER = 97
SAID = "Proponuję wspólny przetarg na autobusy szkolne"
AMENDMENT = "Dopisać termin przetargu: marzec"


@pytest.fixture
def session_97(live_server):
    from forum.accounts.models import User
    from forum.chat.models import ChatMessage
    from forum.discussions.models import Thread
    from forum.extensions import db
    from forum.groups.models import Group
    from forum.text import render_markdown
    from forum.workshops.models import AgendaItem, Workshop
    from tests import factories

    with live_server.app.test_request_context("/"):
        group = db.session.scalar(db.select(Group).where(Group.slug == GROUP))
        moderator = db.session.scalar(db.select(User).where(User.email == MODERATOR_EMAIL))
        member = db.session.scalar(db.select(User).where(User.email == MEMBER_EMAIL))
        workshop = factories.make_workshop(moderator, group, NUMBER, days_from_today=-10,
                                           theme="Transport szkolny")
        thread = db.session.scalar(db.select(Thread).where(Thread.group_id == group.id)
                                   .order_by(Thread.id))
        db.session.add(AgendaItem(workshop_id=workshop.id, thread_id=thread.id,
                                  title=thread.title, position=1))
        zone = ZoneInfo(group.time_zone)
        message = ChatMessage(group_id=group.id, author_id=member.id, body=SAID,
                              body_html=render_markdown(SAID), client_id=uuid.uuid4().hex,
                              created_at=datetime.combine(workshop.day1, time(11), zone))
        db.session.add(message)
        db.session.commit()
        ids = workshop.id, message.id, thread.title
    yield ids
    from forum.minutes.models import Minutes, MinutesAmendment

    with live_server.app.app_context():
        minutes_ids = db.session.scalars(
            db.select(Minutes.id).where(Minutes.workshop_id == ids[0])).all()
        if minutes_ids:
            db.session.execute(db.delete(MinutesAmendment).where(
                MinutesAmendment.minutes_id.in_(minutes_ids)))
            db.session.execute(db.delete(Minutes).where(Minutes.id.in_(minutes_ids)))
        db.session.execute(db.delete(AgendaItem).where(AgendaItem.workshop_id == ids[0]))
        db.session.execute(db.delete(ChatMessage).where(ChatMessage.id == ids[1]))
        db.session.execute(db.delete(Workshop).where(Workshop.id == ids[0]))
        db.session.commit()


def test_minutes_written_together(new_context, live_server, session_97):
    _workshop_id, _message_id, agenda_title = session_97
    t = live_server.text
    url = f"/g/{GROUP}/sessions/{NUMBER}/minutes"

    moderator = new_context(viewport={"width": 1366, "height": 800}).new_page()
    sign_in(moderator, live_server, MODERATOR_EMAIL)
    moderator.goto(url)
    assert_accessible(moderator)
    submit(moderator, moderator.get_by_role(
        "button", name=t(moderator, "Start the minutes from the agenda"), exact=True))
    body = moderator.get_by_label(t(moderator, "Text of the minutes"), exact=True)
    expect(body).to_have_value(_contains(agenda_title))
    assert_accessible(moderator)

    # One click adds the chat message, with who said it and a link to it.
    said = moderator.locator(".minutes-candidate-list li", has_text=SAID)
    submit(moderator, said.get_by_role("button", name=t(moderator, "Add to the minutes")))
    expect(moderator.locator(".minutes-text blockquote", has_text=SAID)).to_be_visible()

    body = moderator.get_by_label(t(moderator, "Text of the minutes"), exact=True)
    body.fill(body.input_value() + "\n\n## Ustalenia\n\nWspólny przetarg w 2027 roku.\n")
    submit(moderator, moderator.get_by_role("button", name=t(moderator, "Save the minutes"),
                                            exact=True))
    expect(moderator.locator(".minutes-text h4", has_text="Ustalenia")).to_be_visible()

    until = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    moderator.get_by_label(t(moderator, "Amendments close at"), exact=True).fill(until)
    submit(moderator, moderator.get_by_role("button", name=t(moderator, "Open amendments"),
                                            exact=True))
    expect(moderator.locator(".badge", has_text=t(moderator, "open for amendments"))) \
        .to_be_visible()

    # A member on a phone reads the draft and proposes an amendment.
    member = new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                         has_touch=True).new_page()
    sign_in(member, live_server, MEMBER_EMAIL)
    member.goto(url)
    expect(member.locator(".minutes-text", has_text="Wspólny przetarg w 2027")).to_be_visible()
    expect(member.get_by_role("textbox", name=t(member, "Text of the minutes"))).to_have_count(0)
    member.get_by_label(t(member, "Your amendment"), exact=True).fill(AMENDMENT)
    submit(member, member.get_by_role("button", name=t(member, "Propose the amendment"),
                                      exact=True))
    expect(member.locator(".minutes-amendment", has_text=AMENDMENT)).to_be_visible()
    assert_accessible(member)

    # The moderator accepts and appends it, then approves: the minutes freeze.
    moderator.reload()
    amendment = moderator.locator(".minutes-amendment", has_text=AMENDMENT)
    submit(moderator, amendment.get_by_role("button", name=t(moderator, "Accept and append"),
                                            exact=True))
    expect(moderator.locator(".minutes-text", has_text=AMENDMENT)).to_be_visible()
    moderator.locator("summary", has_text=t(moderator, "Approve the minutes")).click()
    submit(moderator, moderator.get_by_role("button", name=t(moderator, "Approve and freeze"),
                                            exact=True))
    expect(moderator.get_by_role("textbox", name=t(moderator, "Text of the minutes"))) \
        .to_have_count(0)
    expect(moderator.locator(".badge", has_text=t(moderator, "approved"))).to_be_visible()
    assert_accessible(moderator)

    moderator.get_by_role("link", name=t(moderator, "Open the recap"), exact=True).click()
    section = moderator.locator("section.recap-minutes")
    expect(section).to_contain_text("Wspólny przetarg w 2027 roku.")
    expect(section).to_contain_text(AMENDMENT)
    assert_accessible(moderator)


def _contains(text: str):
    import re

    return re.compile(re.escape(text))
