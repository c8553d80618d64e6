"""The moderation desk: reports queue, a report with its context, the report forms."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from forum.chat import services as chat_services
from forum.discussions import services as discussions
from forum.errors import InvalidInput
from forum.forms import apply_errors
from forum.groups.access import load_group
from forum.groups.policy import can_handle_reports
from forum.moderation import reports
from forum.moderation.forms import ReportForm, ResolveForm
from forum.moderation.models import ReportStatus

bp = Blueprint("moderation", __name__)

# Other tools of the desk, linked when the feature that serves them is installed:
# (endpoint, label).
DESK_TOOLS = (
    ("audit.group_log", _l("Audit log of the group")),
    # The threads marked "bring to the next session" are listed on that session's page.
    ("workshops.index", _l("Sessions and their agenda")),
)


def _desk_tools(group) -> list[tuple[str, str]]:
    tools = []
    for endpoint, label in DESK_TOOLS:
        if endpoint in current_app.view_functions:
            tools.append((url_for(endpoint, slug=group.slug), label))
    return tools


def _status() -> str:
    return ReportStatus.RESOLVED if request.args.get("status") == "resolved" \
        else ReportStatus.OPEN


# --- the desk --------------------------------------------------------------------------------


@bp.get("/g/<slug>/moderation")
@login_required
def desk(slug: str):
    """The group's moderation desk: the reports queue first (open, or resolved)."""
    group = load_group(slug)
    status = _status()
    page = reports.list_reports(current_user, group=group, status=status,
                                cursor=request.args.get("after"))
    return render_template("moderation/desk.html", group=group, page=page, status=status,
                           open_count=reports.open_report_count(current_user, group),
                           tools=_desk_tools(group), reasons=reports.REASONS)


@bp.get("/moderation")
@login_required
def all_groups():
    """Every group's reports, for administrators."""
    status = _status()
    page = reports.list_reports(current_user, status=status, cursor=request.args.get("after"))
    return render_template("moderation/desk.html", group=None, page=page, status=status,
                           open_count=None, tools=[], reasons=reports.REASONS)


def _report(slug: str, report_id: int):
    group = load_group(slug)
    if not can_handle_reports(current_user, group):
        abort(403)  # a member of the group; the service answers NotFound to anyone else
    return group, reports.get_report_for(current_user, group, report_id)


def _resolve_choices(report) -> list[tuple[str, str]]:
    if report.post is not None:
        hide, edit = _("Hide the post"), _("Edit the post (with a public note)")
    else:
        hide, edit = (_("Remove the message"),
                      _("Edit the message (with a public note)"))
    return [(reports.HIDE, hide), (reports.EDIT, edit),
            (reports.DISMISS, _("Dismiss the report: nothing to change")),
            (reports.WARN, _("Warn the author (a private notice)"))]


@bp.route("/g/<slug>/moderation/reports/<int:report_id>", methods=["GET", "POST"])
@login_required
def report(slug: str, report_id: int):
    """One report with its context, and the form that resolves it."""
    group, report = _report(slug, report_id)
    form = ResolveForm()
    form.action.choices = _resolve_choices(report)
    if request.method == "GET":
        item = report.post or report.chat_message
        form.new_body.data = item.body if item is not None else ""
    elif report.status != ReportStatus.OPEN:
        form.form_errors.append(_("This report was already resolved."))
    elif form.validate_on_submit():
        try:
            reports.resolve_report(current_user, report, form.action.data or "",
                                   note=form.note.data or "", new_body=form.new_body.data,
                                   redact=bool(form.redact.data))
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("The report is resolved; the people who reported it are told."), "success")
            return redirect(url_for("moderation.desk", slug=slug))
    elif not form.errors:
        form.form_errors.append(_("The form had expired. Please send it again."))
    context = reports.report_context(current_user, report)
    return render_template("moderation/report.html", group=group, report=report,
                           context=context, form=form, reasons=reports.REASONS,
                           open_count=reports.open_report_count(current_user, group),
                           chat_link=chat_services.chat_link), \
        400 if form.errors or form.form_errors else 200


# --- reporting -------------------------------------------------------------------------------


def _report_form(group, item_kind: str, item, check, submit, back_url: str):
    """GET: the form (or why the item cannot be reported); POST: report, or show the form
    again with what was typed and why it failed."""
    form = ReportForm()
    problem = None
    if request.method == "GET":
        try:
            check(current_user, item)
        except InvalidInput as error:
            problem = " ".join(str(m) for m in error.errors.values())
    elif form.validate_on_submit():
        try:
            submit(current_user, item, form.reason.data or "", form.text.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Thank you, the moderators will look at it."), "success")
            return redirect(back_url)
    elif not form.errors:
        form.form_errors.append(_("The form had expired. Please send it again."))
    return render_template("moderation/report_form.html", group=group, form=form,
                           item_kind=item_kind, item=item, problem=problem,
                           back_url=back_url), 400 if form.errors or form.form_errors else 200


@bp.route("/g/<slug>/p/<int:post_id>/report", methods=["GET", "POST"])
@login_required
def report_post(slug: str, post_id: int):
    group = load_group(slug)
    post = discussions.get_post_for(current_user, group, post_id)
    return _report_form(group, "post", post, reports.check_post_reportable, reports.report_post,
                        url_for("discussions.post_link", slug=slug, post_id=post.id))


@bp.route("/g/<slug>/chat/messages/<int:message_id>/report", methods=["GET", "POST"])
@login_required
def report_message(slug: str, message_id: int):
    group = load_group(slug)
    message = chat_services.get_message_for(current_user, group, message_id)
    return _report_form(group, "message", message, reports.check_message_reportable,
                        reports.report_chat_message, chat_services.chat_link(group, [message]))


# --- for other features' templates -----------------------------------------------------------


@bp.app_context_processor
def moderation_helpers():
    def open_reports(group) -> int | None:
        """Open reports of the group for the group navigation (None: not a moderator)."""
        if not current_user.is_authenticated:
            return None
        cache = g.setdefault("open_report_counts", {})
        if group.id not in cache:
            cache[group.id] = reports.open_report_count(current_user, group)
        return cache[group.id]

    return {"open_reports": open_reports}
