"""E-mail settings of a person and the unsubscribe links that work without signing in."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from forum.accounts.models import User
from forum.errors import InvalidInput, PermissionDenied
from forum.extensions import db

EVERY, DAILY, WEEKLY, NONE = "every", "daily", "weekly", "none"
FREQUENCIES = {
    EVERY: _l("Every event (at most one e-mail every few minutes)"),
    DAILY: _l("A daily summary"),
    WEEKLY: _l("A weekly summary"),
    NONE: _l("No notification e-mails"),
}
SCOPE_NOTIFICATIONS, SCOPE_DIGEST = "notifications", "digest"
SCOPES = (SCOPE_NOTIFICATIONS, SCOPE_DIGEST)


# --- absolute links in e-mails ---------------------------------------------------------------


def absolute_url(endpoint: str, **values) -> str:
    """A link for an e-mail, built from FORUM_BASE_URL (no request needed)."""
    base = urlsplit(current_app.config["FORUM_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


# --- unsubscribe links -----------------------------------------------------------------------


class LinkProblem(InvalidInput):
    """An unsubscribe link that cannot be used; `expired` tells the two cases apart."""

    def __init__(self, message, expired: bool = False):
        super().__init__({"": message})
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"],
                                  salt="forum.notifications.unsubscribe")


def unsubscribe_token(user: User, scope: str) -> str:
    if scope not in SCOPES:
        raise ValueError(scope)
    return _serializer().dumps({"u": user.id, "s": scope})


def unsubscribe_url(user: User, scope: str) -> str:
    return absolute_url("notifications.unsubscribe", token=unsubscribe_token(user, scope))


def read_unsubscribe_token(token: str) -> tuple[User, str]:
    """The person and scope of a link; LinkProblem when tampered with or too old."""
    max_age = current_app.config["FORUM_UNSUBSCRIBE_DAYS"] * 86400
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkProblem(_l("This unsubscribe link has expired. Sign in to change your "
                             "e-mail settings."), expired=True) from None
    except BadSignature:
        raise LinkProblem(_l("This link is not valid. It may have been copied incompletely; "
                             "sign in to change your e-mail settings.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or data.get("s") not in SCOPES:
        raise LinkProblem(_l("This link is not valid. It may have been copied incompletely; "
                             "sign in to change your e-mail settings."))
    return user, data["s"]


def unsubscribe(token: str) -> tuple[User, str]:
    """Turn off what the link is for. Idempotent: using the link again changes nothing."""
    user, scope = read_unsubscribe_token(token)
    if scope == SCOPE_NOTIFICATIONS:
        user.email_notifications = NONE
    else:
        user.email_digest = False
    db.session.commit()
    return user, scope


def is_unsubscribed(user: User, scope: str) -> bool:
    return user.email_notifications == NONE if scope == SCOPE_NOTIFICATIONS \
        else not user.email_digest


# --- settings --------------------------------------------------------------------------------


def update_email_settings(actor, user: User, *, notifications: str, digest: bool) -> None:
    if actor is None or actor.id != user.id:
        raise PermissionDenied()
    if notifications not in FREQUENCIES:
        raise InvalidInput({"email_notifications": _l("Choose one of the options.")})
    user.email_notifications = notifications
    user.email_digest = bool(digest)
    db.session.commit()
