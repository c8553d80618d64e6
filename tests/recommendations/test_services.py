"""The recommendations register: where one comes from, the status steps, who may, the
programme's register and the exports."""

import csv
import io
from datetime import timedelta

import docx
import pytest

from forum.audit.models import AuditEntry
from forum.discussions import curation
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.polls import services as polls
from forum.polls.models import Position
from forum.recommendations import services
from forum.recommendations.services import RecommendationInput
from forum.workshops.services import group_today
from tests import factories
from tests.polls.helpers import position, start


def _agreed_proposal(people, group, **fields):
    poll = start(people, group, "consent", options="", question="Dodać studium przypadku",
                 **fields)
    polls.cast_ballot(people["member"], group, poll, position(poll, Position.AGREE))
    polls.close_poll(people["moderator"], group, poll)
    return poll


def _by_hand(people, group, title="Szkolenia online", **fields):
    return services.create(people["moderator"], group, RecommendationInput(
        title=title, text="Więcej szkoleń online.", on=group_today(group), **fields))


def test_an_agreed_proposal_becomes_an_agreed_recommendation(people, group):
    thread = factories.make_thread(people["member"], group)
    poll = _agreed_proposal(people, group, thread=thread)
    draft = services.draft_from_poll(people["moderator"], group, poll)
    assert draft.title == "Dodać studium przypadku" and "1 agree" in draft.note
    draft.on = group_today(group)
    recommendation = services.create(people["moderator"], group, draft, poll=poll)
    assert recommendation.status == "agreed" and recommendation.thread_id == thread.id
    assert [s.status for s in recommendation.steps] == ["agreed"]
    assert db.session.scalar(db.select(AuditEntry).where(
        AuditEntry.action == "recommendation.create")).subject_id == recommendation.id


def test_an_open_or_blocked_proposal_does_not(people, group):
    open_poll = start(people, group, "consent", options="")
    with pytest.raises(InvalidInput):
        services.draft_from_poll(people["moderator"], group, open_poll)
    blocked = start(people, group, "consent", options="")
    polls.cast_ballot(people["member"], group, blocked, position(blocked, Position.BLOCK))
    polls.close_poll(people["moderator"], group, blocked)
    with pytest.raises(InvalidInput):
        services.create(people["moderator"], group, RecommendationInput(
            title="X", on=group_today(group)), poll=blocked)


def test_a_thread_conclusion_becomes_a_proposed_recommendation(people, group):
    thread = factories.make_thread(people["member"], group)
    with pytest.raises(InvalidInput):
        services.draft_from_thread(people["moderator"], group, thread)
    post = factories.make_post(people["member"], thread, "Wniosek: wspólne zakupy.")
    curation.set_conclusion(people["moderator"], thread, post)
    draft = services.draft_from_thread(people["moderator"], group, thread)
    assert draft.text == "Wniosek: wspólne zakupy."
    draft.on = group_today(group)
    assert services.create(people["moderator"], group, draft,
                           thread=thread).status == "proposed"


def test_status_moves_step_by_step_with_dated_notes_and_is_audited(people, group):
    recommendation = _by_hand(people, group)
    today = group_today(group)
    with pytest.raises(InvalidInput) as error:  # no skipping "agreed"
        services.change_status(people["moderator"], group, recommendation, "sent", on=today,
                               note="")
    assert "status" in error.value.errors
    services.change_status(people["moderator"], group, recommendation, "agreed", on=today,
                           note="Przyjęte na sesji 3")
    services.change_status(people["moderator"], group, recommendation, "sent", on=today,
                           note="Wysłane mailem do dyrektora")
    with pytest.raises(InvalidInput) as error:
        services.change_status(people["moderator"], group, recommendation, "adopted",
                               on=today + timedelta(days=1), note="")
    assert "on" in error.value.errors
    services.change_status(people["moderator"], group, recommendation, "adopted", on=today,
                           note="W programie 2027")
    assert [(s.status, s.note) for s in recommendation.steps][1:] == [
        ("agreed", "Przyjęte na sesji 3"), ("sent", "Wysłane mailem do dyrektora"),
        ("adopted", "W programie 2027")]
    with pytest.raises(InvalidInput):  # adopted is final
        services.change_status(people["moderator"], group, recommendation, "not_adopted",
                               on=today, note="")
    entries = db.session.scalars(db.select(AuditEntry).where(
        AuditEntry.action == "recommendation.status").order_by(AuditEntry.id)).all()
    assert [e.details["to"] for e in entries] == ["agreed", "sent", "adopted"]


def test_only_moderators_write_and_outsiders_see_nothing(people, group):
    with pytest.raises(PermissionDenied):
        services.create(people["member"], group, RecommendationInput(
            title="X", on=group_today(group)))
    recommendation = _by_hand(people, group)
    with pytest.raises(PermissionDenied):
        services.change_status(people["member"], group, recommendation, "agreed",
                               on=group_today(group), note="")
    with pytest.raises(NotFound):
        services.get_recommendation_for(people["outsider"], group, recommendation.id)
    assert services.list_recommendations(people["outsider"]) == []
    assert services.list_recommendations(people["observer"]) == [recommendation]
    assert services.list_recommendations(people["admin"]) == [recommendation]


def test_bad_input_names_the_field(people, group):
    with pytest.raises(InvalidInput) as error:
        services.create(people["moderator"], group, RecommendationInput(
            title="", on=None, session=9, material_id=999))
    assert set(error.value.errors) == {"title", "on", "session", "material_id"}


def test_filters_and_exports(people, group):
    first = _by_hand(people, group, "Pierwsza")
    _by_hand(people, group, "=Druga")
    services.change_status(people["moderator"], group, first, "agreed",
                           on=group_today(group), note="OK")
    agreed = services.list_recommendations(people["member"], group,
                                           services.Filters(status="agreed"))
    assert [r.title for r in agreed] == ["Pierwsza"]
    everything = services.list_recommendations(people["member"], None)
    rows = list(csv.reader(io.StringIO("".join(services.csv_lines(everything)))))
    assert rows[0][:4] == ["Number", "Group", "Title", "Status"]
    assert {r[2] for r in rows[1:]} == {"Pierwsza", "'=Druga"}  # no formula injection
    assert "Agreed: OK" in next(r for r in rows if r[2] == "Pierwsza")[6]
    document = docx.Document(io.BytesIO(services.docx_document(everything, "Rejestr")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Pierwsza" in text and "Rejestr" in text


def test_the_register_is_searched_by_words_without_accents(people, group):
    _by_hand(people, group, "Szkolenia dla dyrektorów szkół")
    _by_hand(people, group, "Wspólne zakupy")
    found = services.list_recommendations(people["member"], None,
                                          services.Filters(query="SZKOL dyrektorow"))
    assert [r.title for r in found] == ["Szkolenia dla dyrektorów szkół"]
    assert services.list_recommendations(people["outsider"], None,
                                         services.Filters(query="zakupy")) == []
