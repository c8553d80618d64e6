"""/privacy and /accessibility (public, in the reader's language) and their editing by
administrators at /admin/site-texts (404 for everyone else)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import Length, Optional

from forum.config import LOCALES
from forum.errors import InvalidInput
from forum.forms import apply_errors
from forum.groups.services import list_groups_for
from forum.i18n import LANGUAGE_NAMES
from forum.privacy import pages

bp = Blueprint("privacy_pages", __name__)


class SiteTextForm(FlaskForm):
    body = TextAreaField(
        _l("Text (Markdown)"), validators=[Length(max=pages.MAX_BODY)],
        description=_l("Markdown: # headings, **bold**, lists with - and links. Leave empty "
                       "to show the generated default text again."))
    reviewed_on = DateField(
        _l("Date of the last accessibility review"), validators=[Optional()],
        description=_l("The day of the last automated check with axe-core and keyboard "
                       "review."))


def _locale() -> str:
    locale = str(get_locale() or "")
    return locale if locale in LOCALES else current_app.config["BABEL_DEFAULT_LOCALE"]


def _erased_posts_of_my_groups() -> list:
    if not current_user.is_authenticated:
        return []
    return [(summary.group, getattr(summary.group, "erased_posts", "anonymise"))
            for summary in list_groups_for(current_user)]


@bp.get("/privacy")
def privacy():
    config = current_app.config
    return render_template(
        "privacy/privacy.html", text=pages.page_text("privacy", _locale()),
        controller=config["FORUM_CONTROLLER"], dpo_contact=config["FORUM_DPO_CONTACT"],
        retention=pages.retention_rows(), erased_posts=pages.ERASED_POSTS,
        my_groups=_erased_posts_of_my_groups())


@bp.get("/accessibility")
def accessibility():
    return render_template(
        "privacy/accessibility.html", text=pages.page_text("accessibility", _locale()),
        controller=current_app.config["FORUM_CONTROLLER"],
        published_on=pages.publication_date())


# --- administrators -------------------------------------------------------------------------


@bp.get("/admin/site-texts")
@login_required
def site_texts():
    rows = pages.site_texts_overview(current_user)
    return render_template("admin/site_texts.html", rows=rows, titles=pages.TITLES,
                           languages=LANGUAGE_NAMES)


@bp.route("/admin/site-texts/<key>/<locale>", methods=["GET", "POST"])
@login_required
def edit_site_text(key: str, locale: str):
    row = pages.get_site_text_for(current_user, key, locale)
    form = SiteTextForm()
    if request.method == "GET":
        form.body.data = row.body if row is not None and row.body else \
            pages.default_source(key, locale)
        form.reviewed_on.data = row.reviewed_on if row is not None else None
    preview_html = None
    if form.validate_on_submit():
        if request.form.get("action") == "preview":
            preview_html = pages.preview(form.body.data)
        else:
            try:
                pages.save_site_text(current_user, key, locale, form.body.data or "",
                                     form.reviewed_on.data)
            except InvalidInput as error:
                apply_errors(form, error)
            else:
                flash(_("%(title)s (%(language)s) saved.", title=pages.TITLES[key],
                        language=LANGUAGE_NAMES[locale]), "success")
                return redirect(url_for("privacy_pages.site_texts"))
    return render_template(
        "admin/site_texts_edit.html", form=form, key=key, locale=locale, row=row,
        title=pages.TITLES[key], language=LANGUAGE_NAMES[locale], preview_html=preview_html,
        default_source=pages.default_source(key, locale)), 400 if form.errors else 200
