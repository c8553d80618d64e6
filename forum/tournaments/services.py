"""Every rule of the good-practice tournament: a programme administrator opens it over the
practices published in the library; each round is a poll of the whole programme (one vote per
organisation, ranked or dot vote) counted by the poll engine; the next round takes the best of
the previous one; the ranking and its export. Opening, new rounds and the finish are audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from forum.audit.services import record_audit
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.policy import is_admin
from forum.library import services as library
from forum.polls import counting
from forum.polls import services as polls
from forum.polls.models import Poll, PollKind
from forum.polls.policy import can_view_poll
from forum.text import render_markdown
from forum.timeutil import utcnow
from forum.tournaments.models import Tournament, TournamentRound

KINDS = {PollKind.RANKED: polls.KINDS[PollKind.RANKED],
         PollKind.DOTS: polls.KINDS[PollKind.DOTS]}
MAX_PRACTICES = 30


def can_run(actor) -> bool:
    """Open a tournament, start rounds, finish it: programme administrators."""
    return is_admin(actor)


def list_tournaments(actor) -> list[Tournament]:
    if not can_view_poll(actor, None):
        return []
    return list(db.session.scalars(db.select(Tournament).order_by(Tournament.id.desc())))


def get_tournament_for(actor, tournament_id: int) -> Tournament:
    tournament = db.session.get(Tournament, tournament_id)
    if tournament is None or not can_view_poll(actor, None):
        raise NotFound()
    return tournament


def current_round(tournament: Tournament) -> TournamentRound | None:
    return tournament.rounds[-1] if tournament.rounds else None


def practice_id(option) -> int | None:
    kind, _, value = option.code.partition(":")
    return int(value) if kind == "practice" and value.isdigit() else None


def _poll_input(tournament: Tournament, number: int, practices, closes_at) -> polls.PollInput:
    return polls.PollInput(
        kind=tournament.kind, question=f"{tournament.title} — {number}",
        closes_at=closes_at, per_organisation=True, points=tournament.points or 10,
        preset_options=[(f"{m.title} ({m.group.name})", f"practice:{m.id}")
                        for m in practices])


def open_tournament(actor, *, title: str, description: str, kind: str, points: int,
                    closes_at: datetime | None, material_ids: list[int] | None = None,
                    now: datetime | None = None) -> Tournament:
    """Round 1 over the chosen published practices (all of them by default)."""
    if not can_run(actor):
        raise PermissionDenied()
    errors: dict[str, str] = {}
    title = " ".join(title.split())
    if not title:
        errors["title"] = _l("Give the tournament a title.")
    elif len(title) > 200:
        errors["title"] = _l("At most %(n)d characters.", n=200)
    if kind not in KINDS:
        errors["kind"] = _l("Choose a ranked or a dot vote.")
    entries = [e.material for e in library.library(actor, limit=500)]
    if material_ids:
        entries = [m for m in entries if m.id in set(material_ids)]
    if len(entries) < 2:
        errors["material_ids"] = _l("A tournament needs at least two published practices.")
    elif len(entries) > MAX_PRACTICES:
        errors["material_ids"] = _l("At most %(n)d practices in a round.", n=MAX_PRACTICES)
    if errors:
        raise InvalidInput(errors)
    tournament = Tournament(title=title, description=description.strip(),
                            description_html=render_markdown(description.strip()), kind=kind,
                            points=points if kind == PollKind.DOTS else 0,
                            created_by_id=actor.id)
    db.session.add(tournament)
    db.session.flush()
    # start_poll commits: the tournament and its first poll are stored together, the round
    # row that links them right after.
    poll = polls.start_poll(actor, None, _poll_input(tournament, 1, entries, closes_at),
                            now=now)
    db.session.add(TournamentRound(tournament_id=tournament.id, number=1, poll_id=poll.id))
    record_audit(actor, "tournament.open", target=title, subject=tournament,
                 details={"practices": len(entries), "kind": kind})
    db.session.commit()
    return tournament


@dataclass(frozen=True)
class Standing:
    place: int
    option_id: int
    label: str
    practice_id: int | None
    score: str  # points, or the round in which it left / "winner"


def ranking(poll: Poll) -> list[Standing]:
    """The practices of a round, best first, from the poll's stored ballots. Dot vote: by
    points. Ranked: instant runoff again and again — its winner takes the first place, then
    the count is run again without it for the second place, and so on (sequential instant
    runoff); an unbreakable tie shares a place, and what no ballot ranks comes last."""
    options = {o.id: o for o in poll.options}
    places: list[tuple[list[int], str]] = []  # (options sharing a place, score)
    if poll.kind == PollKind.RANKED:
        marks = [b.as_mapping() for b in polls.ballots_of(poll)]
        remaining = [o.id for o in poll.options]
        count = 1
        while remaining:
            result = counting.instant_runoff(remaining, marks)
            if not result.winners:  # no ballot ranks any of the rest
                places.append((remaining, "—"))
                break
            places.append((list(result.winners), str(_l("count %(n)d", n=count))))
            remaining = [o for o in remaining if o not in result.winners]
            count += 1
    else:
        totals = polls.results(poll).tally.totals
        for total in sorted(set(totals.values()), reverse=True):
            places.append(([o for o, t in totals.items() if t == total], str(total)))
    standings: list[Standing] = []
    for tied, score in places:
        place = len(standings) + 1
        for option_id in sorted(tied, key=lambda o: options[o].position):
            option = options[option_id]
            standings.append(Standing(place, option_id, polls.option_label(option),
                                      practice_id(option), score))
    return standings


def next_round(actor, tournament: Tournament, *, keep: int, closes_at: datetime | None,
               now: datetime | None = None) -> TournamentRound:
    """Close the current round (if still open) and open the next over its best `keep`
    practices (those sharing the last place kept are all in)."""
    if not can_run(actor):
        raise PermissionDenied()
    if tournament.status != "open":
        raise InvalidInput({"": _l("This tournament is finished.")})
    current = current_round(tournament)
    standings = ranking(current.poll)
    if not 2 <= keep < len(standings):
        raise InvalidInput({"keep": _l("Keep between 2 and %(n)d practices.",
                                       n=len(standings) - 1)})
    cutoff = standings[keep - 1].place
    kept_ids = [s.practice_id for s in standings if s.place <= cutoff and s.practice_id]
    by_id = {e.material.id: e.material for e in library.library(actor, limit=500)}
    practices = [by_id[i] for i in kept_ids if i in by_id]
    if len(practices) < 2:
        raise InvalidInput({"keep": _l("Fewer than two of these practices are still "
                                       "published.")})
    if polls.is_open(current.poll, now):
        polls.close_poll(actor, None, current.poll, now=now)
    poll = polls.start_poll(actor, None, _poll_input(tournament, current.number + 1,
                                                     practices, closes_at), now=now)
    following = TournamentRound(tournament_id=tournament.id, number=current.number + 1,
                                poll_id=poll.id)
    db.session.add(following)
    record_audit(actor, "tournament.round", target=tournament.title, subject=tournament,
                 details={"round": following.number, "practices": len(practices)})
    db.session.commit()
    return following


def finish(actor, tournament: Tournament, now: datetime | None = None) -> None:
    if not can_run(actor):
        raise PermissionDenied()
    if tournament.status != "open":
        raise InvalidInput({"": _l("This tournament is finished.")})
    current = current_round(tournament)
    if current is not None and polls.is_open(current.poll, now):
        polls.close_poll(actor, None, current.poll, now=now)
    tournament.status, tournament.finished_at = "finished", utcnow()
    record_audit(actor, "tournament.finish", target=tournament.title, subject=tournament)
    db.session.commit()


def vote(actor, tournament: Tournament, marks: dict[int, int], *, reason: str = "",
         seen_revision: int = 0):
    current = current_round(tournament)
    if current is None or tournament.status != "open":
        raise InvalidInput({"ballot": _l("This tournament is finished.")})
    return polls.cast_ballot(actor, None, current.poll, marks, reason=reason,
                             seen_revision=seen_revision)


def csv_lines(tournament: Tournament) -> Iterator[str]:
    """Every round's ranking: round, place, practice, score, ballots."""
    out = io.StringIO()
    writer = csv.writer(out)

    def line(row) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(["'" + str(v) if str(v)[:1] in ("=", "+", "-", "@") else v
                         for v in row])
        return out.getvalue()

    yield line([_l("Round"), _l("Place"), _l("Practice"), _l("Score"), _l("Ballots")])
    for rnd in tournament.rounds:
        for standing in ranking(rnd.poll):
            yield line([rnd.number, standing.place, standing.label, standing.score,
                        rnd.poll.ballot_count])


def tournament_links(ids: set[int]) -> dict[int, tuple[str, dict]]:
    return {tid: ("tournaments.detail", {"tournament_id": tid}) for tid in ids}
