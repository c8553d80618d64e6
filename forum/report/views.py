"""Pages of forum.report (issue 17). Thin: rules live in forum.report.services."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("report", __name__)


@bp.route("/admin/report")
def index():
    abort(404)  # placeholder: issue 17's work replaces it
