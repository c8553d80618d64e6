import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from forum import demo
from forum.accounts.models import Organisation, User
from forum.extensions import db
from forum.groups.models import Group, Membership
from forum.search import include_object
from tests import factories


def test_create_admin_reads_the_password_from_stdin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["forum", "create-admin", "--email", "Boss@Example.org",
                                 "--name", "Szefowa", "--password-stdin"],
                           input="Zupa-pomidorowa-w-Lublinie\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "boss@example.org"))
        assert user.is_admin and user.password_hash


def test_create_admin_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(
        args=["forum", "create-admin", "--email", "boss@example.org", "--name", "Szefowa",
              "--password-stdin"], input="password123\n")
    assert result.exit_code == 1
    assert "at least 10" in result.output or "too easy" in result.output


def test_operator_commands_build_a_group(app, smtp):
    runner = app.test_cli_runner()
    steps = [
        ["forum", "create-organisation", "Gmina Niemce", "--kind", "rural_commune"],
        ["forum", "create-group", "--name", "Gminy", "--slug", "gminy", "--kind", "rural"],
        ["forum", "create-user", "--email", "anna@example.org", "--name", "Anna Nowak",
         "--organisation", "Gmina Niemce"],
        ["forum", "set-role", "anna@example.org", "gminy", "--role", "moderator"],
        ["forum", "invite", "piotr@example.org", "gminy"],
        ["forum", "deactivate-user", "anna@example.org"],
        ["forum", "activate-user", "anna@example.org"],
        ["forum", "remove-member", "anna@example.org", "gminy"],
    ]
    for args in steps:
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    assert "http://forum.test/invitations/" in runner.invoke(
        args=["forum", "invite", "ewa@example.org", "gminy"]).output
    assert len(smtp.wait_for(3)) == 3  # anna's password link and two invitations
    result = runner.invoke(args=["forum", "set-role", "nobody@example.org", "gminy"])
    assert result.exit_code != 0 and "no account uses" in result.output


def test_seed_demo_loads_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["forum", "seed-demo"])
    assert first.exit_code == 0 and "member@example.org" in first.output
    # `make run` on an existing demo database: nothing to do, and not an error.
    second = runner.invoke(args=["forum", "seed-demo"])
    assert second.exit_code == 0, second.output
    assert "already loaded; nothing to do" in second.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Group.id))) == 3


def _counts():
    return (db.session.scalar(db.select(db.func.count(User.id))),
            db.session.scalar(db.select(db.func.count(Group.id))))


def test_seed_demo_refuses_production_mode(app):
    app.config["FORUM_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["forum", "seed-demo"])
    assert result.exit_code == 1
    assert "seed-demo refused: FORUM_ENV is production" in result.output
    assert "forum create-admin" in result.output  # what to do instead
    with app.app_context():
        assert _counts() == (0, 0)
        with pytest.raises(demo.DemoRefused):  # the function refuses too, not only the command
            demo.seed_demo()
        assert _counts() == (0, 0)


def test_seed_demo_refuses_a_database_with_real_accounts(app):
    with app.app_context():
        factories.make_user(email="wojt@gmina-niemce.pl")
    result = app.test_cli_runner().invoke(args=["forum", "seed-demo"])
    assert result.exit_code == 1
    assert "1 account(s) that are not from the demo data set" in result.output
    assert "wojt@gmina-niemce.pl" in result.output and "empty database" in result.output
    with app.app_context():
        assert _counts() == (1, 0)


def test_seed_demo_refuses_a_demo_database_with_an_account_added(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["forum", "seed-demo"]).exit_code == 0
    with app.app_context():
        factories.make_user(email="anna.nowak@lublin.eu")
        before = _counts()
    result = runner.invoke(args=["forum", "seed-demo"])
    assert result.exit_code == 1 and "anna.nowak@lublin.eu" in result.output
    with app.app_context():
        assert _counts() == before


def test_demo_data_matches_the_brief(ctx):
    demo.seed_demo()
    users = db.session.scalars(db.select(User)).all()
    assert 35 <= len(users) <= 45
    assert 18 <= db.session.scalar(db.select(db.func.count(Organisation.id))) <= 25
    roles = {
        (m.user.email, m.group.slug): m.role for m in db.session.scalars(db.select(Membership))
    }
    assert roles[("moderator@example.org", "miasta")] == "moderator"
    assert roles[("moderator@example.org", "gminy")] == "member"
    assert roles[("moderator@example.org", "powiaty")] == "member"
    assert {g for (e, g) in roles if e == "member@example.org"} == {"miasta", "gminy"}
    assert next(u for u in users if u.email == "admin@example.org").is_admin
    # seed-demo tells demo accounts from real ones by this list.
    assert {u.email for u in users} == demo.demo_emails()
    # Every group has a moderator.
    assert {g for (e, g), r in roles.items() if r == "moderator"} == {"miasta", "gminy", "powiaty"}


def test_demo_sessions_have_times_and_one_recorded_session_per_group(ctx):
    """Issue 17: day times everywhere; per group one concluded session with registrations,
    check-ins, certificates, an answered evaluation and approved minutes with an accepted
    amendment; the next session open with a few registrations; a cap in the cities group."""
    from datetime import time

    from forum.attendance.hours import hours_for_days
    from forum.attendance.models import Certificate, CheckIn, Registration
    from forum.evaluation.models import (
        EvaluationAnswer,
        EvaluationQuestion,
        EvaluationSubmission,
    )
    from forum.minutes.models import Minutes, MinutesAmendment
    from forum.pages import recap
    from forum.workshops.models import Workshop
    from forum.workshops.services import group_today

    demo.seed_demo()

    def count(model, *where):
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))

    workshops = db.session.scalars(db.select(Workshop)).all()
    assert workshops and all(
        (w.day1_starts, w.day1_ends, w.day2_starts, w.day2_ends)
        == (time(10), time(16), time(9), time(14)) for w in workshops)
    assert hours_for_days(workshops[0], [1, 2]) == 11
    groups = {g.slug: g for g in db.session.scalars(db.select(Group))}
    assert groups["miasta"].registration_cap == 2
    assert groups["gminy"].registration_cap is None
    for slug, (done, upcoming) in {"miasta": (4, 6), "gminy": (5, 6), "powiaty": (2, 3)}.items():
        group = groups[slug]
        session = next(w for w in workshops if w.group_id == group.id and w.number == done)
        assert session.state_on(group_today(group)) == "concluded"
        members = count(Membership, Membership.group_id == group.id,
                        Membership.role == "member")
        registered = count(Registration, Registration.workshop_id == session.id)
        assert registered >= members * 2 // 3  # most members
        assert count(Registration, Registration.workshop_id == session.id,
                     Registration.day1.is_(False)) >= 1  # some registered for one day
        days = dict(db.session.execute(
            db.select(CheckIn.day, db.func.count()).where(CheckIn.workshop_id == session.id)
            .group_by(CheckIn.day)).all())
        assert days[1] >= 3 and days[2] >= 3
        assert set(db.session.scalars(db.select(CheckIn.method).distinct().where(
            CheckIn.workshop_id == session.id))) == {"code", "list"}
        attendees = set(db.session.scalars(db.select(CheckIn.user_id).distinct().where(
            CheckIn.workshop_id == session.id)))
        certified = set(db.session.scalars(db.select(Certificate.user_id).where(
            Certificate.workshop_id == session.id)))
        assert certified == attendees
        questions = db.session.scalars(db.select(EvaluationQuestion).where(
            EvaluationQuestion.workshop_id == session.id)
            .order_by(EvaluationQuestion.position)).all()
        assert [q.standard for q in questions] == ["usefulness", "organisation", "change", None]
        assert questions[3].text
        answered = count(EvaluationSubmission, EvaluationSubmission.workshop_id == session.id)
        assert answered >= 3
        assert count(EvaluationAnswer, EvaluationAnswer.workshop_id == session.id) == \
            answered * 4
        minutes = db.session.scalars(db.select(Minutes).where(
            Minutes.workshop_id == session.id)).one()
        assert minutes.state == "approved" and minutes.approved_at and minutes.approved_by_id
        assert "powitanie" in minutes.body and "<li>10:00 powitanie" in minutes.body_html
        [amendment] = db.session.scalars(db.select(MinutesAmendment).where(
            MinutesAmendment.minutes_id == minutes.id)).all()
        assert amendment.state == "accepted" and amendment.author_id in attendees
        # The recap counts them.
        figures = recap.attendance_figures(session)
        assert figures.registered == registered and figures.people == len(attendees)
        assert figures.person_hours > 0

        following = next(w for w in workshops if w.group_id == group.id
                         and w.number == upcoming)
        assert following.state_on(group_today(group)) == "upcoming"
        assert 3 <= count(Registration, Registration.workshop_id == following.id) <= 6
        assert count(CheckIn, CheckIn.workshop_id == following.id) == 0
    # The cap holds in the demo: at most two people per organisation in the cities group.
    per_organisation = db.session.execute(
        db.select(Registration.organisation_id, db.func.count())
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .where(Workshop.group_id == groups["miasta"].id, Workshop.number == 6)
        .group_by(Registration.organisation_id)).all()
    assert per_organisation and max(n for _o, n in per_organisation) <= 2


def test_migrations_match_the_models(ctx):
    """A model change without a migration fails here (on both databases)."""
    with db.engine.connect() as connection:
        # The search index (FTS5 tables, a generated column) is managed by migration 0004 only.
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object})
        assert compare_metadata(context, db.metadata) == []
