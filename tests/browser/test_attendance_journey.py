"""Issue 17's journey across its parts in Chromium: a member registers on a phone, the
moderator shows the day's code, the member checks in by typing it (390×844), answers the
evaluation, downloads the certificate (the PDF is opened and read), and the administrator
downloads the programme report (the XLSX is opened: the attendance is counted). axe on each
page. The session (yesterday and today, today's day already over) is deleted afterwards."""

from __future__ import annotations

import io
from datetime import time, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from forum.demo import ADMIN_EMAIL, MEMBER_EMAIL, MODERATOR_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, submit

GROUP = "miasta"
NUMBER = 95
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 800}


@pytest.fixture
def session(live_server):
    from forum.extensions import db
    from forum.groups.models import Group
    from forum.workshops import services as workshops
    from forum.workshops.models import Workshop

    with live_server.app.app_context():
        group = db.session.scalar(db.select(Group).where(Group.slug == GROUP))
        today = workshops.group_today(group)
        # Day 2 is today and already over (00:00–00:01), so its certificate can be downloaded.
        workshops.create_workshop(None, group, workshops.WorkshopInput(
            number=NUMBER, theme="Sesja od zapisu do raportu", day1=today - timedelta(days=1),
            day2=today, times=(time(10), time(16), time(0, 0), time(0, 1))))
    yield f"/g/{GROUP}/sessions/{NUMBER}"
    with live_server.app.app_context():
        db.session.execute(db.delete(Workshop).where(
            Workshop.number == NUMBER,
            Workshop.group_id == db.select(Group.id).where(Group.slug == GROUP)
            .scalar_subquery()))
        db.session.commit()


def _member_name(live_server) -> str:
    from forum.accounts.models import User
    from forum.extensions import db

    with live_server.app.app_context():
        return db.session.scalar(db.select(User.name).where(User.email == MEMBER_EMAIL))


def test_register_check_in_evaluate_certificate_report(new_context, live_server, session):
    t = live_server.text
    member = new_context(viewport=PHONE).new_page()
    sign_in(member, live_server, MEMBER_EMAIL)
    member.goto(f"{session}/attendance")
    assert_accessible(member)
    submit(member, member.get_by_role("button", name=t(member, "Register"), exact=True))
    expect(member.locator("#my-registration")).to_be_visible()

    moderator = new_context(viewport=DESKTOP).new_page()
    sign_in(moderator, live_server, MODERATOR_EMAIL)
    moderator.goto(f"{session}/attendance")
    moderator.get_by_role("link", name=t(moderator, "Show the check-in code")).click()
    code = moderator.locator("#checkin-code").inner_text().strip()
    assert_accessible(moderator)

    # The member types the code shown on the screen (no QR scan).
    member.goto(f"{session}/check-in")
    member.get_by_label(t(member, "Check-in code"), exact=True).fill(code.lower())
    submit(member, member.get_by_role("button", name=t(member, "Check me in"), exact=True))
    expect(member.locator(".checked-in").first).to_be_visible()
    assert_accessible(member)
    assert member.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Day 2 has come: the evaluation is open to the member who was there.
    member.goto(f"{session}/evaluation")
    assert_accessible(member)
    member.get_by_role("group", name=t(member, "How useful was the session for your work?"),
                       exact=False).get_by_role("radio", name="4", exact=True).check()
    member.get_by_label(t(member, "What would you change next time?"), exact=True).fill(
        "Więcej czasu na wizytę studyjną")
    submit(member, member.get_by_role("button", name=t(member, "Send my answers")))
    expect(member.get_by_text(t(member, "Thank you: your answers are recorded, without your "
                                        "name."))).to_be_visible()
    assert_accessible(member)

    # The certificate of the day attended: a PDF with the person's name and the session.
    answer = member.request.get(f"{live_server.url}{session}/certificate.pdf")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.body())).pages)
    assert _member_name(live_server) in text
    assert "Sesja od zapisu do raportu" in text

    # The administrator's report counts the attendance; its XLSX opens.
    admin = new_context(viewport=DESKTOP).new_page()
    sign_in(admin, live_server, ADMIN_EMAIL)
    admin.goto("/admin/report")
    assert_accessible(admin)
    with admin.expect_download() as download_info:
        admin.get_by_role("link", name=t(admin, "Spreadsheet (XLSX)"), exact=True).click()
    with open(download_info.value.path(), "rb") as file:
        book = load_workbook(io.BytesIO(file.read()))
    sessions = book.worksheets[2]
    rows = [row for row in sessions.iter_rows(values_only=True)
            if any(cell == "Sesja od zapisu do raportu" for cell in row)]
    assert rows, "the session is not in the report"
    header = next(sessions.iter_rows(values_only=True))
    assert len(header) == len(rows[0])
    assert 1 in rows[0]  # one person attended
