"""Counting methods: pure functions over stored ballots (ties and exhausted ballots
included); the same ballots in any order give the same result."""

import itertools

import pytest

from forum.polls import counting
from forum.polls.counting import MAYBE, NO, YES, BallotError

A, B, C, D = 1, 2, 3, 4


def ranked(*order):
    return {option: rank for rank, option in enumerate(order, start=1)}


def test_tally_counts_choices_and_points_and_names_every_leader_on_a_tie():
    result = counting.tally([A, B, C], [{A: 1}, {B: 1}, {A: 1, B: 1}])
    assert result.totals == {A: 2, B: 2, C: 0} and result.leaders == (A, B)
    dots = counting.tally([A, B, C], [{A: 7, C: 3}, {C: 10}])
    assert dots.totals == {A: 7, B: 0, C: 13} and dots.leaders == (C,)
    assert counting.tally([A, B], []).leaders == ()


def test_a_first_round_majority_wins_at_once():
    result = counting.instant_runoff([A, B, C], [ranked(A, B), ranked(A), ranked(B, A)])
    assert result.winners == (A,) and len(result.rounds) == 1
    assert result.rounds[0].counts == {A: 2, B: 1, C: 0}


def test_the_last_option_leaves_and_its_ballots_move_on():
    ballots = [ranked(A, B)] * 4 + [ranked(B, A)] * 3 + [ranked(C, B)] * 2
    result = counting.instant_runoff([A, B, C], ballots)
    assert [r.counts for r in result.rounds] == [{A: 4, B: 3, C: 2}, {A: 4, B: 5}]
    assert result.rounds[0].eliminated == (C,)
    assert result.winners == (B,)


def test_exhausted_ballots_no_longer_count_towards_the_majority():
    # C's voters rank nobody else: after C leaves, 4 of 7 counting ballots make a majority.
    ballots = [ranked(A)] * 4 + [ranked(B)] * 3 + [ranked(C)] * 2
    result = counting.instant_runoff([A, B, C], ballots)
    assert result.rounds[1].exhausted == 2
    assert result.winners == (A,)
    assert result.rounds[-1].winners == (A,)


def test_a_tie_for_last_is_broken_by_the_earlier_round():
    # Round 1: A 4, B 3, C 3, D 1 → D leaves (its ballot goes to C). Round 2: A 4, B 3, C 4 →
    # B is last alone. A tie at the bottom in round 2 would look back at round 1.
    ballots = ([ranked(A, B)] * 4 + [ranked(B, A)] * 3 + [ranked(C, B)] * 3
               + [ranked(D, C)])
    result = counting.instant_runoff([A, B, C, D], ballots)
    assert result.rounds[0].eliminated == (D,)
    assert result.rounds[1].counts == {A: 4, B: 3, C: 4}
    assert result.rounds[1].eliminated == (B,)
    assert result.winners == (A,)


def test_options_tied_for_last_in_every_round_leave_together():
    ballots = [ranked(A)] * 2 + [ranked(B, A)] + [ranked(C, A)]
    result = counting.instant_runoff([A, B, C], ballots)
    assert result.rounds[0].eliminated == (B, C)
    assert result.winners == (A,)


def test_an_unbreakable_tie_names_every_remaining_option():
    result = counting.instant_runoff([A, B], [ranked(A, B), ranked(B, A)])
    assert result.winners == (A, B)
    assert counting.instant_runoff([A, B], []).winners == ()


def test_the_result_does_not_depend_on_the_order_of_the_ballots():
    ballots = ([ranked(A, B, C)] * 3 + [ranked(B, C)] * 2 + [ranked(C, B)] * 2
               + [ranked(D, A)])
    results = {counting.instant_runoff([A, B, C, D], list(order)).winners
               for order in itertools.islice(itertools.permutations(ballots), 0, 5000, 97)}
    assert len(results) == 1


def test_dates_rank_by_yes_then_if_need_be():
    result = counting.date_tally([A, B, C], [{A: YES, B: YES, C: NO}, {A: MAYBE, B: YES, C: NO},
                                             {A: YES, B: MAYBE, C: YES}])
    assert result.yes == {A: 2, B: 2, C: 1} and result.maybe == {A: 1, B: 1, C: 0}
    assert result.best == (A, B)


@pytest.mark.parametrize("check, ballot, code", [
    (lambda b: counting.check_single([A, B], b), {}, "choose_one"),
    (lambda b: counting.check_single([A, B], b), {A: 1, B: 1}, "choose_one"),
    (lambda b: counting.check_single([A, B], b), {C: 1}, "choose_one"),
    (lambda b: counting.check_multiple([A, B, C], b, 2), {A: 1, B: 1, C: 1}, "too_many"),
    (lambda b: counting.check_ranked([A, B, C], b), {A: 1, B: 1}, "rank_order"),
    (lambda b: counting.check_ranked([A, B, C], b), {A: 1, B: 3}, "rank_order"),
    (lambda b: counting.check_ranked([A, B, C], b), {A: 2}, "rank_order"),
    (lambda b: counting.check_ranked([A, B, C], b), {D: 1}, "rank_some"),
    (lambda b: counting.check_dots([A, B], b, 10), {A: 8, B: 3}, "dots_too_many"),
    (lambda b: counting.check_dots([A, B], b, 10), {}, "dots_none"),
    (lambda b: counting.check_date([A, B], b), {A: YES}, "answer_every_date"),
    (lambda b: counting.check_date([A, B], b), {A: YES, B: 5}, "answer_every_date"),
])
def test_malformed_ballots_are_refused_with_a_reason(check, ballot, code):
    with pytest.raises(BallotError) as error:
        check(ballot)
    assert error.value.code == code


def test_well_formed_ballots_pass():
    counting.check_ranked([A, B, C], {B: 1, A: 2})
    counting.check_dots([A, B], {A: 4, B: 6}, 10)
    counting.check_multiple([A, B, C], {A: 1, C: 1}, 0)
    counting.check_date([A, B], {A: YES, B: NO})
