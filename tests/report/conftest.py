"""A small programme, recorded by hand: two sessions held in g1 (and one cancelled), with
registrations, check-ins on one or two days, certificates, evaluation answers, posts, chat
messages, a good practice, an opinion on a draft and a recommendation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from types import SimpleNamespace

import pytest

from forum.attendance.models import Certificate, CheckIn, Registration
from forum.chat.models import ChatMessage
from forum.discussions.models import Post
from forum.evaluation.models import EvaluationAnswer, EvaluationQuestion
from forum.extensions import db
from forum.library.models import PracticeListing
from forum.materials.services import GoodPracticeInput
from forum.recommendations.models import Recommendation
from forum.reviews.models import OrganisationAnswer, Review
from tests import factories


def at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), tzinfo=UTC)


@pytest.fixture
def programme(app, personas) -> SimpleNamespace:
    with app.app_context():
        people = factories.people_of(personas)
        g1 = people["g1"]
        member, moderator = people["member"], people["moderator"]
        lublin = member.organisation
        wolka = factories.make_organisation(name="=Gmina Wólka", kind="county")
        guest = factories.make_user(name="Wanda Wólczańska", organisation=wolka)
        factories.add_member(guest, g1)

        a = factories.make_workshop(moderator, g1, 1, theme="Dowozy")
        b = factories.make_workshop(moderator, g1, 2, theme="Oświetlenie")
        c = factories.make_workshop(moderator, g1, 3, theme="Odwołana")
        a.day1, a.day2 = date(2026, 3, 10), date(2026, 3, 11)
        a.day1_starts, a.day1_ends = time(9), time(15)  # 6 h
        a.day2_starts, a.day2_ends = time(9), time(12, 30)  # 3.5 h
        b.day1, b.day2 = date(2026, 6, 10), date(2026, 6, 11)  # no times: 0 h
        c.day1, c.day2 = date(2026, 4, 1), date(2026, 4, 2)
        c.cancelled_at = at("2026-03-20")
        db.session.flush()

        def register(workshop, person):
            db.session.add(Registration(workshop_id=workshop.id, user_id=person.id,
                                        organisation_id=person.organisation_id))

        def check_in(workshop, person, day):
            db.session.add(CheckIn(workshop_id=workshop.id, user_id=person.id, day=day,
                                   organisation_id=person.organisation_id))

        for person in (member, moderator, guest):
            register(a, person)
        register(b, member)
        check_in(a, member, 1)
        check_in(a, member, 2)  # 9.5 h
        check_in(a, guest, 1)  # 6 h
        check_in(a, moderator, 2)  # 3.5 h
        check_in(b, member, 1)  # 0 h
        check_in(c, guest, 1)  # cancelled: does not count
        db.session.add(Certificate(workshop_id=a.id, user_id=member.id, serial="A-1"))
        db.session.add(Certificate(workshop_id=a.id, user_id=guest.id, serial="A-2"))

        for workshop, scores in ((a, (4, 5, 3)), (b, (2,))):
            scale = EvaluationQuestion(workshop_id=workshop.id, kind="scale", standard="usefulness")
            text = EvaluationQuestion(workshop_id=workshop.id, kind="text", standard="change")
            db.session.add_all([scale, text])
            db.session.flush()
            for score in scores:
                db.session.add(EvaluationAnswer(workshop_id=workshop.id, question_id=scale.id,
                                                scale=score))
            db.session.add(EvaluationAnswer(workshop_id=workshop.id, question_id=text.id,
                                            text="Więcej przerw"))
        db.session.commit()

        # Posts: a thread of session 1 (two visible posts, one hidden), another thread later.
        thread = factories.make_thread(member, g1, workshop_number=1)
        reply = factories.make_post(guest, thread)
        hidden = factories.make_post(member, thread, "Ukryta")
        later = factories.make_thread(member, g1, title="Oświetlenie", body="Później")
        for post in db.session.scalars(db.select(Post).where(Post.thread_id == thread.id)):
            post.created_at = at("2026-03-11")
        hidden.hidden_at = at("2026-03-12")
        for post in db.session.scalars(db.select(Post).where(Post.thread_id == later.id)):
            post.created_at = at("2026-07-01")
        assert reply.visible

        # Chat: one message in session 1, one outside sessions, one removed.
        db.session.add_all([
            ChatMessage(group_id=g1.id, author_id=member.id, workshop_id=a.id, body="a",
                        body_html="<p>a</p>", client_id="c1", created_at=at("2026-03-10")),
            ChatMessage(group_id=g1.id, author_id=guest.id, body="b", body_html="<p>b</p>",
                        client_id="c2", created_at=at("2026-03-10")),
            ChatMessage(group_id=g1.id, author_id=member.id, body="c", body_html="<p>c</p>",
                        client_id="c3", created_at=at("2026-03-10"), removed_at=at("2026-03-10")),
        ])
        db.session.commit()

        # A good practice written for session 1 and published; an opinion; a recommendation.
        practice = factories.make_material(
            guest, g1, None, title="Wspólne dowozy", kind="good_practice", workshop_number=1,
            practice=GoodPracticeInput(problem="Dowozy", actions="Wspólny przetarg"))
        practice.created_at = at("2026-03-12")
        db.session.add(PracticeListing(material_id=practice.id, status="published",
                                       published_at=at("2026-03-15")))
        draft = factories.make_material(moderator, g1, title="Projekt uchwały", workshop_number=1)
        draft.created_at = at("2026-03-12")
        db.session.flush()
        review = Review(group_id=g1.id, material_id=draft.id, version_id=draft.versions[0].id,
                        deadline=date(2026, 3, 30), status="open")
        db.session.add(review)
        db.session.flush()
        db.session.add(OrganisationAnswer(review_id=review.id, organisation_id=wolka.id,
                                          status="submitted", submitted_at=at("2026-03-20"),
                                          submitted_by_id=guest.id))
        db.session.add(Recommendation(group_id=g1.id, title="Wspólne przetargi",
                                      workshop_id=a.id, created_at=at("2026-03-12")))
        db.session.commit()
        return SimpleNamespace(g1=SimpleNamespace(id=g1.id, name=g1.name), g2_id=people["g2"].id,
                               lublin=lublin.name, wolka=wolka.name)
