"""Pages of forum.attendance (issue 17). Thin: rules live in forum.attendance.services."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("attendance", __name__)


@bp.route("/g/<slug>/sessions/<int:number>/attendance")
def session_attendance(slug: str, number: int):
    abort(404)  # placeholder: issue 17's work replaces it
