"""The audit log: every administrator and moderator action, who did it, and when."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from forum.errors import NotFound
from forum.extensions import db
from forum.groups.policy import can_administer
from forum.moderation.models import AuditEntry

# How each recorded action is named in the audit log.
AUDIT_ACTIONS = {
    "user.create": _l("account created"),
    "user.activate": _l("account reactivated"),
    "user.deactivate": _l("account deactivated"),
    "user.admin": _l("administrator rights granted"),
    "user.unadmin": _l("administrator rights removed"),
    "organisation.create": _l("organisation created"),
    "organisation.update": _l("organisation changed"),
    "group.create": _l("group created"),
    "group.update": _l("group settings changed"),
    "membership.add": _l("member added"),
    "membership.role": _l("role changed"),
    "membership.remove": _l("member removed"),
    "invitation.create": _l("invitation sent"),
    "invitation.revoke": _l("invitation withdrawn"),
    "invitation.accept": _l("invitation accepted"),
    "workshop.create": _l("session created"),
    "workshop.update": _l("session changed"),
    "workshop.cancel": _l("session cancelled"),
    "workshop.reinstate": _l("session reinstated"),
    "material.create": _l("material shared"),
    "material.version": _l("new version of a material"),
    "material.update": _l("material changed"),
    "material.delete": _l("material deleted"),
    "material.review": _l("material opened for review"),
    "material.review_close": _l("review of a material closed"),
    "thread.pin": _l("thread pinned"),
    "thread.unpin": _l("thread unpinned"),
    "thread.lock": _l("thread locked"),
    "thread.unlock": _l("thread unlocked"),
    "thread.move": _l("thread moved to another session"),
    "post.hide": _l("post hidden"),
    "post.unhide": _l("post shown again"),
    "post.delete": _l("post deleted by a moderator"),
    "chat.remove": _l("chat message removed"),
    "chat.mute": _l("member muted in the chat"),
    "chat.unmute": _l("member unmuted in the chat"),
    "chat.slow_mode": _l("chat slow mode changed"),
    "chat.edit": _l("chat message edited by a moderator"),
    "post.edit": _l("post edited by a moderator"),
    "report.dismiss": _l("report dismissed"),
    "user.warn": _l("member warned"),
    "thread.close": _l("thread closed with a summary"),
    "thread.reopen": _l("thread reopened"),
    "thread.rename": _l("thread renamed"),
    "thread.merge": _l("threads merged"),
    "thread.split": _l("posts split into a new thread"),
    "thread.conclusion": _l("conclusion marked"),
    "thread.conclusion_clear": _l("conclusion unmarked"),
    "thread.agenda_mark": _l("thread marked for the next session"),
    "thread.agenda_unmark": _l("thread no longer marked for the next session"),
    "workshop.agenda": _l("agenda items added to a session"),
}


def record_audit(actor, action: str, *, group=None, target: str = "", details=None,
                 subject=None, reason: str = "", before: str = "") -> AuditEntry:
    """Add an entry to the caller's transaction (it is committed with the change it records).

    `subject` is the model instance acted on (its table name and id are kept, so the log can
    be filtered by item); `reason` is the moderator's why; `before` the content before the
    change, where content changed.
    """
    if subject is not None and subject.id is None:
        db.session.flush()
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        group_id=group.id if group is not None else None,
        action=action,
        target=target[:200],
        details=details or {},
        subject_type=subject.__tablename__ if subject is not None else "",
        subject_id=subject.id if subject is not None else None,
        reason=reason or "",
        before=before or "",
    )
    db.session.add(entry)
    return entry


def list_audit(actor, *, before_id: int | None = None, limit: int = 50):
    """Newest first, keyset-paginated by id."""
    if not can_administer(actor):
        raise NotFound()
    statement = db.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if before_id:
        statement = statement.where(AuditEntry.id < before_id)
    entries = list(db.session.scalars(statement))
    return entries[:limit], (entries[limit - 1].id if len(entries) > limit else None)
