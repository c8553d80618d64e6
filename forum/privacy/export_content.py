"""What a person's data export contains: everything of THAT person only, as plain data.

`collect(user)` returns the structure written to `export.json` (documented in the README,
"Downloading your data"): a top-level entry per kind of data. The rule for other people's
data: only the person's own content is exported; other people appear as nothing more than
ids, and threads, groups and materials by their titles, for context. So a reply exports its
own text and the id of the post it answers, never that post's text or its author's name; a
report exports what the person wrote and the outcome, not the reported text; a notification
exports its kind and thread, not who caused it.

The `*_html` values are the sanitised HTML the forum stores (`forum.text`); `index.html`
shows only those as HTML and escapes everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlalchemy.orm import lazyload, selectinload

from forum.accounts.models import User
from forum.audit.models import AuditEntry
from forum.chat.models import MENTION, ChatMessage, ChatMute
from forum.discussions.models import Draft, Post, PostRevision, Reaction, Thread, ThreadRead
from forum.extensions import db
from forum.groups.models import Group, Invitation, Membership
from forum.materials.filetypes import safe_download_name
from forum.materials.models import GoodPractice, Material, MaterialVersion
from forum.moderation.models import Report, ReportFlag
from forum.notifications.models import (
    DigestDelivery,
    GroupWatch,
    Notification,
    OutboxEmail,
    ThreadWatch,
)
from forum.workshops.models import Workshop

FORMAT = "forum-personal-data-export"
FORMAT_VERSION = 1


def iso(moment: datetime | None) -> str | None:
    """UTC timestamps as ISO 8601 with a Z (every timestamp in the export is UTC)."""
    if moment is None:
        return None
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class ExportFile:
    """A stored file to copy into the ZIP under `path` (files/…)."""

    path: str
    storage_key: str
    size: int
    mime: str
    created_at: datetime


def _groups() -> dict[int, Group]:
    return {group.id: group for group in db.session.scalars(db.select(Group))}


def _group_ref(groups: dict[int, Group], group_id: int | None) -> dict | None:
    group = groups.get(group_id) if group_id is not None else None
    if group is None:
        return None
    return {"id": group.id, "slug": group.slug, "name": group.name}


def _profile(user: User) -> dict:
    organisation = user.organisation
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "organisation": organisation.name if organisation else None,
        "organisation_kind": organisation.kind if organisation else None,
        "position": user.position,
        "language": user.locale or None,
        "time_zone": user.time_zone or None,
        "active": user.active,
        "administrator": user.is_admin,
        "created_at": iso(user.created_at),
        "last_seen_at": iso(user.last_seen_at),
        "erasure_requested_at": iso(getattr(user, "erasure_requested_at", None)),
    }


def _memberships(user: User, groups) -> list[dict]:
    rows = db.session.scalars(db.select(Membership).options(lazyload(Membership.user))
                              .where(Membership.user_id == user.id).order_by(Membership.id))
    return [{"group": _group_ref(groups, m.group_id), "role": m.role,
             "since": iso(m.created_at)} for m in rows]


def _invitations(user: User, groups) -> list[dict]:
    rows = db.session.scalars(db.select(Invitation).where(Invitation.email == user.email)
                              .order_by(Invitation.id))
    return [{"id": i.id, "group": _group_ref(groups, i.group_id), "role": i.role,
             "created_at": iso(i.created_at), "expires_at": iso(i.expires_at),
             "accepted_at": iso(i.accepted_at), "revoked_at": iso(i.revoked_at)}
            for i in rows]


def _threads(thread_ids) -> dict[int, Thread]:
    ids = sorted(set(thread_ids))
    found: dict[int, Thread] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for thread in db.session.scalars(
                db.select(Thread).options(lazyload(Thread.author), lazyload(Thread.last_author),
                                          lazyload(Thread.materials))
                .where(Thread.id.in_(chunk))):
            found[thread.id] = thread
    return found


def _thread_ref(threads: dict[int, Thread], groups, thread_id: int | None) -> dict | None:
    thread = threads.get(thread_id) if thread_id is not None else None
    if thread is None:
        return None
    return {"id": thread.id, "title": thread.title, "group": _group_ref(groups, thread.group_id)}


def _posts(user: User, groups) -> tuple[list[dict], list[dict]]:
    posts = list(db.session.scalars(
        db.select(Post).options(lazyload(Post.author), lazyload(Post.reply_to))
        .where(Post.author_id == user.id).order_by(Post.id)))
    revisions: dict[int, list[PostRevision]] = {}
    for revision in db.session.scalars(
            db.select(PostRevision).options(lazyload(PostRevision.edited_by))
            .join(Post, PostRevision.post_id == Post.id)
            .where(Post.author_id == user.id).order_by(PostRevision.id)):
        revisions.setdefault(revision.post_id, []).append(revision)
    started = list(db.session.scalars(
        db.select(Thread).options(lazyload(Thread.author), lazyload(Thread.last_author),
                                  lazyload(Thread.materials))
        .where(Thread.author_id == user.id).order_by(Thread.id)))
    threads = _threads([p.thread_id for p in posts])
    exported = []
    for post in posts:
        exported.append({
            "id": post.id,
            "thread": _thread_ref(threads, groups, post.thread_id),
            "number": post.number,
            "reply_to_post_id": post.reply_to_id,
            "created_at": iso(post.created_at),
            "edited_at": iso(post.edited_at),
            "deleted_at": iso(post.deleted_at),
            "hidden_at": iso(post.hidden_at),
            "hidden_reason": post.hidden_reason or None,
            "moderation_note": post.moderation_note or None,
            "body": post.body,
            "body_html": post.body_html,
            # Earlier texts, oldest first; "moderator" when someone else made the edit.
            "revisions": [{"id": r.id, "replaced_at": iso(r.created_at), "body": r.body,
                           "edited_by": "self" if r.edited_by_id == user.id else "moderator"}
                          for r in revisions.get(post.id, [])],
        })
    threads_started = [{"id": t.id, "title": t.title, "group": _group_ref(groups, t.group_id),
                        "created_at": iso(t.created_at)} for t in started]
    return exported, threads_started


def _workshop_numbers() -> dict[int, int]:
    return dict(db.session.execute(db.select(Workshop.id, Workshop.number)).all())


def _chat(user: User, groups) -> tuple[list[dict], list[dict], list[dict]]:
    numbers = _workshop_numbers()
    messages = db.session.scalars(
        db.select(ChatMessage)
        .options(lazyload(ChatMessage.author), lazyload(ChatMessage.thread),
                 lazyload(ChatMessage.workshop))
        .where(ChatMessage.author_id == user.id).order_by(ChatMessage.id))
    exported = [{
        "id": m.id,
        "group": _group_ref(groups, m.group_id),
        "kind": m.kind,
        "session_number": numbers.get(m.workshop_id),
        "created_at": iso(m.created_at),
        "edited_at": iso(m.edited_at),
        "removed_at": iso(m.removed_at),
        # Removed by the person themselves (within the group's edit window), not a moderator.
        "removed_by_author": m.removed_at is not None and m.removed_by_id == m.author_id,
        "moderation_note": m.moderation_note or None,
        "body": m.body,
        "body_html": m.body_html,
    } for m in messages]
    # Mentions are notifications (also listed there); kept as a section of their own.
    mentions = [{"chat_message_id": message_id, "group": _group_ref(groups, group_id),
                 "read_at": iso(read_at)}
                for message_id, group_id, read_at in db.session.execute(
                    db.select(Notification.chat_message_id, Notification.group_id,
                              Notification.read_at)
                    .where(Notification.user_id == user.id, Notification.kind == MENTION)
                    .order_by(Notification.chat_message_id))]
    mutes = [{"group": _group_ref(groups, mute.group_id), "until": iso(mute.until),
              "created_at": iso(mute.created_at)}
             for mute in db.session.scalars(db.select(ChatMute).options(lazyload(ChatMute.user))
                                            .where(ChatMute.user_id == user.id))]
    return exported, mentions, mutes


def _reactions(user: User, groups) -> list[dict]:
    rows = db.session.execute(
        db.select(Reaction.post_id, Reaction.kind, Post.thread_id)
        .join(Post, Post.id == Reaction.post_id)
        .where(Reaction.user_id == user.id).order_by(Reaction.post_id, Reaction.kind)).all()
    threads = _threads([thread_id for _, _, thread_id in rows])
    return [{"post_id": post_id, "kind": kind, "thread": _thread_ref(threads, groups, thread_id)}
            for post_id, kind, thread_id in rows]


def _materials(user: User, groups) -> tuple[list[dict], list[dict], list[ExportFile]]:
    """Materials the person shared, and the versions (files) they uploaded to any material."""
    mine = db.select(MaterialVersion.material_id).where(
        MaterialVersion.uploaded_by_id == user.id)
    materials = list(db.session.scalars(
        db.select(Material)
        .options(lazyload(Material.uploaded_by), lazyload(Material.versions),
                 lazyload(Material.workshop), lazyload(Material.group))
        .where(or_(Material.uploaded_by_id == user.id, Material.id.in_(mine)))
        .order_by(Material.id)).unique())
    versions: dict[int, list[MaterialVersion]] = {}
    for version in db.session.scalars(
            db.select(MaterialVersion).options(lazyload(MaterialVersion.uploaded_by),
                                               lazyload(MaterialVersion.material))
            .where(MaterialVersion.uploaded_by_id == user.id)
            .order_by(MaterialVersion.material_id, MaterialVersion.number)):
        versions.setdefault(version.material_id, []).append(version)
    numbers = _workshop_numbers()
    files: list[ExportFile] = []
    exported, practices = [], []
    taken: set[str] = set()
    for material in materials:
        entries = []
        for version in versions.get(material.id, []):
            name = safe_download_name(version.original_name or "file", 100)
            path = f"files/{material.id}-v{version.number}-{name}"
            while path.casefold() in taken:  # never in practice: ids and numbers are unique
                path = f"files/{material.id}-v{version.number}-{len(taken)}-{name}"
            taken.add(path.casefold())
            files.append(ExportFile(path, version.storage_key, version.size, version.mime,
                                    version.created_at))
            entries.append({"number": version.number, "original_name": version.original_name,
                            "size": version.size, "sha256": version.sha256,
                            "mime": version.mime, "note": version.note or None,
                            "uploaded_at": iso(version.created_at), "file": path})
        exported.append({
            "id": material.id,
            "group": _group_ref(groups, material.group_id),
            "session_number": numbers.get(material.workshop_id),
            "title": material.title,
            "kind": material.kind,
            "language": material.language,
            "shared_by_me": material.uploaded_by_id == user.id,
            "created_at": iso(material.created_at),
            "deleted_at": iso(material.deleted_at),
            # The description is the sharer's text: only for materials the person shared.
            "description": material.description if material.uploaded_by_id == user.id
            else None,
            "description_html": material.description_html
            if material.uploaded_by_id == user.id else None,
            "versions_uploaded_by_me": entries,
        })
        practice = material.good_practice
        if practice is not None and material.uploaded_by_id == user.id:
            practices.append(_good_practice(material, practice, groups))
    return exported, practices, files


def _good_practice(material: Material, practice: GoodPractice, groups) -> dict:
    organisation = practice.contact_organisation
    return {
        "material_id": material.id,
        "title": material.title,
        "group": _group_ref(groups, material.group_id),
        "contact_organisation": organisation.name if organisation else None,
        **{f"{part}{suffix}": getattr(practice, f"{part}{suffix}")
           for part in ("problem", "actions", "results", "costs") for suffix in ("", "_html")},
    }


def _review_opinions(user: User, groups) -> dict:
    """What the person wrote in reviews of draft materials on behalf of their organisation:
    the opinions they last changed (with the earlier texts they replaced), the answers they
    submitted and the dispositions they recorded as author or moderator. Colleagues' texts in
    the same answer are left out."""
    from forum.reviews.models import (
        CommentDisposition,
        OpinionHistory,
        OrganisationAnswer,
        Review,
        SectionOpinion,
    )

    def review_ref(review: Review) -> dict:
        return {"id": review.id, "group": _group_ref(groups, review.group_id),
                "material": review.material.title, "question": review.question,
                "deadline": review.deadline.isoformat()}

    def section_ref(opinion: SectionOpinion) -> dict:
        return {"number": opinion.section.number, "heading": opinion.section.heading}

    replaced = db.select(OpinionHistory.opinion_id).where(OpinionHistory.written_by_id == user.id)
    opinions = db.session.scalars(
        db.select(SectionOpinion)
        .where(or_(SectionOpinion.updated_by_id == user.id, SectionOpinion.id.in_(replaced)))
        .options(selectinload(SectionOpinion.section),
                 selectinload(SectionOpinion.answer).selectinload(OrganisationAnswer.review)
                 .selectinload(Review.material))
        .order_by(SectionOpinion.id)).all()
    earlier: dict[int, list[dict]] = {}
    for entry in db.session.scalars(
            db.select(OpinionHistory).where(OpinionHistory.written_by_id == user.id)
            .order_by(OpinionHistory.id)):
        earlier.setdefault(entry.opinion_id, []).append(
            {"stance": entry.stance or None, "comment": entry.comment,
             "proposed_wording": entry.proposed_wording, "replaced_at": iso(entry.changed_at)})
    written = []
    for o in opinions:
        # An opinion a colleague changed last is theirs now: only the person's replaced
        # texts of it are exported.
        own = o.updated_by_id == user.id
        written.append({
            "review": review_ref(o.answer.review), "organisation": o.answer.organisation.name,
            "section": section_ref(o), "stance": (o.stance or None) if own else None,
            "comment": o.comment if own else None,
            "proposed_wording": o.proposed_wording if own else None,
            "updated_at": iso(o.updated_at) if own else None,
            "earlier_versions": earlier.get(o.id, [])})
    submitted = [{"review": review_ref(a.review), "organisation": a.organisation.name,
                  "status": a.status, "submitted_at": iso(a.submitted_at)}
                 for a in db.session.scalars(
                     db.select(OrganisationAnswer)
                     .where(OrganisationAnswer.submitted_by_id == user.id)
                     .order_by(OrganisationAnswer.id))]
    decided = [{"review": review_ref(d.opinion.answer.review),
                "section": section_ref(d.opinion),
                "organisation": d.opinion.answer.organisation.name,
                "outcome": d.outcome, "reason": d.reason, "decided_at": iso(d.decided_at)}
               for d in db.session.scalars(
                   db.select(CommentDisposition)
                   .where(CommentDisposition.decided_by_id == user.id)
                   .order_by(CommentDisposition.id))]
    return {"opinions": written, "answers_submitted": submitted, "dispositions": decided}


def _reports(user: User, groups) -> list[dict]:
    rows = db.session.execute(
        db.select(ReportFlag, Report)
        .options(lazyload("*"))  # none of the related rows (other people) are needed
        .join(Report, Report.id == ReportFlag.report_id)
        .where(ReportFlag.reporter_id == user.id).order_by(ReportFlag.id)).all()
    post_threads = dict(db.session.execute(
        db.select(Post.id, Post.thread_id).where(
            Post.id.in_([r.post_id for _, r in rows if r.post_id]))).all()) if rows else {}
    threads = _threads(post_threads.values())
    exported = []
    for flag, report in rows:
        if report.post_id is not None:
            item = {"type": "post", "post_id": report.post_id,
                    "thread": _thread_ref(threads, groups, post_threads.get(report.post_id))}
        else:
            item = {"type": "chat_message", "chat_message_id": report.chat_message_id}
        exported.append({
            "report_id": report.id,
            "group": _group_ref(groups, report.group_id),
            "reported_at": iso(flag.created_at),
            "reason": flag.reason,
            "text": flag.text,
            "item": item,
            # The outcome as the reporter is told it (hidden, edited, dismissed, warned).
            "status": report.status,
            "outcome": report.resolution or None,
            "resolved_at": iso(report.resolved_at),
        })
    return exported


def _notifications(user: User, groups) -> list[dict]:
    notices = list(db.session.scalars(
        db.select(Notification)
        .options(lazyload(Notification.actor), lazyload(Notification.thread),
                 lazyload(Notification.group))
        .where(Notification.user_id == user.id).order_by(Notification.id)))
    threads = _threads([n.thread_id for n in notices if n.thread_id])
    return [{"id": n.id, "kind": n.kind, "group": _group_ref(groups, n.group_id),
             "thread": _thread_ref(threads, groups, n.thread_id), "post_id": n.post_id,
             "chat_message_id": n.chat_message_id, "text": n.text or None,
             "created_at": iso(n.created_at), "read_at": iso(n.read_at),
             "emailed_at": iso(n.emailed_at)} for n in notices]


def _email(user: User, groups) -> tuple[dict, list[dict], list[dict]]:
    thread_watches = list(db.session.execute(
        db.select(ThreadWatch.thread_id, ThreadWatch.level)
        .where(ThreadWatch.user_id == user.id).order_by(ThreadWatch.thread_id)).all())
    threads = _threads([thread_id for thread_id, _ in thread_watches])
    settings = {
        "notification_emails": user.email_notifications,
        "session_digest": user.email_digest,
        "last_notification_email_at": iso(user.last_notification_email_at),
        "thread_watches": [{"thread": _thread_ref(threads, groups, thread_id), "level": level}
                           for thread_id, level in thread_watches],
        "group_watches": [{"group": _group_ref(groups, group_id), "level": level}
                          for group_id, level in db.session.execute(
                              db.select(GroupWatch.group_id, GroupWatch.level)
                              .where(GroupWatch.user_id == user.id)
                              .order_by(GroupWatch.group_id))],
    }
    # E-mails the forum sent or will send to the person (the bodies are not kept here: they
    # quote other people's posts; the person received them).
    emails = [{"id": e.id, "kind": e.kind, "to": e.to_address, "subject": e.subject,
               "status": e.status, "created_at": iso(e.created_at), "sent_at": iso(e.sent_at)}
              for e in db.session.scalars(db.select(OutboxEmail)
                                          .where(OutboxEmail.user_id == user.id)
                                          .order_by(OutboxEmail.id))]
    numbers = _workshop_numbers()
    digests = [{"group": _group_ref(groups, d.group_id),
                "session_number": numbers.get(d.workshop_id), "period": d.period,
                "created_at": iso(d.created_at)}
               for d in db.session.scalars(db.select(DigestDelivery)
                                           .where(DigestDelivery.user_id == user.id)
                                           .order_by(DigestDelivery.id))]
    return settings, emails, digests


def _reading(user: User, groups) -> list[dict]:
    rows = db.session.execute(
        db.select(ThreadRead.thread_id, ThreadRead.last_read_number)
        .where(ThreadRead.user_id == user.id).order_by(ThreadRead.thread_id)).all()
    threads = _threads([thread_id for thread_id, _ in rows])
    return [{"thread": _thread_ref(threads, groups, thread_id), "last_read_post_number": number}
            for thread_id, number in rows]


def _drafts(user: User, groups) -> list[dict]:
    """What the person was writing and had not sent (kept so it follows them to another
    device): replies by thread, new threads by group."""
    drafts = list(db.session.scalars(db.select(Draft).where(Draft.user_id == user.id)
                                     .order_by(Draft.id)))
    threads = _threads([d.thread_id for d in drafts if d.thread_id is not None])
    return [{"kind": "reply" if d.thread_id is not None else "new_thread",
             "group": _group_ref(groups, d.group_id),
             "thread": _thread_ref(threads, groups, d.thread_id), "title": d.title,
             "text": d.body, "saved_at": iso(d.saved_at)} for d in drafts]


def _audit(user: User, groups) -> tuple[list[dict], list[dict]]:
    """Recorded actions about the person (warnings, account changes, exports of their data)
    and the moderation or administration actions they took themselves. Other people's names
    (the acting moderator, the `target` column, earlier texts) are left out."""
    about = [{"id": e.id, "action": e.action, "group": _group_ref(groups, e.group_id),
              "reason": e.reason or None, "created_at": iso(e.created_at)}
             for e in db.session.scalars(
                 db.select(AuditEntry).options(lazyload("*"))
                 .where(AuditEntry.subject_type == User.__tablename__,
                        AuditEntry.subject_id == user.id).order_by(AuditEntry.id))]
    taken = [{"id": e.id, "action": e.action, "group": _group_ref(groups, e.group_id),
              "subject_type": e.subject_type or None, "subject_id": e.subject_id,
              "created_at": iso(e.created_at)}
             for e in db.session.scalars(
                 db.select(AuditEntry).options(lazyload("*"))
                 .where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id))]
    return about, taken


def _exports(user: User) -> list[dict]:
    from forum.privacy.models import DataExport

    return [{"id": e.id, "requested_by": "self" if e.requested_by_id == user.id
             else "administrator", "status": e.status, "created_at": iso(e.created_at),
             "finished_at": iso(e.finished_at), "expires_at": iso(e.expires_at)}
            for e in db.session.scalars(db.select(DataExport)
                                        .where(DataExport.user_id == user.id)
                                        .order_by(DataExport.id))]


CALENDAR_NOTE = (
    "The forum does not record when a private calendar address was reset, so there is no "
    "history of resets to export. This is the current state. The address itself is left out: "
    "anyone who has it can read your calendar; it is shown on the forum's session pages.")


def _polls(user: User, groups) -> dict:
    """The polls the person started and the ballots they cast (or last changed, for their
    organisation): the options with the value each got (1 = chosen; a rank; points; 2/1/0 =
    yes / if need be / no). Anonymous polls included: the export is the person's own."""
    from forum.polls.models import Ballot, Poll

    def poll_ref(poll: Poll) -> dict:
        return {"id": poll.id, "group": _group_ref(groups, poll.group_id), "kind": poll.kind,
                "question": poll.question, "anonymous": poll.anonymous,
                "per_organisation": poll.per_organisation, "closes_at": iso(poll.closes_at),
                "closed_at": iso(poll.closed_at)}

    started = [dict(poll_ref(p), details=p.details, created_at=iso(p.created_at),
                    options=[o.label for o in p.options])
               for p in db.session.scalars(
                   db.select(Poll).where(Poll.created_by_id == user.id)
                   .options(selectinload(Poll.options)).order_by(Poll.id))]
    ballots = []
    for b in db.session.scalars(
            db.select(Ballot).where(Ballot.cast_by_id == user.id)
            .options(selectinload(Ballot.poll).selectinload(Poll.options))
            .order_by(Ballot.id)):
        labels = {o.id: o.label for o in b.poll.options}
        ballots.append({
            "poll": poll_ref(b.poll),
            "organisation": b.organisation.name if b.poll.per_organisation and b.organisation
            else None,
            "marks": [{"option": labels.get(m.option_id, ""), "value": m.value}
                      for m in sorted(b.marks, key=lambda m: m.option_id)],
            "reason": b.reason, "cast_at": iso(b.cast_at), "changed_at": iso(b.changed_at)})
    return {"started": started, "ballots": ballots}


def _library(user: User, groups) -> dict:
    """What the person wrote about good practices: their messages to and from contact
    persons (their own messages only) and the adoptions they recorded."""
    from forum.library.models import PracticeAdoption, PracticeConversation, PracticeMessage

    messages = [{"practice": m_title, "conversation_id": conversation_id, "body": body,
                 "created_at": iso(created_at)}
                for conversation_id, m_title, body, created_at in db.session.execute(
                    db.select(PracticeMessage.conversation_id, Material.title,
                              PracticeMessage.body, PracticeMessage.created_at)
                    .join(PracticeConversation,
                          PracticeConversation.id == PracticeMessage.conversation_id)
                    .join(Material, Material.id == PracticeConversation.material_id)
                    .where(PracticeMessage.author_id == user.id)
                    .order_by(PracticeMessage.id))]
    adoptions = [{"practice": title, "organisation_id": organisation_id, "note": note,
                  "recorded_at": iso(created_at)}
                 for title, organisation_id, note, created_at in db.session.execute(
                     db.select(Material.title, PracticeAdoption.organisation_id,
                               PracticeAdoption.note, PracticeAdoption.created_at)
                     .join(Material, Material.id == PracticeAdoption.material_id)
                     .where(PracticeAdoption.recorded_by_id == user.id)
                     .order_by(PracticeAdoption.id))]
    return {"messages": messages, "adoptions_recorded": adoptions}


def _session_ref(groups, workshop: Workshop | None) -> dict | None:
    if workshop is None:
        return None
    return {"group": _group_ref(groups, workshop.group_id), "number": workshop.number,
            "theme": workshop.theme, "day1": workshop.day1.isoformat(),
            "day2": workshop.day2.isoformat()}


def _organisation_names(ids) -> dict[int, str]:
    from forum.accounts.models import Organisation

    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(db.select(Organisation.id, Organisation.name)
                                   .where(Organisation.id.in_(ids))).all())


def _attendance(user: User, groups) -> tuple[dict, dict]:
    """The person's registrations (which days), check-ins (day, how, when) and certificates
    (number, date). Who ticked them off is another person: only "self" or "moderator"."""
    from forum.attendance.models import Certificate, CheckIn, Registration

    registrations = list(db.session.scalars(
        db.select(Registration).options(lazyload(Registration.user),
                                        lazyload(Registration.organisation))
        .where(Registration.user_id == user.id).order_by(Registration.id)))
    check_ins = list(db.session.scalars(
        db.select(CheckIn).options(lazyload(CheckIn.user), lazyload(CheckIn.organisation))
        .where(CheckIn.user_id == user.id).order_by(CheckIn.workshop_id, CheckIn.day)))
    certificates = list(db.session.scalars(
        db.select(Certificate).options(lazyload(Certificate.user))
        .where(Certificate.user_id == user.id).order_by(Certificate.issued_at, Certificate.id)))
    workshop_ids = {r.workshop_id for r in (*registrations, *check_ins, *certificates)}
    workshops = {w.id: w for w in db.session.scalars(
        db.select(Workshop).where(Workshop.id.in_(workshop_ids or {0})))}
    names = _organisation_names([r.organisation_id for r in (*registrations, *check_ins)])
    attendance = {
        "recorded": True,
        "registrations": [{
            "session": _session_ref(groups, workshops.get(r.workshop_id)),
            "days": [day for day, on in ((1, r.day1), (2, r.day2)) if on],
            "organisation": names.get(r.organisation_id),
            "registered_at": iso(r.created_at), "changed_at": iso(r.updated_at),
            "reminded_at": iso(r.reminded_at)} for r in registrations],
        "check_ins": [{
            "session": _session_ref(groups, workshops.get(c.workshop_id)),
            "day": c.day, "method": c.method,
            "recorded_by": "self" if c.recorded_by_id in (None, user.id) else "moderator",
            "organisation": names.get(c.organisation_id),
            "at": iso(c.created_at)} for c in check_ins],
    }
    issued = {"recorded": True, "items": [{
        "serial": c.serial, "issued_at": iso(c.issued_at),
        "session": _session_ref(groups, workshops.get(c.workshop_id))} for c in certificates]}
    return attendance, issued


EVALUATION_NOTE = (
    "Which sessions' questionnaires you answered. What you answered is not linked to you (the "
    "answers are anonymous), so it cannot be part of your data.")


def _evaluation(user: User, groups) -> dict:
    from forum.evaluation.models import EvaluationSubmission

    rows = db.session.execute(
        db.select(EvaluationSubmission.submitted_at, Workshop)
        .join(Workshop, Workshop.id == EvaluationSubmission.workshop_id)
        .where(EvaluationSubmission.user_id == user.id)
        .order_by(EvaluationSubmission.submitted_at, EvaluationSubmission.id)).all()
    return {"answered": [{"session": _session_ref(groups, workshop),
                          "submitted_at": iso(submitted_at)} for submitted_at, workshop in rows],
            "note": EVALUATION_NOTE}


def _minutes(user: User, groups) -> dict:
    """The amendments the person proposed to a session's minutes (their own text)."""
    from forum.minutes.models import Minutes, MinutesAmendment

    rows = db.session.execute(
        db.select(MinutesAmendment, Workshop)
        .options(lazyload(MinutesAmendment.author), lazyload(MinutesAmendment.minutes))
        .join(Minutes, Minutes.id == MinutesAmendment.minutes_id)
        .join(Workshop, Workshop.id == Minutes.workshop_id)
        .where(MinutesAmendment.author_id == user.id).order_by(MinutesAmendment.id)).all()
    return {"amendments": [{"session": _session_ref(groups, workshop), "text": a.text,
                            "text_html": a.text_html, "state": a.state,
                            "proposed_at": iso(a.created_at), "decided_at": iso(a.decided_at)}
                           for a, workshop in rows]}


def collect(user: User, *, export_id: int, requested_by_admin: bool, generated_at: datetime,
            site: str, base_url: str) -> tuple[dict, list[ExportFile]]:
    """The export's data (the structure of export.json) and the files to include."""
    groups = _groups()
    posts, threads_started = _posts(user, groups)
    chat_messages, chat_mentions, chat_mutes = _chat(user, groups)
    materials, good_practices, files = _materials(user, groups)
    email_settings, emails, digests = _email(user, groups)
    about_me, my_actions = _audit(user, groups)
    attendance, certificates = _attendance(user, groups)
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "export_id": export_id,
        "generated_at": iso(generated_at),
        "site": {"name": site, "address": base_url},
        "requested_by": "administrator" if requested_by_admin else "self",
        "profile": _profile(user),
        "memberships": _memberships(user, groups),
        "invitations": _invitations(user, groups),
        "threads_started": threads_started,
        "posts": posts,
        "reactions": _reactions(user, groups),
        "chat_messages": chat_messages,
        "chat_mentions": chat_mentions,
        "chat_mutes": chat_mutes,
        "materials": materials,
        "good_practices": good_practices,
        "reports": _reports(user, groups),
        "reviews": _review_opinions(user, groups),
        "polls": _polls(user, groups),
        "library": _library(user, groups),
        "notifications": _notifications(user, groups),
        "email_settings": email_settings,
        "emails": emails,
        "digests": digests,
        "reading_positions": _reading(user, groups),
        "drafts": _drafts(user, groups),
        "calendar": {"token_resets_recorded": False, "resets": [],
                     "private_feed_available": True, "note": CALENDAR_NOTE},
        "audit_about_me": about_me,
        "audit_my_actions": my_actions,
        "data_exports": _exports(user),
        "attendance": attendance,
        "certificates": certificates,
        "evaluation": _evaluation(user, groups),
        "minutes": _minutes(user, groups),
    }
    return data, files
