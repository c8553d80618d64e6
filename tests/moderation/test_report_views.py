"""Reports and the moderation desk over HTTP: forms, statuses per persona, flows without JS."""

from __future__ import annotations

import re

import pytest

from forum.chat.models import ChatMessage
from forum.discussions import services as discussions
from forum.discussions.models import Post
from forum.extensions import db
from forum.moderation import reports
from forum.moderation.models import Report
from forum.notifications.models import Notification
from tests import factories
from tests.factories import add_messages

PERSONAS = ("admin", "moderator", "member", "observer", "outsider")


@pytest.fixture
def items(app, personas):
    """A post by the moderator, a post by the member, a chat message by the moderator."""
    with app.app_context():
        people = factories.people_of(personas)
        member, moderator, group = people["member"], people["moderator"], people["g1"]
        thread = factories.make_thread(member, group, body="Jak to robicie?")
        post = factories.make_post(moderator, thread, "Mój telefon: 600 100 200")
        [message_id] = add_messages(group.id, moderator.id, 1, prefix="czat")
        return {"thread": thread.id, "post": post.id, "own_post": discussions.post_id_at(
            thread, 1), "message": message_id}


def _report(app, who, post_id, reason="personal_data", text=""):
    with app.app_context():
        return reports.report_post(factories.user(who.id), db.session.get(Post, post_id),
                                   reason, text).id


def _report_message(app, who, message_id, reason="offensive"):
    with app.app_context():
        return reports.report_chat_message(factories.user(who.id),
                                           db.session.get(ChatMessage, message_id), reason).id


# --- statuses per persona --------------------------------------------------------------------


def _open_report(app, personas, post_id) -> int:
    with app.app_context():
        report_id = db.session.scalar(db.select(Report.id).where(
            Report.post_id == post_id, Report.status == "open"))
    return report_id or _report(app, personas.member, post_id)


def test_the_desk_is_for_moderators_and_administrators(personas, login_as, items, app):
    slug = personas.g1.slug
    expected = {"admin": 200, "moderator": 200, "member": 403, "observer": 403,
                "outsider": 404}
    for who, status in expected.items():
        report_id = _open_report(app, personas, items["post"])
        client = login_as(getattr(personas, who))
        assert client.get(f"/g/{slug}/moderation").status_code == status, who
        assert client.get(f"/g/{slug}/moderation?status=resolved").status_code == status, who
        assert client.get(f"/g/{slug}/moderation/reports/{report_id}").status_code == status, who
        resolved = client.post(f"/g/{slug}/moderation/reports/{report_id}",
                               data={"action": "dismiss"})
        assert resolved.status_code == (302 if status == 200 else status), who
    anonymous = login_as(None).get(f"/g/{slug}/moderation")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    report_id = _open_report(app, personas, items["post"])
    anonymous = login_as(None).post(f"/g/{slug}/moderation/reports/{report_id}",
                                    data={"action": "dismiss"})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_report_of_another_group_is_not_found(personas, login_as, items, app):
    report_id = _report(app, personas.member, items["post"])
    admin = login_as(personas.admin)
    assert admin.get(f"/g/{personas.g2.slug}/moderation/reports/{report_id}").status_code == 404
    assert admin.get(f"/g/{personas.g1.slug}/moderation/reports/999999").status_code == 404


def test_the_all_groups_desk_is_for_administrators_only(personas, login_as, items, app):
    _report(app, personas.member, items["post"])
    page = login_as(personas.admin).get("/moderation")
    assert page.status_code == 200 and personas.g1.name in page.get_data(as_text=True)
    for who in ("moderator", "member", "observer", "outsider"):
        assert login_as(getattr(personas, who)).get("/moderation").status_code == 404, who


def test_report_forms_per_persona(personas, login_as, items):
    slug = personas.g1.slug
    expected = {"admin": 200, "moderator": 200, "member": 200, "observer": 200,
                "outsider": 404}
    for who, status in expected.items():
        client = login_as(getattr(personas, who))
        assert client.get(f"/g/{slug}/p/{items['own_post']}/report").status_code == status
        assert client.get(f"/g/{slug}/chat/messages/{items['message']}/report").status_code \
            == status
    missing = login_as(personas.member).get(f"/g/{slug}/p/999999/report")
    assert missing.status_code == 404
    # a post of g1 asked for through g2's address
    outsider = login_as(personas.outsider)
    assert outsider.get(f"/g/{personas.g2.slug}/p/{items['post']}/report").status_code == 404


# --- reporting -------------------------------------------------------------------------------


def test_a_member_reports_a_post_and_goes_back_to_it(personas, login_as, items, app):
    member = login_as(personas.member)
    url = f"/g/{personas.g1.slug}/p/{items['post']}/report"
    form = member.get(url).get_data(as_text=True)
    assert "<legend>" in form and 'type="radio"' in form and "Mój telefon" in form
    response = member.post(url, data={"reason": "personal_data", "text": "numer telefonu"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/g/{personas.g1.slug}/p/{items['post']}")
    page = member.get(response.headers["Location"], follow_redirects=True).get_data(
        as_text=True)
    assert "Thank you, the moderators will look at it." in page
    with app.app_context():
        [report] = db.session.scalars(db.select(Report))
        assert (report.post_id, report.flags[0].text) == (items["post"], "numer telefonu")


def test_a_failed_report_keeps_what_was_typed(personas, login_as, items):
    member = login_as(personas.member)
    url = f"/g/{personas.g1.slug}/p/{items['post']}/report"
    response = member.post(url, data={"text": "mój długi opis"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose a reason from the list." in page and "mój długi opis" in page
    response = member.post(url, data={"reason": "other", "text": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Say what is wrong" in page
    assert re.search(r'value="other" checked', page)


def test_reporting_ones_own_post_or_twice_says_why(personas, login_as, items):
    member = login_as(personas.member)
    own = member.get(f"/g/{personas.g1.slug}/p/{items['own_post']}/report")
    assert own.status_code == 200
    assert "You cannot report your own post" in own.get_data(as_text=True)
    assert "Send the report" not in own.get_data(as_text=True)
    url = f"/g/{personas.g1.slug}/p/{items['post']}/report"
    member.post(url, data={"reason": "offensive"})
    again = member.post(url, data={"reason": "offensive"})
    assert again.status_code == 400
    assert "You have already reported this post" in again.get_data(as_text=True)


def test_a_chat_message_is_reported_without_javascript(personas, login_as, items, app):
    observer = login_as(personas.observer)
    url = f"/g/{personas.g1.slug}/chat/messages/{items['message']}/report"
    response = observer.post(url, data={"reason": "off_topic"})
    assert response.status_code == 302
    assert f"#message-{items['message']}" in response.headers["Location"]
    with app.app_context():
        [report] = db.session.scalars(db.select(Report))
        assert report.chat_message_id == items["message"]


def test_report_links_on_posts_and_chat_messages(personas, login_as, items):
    slug = personas.g1.slug
    member = login_as(personas.member)
    page = member.get(f"/g/{slug}/t/{items['thread']}?page=1").get_data(as_text=True)
    assert f"/g/{slug}/p/{items['post']}/report" in page
    assert f"/g/{slug}/p/{items['own_post']}/report" not in page
    chat = member.get(f"/g/{slug}/chat").get_data(as_text=True)
    assert f"/g/{slug}/chat/messages/{items['message']}/report" in chat
    assert f"/g/{slug}/chat/messages/0/report" in chat  # the script's template
    moderator_chat = login_as(personas.moderator).get(f"/g/{slug}/chat").get_data(as_text=True)
    assert f"/chat/messages/{items['message']}/report" not in moderator_chat  # their own


# --- the desk --------------------------------------------------------------------------------


def test_the_group_navigation_shows_open_reports_to_moderators(personas, login_as, items, app):
    _report(app, personas.member, items["post"])
    nav = login_as(personas.moderator).get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert re.search(r'/moderation"[^>]*>Moderation <span class="count-badge">1', nav)
    member = login_as(personas.member).get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert f"/g/{personas.g1.slug}/moderation" not in member


def test_the_queue_shows_the_item_reasons_and_reporters(personas, login_as, items, app):
    _report(app, personas.member, items["post"], "personal_data", "numer telefonu")
    _report(app, personas.observer, items["post"], "offensive")
    page = login_as(personas.moderator).get(f"/g/{personas.g1.slug}/moderation").get_data(
        as_text=True)
    assert "Mój telefon: 600 100 200" in page
    assert "Personal data" in page and "Offensive or disrespectful" in page
    assert "Jan Kowalski" in page and "Olga Obserwator" in page and "numer telefonu" in page
    assert "reported by 2 people" in page


def test_a_moderator_hides_a_reported_post_and_the_reporter_is_told(personas, login_as, items,
                                                                     app):
    report_id = _report(app, personas.member, items["post"])
    slug = personas.g1.slug
    moderator = login_as(personas.moderator)
    page = moderator.get(f"/g/{slug}/moderation/reports/{report_id}").get_data(as_text=True)
    assert re.search(r"<textarea[^>]*>\s*Mój telefon: 600 100 200</textarea>", page)
    response = moderator.post(f"/g/{slug}/moderation/reports/{report_id}",
                              data={"action": "hide", "note": "Dane osobowe"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/g/{slug}/moderation")
    member = login_as(personas.member)
    notices = member.get("/notifications").get_data(as_text=True)
    assert "the moderators hid the post" in notices
    with app.app_context():
        notice_id = db.session.scalar(db.select(Notification.id).where(
            Notification.kind == "report_outcome"))
    opened = member.get(f"/notifications/{notice_id}")
    assert opened.headers["Location"].endswith(f"/g/{slug}/p/{items['post']}")
    thread = member.get(f"/g/{slug}/t/{items['thread']}?page=1").get_data(as_text=True)
    assert "This post was hidden by a moderator." in thread
    assert "600 100 200" not in thread


def test_a_failed_resolution_keeps_what_was_typed(personas, login_as, items, app):
    report_id = _report(app, personas.member, items["post"])
    url = f"/g/{personas.g1.slug}/moderation/reports/{report_id}"
    response = login_as(personas.moderator).post(url, data={
        "action": "edit", "note": "Usunięto numer", "new_body": "   "})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Write the new text" in page and "Usunięto numer" in page
    assert re.search(r'value="edit" checked', page)


def test_an_edit_shows_the_public_note(personas, login_as, items, app):
    report_id = _report(app, personas.member, items["post"])
    slug = personas.g1.slug
    login_as(personas.moderator).post(f"/g/{slug}/moderation/reports/{report_id}", data={
        "action": "edit", "note": "Usunięto numer telefonu", "new_body": "Mój telefon: —"})
    page = login_as(personas.observer).get(f"/g/{slug}/t/{items['thread']}?page=1").get_data(
        as_text=True)
    assert "Edited by a moderator: Usunięto numer telefonu" in page
    assert "600 100 200" not in page


def test_resolving_a_resolved_report_says_so(personas, login_as, items, app):
    report_id = _report(app, personas.member, items["post"])
    url = f"/g/{personas.g1.slug}/moderation/reports/{report_id}"
    moderator = login_as(personas.moderator)
    assert moderator.post(url, data={"action": "dismiss"}).status_code == 302
    again = moderator.post(url, data={"action": "hide", "note": "jednak"})
    assert again.status_code == 400
    assert "This report was already resolved." in again.get_data(as_text=True)
    resolved = moderator.get(f"/g/{personas.g1.slug}/moderation?status=resolved").get_data(
        as_text=True)
    assert "dismissed" in resolved and "Marta Moderator" in resolved


def test_warnings_and_chat_outcomes_on_the_notifications_page(personas, login_as, items, app):
    report_id = _report_message(app, personas.member, items["message"])
    with app.app_context():  # the moderator's own message, reported: the admin handles it
        report = db.session.get(Report, report_id)
        reports.resolve_report(factories.user(personas.admin.id), report, "warn",
                               note="Proszę o spokojny ton.")
    moderator = login_as(personas.moderator).get("/notifications").get_data(as_text=True)
    assert "A private notice from the moderators about your message in the chat" in moderator
    assert "Proszę o spokojny ton." in moderator
    member = login_as(personas.member)
    page = member.get("/notifications")
    assert page.status_code == 200
    assert "Your report about a chat message: the moderators warned its author." in \
        page.get_data(as_text=True)
    with app.app_context():
        notice_id = db.session.scalar(db.select(Notification.id).where(
            Notification.kind == "report_outcome"))
    opened = member.get(f"/notifications/{notice_id}")
    assert opened.status_code == 302 and f"#message-{items['message']}" in \
        opened.headers["Location"]


def test_moderators_are_told_of_a_new_report_and_led_to_it(personas, login_as, items, app):
    report_id = _report(app, personas.observer, items["own_post"])  # the member's post
    moderator = login_as(personas.moderator)
    page = moderator.get("/notifications").get_data(as_text=True)
    assert "reported a post in “Dowozy uczniów”" in page
    with app.app_context():
        notice_id = db.session.scalar(db.select(Notification.id).where(
            Notification.kind == "new_report", Notification.user_id == personas.moderator.id))
    opened = moderator.get(f"/notifications/{notice_id}")
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(
        f"/g/{personas.g1.slug}/moderation/reports/{report_id}")


def test_a_notice_whose_group_was_left_goes_back_to_the_list(personas, login_as, items, app):
    with app.app_context():
        notice = Notification(user_id=personas.outsider.id, kind="warning",
                              group_id=personas.g1.id, text="x")
        db.session.add(notice)
        db.session.commit()
        notice_id = notice.id
    opened = login_as(personas.outsider).get(f"/notifications/{notice_id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/notifications")


def _reported_items(app, personas, count: int) -> None:
    """`count` posts and `count` chat messages by the moderator, reported by two people."""
    with app.app_context():
        moderator = factories.user(personas.moderator.id)
        group = factories.group(personas.g1.id)
        thread = factories.make_thread(moderator, group, "Wiele", "start")
        posts = [factories.make_post(moderator, thread, f"wpis {n}").id for n in range(count)]
        messages = add_messages(group.id, moderator.id, count, prefix=f"m{count}-")
    for post_id in posts:
        _report(app, personas.member, post_id)
        _report(app, personas.observer, post_id, "off_topic")
    for message_id in messages:
        _report_message(app, personas.member, message_id)


@pytest.mark.parametrize("who,path", [("moderator", "/g/{g}/moderation"),
                                      ("admin", "/moderation"),
                                      ("member", "/notifications")])
def test_desk_and_notifications_queries_do_not_grow_with_the_reports(app, personas, login_as,
                                                                     who, path):
    from tests.test_query_counts import count_queries

    client = login_as(getattr(personas, who))
    url = path.format(g=personas.g1.slug)

    def measure() -> list[str]:
        client.get(url)
        with count_queries(app) as statements:
            assert client.get(url).status_code == 200
        return statements

    def resolve_all() -> None:
        with app.app_context():
            admin = factories.user(personas.admin.id)
            for report in db.session.scalars(db.select(Report).where(Report.status == "open")):
                reports.resolve_report(admin, report, "dismiss")

    _reported_items(app, personas, 1)
    if who == "member":
        resolve_all()  # the outcome notices are what the page shows
    small = measure()
    _reported_items(app, personas, 4)
    if who == "member":
        resolve_all()
    large = measure()
    assert len(large) == len(small), "\n".join(large)
