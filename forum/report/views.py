"""Pages of forum.report (issue 17). Thin: rules live in forum.report.services.

Site administrators only; anyone else gets 404, as everywhere under /admin."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import format_decimal
from flask_login import current_user, login_required

from forum.groups.policy import can_administer
from forum.report import services

bp = Blueprint("report", __name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def only_administrators():
    if not can_administer(current_user):
        abort(404)


def _report():
    filters, errors = services.parse_filters(request.args)
    return services.build_report(filters), errors


@bp.get("/admin/report")
def index():
    report, errors = _report()
    return render_template(
        "report/index.html", report=report, errors=errors, tables=services.table_rows(report),
        groups=services.group_choices(), number=format_decimal,
        export_args={key: request.args[key] for key in ("from", "to", "group")
                     if request.args.get(key) and key not in errors})


@bp.get("/admin/report.<any(csv, xlsx):fmt>")
def export(fmt: str):
    report, _errors = _report()
    name = report.filters.file_stem()
    if fmt == "csv":
        return Response(services.csv_text(report), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(services.xlsx_bytes(report), mimetype=XLSX_MIME,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
