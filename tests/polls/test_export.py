"""A person's polls and votes are part of their personal data export; a colleague's vote
that replaced theirs is the colleague's."""

from forum.polls import services
from tests.polls.helpers import option, start
from tests.reviews.test_export import _export_json


def test_the_export_holds_the_polls_started_and_the_votes_cast(people, group):
    member, moderator = people["member"], people["moderator"]  # same organisation
    own = start(people, group, "ranked", question="Kolejność tematów", anonymous=True)
    services.cast_ballot(member, group, own, {option(own, "Beta"): 1, option(own, "Alfa"): 2},
                         reason="Beta najpilniejsza")
    ours = start(people, group, who="moderator", question="Wspólne stanowisko",
                 per_organisation=True)
    ballot = services.cast_ballot(member, group, ours, {option(ours, "Alfa"): 1})
    data = _export_json(member)
    assert [p["question"] for p in data["polls"]["started"]] == ["Kolejność tematów"]
    [vote, org_vote] = data["polls"]["ballots"]
    assert vote["poll"]["question"] == "Kolejność tematów" and vote["poll"]["anonymous"]
    assert vote["marks"] == [{"option": "Alfa", "value": 2}, {"option": "Beta", "value": 1}]
    assert vote["reason"] == "Beta najpilniejsza"
    assert org_vote["organisation"] == member.organisation.name
    assert "Wspólne stanowisko" in data["_index"] and "Beta najpilniejsza" in data["_index"]
    # The colleague changes the organisation's ballot: it is theirs from then on.
    services.cast_ballot(moderator, group, ours, {option(ours, "Beta"): 1},
                         seen_revision=ballot.revision)
    data = _export_json(member)
    assert [b["poll"]["question"] for b in data["polls"]["ballots"]] == ["Kolejność tematów"]
