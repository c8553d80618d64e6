"""Flask-Login wiring: sessions name a user by their rotating alternative id."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from forum.accounts.models import User
from forum.extensions import db, login_manager

login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


def signed_in_user_query(alternative_id: str):
    """The active person a session names (Flask-Login's loader is forum.web.load_signed_in,
    which adds what every page needs to this query)."""
    return db.select(User).where(User.alternative_id == alternative_id, User.active.is_(True))


@login_manager.unauthorized_handler
def unauthorized():
    flash(login_manager.login_message, "info")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
