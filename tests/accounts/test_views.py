import re

import pytest

from forum.config import ConfigError, load_config
from forum.extensions import db
from forum.i18n import sorted_by_name
from tests import factories
from tests.conftest import login


def _csrf_token(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# --- sign in and out -------------------------------------------------------------------------


def test_sign_in_lands_on_my_groups(client, personas):
    response = client.post("/login", data={"email": "member@example.org",
                                           "password": factories.PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert personas.g1.name in client.get("/").get_data(as_text=True)


def test_failed_sign_in_keeps_the_email_and_never_echoes_the_password(client, personas):
    response = client.post("/login", data={"email": "member@example.org",
                                           "password": "secret-guess-123"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Wrong e-mail address or password." in page
    assert 'value="member@example.org"' in page
    assert "secret-guess-123" not in page


def test_empty_sign_in_form_says_what_is_missing(client):
    page = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    assert page.count("This field is required.") == 2
    assert 'aria-invalid="true"' in page


def test_over_long_email_is_refused_with_a_message(client):
    page = client.post("/login", data={"email": "a" * 300 + "@example.org",
                                       "password": "x"}).get_data(as_text=True)
    assert "Field cannot be longer than 254 characters." in page


@pytest.mark.parametrize("target", ["/g/miasta-testowe/members", "/profile?tab=1"])
def test_sign_in_returns_to_the_page_asked_for(client, personas, target):
    response = client.post("/login", query_string={"next": target},
                           data={"email": "member@example.org", "password": factories.PASSWORD})
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "http:/evil.example", " //evil"])
def test_sign_in_never_redirects_outside_the_site(client, personas, target):
    response = client.post("/login", query_string={"next": target},
                           data={"email": "member@example.org", "password": factories.PASSWORD})
    assert response.headers["Location"] == "/"


def test_anonymous_visitors_are_sent_to_sign_in_with_the_way_back(client, personas):
    response = client.get(f"/g/{personas.g1.slug}/members")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/g/{personas.g1.slug}/members"


def test_sign_in_renews_the_session(client, personas):
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    login(client, "member@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_logout_needs_a_post(client, personas):
    login(client, "member@example.org")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_logout_ends_the_sessions_on_every_device(app, personas):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "member@example.org")
    phone.post("/login", data={"email": "member@example.org", "password": factories.PASSWORD,
                               "remember": "y"})
    assert phone.get_cookie("forum_remember") is not None
    laptop.post("/logout")
    assert laptop.get("/").status_code == 302
    # The phone's session cookie and its remember-me cookie both stopped working.
    assert phone.get("/").status_code == 302
    phone.delete_cookie("forum_session")
    assert phone.get("/").status_code == 302


def test_changing_the_password_signs_out_other_devices_but_not_this_one(app, personas):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "member@example.org")
    login(phone, "member@example.org")
    response = laptop.post("/profile/password", data={
        "current_password": factories.PASSWORD, "new_password": "Nowe-haslo-do-forum-2026",
        "confirm": "Nowe-haslo-do-forum-2026"})
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302


def test_change_password_form_reports_mismatch_and_weakness(client, personas):
    login(client, "member@example.org")
    page = client.post("/profile/password", data={
        "current_password": factories.PASSWORD, "new_password": "Nowe-haslo-do-forum-2026",
        "confirm": "Inne-haslo-do-forum-2026"}).get_data(as_text=True)
    assert "The two passwords are not the same." in page
    page = client.post("/profile/password", data={
        "current_password": factories.PASSWORD, "new_password": "password1234",
        "confirm": "password1234"}).get_data(as_text=True)
    assert "too easy to guess" in page


def test_a_deactivated_account_is_signed_out_at_once(app, personas, login_as):
    member = login_as(personas.member)
    admin = login_as(personas.admin)
    assert admin.post(f"/admin/users/{personas.member.id}/active",
                      data={"active": "0"}).status_code == 302
    assert member.get("/").status_code == 302
    page = member.post("/login", data={"email": "member@example.org",
                                       "password": factories.PASSWORD}).get_data(as_text=True)
    assert "deactivated" in page


def test_too_many_failed_sign_ins_get_a_clear_message(client, personas):
    for _ in range(5):
        client.post("/login", data={"email": "member@example.org", "password": "wrong-one"})
    response = client.post("/login", data={"email": "member@example.org",
                                           "password": factories.PASSWORD})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many failed sign-in attempts" in page
    assert 'value="member@example.org"' in page


# --- CSRF, cookies, headers ------------------------------------------------------------------


@pytest.fixture
def csrf_app(make_app, app):
    return make_app(WTF_CSRF_ENABLED=True)


def test_a_form_without_csrf_token_is_refused_and_shows_what_was_typed(csrf_app, personas):
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": "member@example.org",
                                           "password": factories.PASSWORD})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The form could not be sent" in page
    assert "member@example.org" in page and factories.PASSWORD not in page
    assert client.get("/").status_code == 302  # not signed in


def test_logout_without_csrf_token_does_nothing(csrf_app, personas):
    client = csrf_app.test_client()
    token = _csrf_token(client, "/login")
    client.post("/login", data={"email": "member@example.org", "password": factories.PASSWORD,
                                "csrf_token": token})
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_forms_work_with_the_token(csrf_app, personas):
    client = csrf_app.test_client()
    token = _csrf_token(client, "/login")
    response = client.post("/login", data={"email": "member@example.org",
                                           "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_security_headers_on_every_response(client, personas):
    for response in (client.get("/login"), client.get("/g/nothing/"), client.get("/healthz")):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_signed_in_pages_are_not_cached(client, personas):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login(client, "member@example.org")
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, personas):
    response = client.post("/login", data={"email": "member@example.org",
                                            "password": factories.PASSWORD, "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    for name in ("forum_session", "forum_remember"):
        cookie = next(c for c in cookies if c.startswith(name + "="))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_settings(tmp_path):
    with pytest.raises(ConfigError, match="FORUM_SECRET_KEY"):
        load_config(str(tmp_path), env={"FORUM_ENV": "production"})
    with pytest.raises(ConfigError, match="FORUM_BASE_URL is not set"):
        load_config(str(tmp_path), env={"FORUM_ENV": "production", "FORUM_SECRET_KEY": "k" * 40})
    config = load_config(str(tmp_path), env={"FORUM_ENV": "production",
                                             "FORUM_SECRET_KEY": "k" * 40,
                                             "FORUM_BASE_URL": "https://forum.example.org"})
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["DEBUG"] is False
    assert config["MAIL_OUTBOX"] == ""  # production mail goes through SMTP


def test_development_keeps_a_generated_secret_key(tmp_path):
    first = load_config(str(tmp_path), env={"FORUM_ENV": "development"})["SECRET_KEY"]
    second = load_config(str(tmp_path), env={"FORUM_ENV": "development"})["SECRET_KEY"]
    assert first == second and len(first) >= 32


# --- password reset --------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["member@example.org", "nobody@example.org"])
def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(client, personas,
                                                                          email):
    response = client.post("/password/forgot", data={"email": email}, follow_redirects=True)
    assert "If an account uses this address" in response.get_data(as_text=True)


def test_password_reset_requests_are_limited_per_address(client, personas):
    for _ in range(10):
        client.post("/password/forgot", data={"email": "nobody@example.org"})
    response = client.post("/password/forgot", data={"email": "member@example.org"})
    assert response.status_code == 429
    assert "too often" in response.get_data(as_text=True)


def test_reset_link_lets_me_choose_a_new_password(client, personas, smtp):
    client.post("/password/forgot", data={"email": "member@example.org"})
    [message] = smtp.wait_for(1)
    path = "/password/reset/" + message.get_content().split("/password/reset/")[1].split()[0]
    assert client.get(path).status_code == 200
    page = client.post(path, data={"password": "short", "confirm": "short"}).get_data(
        as_text=True)
    assert "at least 10 characters" in page
    response = client.post(path, data={"password": "Nowe-haslo-do-forum-2026",
                                       "confirm": "Nowe-haslo-do-forum-2026"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # signed in
    assert client.get(path).status_code == 400  # used


def test_a_broken_reset_link_explains_itself(client):
    response = client.get("/password/reset/not-a-token")
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)


# --- profile and language --------------------------------------------------------------------


def test_profile_errors_keep_what_was_typed(client, personas):
    login(client, "member@example.org")
    response = client.post("/profile", data={"name": "x" * 130, "position": "dyrektorka szkoły",
                                             "organisation_id": "0", "locale": "pl",
                                             "time_zone": "Europe/Warsaw"})
    page = response.get_data(as_text=True)
    assert "Field cannot be longer than 120 characters." in page
    assert 'value="dyrektorka szkoły"' in page


def test_profile_saves_language_and_time_zone(client, personas):
    login(client, "member@example.org")
    response = client.post("/profile", data={"name": "Jan Kowalski", "position": "naczelnik",
                                             "organisation_id": str(personas.organisation_id),
                                             "locale": "pl", "time_zone": "Europe/Madrid"})
    assert response.status_code == 302
    page = client.get("/profile").get_data(as_text=True)
    assert '<html lang="pl">' in page
    assert '<option selected value="Europe/Madrid">' in page


def test_language_follows_the_browser_then_the_switch(client):
    page = client.get("/login", headers={"Accept-Language": "ca-ES,ca;q=0.9"}).get_data(
        as_text=True)
    assert '<html lang="ca">' in page
    client.post("/language", data={"locale": "pl", "next": "/login"})
    page = client.get("/login", headers={"Accept-Language": "ca"}).get_data(as_text=True)
    assert '<html lang="pl">' in page


def test_language_switch_stays_on_the_site(client):
    response = client.post("/language", data={"locale": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_language_switch_updates_a_signed_in_profile(app, client, personas):
    login(client, "member@example.org")
    client.post("/language", data={"locale": "ca", "next": "/"})
    with app.app_context():
        assert factories.user(personas.member.id).locale == "ca"


def test_time_zones_are_a_grouped_choice_named_in_the_readers_language(app, client, personas):
    with app.app_context():
        user = factories.user(personas.member.id)
        user.locale = "pl"
        db.session.commit()
    login(client, "member@example.org")
    page = client.get("/profile").get_data(as_text=True)
    select = page.split('name="time_zone"')[1].split("</select>")[0]
    assert select.count("<optgroup") >= 8  # suggested, then by region
    suggested = select.split('<optgroup label="Proponowane">')[1].split("</optgroup>")[0]
    assert suggested.index('value="Europe/Warsaw"') < suggested.index('value="Europe/Madrid"')
    assert '<option value="Europe/Warsaw">Warszawa (Polska) · UTC+' in select
    assert '<option value="Europe/Madrid">Madryt (Hiszpania) · UTC+' in select
    assert "Europe/Warsaw<" not in select  # no raw codes as labels, not even the default's
    europe = select.split('<optgroup label="Europa">')[1].split("</optgroup>")[0]
    labels = re.findall(r'">([^<]+)</option>', europe)
    assert len(labels) > 40 and labels == sorted_by_name(labels, name=str, locale="pl")
    # The value sent is the IANA name, as before.
    response = client.post("/profile", data={"name": "Jan Kowalski", "position": "naczelnik",
                                             "organisation_id": str(personas.organisation_id),
                                             "locale": "pl",
                                             "time_zone": "America/Argentina/Salta"})
    assert response.status_code == 302
    with app.app_context():
        assert factories.user(personas.member.id).time_zone == "America/Argentina/Salta"


def test_catalan_time_zone_names(app, client, personas):
    with app.app_context():
        factories.user(personas.member.id).locale = "ca"
        db.session.commit()
    login(client, "member@example.org")
    page = client.get("/profile").get_data(as_text=True)
    assert '<option value="Europe/Madrid">Madrid (Espanya) · UTC+' in page
    assert '<optgroup label="Suggerides">' in page
