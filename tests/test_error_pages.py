"""A service's NotFound / PermissionDenied reaching a view: the same 404 / 403 page as abort.

Views call services without wrapping them; the app's error handlers translate the two domain
errors once. Closed groups still answer 404 to people outside them.
"""

import pytest
from flask import abort

from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from tests import factories
from tests.conftest import without_csrf_token

PAGE_NOT_FOUND = {"pl": "Nie znaleziono strony", "en": "Page not found"}
NOT_ALLOWED = {"pl": "Działanie niedozwolone", "en": "Not allowed"}


@pytest.fixture
def raising_app(app):
    """The app with a few routes that raise what a service would (added before any request)."""

    @app.get("/_test/not-found")
    def raise_not_found():
        raise NotFound()

    @app.get("/_test/denied")
    def raise_denied():
        raise PermissionDenied()

    @app.get("/_test/abort/<int:code>")
    def call_abort(code: int):
        abort(code)

    @app.get("/_test/invalid")
    def raise_invalid():
        raise InvalidInput({"": "not a page error"})

    @app.get("/_test/rename-then-not-found/<int:user_id>")
    def rename_then_not_found(user_id: int):
        factories.user(user_id).name = "Never saved"
        db.session.flush()
        raise NotFound()

    return app


def _get(client, url, language="pl"):
    return client.get(url, headers={"Accept-Language": language})


def _page_of(client, url, language) -> str:
    """The page without its own address (the language switch sends it back there) and
    without its CSRF token (signed with the time: two requests a second apart differ)."""
    return without_csrf_token(
        _get(client, url, language).get_data(as_text=True).replace(url, "URL"))


@pytest.mark.parametrize("language", ["pl", "en"])
def test_a_service_not_found_is_the_404_page_in_the_readers_language(raising_app, language):
    client = raising_app.test_client()
    response = _get(client, "/_test/not-found", language)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"<h1>{PAGE_NOT_FOUND[language]}</h1>" in page
    # Exactly the page abort(404) gives.
    assert _page_of(client, "/_test/not-found", language) == \
        _page_of(client, "/_test/abort/404", language)


@pytest.mark.parametrize("language", ["pl", "en"])
def test_a_service_permission_denied_is_the_403_page_in_the_readers_language(raising_app,
                                                                             language):
    client = raising_app.test_client()
    response = _get(client, "/_test/denied", language)
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"<h1>{NOT_ALLOWED[language]}</h1>" in page
    assert _page_of(client, "/_test/denied", language) == \
        _page_of(client, "/_test/abort/403", language)


def test_the_handlers_win_over_the_catch_all_that_reraises_in_tests(raising_app):
    # app.testing makes the Exception handler re-raise: the two domain errors never reach it,
    # any other error still does.
    assert raising_app.testing
    client = raising_app.test_client()
    assert client.get("/_test/not-found").status_code == 404
    assert client.get("/_test/denied").status_code == 403
    with pytest.raises(InvalidInput):
        client.get("/_test/invalid")


def test_nothing_a_view_changed_before_not_found_is_saved(raising_app, personas):
    client = raising_app.test_client()
    assert client.get(f"/_test/rename-then-not-found/{personas.member.id}").status_code == 404
    with raising_app.app_context():
        assert factories.user(personas.member.id).name == personas.member.name


def test_real_views_answer_a_service_error_with_the_error_page(personas, login_as):
    member = login_as(personas.member)
    slug = personas.g1.slug
    # get_thread_for raises NotFound; list_reports raises PermissionDenied for a member.
    missing = _get(member, f"/g/{slug}/t/999999")
    assert missing.status_code == 404
    assert f"<h1>{PAGE_NOT_FOUND['pl']}</h1>" in missing.get_data(as_text=True)
    desk = _get(member, f"/g/{slug}/moderation")
    assert desk.status_code == 403
    assert f"<h1>{NOT_ALLOWED['pl']}</h1>" in desk.get_data(as_text=True)


@pytest.mark.parametrize("method,path", [
    ("get", "/"),
    ("get", "/members"),
    ("get", "/t/new"),
    ("get", "/materials/"),
    ("get", "/sessions/"),
    ("get", "/sessions.ics"),
    ("get", "/chat"),
    ("get", "/chat/messages"),  # a JSON endpoint: the 404 page, as before
    ("get", "/mentions?q=ma"),
    ("get", "/search?q=wniosek"),
    ("get", "/since/1"),
    ("get", "/moderation"),
    ("get", "/moderation/audit"),
    ("post", "/watch"),
    ("post", "/chat/messages"),
])
def test_a_closed_group_is_404_for_someone_outside_it(personas, login_as, method, path):
    outsider = login_as(personas.outsider)
    response = getattr(outsider, method)(f"/g/{personas.g1.slug}{path}",
                                         headers={"Accept-Language": "pl"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"<h1>{PAGE_NOT_FOUND['pl']}</h1>" in page
    assert personas.g1.name not in page


def test_a_forbidden_page_in_a_group_explains_the_observer_role_and_leads_back(personas,
                                                                               login_as):
    slug = personas.g1.slug
    observer = login_as(personas.observer)
    response = observer.get(f"/g/{slug}/t/new")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert f"You follow {personas.g1.name} as an observer: you can read its threads" in page
    assert f'<a href="/g/{slug}/">Back to {personas.g1.name}</a>' in page
    # A member refused a moderator's page is led back too, without the observer's text.
    member_page = login_as(personas.member).get(f"/g/{slug}/moderation").get_data(as_text=True)
    assert f'<a href="/g/{slug}/">Back to {personas.g1.name}</a>' in member_page
    assert "as an observer" not in member_page
