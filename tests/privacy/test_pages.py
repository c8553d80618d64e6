"""/privacy and /accessibility: public, generated from the settings, in pl/ca/en, editable by
administrators at /admin/site-texts (404 for everyone else); footer links; what is logged."""

import logging
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import inspect

from forum.audit.models import AuditEntry
from forum.extensions import db
from forum.observability.addresses import log_address
from forum.privacy.models import SiteText
from forum.timeutil import utcnow
from tests import factories
from tests.conftest import login


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _retention_table(page: str) -> str:
    return page.split('id="retention-table"', 1)[1].split("</table>", 1)[0]


def _row(table: str, label: str) -> str:
    match = re.search(rf"<th scope=\"row\">{re.escape(label)}</th><td>([^<]*)</td>", table)
    assert match, label
    return match.group(1)


@pytest.fixture
def settings_app(make_app):
    return make_app(FORUM_CONTROLLER="Gmina Testowo, ul. Rynek 1, 20-001 Testowo",
                    FORUM_DPO_CONTACT="Inspektor Ochrony Danych, iod@testowo.example",
                    FORUM_ACCESSIBILITY_CONTACT="Anna Dostępna, a11y@testowo.example, 81 111",
                    FORUM_RETAIN_CHAT_DAYS=365, FORUM_RETAIN_AUDIT_DAYS=0)


def test_privacy_page_is_public_and_names_the_controller_dpo_and_periods(settings_app):
    page = _text(settings_app.test_client().get("/privacy"))
    assert "Gmina Testowo, ul. Rynek 1, 20-001 Testowo" in page
    assert "Inspektor Ochrony Danych, iod@testowo.example" in page
    table = _retention_table(page)
    assert _row(table, "Chat messages") == "365 days"
    assert _row(table, "Notifications in the forum and chat mentions") == "180 days"
    assert _row(table, "E-mails that could not be delivered") == "90 days"
    assert _row(table, "Your data exports (ZIP files)") == "7 days"
    assert _row(table, "Server logs: sign-ins and pages requested") == "30 days"
    assert _row(table, "Audit log of moderators&#39; and administrators&#39; actions") == \
        "without a time limit"
    attendance = ("Attendance at sessions: your registrations, the days you were there, your "
                  "certificates, which questionnaires you answered")
    assert _row(table, attendance) == "without a time limit"  # the programme's period
    assert "the programme&#39;s reporting period" in table
    assert "record who registers for a session and who attends it on which day" in page
    # The rights and how to use them (the generated default text).
    assert 'href="/profile/data"' in page and 'href="/profile"' in page
    assert "Anonymised" in page and "Removed" in page


def test_changing_a_setting_changes_the_page(make_app):
    other = make_app(FORUM_RETAIN_CHAT_DAYS=30, FORUM_RETAIN_NOTIFICATIONS_DAYS=1)
    table = _retention_table(_text(other.test_client().get("/privacy")))
    assert _row(table, "Chat messages") == "30 days"
    assert _row(table, "Notifications in the forum and chat mentions") == "1 day"
    assert "<td>400 days</td>" in _retention_table(_text(make_app(
        FORUM_RETAIN_ATTENDANCE_DAYS=400).test_client().get("/privacy")))
    assert "Gmina Testowo" not in _text(other.test_client().get("/privacy"))
    assert "Write to the data controller named above." in _text(
        other.test_client().get("/privacy"))


@pytest.mark.parametrize("language", ["pl", "ca", "en"])
def test_pages_speak_the_readers_language(settings_app, language):
    # The generated texts are written per language; the frame's strings come from the
    # catalogues (forum/translations).
    client = settings_app.test_client()
    headers = {"Accept-Language": language}
    page = _text(client.get("/privacy", headers=headers))
    assert f'<html lang="{language}">' in page
    default_text = {"pl": "Twoje prawa i jak z nich skorzystać",
                    "ca": "Els vostres drets i com exercir-los",
                    "en": "Your rights and how to use them"}[language]
    assert default_text in page
    a11y = _text(client.get("/accessibility", headers=headers))
    assert f'<html lang="{language}">' in a11y
    assert {"pl": "częściowo zgodna", "ca": "compleix parcialment",
            "en": "partially compliant"}[language] in a11y
    assert "Rzecznik" in a11y  # the enforcement procedure names the Ombudsman in every language


def test_accessibility_statement_structure(settings_app, personas):
    page = _text(settings_app.test_client().get("/accessibility"))
    for element in ("a11y-wstep", "a11y-podmiot", "a11y-url", "a11y-data-publikacja",
                    "a11y-data-aktualizacja", "a11y-data-sporzadzenie"):
        assert f'id="{element}"' in page, element
    assert "Gmina Testowo" in page.split('id="a11y-podmiot"', 1)[1][:80]
    assert "Anna Dostępna, a11y@testowo.example, 81 111" in page
    assert f'<dd id="a11y-data-publikacja">{utcnow().date().isoformat()}</dd>' in page
    assert "not recorded yet" in page
    assert "axe-core" in page and "keyboard" in page


def test_an_administrator_edits_a_text_with_preview_and_audit(settings_app, personas):
    app = settings_app
    admin = app.test_client()
    login(admin, personas.admin.email)
    overview = _text(admin.get("/admin/site-texts"))
    assert overview.count("generated default") == 6
    form_page = _text(admin.get("/admin/site-texts/privacy/en"))
    assert "Your rights and how to use them" in form_page  # starts from the default text
    body = "# Our purposes\n\nWe run the forum for **Testowo**.\n\n<script>alert(1)</script>"
    preview = _text(admin.post("/admin/site-texts/privacy/en",
                               data={"body": body, "action": "preview"}))
    assert "<h3>Our purposes</h3>" in preview and "<script>alert" not in preview
    assert app.test_client().get("/privacy", headers={"Accept-Language": "en"}).get_data(
        as_text=True).count("Our purposes") == 0  # a preview saves nothing
    saved = admin.post("/admin/site-texts/privacy/en", data={"body": body, "action": "save"})
    assert saved.status_code == 302
    page = _text(app.test_client().get("/privacy", headers={"Accept-Language": "en"}))
    assert "<strong>Testowo</strong>" in page and "<script>alert" not in page
    assert "Your rights and how to use them" not in page  # the edited text replaced it
    # The generated parts stay: controller and retention table.
    assert "Gmina Testowo" in page and _row(_retention_table(page), "Chat messages") == \
        "365 days"
    # Other languages keep their default.
    assert "Twoje prawa" in _text(app.test_client().get("/privacy",
                                                        headers={"Accept-Language": "pl"}))
    with app.app_context():
        entry = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action == "site_text.update")).one()
        assert entry.actor_id == personas.admin.id and entry.target == "privacy (en)"
    # An empty text brings the default back.
    admin.post("/admin/site-texts/privacy/en", data={"body": "", "action": "save"})
    assert "Your rights and how to use them" in _text(
        app.test_client().get("/privacy", headers={"Accept-Language": "en"}))


def test_the_review_date_is_entered_once_and_shown_in_every_language(settings_app, personas):
    admin = settings_app.test_client()
    login(admin, personas.admin.email)
    reviewed = (utcnow().date() - timedelta(days=3)).isoformat()
    assert admin.post("/admin/site-texts/accessibility/pl", data={
        "body": "", "reviewed_on": reviewed, "action": "save"}).status_code == 302
    for language in ("pl", "en"):
        page = _text(settings_app.test_client().get(
            "/accessibility", headers={"Accept-Language": language}))
        assert f'<dd id="a11y-data-sporzadzenie">{reviewed}</dd>' in page
    future = (utcnow().date() + timedelta(days=3)).isoformat()
    refused = admin.post("/admin/site-texts/accessibility/pl", data={
        "body": "", "reviewed_on": future, "action": "save"})
    assert refused.status_code == 400
    with settings_app.app_context():
        row = db.session.scalar(db.select(SiteText).where(SiteText.locale == "pl"))
        assert row.reviewed_on == date.fromisoformat(reviewed)


@pytest.mark.parametrize("persona", ["moderator", "member", "outsider"])
def test_site_texts_are_404_for_everyone_but_administrators(app, personas, login_as, persona):
    client = login_as(getattr(personas, persona))
    assert client.get("/admin/site-texts").status_code == 404
    assert client.get("/admin/site-texts/privacy/en").status_code == 404
    assert client.post("/admin/site-texts/privacy/en",
                       data={"body": "hacked", "action": "save"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(SiteText)) == 0


def test_unknown_pages_and_languages_are_404(app, personas, login_as):
    admin = login_as(personas.admin)
    assert admin.get("/admin/site-texts/cookies/en").status_code == 404
    assert admin.get("/admin/site-texts/privacy/de").status_code == 404


def test_footer_links_on_a_signed_in_page_and_the_sign_in_page(app, personas, login_as):
    for page in (_text(login_as(personas.member).get("/")),
                 _text(app.test_client().get("/login"))):
        footer = page.split('<footer class="site-footer">', 1)[1]
        assert 'href="/privacy"' in footer and 'href="/accessibility"' in footer
    login_page = _text(app.test_client().get("/login"))
    assert 'href="/privacy"' in login_page.split('id="login-privacy"', 1)[1][:400]


def test_privacy_page_lists_the_readers_groups_and_their_erasure_setting(app, personas,
                                                                        login_as):
    page = _text(login_as(personas.member).get("/privacy"))
    groups = page.split('id="my-groups-erasure"', 1)[1].split("</ul>", 1)[0]
    assert personas.g1.name in groups and personas.g2.name not in groups
    assert "Anonymised" in groups
    assert 'id="my-groups-erasure"' not in _text(app.test_client().get("/privacy"))


# --- what is logged --------------------------------------------------------------------------


def test_log_address_keeps_only_the_network(app):
    with app.app_context():
        assert log_address("192.0.2.77") == "192.0.2.0/24"
        assert log_address("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
        assert log_address("::ffff:198.51.100.9") == "198.51.100.0/24"
        assert log_address("") == "unknown" and log_address("not-an-ip") == "unknown"
    app.config["FORUM_ENV"] = "development"  # keeps the whole address for debugging
    try:
        with app.app_context():
            assert log_address("192.0.2.77") == "192.0.2.77"
    finally:
        app.config["FORUM_ENV"] = "testing"


def test_sign_in_warnings_name_the_network_not_the_address(app, personas, caplog):
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="forum.security"):
        client.post("/login", data={"email": personas.member.email, "password": "wrong"},
                    environ_base={"REMOTE_ADDR": "203.0.113.45"})
        client.post("/login", data={"email": personas.member.email,
                                    "password": factories.PASSWORD},
                    environ_base={"REMOTE_ADDR": "2001:db8:abcd:12::99"})
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "forum.security")
    assert "sign-in refused (bad credentials)" in text and "address=203.0.113.0/24" in text
    assert "address=2001:db8:abcd::/48" in text
    assert "203.0.113.45" not in text and "2001:db8:abcd:12::99" not in text


def test_no_table_stores_an_ip_address(ctx):
    # E-mail addresses are fine (to_address); a client's network address never is.
    suspicious = re.compile(r"(^|_)(ip|ips|ip_address|remote_addr|address_ip|client_address)"
                            r"($|_)|remote|user_agent")
    columns = [(table, column["name"]) for table in inspect(db.engine).get_table_names()
               for column in inspect(db.engine).get_columns(table)]
    assert len(columns) > 100
    offending = [(t, c) for t, c in columns if suspicious.search(c)
                 or (c.endswith("address") and c != "to_address")]
    assert offending == []
