"""Reports and their resolution, through the services: one test per rule."""

from __future__ import annotations

import pytest

from forum.audit.models import AuditEntry
from forum.chat.models import ChatMessage
from forum.discussions import services as discussions
from forum.discussions.models import Post, PostRevision
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.moderation import reports
from forum.moderation.models import Report, ReportFlag
from forum.notifications.models import Notification
from tests import factories
from tests.factories import add_messages


@pytest.fixture
def post(people) -> Post:
    """A reply by the moderator in a thread the member started (so both can be reported)."""
    thread = factories.make_thread(people["member"], people["g1"], "Dowozy")
    return factories.make_post(people["moderator"], thread, "Mój telefon: 600 100 200")


@pytest.fixture
def members_post(people) -> Post:
    thread = factories.make_thread(people["moderator"], people["g1"], "Stołówki",
                                   "Pytanie o stołówki")
    return factories.make_post(people["member"], thread, "Adres pani dyrektor: ul. Polna 5")


@pytest.fixture
def message(people) -> ChatMessage:
    [message_id] = add_messages(people["g1"].id, people["member"].id, 1, prefix="czat")
    return db.session.get(ChatMessage, message_id)


def _audit(action: str | None = None) -> list[AuditEntry]:
    statement = db.select(AuditEntry).order_by(AuditEntry.id)
    if action:
        statement = statement.where(AuditEntry.action == action)
    return list(db.session.scalars(statement))


def _notices(user, kind: str) -> list[Notification]:
    return list(db.session.scalars(db.select(Notification).where(
        Notification.user_id == user.id, Notification.kind == kind)))


def _error(excinfo) -> str:
    return " ".join(str(m) for m in excinfo.value.errors.values())


# --- reporting -------------------------------------------------------------------------------


def test_a_member_reports_a_post_with_a_reason(people, post):
    report = reports.report_post(people["member"], post, "personal_data", "  numer telefonu ")
    assert (report.group_id, report.post_id, report.chat_message_id) == (
        people["g1"].id, post.id, None)
    assert report.content_author_id == people["moderator"].id
    assert (report.status, report.flag_count) == ("open", 1)
    [flag] = report.flags
    assert (flag.reporter_id, flag.reason, flag.text) == (people["member"].id, "personal_data",
                                                          "numer telefonu")


@pytest.mark.parametrize("who", ["observer", "admin"])
def test_observers_and_administrators_may_report(people, post, who):
    assert reports.report_post(people[who], post, "off_topic").flag_count == 1


def test_outsiders_cannot_report(people, post, message):
    with pytest.raises(NotFound):
        reports.report_post(people["outsider"], post, "offensive")
    with pytest.raises(NotFound):
        reports.report_chat_message(people["outsider"], message, "offensive")
    assert db.session.scalar(db.select(db.func.count()).select_from(Report)) == 0


def test_the_reason_must_come_from_the_list(people, post):
    with pytest.raises(InvalidInput) as error:
        reports.report_post(people["member"], post, "boring")
    assert set(error.value.errors) == {"reason"}


def test_other_needs_a_text(people, post):
    with pytest.raises(InvalidInput) as error:
        reports.report_post(people["member"], post, "other", "   ")
    assert set(error.value.errors) == {"text"}
    assert reports.report_post(people["member"], post, "other", "reklama").flags[0].text == \
        "reklama"


def test_the_text_has_a_limit(people, post):
    with pytest.raises(InvalidInput) as error:
        reports.report_post(people["member"], post, "offensive", "x" * 1001)
    assert "1000" in _error(error)
    reports.report_post(people["member"], post, "offensive", "x" * 1000)


def test_nobody_reports_their_own_post_or_message(people, members_post, message):
    with pytest.raises(InvalidInput) as error:
        reports.report_post(people["member"], members_post, "off_topic")
    assert "your own post" in _error(error)
    with pytest.raises(InvalidInput) as error:
        reports.report_chat_message(people["member"], message, "off_topic")
    assert "your own message" in _error(error)


def test_reporting_the_same_item_twice_is_refused_while_open(people, post, message):
    reports.report_post(people["member"], post, "off_topic")
    with pytest.raises(InvalidInput) as error:
        reports.report_post(people["member"], post, "offensive")
    assert "You have already reported this post" in _error(error)
    reports.report_chat_message(people["observer"], message, "off_topic")
    with pytest.raises(InvalidInput) as error:
        reports.report_chat_message(people["observer"], message, "off_topic")
    assert "You have already reported this message" in _error(error)
    assert db.session.scalar(db.select(db.func.count()).select_from(ReportFlag)) == 2


def test_hidden_deleted_and_removed_items_cannot_be_reported(people, post, members_post,
                                                             message):
    discussions.hide_post(people["moderator"], members_post, "poza tematem")
    discussions.delete_post(people["moderator"], post)
    from forum.chat import services as chat

    chat.remove_message(people["moderator"], people["g1"], message.id)
    for item, report in ((members_post, reports.report_post), (post, reports.report_post)):
        with pytest.raises(InvalidInput) as error:
            report(people["observer"], item, "offensive")
        assert "nothing left to report" in _error(error)
    with pytest.raises(InvalidInput) as error:
        reports.report_chat_message(people["observer"], message, "offensive")
    assert "nothing left to report" in _error(error)


def test_reports_of_one_item_by_several_members_are_merged(people, post):
    first = reports.report_post(people["member"], post, "personal_data")
    before = first.last_flagged_at
    second = reports.report_post(people["observer"], post, "offensive", "obraźliwe")
    third = reports.report_post(people["admin"], post, "personal_data")
    assert first.id == second.id == third.id
    assert third.flag_count == 3
    assert [f.reporter_id for f in third.flags] == [people[k].id for k in
                                                    ("member", "observer", "admin")]
    assert third.last_flagged_at >= before
    assert db.session.scalar(db.select(db.func.count()).select_from(Report)) == 1


def test_a_new_case_is_told_to_the_groups_moderators_once(people, members_post, post):
    report = reports.report_post(people["observer"], members_post, "personal_data")
    reports.report_post(people["admin"], members_post, "offensive")  # merged: no new notice
    [notice] = _notices(people["moderator"], "new_report")
    assert (notice.report_id, notice.post_id, notice.actor_id) == (
        report.id, members_post.id, people["observer"].id)
    assert _notices(people["member"], "new_report") == []
    # The moderator wrote `post`: they are not the one to be told about a report of it.
    reports.report_post(people["member"], post, "off_topic")
    assert len(_notices(people["moderator"], "new_report")) == 1


def test_a_resolved_item_reported_again_opens_a_new_report(people, post):
    first = reports.report_post(people["member"], post, "off_topic")
    reports.resolve_report(people["moderator"], first, "dismiss")
    second = reports.report_post(people["member"], post, "off_topic")
    assert second.id != first.id
    assert (second.status, second.flag_count) == ("open", 1)


# --- the queue -------------------------------------------------------------------------------


def test_the_group_queue_is_for_its_moderators(people, post):
    reports.report_post(people["member"], post, "off_topic")
    page = reports.list_reports(people["moderator"], group=people["g1"])
    assert [r.post_id for r in page.reports] == [post.id]
    with pytest.raises(PermissionDenied):
        reports.list_reports(people["member"], group=people["g1"])
    with pytest.raises(PermissionDenied):
        reports.list_reports(people["observer"], group=people["g1"])
    with pytest.raises(NotFound):
        reports.list_reports(people["outsider"], group=people["g1"])


def test_all_groups_queue_is_for_administrators_only(people, post):
    g2_thread = factories.make_thread(people["outsider"], people["g2"], "G2", "w drugiej grupie")
    reports.report_post(people["member"], post, "off_topic")
    reports.report_post(people["admin"], db.session.get(
        Post, discussions.post_id_at(g2_thread, 1)), "off_topic")
    page = reports.list_reports(people["admin"])
    assert {r.group_id for r in page.reports} == {people["g1"].id, people["g2"].id}
    with pytest.raises(NotFound):
        reports.list_reports(people["moderator"])


def test_open_reports_oldest_first_resolved_newest_first_in_pages(people):
    thread = factories.make_thread(people["moderator"], people["g1"], "Wiele", "start")
    posts = [factories.make_post(people["moderator"], thread, f"wpis {n}") for n in range(5)]
    made = [reports.report_post(people["member"], p, "off_topic").id for p in posts]
    first = reports.list_reports(people["moderator"], group=people["g1"], limit=2)
    second = reports.list_reports(people["moderator"], group=people["g1"], limit=2,
                                  cursor=first.next_cursor)
    third = reports.list_reports(people["moderator"], group=people["g1"], limit=2,
                                 cursor=second.next_cursor)
    assert [r.id for r in first.reports + second.reports + third.reports] == made
    assert third.next_cursor is None
    for report_id in made[:3]:
        reports.resolve_report(people["moderator"], db.session.get(Report, report_id),
                               "dismiss")
    resolved = reports.list_reports(people["moderator"], group=people["g1"],
                                    status="resolved")
    assert [r.id for r in resolved.reports] == list(reversed(made[:3]))
    assert [r.id for r in reports.list_reports(people["moderator"],
                                               group=people["g1"]).reports] == made[3:]


def test_the_open_count_is_for_moderators(people, post):
    reports.report_post(people["member"], post, "off_topic")
    assert reports.open_report_count(people["moderator"], people["g1"]) == 1
    assert reports.open_report_count(people["member"], people["g1"]) is None


def test_get_report_hides_missing_and_forbidden_alike(people, post):
    report = reports.report_post(people["member"], post, "off_topic")
    assert reports.get_report_for(people["moderator"], people["g1"], report.id).id == report.id
    for who, group in (("member", "g1"), ("outsider", "g1"), ("admin", "g2")):
        with pytest.raises(NotFound):
            reports.get_report_for(people[who], people[group], report.id)
    with pytest.raises(NotFound):
        reports.get_report_for(people["moderator"], people["g1"], report.id + 1000)


def test_the_context_has_neighbours_and_earlier_reports_on_the_author(people, post):
    earlier = reports.report_post(people["member"], post, "off_topic")
    reports.resolve_report(people["moderator"], earlier, "warn", note="Proszę o umiar")
    later = discussions.reply(people["moderator"], post.thread, "Kolejny wpis")
    report = reports.report_post(people["observer"], later, "offensive")
    context = reports.report_context(people["moderator"], report)
    assert context.thread.id == post.thread_id
    assert [p.number for p in context.before] == [post.number - 1, post.number]
    assert context.after == []
    assert context.earlier_count == 1
    assert [(r.id, r.resolution, r.resolution_note) for r in context.earlier] == [
        (earlier.id, "warned", "Proszę o umiar")]


def test_the_context_of_a_chat_message_has_the_messages_around_it(people):
    ids = add_messages(people["g1"].id, people["moderator"].id, 5)
    report = reports.report_chat_message(people["member"], db.session.get(ChatMessage, ids[2]),
                                         "off_topic")
    context = reports.report_context(people["moderator"], report)
    assert [m.id for m in context.before] == ids[:2]
    assert [m.id for m in context.after] == ids[3:]
    assert context.thread is None


# --- resolving -------------------------------------------------------------------------------


def test_hiding_a_reported_post(people, post):
    report = reports.report_post(people["member"], post, "personal_data")
    reports.report_post(people["observer"], post, "personal_data")
    replies = post.thread.reply_count
    reports.resolve_report(people["admin"], report, "hide", note="Dane osobowe")
    assert post.hidden_at is not None and post.hidden_reason == "Dane osobowe"
    assert post.thread.reply_count == replies - 1
    assert (report.status, report.resolution, report.resolution_note, report.resolved_by_id) == (
        "resolved", "hidden", "Dane osobowe", people["admin"].id)
    [entry] = _audit("post.hide")
    assert (entry.subject_type, entry.subject_id, entry.reason) == ("post", post.id,
                                                                    "Dane osobowe")
    assert entry.details["report_id"] == report.id
    assert len(_audit()) == 1


def test_removing_a_reported_chat_message(people, message):
    report = reports.report_chat_message(people["observer"], message, "offensive")
    reports.resolve_report(people["moderator"], report, "hide", note="Obraźliwe")
    assert message.removed and message.removed_by_id == people["moderator"].id
    [entry] = _audit()
    assert (entry.action, entry.subject_type, entry.subject_id, entry.reason) == (
        "chat.remove", "chat_message", message.id, "Obraźliwe")
    assert entry.details["report_id"] == report.id


def test_editing_a_reported_post_keeps_the_revision_and_shows_a_note(people, post):
    report = reports.report_post(people["member"], post, "personal_data")
    old = post.body
    reports.resolve_report(people["moderator"], report, "edit", note="Usunięto numer telefonu",
                           new_body="Mój telefon: [usunięto]")
    assert post.body == "Mój telefon: [usunięto]" and "[usunięto]" in post.body_html
    assert "600 100 200" not in post.search_text and "usunieto" in post.search_text
    assert post.moderation_note == "Usunięto numer telefonu" and post.edited_at is not None
    [revision] = db.session.scalars(db.select(PostRevision).where(PostRevision.post_id == post.id))
    assert (revision.body, revision.edited_by_id) == (old, people["moderator"].id)
    [entry] = _audit()
    assert (entry.action, entry.subject_type, entry.subject_id, entry.before, entry.reason) == (
        "post.edit", "post", post.id, old, "Usunięto numer telefonu")
    assert report.resolution == "edited"


def test_editing_a_reported_chat_message(people, message):
    report = reports.report_chat_message(people["observer"], message, "personal_data")
    reports.resolve_report(people["moderator"], report, "edit", note="Bez nazwisk",
                           new_body="*poprawione*")
    assert (message.body, message.moderation_note) == ("*poprawione*", "Bez nazwisk")
    assert "<em>poprawione</em>" in message.body_html and message.edited_at is not None
    [entry] = _audit()
    assert (entry.action, entry.subject_type, entry.before) == ("chat.edit", "chat_message",
                                                                "czat0")


def test_an_edit_needs_a_changed_text_within_the_limit(people, post):
    report = reports.report_post(people["member"], post, "personal_data")
    for body, field in (("", "new_body"), (post.body, "new_body"), ("x" * 50_001, "new_body")):
        with pytest.raises(InvalidInput) as error:
            reports.resolve_report(people["moderator"], report, "edit", note="n", new_body=body)
        assert set(error.value.errors) == {field}
    assert report.status == "open" and _audit() == []


def test_hide_edit_and_warn_need_a_note_dismiss_does_not(people, post):
    report = reports.report_post(people["member"], post, "off_topic")
    for action in ("hide", "edit", "warn"):
        with pytest.raises(InvalidInput) as error:
            reports.resolve_report(people["moderator"], report, action, note="  ",
                                   new_body="inny tekst")
        assert "note" in error.value.errors
    with pytest.raises(InvalidInput) as error:
        reports.resolve_report(people["moderator"], report, "warn", note="x" * 501)
    assert "500" in _error(error)
    reports.resolve_report(people["moderator"], report, "dismiss")
    assert report.resolution == "dismissed"


def test_an_unknown_action_is_refused(people, post):
    report = reports.report_post(people["member"], post, "off_topic")
    with pytest.raises(InvalidInput) as error:
        reports.resolve_report(people["moderator"], report, "ban", note="n")
    assert set(error.value.errors) == {"action"}


def test_dismissing_records_the_report(people, post):
    report = reports.report_post(people["member"], post, "off_topic")
    reports.resolve_report(people["moderator"], report, "dismiss", note="W temacie")
    assert post.visible
    [entry] = _audit()
    assert (entry.action, entry.subject_type, entry.subject_id, entry.reason) == (
        "report.dismiss", "report", report.id, "W temacie")


def test_a_warning_is_a_private_notice_to_the_author(people, members_post):
    report = reports.report_post(people["observer"], members_post, "personal_data")
    reports.resolve_report(people["moderator"], report, "warn",
                           note="Proszę nie podawać adresów.")
    [notice] = _notices(people["member"], "warning")
    assert (notice.text, notice.group_id, notice.thread_id, notice.post_id, notice.actor_id) == (
        "Proszę nie podawać adresów.", people["g1"].id, members_post.thread_id,
        members_post.id, people["moderator"].id)
    assert members_post.visible
    [entry] = _audit()
    assert (entry.action, entry.subject_type, entry.subject_id, entry.reason) == (
        "user.warn", "user", people["member"].id, "Proszę nie podawać adresów.")
    assert _notices(people["observer"], "warning") == []


def test_a_warning_about_a_chat_message_names_the_message(people, message):
    report = reports.report_chat_message(people["observer"], message, "offensive")
    reports.resolve_report(people["moderator"], report, "warn", note="Spokojnie")
    [notice] = _notices(people["member"], "warning")
    assert (notice.chat_message_id, notice.thread_id, notice.post_id) == (message.id, None, None)


@pytest.mark.parametrize("action,resolution", [("hide", "hidden"), ("edit", "edited"),
                                               ("dismiss", "dismissed"), ("warn", "warned")])
def test_every_reporter_is_told_the_outcome(people, post, action, resolution):
    report = reports.report_post(people["member"], post, "off_topic")
    reports.report_post(people["observer"], post, "offensive")
    reports.resolve_report(people["admin"], report, action, note="notatka", new_body="nowy")
    for who in ("member", "observer"):
        [notice] = _notices(people[who], "report_outcome")
        assert (notice.text, notice.post_id, notice.thread_id, notice.group_id) == (
            resolution, post.id, post.thread_id, people["g1"].id)
    assert _notices(people["moderator"], "report_outcome") == []
    assert len(_audit()) == 1


def test_a_resolved_report_cannot_be_resolved_again(people, post):
    report = reports.report_post(people["member"], post, "off_topic")
    reports.resolve_report(people["moderator"], report, "dismiss")
    with pytest.raises(InvalidInput) as error:
        reports.resolve_report(people["admin"], report, "hide", note="jednak")
    assert "already resolved" in _error(error)
    assert post.visible and len(_audit()) == 1
    assert len(_notices(people["member"], "report_outcome")) == 1


def test_only_moderators_resolve(people, post):
    report = reports.report_post(people["member"], post, "off_topic")
    with pytest.raises(PermissionDenied):
        reports.resolve_report(people["observer"], report, "dismiss")
    with pytest.raises(NotFound):
        reports.resolve_report(people["outsider"], report, "dismiss")
    assert report.status == "open"


def test_a_removed_item_cannot_be_edited_but_the_report_can_be_closed(people, post):
    report = reports.report_post(people["member"], post, "off_topic")
    discussions.delete_post(people["moderator"], post)
    with pytest.raises(InvalidInput) as error:
        reports.resolve_report(people["moderator"], report, "edit", note="n", new_body="nowy")
    assert "can no longer be edited" in _error(error)
    reports.resolve_report(people["moderator"], report, "dismiss", note="Już usunięty")
    assert report.status == "resolved"
