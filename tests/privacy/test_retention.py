"""Retention (`flask forum apply-retention`): what goes, what stays, dry run vs real run."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func

from forum.audit.models import AuditEntry
from forum.audit.services import AuditLogImmutable, record_audit
from forum.chat.models import MENTION, ChatMessage
from forum.extensions import db
from forum.moderation.models import Report, ReportFlag, ReportStatus
from forum.notifications import locks
from forum.notifications.inbox import notify
from forum.notifications.models import Notification, OutboxEmail, OutboxStatus
from forum.privacy import retention
from forum.privacy.retention import apply_retention
from forum.timeutil import utcnow
from tests import factories


def _days_ago(days):
    return utcnow() - timedelta(days=days)


def _message(group, author, *, age_days, workshop=None, body="wiadomość"):
    message = ChatMessage(group_id=group.id, author_id=author.id, body=body, body_html=body,
                          client_id=uuid.uuid4().hex, created_at=_days_ago(age_days),
                          workshop_id=workshop.id if workshop else None)
    db.session.add(message)
    db.session.commit()
    return message


def _email(user, *, status, age_days):
    row = OutboxEmail(dedupe_key=uuid.uuid4().hex, kind="notifications", user_id=user.id,
                      to_address=user.email, subject="s", body_text="t", status=status,
                      created_at=_days_ago(age_days),
                      sent_at=_days_ago(age_days) if status == OutboxStatus.SENT else None)
    db.session.add(row)
    db.session.commit()
    return row


def _audit(age_days, action="post.hide"):
    db.session.add(AuditEntry(action=action, target="x", created_at=_days_ago(age_days)))
    db.session.commit()


def _count(model, *where):
    return db.session.scalar(db.select(func.count()).select_from(model).where(*where))


def _session(people, group, number, keep_chat=None):
    return factories.make_workshop(people["moderator"], group, number,
                                   days_from_today=number - 800, keep_chat=keep_chat)


@pytest.fixture
def old_and_new(people, group):
    """Rows of every kind, one side of each period; returns what should go per kind."""
    member, moderator = people["member"], people["moderator"]
    plain = _session(people, group, 1)
    old = [_message(group, member, age_days=800, workshop=plain),
           _message(group, member, age_days=731)]
    _message(group, member, age_days=729)  # inside the period
    recent = _message(group, member, age_days=10, body="@Marta")
    # Mentions are notifications as old as their message: of an old one (goes), of a
    # recent one (stays).
    for message in (old[0], recent):
        notify(moderator.id, MENTION, message, group_id=group.id, actor_id=member.id,
               created_at=message.created_at)
    db.session.add_all([
        Notification(user_id=member.id, kind="reply", created_at=_days_ago(181)),
        Notification(user_id=member.id, kind="reply", created_at=_days_ago(200)),
        Notification(user_id=member.id, kind="reply", created_at=_days_ago(179)),
    ])
    db.session.commit()
    _email(member, status=OutboxStatus.SENT, age_days=31)
    _email(member, status=OutboxStatus.SENT, age_days=29)
    _email(member, status=OutboxStatus.FAILED, age_days=91)
    _email(member, status=OutboxStatus.FAILED, age_days=89)
    _audit(1826)
    _audit(1900)
    _audit(1824)
    return {"chat_messages": 2, "notifications": 3, "sent_emails": 1,
            "failed_emails": 1, "audit_entries": 2}


def _table_counts():
    return {model.__tablename__: _count(model) for model in (
        ChatMessage, Notification, OutboxEmail, AuditEntry)}


def test_dry_run_counts_what_the_real_run_then_deletes(old_and_new):
    before = _table_counts()
    dry = apply_retention(dry_run=True)
    assert {kind: dry.count(kind) for kind in old_and_new} == old_and_new
    assert _table_counts() == before  # a dry run changes nothing
    lines = "\n".join(dry.lines())
    assert "would remove 2 chat messages (older than 730 days)" in lines
    assert "would remove 1 failed e-mails (older than 90 days)" in lines

    real = apply_retention()
    assert {kind: real.count(kind) for kind in old_and_new} == old_and_new
    after = _table_counts()
    assert after["chat_message"] == before["chat_message"] - 2
    assert after["notification"] == 2
    assert _count(Notification, Notification.kind == MENTION) == 1
    assert after["outbox_email"] == 2
    # two old entries went; the run's own entry came
    assert after["audit_entry"] == before["audit_entry"] - 2 + 1
    assert _count(ChatMessage, ChatMessage.created_at < _days_ago(730)) == 0
    assert _count(OutboxEmail, OutboxEmail.status == OutboxStatus.FAILED) == 1


def test_a_second_run_removes_nothing(old_and_new):
    apply_retention()
    audit_entries = _count(AuditEntry)
    again = apply_retention()
    assert again.total == 0
    assert _count(AuditEntry) == audit_entries  # nothing removed, nothing recorded
    assert all(line.startswith(("removed 0", "sign-in records:", "attendance records: kept"))
               for line in again.lines())


def test_the_chat_of_a_session_the_group_keeps_is_exempt(people, group):
    kept = _session(people, group, 1, keep_chat=True)
    plain = _session(people, group, 2)
    assert kept.keep_chat and not plain.keep_chat
    in_kept = _message(group, people["member"], age_days=900, workshop=kept).id
    in_plain = _message(group, people["member"], age_days=900, workshop=plain).id
    dry = apply_retention(dry_run=True)
    assert dry.count("chat_messages") == 1
    assert "1 kept: their session's transcript is kept" in "\n".join(dry.lines())
    apply_retention()
    db.session.expire_all()
    assert db.session.get(ChatMessage, in_kept) is not None
    assert db.session.get(ChatMessage, in_plain) is None


def test_an_open_report_keeps_its_message_and_a_resolved_one_goes_with_it(people, group):
    member, observer = people["member"], people["observer"]
    reported = _message(group, member, age_days=800)
    resolved = _message(group, member, age_days=800)
    reported_id = reported.id
    open_report = Report(group_id=group.id, chat_message_id=reported.id,
                         status=ReportStatus.OPEN, flag_count=1)
    closed_report = Report(group_id=group.id, chat_message_id=resolved.id,
                           status=ReportStatus.RESOLVED, resolution="dismissed", flag_count=1)
    db.session.add_all([open_report, closed_report])
    db.session.flush()
    db.session.add(ReportFlag(report_id=closed_report.id, reporter_id=observer.id,
                              reason="other"))
    db.session.commit()
    closed_id, open_id = closed_report.id, open_report.id
    report = apply_retention()
    assert report.count("chat_messages") == 1
    db.session.expire_all()
    assert db.session.get(ChatMessage, reported_id) is not None
    assert db.session.get(Report, open_id) is not None
    assert db.session.get(Report, closed_id) is None  # ON DELETE CASCADE, also on SQLite
    assert _count(ReportFlag, ReportFlag.report_id == closed_id) == 0


def test_zero_keeps_every_kind_forever(make_app, personas):
    app = make_app(FORUM_RETAIN_CHAT_DAYS=0, FORUM_RETAIN_NOTIFICATIONS_DAYS=0,
                   FORUM_MAIL_KEEP_DAYS=0, FORUM_RETAIN_FAILED_MAIL_DAYS=0,
                   FORUM_RETAIN_AUDIT_DAYS=0)
    with app.app_context():
        group, member = factories.group(personas.g1.id), factories.user(personas.member.id)
        _message(group, member, age_days=5000)
        db.session.add(Notification(user_id=member.id, kind="reply",
                                    created_at=_days_ago(5000)))
        db.session.commit()
        _email(member, status=OutboxStatus.SENT, age_days=5000)
        _email(member, status=OutboxStatus.FAILED, age_days=5000)
        _audit(9000)
        before = _table_counts()
        report = apply_retention()
        assert report.total == 0
        assert _table_counts() == before
        assert "chat messages: kept without a time limit (0 days)" in report.lines()


def test_audit_entries_go_only_through_retention_which_records_itself(people):
    _audit(2000)
    old = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "post.hide"))
    with pytest.raises(AuditLogImmutable):  # the ORM still refuses
        db.session.delete(old)
        db.session.flush()
    db.session.rollback()
    report = apply_retention()
    assert report.count("audit_entries") == 1
    assert _count(AuditEntry, AuditEntry.action == "post.hide") == 0
    [entry] = db.session.scalars(db.select(AuditEntry).where(
        AuditEntry.action == retention.AUDIT_ACTION)).all()
    assert entry.actor_id is None
    assert entry.details == {"audit_entries": 1}


def test_a_run_in_progress_blocks_another(ctx):
    holder = locks.acquire(retention.LOCK_NAME, timedelta(minutes=5), holder="elsewhere:1")
    try:
        with pytest.raises(locks.LockHeld):
            apply_retention()
        result = ctx.test_cli_runner().invoke(args=["forum", "apply-retention"])
        assert result.exit_code == 1
        assert "another retention run is in progress" in result.output
        assert apply_retention(dry_run=True).total == 0  # a dry run needs no lock
    finally:
        locks.release(retention.LOCK_NAME, holder)
    apply_retention()  # the lock is free again
    apply_retention()  # and a finished run released it


def test_the_command_prints_per_kind(app, old_and_new):
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["forum", "apply-retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove 2 chat messages (older than 730 days)" in dry.output
    assert "would remove 3 notifications (older than 180 days)" in dry.output
    assert "would remove 2 audit entries (older than 1825 days)" in dry.output
    assert "sign-in records: nothing to remove" in dry.output
    real = runner.invoke(args=["forum", "apply-retention"])
    assert "removed 2 chat messages" in real.output
    assert "removed 0" in runner.invoke(args=["forum", "apply-retention"]).output


def test_deletes_go_in_batches(old_and_new, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 1)
    report = apply_retention()
    assert {kind: report.count(kind) for kind in old_and_new} == old_and_new


def test_a_moderator_sets_keep_chat_on_the_session_form(app, personas, login_as):
    with app.app_context():
        group = factories.group(personas.g1.id)
        today = factories.make_workshop(None, group, theme="Sesja").day1
    moderator = login_as(personas.moderator)
    slug = personas.g1.slug
    page = moderator.get(f"/g/{slug}/sessions/1").get_data(as_text=True)
    assert "deleted 730 days after they were sent" in page
    assert 'name="keep_chat"' in moderator.get(f"/g/{slug}/sessions/1/edit").get_data(
        as_text=True)
    form = {"number": "1", "theme": "Sesja", "day1": today.isoformat(),
            "host_organisation_id": "0", "keep_chat": "y"}
    assert moderator.post(f"/g/{slug}/sessions/1/edit", data=form).status_code == 302
    member_view = login_as(personas.member).get(f"/g/{slug}/sessions/1").get_data(as_text=True)
    assert "The chat transcript of this session is kept" in member_view
    with app.app_context():
        entry = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action == "workshop.update")).one()
        assert entry.details.get("keep_chat") is True
    del form["keep_chat"]
    moderator.post(f"/g/{slug}/sessions/1/edit", data=form)
    assert "deleted 730 days" in moderator.get(f"/g/{slug}/sessions/1").get_data(as_text=True)


def test_record_audit_still_works_for_other_actions(people):
    # Retention's Core delete leaves the ORM guard in place for everything else.
    record_audit(people["admin"], "post.hide", target="x")
    db.session.commit()
    assert _count(AuditEntry) == 1


def test_attendance_is_kept_until_the_operator_sets_a_period(make_app, personas):
    """FORUM_RETAIN_ATTENDANCE_DAYS: 0 keeps it (the programme's reporting period); a period
    deletes the registrations, check-ins, certificates and evaluation submissions of sessions
    whose day 2 is older, and keeps the anonymous answers and newer sessions' records."""
    from forum.attendance.models import Certificate, CheckIn, Registration
    from forum.evaluation.models import EvaluationAnswer, EvaluationSubmission
    from tests.privacy.attendance_rows import add_session_records

    kinds = (Registration, CheckIn, Certificate, EvaluationSubmission, EvaluationAnswer)
    with make_app().app_context():  # the default: kept
        moderator = factories.user(personas.moderator.id)
        group = factories.group(personas.g1.id)
        people = [factories.user(personas.member.id), moderator]
        old = add_session_records(moderator, group, people, number=1, amendment={})
        old.workshop.day1 = old.workshop.day1 - timedelta(days=400)
        old.workshop.day2 = old.workshop.day1 + timedelta(days=1)
        db.session.commit()
        newer = add_session_records(moderator, group, people, number=2, amendment={},
                                    serial_prefix="N")
        old_id, newer_id = old.workshop.id, newer.workshop.id
        report = apply_retention()
        assert report.count("attendance") == 0
        assert "attendance records: kept without a time limit (0 days)" in report.lines()
        assert [_count(model) for model in kinds] == [4, 8, 4, 4, 4]
    with make_app(FORUM_RETAIN_ATTENDANCE_DAYS=365).app_context():
        dry = apply_retention(dry_run=True)
        assert dry.count("attendance") == 2 + 4 + 2 + 2
        report = apply_retention()
        assert report.count("attendance") == 10
        for model in kinds[:4]:
            assert _count(model, model.workshop_id == old_id) == 0
            assert _count(model, model.workshop_id == newer_id) > 0
        assert _count(EvaluationAnswer, EvaluationAnswer.workshop_id == old_id) == 2
        assert apply_retention().count("attendance") == 0
