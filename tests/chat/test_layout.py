"""The chat page as the server renders it: day dividers, groups of one person's messages,
short times, one actions menu per message, check boxes only while selecting."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from forum.chat.models import ChatMessage
from forum.extensions import db
from forum.text import render_markdown


def _zone(app, user_id: int) -> ZoneInfo:
    from forum.accounts.models import User

    with app.app_context():
        return ZoneInfo(db.session.get(User, user_id).time_zone
                        or app.config["FORUM_DEFAULT_TIMEZONE"])


def _add(app, group_id: int, rows) -> list[int]:
    """rows: (author_id, moment, text); stored in this order."""
    with app.app_context():
        messages = [ChatMessage(group_id=group_id, author_id=author, body=text,
                                body_html=render_markdown(text), client_id=f"layout-{n}",
                                created_at=moment)
                    for n, (author, moment, text) in enumerate(rows)]
        for message in messages:
            db.session.add(message)
            db.session.flush()
        db.session.commit()
        return [m.id for m in messages]


def _items(html: str) -> list[tuple[str, str]]:
    """The list's items in order: ("day", label) or (head|continued, message id)."""
    out = []
    for match in re.finditer(r'<li class="(chat-day|chat-message [^"]*)"([^>]*)>'
                             r'(.*?)(?=<li class="chat-|</ol>)', html, re.S):
        classes, attributes, inner = match.groups()
        message_id = re.search(r'data-id="(\d+)"', attributes)
        message_id = message_id and message_id.group(1)
        if classes == "chat-day":
            out.append(("day", re.search(r'chat-day-label">([^<]*)<', inner).group(1)))
        else:
            out.append(("head" if "is-head" in classes else "continued", message_id))
    return out


def test_days_are_divided_and_one_persons_messages_grouped(app, personas, login_as):
    zone = _zone(app, personas.observer.id)
    today = datetime.now(zone).date()
    # Mid-morning on each day: whenever the test runs, these are today's and yesterday's.
    at = lambda day, minutes: datetime.combine(day, time(10, 0), zone) + timedelta(minutes=minutes)  # noqa: E731
    old = today - timedelta(days=40)
    member, moderator = personas.member.id, personas.moderator.id
    ids = _add(app, personas.g1.id, [
        (member, at(old, 0), "long ago"),
        (member, at(today - timedelta(days=1), 0), "yesterday one"),
        (member, at(today - timedelta(days=1), 3), "yesterday two"),        # same group
        (member, at(today, -1), "morning"),                                  # a new day
        (member, at(today, 0), "still me"),                                  # grouped
        (moderator, at(today, 1), "someone else"),                           # other author
        (moderator, at(today, 7), "after a pause"),                          # > 5 minutes
        (moderator, at(today, 11), "within five"),                           # grouped
    ])
    html = login_as(personas.observer).get(f"/g/{personas.g1.slug}/chat").get_data(as_text=True)
    with app.test_request_context():
        from flask_babel import force_locale, format_date
        with force_locale("en"):
            old_label = format_date(old, "long")
    assert _items(html) == [
        ("day", old_label), ("head", str(ids[0])),
        ("day", "Yesterday"), ("head", str(ids[1])), ("continued", str(ids[2])),
        ("day", "Today"), ("head", str(ids[3])), ("continued", str(ids[4])),
        ("head", str(ids[5])), ("head", str(ids[6])), ("continued", str(ids[7])),
    ]
    # A short time on the message; the whole date in its title and datetime attribute.
    item = re.search(rf'id="message-{ids[5]}".*?</li>', html, re.S).group(0)
    stamp = re.search(r'<time class="meta chat-time" datetime="([^"]+)" title="([^"]+)">'
                      r'([^<]+)</time>', item)
    local = at(today, 1)
    assert stamp.group(1) == local.isoformat(timespec="minutes")
    assert stamp.group(3) in ("10:01 AM", "10:01\u202fAM")
    assert str(local.year) in stamp.group(2) and local.strftime("%B") in stamp.group(2)
    # The avatar shows the initials (the same colour for one person).
    assert 'aria-hidden="true">MM</span>' in item
    assert f'data-author="{moderator}"' in item


def test_each_message_has_one_actions_menu(app, personas, login_as):
    zone = _zone(app, personas.member.id)
    now = datetime.now(zone)
    ids = _add(app, personas.g1.id, [(personas.moderator.id, now, "from Marta"),
                                     (personas.member.id, now, "from Jan")])
    slug = personas.g1.slug

    def item(html, message_id):
        return re.search(rf'id="message-{message_id}".*?</li>', html, re.S).group(0)

    member = login_as(personas.member).get(f"/g/{slug}/chat").get_data(as_text=True)
    others = item(member, ids[0])
    assert others.count('<details class="chat-menu">') == 1
    assert f"/chat/messages/{ids[0]}/report" in others and "Select for a thread" in others
    assert "Remove the message" not in others and "<summary" in others
    assert "Actions — Marta Moderator" in others
    mine = item(member, ids[1])
    assert "/report" not in mine and "Select for a thread" in mine  # no reporting oneself
    assert "Remove the message" not in mine

    moderator = login_as(personas.moderator).get(f"/g/{slug}/chat").get_data(as_text=True)
    jans = item(moderator, ids[1])
    assert jans.count('<details class="chat-menu">') == 1
    assert "Remove the message" in jans and "Mute Jan Kowalski for" in jans
    # Removing asks first: the real button is inside the question.
    assert "Its place will say that a moderator removed it." in jans
    assert jans.index("Its place will say") < jans.index("Yes, remove the message")
    assert "Mute Marta" not in item(moderator, ids[0])  # not oneself

    # An observer may report but not start threads; nothing else is on the message.
    observer = login_as(personas.observer).get(f"/g/{slug}/chat").get_data(as_text=True)
    assert "Select for a thread" not in observer and 'class="chat-select"' not in observer


def test_check_boxes_only_while_selecting_messages(app, personas, login_as):
    now = datetime.now(_zone(app, personas.member.id))
    ids = _add(app, personas.g1.id, [(personas.moderator.id, now, "a"),
                                     (personas.moderator.id, now, "b")])
    client = login_as(personas.member)
    slug = personas.g1.slug
    plain = client.get(f"/g/{slug}/chat").get_data(as_text=True)
    assert 'class="chat-messages" data-chat-list' in plain  # not .is-selecting: boxes hidden
    assert re.search(r'<form id="promote-form"[^>]* hidden>', plain)
    assert "Select messages" in plain and "select=on" in plain

    selecting = client.get(f"/g/{slug}/chat?select=on&tick={ids[1]}").get_data(as_text=True)
    assert 'class="chat-messages is-selecting"' in selecting
    assert not re.search(r'<form id="promote-form"[^>]* hidden>', selecting)
    assert "Stop selecting" in selecting
    assert f'value="{ids[1]}" form="promote-form" checked' in selecting
    assert f'value="{ids[0]}" form="promote-form">' in selecting

    # A refused thread (no title) comes back still selecting, with the ticks kept.
    refused = client.post(f"/g/{slug}/chat/thread",
                          data={"message_ids": [ids[0]], "title": "", "client_token": "t-1"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'class="chat-messages is-selecting"' in html
    assert f'value="{ids[0]}" form="promote-form" checked' in html
