from forum.materials import models  # noqa: F401  (placeholder until the views exist)
from flask import Blueprint

bp = Blueprint("materials", __name__)


@bp.get("/g/<slug>/materials/")
def index(slug):
    return ""


@bp.get("/g/<slug>/materials/new")
def create(slug):
    return ""
