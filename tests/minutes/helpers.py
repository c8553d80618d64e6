"""Test data for the minutes: a concluded session with an agenda, a conclusion, chat messages
and decided polls."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from forum.chat.models import ChatMessage
from forum.discussions import curation
from forum.extensions import db
from forum.polls import services as polls
from forum.polls.models import Position
from forum.text import render_markdown
from forum.timeutil import utcnow
from forum.workshops.models import AgendaItem
from tests import factories


def chat(group, author, body, when, *, removed=False):
    message = ChatMessage(group_id=group.id, author_id=author.id, body=body,
                          body_html=render_markdown(body), client_id=uuid.uuid4().hex,
                          created_at=when, removed_at=utcnow() if removed else None)
    db.session.add(message)
    db.session.commit()
    return message


def at(group, day, hour):
    return datetime.combine(day, time(hour), ZoneInfo(group.time_zone))


def session_with_content(people, group) -> SimpleNamespace:
    moderator, member = people["moderator"], people["member"]
    workshop = factories.make_workshop(moderator, group, 1, days_from_today=-5,
                                       theme="Transport szkolny")
    thread = factories.make_thread(member, group, title="Dowozy uczniów",
                                   body="Jak to robicie?", workshop_number=1)
    reply = factories.make_post(moderator, thread, "Wspólny przetarg na dowozy")
    curation.set_conclusion(moderator, thread, reply)
    other = factories.make_thread(member, group, title="Stołówki", body="Pytanie",
                                  workshop_number=1)
    db.session.add_all([
        AgendaItem(workshop_id=workshop.id, thread_id=thread.id, title=thread.title,
                   position=1),
        AgendaItem(workshop_id=workshop.id, thread_id=other.id, title=other.title,
                   position=2)])
    db.session.commit()
    said = chat(group, member, "Proponuję wspólny przetarg", at(group, workshop.day1, 10))
    removed = chat(group, member, "usunięta", at(group, workshop.day1, 11), removed=True)
    before = chat(group, member, "dzień wcześniej",
                  at(group, workshop.day1 - timedelta(days=1), 10))
    poll = polls.start_poll(moderator, group, polls.PollInput(
        kind="consent", question="Czy robimy wspólny przetarg?",
        closes_at=utcnow() + timedelta(days=1)), thread=thread)
    agree = next(o.id for o in poll.options if o.code == Position.AGREE)
    polls.cast_ballot(member, group, poll, {agree: 1})
    polls.close_poll(moderator, group, poll)
    open_poll = polls.start_poll(moderator, group, polls.PollInput(
        kind="single", question="Jaki termin?", options="maj\nczerwiec",
        closes_at=utcnow() + timedelta(days=1)), thread=thread)
    return SimpleNamespace(workshop=workshop, thread=thread, other=other, reply=reply,
                           said=said, removed=removed, before=before, poll=poll,
                           open_poll=open_poll)
