"""The dashboard: per group the live or next session, unread threads and chat mentions."""

from forum.chat import services as chat
from forum.discussions import services as discussions
from forum.extensions import db
from forum.pages.dashboard import dashboard_for
from tests import factories


def _card(cards, slug):
    return next(c for c in cards if c.group.slug == slug)


def test_a_live_session_is_shown_with_the_way_into_the_chat(app, personas, login_as):
    with app.app_context():
        group, moderator = factories.group(personas.g1.id), factories.user(personas.moderator.id)
        factories.make_workshop(moderator, group, 1, days_from_today=-20, theme="Dawna")
        factories.make_workshop(moderator, group, 2, days_from_today=0, theme="Trwająca")
        factories.make_workshop(moderator, group, 3, days_from_today=30, theme="Przyszła")
    page = login_as(personas.member).get("/").get_data(as_text=True)
    assert "Live now" in page and "Session 2: Trwająca" in page
    assert f'href="/g/{personas.g1.slug}/chat"' in page and "Join the chat" in page
    assert "Przyszła" not in page and "Dawna" not in page  # the live one, not the next


def test_the_next_session_is_shown_with_its_dates_and_no_chat_button(app, personas, login_as):
    with app.app_context():
        group, moderator = factories.group(personas.g1.id), factories.user(personas.moderator.id)
        factories.make_workshop(moderator, group, 1, days_from_today=-20, theme="Dawna")
        later = factories.make_workshop(moderator, group, 3, days_from_today=40, theme="Późna")
        factories.make_workshop(moderator, group, 2, days_from_today=10, theme="Bliska")
        cancelled = factories.make_workshop(moderator, group, 4, days_from_today=5,
                                            theme="Odwołana")
        cancelled.cancelled_at = cancelled.created_at
        db.session.commit()
        assert later.number == 3
    page = login_as(personas.member).get("/").get_data(as_text=True)
    assert "Next session" in page and "Session 2: Bliska" in page
    assert "Późna" not in page and "Odwołana" not in page and "Live now" not in page
    assert "Join the chat" not in page


def test_unread_threads_follow_the_read_marks(ctx, people):
    member, moderator, group = people["member"], people["moderator"], people["g1"]
    first = factories.make_thread(moderator, group, title="Pierwszy")
    factories.make_thread(moderator, group, title="Drugi")
    own = factories.make_thread(member, group, title="Mój")  # the author has read it
    assert _card(dashboard_for(member), group.slug).unread_threads == 2
    discussions.read_thread(member, first, first.last_number)
    assert _card(dashboard_for(member), group.slug).unread_threads == 1
    factories.make_post(moderator, own, "Nowa odpowiedź")
    assert _card(dashboard_for(member), group.slug).unread_threads == 2
    assert _card(dashboard_for(moderator), group.slug).unread_threads == 0  # wrote them all


def test_unread_chat_mentions_are_counted_and_cleared_by_opening_the_chat(app, personas,
                                                                         login_as):
    with app.app_context():
        group, moderator = factories.group(personas.g1.id), factories.user(personas.moderator.id)
        chat.send_message(moderator, group, "Pytanie do @jan.kowalski", "c1")
        chat.send_message(moderator, group, "Bez wzmianki", "c2")
    client = login_as(personas.member)
    page = client.get("/").get_data(as_text=True)
    assert "1 chat message mentions you" in page
    client.get(f"/g/{personas.g1.slug}/chat")
    assert "mentions you" not in client.get("/").get_data(as_text=True)


def test_other_groups_and_their_counts_are_not_shown(app, personas, login_as):
    with app.app_context():
        g2, outsider = factories.group(personas.g2.id), factories.user(personas.outsider.id)
        factories.make_thread(outsider, g2, title="Obcy wątek")
    page = login_as(personas.member).get("/").get_data(as_text=True)
    assert personas.g2.name not in page
    assert "thread with unread posts" not in page


def test_an_administrator_without_groups_is_offered_to_create_one(app, personas, login_as):
    with app.app_context():
        factories.make_user(email="admin2@example.org", is_admin=True)
    page = login_as("admin2@example.org").get("/").get_data(as_text=True)
    assert "an administrator or moderator invites you" not in page
    assert 'href="/admin/groups/new"' in page


# --- unread chat messages (issue 14) -----------------------------------------------------------


def _say(group_id, person_id, body, n):
    with db.session.no_autoflush:
        return chat.send_message(factories.user(person_id), factories.group(group_id), body,
                                 f"unread-{n}").id


def test_unread_chat_messages_are_counted_from_the_read_position(app, personas, login_as):
    with app.app_context():
        for n in range(3):
            _say(personas.g1.id, personas.moderator.id, f"Wiadomość {n}", n)
        _say(personas.g1.id, personas.member.id, "moja własna", 10)  # one's own: not unread
        card = _card(dashboard_for(factories.user(personas.member.id)), personas.g1.slug)
        assert card.unread_chat == 3
    member = login_as(personas.member)
    page = member.get("/").get_data(as_text=True)
    assert "3 unread chat messages" in page
    assert member.get(f"/g/{personas.g1.slug}/chat").status_code == 200  # opening it reads it
    assert "unread chat message" not in member.get("/").get_data(as_text=True)
    with app.app_context():
        last = _say(personas.g1.id, personas.moderator.id, "jeszcze jedna", 20)
        assert _card(dashboard_for(factories.user(personas.member.id)),
                     personas.g1.slug).unread_chat == 1
        chat.mark_chat_read(factories.user(personas.member.id), factories.group(personas.g1.id),
                            last)
        assert _card(dashboard_for(factories.user(personas.member.id)),
                     personas.g1.slug).unread_chat == 0


def test_the_read_position_only_moves_forward_and_stays_in_its_group(app, personas):
    from forum.chat.models import ChatRead
    from forum.errors import NotFound

    with app.app_context():
        first = _say(personas.g1.id, personas.moderator.id, "pierwsza", 1)
        second = _say(personas.g1.id, personas.moderator.id, "druga", 2)
        member, group = factories.user(personas.member.id), factories.group(personas.g1.id)
        chat.mark_chat_read(member, group, second)
        chat.mark_chat_read(member, group, first)  # an older tab: no step back
        other = _say(personas.g2.id, personas.outsider.id, "obca", 3)
        chat.mark_chat_read(member, group, other)  # another group's message: ignored
        assert db.session.scalar(db.select(ChatRead.last_read_id).where(
            ChatRead.user_id == member.id, ChatRead.group_id == group.id)) == second
        try:
            chat.mark_chat_read(factories.user(personas.outsider.id), group, second)
        except NotFound:
            pass
        else:
            raise AssertionError("an outsider may not mark a closed group's chat")


def test_the_count_stops_at_a_hundred(app, personas, login_as):
    with app.app_context():
        factories.add_messages(personas.g1.id, personas.moderator.id, 105)
        assert _card(dashboard_for(factories.user(personas.member.id)),
                     personas.g1.slug).unread_chat == 100
    assert "99+ unread chat messages" in login_as(personas.member).get("/").get_data(
        as_text=True)


def test_a_member_who_never_opened_the_chat_counts_from_joining(app, personas):
    from datetime import timedelta

    from forum.groups.models import Membership

    with app.app_context():
        _say(personas.g1.id, personas.moderator.id, "przed", 1)
        membership = db.session.scalar(db.select(Membership).where(
            Membership.user_id == personas.member.id, Membership.group_id == personas.g1.id))
        membership.created_at = membership.created_at + timedelta(hours=1)  # joined later
        db.session.commit()
        assert _card(dashboard_for(factories.user(personas.member.id)),
                     personas.g1.slug).unread_chat == 0
