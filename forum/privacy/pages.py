"""The privacy notice (/privacy) and the accessibility statement (/accessibility).

Each page is a generated frame around one text per language. The frame is built from the
settings every time, so it cannot drift from what the forum does: the controller
(FORUM_CONTROLLER), the data protection officer (FORUM_DPO_CONTACT), the table of what is kept
and for how long (the same FORUM_RETAIN_* settings `flask forum apply-retention` applies), what
happens to an erased person's posts (each group's `erased_posts`), and the accessibility
statement's body, dates and review date. The text inside (purposes, rights, compliance,
limitations, contact, procedure) is a default generated from `templates/privacy/
<key>_default.<locale>.md` with the settings filled in, until an administrator saves their own
Markdown for that language at /admin/site-texts (a `SiteText` row, sanitised by forum.text,
audited). Saving an empty text returns that language to the generated default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, render_template, url_for
from flask_babel import force_locale, lazy_ngettext
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from forum.accounts.models import User
from forum.audit.services import record_audit
from forum.config import LOCALES
from forum.errors import InvalidInput, NotFound
from forum.extensions import db
from forum.groups.policy import can_administer
from forum.privacy.models import SiteText
from forum.privacy.retention import days_for
from forum.text import render_markdown
from forum.timeutil import utcnow

KEYS = ("privacy", "accessibility")
TITLES = {"privacy": _l("Privacy notice"), "accessibility": _l("Accessibility statement")}
MAX_BODY = 50000
AUDIT_ACTION = "site_text.update"

ERASED_POSTS = {
    "anonymise": _l("Anonymised: the posts stay, shown as written by “former member”, without "
                    "your name."),
    "remove": _l("Removed: the text of the posts is deleted; a “post removed” placeholder "
                 "keeps the replies in order."),
}


# --- what is kept and for how long ----------------------------------------------------------


@dataclass(frozen=True)
class RetentionRow:
    what: str
    days: int | None  # None: no setting (kept while the account or the group exists)
    note: str = ""

    @property
    def period(self) -> str:
        if self.days is None:
            return str(_l("as long as the account exists"))
        if self.days <= 0:
            return str(_l("without a time limit"))
        return str(lazy_ngettext("%(num)d day", "%(num)d days", self.days))


def retention_rows(config=None) -> list[RetentionRow]:
    """The privacy page's table, from the settings the retention command applies."""
    config = config or current_app.config

    def days(kind: str) -> int:
        return days_for(kind, config)

    return [
        RetentionRow(str(_l("Your account and profile (name, e-mail address, organisation, "
                            "position, language, e-mail settings, time of your latest visit)")),
                     None, str(_l("Until the account is erased; then anonymised."))),
        RetentionRow(str(_l("Posts, threads, materials and good practices you share")), None,
                     str(_l("While the group exists; after an erasure as the group's setting "
                            "says (below)."))),
        RetentionRow(str(_l("Chat messages")), days("chat_messages"),
                     str(_l("Except the chat of a session whose group chose to keep its "
                            "transcript: the session page says so."))),
        RetentionRow(str(_l("Notifications in the forum and chat mentions")),
                     days("notifications")),
        RetentionRow(str(_l("Copies of e-mails the forum sent you")), days("sent_emails")),
        RetentionRow(str(_l("E-mails that could not be delivered")), days("failed_emails"),
                     str(_l("Counted from when the e-mail was queued."))),
        RetentionRow(str(_l("Your data exports (ZIP files)")), days("exports")),
        RetentionRow(str(_l("Server logs: sign-ins and pages requested")),
                     days("sign_in_records"),
                     str(_l("The database keeps no sign-in history and no network address. "
                            "The forum's own log messages name only the network your address "
                            "belongs to; the web server's access log may hold the full "
                            "address."))),
        RetentionRow(str(_l("Attendance at sessions: your registrations, the days you were "
                            "there, your certificates, which questionnaires you answered")),
                     days("attendance"),
                     str(_l("Kept for the programme's reporting period and its audits, counted "
                            "from the session's last day. Your answers to questionnaires are "
                            "anonymous and not linked to you. After an erasure the days you "
                            "attended stay as anonymous counts."))),
        RetentionRow(str(_l("Audit log of moderators' and administrators' actions")),
                     days("audit_entries")),
    ]


# --- the texts ------------------------------------------------------------------------------


def _url(endpoint: str, fallback: str, **values) -> str:
    try:
        return url_for(endpoint, **values)
    except BuildError:  # a feature not installed in this tree
        return fallback


def _contacts(config) -> dict:
    controller = config["FORUM_CONTROLLER"]
    dpo = config.get("FORUM_DPO_CONTACT", "")
    return {
        "controller": controller,
        "dpo_contact": dpo,
        "accessibility_contact": config.get("FORUM_ACCESSIBILITY_CONTACT", "") or dpo,
    }


def default_source(key: str, locale: str) -> str:
    """The generated Markdown of a page's text in one language (the settings filled in)."""
    config = current_app.config
    with force_locale(locale):
        return render_template(
            f"privacy/{key}_default.{locale}.md",
            site_name=config["FORUM_SITE_NAME"], base_url=config["FORUM_BASE_URL"],
            profile_url=_url("accounts.profile", "/profile"),
            data_url=_url("export.data", "/profile/data"),
            privacy_url=_url("privacy_pages.privacy", "/privacy"),
            remember_days=config["REMEMBER_COOKIE_DURATION"].days,
            **_contacts(config),
        ).strip() + "\n"


def _check(key: str, locale: str) -> None:
    if key not in KEYS or locale not in LOCALES:
        raise NotFound()


def get_site_text(key: str, locale: str) -> SiteText | None:
    return db.session.scalar(db.select(SiteText).where(SiteText.key == key,
                                                       SiteText.locale == locale))


@dataclass(frozen=True)
class PageText:
    key: str
    locale: str
    body_html: str
    edited: bool  # an administrator's text, not the generated default
    updated_at: datetime | None
    reviewed_on: date | None


def page_text(key: str, locale: str) -> PageText:
    """What a page shows in a language: the administrator's text, else the default."""
    _check(key, locale)
    row = get_site_text(key, locale)
    reviewed_on = row.reviewed_on if row is not None else None
    if key == "accessibility" and reviewed_on is None:
        # One review covers every language: the latest date entered in any of them.
        reviewed_on = db.session.scalar(db.select(db.func.max(SiteText.reviewed_on)).where(
            SiteText.key == key))
    if row is not None and row.body.strip():
        return PageText(key, locale, row.body_html, True, row.updated_at, reviewed_on)
    return PageText(key, locale, render_markdown(default_source(key, locale)), False,
                    row.updated_at if row is not None else None, reviewed_on)


def publication_date() -> date | None:
    """When the forum went into service: the day its first account was created."""
    first = db.session.scalar(db.select(db.func.min(User.created_at)))
    return first.date() if first is not None else None


def site_texts_overview(actor) -> list[tuple[str, str, SiteText | None]]:
    if not can_administer(actor):
        raise NotFound()
    rows = {(t.key, t.locale): t for t in db.session.scalars(db.select(SiteText))}
    return [(key, locale, rows.get((key, locale))) for key in KEYS for locale in LOCALES]


def get_site_text_for(actor, key: str, locale: str) -> SiteText | None:
    """Administrators only (NotFound for everyone else and for unknown keys or languages)."""
    if not can_administer(actor):
        raise NotFound()
    _check(key, locale)
    return get_site_text(key, locale)


def save_site_text(actor, key: str, locale: str, body: str,
                   reviewed_on: date | None = None) -> SiteText:
    """Store an administrator's text for one page and language (empty: the default again)."""
    if not can_administer(actor):
        raise NotFound()
    _check(key, locale)
    body = (body or "").replace("\r\n", "\n")
    if len(body) > MAX_BODY:
        raise InvalidInput({"body": _l("The text is too long (at most %(n)d characters).",
                                       n=MAX_BODY)})
    if reviewed_on is not None and reviewed_on > utcnow().date():
        raise InvalidInput({"reviewed_on": _l("The review date cannot be in the future.")})
    row = get_site_text(key, locale)
    before = row.body if row is not None else ""
    if row is None:
        row = SiteText(key=key, locale=locale)
        db.session.add(row)
    row.body = body if body.strip() else ""
    row.body_html = render_markdown(row.body)
    if key == "accessibility":
        row.reviewed_on = reviewed_on
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    record_audit(actor, AUDIT_ACTION, target=f"{key} ({locale})", subject=row, before=before,
                 details={"key": key, "locale": locale, "default": not row.body,
                          "reviewed_on": reviewed_on.isoformat() if reviewed_on else None})
    db.session.commit()
    return row


def preview(body: str) -> str:
    return render_markdown(body or "")
