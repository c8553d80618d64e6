"""Erasure of an account and redaction (forum.privacy.erasure): the services."""

from __future__ import annotations

import hashlib
import io
import json
from types import SimpleNamespace

import pytest
from sqlalchemy import JSON, String, select

from forum.accounts import services as accounts
from forum.accounts.models import User
from forum.audit.models import AuditEntry
from forum.audit.services import AuditLogImmutable
from forum.chat import services as chat
from forum.chat.models import MENTION, ChatMessage
from forum.discussions import services as discussions
from forum.discussions.models import Post, PostRevision
from forum.errors import InvalidInput, NotFound
from forum.extensions import db
from forum.groups import services as groups
from forum.groups.models import Invitation, Membership
from forum.mailings.batcher import run_batcher
from forum.materials import services as materials
from forum.moderation import reports
from forum.notifications import inbox, mentions
from forum.notifications.models import Notification, OutboxEmail
from forum.privacy import erasure, export
from forum.privacy.models import DataExport
from forum.text import fold
from tests import factories
from tests.materials import samples
from tests.privacy.attendance_rows import add_session_records

NAME = "Zdzisława Przybyszewska-Kołodziej"
EMAIL = "z.przybyszewska@gmina-wola.pl"
# Everything that would point at her: the address, the name, its distinctive parts (as
# written and folded to ASCII, as search columns keep them) and her @handle.
NEEDLES = [EMAIL, "z.przybyszewska", NAME, "Zdzisława", "Przybyszewska", "Kołodziej",
           "zdzislawa", "kolodziej", mentions.handle_for(NAME)]


def traces(needles=NEEDLES) -> list[tuple[str, str, object]]:
    """(table, column, primary key) of every String/Text/JSON value of every table that
    contains one of the needles, case-insensitively (JSON read as text, not escaped)."""
    found = []
    folded = [n.casefold() for n in needles]
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | JSON)]
        if not columns:
            continue
        key = list(table.primary_key.columns)
        for row in db.session.execute(select(*key, *columns)).mappings():
            for column in columns:
                value = row[column.name]
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value,
                                                                      ensure_ascii=False)
                if any(n in text.casefold() for n in folded):
                    found.append((table.name, column.name, tuple(row[k.name] for k in key)))
    return found


def _everything(app, personas, setting: str = erasure.ANONYMISE) -> SimpleNamespace:
    """A person who has everything: profile, memberships, threads and replies with earlier
    versions, chat messages with mentions, a moderator's edit, reactions, uploads, reports
    made and received, a warning, notifications and e-mails both ways, invitations, an
    export, watches, audit entries naming her."""
    admin = factories.user(personas.admin.id)
    moderator = factories.user(personas.moderator.id)
    jan = factories.user(personas.member.id)
    g1, g2 = factories.group(personas.g1.id), factories.group(personas.g2.id)
    g1.erased_posts = setting
    db.session.commit()
    her = accounts.create_user(admin, email=EMAIL, name=NAME, password=factories.PASSWORD,
                               organisation_id=personas.organisation_id,
                               position="inspektorka ochrony danych", check_strength=False)
    groups.set_role(admin, g1, her, "member")
    groups.invite(admin, g2, EMAIL, "member")  # not accepted yet
    inbox.set_group_watch(her, g1, "watching")

    thread = discussions.start_thread(her, g1, title="Budżet obywatelski 2027",
                                      body=f"Pytanie do wszystkich.\n\n{NAME}, {EMAIL}")
    opening = thread_posts = db.session.scalars(select(Post).where(
        Post.thread_id == thread.id)).one()
    discussions.edit_post(her, opening, f"Pytanie do wszystkich (poprawione).\n\n{NAME}")
    jans_thread = discussions.start_thread(jan, g1, title="Wymiana doświadczeń",
                                           body="Jak liczycie frekwencję?")
    jans_post = db.session.scalars(select(Post).where(Post.thread_id == jans_thread.id)).one()
    her_reply = discussions.reply(her, jans_thread, "U nas: liczymy ręcznie. Telefon 600 100 200")
    discussions.reply(jan, thread, "Dziękuję za pytanie")  # she is told (a reply notice)
    discussions.toggle_reaction(her, jans_post, "useful")
    discussions.mark_read(her, jans_thread, 2)
    discussions.save_draft(her, g1, jans_thread, body=f"Jeszcze jedno — {NAME}")
    discussions.save_draft(her, g1, title="Szkic", body=f"Nowy wątek, {EMAIL}")

    message = chat.send_message(her, g1, "Dzień dobry @jan.kowalski, mój numer 600 100 200",
                                "her-1")
    chat.send_message(her, g1, f"Do zobaczenia na sesji — {NAME}", "her-2")
    chat.mark_chat_read(her, g1, message.id)  # how far she has read the chat

    # Reports received: Jan reports her reply and her message; the moderators warn her and
    # edit the message (the audit log names her and keeps the earlier text).
    reports.report_post(jan, her_reply, "personal_data", f"Numer telefonu {NAME}")
    [post_report] = db.session.scalars(select(reports.Report).where(
        reports.Report.post_id == her_reply.id)).all()
    reports.resolve_report(moderator, post_report, "warn",
                           note=f"Pani {NAME}, prosimy nie podawać numerów telefonu.")
    reports.report_chat_message(jan, message, "personal_data", "numer telefonu")
    [chat_report] = db.session.scalars(select(reports.Report).where(
        reports.Report.chat_message_id == message.id)).all()
    reports.resolve_report(moderator, chat_report, "edit", note="usunięto numer telefonu",
                           new_body="Dzień dobry @jan.kowalski")
    # A report she made.
    reports.report_post(her, jans_post, "other", "Proszę o uzupełnienie źródeł")

    materials.share_material(her, g1, materials.MaterialInput(
        title="Regulamin budżetu", kind="other", language="pl"),
        materials.Upload(io.BytesIO(samples.PDF), f"Regulamin — {NAME}.pdf"))
    export.request_export(admin, her)  # the audit entry names her

    # Decisions: a vote with a reason, a practice she wrote to the contact person of (and
    # adopted for her organisation), a recommendation step naming her.
    from datetime import timedelta

    from forum.library import services as library
    from forum.polls import services as polls
    from forum.recommendations import services as recommendations
    from forum.timeutil import utcnow

    poll = polls.start_poll(moderator, g1, polls.PollInput(
        kind="single", question="Termin?", options="Poniedziałek\nWtorek",
        closes_at=utcnow() + timedelta(days=2)))
    polls.cast_ballot(her, g1, poll, {poll.options[0].id: 1}, reason=f"Pasuje — {NAME}")
    practice = materials.share_material(
        moderator, g1, materials.MaterialInput(title="Dowozy", kind="good_practice"), None,
        materials.GoodPracticeInput(problem="Problem", actions="Działania"))
    library.propose(moderator, practice, library.ListingInput(
        themes="transport", contact_user_id=jan.id))
    library.publish(moderator, practice)
    library.contact(her, practice, f"Proszę o kontakt: {EMAIL}")
    library.record_adoption(her, practice, f"Wdrożyła {NAME}")
    recommendation = recommendations.create(moderator, g1, recommendations.RecommendationInput(
        title="Szkolenia", on=utcnow().date(), note=f"Zgłosiła {NAME}"))
    recommendation.steps[0].recorded_by_id = her.id
    db.session.commit()

    # A session she registered for, attended, got a certificate for and evaluated; she
    # proposed an amendment to its minutes (signed), and the minutes name her.
    session = add_session_records(moderator, g1, [her, jan],
                                  amendment={her.id: f"Proszę dopisać mój wniosek — {NAME}"})
    session.minutes.body = f"Wniosek przedstawiła {NAME}."
    session.minutes.body_html = f"<p>Wniosek przedstawiła {NAME}.</p>"
    db.session.commit()

    run_batcher()  # e-mails: to her (Jan's reply), to Jan (her reply), to the moderators
    return SimpleNamespace(id=her.id, thread_id=thread.id, opening_id=opening.id,
                           reply_id=her_reply.id, message_id=message.id, jans_post_id=jans_post.id,
                           admin=admin, g1=g1, g2=g2, session=session.workshop.id,
                           _=thread_posts)


def _her(person) -> User:
    return db.session.get(User, person.id)


# --- before: the test finds what it should ----------------------------------------------------


def test_the_scan_finds_her_everywhere_before_the_erasure(ctx, personas):
    _everything(ctx, personas)
    tables = {table for table, _column, _key in traces()}
    assert {"user", "post", "post_revision", "chat_message", "invitation", "outbox_email",
            "audit_entry", "notification", "report_flag", "material_version",
            "draft", "minutes_amendment", "session_minutes"} <= tables


# --- erasing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("setting", [erasure.ANONYMISE, erasure.REMOVE])
def test_erasure_leaves_no_trace_of_her_in_any_table(ctx, personas, setting):
    person = _everything(ctx, personas, setting)
    erasure.erase_user(person.admin, _her(person))
    db.session.expire_all()
    assert traces() == []
    from forum.chat.models import ChatRead  # rows without text: how far she read the chat

    assert db.session.scalar(select(db.func.count()).select_from(ChatRead).where(
        ChatRead.user_id == person.id)) == 0


def _count(model, *where) -> int:
    return db.session.scalar(select(db.func.count()).select_from(model).where(*where))


def test_her_attendance_goes_but_the_sessions_counts_stay_anonymous(ctx, personas):
    from forum.attendance.models import Certificate, CheckIn, Registration
    from forum.evaluation.models import EvaluationAnswer, EvaluationSubmission
    from forum.minutes.models import MinutesAmendment

    person = _everything(ctx, personas)
    her = _her(person)
    organisation_id = her.organisation_id
    report = erasure.erase_user(person.admin, her)
    db.session.expire_all()
    assert (report.registrations, report.certificates, report.evaluations,
            report.check_ins_kept, report.amendments) == (1, 1, 1, 2, 1)
    for model in (Registration, Certificate, EvaluationSubmission):
        assert _count(model, model.user_id == person.id) == 0
        assert _count(model, model.user_id == personas.member.id) == 1  # Jan's stay
    # Her two days still count for the programme's report: the same people, organisations
    # and hours, under the anonymous account.
    kept = db.session.scalars(select(CheckIn).where(CheckIn.user_id == person.id)
                              .order_by(CheckIn.day)).all()
    assert [(c.day, c.organisation_id) for c in kept] == [(1, organisation_id),
                                                         (2, organisation_id)]
    assert _count(EvaluationAnswer, EvaluationAnswer.workshop_id == person.session) == 2
    [amendment] = db.session.scalars(select(MinutesAmendment).where(
        MinutesAmendment.author_id == person.id)).all()
    assert amendment.text == amendment.text_html == "" and amendment.state == "accepted"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.erase")).one()
    assert entry.details["check_ins_kept"] == 2 and entry.details["registrations"] == 1


def test_anonymised_posts_stay_under_a_former_member(ctx, personas):
    person = _everything(ctx, personas, erasure.ANONYMISE)
    report = erasure.erase_user(person.admin, _her(person))
    db.session.expire_all()
    assert report.posts_kept == 2 and report.posts_removed == 0
    opening = db.session.get(Post, person.opening_id)
    assert opening.deleted_at is None and opening.author_id == person.id
    assert opening.author.name == "former member"
    assert "Pytanie do wszystkich (poprawione)." in opening.body
    assert "former member" in opening.body  # her signature, replaced
    reply = db.session.get(Post, person.reply_id)
    assert reply.visible and "liczymy ręcznie" in reply.body_html
    assert db.session.scalars(select(PostRevision).where(
        PostRevision.post_id == person.opening_id)).all()  # the history stays, anonymised
    message = db.session.get(ChatMessage, person.message_id)
    assert not message.removed and message.body == "Dzień dobry @jan.kowalski"
    assert chat.message_payload(message, person.g1)["author"]["name"] == "former member"


def test_removed_posts_keep_their_place_but_lose_their_text(ctx, personas):
    person = _everything(ctx, personas, erasure.REMOVE)
    thread = db.session.get(Post, person.reply_id).thread
    replies_before = thread.reply_count
    report = erasure.erase_user(person.admin, _her(person))
    db.session.expire_all()
    assert report.posts_removed == 2 and report.messages_removed == 2
    for post_id in (person.opening_id, person.reply_id):
        post = db.session.get(Post, post_id)
        assert post.deleted_at is not None
        assert post.body == post.body_html == post.search_text == ""
    assert db.session.get(Post, person.reply_id).thread.reply_count == replies_before - 1
    assert db.session.scalars(select(PostRevision).where(PostRevision.post_id.in_(
        [person.opening_id, person.reply_id]))).all() == []
    message = db.session.get(ChatMessage, person.message_id)
    assert message.removed and message.body == message.body_html == ""
    # The moderator's edit of the message keeps the fact, no longer the earlier text.
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "chat.edit")).one()
    assert entry.before == "" and entry.subject_id == person.message_id
    # Jan's thread and post are untouched.
    assert db.session.get(Post, person.jans_post_id).body == "Jak liczycie frekwencję?"


def test_the_account_is_an_empty_shell_that_cannot_sign_in(ctx, personas):
    person = _everything(ctx, personas)
    her = _her(person)
    old_alternative_id, old_salt = her.alternative_id, her.calendar_salt
    erasure.erase_user(person.admin, her)
    db.session.expire_all()
    her = _her(person)
    assert her.email == f"erased-{her.id}@invalid" and her.stored_name == ""
    assert her.name == "former member" and her.anonymised_at is not None
    assert not her.active and her.position == "" and her.organisation_id is None
    assert her.alternative_id != old_alternative_id and her.calendar_salt != old_salt
    assert her.email_notifications == "none" and not her.email_digest
    for email in (EMAIL, her.email):
        for password in (factories.PASSWORD, "not-a-real-password", "", "!erased"):
            with pytest.raises(InvalidInput):
                accounts.authenticate(email, password, "192.0.2.1")
    assert db.session.scalars(select(Membership).where(Membership.user_id == her.id)).all() == []
    assert db.session.scalars(select(Notification).where(Notification.user_id == her.id)).all() \
        == []
    assert db.session.scalars(select(OutboxEmail).where(OutboxEmail.user_id == her.id)).all() \
        == []
    assert db.session.scalars(select(DataExport).where(DataExport.user_id == her.id)).all() == []
    invitation = db.session.scalars(select(Invitation)).one()
    assert invitation.email == her.email
    # Jan's notice that she mentioned him stays (it is his), without her name.
    [mention] = db.session.scalars(select(Notification).where(Notification.kind == MENTION))
    assert mention.user_id == personas.member.id and mention.actor.name == "former member"


def test_the_audit_log_records_the_erasure_without_the_name(ctx, personas):
    person = _everything(ctx, personas)
    erasure.erase_user(person.admin, _her(person))
    db.session.expire_all()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.erase")).one()
    assert entry.actor_id == person.admin.id and entry.subject_id == person.id
    assert entry.target == "" and entry.details["posts_kept"] == 2
    # Earlier entries keep their place and what they are about, with the name replaced.
    warn = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.warn")).one()
    assert warn.target == "former member" and "former member" in warn.reason
    created = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.create")
                                 ).one()
    assert created.target == f"erased-{person.id}@invalid"
    # The exception is the erasure's own: the ORM still refuses to change an entry.
    warn.target = "changed"
    with pytest.raises(AuditLogImmutable):
        db.session.commit()
    db.session.rollback()


def test_notes_naming_her_in_other_peoples_notices_and_emails_are_replaced(ctx, personas):
    person = _everything(ctx, personas)
    to_jan = db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.to_address == personas.member.email)).all()
    assert any(NAME in e.body_text for e in to_jan)  # "… replied in …"
    erasure.erase_user(person.admin, _her(person))
    db.session.expire_all()
    to_jan = db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.to_address == personas.member.email)).all()
    assert to_jan and all(NAME not in e.body_text and "former member" in e.body_text
                          for e in to_jan)
    # Jan's notice of her reply stays; it names her as "former member" when shown.
    notice = db.session.scalars(select(Notification).where(
        Notification.user_id == personas.member.id, Notification.actor_id == person.id)).first()
    assert notice is not None and notice.actor.name == "former member"


def test_only_administrators_erase_and_not_themselves(ctx, personas):
    person = _everything(ctx, personas)
    for key in ("moderator", "member", "outsider"):
        with pytest.raises(NotFound):
            erasure.erase_user(factories.user(getattr(personas, key).id), _her(person))
        with pytest.raises(NotFound):
            erasure.erasure_plan(factories.user(getattr(personas, key).id), _her(person))
    with pytest.raises(InvalidInput):
        erasure.erase_user(person.admin, person.admin)
    assert _her(person).anonymised_at is None
    erasure.erase_user(person.admin, _her(person))
    with pytest.raises(InvalidInput):  # once is enough
        erasure.erase_user(person.admin, _her(person))


def test_the_plan_names_each_groups_setting(ctx, personas):
    person = _everything(ctx, personas, erasure.REMOVE)
    plan = erasure.erasure_plan(person.admin, _her(person))
    assert [(g.slug, setting, posts, messages) for g, setting, posts, messages in plan.groups] \
        == [(personas.g1.slug, "remove", 2, 2)]
    assert plan.memberships == 1 and plan.materials == 1


def test_mentions_by_others_stay_until_a_moderator_redacts_them(ctx, personas):
    """Documented: other people's text is theirs; a redacting edit removes her from it."""
    person = _everything(ctx, personas)
    jan = factories.user(personas.member.id)
    handle = mentions.handle_for(NAME)
    post = discussions.reply(jan, db.session.get(Post, person.opening_id).thread,
                             f"Zgadzam się z @{handle}")
    erasure.erase_user(person.admin, _her(person))
    db.session.expire_all()
    assert {(t, c, k) for t, c, k in traces()} == {
        ("post", "body", (post.id,)), ("post", "body_html", (post.id,)),
        ("post", "search_text", (post.id,))}
    reports.report_post(factories.user(personas.observer.id), db.session.get(Post, post.id),
                        "personal_data", "")
    report = db.session.scalars(select(reports.Report).where(
        reports.Report.post_id == post.id)).one()
    reports.resolve_report(factories.user(personas.moderator.id), report, "edit",
                           note="usunięto dane osobowe", new_body="Zgadzam się", redact=True)
    db.session.expire_all()
    assert traces() == []


# --- the request ------------------------------------------------------------------------------


def test_a_request_needs_the_password_and_tells_the_administrators(ctx, personas):
    member = factories.user(personas.member.id)
    with pytest.raises(InvalidInput) as error:
        erasure.request_erasure(member, "wrong")
    assert "password" in error.value.errors and member.erasure_requested_at is None
    erasure.request_erasure(member, factories.PASSWORD)
    assert member.erasure_requested_at is not None
    notices = db.session.scalars(select(Notification).where(
        Notification.kind == erasure.NOTICE_KIND)).all()
    assert [(n.user_id, n.actor_id) for n in notices] == [(personas.admin.id, member.id)]
    assert [u.id for u in erasure.pending_requests(factories.user(personas.admin.id))] == \
        [member.id]
    with pytest.raises(NotFound):
        erasure.pending_requests(member)
    assert db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.subject_id == member.id)).all() == ["user.erasure_request"]


def test_the_administrators_are_emailed_without_the_name(ctx, personas, smtp):
    from forum.notifications.outbox import deliver_all

    member = factories.user(personas.member.id)
    erasure.request_erasure(member, factories.PASSWORD)
    run_batcher()
    deliver_all()
    [message] = [m for m in smtp.messages if personas.admin.email in m["To"]]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "asked for their account to be deleted" in text
    assert personas.member.name not in text and personas.member.email not in text


def test_a_request_can_be_withdrawn(ctx, personas):
    member = factories.user(personas.member.id)
    erasure.request_erasure(member, factories.PASSWORD)
    erasure.cancel_erasure_request(member)
    assert member.erasure_requested_at is None
    assert db.session.scalars(select(Notification).where(
        Notification.kind == erasure.NOTICE_KIND)).all() == []
    assert erasure.pending_requests(factories.user(personas.admin.id)) == []


def test_erasing_fulfils_the_request_and_removes_its_notices(ctx, personas):
    member = factories.user(personas.member.id)
    erasure.request_erasure(member, factories.PASSWORD)
    erasure.erase_user(factories.user(personas.admin.id), member)
    assert erasure.pending_requests(factories.user(personas.admin.id)) == []
    assert db.session.scalars(select(Notification).where(
        Notification.kind == erasure.NOTICE_KIND)).all() == []


# --- the group setting ------------------------------------------------------------------------


def test_the_group_setting_is_checked_and_audited(ctx, personas):
    admin, group = factories.user(personas.admin.id), factories.group(personas.g1.id)
    fields = dict(name=group.name, slug=group.slug, description="", kind=group.kind,
                  time_zone=group.time_zone)
    with pytest.raises(InvalidInput):
        groups.update_group(admin, group, erased_posts="shred", **fields)
    groups.update_group(admin, group, erased_posts="remove", **fields)
    assert factories.group(personas.g1.id).erased_posts == "remove"
    groups.update_group(admin, group, **fields)  # not given: unchanged
    assert factories.group(personas.g1.id).erased_posts == "remove"


# --- outside the database ---------------------------------------------------------------------


def test_the_sign_in_counters_of_her_address_are_cleared_in_redis(make_app, personas,
                                                                   redis_url):
    import redis

    app = make_app(FORUM_REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=redis_url)
    with app.app_context():
        member = factories.user(personas.member.id)
        for _ in range(2):
            with pytest.raises(InvalidInput):
                accounts.authenticate(personas.member.email, "wrong", "192.0.2.7")
        connection = redis.Redis.from_url(redis_url, decode_responses=True)
        # The counters name the account by a digest, never by its e-mail address.
        assert any("login-pair" in key for key in connection.keys("*"))
        assert not any(personas.member.email in key for key in connection.keys("*"))
        erasure.erase_user(factories.user(personas.admin.id), member)
        assert not any(personas.member.email in key for key in connection.keys("*"))


def test_the_chat_presence_entry_with_her_name_goes(make_app, personas, redis_url):
    from forum.realtime import server as realtime

    app = make_app(FORUM_REDIS_URL=redis_url)
    with app.app_context():
        presence = realtime.state().presence
        presence.join(personas.g1.id, chat.person(factories.user(personas.member.id)), "sid-1")
        assert personas.member.name in json.dumps(presence.redis.hgetall(presence._people_key()),
                                                  ensure_ascii=False)
        erasure.erase_user(factories.user(personas.admin.id), factories.user(personas.member.id))
        assert personas.member.name not in json.dumps(
            presence.redis.hgetall(presence._people_key()), ensure_ascii=False)


# --- redaction --------------------------------------------------------------------------------


def _reported_post(personas, body="Mój PESEL to 80010112345"):
    jan = factories.user(personas.member.id)
    thread = discussions.start_thread(jan, factories.group(personas.g1.id), title="Pytanie",
                                      body="Początek")
    post = discussions.reply(jan, thread, body)
    discussions.edit_post(jan, post, body + " (poprawione)")  # a revision holds the number
    reports.report_post(factories.user(personas.observer.id), post, "personal_data", "")
    report = db.session.scalars(select(reports.Report).where(
        reports.Report.post_id == post.id)).one()
    return post, report


def test_a_redacting_edit_keeps_the_fact_not_the_text(ctx, personas):
    post, report = _reported_post(personas)
    reports.resolve_report(factories.user(personas.moderator.id), report, "edit",
                           note="usunięto dane osobowe", new_body="Mój PESEL to …",
                           redact=True)
    db.session.expire_all()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "post.edit")).one()
    assert entry.before == "" and entry.details["redacted"] is True
    assert entry.subject_id == post.id and entry.reason == "usunięto dane osobowe"
    assert db.session.scalars(select(PostRevision).where(PostRevision.post_id == post.id)
                              ).all() == []
    assert traces(["80010112345"]) == []


def test_an_ordinary_edit_keeps_the_earlier_text(ctx, personas):
    post, report = _reported_post(personas)
    reports.resolve_report(factories.user(personas.moderator.id), report, "edit",
                           note="poprawiono", new_body="Mój PESEL to …")
    db.session.expire_all()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "post.edit")).one()
    assert "80010112345" in entry.before and "redacted" not in entry.details
    assert len(db.session.scalars(select(PostRevision).where(PostRevision.post_id == post.id)
                                  ).all()) == 2


def test_a_redacting_edit_of_a_chat_message_blanks_the_earlier_entries(ctx, personas):
    jan = factories.user(personas.member.id)
    moderator = factories.user(personas.moderator.id)
    group = factories.group(personas.g1.id)
    message = chat.send_message(jan, group, "Dzwońcie: 600 100 200", "jan-1")
    for note, body, redact in (("skrócono", "Dzwońcie: 600 100 200!", False),
                               ("usunięto numer", "Dzwońcie do urzędu", True)):
        reports.report_chat_message(factories.user(personas.observer.id), message,
                                    "personal_data", "")
        report = db.session.scalars(select(reports.Report).where(
            reports.Report.chat_message_id == message.id,
            reports.Report.status == "open")).one()
        reports.resolve_report(moderator, report, "edit", note=note, new_body=body,
                               redact=redact)
    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "chat.edit")
                                 .order_by(AuditEntry.id)).all()
    assert [e.before for e in entries] == ["", ""]
    assert [e.details.get("redacted") for e in entries] == [None, True]
    assert traces(["600 100 200"]) == []


def test_the_author_can_redact_their_own_post(ctx, personas):
    jan = factories.user(personas.member.id)
    thread = discussions.start_thread(jan, factories.group(personas.g1.id), title="Pytanie",
                                      body="Mój telefon 600 100 200")
    post = db.session.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    discussions.edit_post(jan, post, "Mój telefon 600 100 200, wieczorem")
    discussions.edit_post(jan, post, "Proszę pisać przez forum", redact=True)
    db.session.expire_all()
    assert db.session.scalars(select(PostRevision).where(PostRevision.post_id == post.id)
                              ).all() == []
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "post.redact")
                               ).one()
    assert entry.before == "" and entry.details == {"post_id": post.id, "redacted": True}
    assert traces(["600 100 200"]) == []
    assert fold("Proszę") in db.session.get(Post, post.id).search_text


def test_only_whole_names_are_replaced_in_other_peoples_notes(ctx, personas):
    admin = factories.user(personas.admin.id)
    ala = factories.make_user(email="ala@example.org", name="Ala")
    note = Notification(user_id=personas.member.id, kind="warning",
                        text="Ala i Alan, Alabama; ALA.")
    db.session.add(note)
    db.session.commit()
    erasure.erase_user(admin, ala)
    assert db.session.get(Notification, note.id).text == \
        "former member i Alan, Alabama; former member."


def test_the_files_of_her_data_exports_are_deleted(ctx, personas):
    from flask import current_app

    from forum.materials.backends import storage_for
    from forum.timeutil import utcnow

    member = factories.user(personas.member.id)
    storage = storage_for(current_app)
    content = b"PK... her data"
    key = hashlib.sha256(content).hexdigest()
    storage.put(key, io.BytesIO(content))
    db.session.add(DataExport(user_id=member.id, requested_by_id=member.id, status="ready",
                              storage_key=key, size=14, created_at=utcnow()))
    db.session.commit()
    report = erasure.erase_user(factories.user(personas.admin.id), member)
    assert report.exports == 1 and not storage.exists(key)
