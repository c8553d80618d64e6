"""Chat history for the demo data set (called at the end of forum.demo.seed_demo).

Each group gets a quiet between-sessions exchange and the chat of its last concluded session
(two days, so the session page shows a transcript by day); the group whose session is live
today (`miasta`) also gets this morning's messages, tagged with the live session.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from forum.chat.models import MENTION, ChatMessage
from forum.extensions import db
from forum.groups.models import Group, Membership, Role
from forum.notifications.inbox import notify
from forum.notifications.mentions import handle_for, mentioned_users
from forum.text import render_markdown
from forum.timeutil import utcnow
from forum.workshops.models import Workshop, WorkshopState
from forum.workshops.services import group_today

SESSION_DAY1 = [
    "Dzień dobry wszystkim! Autobus z dworca dojechał, wchodzimy do szkoły.",
    "Prezentacja dyrekcji jest w materiałach sesji, warto zajrzeć przed panelem.",
    "Czy ktoś notuje pytania do dyrekcji? Mogę zebrać je w jednym miejscu.",
    "Świetny pomysł z **klasami otwartymi** dla rodziców, u nas tego brakuje.",
    "@{moderator} czy po obiedzie zaczynamy o 14:00 w tej samej sali?",
    "Tak, o 14:00 w auli na parterze.",
]
SESSION_DAY2 = [
    "Panel zaczyna się za 10 minut, zajmijcie miejsca z przodu.",
    "Pytanie z sali: jak mierzyć efekty współpracy szkół z biblioteką?",
    "U nas liczymy udział uczniów w zajęciach i ankietujemy rodziców raz w roku.",
    "Link do raportu, o którym mówiła prelegentka: https://example.org/raport-wspolpraca",
    "Dziękujemy za dwa dni! Wnioski spiszemy w wątku po sesji.",
]
BETWEEN = [
    "Czy ktoś ma już termin kolejnej sesji w kalendarzu? Dodałam z zakładki *Sesje*.",
    "Przypominam o opiniach do materiału szkoleniowego, termin za dwa tygodnie.",
    "Wrzuciłem kwestionariusz diagnozy do materiałów sesji 1.",
]
LIVE_TODAY = [
    "Dzień dobry! Jesteśmy już na miejscu, zaczynamy wizytę studyjną.",
    "Kto jedzie z dworca, autobus odjeżdża spod wejścia głównego.",
    "Plan dnia jest na stronie sesji, lekcje otwarte zaczynają się o 10:00.",
    "@{moderator} czy materiały z warsztatu będą w zakładce *Materiały*?",
    "Tak, wrzucę je po południu do materiałów tej sesji.",
    "Bardzo ciekawa rozmowa z dyrekcją o **asystentach nauczyciela**.",
]


def _local(group: Group, day, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(group.time_zone)).astimezone(UTC)


def seed_chat(groups, memberships: list[Membership], seed: int = 2026) -> None:
    rng = random.Random(seed)
    for group in groups:
        members = [m for m in memberships if m.group is group and m.role != Role.OBSERVER]
        moderator = next(m.user for m in members if m.role == Role.MODERATOR)
        people = [m.user for m in members if m.user is not moderator]
        workshops = list(db.session.scalars(db.select(Workshop).where(
            Workshop.group_id == group.id).order_by(Workshop.number)))
        today = group_today(group)
        concluded = [w for w in workshops if w.state_on(today) == WorkshopState.CONCLUDED]
        live = next((w for w in workshops if w.state_on(today) == WorkshopState.LIVE), None)
        handle = handle_for(moderator.name)
        planned: list[tuple[datetime, object, str, Workshop | None]] = []
        if concluded:
            last = concluded[-1]
            for n, text in enumerate(SESSION_DAY1):
                author = moderator if n == 5 else rng.choice(people)
                planned.append((_local(group, last.day1, 9, 5 + n * 7), author, text, last))
            for n, text in enumerate(SESSION_DAY2):
                author = moderator if n in (0, 4) else rng.choice(people)
                planned.append((_local(group, last.day2, 10, 2 + n * 9), author, text, last))
            for n, text in enumerate(BETWEEN):
                planned.append((_local(group, last.day2 + timedelta(days=3 + n * 5), 12, 30),
                                moderator if n == 1 else rng.choice(people), text, None))
        if live is not None:
            now = utcnow()
            start = max(now - timedelta(hours=2), _local(group, today, 0, 1))
            step = (now - timedelta(minutes=1) - start) / len(LIVE_TODAY)
            for n, text in enumerate(LIVE_TODAY):
                author = moderator if n == 4 else rng.choice(people)
                planned.append((start + step * n, author, text, live))
        for n, (moment, author, text, workshop) in enumerate(sorted(planned,
                                                                    key=lambda p: p[0])):
            body = text.format(moderator=handle)
            message = ChatMessage(group_id=group.id, author_id=author.id, body=body,
                                  body_html=render_markdown(body), client_id=f"demo-{group.id}-{n}",
                                  workshop_id=workshop.id if workshop else None,
                                  created_at=moment)
            db.session.add(message)
            db.session.flush()
            for user in mentioned_users(group, body):
                if user.id != author.id:
                    notify(user.id, MENTION, message, group_id=group.id, actor_id=author.id,
                                           created_at=moment, read_at=moment)
    db.session.commit()
