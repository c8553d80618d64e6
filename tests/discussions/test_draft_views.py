"""Drafts over HTTP: "Save draft" without JavaScript, the draft shown back on any device,
"Discard draft", the JSON endpoints of drafts.js (members only, CSRF) (issue 14, item 3)."""

import html
import re

import pytest

from forum.discussions import services
from tests import factories

JSON = {"Accept": "application/json"}


def _thread(personas, login_as, body="Pierwszy wpis\ndruga linia"):
    member = login_as(personas.member)
    response = member.post(f"/g/{personas.g1.slug}/t/new", data={
        "title": "Dowozy uczniów", "body": body, "workshop_number": "0"})
    url = response.headers["Location"]
    post_id = re.search(r'id="post-(\d+)"', member.get(url + "?page=1").get_data(
        as_text=True)).group(1)
    return url, post_id


def _editor(page: str) -> str:
    return html.unescape(re.search(
        r'<textarea[^>]*name="body"[^>]*>(?:\r?\n)?(.*?)</textarea>', page, re.S).group(1))


def _note_hidden(page: str) -> bool:
    return bool(re.search(r'<div class="draft-status" id="draft-status"[^>]* hidden>', page))


def test_save_draft_without_javascript_and_find_it_on_another_device(personas, login_as):
    url, post_id = _thread(personas, login_as)
    laptop = login_as(personas.moderator)
    page = laptop.get(url + "?page=1").get_data(as_text=True)
    # "Save draft" is a button of the reply form; nothing saved yet: the note is hidden.
    assert f'formaction="{url}/draft?page=1" data-save-draft>Save draft</button>' in page
    assert _note_hidden(page)
    response = laptop.post(f"{url}/draft?page=1", data={"body": "Pół odpowiedzi",
                                                        "reply_to_id": post_id})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url}?page=1#reply")
    page = laptop.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your draft is saved" in page
    # Another device (a new session): the draft is back in the editor, with its target.
    phone = login_as(personas.moderator)
    page = phone.get(url + "?page=1").get_data(as_text=True)
    assert _editor(page) == "Pół odpowiedzi"
    assert re.search(r"Draft saved today, \d{1,2}:\d\d", page)
    assert "Discard draft" in page and not _note_hidden(page)
    assert f'name="reply_to_id" type="hidden" value="{post_id}"' in page
    assert "In reply to " + personas.member.name in page
    # Nobody else sees it.
    for other in (personas.member, personas.admin):
        other_page = login_as(other).get(url + "?page=1").get_data(as_text=True)
        assert "Pół odpowiedzi" not in other_page and "Draft saved" not in other_page


def test_quote_without_javascript_keeps_the_typed_text_as_a_draft(personas, login_as):
    url, post_id = _thread(personas, login_as)
    moderator = login_as(personas.moderator)
    response = moderator.post(f"{url}/reply?page=1", data={"body": "Moja myśl",
                                                           "quote": post_id})
    page = response.get_data(as_text=True)
    expected = (f"Moja myśl\n\n[{personas.member.name}](/g/{personas.g1.slug}/p/{post_id}):\n"
                "> Pierwszy wpis\n> druga linia\n\n")
    assert _editor(page) == expected
    assert "Draft saved" in page
    # Kept on the server: the page opened later shows the same text.
    assert _editor(moderator.get(url + "?page=1").get_data(as_text=True)) == expected
    # An old-style ?quote= link adds the quote below the draft.
    page = moderator.get(f"{url}?page=1&quote={post_id}").get_data(as_text=True)
    assert _editor(page).startswith(expected + f"[{personas.member.name}]")


def test_posting_the_reply_removes_the_draft(personas, login_as):
    url, _post_id = _thread(personas, login_as)
    moderator = login_as(personas.moderator)
    moderator.post(f"{url}/draft", data={"body": "Już prawie"})
    response = moderator.post(f"{url}/reply", data={"body": "Już prawie gotowe"})
    assert response.status_code == 302
    page = moderator.get(url + "?page=1").get_data(as_text=True)
    assert _editor(page) == "" and "Draft saved" not in page


def test_discard_draft(personas, login_as):
    url, _post_id = _thread(personas, login_as)
    moderator = login_as(personas.moderator)
    moderator.post(f"{url}/draft", data={"body": "Niepotrzebne"})
    page = moderator.get(url + "?page=1").get_data(as_text=True)
    # "Discard draft" asks first; its real button posts the reply form elsewhere.
    assert f'formaction="{url}/draft/discard?page=1" formnovalidate data-discard-draft>' in page
    response = moderator.post(f"{url}/draft/discard?page=1", data={"body": "Niepotrzebne"})
    assert response.headers["Location"].endswith(f"{url}?page=1#reply")
    page = moderator.get(response.headers["Location"]).get_data(as_text=True)
    assert "The draft is discarded." in page
    assert _editor(page) == "" and "Draft saved" not in page


def test_the_json_endpoint_saves_as_one_types(personas, login_as):
    url, post_id = _thread(personas, login_as)
    moderator = login_as(personas.moderator)
    answer = moderator.post(f"{url}/draft", data={"body": "Piszę…", "reply_to_id": post_id},
                            headers=JSON)
    assert answer.status_code == 200 and answer.json["saved"] is True
    assert re.fullmatch(r"Draft saved today, \d{1,2}:\d\d\W*(AM|PM)?", answer.json["note"])
    answer = moderator.post(f"{url}/draft", data={"body": ""}, headers=JSON)
    assert answer.json == {"saved": False}  # emptied: the draft goes
    assert "Draft saved" not in moderator.get(url + "?page=1").get_data(as_text=True)
    answer = moderator.post(f"{url}/draft", data={"body": "x" * 50_001}, headers=JSON)
    assert answer.status_code == 400 and "50000" in answer.json["errors"]["body"]
    moderator.post(f"{url}/draft", data={"body": "Znowu"}, headers=JSON)
    assert moderator.post(f"{url}/draft/discard", headers=JSON).json == {"discarded": True}
    assert "Znowu" not in moderator.get(url + "?page=1").get_data(as_text=True)


def test_a_too_long_draft_without_javascript_keeps_the_text(personas, login_as):
    url, _post_id = _thread(personas, login_as)
    moderator = login_as(personas.moderator)
    response = moderator.post(f"{url}/draft?page=1", data={"body": "y" * 50_001})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "y" * 50_001 in page and "50000" in page


def test_a_new_thread_draft_keeps_title_session_and_materials(personas, login_as, app):
    with app.app_context():
        moderator = factories.user(personas.moderator.id)
        group = factories.group(personas.g1.id)
        factories.make_workshop(moderator, group, number=1)
        material = factories.make_material(moderator, group)
        material_id = material.id
    slug = personas.g1.slug
    member = login_as(personas.member)
    page = member.get(f"/g/{slug}/t/new").get_data(as_text=True)
    assert f'formaction="/g/{slug}/t/new/draft" data-save-draft>Save draft</button>' in page
    response = member.post(f"/g/{slug}/t/new/draft", data={
        "title": "Szkic tytułu", "body": "Szkic treści", "workshop_number": "1",
        "material_ids": str(material_id)})
    assert response.headers["Location"].endswith(f"/g/{slug}/t/new")
    page = login_as(personas.member).get(f"/g/{slug}/t/new").get_data(as_text=True)
    assert 'value="Szkic tytułu"' in page and _editor(page) == "Szkic treści"
    assert '<option selected value="1">' in page
    assert re.search(rf'<input type="checkbox" name="material_ids" id="[^"]+" '
                     rf'value="{material_id}"[^>]* checked>', page)
    assert "Draft saved" in page and "Discard draft" in page
    assert "Szkic" not in login_as(personas.moderator).get(f"/g/{slug}/t/new").get_data(
        as_text=True)
    # Starting the thread removes the draft.
    member.post(f"/g/{slug}/t/new", data={"title": "Szkic tytułu", "body": "Gotowe",
                                          "workshop_number": "1"})
    page = member.get(f"/g/{slug}/t/new").get_data(as_text=True)
    assert "Szkic tytułu" not in page and "Draft saved" not in page
    # Discarding one.
    member.post(f"/g/{slug}/t/new/draft", data={"title": "Inny", "body": "",
                                                "workshop_number": "0"})
    assert member.post(f"/g/{slug}/t/new/draft/discard").status_code == 302
    assert 'value="Inny"' not in member.get(f"/g/{slug}/t/new").get_data(as_text=True)


def test_the_draft_endpoints_answer_members_only(personas, login_as):
    url, _post_id = _thread(personas, login_as)
    slug = personas.g1.slug
    endpoints = [f"{url}/draft", f"{url}/draft/discard", f"/g/{slug}/t/new/draft",
                 f"/g/{slug}/t/new/draft/discard"]
    outsider = login_as(personas.outsider)
    observer = login_as(personas.observer)
    for endpoint in endpoints:
        for headers in (JSON, {}):
            assert outsider.post(endpoint, data={"body": "x"}, headers=headers).status_code \
                == 404, endpoint
            assert observer.post(endpoint, data={"body": "x"}, headers=headers).status_code \
                == 403, endpoint
    assert login_as(None).post(endpoints[0], data={"body": "x"}).status_code == 302  # sign in
    # A thread of another group under this group's address: not found.
    other = login_as(personas.outsider).post(f"/g/{personas.g2.slug}/t/new", data={
        "title": "Inny", "body": "Inna grupa", "workshop_number": "0"}).headers["Location"]
    other_id = other.rsplit("/", 1)[1]
    assert login_as(personas.member).post(f"/g/{slug}/t/{other_id}/draft", data={"body": "x"},
                                          headers=JSON).status_code == 404


@pytest.fixture
def csrf_app(make_app, app):
    return make_app(WTF_CSRF_ENABLED=True)


def test_the_draft_endpoints_need_the_csrf_token(csrf_app, personas):
    with csrf_app.app_context():
        thread = factories.make_thread(factories.user(personas.member.id),
                                       factories.group(personas.g1.id))
        url = f"/g/{personas.g1.slug}/t/{thread.id}"
    client = csrf_app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    client.post("/login", data={"email": personas.moderator.email,
                                "password": factories.PASSWORD, "csrf_token": token})
    page = client.get(url + "?page=1").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"{url}/draft", data={"body": "x"}, headers=JSON).status_code == 400
    assert client.post(f"{url}/draft/discard", headers=JSON).status_code == 400
    answer = client.post(f"{url}/draft", data={"body": "x", "csrf_token": token}, headers=JSON)
    assert answer.status_code == 200 and answer.json["saved"] is True
    with csrf_app.app_context():
        moderator, group = factories.user(personas.moderator.id), factories.group(personas.g1.id)
        saved = services.draft_for(moderator, group,
                                   services.get_thread_for(moderator, group, thread.id))
        assert saved.body == "x"
