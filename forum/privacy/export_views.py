"""Export my data: the person's page and download, the administrator's page and download.

Who can download an export (anybody else gets 404, whatever their role):
- the person whose data it is, at /profile/data/exports/<id>.zip — also an export an
  administrator asked for (it is their data, and they are told about it);
- for an export an administrator asked for, that administrator, at
  /admin/users/<user>/exports/<id>.zip (every download recorded in the audit log). Other
  administrators see that the export exists, not its content.
Expired, unfinished and failed exports are 404 for everybody.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts import services as accounts
from forum.accounts.forms import EmptyForm
from forum.errors import InvalidInput
from forum.mailings import worker
from forum.privacy import export
from forum.timeutil import utcnow

bp = Blueprint("export", __name__)


def _flash_errors(error: InvalidInput) -> None:
    for message in error.errors.values():
        flash(message, "error")


def _send(item, *, as_administrator: bool = False):
    stream = export.open_download(current_user, item, as_administrator=as_administrator)
    response = send_file(stream, mimetype="application/zip", as_attachment=True,
                         download_name=export.download_name(item), max_age=0,
                         conditional=False)
    if item.size:
        response.content_length = item.size
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- the person ------------------------------------------------------------------------------


@bp.get("/profile/data")
@login_required
def data():
    user = current_user._get_current_object()
    now = utcnow()

    def link(item):
        if export.is_downloadable(item, now):
            return url_for("export.download", export_id=item.id)
        return None

    return render_template("privacy/data.html", exports=export.exports_of(user, user),
                           downloadable=lambda item: export.is_downloadable(item, now),
                           link=link, keep_days=export.keep_days())


@bp.post("/profile/data/exports")
@login_required
def request_export():
    user = current_user._get_current_object()
    if EmptyForm().validate_on_submit():
        try:
            export.request_export(user, user)
        except InvalidInput as error:
            _flash_errors(error)
        else:
            worker.nudge(current_app)  # built in the background, but without waiting a poll
            flash(_("Your data is being collected. You will get an e-mail and a notification "
                    "when the file is ready."), "success")
    return redirect(url_for("export.data"))


@bp.get("/profile/data/exports/<int:export_id>.zip")
@login_required
def download(export_id: int):
    item = export.get_download_for(current_user, export_id)
    return _send(item)


# --- an administrator ------------------------------------------------------------------------


def _admin_user(user_id: int):
    return accounts.get_user_for_admin(current_user, user_id)  # 404 unless an administrator


@bp.get("/admin/users/<int:user_id>/export")
@login_required
def admin_page(user_id: int):
    user = _admin_user(user_id)
    now = utcnow()

    def link(item):  # only the exports this administrator asked for
        if export.is_downloadable(item, now) and item.requested_by_id == current_user.id:
            return url_for("export.admin_download", user_id=user.id, export_id=item.id)
        return None

    return render_template("privacy/data_admin.html", user=user,
                           exports=export.exports_of(current_user, user),
                           downloadable=lambda item: export.is_downloadable(item, now),
                           link=link, keep_days=export.keep_days())


@bp.post("/admin/users/<int:user_id>/export")
@login_required
def admin_request(user_id: int):
    user = _admin_user(user_id)
    if EmptyForm().validate_on_submit():
        try:
            export.request_export(current_user, user)
        except InvalidInput as error:
            _flash_errors(error)
        else:
            worker.nudge(current_app)
            flash(_("The data of %(name)s is being collected. Download the file from this "
                    "page when it is ready.", name=user.name), "success")
    return redirect(url_for("export.admin_page", user_id=user.id))


@bp.get("/admin/users/<int:user_id>/exports/<int:export_id>.zip")
@login_required
def admin_download(user_id: int, export_id: int):
    _admin_user(user_id)
    item = export.get_download_for(current_user, export_id, user_id=user_id,
                                   as_administrator=True)
    return _send(item, as_administrator=True)
