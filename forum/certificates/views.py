"""Pages of forum.certificates (issue 17). Thin: rules live in forum.certificates.services."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("certificates", __name__)


@bp.route("/g/<slug>/sessions/<int:number>/certificate.pdf")
def download(slug: str, number: int):
    abort(404)  # placeholder: issue 17's work replaces it


@bp.route("/g/<slug>/sessions/<int:number>/certificates.zip")
def all_for_session(slug: str, number: int):
    abort(404)  # placeholder: issue 17's work replaces it
