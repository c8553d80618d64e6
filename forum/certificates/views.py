"""Pages of forum.certificates (issue 17). Thin: rules live in forum.certificates.services."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, render_template, send_file
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.certificates import services
from forum.extensions import db
from forum.i18n import short_datetime
from forum.workshops import services as workshops

bp = Blueprint("certificates", __name__)
log = logging.getLogger(__name__)


def _font_missing(error: services.FontMissing, group):
    log.error("%s", error)
    return render_template(
        "errors/error.html", code=503, group=group, observer=False,
        title=_("Certificates cannot be made at the moment"),
        text=_("The font the certificates need is missing on the server. Please tell the "
               "site's administrators.")), 503


@bp.route("/g/<slug>/sessions/<int:number>/certificate.pdf")
@login_required
def download(slug: str, number: int):
    group, workshop = workshops.get_group_and_workshop_for(current_user, slug, number)
    try:
        data = services.own_certificate(current_user, group, workshop)
        pdf = services.pdf_in_language_of(data)
    except services.NotYetAvailable as error:
        db.session.rollback()
        return render_template(
            "errors/error.html", code=404, group=group, observer=False,
            title=_("Your certificate is not ready yet"),
            text=_("You can download your certificate of attendance once the last day you "
                   "attended is over: from %(when)s.",
                   when=short_datetime(error.available_at))), 404
    except services.FontMissing as error:
        db.session.rollback()
        return _font_missing(error, group)
    db.session.commit()  # the certificate's number, fixed at the first download
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{services.download_name(workshop)}"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/g/<slug>/sessions/<int:number>/certificates.zip")
@login_required
def all_for_session(slug: str, number: int):
    group, workshop = workshops.get_group_and_workshop_for(current_user, slug, number)
    try:
        out = services.session_zip_file(current_user, group, workshop)
    except services.FontMissing as error:
        db.session.rollback()
        return _font_missing(error, group)
    response = send_file(
        out, mimetype="application/zip", as_attachment=True,
        download_name=f"certificates-{services.safe_file_stem(group.slug)}-session-"
                      f"{workshop.number}.zip")
    response.headers["Cache-Control"] = "private, no-store"
    return response
