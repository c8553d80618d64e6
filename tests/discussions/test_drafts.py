"""Drafts kept on the server: a reply per person and thread, a new thread per person and group
(issue 14, item 3)."""

import pytest

from forum.discussions import services
from forum.discussions.models import Draft
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Membership, Role
from forum.groups.policy import forget_roles
from tests import factories


def _drafts() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Draft))


def test_a_reply_draft_is_saved_overwritten_and_discarded(people, group):
    member = people["member"]
    thread = factories.make_thread(people["moderator"], group)
    first = services.post_id_at(thread, 1)
    assert services.draft_for(member, group, thread) is None
    saved = services.save_draft(member, group, thread, body="Pierwsza myśl", reply_to_id=first)
    assert saved.body == "Pierwsza myśl" and saved.reply_to_id == first
    again = services.save_draft(member, group, thread, body="Druga myśl")
    draft = services.draft_for(member, group, thread)
    assert (draft.body, draft.reply_to_id) == ("Druga myśl", None)
    assert draft.saved_at >= saved.saved_at and draft.saved_at == again.saved_at
    assert _drafts() == 1  # saving again replaces the draft
    services.discard_draft(member, group, thread)
    assert services.draft_for(member, group, thread) is None and _drafts() == 0


def test_saving_nothing_removes_the_draft(people, group):
    member = people["member"]
    thread = factories.make_thread(people["moderator"], group)
    services.save_draft(member, group, thread, body="Coś")
    assert services.save_draft(member, group, thread, body="  \n ") is None
    assert services.draft_for(member, group, thread) is None


def test_a_new_thread_draft_keeps_title_session_and_materials(people, group):
    member = people["member"]
    thread = factories.make_thread(member, group)
    services.save_draft(member, group, body="Treść", title="Tytuł", workshop_number=2,
                        material_ids=["7", 3, 7])
    draft = services.draft_for(member, group)
    assert (draft.title, draft.body, draft.workshop_number, draft.material_ids) == (
        "Tytuł", "Treść", 2, (7, 3))
    # A title alone is something written, too.
    services.save_draft(member, group, body="", title="Sam tytuł")
    assert services.draft_for(member, group).title == "Sam tytuł"
    # The new-thread draft and a reply draft of the same group are different drafts.
    services.save_draft(member, group, thread, body="Odpowiedź")
    assert services.draft_for(member, group).body == ""
    assert services.draft_for(member, group, thread).body == "Odpowiedź"
    assert _drafts() == 2


def test_posting_removes_the_draft(people, group):
    member = people["member"]
    thread = factories.make_thread(people["moderator"], group)
    other = factories.make_thread(people["moderator"], group, title="Inny")
    services.save_draft(member, group, thread, body="Zaraz wyślę")
    services.save_draft(member, group, other, body="Później")
    services.save_draft(member, group, body="Nowy wątek", title="Nowy")
    services.reply(member, thread, "Zaraz wyślę")
    assert services.draft_for(member, group, thread) is None
    assert services.draft_for(member, group, other).body == "Później"  # other drafts stay
    services.start_thread(member, group, title="Nowy", body="Nowy wątek")
    assert services.draft_for(member, group) is None
    assert services.draft_for(member, group, other) is not None


def test_nobody_else_sees_a_draft(people, group):
    member, moderator = people["member"], people["moderator"]
    thread = factories.make_thread(moderator, group)
    services.save_draft(member, group, thread, body="Tylko moje")
    services.save_draft(member, group, body="Mój wątek", title="Mój")
    for other in ("moderator", "admin", "observer", "outsider"):
        assert services.draft_for(people[other], group, thread) is None, other
        assert services.draft_for(people[other], group) is None, other
    # The thread page reads the reader's own draft along with the thread.
    _thread, reader = services.get_thread_for_reader(member, group, thread.id)
    assert reader.draft.body == "Tylko moje"
    _thread, reader = services.get_thread_for_reader(moderator, group, thread.id)
    assert reader.draft is None
    # A reply by someone else leaves the member's draft alone.
    services.reply(moderator, thread, "Moja odpowiedź")
    assert services.draft_for(member, group, thread).body == "Tylko moje"


def test_only_members_who_may_write_keep_drafts(people, group):
    thread = factories.make_thread(people["member"], group)
    with pytest.raises(NotFound):
        services.save_draft(people["outsider"], group, thread, body="x")
    with pytest.raises(NotFound):
        services.discard_draft(people["outsider"], group)
    with pytest.raises(PermissionDenied):
        services.save_draft(people["observer"], group, thread, body="x")
    assert _drafts() == 0


def test_a_member_who_leaves_no_longer_sees_the_draft(people, group):
    member = people["member"]
    thread = factories.make_thread(people["moderator"], group)
    services.save_draft(member, group, thread, body="Szkic")
    db.session.execute(db.update(Membership).where(Membership.user_id == member.id,
                                                   Membership.group_id == group.id)
                       .values(role=Role.OBSERVER))
    db.session.commit()
    forget_roles(member)
    assert services.draft_for(member, group, thread) is None
    assert services.get_thread_for_reader(member, group, thread.id)[1].draft is None


def test_a_draft_of_a_thread_of_another_group_is_refused(people, group):
    thread = factories.make_thread(people["member"], group)
    # The outsider writes in g2, but the thread is g1's.
    with pytest.raises(NotFound):
        services.save_draft(people["outsider"], people["g2"], thread, body="x")
    assert services.draft_for(people["outsider"], people["g2"], thread) is None


def test_limits_and_reply_targets(people, group):
    member = people["member"]
    thread = factories.make_thread(people["moderator"], group)
    elsewhere = factories.make_thread(people["moderator"], group, title="Inny")
    with pytest.raises(InvalidInput) as error:
        services.save_draft(member, group, thread, body="a" * 50_001)
    assert "body" in error.value.errors
    with pytest.raises(InvalidInput) as error:
        services.save_draft(member, group, body="a", title="t" * 201)
    assert "title" in error.value.errors
    # Only a post of this thread can be the reply's target.
    saved = services.save_draft(member, group, thread, body="a",
                                reply_to_id=services.post_id_at(elsewhere, 1))
    assert saved.reply_to_id is None


def test_a_draft_for_a_thread_that_went_meanwhile_is_not_found(people, group):
    """A page still open saves its draft while the thread is being deleted: a 404, not a
    server error (the foreign key refuses the row)."""
    from sqlalchemy import text

    thread = factories.make_thread(people["member"], group, "Zaraz zniknie", "Treść")
    thread_id = thread.id
    db.session.refresh(thread)
    db.session.expunge(thread)  # kept as the request had loaded it
    db.session.execute(text("DELETE FROM post WHERE thread_id = :id"), {"id": thread_id})
    db.session.execute(text("DELETE FROM thread WHERE id = :id"), {"id": thread_id})
    db.session.commit()
    with pytest.raises(NotFound):
        services.save_draft(people["member"], group, thread, body="Szkic")
    assert db.session.scalar(db.select(db.func.count()).select_from(Draft)) == 0
