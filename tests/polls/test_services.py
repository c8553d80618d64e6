"""The rules of the poll engine, one test per rule."""

from datetime import timedelta

import pytest

from forum.audit.models import AuditEntry
from forum.discussions.models import Thread
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.notifications.models import Notification
from forum.polls import services
from forum.polls.models import Ballot, Poll, Position
from forum.timeutil import utcnow
from tests import factories
from tests.polls.helpers import option, position, second_organisation, start


def test_a_member_starts_a_poll_in_a_thread_and_it_is_audited(people, group):
    thread = factories.make_thread(people["member"], group)
    poll = start(people, group, thread=thread)
    assert [o.label for o in poll.options] == ["Alfa", "Beta", "Gama"]
    assert services.polls_of_thread(people["observer"], group, thread) == [poll]
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "poll.start"))
    assert entry.subject_id == poll.id and entry.details["kind"] == "single"


def test_a_consent_proposal_has_the_four_positions(people, group):
    poll = start(people, group, "consent", options="")
    assert [o.code for o in poll.options] == ["agree", "abstain", "disagree", "block"]


@pytest.mark.parametrize("fields, field", [
    ({"question": ""}, "question"),
    ({"options": "Only one"}, "options"),
    ({"options": "Same\nsame"}, "options"),
    ({"kind": "date", "options": "2027-03-18\ntomorrow"}, "options"),
    ({"kind": "date", "options": "2027-02-30\n2027-03-01"}, "options"),
    ({"kind": "dots", "points": 0}, "points"),
    ({"hours": -1}, "closes_at"),
    ({"kind": "lottery"}, "kind"),
])
def test_bad_input_names_the_field(people, group, fields, field):
    fields = dict(fields)
    kind = fields.pop("kind", "single")
    with pytest.raises(InvalidInput) as error:
        start(people, group, kind, **fields)
    assert field in error.value.errors
    assert db.session.scalar(db.select(db.func.count()).select_from(Poll)) == 0


def test_observers_and_outsiders_cannot_start_or_vote(people, group):
    with pytest.raises(PermissionDenied):
        start(people, group, who="observer")
    poll = start(people, group)
    with pytest.raises(PermissionDenied):
        services.cast_ballot(people["observer"], group, poll, {option(poll, "Alfa"): 1})
    with pytest.raises(NotFound):
        services.get_poll_for(people["outsider"], people["g2"], poll.id)
    with pytest.raises(NotFound):
        services.cast_ballot(people["outsider"], people["g2"], poll, {option(poll, "Alfa"): 1})


def test_a_vote_can_be_changed_until_closing_and_results_follow(people, group):
    poll = start(people, group)
    ballot = services.cast_ballot(people["member"], group, poll, {option(poll, "Alfa"): 1})
    assert services.results(poll).tally.leaders == (option(poll, "Alfa"),)
    services.cast_ballot(people["member"], group, poll, {option(poll, "Beta"): 1},
                         seen_revision=ballot.revision)
    found = services.results(poll)
    assert found.ballots == 1 and found.tally.leaders == (option(poll, "Beta"),)
    assert poll.ballot_count == 1


def test_a_ballot_after_closing_is_refused_and_nothing_changes(people, group):
    poll = start(people, group)
    services.cast_ballot(people["member"], group, poll, {option(poll, "Alfa"): 1})
    later = utcnow() + timedelta(hours=49)
    with pytest.raises(InvalidInput) as error:
        services.cast_ballot(people["moderator"], group, poll, {option(poll, "Beta"): 1},
                             now=later)
    assert "closed" in str(error.value.errors["ballot"])
    services.close_poll(people["moderator"], group, poll)
    with pytest.raises(InvalidInput):
        services.cast_ballot(people["member"], group, poll, {option(poll, "Beta"): 1},
                             seen_revision=1)
    assert [b.as_mapping() for b in services.ballots_of(poll)] == [{option(poll, "Alfa"): 1}]


def test_a_malformed_ranked_ballot_is_refused(people, group):
    poll = start(people, group, "ranked")
    with pytest.raises(InvalidInput) as error:
        services.cast_ballot(people["member"], group, poll,
                             {option(poll, "Alfa"): 1, option(poll, "Beta"): 1})
    assert "ballot" in error.value.errors
    assert services.ballots_of(poll) == []


def test_one_ballot_per_organisation_any_member_changes_it(people, group):
    poll = start(people, group, per_organisation=True)
    member, moderator = people["member"], people["moderator"]  # the same organisation
    first = services.cast_ballot(member, group, poll, {option(poll, "Alfa"): 1})
    with pytest.raises(InvalidInput) as error:  # the colleague's page showed no ballot yet
        services.cast_ballot(moderator, group, poll, {option(poll, "Beta"): 1})
    assert "meanwhile" in str(error.value.errors["ballot"])
    changed = services.cast_ballot(moderator, group, poll, {option(poll, "Beta"): 1},
                                   seen_revision=first.revision)
    assert changed.id == first.id and changed.cast_by_id == moderator.id
    _, other = second_organisation(group)
    services.cast_ballot(other, group, poll, {option(poll, "Beta"): 1})
    assert services.results(poll).tally.totals[option(poll, "Beta")] == 2


def test_someone_without_an_organisation_cannot_vote_per_organisation(people, group):
    poll = start(people, group, per_organisation=True)
    lone = factories.make_user(email="lone@example.org", name="Sam Lone")
    factories.add_member(lone, group)
    with pytest.raises(PermissionDenied):
        services.cast_ballot(lone, group, poll, {option(poll, "Alfa"): 1})


def test_a_colleagues_first_ballot_committed_meanwhile_refuses_this_one(app, people, group,
                                                                        monkeypatch):
    """Two members of one organisation cast its first ballot at the same moment: one is
    stored, the other is told to look again; neither is mixed into the other."""
    poll = start(people, group, per_organisation=True)
    ids = people["moderator"].id, group.id, poll.id
    real_check = services._check

    def check_then_a_colleague_votes(*args):
        real_check(*args)
        monkeypatch.setattr(services, "_check", real_check)
        with app.app_context():  # the colleague's request, its own session
            from forum.accounts.models import User
            from forum.groups.models import Group

            other = db.session.get(Poll, ids[2])
            services.cast_ballot(db.session.get(User, ids[0]), db.session.get(Group, ids[1]),
                                 other, {option(other, "Gama"): 1})

    monkeypatch.setattr(services, "_check", check_then_a_colleague_votes)
    with pytest.raises(InvalidInput) as error:
        services.cast_ballot(people["member"], group, poll, {option(poll, "Alfa"): 1})
    assert "meanwhile" in str(error.value.errors["ballot"])
    db.session.expire_all()
    ballots = services.ballots_of(poll)
    assert [b.as_mapping() for b in ballots] == [{option(poll, "Gama"): 1}]
    assert db.session.get(Poll, poll.id).ballot_count == 1


def test_consent_outcome_blocked_agreed_or_not(people, group):
    poll = start(people, group, "consent", options="")
    services.cast_ballot(people["member"], group, poll, position(poll, Position.AGREE),
                         reason="Good for rural communes")
    assert services.results(poll).outcome == "agreed"
    services.cast_ballot(people["moderator"], group, poll, position(poll, Position.BLOCK),
                         reason="Breaks the law on public procurement")
    found = services.results(poll)
    assert found.outcome == "blocked"
    assert ("block", "Breaks the law on public procurement") in found.reasons


def test_anonymous_results_name_nobody(people, group):
    poll = start(people, group, anonymous=True)
    services.cast_ballot(people["member"], group, poll, {option(poll, "Alfa"): 1})
    assert services.results(poll).named == []
    named = start(people, group)
    services.cast_ballot(people["member"], group, named, {option(named, "Alfa"): 1})
    assert [n for n, _, _ in services.results(named).named] == [people["member"].name]


def test_ranked_dots_and_dates_count_from_the_stored_ballots(people, group):
    ranked = start(people, group, "ranked")
    a, b = option(ranked, "Alfa"), option(ranked, "Beta")
    services.cast_ballot(people["member"], group, ranked, {a: 1, b: 2})
    assert services.results(ranked).runoff.winners == (a,)
    dots = start(people, group, "dots", points=5)
    with pytest.raises(InvalidInput):
        services.cast_ballot(people["member"], group, dots, {option(dots, "Alfa"): 6})
    services.cast_ballot(people["member"], group, dots, {option(dots, "Alfa"): 2,
                                                          option(dots, "Gama"): 3})
    assert services.results(dots).tally.leaders == (option(dots, "Gama"),)
    dates = start(people, group, "date", options="2027-03-18 10:00\n2027-03-19")
    assert [o.code for o in dates.options] == ["2027-03-18T10:00", "2027-03-19"]
    services.cast_ballot(people["member"], group, dates, {dates.options[0].id: 2,
                                                           dates.options[1].id: 0})
    assert services.results(dates).dates.best == (dates.options[0].id,)


def test_closing_early_and_moving_the_closing_time_are_for_the_starter_and_moderators(
        people, group):
    poll = start(people, group)
    with pytest.raises(PermissionDenied):
        services.close_poll(people["observer"], group, poll)
    new_time = utcnow() + timedelta(days=5)
    services.move_closing_time(people["member"], group, poll, new_time)
    entry = db.session.scalar(db.select(AuditEntry).where(
        AuditEntry.action == "poll.move_closing"))
    assert entry.details["to"] == new_time.isoformat()
    services.close_poll(people["moderator"], group, poll)
    assert not services.is_open(poll)
    with pytest.raises(InvalidInput):
        services.close_poll(people["moderator"], group, poll)
    with pytest.raises(InvalidInput):
        services.move_closing_time(people["moderator"], group, poll, new_time)
    assert db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "poll.close"))


def test_waiting_for_my_vote(people, group):
    mine = start(people, group, question="Per person")
    ours = start(people, group, question="Per organisation", per_organisation=True)
    start(people, group, question="Closed soon", hours=1)
    waiting = services.waiting_for_vote(people["member"])
    assert [p.question for p in waiting] == ["Closed soon", "Per person", "Per organisation"]
    services.cast_ballot(people["member"], group, mine, {option(mine, "Alfa"): 1})
    services.cast_ballot(people["moderator"], group, ours, {option(ours, "Alfa"): 1})
    assert [p.question for p in services.waiting_for_vote(people["member"])] == ["Closed soon"]
    assert services.waiting_for_vote(people["observer"]) == []
    assert services.waiting_for_vote(people["outsider"]) == []


def test_a_reminder_goes_once_a_day_before_closing_to_who_has_not_voted(people, group):
    poll = start(people, group, hours=20)
    db.session.execute(db.update(Poll).values(created_at=utcnow() - timedelta(hours=3)))
    db.session.commit()
    services.cast_ballot(people["member"], group, poll, {option(poll, "Alfa"): 1})
    assert services.send_due_reminders() == 1  # the moderator (the inactive member is not)
    assert services.send_due_reminders() == 0
    notice = db.session.scalar(db.select(Notification).where(
        Notification.kind == services.REMINDER_KIND))
    assert notice.user_id == people["moderator"].id and notice.text == str(poll.id)


def test_merging_threads_takes_the_polls_along(people, group):
    from forum.discussions import curation

    source = factories.make_thread(people["member"], group, "Źródło")
    target = factories.make_thread(people["member"], group, "Cel")
    poll = start(people, group, thread=source)
    assert db.session.get(Thread, source.id).poll_count == 1
    curation.merge_threads(people["moderator"], source, target)
    db.session.expire_all()
    assert db.session.get(Poll, poll.id).thread_id == target.id
    assert (source.poll_count, target.poll_count) == (0, 1)
    assert services.thread_cards(people["member"], group, target)[0].poll == poll


def test_no_ballot_rows_for_a_refused_vote(people, group):
    poll = start(people, group, "multiple", max_choices=1)
    with pytest.raises(InvalidInput):
        services.cast_ballot(people["member"], group, poll,
                             {option(poll, "Alfa"): 1, option(poll, "Beta"): 1})
    assert db.session.scalar(db.select(db.func.count()).select_from(Ballot)) == 0
