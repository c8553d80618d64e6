"""Pages of forum.evaluation (issue 17). Thin: rules live in forum.evaluation.services."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("evaluation", __name__)


@bp.route("/g/<slug>/sessions/<int:number>/evaluation")
def session_evaluation(slug: str, number: int):
    abort(404)  # placeholder: issue 17's work replaces it
