"""Export my data: contents (everything of the person, nothing of anyone else), the background
job (claim, build, retry, fail), the e-mail and notice, expiry, and the storage check."""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import current_app

from forum.audit.models import AuditEntry
from forum.backup import check_storage
from forum.chat import services as chat
from forum.demo_files import make_pdf
from forum.discussions import services as discussions
from forum.discussions.models import Post
from forum.errors import InvalidInput, NotFound
from forum.extensions import db
from forum.groups.models import Role
from forum.mailings import worker
from forum.materials import services as materials
from forum.materials.backends import storage_for
from forum.moderation import reports
from forum.notifications import services as notification_settings
from forum.notifications.models import Notification
from forum.privacy import export
from forum.privacy.models import DataExport
from forum.timeutil import utcnow
from tests import factories
from tests.materials import samples
from tests.notifications.conftest import link_to, parts
from tests.privacy.attendance_rows import add_session_records
from tests.privacy.test_export_views import fetch

PERSON_PDF_V2 = make_pdf("Raport Jana, wersja 2", ["Poprawione wnioski Jana."])


def _upload(data: bytes, name: str) -> materials.Upload:
    return materials.Upload(io.BytesIO(data), name)


def build_world(personas) -> SimpleNamespace:
    """The person (member: Jan Kowalski) with every kind of data, and two other people
    (moderator Marta, outsider Olek) with their own data in the same threads and chats."""
    person = factories.user(personas.member.id)
    marta = factories.user(personas.moderator.id)
    olek = factories.user(personas.outsider.id)
    g1, g2 = factories.group(personas.g1.id), factories.group(personas.g2.id)
    factories.add_member(person, g2, Role.MODERATOR)  # member in g1, moderator in g2

    # Threads: Marta's, where Jan replies and edits his reply; Jan's own, where Olek replies.
    marta_thread = discussions.start_thread(marta, g1, title="Dowozy uczniów",
                                            body="Tekst Marty o autobusach szkolnych")
    marta_post = db.session.get(Post, discussions.post_id_at(marta_thread, 1))
    jan_reply = discussions.reply(person, marta_thread, "Odpowiedź Jana, pierwsza wersja",
                                  reply_to_id=marta_post.id)
    discussions.edit_post(person, jan_reply, "Odpowiedź Jana po poprawce")
    discussions.reply(marta, marta_thread, "Odpowiedź Marty dla Jana",
                      reply_to_id=jan_reply.id)  # → a reply notice for Jan
    jan_thread = discussions.start_thread(person, g2, title="Wątek Jana o stołówkach",
                                          body="Pierwszy wpis Jana o stołówkach")
    discussions.reply(olek, jan_thread, "Odpowiedź Olka o stołówkach")

    # Drafts: Jan's reply he has not sent and a new thread; Marta's draft is hers.
    discussions.save_draft(person, g1, marta_thread, body="Szkic Jana do Marty")
    discussions.save_draft(person, g2, title="Szkic wątku Jana", body="Treść szkicu Jana")
    discussions.save_draft(marta, g1, marta_thread, body="Szkic Marty, nie wysłany")

    # Reactions: Jan's on Marta's post; Marta's on Jan's reply (hers, not his).
    discussions.toggle_reaction(person, marta_post, "useful")
    discussions.toggle_reaction(marta, jan_reply, "thanks")

    # Chat in both groups.
    jan_message = chat.send_message(person, g1, "Wiadomość Jana na czacie", "jan-1")
    marta_message = chat.send_message(marta, g1, "Wiadomość Marty na czacie", "marta-1")
    chat.send_message(olek, g2, "Wiadomość Olka na czacie", "olek-1")

    # Materials: Jan's with two versions; Marta's with one (and a version Jan added to it).
    jan_material = materials.share_material(
        person, g1, materials.MaterialInput(title="Raport Jana", kind="diagnosis_report",
                                            description="Opis **Jana**"),
        _upload(samples.PDF, "raport jana.pdf"))
    materials.add_version(person, jan_material, _upload(PERSON_PDF_V2, "raport jana v2.pdf"))
    marta_material = materials.share_material(
        marta, g1, materials.MaterialInput(title="Prezentacja Marty", kind="presentation",
                                           description="Opis Marty"),
        _upload(samples.docx(), "marta.docx"))
    practice = materials.share_material(
        person, g1, materials.MaterialInput(title="Dobra praktyka Jana", kind="good_practice"),
        None, materials.GoodPracticeInput(problem="Problem Jana z dojazdami",
                                          actions="Działania **Jana**",
                                          results="Wyniki Jana", costs="Koszty Jana"))

    # Reports: one resolved (dismissed, with a note), one open.
    report_post = reports.report_post(person, marta_post, "off_topic", "Zgłoszenie Jana: obok")
    reports.resolve_report(marta, report_post, "dismiss", note="Notatka Marty o zgłoszeniu")
    report_chat = reports.report_chat_message(person, marta_message, "personal_data",
                                              "Zgłoszenie Jana: telefon")

    notification_settings.update_email_settings(person, person, notifications="daily",
                                                digest=False)
    # A session both attended (registrations, check-ins, certificates, evaluations) and
    # amended the minutes of.
    session = add_session_records(marta, g1, [person, marta], amendment={
        person.id: "Poprawka **Jana** do protokołu", marta.id: "Poprawka Marty do protokołu"})
    return SimpleNamespace(session=session,
        person=person, others=[marta, olek], g1=g1, g2=g2, jan_reply=jan_reply,
        jan_thread=jan_thread, marta_post=marta_post, jan_message=jan_message,
        jan_material=jan_material, marta_material=marta_material, practice=practice,
        report_post=report_post, report_chat=report_chat,
        other_texts=["Tekst Marty o autobusach", "Odpowiedź Marty dla Jana",
                     "Odpowiedź Olka", "Wiadomość Marty", "Wiadomość Olka", "Opis Marty",
                     "Prezentacja Marty", "marta.docx", "Notatka Marty", "Szkic Marty",
                     "Poprawka Marty", "Anonimowa odpowiedź"],
    )


def _zip(item: DataExport) -> zipfile.ZipFile:
    with storage_for(current_app).open(item.storage_key) as stream:
        return zipfile.ZipFile(io.BytesIO(stream.read()))


def _all_text(archive: zipfile.ZipFile) -> str:
    return "\n".join(archive.read(name).decode("utf-8", "replace")
                     for name in archive.namelist())


def _export_of(user) -> DataExport:
    db.session.expire_all()
    return db.session.scalars(db.select(DataExport).where(DataExport.user_id == user.id)
                              .order_by(DataExport.id.desc())).first()


@pytest.fixture
def world(ctx, personas):
    return build_world(personas)


def test_the_export_holds_all_of_the_persons_data_and_nothing_of_anyone_elses(world, smtp):
    person = world.person
    requested = export.request_export(person, person)
    assert requested.status == "pending"
    worker.run_once()  # the background step: claims, builds, and sends the e-mail
    item = _export_of(person)
    assert item.status == "ready" and item.size > 0 and item.error == ""
    assert item.finished_at and item.expires_at - item.finished_at == timedelta(days=7)
    archive = _zip(item)
    names = archive.namelist()
    assert {"export.json", "index.html"} <= set(names)
    data = json.loads(archive.read("export.json").decode("utf-8"))

    assert data["format"] == "forum-personal-data-export" and data["format_version"] == 1
    assert data["profile"]["email"] == person.email and data["profile"]["name"] == person.name
    assert data["profile"]["position"] == "naczelnik"
    assert {(m["group"]["slug"], m["role"]) for m in data["memberships"]} == {
        (world.g1.slug, "member"), (world.g2.slug, "moderator")}

    posts = {p["id"]: p for p in data["posts"]}
    reply = posts[world.jan_reply.id]
    assert reply["body"] == "Odpowiedź Jana po poprawce"
    assert [r["body"] for r in reply["revisions"]] == ["Odpowiedź Jana, pierwsza wersja"]
    assert reply["revisions"][0]["edited_by"] == "self"
    assert reply["thread"]["title"] == "Dowozy uczniów"  # the title only, for context
    assert reply["reply_to_post_id"] == world.marta_post.id
    opening = discussions.post_id_at(world.jan_thread, 1)
    assert posts[opening]["body"] == "Pierwszy wpis Jana o stołówkach"
    assert len(posts) == 2
    assert [t["id"] for t in data["threads_started"]] == [world.jan_thread.id]

    assert data["reactions"] == [{"post_id": world.marta_post.id, "kind": "useful",
                                  "thread": reply["thread"]}]
    assert [(m["id"], m["body"]) for m in data["chat_messages"]] == [
        (world.jan_message.id, "Wiadomość Jana na czacie")]

    [material] = [m for m in data["materials"] if m["id"] == world.jan_material.id]
    assert material["shared_by_me"] and material["description"] == "Opis **Jana**"
    versions = material["versions_uploaded_by_me"]
    assert [v["number"] for v in versions] == [1, 2]
    assert archive.read(versions[0]["file"]) == samples.PDF
    assert archive.read(versions[1]["file"]) == PERSON_PDF_V2
    assert not any(v["file_missing"] for v in versions)
    assert [f for f in names if f.startswith("files/")] == [v["file"] for v in versions]

    [practice] = data["good_practices"]
    assert practice["material_id"] == world.practice.id
    assert practice["problem"] == "Problem Jana z dojazdami"
    assert "<strong>Jana</strong>" in practice["actions_html"]

    found = {r["report_id"]: r for r in data["reports"]}
    assert found[world.report_post.id]["text"] == "Zgłoszenie Jana: obok"
    assert found[world.report_post.id]["outcome"] == "dismissed"
    assert found[world.report_post.id]["status"] == "resolved"
    assert found[world.report_chat.id]["status"] == "open"
    assert found[world.report_chat.id]["outcome"] is None

    kinds = [n["kind"] for n in data["notifications"]]
    assert "reply" in kinds and "report_outcome" in kinds
    assert data["email_settings"]["notification_emails"] == "daily"
    assert data["email_settings"]["session_digest"] is False
    assert {w["thread"]["id"] for w in data["email_settings"]["thread_watches"]} == {
        reply["thread"]["id"], world.jan_thread.id}
    assert [(d["kind"], d["thread"]["title"] if d["thread"] else None, d["group"]["slug"],
             d["title"], d["text"]) for d in data["drafts"]] == [
        ("reply", "Dowozy uczniów", world.g1.slug, "", "Szkic Jana do Marty"),
        ("new_thread", None, world.g2.slug, "Szkic wątku Jana", "Treść szkicu Jana")]
    assert data["calendar"]["token_resets_recorded"] is False and data["calendar"]["note"]
    session = world.session.workshop
    reference = {"group": {"id": world.g1.id, "slug": world.g1.slug, "name": world.g1.name},
                 "number": session.number, "theme": session.theme,
                 "day1": session.day1.isoformat(), "day2": session.day2.isoformat()}
    attendance = data["attendance"]
    assert attendance["recorded"] is True
    [registration] = attendance["registrations"]
    assert registration["session"] == reference and registration["days"] == [1, 2]
    assert registration["organisation"] == (person.organisation.name if person.organisation
                                            else None)
    assert [(c["session"], c["day"], c["method"], c["recorded_by"])
            for c in attendance["check_ins"]] == [(reference, 1, "code", "self"),
                                                   (reference, 2, "list", "moderator")]
    assert all(c["at"].endswith("Z") for c in attendance["check_ins"])
    [certificate] = data["certificates"]["items"]
    assert certificate["serial"] == f"T-{session.id}-0001"  # hers, not Marta's (-0002)
    assert certificate["session"] == reference and certificate["issued_at"]
    [answered] = data["evaluation"]["answered"]
    assert answered["session"] == reference and answered["submitted_at"]
    assert "anonymous" in data["evaluation"]["note"]
    [amendment] = data["minutes"]["amendments"]
    assert amendment["text"] == "Poprawka **Jana** do protokołu"
    assert "<strong>Jana</strong>" in amendment["text_html"]
    assert amendment["state"] == "accepted" and amendment["session"] == reference

    # Nothing of the other people: names, addresses, texts, files.
    everything = _all_text(archive)
    for other in world.others:
        assert other.email not in everything
        assert other.name not in everything
    for text in world.other_texts:
        assert text not in everything, text
    assert samples.docx() not in [archive.read(name) for name in names]

    index = archive.read("index.html").decode("utf-8")
    assert "<script" not in index.lower() and "javascript:" not in index.lower()
    assert person.name in index and "Odpowiedź Jana po poprawce" in index
    assert "Odpowiedź Jana, pierwsza wersja" in index
    assert f'href="{versions[0]["file"].replace(" ", "%20")}"' in index
    # The draft too, readable: which group, its title and text.
    drafts = index[index.index('id="drafts"'):index.index('id="email"')]
    assert "Szkic wątku Jana" in drafts and "Treść szkicu Jana" in drafts
    # Attendance, certificates, evaluations and amendments, readable.
    attended = index[index.index('id="attendance"'):]
    assert "Sesja rozliczana 7" in attended and f"T-{session.id}-0001" in attended
    assert "present on day 2, ticked off on the list" in attended
    # registration, two check-ins, the certificate, the answer, the amendment
    assert attended.count("Sesja rozliczana 7") == 6
    assert "Poprawka <strong>Jana</strong> do protokołu" in attended


def test_html_in_the_persons_own_text_is_escaped_or_sanitised_in_the_index(ctx, personas):
    person, group = factories.user(personas.member.id), factories.group(personas.g1.id)
    thread = discussions.start_thread(person, group, title="<script>alert('t')</script>",
                                      body="<script>alert(1)</script> **tak**")
    post = db.session.get(Post, discussions.post_id_at(thread, 1))
    discussions.edit_post(person, post, "<img src=x onerror=alert(2)> nowa")
    export.request_export(person, person)
    export.build_due_exports()
    archive = _zip(_export_of(person))
    index = archive.read("index.html").decode("utf-8")
    assert "<script" not in index.lower() and "<img" not in index.lower()
    assert "&lt;img src=x onerror=alert(2)&gt;" in index  # sanitised to text by forum.text
    assert "&lt;script&gt;alert(1)" in index  # the earlier version, escaped
    data = json.loads(archive.read("export.json"))
    assert data["posts"][0]["revisions"][0]["body"].startswith("<script>")  # data kept as is


def test_a_chat_message_the_person_deleted_is_not_called_removed_by_a_moderator(ctx,
                                                                                  personas):
    person, group = factories.user(personas.member.id), factories.group(personas.g1.id)
    mine = chat.send_message(person, group, "Pomyłka, zaraz usunę", "export-own-1")
    chat.delete_own_message(person, group, mine.id)
    moderated = chat.send_message(person, group, "Do usunięcia przez moderatora",
                                  "export-own-2")
    chat.remove_message(factories.user(personas.moderator.id), group, moderated.id)
    export.request_export(person, person)
    export.build_due_exports()
    archive = _zip(_export_of(person))
    data = json.loads(archive.read("export.json"))
    by_id = {m["id"]: m for m in data["chat_messages"]}
    assert by_id[mine.id]["removed_by_author"] is True
    assert by_id[moderated.id]["removed_by_author"] is False
    index = archive.read("index.html").decode("utf-8")
    assert index.count("deleted by you") == 1 and index.count("removed by a moderator") == 1


def test_a_person_without_data_gets_a_valid_export(ctx, personas):
    person = factories.user(personas.observer.id)
    export.request_export(person, person)
    assert export.build_due_exports().built == 1
    data = json.loads(_zip(_export_of(person)).read("export.json"))
    assert data["posts"] == [] and data["materials"] == [] and data["reports"] == []
    assert data["memberships"][0]["role"] == "observer"


def test_the_person_is_told_by_email_and_in_the_app_with_a_working_link(
        world, smtp, login_as, personas):
    person = world.person
    export.request_export(person, person)
    worker.run_once()
    item = _export_of(person)
    messages = [m for m in smtp.wait_for(2) if "ready" in m["Subject"]]
    [message] = messages
    assert message["To"] == person.email
    text, _html = parts(message)
    url = link_to(text, f"/profile/data/exports/{item.id}.zip")
    notice = db.session.scalars(db.select(Notification).where(
        Notification.user_id == person.id, Notification.kind == "data_export")).one()
    assert notice.text == str(item.id) and notice.emailed_at is not None

    client = login_as(personas.member)
    response = fetch(client, url.replace("http://forum.test", ""))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    assert zipfile.ZipFile(io.BytesIO(response.data)).read("export.json")
    page = client.get("/notifications").get_data(as_text=True)
    assert "The copy of your data is ready to download." in page
    opened = client.get(f"/notifications/{notice.id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/profile/data")


def test_the_email_is_in_the_persons_language(ctx, personas, smtp):
    person = factories.user(personas.member.id)
    person.locale = "pl"
    db.session.commit()
    export.request_export(person, person)
    worker.run_once()
    [message] = smtp.wait_for(1)
    text, _html = parts(message)
    assert "Hello" not in text and person.name in text


def test_one_unfinished_export_at_a_time(ctx, personas):
    person = factories.user(personas.member.id)
    export.request_export(person, person)
    with pytest.raises(InvalidInput):
        export.request_export(person, person)
    export.build_due_exports()
    assert export.request_export(person, person).status == "pending"  # once the first is done


def test_only_the_person_or_an_administrator_may_ask(ctx, personas):
    person = factories.user(personas.member.id)
    for other in ("moderator", "observer", "outsider"):
        with pytest.raises(NotFound):
            export.request_export(factories.user(getattr(personas, other).id), person)
    admin = factories.user(personas.admin.id)
    item = export.request_export(admin, person)
    entry = db.session.scalars(db.select(AuditEntry).where(
        AuditEntry.action == "user.export")).one()
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (admin.id, "user",
                                                                       person.id)
    assert entry.details == {"export_id": item.id}
    assert item.requested_by_id == admin.id


def test_downloads_are_personal(ctx, personas):
    person, admin = factories.user(personas.member.id), factories.user(personas.admin.id)
    own = export.request_export(person, person)
    export.build_due_exports()
    assert export.get_download_for(person, own.id).id == own.id
    for other in (admin, factories.user(personas.moderator.id)):
        with pytest.raises(NotFound):
            export.get_download_for(other, own.id)
        with pytest.raises(NotFound):
            export.get_download_for(other, own.id, user_id=person.id, as_administrator=True)
    by_admin = export.request_export(admin, person)
    export.build_due_exports()
    assert export.get_download_for(admin, by_admin.id, user_id=person.id,
                                   as_administrator=True).id == by_admin.id
    assert export.get_download_for(person, by_admin.id).id == by_admin.id
    second_admin = factories.make_user(is_admin=True)
    with pytest.raises(NotFound):
        export.get_download_for(second_admin, by_admin.id, user_id=person.id,
                                as_administrator=True)
    with pytest.raises(NotFound):  # the person's own address is the person's only
        export.get_download_for(admin, by_admin.id)


def test_an_expired_export_is_not_downloadable_and_is_removed_by_retention(ctx, personas):
    person = factories.user(personas.member.id)
    item = export.request_export(person, person)
    export.build_due_exports()
    item = _export_of(person)
    key = item.storage_key
    storage = storage_for(ctx)
    assert storage.exists(key)
    later = item.expires_at + timedelta(seconds=1)
    assert export.expire_exports(later - timedelta(seconds=2), dry_run=False) == 0
    item.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(NotFound):
        export.get_download_for(person, item.id)
    assert export.expire_exports(utcnow(), dry_run=True) == 1
    assert storage.exists(key) and _export_of(person) is not None  # a dry run changes nothing
    assert export.expire_exports(utcnow()) == 1
    assert not storage.exists(key) and _export_of(person) is None
    assert export.expire_exports(utcnow()) == 0  # idempotent


def test_the_storage_check_counts_export_files_as_used(ctx, personas):
    person = factories.user(personas.member.id)
    export.request_export(person, person)
    export.build_due_exports()
    export.request_export(factories.user(personas.observer.id),
                          factories.user(personas.observer.id))  # pending: no file yet
    report = check_storage()
    assert report.unused == {} and report.missing == []
    assert report.referenced == 1 and report.stored == 1


# --- the background job ----------------------------------------------------------------------


def test_a_failed_build_is_retried_then_marked_failed_with_its_error(ctx, personas, monkeypatch):
    person = factories.user(personas.member.id)
    item = export.request_export(person, person)
    storage = storage_for(ctx)

    def broken_put(key, stream):
        raise OSError("No space left on device")

    monkeypatch.setattr(storage, "put", broken_put)
    report = export.build_due_exports()
    assert (report.built, report.retried, report.failed) == (0, 1, 0)
    row = _export_of(person)
    assert row.status == "pending" and row.attempts == 1
    assert "No space left on device" in row.error
    assert export.build_due_exports().total == 0  # waits before trying again
    for attempt in (2, 3):
        report = export.build_due_exports(now=utcnow() + timedelta(hours=attempt))
    assert report.failed == 1
    row = _export_of(person)
    assert row.status == "failed" and row.attempts == export.MAX_ATTEMPTS
    assert "OSError: No space left on device" in row.error and row.finished_at
    assert export.build_due_exports(now=utcnow() + timedelta(days=1)).total == 0
    with pytest.raises(NotFound):
        export.get_download_for(person, item.id)
    assert list(storage.iter_keys()) == []
    export.request_export(person, person)  # a failed export does not block a new one


def test_a_claimed_export_is_left_to_its_builder_until_the_lease_ends(ctx, personas):
    person = factories.user(personas.member.id)
    export.request_export(person, person)
    [(export_id, until)] = export._claim(5, utcnow())  # another process claimed it and died
    assert _export_of(person).status == "running"
    assert export.build_due_exports().total == 0
    report = export.build_due_exports(now=until + timedelta(seconds=1))
    assert report.built == 1
    row = _export_of(person)
    assert row.status == "ready" and row.attempts == 2 and row.id == export_id


def test_two_builders_never_build_the_same_export(app, personas, smtp):
    with app.app_context():
        people = [factories.user(getattr(personas, key).id)
                  for key in ("member", "observer", "moderator", "outsider")]
        ids = [export.request_export(person, person).id for person in people]
    results, errors = [], []

    def builder():
        with app.app_context():
            try:
                results.append(export.build_due_exports(limit=2))
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=builder) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sum(r.built for r in results) == len(ids)
    assert sum(r.retried + r.failed for r in results) == 0
    with app.app_context():
        rows = db.session.scalars(db.select(DataExport).order_by(DataExport.id)).all()
        assert [(r.id, r.status, r.attempts) for r in rows] == [(i, "ready", 1) for i in ids]
        assert db.session.scalar(db.select(db.func.count()).select_from(Notification)
                                 .where(Notification.kind == "data_export")) == len(ids)


def test_the_build_exports_command(app, personas, smtp):
    with app.app_context():
        person = factories.user(personas.member.id)
        export.request_export(person, person)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["forum", "build-exports"])
    assert result.exit_code == 0, result.output
    assert "1 data export(s) built, 0 to retry later, 0 failed" in result.output
    assert "1 e-mail(s) sent" in result.output
    assert len(smtp.wait_for(1)) == 1
    again = runner.invoke(args=["forum", "build-exports"])
    assert "0 data export(s) built" in again.output


def test_the_served_app_builds_exports_in_the_background(make_app, personas, smtp):
    app = make_app(FORUM_MAIL_WORKER=True, FORUM_MAIL_POLL_SECONDS=30)
    client = app.test_client()
    from tests.conftest import login

    login(client, personas.member.email)  # the first request starts the worker
    try:
        response = client.post("/profile/data/exports")
        assert response.status_code == 302
        # The request nudges the worker: no 30-second wait for the next round.
        [message] = smtp.wait_for(1, timeout=15)
        assert "/profile/data/exports/" in parts(message)[0]
    finally:
        for running in app.extensions["forum_mail_workers"].values():
            running.stop()
    with app.app_context():
        assert _export_of(factories.user(personas.member.id)).status == "ready"


def test_a_missing_material_file_is_left_out_and_said(ctx, personas):
    person, group = factories.user(personas.member.id), factories.group(personas.g1.id)
    material = materials.share_material(
        person, group, materials.MaterialInput(title="Zgubiony", kind="minutes"),
        _upload(samples.PDF, "zgubiony.pdf"))
    storage_for(ctx).delete(material.current_version.storage_key)
    export.request_export(person, person)
    assert export.build_due_exports().built == 1
    archive = _zip(_export_of(person))
    data = json.loads(archive.read("export.json"))
    [version] = data["materials"][0]["versions_uploaded_by_me"]
    assert version["file"] is None and version["file_missing"] is True
    assert not [n for n in archive.namelist() if n.startswith("files/")]
    assert re.search(r"missing from the forum.s storage", archive.read("index.html").decode())


def test_erasure_can_delete_a_persons_exports_and_their_files(ctx, personas):
    person = factories.user(personas.member.id)
    export.request_export(person, person)
    export.build_due_exports()
    key = _export_of(person).storage_key
    export.request_export(person, person)  # a pending one too
    assert export.delete_exports_of(person.id) == 2
    assert _export_of(person) is None and not storage_for(ctx).exists(key)
    assert export.delete_exports_of(person.id) == 0


def test_apply_retention_removes_expired_exports(app, personas):
    with app.app_context():
        person = factories.user(personas.member.id)
        export.request_export(person, person)
        export.build_due_exports()
        item = _export_of(person)
        key = item.storage_key
        item.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["forum", "apply-retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove 1 data exports" in dry.output
    with app.app_context():
        assert _export_of(factories.user(personas.member.id)) is not None
        assert storage_for(app).exists(key)
    real = runner.invoke(args=["forum", "apply-retention"])
    assert real.exit_code == 0, real.output
    with app.app_context():
        assert _export_of(factories.user(personas.member.id)) is None
        assert not storage_for(app).exists(key)


def test_someone_who_never_attended_gets_empty_attendance_sections(ctx, personas, smtp):
    person = factories.user(personas.observer.id)
    export.request_export(person, person)
    worker.run_once()
    archive = _zip(_export_of(person))
    data = json.loads(archive.read("export.json").decode("utf-8"))
    assert data["attendance"] == {"recorded": True, "registrations": [], "check_ins": []}
    assert data["certificates"] == {"recorded": True, "items": []}
    assert data["evaluation"]["answered"] == [] and data["minutes"] == {"amendments": []}
    index = archive.read("index.html").decode("utf-8")
    attended = index[index.index('id="attendance"'):]
    assert attended.count("Nothing of this kind.") == 5  # 3 attendance, evaluation, minutes
