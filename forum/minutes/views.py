"""Pages of forum.minutes (issue 17). Thin: rules live in forum.minutes.services."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("minutes", __name__)


@bp.route("/g/<slug>/sessions/<int:number>/minutes")
def session_minutes(slug: str, number: int):
    abort(404)  # placeholder: issue 17's work replaces it
