"""Ids past the 64-bit range, anywhere a client can send one, are "not found" or "invalid",
never a server error (issue 19: 2^63 gave 500 on 13 endpoints, 10^30 on a socket event)."""

import pytest
from werkzeug.routing import IntegerConverter

from forum.chat import services as chat
from forum.ids import MAX_ID, is_id, parse_id, parse_ids, query_id
from tests import factories

HUGE = (MAX_ID + 1, 10**30)

# Every query parameter and form field through which the app reads an id or a number.
NUMBER_PARAMETERS = ("after", "before", "before_id", "after_id", "session", "author", "page",
                     "tick", "id", "post_id", "cursor")
LIST_FIELDS = ("post_ids", "thread_ids", "message_ids", "material_ids")
# Ends the test client's session or the account: these would sign the client out mid-run.
SKIPPED_POSTS = ("logout", "delete", "erase", "sign_out", "deactivate")


def test_parsing_ids_keeps_to_the_range():
    assert parse_id("9223372036854775807") == MAX_ID
    for text in ("9223372036854775808", "1" * 30, "-1", "1.0", "١٢", "", None, True, 2**64):
        assert parse_id(text) is None, text
    assert parse_ids(["3", "x", "3", str(10**30), "4"]) == [3, 4]
    assert is_id(MAX_ID) and not is_id(MAX_ID + 1) and not is_id(0) and not is_id(True)
    assert is_id(0, allow_zero=True) and not is_id(1.0)
    with pytest.raises(ValueError):
        query_id(str(MAX_ID + 1))


def _urls(app, personas, huge):
    """Each rule with a number in its path, once per number, with `huge` in that place."""
    values = {"slug": personas.g1.slug, "locale": "pl", "key": "privacy", "token": "x",
              "filename": "x", "export": "x", "code": "x", "kind": "x", "page_name": "x"}
    for rule in app.url_map.iter_rules():
        numbers = [name for name, converter in rule._converters.items()
                   if isinstance(converter, IntegerConverter)]
        if not numbers or rule.endpoint == "static":
            continue
        base = {name: values.get(name, "x") for name in rule.arguments}
        base.update({name: 1 for name in numbers})
        for name in numbers:
            path = rule.rule
            for argument, value in {**base, name: huge}.items():
                path = path.replace(f"<{argument}>", str(value))
                for converter in ("int", "string", "path", "any"):
                    path = path.replace(f"<{converter}:{argument}>", str(value))
            yield rule, path


@pytest.mark.parametrize("huge", HUGE)
def test_no_route_answers_a_huge_id_with_a_server_error(app, personas, login_as, huge):
    client = login_as(personas.moderator)
    checked = 0
    for rule, path in _urls(app, personas, huge):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "POST" and any(word in rule.endpoint for word in SKIPPED_POSTS):
                continue
            response = client.open(path, method=method, data={"body": "x", "title": "x"})
            assert response.status_code < 500, (method, path, response.status_code)
            checked += 1
    assert checked > 30  # the rules with numbers in their paths were found


@pytest.mark.parametrize("huge", HUGE)
def test_no_page_answers_huge_numbers_in_its_query_or_form_with_a_server_error(
        app, personas, login_as, huge):
    with app.app_context():
        member = factories.user(personas.member.id)
        group = factories.group(personas.g1.id)
        thread_id = factories.make_thread(member, group).id
        chat.send_message(member, group, "Dzień dobry", "c-1")
    g1 = personas.g1.slug
    client = login_as(personas.moderator)
    query = {name: str(huge) for name in NUMBER_PARAMETERS}
    form = {**query, **{name: [str(huge), "1"] for name in LIST_FIELDS},
            "choose": "1", "target": f"/g/{personas.g1.slug}/t/{huge}", "reference": str(huge)}
    paths = [f"/g/{g1}/t/{thread_id}", f"/g/{g1}/chat", f"/g/{g1}/chat/messages", f"/g/{g1}/",
             f"/g/{g1}/moderation", f"/g/{g1}/moderation/audit", f"/g/{g1}/materials/",
             "/notifications", "/search", "/admin/audit", "/admin/users", f"/g/{g1}/sessions/",
             f"/g/{g1}/materials/new", "/moderation"]
    for path in paths:
        response = client.get(path, query_string=query)
        assert response.status_code < 500, (path, response.status_code)
    posts = [f"/g/{g1}/t/{thread_id}/merge", f"/g/{g1}/t/{thread_id}/split",
             f"/g/{g1}/chat/promote", "/notifications/read", f"/g/{g1}/t/{thread_id}/draft",
             f"/g/{g1}/draft", f"/g/{g1}/sessions/1/agenda", f"/g/{g1}/t/{thread_id}/move"]
    for path in posts:
        response = client.post(path, data=form)
        assert response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize("huge", HUGE)
def test_the_calendar_feed_token_with_a_huge_number_is_not_found(app, huge):
    client = app.test_client()
    assert client.get("/calendar.ics", query_string={"token": f"{huge}.abc"}).status_code == 404


@pytest.mark.parametrize("huge", HUGE)
def test_socket_events_refuse_huge_ids(personas, follower, chat_client, huge):
    answer = follower(personas.member).follow(personas.g1.slug, huge)
    assert answer["ok"] is False and answer["error"] == "bad_request", answer
    answer = chat_client(personas.member).join(personas.g1.slug, after_id=huge)
    assert answer["ok"] is False and answer["error"] == "bad_request", answer
