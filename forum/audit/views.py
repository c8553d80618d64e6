"""The audit log pages: a group's log for its moderators, and the helpers the admin log shares.

`/g/<slug>/moderation/audit` and `.csv` (blueprint `audit`); `/admin/audit` and `.csv` live in
forum/admin/views.py and use the same filters, table and CSV export from here. Read-only: there
is no way to change or delete an entry (see the guard in audit/services.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from forum.audit import services
from forum.groups.access import load_group
from forum.groups.services import ROLES
from forum.ids import query_id
from forum.timeutil import utcnow

bp = Blueprint("audit", __name__)


class AuditFilterForm(FlaskForm):
    """Filters sent with GET (bookmarkable, no CSRF token needed: nothing changes)."""

    class Meta:
        csrf = False

    group = SelectField(_l("Group"), coerce=int, validate_choice=False, validators=[Optional()])
    actor = StringField(_l("Who (part of a name or e-mail address)"), validators=[Optional()])
    action = SelectField(_l("Action"), validate_choice=False, validators=[Optional()])
    subject_type = SelectField(_l("Kind of item"), validate_choice=False,
                               validators=[Optional()])
    item = StringField(_l("Item (part of its name)"), validators=[Optional()])
    # Not shown: internal numbers are not something people know; old links still work.
    subject_id = IntegerField(validators=[Optional(), NumberRange(min=1)])
    date_from = DateField(_l("From (date)"), validators=[Optional()])
    date_to = DateField(_l("To (date, included)"), validators=[Optional()])


def filter_form(*, groups=None) -> tuple[AuditFilterForm, services.AuditFilters]:
    """The filter form from the query string and the filters it means (bad values ignored)."""
    form = AuditFilterForm(request.args)
    form.action.choices = [("", _("— any action —")),
                           *sorted(((k, str(v)) for k, v in services.AUDIT_ACTIONS.items()),
                                   key=lambda kv: kv[1])]
    form.subject_type.choices = [("", _("— any kind —")),
                                 *((k, str(v)) for k, v in services.SUBJECT_TYPES.items())]
    form.group.choices = [(0, _("— all groups —")), *((g.id, g.name) for g in groups or [])]
    form.validate()

    def value(field):
        return None if field.errors else field.data

    filters = services.AuditFilters(
        group_id=value(form.group) or None if groups is not None else None,
        actor=(value(form.actor) or "")[:200],
        action=value(form.action) if value(form.action) in services.AUDIT_ACTIONS else "",
        subject_type=value(form.subject_type)
        if value(form.subject_type) in services.SUBJECT_TYPES else "",
        subject_id=value(form.subject_id),
        item=(value(form.item) or "")[:200],
        date_from=value(form.date_from),
        date_to=value(form.date_to),
        time_zone=str(get_timezone()),
    )
    return form, filters


def query_args(**changes) -> dict:
    """The current filters as URL arguments (for the next page and the CSV link)."""
    args = {k: v for k, v in request.args.items() if v and k != "before"}
    args.update(changes)
    return args


def render_log(template: str, *, entries, next_before, form, **context):
    return render_template(
        template, entries=entries, next_before=next_before, form=form,
        actions=services.AUDIT_ACTIONS, subject_types=services.SUBJECT_TYPES,
        links=services.audit_links(current_user, entries), query_args=query_args,
        roles=ROLES, **context)


def csv_response(entries, filename_stem: str) -> Response:
    filename = f"{filename_stem}-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(services.audit_csv_lines(entries)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Content-Type": "text/csv; charset=utf-8",
                 "Cache-Control": "no-store"},
    )


@bp.get("/g/<slug>/moderation/audit")
@login_required
def group_log(slug: str):
    group = load_group(slug)  # 404 for people who cannot see the group
    form, filters = filter_form()
    entries, next_before = services.list_audit(
        current_user, filters, request.args.get("before", type=query_id), group=group)
    actors = services.audit_actors(current_user, group=group)
    return render_log("audit/group_log.html", entries=entries, next_before=next_before,
                      form=form, group=group, actors=actors,
                      page_url=lambda **a: url_for("audit.group_log", slug=slug, **a),
                      csv_url=url_for("audit.group_csv", slug=slug, **query_args()))


@bp.get("/g/<slug>/moderation/audit.csv")
@login_required
def group_csv(slug: str):
    group = load_group(slug)
    _form, filters = filter_form()
    entries = services.iter_audit(current_user, filters, group=group)  # checks at the call
    return csv_response(entries, f"audit-{group.slug}")
