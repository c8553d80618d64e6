"""Counting a poll from its stored ballots: pure functions, no database, no clock.

Every result is reproducible: the same ballots (in any order) give the same result, ties
included. A ballot here is a mapping {option id: value}; what the value means depends on the
kind of poll:

- consent, single: the one chosen option, value 1;
- multiple: each chosen option, value 1;
- ranked: each ranked option, value = its rank (1 = first preference); unranked options are
  simply absent;
- dots: each option given points, value = the points;
- date: each option answered, value 2 = yes, 1 = if need be, 0 = no.

Ranked choice is counted by instant runoff: each round gives every ballot to its highest ranked
option still in the race; an option with more than half of the ballots still counting wins;
otherwise the option(s) with the fewest votes leave the race. Ties for the fewest are broken by
the earlier rounds (the one with fewer votes in the latest round where they differ leaves);
options tied in every round leave together, unless that would empty the race: then the
remaining options tie for the win. A ballot whose ranked options have all left is exhausted and
no longer counts towards the majority.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Ballot = Mapping[int, int]

YES, MAYBE, NO = 2, 1, 0


@dataclass(frozen=True)
class Tally:
    """Single, multiple, consent and dot votes: a total per option, the leaders."""

    totals: dict[int, int]
    ballots: int
    leaders: tuple[int, ...]  # the options with the highest total (several on a tie)


@dataclass(frozen=True)
class Round:
    counts: dict[int, int]  # option → ballots counting for it this round
    exhausted: int  # ballots with no continuing option left
    eliminated: tuple[int, ...] = ()  # options leaving after this round
    winners: tuple[int, ...] = ()  # set in the last round


@dataclass(frozen=True)
class Runoff:
    rounds: list[Round]
    ballots: int
    winners: tuple[int, ...]  # one, several on an unbreakable tie, none without ballots


@dataclass(frozen=True)
class DateTally:
    yes: dict[int, int]
    maybe: dict[int, int]
    no: dict[int, int]
    ballots: int
    best: tuple[int, ...] = field(default=())  # most "yes", then most "if need be"


def _leaders(totals: Mapping[int, int]) -> tuple[int, ...]:
    top = max(totals.values(), default=0)
    if top <= 0:
        return ()
    return tuple(sorted(option for option, total in totals.items() if total == top))


def tally(options: Sequence[int], ballots: Iterable[Ballot]) -> Tally:
    """Sum the values per option (a choice counts 1, a dot vote its points)."""
    totals = dict.fromkeys(options, 0)
    count = 0
    for ballot in ballots:
        count += 1
        for option, value in ballot.items():
            if option in totals and value > 0:
                totals[option] += value
    return Tally(totals=totals, ballots=count, leaders=_leaders(totals))


def date_tally(options: Sequence[int], ballots: Iterable[Ballot]) -> DateTally:
    yes, maybe, no = (dict.fromkeys(options, 0) for _ in range(3))
    count = 0
    for ballot in ballots:
        count += 1
        for option, value in ballot.items():
            if option in yes:
                {YES: yes, MAYBE: maybe}.get(value, no)[option] += 1
    if count:
        top = max((yes[o], maybe[o]) for o in options) if options else (0, 0)
        best = tuple(sorted(o for o in options if (yes[o], maybe[o]) == top and top != (0, 0)))
    else:
        best = ()
    return DateTally(yes=yes, maybe=maybe, no=no, ballots=count, best=best)


def preference_order(ballot: Ballot) -> list[int]:
    """The ranked options of a ballot, first preference first."""
    return [option for option, _rank in sorted(ballot.items(), key=lambda item: item[1])]


def instant_runoff(options: Sequence[int], ballots: Iterable[Ballot]) -> Runoff:
    orders = [preference_order(b) for b in ballots]
    continuing = set(options)
    rounds: list[Round] = []
    while True:
        counts = dict.fromkeys(sorted(continuing), 0)
        exhausted = 0
        for order in orders:
            top = next((option for option in order if option in continuing), None)
            if top is None:
                exhausted += 1
            else:
                counts[top] += 1
        active = len(orders) - exhausted
        if active == 0:
            rounds.append(Round(counts=counts, exhausted=exhausted))
            return Runoff(rounds=rounds, ballots=len(orders), winners=())
        majority = [option for option, n in counts.items() if 2 * n > active]
        if majority:
            rounds.append(Round(counts=counts, exhausted=exhausted, winners=(majority[0],)))
            return Runoff(rounds=rounds, ballots=len(orders), winners=(majority[0],))
        losers = _fewest(counts, rounds)
        if len(losers) == len(continuing):  # everybody left tied in every round
            winners = tuple(sorted(continuing))
            rounds.append(Round(counts=counts, exhausted=exhausted, winners=winners))
            return Runoff(rounds=rounds, ballots=len(orders), winners=winners)
        rounds.append(Round(counts=counts, exhausted=exhausted, eliminated=tuple(sorted(losers))))
        continuing -= losers  # one left standing shows its majority in the next round


def _fewest(counts: Mapping[int, int], earlier: Sequence[Round]) -> set[int]:
    low = min(counts.values())
    tied = {option for option, n in counts.items() if n == low}
    for previous in reversed(earlier):  # the latest earlier round where they differ decides
        if len(tied) == 1:
            break
        low = min(previous.counts.get(option, 0) for option in tied)
        tied = {option for option in tied if previous.counts.get(option, 0) == low}
    return tied


# --- checking a ballot before it is stored --------------------------------------------------


class BallotError(ValueError):
    """A malformed ballot; `code` names what is wrong (the service words it)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def check_single(options: Sequence[int], ballot: Ballot) -> None:
    if len(ballot) != 1 or not set(ballot) <= set(options):
        raise BallotError("choose_one")


def check_multiple(options: Sequence[int], ballot: Ballot, max_choices: int) -> None:
    if not ballot or not set(ballot) <= set(options):
        raise BallotError("choose_some")
    if max_choices and len(ballot) > max_choices:
        raise BallotError("too_many")


def check_ranked(options: Sequence[int], ballot: Ballot) -> None:
    """Ranks 1..n without gaps or repeats, over known options (n ≥ 1; ranking only some
    options is allowed)."""
    if not ballot or not set(ballot) <= set(options):
        raise BallotError("rank_some")
    if sorted(ballot.values()) != list(range(1, len(ballot) + 1)):
        raise BallotError("rank_order")


def check_dots(options: Sequence[int], ballot: Ballot, points: int) -> None:
    if not set(ballot) <= set(options) or any(v < 0 for v in ballot.values()):
        raise BallotError("dots_invalid")
    spent = sum(ballot.values())
    if spent == 0:
        raise BallotError("dots_none")
    if spent > points:
        raise BallotError("dots_too_many")


def check_date(options: Sequence[int], ballot: Ballot) -> None:
    if set(ballot) != set(options) or any(v not in (YES, MAYBE, NO) for v in ballot.values()):
        raise BallotError("answer_every_date")
