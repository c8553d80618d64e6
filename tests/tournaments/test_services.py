"""The good-practice tournament: rounds of programme-wide polls over published practices,
one vote per organisation, the ranking and its export."""

import csv
import io
from datetime import timedelta

import pytest

from forum.audit.models import AuditEntry
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.polls import services as polls
from forum.timeutil import utcnow
from forum.tournaments import services
from tests import factories
from tests.library.helpers import published


@pytest.fixture
def practices(people, group):
    return [published(people, group, title) for title in ("Dowozy", "Klub", "Budżet")]


def _open(people, kind="ranked", **fields):
    return services.open_tournament(people["admin"], title="Turniej 2027", description="",
                                    kind=kind, points=10,
                                    closes_at=utcnow() + timedelta(days=3), **fields)


def _option(tournament, title):
    poll = services.current_round(tournament).poll
    return next(o.id for o in poll.options if o.label.startswith(title))


def test_an_administrator_opens_round_one_over_the_published_practices(people, practices):
    with pytest.raises(PermissionDenied):
        _open({"admin": people["moderator"]})
    tournament = _open(people)
    poll = services.current_round(tournament).poll
    assert poll.group_id is None and poll.per_organisation and poll.kind == "ranked"
    assert {services.practice_id(o) for o in poll.options} == {m.id for m in practices}
    assert db.session.scalar(db.select(AuditEntry).where(
        AuditEntry.action == "tournament.open")).subject_id == tournament.id


def test_one_vote_per_organisation_from_any_group_and_outsiders_see_nothing(people, group,
                                                                            practices):
    tournament = _open(people)
    member, outsider = people["member"], people["outsider"]  # outsider: another group
    organisation = factories.make_organisation(name="Powiat Zamojski")
    outsider.organisation_id = organisation.id
    db.session.commit()
    services.vote(member, tournament, {_option(tournament, "Klub"): 1,
                                       _option(tournament, "Dowozy"): 2})
    services.vote(outsider, tournament, {_option(tournament, "Klub"): 1})
    with pytest.raises(InvalidInput):  # a colleague of the member's organisation, stale form
        services.vote(people["moderator"], tournament, {_option(tournament, "Budżet"): 1})
    with pytest.raises(PermissionDenied):  # observers read
        services.vote(people["observer"], tournament, {_option(tournament, "Budżet"): 1})
    stranger = factories.make_user(email="nobody@example.org", name="Nikt")
    with pytest.raises(NotFound):
        services.get_tournament_for(stranger, tournament.id)
    [first, *rest] = services.ranking(services.current_round(tournament).poll)
    assert first.label.startswith("Klub") and first.place == 1


def test_a_malformed_ballot_is_refused(people, practices):
    tournament = _open(people)
    with pytest.raises(InvalidInput):
        services.vote(people["member"], tournament, {_option(tournament, "Klub"): 1,
                                                     _option(tournament, "Budżet"): 1})


def test_dot_vote_ranking_shares_places_on_a_tie(people, practices):
    tournament = _open(people, kind="dots")
    services.vote(people["member"], tournament, {_option(tournament, "Klub"): 5,
                                                 _option(tournament, "Budżet"): 5})
    standings = services.ranking(services.current_round(tournament).poll)
    assert [(s.place, s.score) for s in standings] == [(1, "5"), (1, "5"), (3, "0")]


def test_next_round_keeps_the_best_and_finishing_closes_it(people, practices):
    tournament = _open(people)
    services.vote(people["member"], tournament, {_option(tournament, "Klub"): 1,
                                                 _option(tournament, "Budżet"): 2})
    with pytest.raises(InvalidInput):
        services.next_round(people["admin"], tournament, keep=3,
                            closes_at=utcnow() + timedelta(days=2))
    following = services.next_round(people["admin"], tournament, keep=2,
                                    closes_at=utcnow() + timedelta(days=2))
    first_poll = tournament.rounds[0].poll
    assert not polls.is_open(first_poll)
    assert following.number == 2 and len(following.poll.options) == 2
    assert {o.label.split(" (")[0] for o in following.poll.options} == {"Klub", "Budżet"}
    services.finish(people["admin"], tournament)
    assert tournament.status == "finished" and not polls.is_open(following.poll)
    with pytest.raises(InvalidInput):
        services.vote(people["member"], tournament, {_option(tournament, "Klub"): 1})
    rows = list(csv.reader(io.StringIO("".join(services.csv_lines(tournament)))))
    assert rows[0] == ["Round", "Place", "Practice", "Score", "Ballots"]
    assert len(rows) == 1 + 3 + 2
    actions = [e.action for e in db.session.scalars(db.select(AuditEntry))]
    assert "tournament.round" in actions and "tournament.finish" in actions


def test_a_tournament_needs_two_published_practices(people, group):
    published(people, group, "Jedyna")
    with pytest.raises(InvalidInput) as error:
        _open(people)
    assert "material_ids" in error.value.errors


def test_a_round_waits_for_the_vote_of_every_organisation_of_the_programme(people, practices):
    tournament = _open(people)
    poll = services.current_round(tournament).poll
    assert poll in polls.waiting_for_vote(people["member"])
    assert poll not in polls.waiting_for_vote(people["observer"])
    services.vote(people["moderator"], tournament, {_option(tournament, "Klub"): 1})
    assert poll not in polls.waiting_for_vote(people["member"])  # the same organisation
    db.session.execute(db.update(polls.Poll).where(polls.Poll.id == poll.id).values(
        closes_at=utcnow() + timedelta(hours=12), created_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    assert polls.send_due_reminders() == 0  # every organisation with members has voted
