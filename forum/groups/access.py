"""The group a page is about, for every feature's views (none imports another's views for it)."""

from __future__ import annotations

from flask_login import current_user

from forum.groups import services
from forum.groups.models import Group


def load_group(slug: str) -> Group:
    """The group for the signed-in user. A missing or closed group raises `NotFound`, which the
    app's error handler answers with the 404 page, saying nothing about closed groups."""
    return services.get_group_for(current_user, slug)
