"""The rules of a session's minutes: start from the agenda, revisions, one-click additions,
the amendments window, approval."""

from datetime import timedelta

import pytest

from forum.audit.models import AuditEntry
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.minutes import services
from forum.minutes.models import AmendmentState, MinutesState
from forum.timeutil import utcnow
from tests.minutes.helpers import session_with_content


@pytest.fixture
def data(app, people, group):
    with app.test_request_context("/"):
        yield session_with_content(people, group)


def test_minutes_start_from_the_agenda_with_each_threads_conclusion(people, group, data):
    minutes = services.start_minutes(people["moderator"], data.workshop)
    assert minutes.state == MinutesState.DRAFT and minutes.revision == 1
    body = minutes.body
    assert "Minutes of session 1: Transport szkolny" in body
    assert f"## 1. [Dowozy uczniów](/g/{group.slug}/t/{data.thread.id})" in body
    assert "> Wspólny przetarg na dowozy" in body
    assert "## 2. [Stołówki]" in body and "No conclusion yet." in body
    assert body.index("Dowozy") < body.index("Stołówki")
    assert "<h4>" in minutes.body_html  # "##" becomes h4: the page owns h1 and h2
    # Starting again changes nothing.
    assert services.start_minutes(people["moderator"], data.workshop).id == minutes.id


def test_only_moderators_start_and_edit_and_outsiders_see_nothing(people, data):
    with pytest.raises(PermissionDenied):
        services.start_minutes(people["member"], data.workshop)
    with pytest.raises(NotFound):
        services.start_minutes(people["outsider"], data.workshop)
    minutes = services.start_minutes(people["moderator"], data.workshop)
    with pytest.raises(PermissionDenied):
        services.save_text(people["member"], minutes, "x", minutes.revision)
    with pytest.raises(NotFound):
        services.get_minutes(people["outsider"], data.workshop)


def test_a_save_from_an_older_revision_is_refused_and_keeps_the_other_text(people, data):
    moderator, admin = people["moderator"], people["admin"]
    minutes = services.start_minutes(moderator, data.workshop)
    opened = minutes.revision
    services.save_text(admin, minutes, "# Tekst Ady", opened)
    assert minutes.revision == opened + 1
    with pytest.raises(services.RevisionConflict) as conflict:
        services.save_text(moderator, minutes, "# Tekst Marty", opened)
    assert conflict.value.minutes.body == "# Tekst Ady"
    db.session.expire_all()
    assert services.get_minutes(moderator, data.workshop).body == "# Tekst Ady"
    # Saving again from the revision shown with the conflict is deliberate and works.
    services.save_text(moderator, minutes, "# Tekst Marty", opened + 1)
    assert minutes.body == "# Tekst Marty" and "<h3>Tekst Marty</h3>" in minutes.body_html


def test_text_goes_through_the_sanitiser(people, data):
    minutes = services.start_minutes(people["moderator"], data.workshop)
    services.save_text(people["moderator"], minutes,
                       '<script>alert(1)</script> [x](javascript:alert(2))', minutes.revision)
    assert "<script" not in minutes.body_html and "&lt;script&gt;" in minutes.body_html
    assert 'href="javascript' not in minutes.body_html


def test_candidates_are_the_sessions_chat_conclusions_and_closed_polls(people, data):
    workshop = data.workshop
    assert [m.id for m in services.chat_candidates(workshop)] == [data.said.id]
    assert [c.thread.id for c in services.conclusion_candidates(workshop)] == [data.thread.id]
    decisions = services.decision_candidates(workshop)
    assert [d.poll.id for d in decisions] == [data.poll.id]  # the open poll is not a decision
    assert decisions[0].outcome.startswith("Agreed")


def test_adding_in_one_click_appends_a_block_with_link_and_attribution(people, group, data):
    moderator = people["moderator"]
    minutes = services.start_minutes(moderator, data.workshop)
    revision = minutes.revision
    services.add_candidate(moderator, minutes, "chat", data.said.id)
    assert "> Proponuję wspólny przetarg" in minutes.body
    assert "Jan Kowalski in the chat" in minutes.body
    assert f"/g/{group.slug}/sessions/1/recap#message-{data.said.id}" in minutes.body
    services.add_candidate(moderator, minutes, "conclusion", data.thread.id)
    assert "**Conclusion of [Dowozy uczniów]" in minutes.body
    assert "(Marta Moderator)" in minutes.body
    services.add_candidate(moderator, minutes, "decision", data.poll.id)
    assert f"**Decision: [Czy robimy wspólny przetarg?](/g/{group.slug}/polls/{data.poll.id})" \
        in minutes.body
    assert "Agreed: more agree than disagree" in minutes.body
    assert minutes.revision == revision + 3
    assert minutes.body.startswith("# Minutes of session 1")  # appended, not replaced


@pytest.mark.parametrize("kind, item", [("chat", "removed"), ("chat", "before"),
                                        ("decision", "open_poll"), ("conclusion", "other"),
                                        ("other", "said")])
def test_only_the_sessions_items_can_be_added(people, data, kind, item):
    minutes = services.start_minutes(people["moderator"], data.workshop)
    with pytest.raises(InvalidInput):
        services.add_candidate(people["moderator"], minutes, kind, getattr(data, item).id)
    with pytest.raises(PermissionDenied):
        services.add_candidate(people["member"], minutes, "chat", data.said.id)


def test_amendments_only_while_open_and_only_from_participants(people, data):
    moderator, member, observer = people["moderator"], people["member"], people["observer"]
    minutes = services.start_minutes(moderator, data.workshop)
    with pytest.raises(InvalidInput):
        services.propose_amendment(member, minutes, "Dopisać koszty")  # not open yet
    with pytest.raises(PermissionDenied):
        services.open_amendments(member, minutes, utcnow() + timedelta(days=1))
    with pytest.raises(InvalidInput):
        services.open_amendments(moderator, minutes, utcnow() - timedelta(minutes=1))
    until = utcnow() + timedelta(days=2)
    services.open_amendments(moderator, minutes, until)
    assert minutes.state == MinutesState.AMENDMENTS and services.amendments_open(minutes)
    amendment = services.propose_amendment(member, minutes, "Dopisać **koszty**")
    assert amendment.state == AmendmentState.OPEN and "<strong>koszty" in amendment.text_html
    with pytest.raises(PermissionDenied):
        services.propose_amendment(observer, minutes, "Obserwator")
    with pytest.raises(InvalidInput):
        services.propose_amendment(member, minutes, "   ")
    # After the closing moment nobody proposes.
    later = until + timedelta(minutes=1)
    assert not services.amendments_open(minutes, later)
    with pytest.raises(InvalidInput):
        services.propose_amendment(member, minutes, "Za późno", now=later)
    audit = db.session.scalars(db.select(AuditEntry).where(
        AuditEntry.action == "minutes.open_amendments")).all()
    assert len(audit) == 1 and audit[0].subject_id == minutes.id


def test_accepting_declining_and_applying_amendments(people, data):
    moderator, member = people["moderator"], people["member"]
    minutes = services.start_minutes(moderator, data.workshop)
    services.open_amendments(moderator, minutes, utcnow() + timedelta(days=1))
    first = services.propose_amendment(member, minutes, "Pierwsza poprawka")
    second = services.propose_amendment(member, minutes, "Druga poprawka")
    third = services.propose_amendment(member, minutes, "Trzecia poprawka")
    with pytest.raises(PermissionDenied):
        services.decide_amendment(member, first, "accept")
    services.decide_amendment(moderator, first, "accept")
    assert first.state == AmendmentState.ACCEPTED and "Pierwsza" not in minutes.body
    services.decide_amendment(moderator, second, "apply")
    assert second.state == AmendmentState.ACCEPTED
    assert "**Amendment by Jan Kowalski**\n\nDruga poprawka" in minutes.body
    services.decide_amendment(moderator, third, "decline")
    assert third.state == AmendmentState.DECLINED and third.decided_by_id == moderator.id
    with pytest.raises(InvalidInput):
        services.decide_amendment(moderator, third, "accept")
    actions = [e.action for e in db.session.scalars(db.select(AuditEntry).where(
        AuditEntry.action.like("minutes.amendment%")).order_by(AuditEntry.id))]
    assert actions == ["minutes.amendment_accept", "minutes.amendment_accept",
                       "minutes.amendment_decline"]


def test_approving_freezes_the_minutes(people, data):
    moderator, member = people["moderator"], people["member"]
    minutes = services.start_minutes(moderator, data.workshop)
    services.open_amendments(moderator, minutes, utcnow() + timedelta(days=1))
    pending = services.propose_amendment(member, minutes, "Poprawka")
    with pytest.raises(InvalidInput, match="every amendment"):
        services.approve(moderator, minutes)
    services.decide_amendment(moderator, pending, "decline")
    with pytest.raises(PermissionDenied):
        services.approve(member, minutes)
    assert services.approved_minutes(member, data.workshop) is None
    services.approve(moderator, minutes)
    assert minutes.state == MinutesState.APPROVED and minutes.approved_by_id == moderator.id
    assert not services.amendments_open(minutes)
    for attempt in (
            lambda: services.save_text(moderator, minutes, "zmiana", minutes.revision),
            lambda: services.add_candidate(moderator, minutes, "chat", data.said.id),
            lambda: services.open_amendments(moderator, minutes, utcnow() + timedelta(days=1)),
            lambda: services.propose_amendment(member, minutes, "Jeszcze"),
            lambda: services.approve(moderator, minutes)):
        with pytest.raises(InvalidInput, match="approved|not open"):
            attempt()
    assert services.approved_minutes(people["observer"], data.workshop).id == minutes.id
    assert db.session.scalar(db.select(AuditEntry).where(
        AuditEntry.action == "minutes.approve")).subject_id == minutes.id


def test_observers_read_only_approved_minutes(people, data):
    minutes = services.start_minutes(people["moderator"], data.workshop)
    assert services.can_read(people["member"], data.workshop, minutes)
    assert not services.can_read(people["observer"], data.workshop, minutes)
    services.approve(people["moderator"], minutes)
    assert services.can_read(people["observer"], data.workshop, minutes)


def test_the_generated_text_is_in_the_moderators_language(people, data):
    from flask_babel import force_locale

    moderator = people["moderator"]
    with force_locale("pl"):
        minutes = services.start_minutes(moderator, data.workshop)
        services.open_amendments(moderator, minutes, utcnow() + timedelta(days=1))
        amendment = services.propose_amendment(people["member"], minutes, "Poprawka")
        services.decide_amendment(moderator, amendment, "apply")
    assert minutes.body.startswith("# Protokół sesji 1: Transport szkolny")
    assert "**Wniosek** (Marta Moderator)" in minutes.body and "_Brak wniosku._" in minutes.body
    assert "**Poprawka zgłoszona przez: Jan Kowalski**" in minutes.body
