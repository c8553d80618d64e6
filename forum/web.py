"""Request-wide behaviour: security headers, error pages, template helpers, last seen."""

from __future__ import annotations

import logging
from functools import lru_cache

from babel.units import format_unit
from flask import Flask, g, has_request_context, render_template, request
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import String, cast, func
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import Forbidden, HTTPException
from werkzeug.exceptions import NotFound as PageNotFound
from werkzeug.middleware.proxy_fix import ProxyFix

from forum import i18n
from forum.accounts.login import DailyRenewedSessions, signed_in_user_query
from forum.accounts.models import User
from forum.accounts.services import MIN_PASSWORD_LENGTH
from forum.errors import NotFound, PermissionDenied, denial_reason
from forum.extensions import db, login_manager
from forum.fragments import fragments
from forum.groups import policy
from forum.groups.access import load_group
from forum.groups.models import Membership, Role
from forum.links import UrlPattern, page_numbers, template_url_for
from forum.notifications.inbox import UNREAD_COUNT_KEY, unread_notification_count
from forum.notifications.models import Notification
from forum.realtime.server import SocketEndpointGuard
from forum.text import unstorable

log = logging.getLogger(__name__)
security_log = logging.getLogger("forum.security")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("Too large to accept"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}
ERROR_TEXTS = {
    400: _l("The request could not be understood."),
    403: _l("You are not allowed to do this."),
    404: _l("There is nothing here, or you do not have access to it."),
    405: _l("This address does not accept this kind of request."),
    429: _l("You have done this too often. Wait a moment and try again."),
    500: _l("The forum could not finish your request. It has been logged; please try again."),
}


def format_size(size: int) -> str:
    """A file size in the reader's language: "744 B", "1,2 kB", "3.4 MB"."""
    return _format_size(size, i18n.request_locale_name())


@lru_cache(maxsize=4096)
def _format_size(size: int, locale: str) -> str:
    value, unit = float(size), "digital-byte"
    for bigger in ("digital-kilobyte", "digital-megabyte", "digital-gigabyte"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    value = round(value) if unit == "digital-byte" or value >= 100 else round(value, 1)
    return format_unit(value, unit, length="short", locale=locale)


@lru_cache(maxsize=1)
def _signed_in_statement():
    # Built once: composing this statement costs about as much as running it.
    roles = (db.select(func.aggregate_strings(
        cast(Membership.group_id, String) + ":" + Membership.role, ","))
        .where(Membership.user_id == User.id).scalar_subquery())
    unread = (db.select(func.count()).select_from(Notification)
              .where(Notification.user_id == User.id, Notification.read_at.is_(None))
              .scalar_subquery())
    return signed_in_user_query().add_columns(roles, unread)


def load_signed_in(alternative_id: str) -> User | None:
    """Flask-Login's user loader: the person a session names, with their memberships (for
    every permission check) and their unread notification count (for the header), in one
    query: one round trip to the database where there were three on every page."""
    row = db.session.execute(_signed_in_statement(), {"alternative_id": alternative_id}).first()
    if row is None:
        return None
    user, memberships, unread_count = row
    policy.remember_roles(user, {int(group_id): role for group_id, role in (
        item.split(":", 1) for item in (memberships or "").split(",") if item)})
    if has_request_context():
        g.setdefault(UNREAD_COUNT_KEY, unread_count)
    return user


def log_denial(error: BaseException) -> None:
    """Every refusal by the authorisation layer, with who, what and why (OWASP ASVS 16.3.2):
    `forum.security` "denied actor=<user id or anonymous> target=<method path> endpoint=…
    reason=<kind at where-decided>"."""
    actor = current_user.id if current_user.is_authenticated else "anonymous"
    security_log.warning("denied actor=%s target=%s %s endpoint=%s reason=%s", actor,
                         request.method, request.path, request.endpoint, denial_reason(error))


def init_app(app: Flask) -> None:
    login_manager.user_loader(load_signed_in)
    app.session_interface = DailyRenewedSessions()
    i18n.share_wtforms_catalogues(app)
    # Outside Engine.IO's middleware (installed by socketio.init_app), inside the proxy fix.
    app.wsgi_app = SocketEndpointGuard(app.wsgi_app, hsts=app.config["SESSION_COOKIE_SECURE"])
    if app.config["FORUM_TRUST_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    @app.before_request
    def refuse_unstorable_text():
        """A NUL byte in a form or query (nothing a person types) is refused before any view
        could store it: PostgreSQL cannot keep it and SQLite would (issue 18)."""
        if request.method in ("POST", "PUT", "PATCH") or request.args:
            values = [*request.args.values(), *(request.form.values()
                                                 if request.method != "GET" else ())]
            if any(unstorable(value) for value in values):
                return render_template(
                    "errors/error.html", code=400, title=ERROR_TITLES[400],
                    text=_l("What you sent contains a character that cannot be stored (a NUL "
                            "byte), so nothing was saved. Go back, remove it and send again.")), 400
        return None

    @app.before_request
    def remember_last_seen():
        if current_user.is_authenticated:
            from forum.accounts.services import touch_last_seen

            touch_last_seen(current_user._get_current_object())

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if current_user.is_authenticated and not request.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        # Show back what was typed (never passwords) so nothing is lost.
        return render_template("errors/csrf.html", kept=kept_form_input()), 400

    def forbidden_in_group():
        """On a 403 under /g/<slug>/: the group (to offer the way back) and whether the person
        only observes it (to say why). Only for someone who may see the group: everyone else
        gets a 404 before any 403."""
        slug = (request.view_args or {}).get("slug")
        if not slug or not current_user.is_authenticated:
            return None, False
        try:
            group = load_group(slug)
        except NotFound:
            return None, False
        return group, policy.role_in(current_user, group) == Role.OBSERVER

    @app.errorhandler(HTTPException)
    def http_error(error):
        code = error.code or 500
        if code == 403 and isinstance(error, Forbidden) and error.__traceback__ is not None:
            log_denial(error)  # abort(403) in a view; a service's refusal is logged below
        group, observer = forbidden_in_group() if code == 403 else (None, False)
        return render_template(
            "errors/error.html",
            code=code, group=group, observer=observer,
            title=ERROR_TITLES.get(code) or _l("Error %(code)d", code=code),
            text=_l("What you sent is larger than the limit of %(mb)d MB, so nothing was saved. "
                    "Go back and choose a smaller file.",
                    mb=app.config["FORUM_MAX_UPLOAD_MB"]) if code == 413
            else ERROR_TEXTS.get(code) or _l("The request could not be completed."),
        ), code

    # A service's NotFound / PermissionDenied reaching a view gives the same 404 / 403 page as
    # Flask's `abort`, so views call services without wrapping them. Flask picks the handler of
    # the nearest class, so these win over Exception below (which re-raises when testing). No
    # rollback here, as with `abort`: nothing is committed, and the request's end removes the
    # session.
    @app.errorhandler(NotFound)
    def not_found(error):
        log_denial(error)
        return http_error(PageNotFound())

    @app.errorhandler(PermissionDenied)
    def permission_denied(error):
        log_denial(error)
        return http_error(Forbidden())

    def kept_form_input() -> dict[str, str]:
        """What the person typed into the refused form (never passwords), to show back."""
        return {key: value for key, value in request.form.items()
                if key not in {"csrf_token", "client_token"} and "password" not in key
                and value.strip()}

    @app.errorhandler(OperationalError)
    def database_busy(error):
        """SQLite's write lock stayed taken longer than the busy timeout (issue 18, finding
        3): nothing was saved. Say so with a 503 and Retry-After, and show back what was typed,
        instead of the generic 500 page."""
        if "database is locked" not in str(error.orig if hasattr(error, "orig") else error):
            return unexpected_error(error)
        log.warning("database busy on %s %s: %s", request.method, request.path, error)
        from forum.extensions import db

        db.session.rollback()
        return render_template("errors/busy.html", kept=kept_form_input()), 503, {
            "Retry-After": "5"}

    @app.errorhandler(Exception)
    def unexpected_error(error):
        if app.testing:
            raise error
        log.exception("unhandled error on %s %s", request.method, request.path)
        from forum.extensions import db

        db.session.rollback()
        return render_template(
            "errors/error.html", code=500, title=ERROR_TITLES[500], text=ERROR_TEXTS[500]
        ), 500

    def unread_notifications() -> int:
        # Read with the person (load_signed_in); counted again only when the request marked
        # notifications read.
        if UNREAD_COUNT_KEY not in g:
            setattr(g, UNREAD_COUNT_KEY, unread_notification_count(current_user)
                    if current_user.is_authenticated else 0)
        return g.get(UNREAD_COUNT_KEY)

    app.add_template_filter(format_size, "filesize")
    # Helpers for the rows of a page (per-page translations, cached dates, links from a prefix).
    app.add_template_global(i18n.PageText, "page_text")
    app.add_template_global(i18n.short_datetime, "short_datetime")
    app.add_template_global(i18n.date_range, "date_range")
    app.add_template_global(UrlPattern, "url_pattern")
    app.add_template_global(fragments, "fragments")
    app.add_template_global(page_numbers, "page_numbers")
    app.add_template_global(template_url_for, "url_for")  # kept addresses (forum.links)

    @app.context_processor
    def template_helpers():
        return {
            "get_locale": get_locale,
            "format_datetime": format_datetime,
            "format_date": format_date,
            "policy": policy,
            "min_password_length": MIN_PASSWORD_LENGTH,
            "unread_notifications": unread_notifications,
            "languages": i18n.LANGUAGE_NAMES,
            "site_name": app.config["FORUM_SITE_NAME"],
            "page_title": g.get("page_title"),
        }
