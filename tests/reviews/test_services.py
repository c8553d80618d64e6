from datetime import timedelta

import pytest

from forum.audit.models import AuditEntry
from forum.errors import InvalidInput, PermissionDenied
from forum.extensions import db
from forum.notifications.models import Notification
from forum.reviews import services
from forum.reviews.models import AnswerStatus, OpinionHistory
from forum.workshops.services import group_today
from tests import factories
from tests.materials import samples
from tests.reviews.helpers import open_review, second_organisation


def _opinions(review, stance="agree", comment="OK", wording=""):
    return [services.OpinionInput(s.id, stance, comment, wording) for s in review.sections]


def test_a_moderator_opens_a_review_with_sections_from_the_headings(people, group):
    organisation, _ = second_organisation(group)
    review = open_review(people, group)
    assert [(s.number, s.heading) for s in review.sections] == [
        (1, "1. Introduction"), (2, "2. Rural communes")]
    asked = {a.organisation_id for a in review.asked}
    assert asked == {people["member"].organisation_id, organisation.id}
    assert db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "review.open"))


def test_only_moderators_open_reviews(people, group):
    material = factories.make_material(people["member"], group)
    with pytest.raises(PermissionDenied):
        services.open_review(people["member"], group, material, question="?",
                             deadline=group_today(group))


def test_a_file_without_headings_asks_for_sections_by_hand(people, group):
    material = factories.make_material(people["moderator"], group, samples.PDF, "draft.pdf")
    with pytest.raises(InvalidInput) as error:
        services.open_review(people["moderator"], group, material, question="?",
                             deadline=group_today(group))
    assert "manual_sections" in error.value.errors
    review = services.open_review(people["moderator"], group, material, question="?",
                                  deadline=group_today(group),
                                  manual_sections="# One\nfirst\n# Two\nsecond")
    assert [s.heading for s in review.sections] == ["One", "Two"]


def test_organisations_asked_can_be_chosen(people, group):
    organisation, _ = second_organisation(group)
    review = open_review(people, group, organisation_ids=[organisation.id])
    assert [a.organisation_id for a in review.asked] == [organisation.id]


def test_colleagues_complete_the_draft_then_submit_and_changes_keep_history(people, group):
    review = open_review(people, group)
    member, moderator = people["member"], people["moderator"]  # same organisation
    answer = services.save_answer(member, group, review, _opinions(review, comment="Draft"),
                                  revision=0, submit=False)
    assert answer.status == AnswerStatus.DRAFT
    answer = services.save_answer(moderator, group, review, _opinions(review, comment="Final"),
                                  revision=answer.revision, submit=True)
    assert answer.status == AnswerStatus.SUBMITTED and answer.submitted_by_id == moderator.id
    assert db.session.scalar(db.select(db.func.count()).select_from(OpinionHistory)) == 0
    services.save_answer(member, group, review, _opinions(review, "disagree", "Changed"),
                         revision=answer.revision, submit=True)
    history = db.session.scalars(db.select(OpinionHistory)).all()
    assert len(history) == 2 and {h.comment for h in history} == {"Final"}


def test_a_save_on_an_outdated_form_is_refused(people, group):
    review = open_review(people, group)
    services.save_answer(people["member"], group, review, _opinions(review), revision=0,
                         submit=False)
    with pytest.raises(InvalidInput) as error:
        services.save_answer(people["moderator"], group, review, _opinions(review), revision=0,
                             submit=False)
    assert "colleague" in str(error.value.errors[""])


def test_who_may_answer(people, group):
    organisation, other = second_organisation(group)
    review = open_review(people, group, organisation_ids=[organisation.id])
    for person in (people["member"], people["observer"], people["outsider"], people["admin"]):
        with pytest.raises(PermissionDenied):
            services.save_answer(person, group, review, _opinions(review), revision=0,
                                 submit=False)
    assert services.save_answer(other, group, review, _opinions(review), revision=0,
                                submit=True).organisation_id == organisation.id


def test_nothing_after_the_deadline_and_an_extension_is_audited(people, group):
    review = open_review(people, group, days=0)
    later = group_today(group) + timedelta(days=1)
    with pytest.raises(InvalidInput):
        services.save_answer(people["member"], group, review, _opinions(review), revision=0,
                             submit=True, today=later)
    with pytest.raises(PermissionDenied):
        services.extend_deadline(people["member"], group, review, later)
    with pytest.raises(InvalidInput):
        services.extend_deadline(people["moderator"], group, review, review.deadline)
    services.extend_deadline(people["moderator"], group, review, later)
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "review.extend"))
    assert entry.details == {"from": group_today(group).isoformat(), "to": later.isoformat()}
    services.save_answer(people["member"], group, review, _opinions(review), revision=0,
                         submit=True, today=later)


def test_oversized_comment_and_unknown_stance_are_refused(people, group):
    review = open_review(people, group)
    with pytest.raises(InvalidInput) as error:
        services.save_answer(people["member"], group, review,
                             _opinions(review, "maybe", "x" * 5001), revision=0, submit=True)
    assert len(error.value.errors) == 2 * len(review.sections)


def test_drafts_are_seen_only_by_their_organisation(people, group):
    organisation, other = second_organisation(group)
    review = open_review(people, group)
    services.save_answer(other, group, review, _opinions(review), revision=0, submit=False)
    section = review.sections[0].id
    assert services.opinions_by_section(other, group, review)[section]
    assert services.opinions_by_section(people["member"], group, review)[section] == []


def test_board_and_reminders_go_to_organisations_that_have_not_submitted(people, group):
    organisation, other = second_organisation(group)
    review = open_review(people, group)
    db.session.execute(db.delete(Notification))
    services.save_answer(other, group, review, _opinions(review), revision=0, submit=True)
    rows = services.board(people["moderator"], group, review)
    assert [(r.organisation.name, r.answered) for r in rows] == [
        ("Miasto Lublin", False), ("Gmina Łęczna", True)]
    assert {u.name for u in rows[0].members} == {"Marta Moderator", "Jan Kowalski"}
    assert services.remind(people["moderator"], group, review) == 1  # not the moderator
    notice = db.session.scalar(db.select(Notification))
    assert (notice.user_id, notice.kind, notice.text) == (
        people["member"].id, "review_reminder", str(review.id))
    with pytest.raises(PermissionDenied):
        services.remind(people["member"], group, review)
    assert services.response_rate(review) == (1, 2)


def test_opening_notifies_the_organisations_members(people, group):
    db.session.execute(db.delete(Notification))
    db.session.commit()
    open_review(people, group)
    users = set(db.session.scalars(db.select(Notification.user_id).where(
        Notification.kind == "review_reminder")))
    assert users == {people["member"].id}


def test_dispositions_by_moderator_or_author_only_on_submitted_answers(people, group):
    review = open_review(people, group)
    answer = services.save_answer(people["member"], group, review, _opinions(review),
                                  revision=0, submit=False)
    opinion = answer.opinions[0]
    with pytest.raises(Exception):  # noqa: B017 - a draft is not there to decide on
        services.decide(people["moderator"], group, review, opinion.id, "accepted", "")
    services.save_answer(people["member"], group, review, _opinions(review),
                         revision=answer.revision, submit=True)
    with pytest.raises(PermissionDenied):
        services.decide(people["observer"], group, review, opinion.id, "accepted", "")
    with pytest.raises(InvalidInput):
        services.decide(people["moderator"], group, review, opinion.id, "maybe", "")
    decided = services.decide(people["moderator"], group, review, opinion.id, "partly",
                              "Shortened.")
    assert (decided.outcome, decided.reason) == ("partly", "Shortened.")
    rows = list(services.csv_lines(people["observer"], group, review))
    assert rows[0].startswith("Section,Heading,Organisation")
    assert "Partly accepted,Shortened." in "".join(rows)


def test_the_next_version_is_compared_section_by_section(people, group):
    from forum.materials import services as materials

    review = open_review(people, group)
    result = services.comparison(people["observer"], group, review)
    assert result.newer is None and [c.changes for c in result.sections] == [None, None]
    v2 = (b"# 1. Introduction\n\nWhy this module matters.\n\n## 2. Rural communes\n\n"
          b"Transport.\n\n# 3. Evaluation\n\nSurvey.")
    materials.add_version(people["moderator"], review.material, factories.upload(v2, "v2.md"))
    result = services.comparison(people["observer"], group, review)
    assert result.newer.number == 2 and result.automatic
    first, second = result.sections
    assert ("added", " matters") in first.changes or any(
        p.kind == "added" and "matters" in p.text for p in first.changes)
    assert any(p.kind == "removed" and "schools" in p.text for p in second.changes)
    assert [s.heading for s in result.added] == ["3. Evaluation"]
    materials.add_version(people["moderator"], review.material, factories.upload(
        samples.PDF, "v3.pdf"))
    result = services.comparison(people["observer"], group, review)
    assert result.newer.number == 3 and not result.automatic
    assert [c.changes for c in result.sections] == [None, None]


def test_two_first_replies_racing_make_one_section_thread(app, people, group, monkeypatch):
    """The other first reply commits its thread between this one's read of the section and
    its own thread: this one's thread is abandoned and its text is a reply in the winner's."""
    from forum.discussions.models import Post, Thread

    review = open_review(people, group)
    section_id = review.sections[0].id
    real_start = services.discussions.start_thread
    moderator_id, group_id, review_id = people["moderator"].id, group.id, review.id

    def start_after_a_competitor(*args, **kwargs):
        monkeypatch.setattr(services.discussions, "start_thread", real_start)
        with app.app_context():  # another request, its own session
            from forum.accounts.models import User
            from forum.groups.models import Group
            from forum.reviews.models import Review

            services.reply_to_section(db.session.get(User, moderator_id),
                                      db.session.get(Group, group_id),
                                      db.session.get(Review, review_id), section_id, "First!")
        return real_start(*args, **kwargs)

    monkeypatch.setattr(services.discussions, "start_thread", start_after_a_competitor)
    services.reply_to_section(people["member"], group, review, section_id, "Also first")
    threads = db.session.scalars(db.select(Thread).where(Thread.title.like("Program%"))).all()
    assert len(threads) == 1
    bodies = db.session.scalars(db.select(Post.body).where(Post.thread_id == threads[0].id)
                                .order_by(Post.number)).all()
    assert bodies == ["First!", "Also first"]
    assert db.session.get(services.ReviewSection, section_id).thread_id == threads[0].id


@pytest.mark.parametrize("colleague_saved_before", [False, True])
def test_a_colleagues_save_committed_after_the_check_still_refuses_this_one(
        app, people, group, monkeypatch, colleague_saved_before):
    """The revision check reads the answer; a colleague's save committed just after it must
    still win alone: the database claim (or the unique answer per organisation) refuses this
    save, and the colleague's text stays."""
    review = open_review(people, group)
    revision = 0
    if colleague_saved_before:
        revision = services.save_answer(people["moderator"], group, review,
                                        _opinions(review, comment="Start"), revision=0,
                                        submit=False).revision
    real_answer_of = services.answer_of
    ids = people["moderator"].id, group.id, review.id

    def answer_then_a_colleague_saves(*args):
        answer = real_answer_of(*args)
        monkeypatch.setattr(services, "answer_of", real_answer_of)
        with app.app_context():  # the colleague's request, its own session
            from forum.accounts.models import User
            from forum.groups.models import Group
            from forum.reviews.models import Review

            other = db.session.get(Review, ids[2])
            services.save_answer(db.session.get(User, ids[0]), db.session.get(Group, ids[1]),
                                 other, _opinions(other, comment="Colleague"),
                                 revision=revision, submit=False)
        return answer

    monkeypatch.setattr(services, "answer_of", answer_then_a_colleague_saves)
    with pytest.raises(InvalidInput) as error:
        services.save_answer(people["member"], group, review, _opinions(review, comment="Mine"),
                             revision=revision, submit=False)
    assert "colleague" in str(error.value.errors[""])
    db.session.rollback()
    db.session.expire_all()
    answer = services.answer_of(review, people["member"].organisation_id)
    assert {o.comment for o in answer.opinions} == {"Colleague"}
