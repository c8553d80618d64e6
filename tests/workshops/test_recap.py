"""Session recap: what it gathers, when it is available, the page and the ZIP export."""

import hashlib
import io
import re
import uuid
import zipfile
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from forum.attendance.models import CheckIn, Registration
from forum.chat.models import ChatMessage
from forum.discussions import services as discussions
from forum.discussions.models import Thread
from forum.errors import InvalidInput, NotFound
from forum.extensions import db
from forum.materials import services as materials
from forum.pages import recap
from forum.text import render_markdown
from forum.timeutil import utcnow
from forum.workshops import services as workshops
from tests import factories
from tests.materials import samples

HOSTILE = ('<script>alert("pwned")</script><img src=x onerror=alert(2)> '
           '[kliknij](javascript:alert(3)) <a href="#" onclick="alert(4)">x</a>')
TEXT_FILE = "Notatki z sesji\nZażółć gęślą jaźń\n".encode() * 200


def _session(people, group, number, days_from_today):
    return factories.make_workshop(people["moderator"], group, number,
                                   days_from_today=days_from_today, place="Lublin")


def _at(group, day, hour):
    return datetime.combine(day, time(hour), ZoneInfo(group.time_zone))


def _chat(group, workshop, author, body, *, removed=False, when=None):
    message = ChatMessage(group_id=group.id, author_id=author.id, body=body,
                          body_html=render_markdown(body), client_id=uuid.uuid4().hex,
                          workshop_id=workshop.id if workshop else None,
                          created_at=when or utcnow(),
                          removed_at=utcnow() if removed else None)
    db.session.add(message)
    db.session.commit()
    return message


def _share(people, group, workshop, title, data, name):
    return factories.make_material(people["moderator"], group, data, name, title=title,
                                   workshop_number=workshop.number)


@pytest.fixture
def concluded(people, group):
    return _concluded(people, group)


def _attendance(people, session):
    """Day 1 10:00–16:00 (6 h), day 2 09:00–14:00 (5 h). Registered: member (both days),
    moderator (day 1), observer (both; no organisation). Present: member both days, moderator
    day 1, observer day 2, and admin on day 1 without registering (no organisation). Member
    and moderator come from the same organisation."""
    session.day1_starts, session.day1_ends = time(10), time(16)
    session.day2_starts, session.day2_ends = time(9), time(14)
    for key, day1, day2 in (("member", True, True), ("moderator", True, False),
                            ("observer", True, True)):
        person = people[key]
        db.session.add(Registration(workshop_id=session.id, user_id=person.id,
                                    organisation_id=person.organisation_id, day1=day1,
                                    day2=day2))
    for key, day in (("member", 1), ("member", 2), ("moderator", 1), ("observer", 2),
                     ("admin", 1)):
        person = people[key]
        db.session.add(CheckIn(workshop_id=session.id, user_id=person.id, day=day,
                               organisation_id=person.organisation_id))
    db.session.commit()


def _concluded(people, group):
    """A concluded session with everything a recap gathers, and things it must leave out."""
    session = _session(people, group, 3, -10)
    _attendance(people, session)
    other = _session(people, group, 2, -40)
    linked = discussions.start_thread(people["member"], group, title="Wątek sesji",
                                      body="Otwarcie **ważne**", workshop_number=3)
    discussions.reply(people["moderator"], linked, "Odpowiedź moderatorki")
    hidden = discussions.reply(people["member"], linked, "UKRYTY wpis")
    discussions.hide_post(people["moderator"], hidden, "dane osobowe")
    deleted = discussions.reply(people["member"], linked, "USUNIĘTY wpis")
    discussions.delete_post(people["member"], deleted)
    conclusion = discussions.reply(people["admin"], linked, "Wniosek: dzielimy się autobusami.")
    linked.conclusion_post_id = conclusion.id
    during = discussions.start_thread(people["admin"], group,
                                      title="Założony w trakcie", body=HOSTILE)
    during.created_at = _at(group, session.day2, 22)  # late on day 2, group's time
    outside = discussions.start_thread(people["member"], group, title="Wątek spoza sesji",
                                       body="nie należy")
    outside.created_at = _at(group, session.day2 + timedelta(days=1), 0)
    before = discussions.start_thread(people["member"], group, title="Wcześniejszy",
                                      body="nie należy")
    before.created_at = _at(group, session.day1, 0) - timedelta(minutes=1)
    elsewhere = discussions.start_thread(people["member"], group, title="Wątek sesji 2",
                                         body="inna sesja", workshop_number=2)
    elsewhere.created_at = _at(group, session.day1, 12)  # on its days, but session 2's
    merged = discussions.start_thread(people["member"], group, title="Scalony",
                                      body="nie", workshop_number=3)
    merged.merged_into_id = linked.id
    db.session.commit()
    _chat(group, session, people["member"], "Dzień dobry **wszystkim**",
          when=_at(group, session.day1, 10))
    _chat(group, session, people["observer"], "SKASOWANA wiadomość", removed=True,
          when=_at(group, session.day1, 11))
    _chat(group, session, people["moderator"], "Do jutra", when=_at(group, session.day2, 9))
    _chat(group, other, people["member"], "INNA sesja")
    pdf = _share(people, group, session, "Diagnoza potrzeb", samples.PDF, "diagnoza.pdf")
    text = _share(people, group, session, "Notatki", TEXT_FILE, "diagnoza.pdf.txt")
    twin = _share(people, group, session, "Diagnoza (kopia)", samples.PDF + b"\n%kopia",
                  "diagnoza.pdf")
    gone = _share(people, group, session, "Usunięty materiał", samples.PDF, "usuniety.pdf")
    materials.delete_material(people["moderator"], gone)
    _share(people, group, other, "Materiał innej sesji", samples.PDF, "inny.pdf")
    return {"session": session, "linked": linked, "during": during, "pdf": pdf, "text": text,
            "twin": twin}


# --- the recap -------------------------------------------------------------------------------


def test_the_recap_gathers_the_sessions_work(people, group, concluded):
    result = recap.build_recap(people["member"], concluded["session"])
    # oldest first: the one started on day 2, then the one linked to the session later
    assert [s.thread.title for s in result.threads] == ["Założony w trakcie", "Wątek sesji"]
    linked = result.threads[1]
    assert linked.post_count == 3  # opening, reply, conclusion; hidden and deleted left out
    assert (linked.conclusion_kind, linked.conclusion) == ("post",
                                                           "Wniosek: dzielimy się autobusami.")
    assert {m.title for m in result.materials} == {"Diagnoza potrzeb", "Notatki",
                                                   "Diagnoza (kopia)"}
    bodies = [m.body for day in result.transcript for m in day.messages]
    assert bodies == ["Dzień dobry **wszystkim**", "SKASOWANA wiadomość", "Do jutra"]
    assert [d.day for d in result.transcript] == [concluded["session"].day1,
                                                   concluded["session"].day2]
    assert result.transcript[0].messages[1].removed
    assert (result.post_count, result.message_count, result.material_count) == (4, 2, 3)
    assert result.posts == {}


def test_the_recap_counts_attendance_from_the_check_ins(people, group, concluded):
    session = concluded["session"]
    counts = recap.build_recap(people["member"], session).attendance
    assert (counts.registered, counts.registered_organisations) == (3, 1)
    assert (counts.people, counts.organisations) == (4, 1)
    assert [(d.day, d.date, d.registered, d.people, d.organisations, d.hours)
            for d in counts.days] == [(1, session.day1, 3, 3, 1, 6.0),
                                      (2, session.day2, 2, 2, 1, 5.0)]
    assert counts.person_hours == 11 + 6 + 5 + 6  # member both days, the others one each


def test_a_session_without_attendance_or_times_counts_nothing(people, group):
    session = _session(people, group, 5, -3)
    counts = recap.build_recap(people["member"], session).attendance
    assert (counts.registered, counts.people, counts.organisations, counts.person_hours) == (
        0, 0, 0, 0)
    assert [(d.people, d.hours) for d in counts.days] == [(0, 0.0), (0, 0.0)]


def test_outsiders_get_not_found(people, group, concluded):
    with pytest.raises(NotFound):
        recap.build_recap(people["outsider"], concluded["session"])
    assert recap.build_recap(people["observer"], concluded["session"]).attendance.people == 4


def test_no_recap_before_the_session_or_when_cancelled(people, group):
    upcoming = _session(people, group, 1, 5)
    with pytest.raises(InvalidInput, match="once the session has started"):
        recap.build_recap(people["member"], upcoming)
    cancelled = _session(people, group, 2, -5)
    workshops.set_cancelled(people["moderator"], cancelled, True)
    with pytest.raises(InvalidInput, match="cancelled"):
        recap.build_recap(people["member"], cancelled)
    live = _session(people, group, 3, 0)
    assert recap.recap_available(live) and not recap.recap_available(upcoming)
    assert recap.build_recap(people["member"], live).threads == []


def test_session_days_follow_the_groups_time_zone(people, group):
    session = _session(people, group, 1, -10)
    start, end = recap.workshop_bounds(session)
    assert start.utcoffset() is not None and (end - start) == timedelta(days=2)
    assert start.astimezone(ZoneInfo(group.time_zone)).date() == session.day1


def test_posts_for_the_export_are_the_visible_ones_in_order(people, group, concluded):
    result = recap.build_recap(people["member"], concluded["session"], with_posts=True)
    posts = result.posts[concluded["linked"].id]
    assert [p.body for p in posts] == ["Otwarcie **ważne**", "Odpowiedź moderatorki",
                                       "Wniosek: dzielimy się autobusami."]


def test_material_file_names_are_safe_and_unique(people, group, concluded):
    result = recap.build_recap(people["member"], concluded["session"])
    names = sorted(name for _v, name in recap.material_files(result.materials).values())
    assert names == ["diagnoza (2).pdf", "diagnoza.pdf", "diagnoza.pdf.txt"]


# --- HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def web(app, personas):
    with app.app_context():
        people = factories.people_of(personas)
        group = people["g1"]
        data = _concluded(people, group)
        _session(people, group, 8, 30)
        return {"slug": group.slug, "linked": data["linked"].id,
                "pdf_sha": data["pdf"].current_version.sha256,
                "text_sha": data["text"].current_version.sha256}


RECAP_PERSONAS = [("admin", 200), ("moderator", 200), ("member", 200), ("observer", 200),
                  ("outsider", 404), (None, 302)]


@pytest.mark.parametrize(("who", "status"), RECAP_PERSONAS)
def test_recap_page_statuses(personas, login_as, web, who, status):
    client = login_as(getattr(personas, who) if who else None)
    assert client.get(f"/g/{web['slug']}/sessions/3/recap").status_code == status
    with client.get(f"/g/{web['slug']}/sessions/3/recap.zip") as response:
        assert response.status_code == status
    if who is not None and who != "outsider":
        assert client.get(f"/g/{web['slug']}/sessions/77/recap").status_code == 404
        assert client.get(f"/g/{web['slug']}/sessions/77/recap.zip").status_code == 404


def test_the_recap_page(personas, login_as, web):
    client = login_as(personas.member)
    session_page = client.get(f"/g/{web['slug']}/sessions/3").get_data(as_text=True)
    assert f"/g/{web['slug']}/sessions/3/recap" in session_page
    body = client.get(f"/g/{web['slug']}/sessions/3/recap").get_data(as_text=True)
    for text in ("Wątek sesji", "Założony w trakcie", "Diagnoza potrzeb", "Dzień dobry",
                 "Removed by a moderator.", "Wniosek: dzielimy się autobusami.", "recap.zip"):
        assert text in body
    for text in ("SKASOWANA", "Wątek spoza sesji", "Wcześniejszy", "Scalony", "INNA sesja",
                 "Materiał innej sesji", "Usunięty materiał"):
        assert text not in body
    assert "<script>alert" not in body
    counts = body[body.index('id="recap-counts-heading"'):body.index('id="recap-materials')]
    assert "people: 3, organisations: 1" in counts  # registered
    assert "people: 4, organisations: 1" in counts  # attended
    assert "attended: people: 3, organisations: 1; registered: 3; hours: 6" in counts
    assert "attended: people: 2, organisations: 1; registered: 2; hours: 5" in counts
    assert "<dd>28 <span" in counts and "Participants" not in counts


def test_before_the_session_the_page_says_when(personas, login_as, web):
    client = login_as(personas.member)
    response = client.get(f"/g/{web['slug']}/sessions/8/recap")
    assert response.status_code == 200
    assert "available once the session starts" in response.get_data(as_text=True)
    session_page = client.get(f"/g/{web['slug']}/sessions/8").get_data(as_text=True)
    assert f"/g/{web['slug']}/sessions/8/recap" not in session_page
    response = client.get(f"/g/{web['slug']}/sessions/8/recap.zip", follow_redirects=True)
    assert "once the session has started" in response.get_data(as_text=True)


def test_a_cancelled_session_says_so(app, personas, login_as, web):
    with app.app_context():
        group = factories.group(personas.g1.id)
        moderator = factories.user(personas.moderator.id)
        workshops.set_cancelled(moderator, workshops.get_workshop_for(moderator, group, 3), True)
    body = login_as(personas.member).get(f"/g/{web['slug']}/sessions/3/recap"
                                         ).get_data(as_text=True)
    assert "This session was cancelled: there is no recap." in body
    assert "Wątek sesji" not in body


def _zip(client, slug):
    with client.get(f"/g/{slug}/sessions/3/recap.zip") as response:
        assert response.status_code == 200
        return response, zipfile.ZipFile(io.BytesIO(response.data))


def test_the_zip_export(personas, login_as, web):
    response, archive = _zip(login_as(personas.observer), web["slug"])
    assert response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="miasta-testowe-session-3-recap.zip"')
    assert "filename*=UTF-8''miasta-testowe-session-3-recap.zip" in disposition
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert archive.testzip() is None
    names = set(archive.namelist())
    assert names == {"index.html", "README.txt", "materials/diagnoza.pdf",
                     "materials/diagnoza (2).pdf", "materials/diagnoza.pdf.txt"}
    assert hashlib.sha256(archive.read("materials/diagnoza.pdf")).hexdigest() == web["pdf_sha"]
    assert archive.read("materials/diagnoza.pdf.txt") == TEXT_FILE
    assert hashlib.sha256(archive.read("materials/diagnoza.pdf.txt")).hexdigest() == \
        web["text_sha"]

    index = archive.read("index.html").decode()
    for text in ("Wątek sesji", "Założony w trakcie", "Otwarcie <strong>ważne</strong>",
                 "Odpowiedź moderatorki", "Wniosek: dzielimy się autobusami.",
                 "Dzień dobry <strong>wszystkim</strong>", "Do jutra",
                 "Removed by a moderator.", 'href="materials/diagnoza%20%282%29.pdf"',
                 "http://forum.test/g/miasta-testowe/t/"):
        assert text in index, text
    for text in ("UKRYTY", "USUNIĘTY", "SKASOWANA", "INNA sesja", "Wątek spoza sesji",
                 "Scalony", "Usunięty materiał"):
        assert text not in index, text
    assert "people: 4, organisations: 1" in index and "hours: 5" in index
    readme = archive.read("README.txt").decode()
    assert "index.html" in readme and "materials/diagnoza.pdf" in readme
    assert "Attended: people: 4, organisations: 1" in readme
    assert "Hours attended, all people together: 28" in readme and "Posts: 4" in readme
    assert web["pdf_sha"] in readme


def test_a_hostile_post_is_not_executable_in_the_export(personas, login_as, web):
    _response, archive = _zip(login_as(personas.member), web["slug"])
    index = archive.read("index.html").decode()
    assert "<script" not in index.lower()
    assert not re.search(r"<[^>]+\son\w+\s*=", index, re.IGNORECASE)  # no event handlers
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", index, re.IGNORECASE)
    assert "<img" not in index.lower()
    assert "script-src" not in index and "default-src 'none'" in index  # CSP forbids scripts
    assert "&lt;script&gt;" in index  # kept as harmless text


def test_the_export_has_no_session_from_another_group(app, personas, login_as, web):
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Thread)) == 6
    response = login_as(personas.outsider).get(f"/g/{web['slug']}/sessions/3/recap.zip")
    assert response.status_code == 404


def test_a_good_practice_without_a_file_is_written_into_the_export(app, personas, login_as,
                                                                   web):
    with app.app_context():
        group = factories.group(personas.g1.id)
        moderator = factories.user(personas.moderator.id)
        factories.make_material(
            moderator, group, None, title="Klub kultury", kind="good_practice",
            workshop_number=3, practice=materials.GoodPracticeInput(
                problem="Brak **zajęć**", actions="Klub w bibliotece"))
    _response, archive = _zip(login_as(personas.member), web["slug"])
    index = archive.read("index.html").decode()
    assert "Klub kultury" in index and "Brak <strong>zajęć</strong>" in index
    assert "Klub w bibliotece" in index
    assert not any(name.startswith("materials/Klub") for name in archive.namelist())


def test_recap_page_and_export_queries_do_not_grow_with_the_data(app, personas, login_as, web):
    from tests.test_query_counts import count_queries

    client = login_as(personas.member)
    url = f"/g/{web['slug']}/sessions/3/recap"

    def measure():
        client.get(url)
        with count_queries(app) as page:
            assert client.get(url).status_code == 200
        with count_queries(app) as export, client.get(url + ".zip") as response:
            assert response.status_code == 200
        return len(page), len(export)

    before = measure()
    with app.app_context():
        people = factories.people_of(personas)
        group = people["g1"]
        session = workshops.get_workshop_for(people["member"], group, 3)
        for n in range(4):
            author = factories.make_user()
            factories.add_member(author, group)
            thread = discussions.start_thread(author, group, title=f"Nowy {n}", body="x",
                                              workshop_number=3)
            reply = discussions.reply(people["moderator"], thread, "Wniosek")
            thread.conclusion_post_id = reply.id
            db.session.commit()
            _chat(group, session, author, f"czat {n}")
            _share(people, group, session, f"Plik {n}", samples.PDF + str(n).encode(),
                   f"plik-{n}.pdf")
    assert measure() == before


def test_links_into_the_forum_are_absolute_in_the_export(app, personas, login_as, web):
    with app.app_context():
        people = factories.people_of(personas)
        group = people["g1"]
        session = workshops.get_workshop_for(people["member"], group, 3)
        _chat(group, session, people["member"], "Zapraszam na [czat](/g/miasta-testowe/chat) "
              "i do @jan.kowalski", when=_at(group, session.day1, 12))
    _response, archive = _zip(login_as(personas.member), web["slug"])
    index = archive.read("index.html").decode()
    assert 'href="http://forum.test/g/miasta-testowe/chat"' in index
    assert 'href="/g/' not in index  # nothing points into the reader's own disk


def test_absolute_links_leave_other_links_alone():
    html = ('<a href="/g/x/chat">a</a> <a href="//elsewhere.example/">b</a> '
            '<a href="https://example.org/">c</a> <a href="materials/x.pdf">d</a>')
    assert recap.absolute_links(html, "https://forum.example/") == (
        '<a href="https://forum.example/g/x/chat">a</a> <a href="//elsewhere.example/">b</a> '
        '<a href="https://example.org/">c</a> <a href="materials/x.pdf">d</a>')
