"""The HTTP side of threads read live: one post as the thread page shows it to this reader.

static/js/thread_live.js fetches it when `post_created` or `post_changed` arrives over
`/threads` and takes the post's `<li>` out of it. It is the thread page itself, holding only
that post, so the markup (reactions, reply links, moderation tools, hidden-post placeholders)
is exactly the page's, under the same authorisation: 404 for a missing thread, a missing post
and a closed group alike.
"""

from __future__ import annotations

from flask import make_response
from flask_login import current_user, login_required

from forum.discussions import services
from forum.discussions.forms import ReplyForm
from forum.discussions.thread_page import bp, load_thread, render_thread


@bp.get("/g/<slug>/t/<int:thread_id>/posts/<int:number>/fragment")
@login_required
def post_fragment(slug: str, thread_id: int, number: int):
    group, thread = load_thread(slug, thread_id)
    view = services.post_view(current_user, thread, number)
    html, status = render_thread(group, view, ReplyForm(formdata=None))
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
