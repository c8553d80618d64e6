"""The audit log: filters, scoping, CSV export, immutability, and nothing missing."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import delete, update

from forum.accounts import services as accounts
from forum.audit import services
from forum.audit.models import AuditEntry
from forum.audit.services import AuditFilters, AuditLogImmutable, csv_cell
from forum.certificates import services as certificates
from forum.chat import services as chat
from forum.discussions import curation
from forum.discussions import services as discussions
from forum.errors import NotFound, PermissionDenied
from forum.evaluation import services as evaluation
from forum.extensions import db
from forum.groups import services as groups
from forum.library import services as library
from forum.materials import services as materials
from forum.minutes import services as minutes
from forum.moderation import reports
from forum.pages import agenda
from forum.polls import services as polls
from forum.privacy import erasure
from forum.privacy import pages as site_texts
from forum.recommendations import services as recommendations
from forum.reviews import services as reviews
from forum.timeutil import utcnow
from forum.tournaments import services as tournaments
from forum.workshops import services as workshops
from tests import factories
from tests.materials import samples


def _entries() -> list[AuditEntry]:
    return list(db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)))


def _log(people):
    """A few entries in two groups by two people."""
    thread = discussions.start_thread(people["member"], people["g1"], title="Dowozy", body="x")
    discussions.set_pinned(people["moderator"], thread, True)
    curation.rename_thread(people["moderator"], thread, "=SUMA(1) dowozy", "porządek")
    other = discussions.start_thread(people["outsider"], people["g2"], title="Powiaty",
                                     body="y")
    discussions.set_locked(people["admin"], other, True)
    return thread, other


# --- scoping ---------------------------------------------------------------------------------


def test_admins_see_every_group_moderators_only_theirs(people, group):
    thread, other = _log(people)
    everything, _next = services.list_audit(people["admin"])
    assert [e.action for e in everything] == ["thread.lock", "thread.rename", "thread.pin"]
    mine, _next = services.list_audit(people["moderator"], group=group)
    assert [e.action for e in mine] == ["thread.rename", "thread.pin"]
    with pytest.raises(NotFound):
        services.list_audit(people["moderator"])  # the whole log: administrators only
    with pytest.raises(PermissionDenied):
        services.list_audit(people["member"], group=group)
    with pytest.raises(PermissionDenied):
        services.iter_audit(people["observer"], group=group)
    with pytest.raises(NotFound):
        services.list_audit(people["outsider"], group=group)
    with pytest.raises(NotFound):
        services.list_audit(people["moderator"], group=people["g2"])


# --- filters ---------------------------------------------------------------------------------


def test_filters_by_group_actor_action_item_and_dates(people, group):
    thread, other = _log(people)
    admin = people["admin"]

    def actions(**filters):
        entries, _next = services.list_audit(admin, AuditFilters(**filters))
        return [e.action for e in entries]

    assert actions(group_id=people["g2"].id) == ["thread.lock"]
    assert actions(actor="MARTA") == ["thread.rename", "thread.pin"]
    assert actions(actor="admin@example") == ["thread.lock"]
    assert actions(actor="%") == []  # like-wildcards are taken literally
    assert actions(action="thread.pin") == ["thread.pin"]
    assert actions(subject_type="thread", subject_id=other.id) == ["thread.lock"]
    assert actions(subject_type="post") == []
    today = utcnow().date()
    assert len(actions(date_from=today, date_to=today)) == 3
    assert actions(date_to=today - timedelta(days=1)) == []
    assert actions(date_from=today + timedelta(days=1)) == []
    # A day is a day where the reader lives: far east, "today" may already be tomorrow.
    assert len(actions(date_from=today - timedelta(days=1), date_to=today + timedelta(days=1),
                       time_zone="Pacific/Kiritimati")) == 3


def test_keyset_pages_keep_the_filters(people, group):
    thread = discussions.start_thread(people["member"], group, title="T", body="x")
    for n in range(5):
        discussions.set_pinned(people["moderator"], thread, n % 2 == 0)
    discussions.set_locked(people["admin"], thread, True)
    filters = AuditFilters(actor="marta")
    first, before = services.list_audit(people["admin"], filters, limit=2)
    second, before2 = services.list_audit(people["admin"], filters, before, limit=2)
    third, before3 = services.list_audit(people["admin"], filters, before2, limit=2)
    seen = [e.id for e in first + second + third]
    assert len(seen) == len(set(seen)) == 5 and before3 is None
    assert seen == sorted(seen, reverse=True)


# --- CSV -------------------------------------------------------------------------------------


def test_csv_cells_never_start_a_formula():
    assert csv_cell("=SUM(A1)") == "'=SUM(A1)"
    for text in ("+1", "-2", "@x", "\tx", "\rx"):
        assert csv_cell(text).startswith("'")
    assert csv_cell("Zwykły tekst") == "Zwykły tekst"
    assert csv_cell(None) == ""
    assert csv_cell(12) == "12"


def test_csv_has_a_bom_a_header_and_the_filtered_rows(people, group):
    _log(people)
    entries = services.iter_audit(people["moderator"], AuditFilters(action="thread.rename"),
                                  group=group)
    text = "".join(services.audit_csv_lines(entries))
    assert text.startswith("\ufeffid,")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    [row] = rows
    assert row["action"] == "thread.rename" and row["actor"] == "Marta Moderator"
    assert row["target"] == "'=SUMA(1) dowozy"  # a spreadsheet shows it, never runs it
    assert row["before"] == "Dowozy" and row["reason"] == "porządek"
    assert row["group"] == "miasta-testowe" and row["subject_type"] == "thread"


def test_csv_streams_long_logs_in_batches(people, group, monkeypatch):
    monkeypatch.setattr(services, "CSV_BATCH", 3)
    thread = discussions.start_thread(people["member"], group, title="T", body="x")
    for n in range(7):
        discussions.set_pinned(people["moderator"], thread, n % 2 == 0)
    rows = list(services.iter_audit(people["admin"]))
    assert len(rows) == 7 and len({e.id for e in rows}) == 7


# --- never editable --------------------------------------------------------------------------


def test_entries_can_be_neither_changed_nor_deleted(people, group):
    _log(people)
    entry = _entries()[0]
    entry.reason = "poprawione"
    with pytest.raises(AuditLogImmutable):
        db.session.flush()
    db.session.rollback()
    entry = _entries()[0]
    db.session.delete(entry)
    with pytest.raises(AuditLogImmutable):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(AuditLogImmutable):
        db.session.execute(update(AuditEntry).values(reason="x"))
    db.session.rollback()
    with pytest.raises(AuditLogImmutable):
        db.session.execute(delete(AuditEntry))
    db.session.rollback()
    assert len(_entries()) == 3 and all(e.reason != "poprawione" for e in _entries())


# --- nothing missing -------------------------------------------------------------------------


def test_every_moderator_and_administrator_action_is_recorded_once_with_its_item(
        people, group, monkeypatch):
    from forum.discussions.models import Post

    moderator, admin, member = people["moderator"], people["admin"], people["member"]
    observer = people["observer"]
    today = workshops.group_today(group)
    state: dict = {}

    def thread():
        return state.setdefault("thread", discussions.start_thread(
            member, group, title="Wątek", body="pierwszy"))

    def post():
        if "post" not in state:
            state["post"] = discussions.reply(member, thread(), "odpowiedź")
        return state["post"]

    def material():
        if "material" not in state:
            state["material"] = materials.share_material(
                moderator, group, materials.MaterialInput(title="Raport", kind="minutes"),
                materials.Upload(io.BytesIO(samples.PDF), "r.pdf"))
        return state["material"]

    def chat_message():
        if "message" not in state:
            state["message"] = chat.send_message(member, group, "hej", "client-1")
        return state["message"]

    def workshop():
        return state.setdefault("workshop", db.session.scalar(db.select(
            workshops.Workshop).where(workshops.Workshop.group_id == group.id)))

    session_input = workshops.WorkshopInput(number=1, theme="Edukacja",
                                            day1=today + timedelta(days=10))
    steps = [
        ("workshop.create", lambda: workshops.create_workshop(moderator, group, session_input)),
        ("workshop.update", lambda: workshops.update_workshop(
            moderator, workshop(), workshops.WorkshopInput(
                number=1, theme="Edukacja włączająca", day1=today + timedelta(days=10)))),
        ("workshop.cancel", lambda: workshops.set_cancelled(moderator, workshop(), True)),
        ("workshop.reinstate", lambda: workshops.set_cancelled(moderator, workshop(), False)),
        ("certificate.zip", lambda: certificates.write_session_zip(
            moderator, group, workshop(), io.BytesIO())),
        ("evaluation.questions", lambda: evaluation.set_questions(
            moderator, group, workshop(), [evaluation.QuestionInput(standard="usefulness")])),
        ("minutes.open_amendments", lambda: state.setdefault(
            "minutes", minutes.open_amendments(
                moderator, minutes.start_minutes(moderator, workshop()),
                utcnow() + timedelta(days=2)))),
        ("minutes.amendment_accept", lambda: minutes.decide_amendment(
            moderator, minutes.propose_amendment(member, state["minutes"], "Dopisać termin"),
            "accept")),
        ("minutes.amendment_decline", lambda: minutes.decide_amendment(
            moderator, minutes.propose_amendment(member, state["minutes"], "Skreślić"),
            "decline")),
        ("minutes.approve", lambda: minutes.approve(moderator, state["minutes"])),
        ("material.create", lambda: material()),
        ("material.version", lambda: materials.add_version(
            moderator, material(), materials.Upload(io.BytesIO(samples.PDF), "r2.pdf"))),
        ("material.review", lambda: materials.set_review(
            moderator, material(), today + timedelta(days=5))),
        ("material.review_close", lambda: materials.set_review(moderator, material(), None)),
        ("review.open", lambda: state.setdefault("review", reviews.open_review(
            moderator, group, material(), question="Czy moduł pasuje?",
            deadline=today + timedelta(days=3), manual_sections="# Wstęp\ntekst"))),
        ("review.extend", lambda: reviews.extend_deadline(
            moderator, group, state["review"], today + timedelta(days=9))),
        ("review.remind", lambda: reviews.remind(moderator, group, state["review"])),
        ("poll.start", lambda: state.setdefault("poll", polls.start_poll(
            moderator, group, polls.PollInput(kind="consent", question="Przyjmujemy?",
                                              closes_at=utcnow() + timedelta(days=2))))),
        ("poll.move_closing", lambda: polls.move_closing_time(
            moderator, group, state["poll"], utcnow() + timedelta(days=4))),
        ("poll.close", lambda: polls.close_poll(moderator, group, state["poll"])),
        ("recommendation.create", lambda: state.setdefault(
            "recommendation", recommendations.create(
                moderator, group, recommendations.RecommendationInput(
                    title="Szkolenia", on=workshops.group_today(group))))),
        ("recommendation.status", lambda: recommendations.change_status(
            moderator, group, state["recommendation"], "agreed",
            on=workshops.group_today(group), note="")),
        ("material.delete", lambda: materials.delete_material(moderator, material())),
        ("material.create", lambda: state.setdefault("practice", materials.share_material(
            moderator, group, materials.MaterialInput(title="Budżet", kind="good_practice"), None,
            materials.GoodPracticeInput(problem="Mało chętnych", actions="Spotkania")))),
        ("material.update", lambda: materials.update_good_practice(
            moderator, state["practice"],
            materials.MaterialInput(title="Budżet obywatelski", kind="good_practice"),
            materials.GoodPracticeInput(problem="Mało chętnych", actions="Spotkania w szkołach"))),
        ("practice.propose", lambda: library.propose(
            moderator, state["practice"], library.ListingInput(
                themes="budżet", contact_user_id=member.id))),
        ("practice.send_back", lambda: library.send_back(
            moderator, state["practice"], "Brakuje kosztów")),
        ("practice.propose", lambda: library.propose(
            moderator, state["practice"], library.ListingInput(
                themes="budżet", contact_user_id=member.id))),
        ("practice.publish", lambda: library.publish(moderator, state["practice"])),
        ("practice.unpublish", lambda: library.send_back(
            moderator, state["practice"], "Nieaktualne")),
        ("practice.propose", lambda: library.propose(
            moderator, state["practice"], library.ListingInput(
                themes="budżet", contact_user_id=member.id))),
        ("practice.publish", lambda: library.publish(moderator, state["practice"])),
        ("material.create", lambda: state.setdefault("practice2", materials.share_material(
            moderator, group, materials.MaterialInput(title="Praktyka 2", kind="good_practice"),
            None, materials.GoodPracticeInput(problem="Problem", actions="Działania")))),
        ("practice.propose", lambda: library.propose(
            moderator, state["practice2"], library.ListingInput(
                themes="kultura", contact_user_id=member.id))),
        ("practice.publish", lambda: library.publish(moderator, state["practice2"])),
        ("material.create", lambda: state.setdefault("practice3", materials.share_material(
            moderator, group, materials.MaterialInput(title="Praktyka 3", kind="good_practice"),
            None, materials.GoodPracticeInput(problem="Problem", actions="Działania")))),
        ("practice.propose", lambda: library.propose(
            moderator, state["practice3"], library.ListingInput(
                themes="kultura", contact_user_id=member.id))),
        ("practice.publish", lambda: library.publish(moderator, state["practice3"])),
        ("tournament.open", lambda: state.setdefault("tournament", tournaments.open_tournament(
            admin, title="Turniej", description="", kind="ranked", points=0,
            closes_at=utcnow() + timedelta(days=2)))),
        ("tournament.round", lambda: tournaments.next_round(
            admin, state["tournament"], keep=2, closes_at=utcnow() + timedelta(days=4))),
        ("tournament.finish", lambda: tournaments.finish(admin, state["tournament"])),
        ("thread.pin", lambda: discussions.set_pinned(moderator, thread(), True)),
        ("thread.unpin", lambda: discussions.set_pinned(moderator, thread(), False)),
        ("thread.lock", lambda: discussions.set_locked(moderator, thread(), True)),
        ("thread.unlock", lambda: discussions.set_locked(moderator, thread(), False)),
        ("thread.move", lambda: discussions.move_to_workshop(moderator, thread(), 1)),
        ("thread.rename", lambda: curation.rename_thread(moderator, thread(), "Nowy")),
        ("thread.close", lambda: curation.close_thread(moderator, thread(), "Koniec")),
        ("thread.reopen", lambda: curation.reopen_thread(moderator, thread())),
        ("thread.conclusion", lambda: curation.set_conclusion(moderator, thread(), post())),
        ("thread.conclusion_clear", lambda: curation.set_conclusion(moderator, thread(), None)),
        ("thread.agenda_mark", lambda: agenda.mark_for_next_workshop(moderator, thread())),
        ("thread.agenda_unmark", lambda: agenda.unmark(moderator, thread())),
        ("thread.agenda_mark", lambda: agenda.mark_for_next_workshop(moderator, thread())),
        ("workshop.agenda", lambda: agenda.add_to_agenda(moderator, workshop())),
        ("workshop.agenda_remove", lambda: agenda.remove_agenda_item(
            moderator, workshop(), agenda.agenda_items(moderator, workshop())[0].item.id)),
        ("post.edit", lambda: reports.resolve_report(
            moderator, reports.report_post(observer, post(), "personal_data"), "edit",
            note="usunięto numer telefonu", new_body="odpowiedź bez danych")),
        ("report.dismiss", lambda: reports.resolve_report(
            moderator, reports.report_post(observer, post(), "off_topic"), "dismiss")),
        ("user.warn", lambda: reports.resolve_report(
            moderator, reports.report_post(observer, post(), "offensive"), "warn",
            note="Prosimy o spokojny ton.")),
        ("chat.edit", lambda: reports.resolve_report(
            moderator, reports.report_chat_message(observer, chat_message(), "personal_data"),
            "edit", note="usunięto adres", new_body="hej!")),
        ("post.hide", lambda: discussions.hide_post(moderator, post(), "dane osobowe")),
        ("post.unhide", lambda: discussions.unhide_post(moderator, post())),
        ("thread.split", lambda: state.setdefault("split", curation.split_thread(
            moderator, thread(), [post().id], title="Odnoga"))),
        ("thread.merge", lambda: curation.merge_threads(moderator, state["split"], thread())),
        ("post.delete", lambda: discussions.delete_post(moderator, db.session.get(
            Post, post().id))),
        ("chat.remove", lambda: chat.remove_message(moderator, group, chat_message().id)),
        ("chat.mute", lambda: chat.mute_member(moderator, group, member.id, 10)),
        ("chat.unmute", lambda: chat.unmute_member(moderator, group, member.id)),
        ("chat.slow_mode", lambda: chat.set_slow_mode(moderator, group, 30)),
        ("user.create", lambda: state.setdefault("user", accounts.create_user(
            admin, email="nowa@example.org", name="Nowa Osoba", password="Dluga-fraza-2026"))),
        ("user.deactivate", lambda: accounts.set_user_active(admin, state["user"], False)),
        ("user.activate", lambda: accounts.set_user_active(admin, state["user"], True)),
        ("user.sign_in_unblock", lambda: accounts.clear_sign_in_blocks(admin, state["user"])),
        ("user.admin", lambda: accounts.set_user_admin(admin, state["user"], True)),
        ("user.unadmin", lambda: accounts.set_user_admin(admin, state["user"], False)),
        ("organisation.create", lambda: state.setdefault("org", accounts.create_organisation(
            admin, name="Gmina Nowa", kind="rural_commune"))),
        ("organisation.update", lambda: accounts.update_organisation(
            admin, state["org"], name="Gmina Nowsza", kind="rural_commune")),
        ("membership.add", lambda: groups.set_role(admin, group, state["user"], "member")),
        ("membership.role", lambda: groups.set_role(admin, group, state["user"], "observer")),
        ("membership.remove", lambda: groups.remove_member(admin, group, state["user"])),
        ("invitation.create", lambda: state.setdefault("invitation", groups.invite(
            admin, group, "zaproszona@example.org")[0])),
        ("invitation.revoke", lambda: groups.revoke_invitation(admin, state["invitation"])),
        ("group.create", lambda: state.setdefault("group", groups.create_group(
            admin, name="Gminy nowe", slug="gminy-nowe", kind="rural"))),
        ("group.update", lambda: groups.update_group(
            admin, state["group"], name="Gminy nowsze", slug="gminy-nowe", description="",
            kind="rural", time_zone="Europe/Warsaw")),
        ("site_text.update", lambda: site_texts.save_site_text(
            admin, "privacy", "pl", "# Cele\n\nProwadzimy forum.")),
        ("user.erase", lambda: erasure.erase_user(admin, state["user"])),
    ]
    for action, step in steps:
        count = len(_entries())
        step()
        new = _entries()[count:]
        if action.startswith("tournament."):  # its rounds' polls are started and closed too
            new = [e for e in new if not e.action.startswith("poll.")]
        assert [e.action for e in new] == [action], action
        assert new[0].subject_type and new[0].subject_id, f"{action} names no item"
        assert new[0].actor_id in (moderator.id, admin.id)
    recorded = {e.action for e in _entries()}
    assert recorded == {action for action, _step in steps}
    # Every named action is exercised here, except those members do for themselves (asking
    # for the erasure of their account: tests/privacy/test_erasure.py) and the retention
    # run's own entry (no actor; tests/privacy/test_retention.py).
    assert recorded == set(services.AUDIT_ACTIONS) - {
        "invitation.accept", "retention.apply", "user.erasure_request", "user.erasure_cancel",
        "post.redact"}
    changed = {e.action: e for e in _entries()}
    assert "Mało chętnych" in changed["material.update"].before
    assert "Edukacja\n" in changed["workshop.update"].before + "\n"
    assert changed["post.edit"].before == "odpowiedź" and changed["chat.edit"].before == "hej"
    hidden = next(e for e in _entries() if e.action == "post.hide")
    assert (hidden.subject_type, hidden.reason) == ("post", "dane osobowe")


# --- pages -----------------------------------------------------------------------------------

PERSONAS = ["anonymous", "outsider", "observer", "member", "moderator", "admin"]


@pytest.fixture
def logged(app, personas):
    with app.app_context():
        thread, other = _log(factories.people_of(personas))
        return {"thread": thread.id, "other": other.id}


@pytest.mark.parametrize("persona", PERSONAS)
def test_group_log_and_csv_answer_each_persona(personas, login_as, logged, persona):
    client = login_as(None if persona == "anonymous" else getattr(personas, persona))
    expected = {"anonymous": 302, "outsider": 404, "observer": 403, "member": 403}.get(
        persona, 200)
    for url in ("/g/{}/moderation/audit", "/g/{}/moderation/audit.csv"):
        assert client.get(url.format(personas.g1.slug)).status_code == expected, url
    admin_expected = {"anonymous": 302, "admin": 200}.get(persona, 404)
    for url in ("/admin/audit", "/admin/audit.csv"):
        assert client.get(url).status_code == admin_expected, url


def test_group_log_shows_who_what_item_why_and_before(personas, login_as, logged):
    page = login_as(personas.moderator).get(
        f"/g/{personas.g1.slug}/moderation/audit").get_data(as_text=True)
    table = _table(page)
    assert "Marta Moderator" in table and "thread renamed" in table
    assert f'href="/g/{personas.g1.slug}/t/{logged["thread"]}"' in table
    assert "porządek" in table and "<details><summary>Show</summary>" in table
    assert "thread locked" not in table  # another group's entry
    assert "<form" not in table  # nothing to edit or delete
    assert '<form method="get" class="filter-form audit-filters"' in page


def _table(page: str) -> str:
    return page.split("<tbody>")[1].split("</tbody>")[0]


def test_admin_log_filters_and_keeps_them_in_the_csv_link(personas, login_as, logged):
    admin = login_as(personas.admin)
    page = admin.get("/admin/audit?action=thread.lock").get_data(as_text=True)
    assert "thread locked" in _table(page) and "thread renamed" not in _table(page)
    assert "/admin/audit.csv?action=thread.lock" in page
    response = admin.get("/admin/audit.csv?action=thread.lock")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff") and body.count("\r\n") == 2
    page = admin.get("/admin/audit?date_from=not-a-date&subject_id=abc").get_data(as_text=True)
    assert "thread renamed" in _table(page)  # bad filter values are shown and ignored
    assert "Not a valid date value." in page


def test_the_log_cannot_be_changed_over_http(personas, login_as, logged):
    admin = login_as(personas.admin)
    assert admin.post("/admin/audit").status_code == 405
    assert admin.post(f"/g/{personas.g1.slug}/moderation/audit").status_code == 405


def test_the_log_names_items_and_filters_them_by_name_not_by_number(personas, login_as, logged):
    admin = login_as(personas.admin)
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert f"thread {logged['other']}<" not in _table(page)  # no internal numbers
    assert "Item number" not in page and "Item (part of its name)" in page
    assert '<option value="Marta Moderator">' in page  # who: names to choose from
    page = admin.get("/admin/audit?item=powiat").get_data(as_text=True)
    assert "thread locked" in _table(page) and "thread pinned" not in _table(page)
    page = admin.get("/admin/audit?actor=Marta+Moderator").get_data(as_text=True)
    assert "thread pinned" in _table(page) and "thread locked" not in _table(page)
    # A bookmarked address with an item's number still narrows the log.
    page = admin.get(f"/admin/audit?subject_type=thread&subject_id={logged['other']}")
    assert "thread locked" in _table(page.get_data(as_text=True))
    assert "thread pinned" not in _table(page.get_data(as_text=True))
