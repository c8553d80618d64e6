"""Every page × every persona: the status each one gets (closed groups answer 404)."""

import io
from datetime import timedelta

import pytest

from forum.chat import services as chat
from forum.discussions import services as discussions
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.library import services as library
from forum.materials import services as materials
from forum.materials.models import Material
from forum.moderation import reports
from forum.moderation.models import Report
from forum.polls import services as polls
from forum.privacy import export
from forum.recommendations import services as recommendations
from forum.reviews import services as reviews
from forum.timeutil import utcnow
from forum.tournaments import services as tournaments
from forum.workshops import services as workshops
from tests import factories
from tests.conftest import without_csrf_token
from tests.materials import samples

PERSONAS = ["anonymous", "outsider", "observer", "member", "moderator", "admin"]
SIGNED_IN = PERSONAS[1:]
GROUP_READERS = {"observer", "member", "moderator", "admin"}


def _expected_group_page(persona):
    if persona == "anonymous":
        return 302
    return 200 if persona in GROUP_READERS else 404


def _expected_manager_page(persona):
    """Moderators' forms: members see the group but may not use them."""
    if persona in ("member", "observer"):
        return 403
    return _expected_group_page(persona)


def _expected_uploader_page(persona):
    return 403 if persona == "observer" else _expected_group_page(persona)


def _expected_admin_page(persona):
    return {"anonymous": 302, "admin": 200}.get(persona, 404)


PAGES = [
    # (url template, expectation per persona)
    ("/", lambda p: 302 if p == "anonymous" else 200),
    ("/healthz", lambda p: 200),
    ("/login", lambda p: 200 if p == "anonymous" else 302),
    ("/password/forgot", lambda p: 200),
    ("/profile", lambda p: 302 if p == "anonymous" else 200),
    ("/profile/password", lambda p: 302 if p == "anonymous" else 200),
    ("/g/{g1}/", _expected_group_page),
    ("/g/{g1}/members", _expected_group_page),
    ("/g/no-such-group/", lambda p: 302 if p == "anonymous" else 404),
    ("/g/no-such-group/members", lambda p: 302 if p == "anonymous" else 404),
    ("/g/{g1}/sessions/", _expected_group_page),
    ("/g/{g1}/sessions/1", _expected_group_page),
    ("/g/{g1}/sessions/2", lambda p: 302 if p == "anonymous" else 404),
    ("/g/{g1}/sessions/new", _expected_manager_page),
    ("/g/{g1}/sessions/1/edit", _expected_manager_page),
    ("/g/{g1}/sessions.ics", lambda p: 404 if p in ("anonymous", "outsider") else 200),
    ("/calendar.ics", lambda p: 404 if p == "anonymous" else 200),
    ("/g/{g1}/materials/", _expected_group_page),
    ("/g/{g1}/materials/new", _expected_uploader_page),
    ("/g/{g1}/materials/{material}", _expected_group_page),
    ("/g/{g1}/materials/{material}/download", _expected_group_page),
    ("/g/{g1}/materials/{material}/v1/download", _expected_group_page),
    ("/g/{g1}/materials/{material}/v2/download", lambda p: 302 if p == "anonymous" else 404),
    ("/g/{g1}/materials/{material}/edit", lambda p: 302 if p == "anonymous" else 404),
    ("/admin/", _expected_admin_page),
    ("/admin/organisations", _expected_admin_page),
    ("/admin/organisations/{org}", _expected_admin_page),
    ("/admin/users", _expected_admin_page),
    ("/admin/users/new", _expected_admin_page),
    ("/admin/users/{member_id}", _expected_admin_page),
    ("/admin/groups", _expected_admin_page),
    ("/admin/groups/new", _expected_admin_page),
    ("/admin/groups/{g1_id}", _expected_admin_page),
    ("/admin/audit", _expected_admin_page),
    ("/admin/audit.csv", _expected_admin_page),
    ("/admin/site-texts", _expected_admin_page),
    ("/admin/site-texts/privacy/pl", _expected_admin_page),
    ("/admin/site-texts/accessibility/en", _expected_admin_page),
    ("/privacy", lambda p: 200),
    ("/accessibility", lambda p: 200),
    # Data exports are personal: the member's own, and one an administrator made of it.
    ("/profile/data", lambda p: 302 if p == "anonymous" else 200),
    ("/profile/data/exports/{export}.zip", lambda p: {"anonymous": 302, "member": 200}.get(p, 404)),
    ("/profile/data/exports/{admin_export}.zip",
     lambda p: {"anonymous": 302, "member": 200}.get(p, 404)),
    ("/admin/users/{member_id}/export", _expected_admin_page),
    # Deleting an account: one's own request; the administrators' confirmation.
    ("/profile/delete", lambda p: 302 if p == "anonymous" else 200),
    ("/admin/users/{member_id}/erase", _expected_admin_page),
    ("/admin/users/{member_id}/exports/{export}.zip", lambda p: 302 if p == "anonymous" else 404),
    ("/admin/users/{member_id}/exports/{admin_export}.zip", _expected_admin_page),
    ("/g/{g1}/t/{thread}", _expected_group_page),
    ("/g/{g1}/p/{post}/report", _expected_group_page),
    ("/g/{g1}/chat/messages/{message}/report", _expected_group_page),
    ("/g/{g1}/moderation", _expected_manager_page),
    ("/g/{g1}/moderation?status=resolved", _expected_manager_page),
    ("/g/{g1}/moderation/reports/{report}", _expected_manager_page),
    ("/g/{g1}/moderation/audit", _expected_manager_page),
    ("/g/{g1}/moderation/audit.csv", _expected_manager_page),
    ("/moderation", _expected_admin_page),
    ("/g/{g1}/sessions/1/recap", _expected_group_page),
    ("/g/{g1}/sessions/1/recap.zip", _expected_group_page),
    ("/g/{g1}/sessions/2/recap", lambda p: 302 if p == "anonymous" else 404),
    ("/g/{g1}/since/1", _expected_group_page),
    ("/g/{g1}/since/2", lambda p: 302 if p == "anonymous" else 404),
    ("/profile/email", lambda p: 302 if p == "anonymous" else 200),
    ("/g/{g1}/t/{thread}/posts/1/fragment", _expected_group_page),
    ("/g/{g1}/t/{thread}/posts/9/fragment", lambda p: 302 if p == "anonymous" else 404),
    # Reviews of draft materials: the group reads; moderators open them and see the board.
    ("/g/{g1}/reviews/", _expected_group_page),
    ("/g/{g1}/reviews/{review}", _expected_group_page),
    ("/g/{g1}/reviews/{review}/opinions", _expected_group_page),
    ("/g/{g1}/reviews/{review}/report", _expected_group_page),
    ("/g/{g1}/reviews/{review}/report.csv", _expected_group_page),
    ("/g/{g1}/reviews/{review}/report.docx", _expected_group_page),
    ("/g/{g1}/reviews/{review}/compare", _expected_group_page),
    ("/g/{g1}/reviews/{review}/board", _expected_manager_page),
    ("/g/{g1}/materials/{material}/reviews/new", _expected_manager_page),
    ("/g/{g1}/reviews/999", lambda p: 302 if p == "anonymous" else 404),
    ("/g/{g1}/polls/", _expected_group_page),
    ("/g/{g1}/polls/new", _expected_uploader_page),
    ("/g/{g1}/polls/new?thread={thread}", _expected_uploader_page),
    ("/g/{g1}/polls/{poll}", _expected_group_page),
    ("/g/{g1}/polls/{poll}/results", _expected_group_page),
    ("/g/{g1}/polls/{poll}/card", _expected_group_page),
    ("/g/{g1}/polls/999", lambda p: 302 if p == "anonymous" else 404),
    ("/g/{g1}/recommendations/", _expected_group_page),
    ("/g/{g1}/recommendations/{recommendation}", _expected_group_page),
    ("/g/{g1}/recommendations.csv", _expected_group_page),
    ("/g/{g1}/recommendations.docx", _expected_group_page),
    ("/g/{g1}/recommendations/new", _expected_manager_page),
    ("/g/{g1}/recommendations/999", lambda p: 302 if p == "anonymous" else 404),
    ("/recommendations/", lambda p: 302 if p == "anonymous" else 200),
    ("/recommendations.csv", lambda p: 302 if p == "anonymous" else 200),
    ("/library/", lambda p: 302 if p == "anonymous" else 200),
    ("/library/messages/", lambda p: 302 if p == "anonymous" else 200),
    # An unpublished practice stays in its group; a published one is read by the programme.
    ("/library/{practice_draft}", _expected_group_page),
    ("/library/{practice_draft}/listing", _expected_uploader_page),
    ("/library/{practice_public}", lambda p: 302 if p == "anonymous" else 200),
    ("/library/{practice_public}/listing",
     lambda p: 404 if p == "outsider" else _expected_uploader_page(p)),
    ("/library/999", lambda p: 302 if p == "anonymous" else 404),
    ("/tournaments/", lambda p: 302 if p == "anonymous" else 200),
    ("/tournaments/new", _expected_admin_page),
    ("/tournaments/{tournament}", lambda p: 302 if p == "anonymous" else 200),
    ("/tournaments/{tournament}/ranking.csv", lambda p: 302 if p == "anonymous" else 200),
    ("/tournaments/999", lambda p: 302 if p == "anonymous" else 404),
]

# Moderators' actions (POST): members and observers are refused, outsiders learn nothing.
MODERATOR_ACTIONS = [
    "/g/{g1}/t/{thread}/rename", "/g/{g1}/t/{thread}/close", "/g/{g1}/t/{thread}/reopen",
    "/g/{g1}/t/{thread}/merge", "/g/{g1}/t/{thread}/split", "/g/{g1}/t/{thread}/conclusion",
    "/g/{g1}/t/{thread}/agenda", "/g/{g1}/sessions/1/agenda",
    "/g/{g1}/moderation/reports/{report}",
    "/g/{g1}/reviews/{review}/remind", "/g/{g1}/reviews/{review}/deadline",
    "/g/{g1}/polls/{poll}/close", "/g/{g1}/polls/{poll}/closing",
    "/g/{g1}/recommendations/{recommendation}/status",
]


def _session_and_material(personas) -> int:
    moderator, group = factories.user(personas.moderator.id), factories.group(personas.g1.id)
    workshops.create_workshop(moderator, group, workshops.WorkshopInput(
        number=1, theme="Edukacja włączająca", day1=workshops.group_today(group)))
    material = materials.share_material(
        moderator, group, materials.MaterialInput(title="Raport", kind="minutes"),
        materials.Upload(io.BytesIO(samples.PDF), "raport.pdf"))
    return material.id


def _review(personas, material_id: int) -> dict:
    """An open review of the material (sections by hand: it is a PDF)."""
    moderator, group = factories.user(personas.moderator.id), factories.group(personas.g1.id)
    review = reviews.open_review(
        moderator, group, db.session.get(Material, material_id), question="Czy pasuje?",
        deadline=workshops.group_today(group), manual_sections="# Wstęp\ntekst")
    return {"review": review.id}


def _exports(personas) -> dict:
    """A ready data export of the member asked for by the member, and one by the admin."""
    member = factories.user(personas.member.id)
    own = export.request_export(member, member)
    export.build_due_exports()
    by_admin = export.request_export(factories.user(personas.admin.id), member)
    export.build_due_exports()
    return {"export": own.id, "admin_export": by_admin.id}


def _group_content(personas) -> dict:
    """A thread, a chat message and an open report in g1 (by the moderator, reported by a
    member), for the pages about them."""
    moderator, group = factories.user(personas.moderator.id), factories.group(personas.g1.id)
    thread = discussions.start_thread(moderator, group, title="Wątek", body="Pierwszy wpis")
    post = discussions.post_id_at(thread, 1)
    message = chat.send_message(moderator, group, "Dzień dobry", "matrix-1")
    report = reports.report_post(factories.user(personas.member.id),
                                 db.session.get(Post, post), "off_topic")
    poll = polls.start_poll(moderator, group, polls.PollInput(
        kind="consent", question="Przyjmujemy?", closes_at=utcnow() + timedelta(days=2)),
        thread=thread)
    practice_input = materials.GoodPracticeInput(problem="Problem", actions="Działania")
    drafts = [materials.share_material(
        moderator, group, materials.MaterialInput(title=title, kind="good_practice"), None,
        practice_input) for title in ("Szkic", "Opublikowana")]
    library.propose(moderator, drafts[1], library.ListingInput(
        themes="transport", contact_user_id=moderator.id))
    library.publish(moderator, drafts[1])
    other = materials.share_material(
        moderator, group, materials.MaterialInput(title="Druga", kind="good_practice"), None,
        practice_input)
    library.propose(moderator, other, library.ListingInput(
        themes="kultura", contact_user_id=moderator.id))
    library.publish(moderator, other)
    tournament = tournaments.open_tournament(
        factories.user(personas.admin.id), title="Turniej", description="", kind="ranked",
        points=0, closes_at=utcnow() + timedelta(days=2))
    recommendation = recommendations.create(moderator, group, recommendations.RecommendationInput(
        title="Szkolenia", on=workshops.group_today(group)))
    return {"thread": thread.id, "post": post, "message": message.id, "report": report.id,
            "poll": poll.id, "recommendation": recommendation.id,
            "practice_draft": drafts[0].id, "practice_public": drafts[1].id,
            "tournament": tournament.id}


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_answers_each_persona_as_expected(app, personas, login_as, persona):
    with app.app_context():
        material_id = _session_and_material(personas)
        content = (_group_content(personas) | _exports(personas)
                   | _review(personas, material_id))
    client = login_as(None if persona == "anonymous" else getattr(personas, persona))
    values = {"g1": personas.g1.slug, "g1_id": personas.g1.id, "org": personas.organisation_id,
              "member_id": personas.member.id, "material": material_id, **content}
    failures = []
    for template, expectation in PAGES:
        url = template.format(**values)
        with client.get(url) as response:
            status = response.status_code
        if status != expectation(persona):
            failures.append(f"{url}: got {status}, expected {expectation(persona)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "url",
    ["/admin/users/{member_id}/active", "/admin/users/{member_id}/admin",
     "/admin/groups/{g1_id}/invitations", "/admin/groups/{g1_id}/members",
     "/admin/groups/{g1_id}/members/{member_id}/role",
     "/admin/groups/{g1_id}/members/{member_id}/remove", "/admin/site-texts/privacy/en",
     "/admin/users/{member_id}/export"],
)
@pytest.mark.parametrize("persona", ["outsider", "member", "moderator"])
def test_admin_actions_are_404_for_non_administrators(app, personas, login_as, persona, url):
    client = login_as(getattr(personas, persona))
    url = url.format(member_id=personas.member.id, g1_id=personas.g1.id)
    response = client.post(url, data={"email": "x@example.org", "role": "moderator",
                                      "active": "0", "admin": "1"})
    assert response.status_code == 404
    with app.app_context():
        member = factories.user(personas.member.id)
        assert member.active and not member.is_admin


@pytest.mark.parametrize("persona", ["outsider", "observer", "member"])
def test_moderator_actions_are_refused_to_everyone_else(app, personas, login_as, persona):
    with app.app_context():
        material_id = _session_and_material(personas)
        content = _group_content(personas) | _review(personas, material_id)
    client = login_as(getattr(personas, persona))
    expected = 404 if persona == "outsider" else 403
    failures = []
    for template in MODERATOR_ACTIONS:
        url = template.format(g1=personas.g1.slug, **content)
        status = client.post(url, data={"title": "Nowy", "summary": "Koniec", "mark": "1",
                                        "action": "dismiss", "note": "x"}).status_code
        if status != expected:
            failures.append(f"{url}: got {status}, expected {expected}")
    assert not failures, "\n".join(failures)
    with app.app_context():
        thread = db.session.get(Thread, content["thread"])
        assert thread.title == "Wątek" and thread.closed_at is None
        assert thread.agenda_marked_at is None
        assert db.session.get(Report, content["report"]).status == "open"


def test_a_closed_group_and_a_missing_one_look_the_same(personas, login_as):
    client = login_as(personas.outsider)
    closed = client.get(f"/g/{personas.g1.slug}/")
    missing = client.get("/g/no-such-group/")
    assert closed.status_code == missing.status_code == 404
    # Identical but for the address the visitor typed (echoed in the language switch) and the
    # CSRF token, which carries the time it was signed (two requests a second apart differ).
    def page(response, slug):
        return without_csrf_token(response.get_data(as_text=True).replace(slug, "SLUG"))

    assert page(closed, personas.g1.slug) == page(missing, "no-such-group")
    assert personas.g1.name.encode() not in closed.get_data()


def test_the_dashboard_lists_only_my_groups(personas, login_as):
    page = login_as(personas.outsider).get("/").get_data(as_text=True)
    assert personas.g2.name in page
    assert personas.g1.name not in page
