"""Flask-Login wiring: sessions name a user by their rotating alternative id."""

from __future__ import annotations

import time

from flask import flash, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature
from sqlalchemy import bindparam

from forum.accounts.models import User
from forum.extensions import db, login_manager

login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


def signed_in_user_query():
    """The active person a session names, by the bound parameter "alternative_id"
    (Flask-Login's loader is forum.web.load_signed_in, which adds what every page needs to
    this query and builds it once)."""
    return db.select(User).where(User.alternative_id == bindparam("alternative_id"),
                                 User.active.is_(True))


class DailyRenewedSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions whose expiry moves on at most once a day, not on every response.

    Flask renews a permanent session's cookie on every response (signing it again and sending
    Set-Cookie with every page). A session still lasts PERMANENT_SESSION_LIFETIME from the last
    day it was used; a changed session is sent at once as before.
    """

    RENEW_AFTER_SECONDS = 24 * 3600

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            data, signed_at = serializer.loads(
                value, max_age=int(app.permanent_session_lifetime.total_seconds()),
                return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at.timestamp()
        return session

    def should_set_cookie(self, app, session) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or time.time() - signed_at > self.RENEW_AFTER_SECONDS


@login_manager.unauthorized_handler
def unauthorized():
    flash(login_manager.login_message, "info")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


# --- known browsers ---------------------------------------------------------------------------

# A signed cookie listing the accounts that have signed in from this browser (or were unlocked
# in it by the e-mailed link). For those, failed sign-ins elsewhere do not slow this browser
# down (forum.accounts.throttle). It names account ids only, and grants nothing by itself.
KNOWN_COOKIE = "forum_known"
KNOWN_MAX_ACCOUNTS = 10
KNOWN_MAX_AGE = 180 * 86400


def _known_serializer():
    from flask import current_app
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="known-browser")


def known_account_ids() -> frozenset[int]:
    raw = request.cookies.get(KNOWN_COOKIE)
    if not raw:
        return frozenset()
    try:
        ids = _known_serializer().loads(raw)
    except BadSignature:
        return frozenset()
    return frozenset(i for i in ids if isinstance(i, int)) if isinstance(ids, list) else \
        frozenset()


def remember_known_account(response, user_id: int):
    """Add the account to this browser's known ones (the newest first, at most ten)."""
    from flask import current_app

    ids = [user_id, *(i for i in known_account_ids() if i != user_id)][:KNOWN_MAX_ACCOUNTS]
    response.set_cookie(KNOWN_COOKIE, _known_serializer().dumps(ids), max_age=KNOWN_MAX_AGE,
                        httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
