"""The good-practice library: visibility across groups, proposing and publishing, the
library's filters, "we adopted this" and writing to the contact person."""

import pytest

from forum.audit.models import AuditEntry
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.library import services
from forum.library.models import ListingStatus
from forum.notifications.models import Notification
from tests import factories
from tests.library.helpers import make_practice, published


def test_a_draft_stays_in_its_group(people, group):
    material = make_practice(people, group)
    assert services.get_practice_for(people["observer"], material.id) == material
    with pytest.raises(NotFound):
        services.get_practice_for(people["outsider"], material.id)
    assert services.library(people["member"]) == []


def test_proposing_needs_a_theme_and_a_contact_from_the_group(people, group):
    material = make_practice(people, group)
    with pytest.raises(InvalidInput) as error:
        services.propose(people["member"], material, services.ListingInput(
            themes="", lg_types=["planet"], contact_user_id=people["outsider"].id))
    assert set(error.value.errors) == {"themes", "lg_types", "contact_user_id"}
    with pytest.raises(PermissionDenied):
        services.propose(people["observer"], material, services.ListingInput(
            themes="x", contact_user_id=people["member"].id))
    with pytest.raises(NotFound):
        services.propose(people["outsider"], material, services.ListingInput())


def test_published_practices_are_read_by_every_group_and_nothing_else_leaks(people, group):
    material = published(people, group)
    outsider = people["outsider"]
    assert services.get_practice_for(outsider, material.id) == material
    assert [e.material for e in services.library(outsider)] == [material]
    assert not services.can_propose(outsider, material)
    with pytest.raises(NotFound):
        services.publish(outsider, material)
    stranger = factories.make_user(email="nobody@example.org", name="Nikt")
    with pytest.raises(NotFound):  # in no group of the programme
        services.get_practice_for(stranger, material.id)
    actions = [e.action for e in db.session.scalars(db.select(AuditEntry))]
    assert "practice.propose" in actions and "practice.publish" in actions


def test_only_moderators_publish_and_a_note_goes_with_sending_back(people, group):
    material = make_practice(people, group)
    services.propose(people["member"], material, services.ListingInput(
        themes="transport", contact_user_id=people["member"].id))
    with pytest.raises(PermissionDenied):
        services.publish(people["member"], material)
    with pytest.raises(InvalidInput):
        services.send_back(people["moderator"], material, "  ")
    services.send_back(people["moderator"], material, "Dodajcie koszty")
    listing = services.listing_of(material)
    assert listing.status == ListingStatus.DRAFT and listing.review_note == "Dodajcie koszty"
    with pytest.raises(InvalidInput):
        services.publish(people["moderator"], material)


def test_the_library_filters_by_tags_group_and_words(people, group):
    first = published(people, group, "Dowóz uczniów", themes="transport, edukacja")
    second = published(people, group, "Budżet obywatelski", themes="partycypacja")
    everyone = people["outsider"]

    def titles(**filters):
        return [e.material.title for e in services.library(
            everyone, services.LibraryFilters(**filters))]

    assert titles(theme="Edukacja") == ["Dowóz uczniów"]
    assert titles(query="autobusy") == ["Budżet obywatelski", "Dowóz uczniów"]
    assert titles(query="budzet") == ["Budżet obywatelski"]
    assert titles(lg_type="rural_commune", region="lubelskie") == [
        "Budżet obywatelski", "Dowóz uczniów"]
    assert titles(group="powiaty-testowe") == []
    assert services.tag_values("theme") == ["edukacja", "partycypacja", "transport"]
    assert first.id != second.id


def test_we_adopted_this_once_per_organisation(people, group):
    material = published(people, group)
    outsider = people["outsider"]
    with pytest.raises(PermissionDenied):  # no organisation
        services.record_adoption(outsider, material, "")
    organisation = factories.make_organisation(name="Gmina Wola")
    outsider.organisation_id = organisation.id
    db.session.commit()
    services.record_adoption(outsider, material, "Od września")
    services.record_adoption(outsider, material, "Od września, 3 trasy")
    [adoption] = services.adoptions_of(material)
    assert adoption.note == "Od września, 3 trasy"
    services.withdraw_adoption(outsider, material)
    assert services.adoptions_of(material) == []


def test_writing_to_the_contact_person_through_the_forum(people, group):
    material = published(people, group)
    outsider, member = people["outsider"], people["member"]
    assert not services.can_contact(member, material)  # the contact person themselves
    conversation = services.contact(outsider, material, "Jak liczycie koszty?")
    assert conversation.contact_id == member.id
    notice = db.session.scalar(db.select(Notification).where(
        Notification.kind == services.CONTACT_KIND))
    assert notice.user_id == member.id and notice.text == str(conversation.id)
    services.reply(member, conversation, "Zapraszamy do rozmowy.")
    assert [m.body for m in conversation.messages] == ["Jak liczycie koszty?",
                                                       "Zapraszamy do rozmowy."]
    with pytest.raises(NotFound):
        services.get_conversation_for(people["moderator"], conversation.id)
    with pytest.raises(InvalidInput):
        services.contact(outsider, material, "   ")


def test_proposing_again_with_the_same_tags_keeps_them(people, group):
    material = make_practice(people, group)
    data = services.ListingInput(themes="transport, edukacja", regions="lubelskie",
                                 contact_user_id=people["member"].id)
    services.propose(people["member"], material, data)
    services.propose(people["member"], material, services.ListingInput(
        themes="Transport, szkoły", regions="lubelskie", contact_user_id=people["member"].id))
    assert sorted(t.value for t in services.listing_of(material).tags) == [
        "Transport", "lubelskie", "szkoły"]


def test_the_digest_of_another_group_lists_newly_published_practices(people, group):
    from datetime import timedelta

    from forum.mailings import digest
    from forum.workshops.models import Workshop
    from forum.workshops.services import group_today

    other = people["g2"]
    today = group_today(other)
    db.session.add(Workshop(group_id=other.id, number=1, theme="Transport",
                            day1=today - timedelta(days=10), day2=today - timedelta(days=9)))
    db.session.commit()
    material = published(people, group)
    since = digest.build_since(people["outsider"], other, 1)
    assert since.new_practices == [material] and not since.empty


def test_search_everywhere_finds_published_practices_of_other_groups(people, group):
    from forum.search import services as search

    draft = make_practice(people, group, "Klub rodzica")
    material = published(people, group, "Nocne autobusy")
    outsider = people["outsider"]
    found = search.search(outsider, "autobusy")
    assert [(h.kind, h.id) for h in found.hits] == [("practice", material.id)]
    assert search.search(outsider, "rodzica").hits == []  # the draft stays in its group
    assert {h.id for h in search.search(people["member"], "rodzica").hits} == {draft.id}
    assert search.search(outsider, "autobusy", group=people["g2"]).hits == []


def test_the_data_export_holds_messages_and_adoptions(people, group):
    from tests.reviews.test_export import _export_json

    material = published(people, group)
    outsider = people["outsider"]
    services.contact(outsider, material, "Jak to działa?")
    organisation = factories.make_organisation(name="Gmina Wola")
    outsider.organisation_id = organisation.id
    db.session.commit()
    services.record_adoption(outsider, material, "Od września")
    data = _export_json(outsider)["library"]
    assert [m["body"] for m in data["messages"]] == ["Jak to działa?"]
    assert [a["note"] for a in data["adoptions_recorded"]] == ["Od września"]
