"""Text no database can keep, or that misleads readers, is refused with a clear message
(issue 18, finding 11): NUL bytes, lone surrogates, names of invisible characters or with
text-direction controls, over-long resubmission tokens."""

import pytest

from forum.discussions.models import Post
from forum.extensions import db
from forum.text import name_problem


@pytest.mark.parametrize(("name", "problem"), [
    ("Jan Kowalski", None), ("Łucja Żółkiewska", None), ("محمد", None),
    ("\u200b\u200c\ufeff", "invisible"), ("  \u2060 ", "invisible"),
    ("\u202eakswolwok naJ", "direction"), ("Jan\u2066 K", "direction"),
    ("Jan\x00", "unstorable"), ("Jan\ud800", "unstorable"),
])
def test_names_are_checked(name, problem):
    assert name_problem(name) == problem


def test_profile_refuses_an_invisible_or_reversed_name_and_keeps_the_rest(login_as, personas):
    member = login_as(personas.member)
    for name, message in (("\u200b\u200b", "A name needs letters you can see."),
                          ("\u202eJan", "characters that change the direction of the text")):
        page = member.post("/profile", data={"name": name, "position": "dyrektorka szkoły",
                                             "locale": "en"}).get_data(as_text=True)
        assert message in page and 'value="dyrektorka szkoły"' in page


def test_a_nul_byte_in_a_form_is_refused_before_anything_is_stored(app, login_as, personas):
    member = login_as(personas.member)
    response = member.post(f"/g/{personas.g1.slug}/t/new", data={
        "title": "Dowozy", "body": "Tekst\x00z zerem", "workshop_number": "0"})
    assert response.status_code == 400
    assert "cannot be stored (a NUL byte)" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Post)) == 0
    assert member.get(f"/g/{personas.g1.slug}/", query_string={"q": "a\x00"}).status_code == 400


def test_socket_text_with_nul_or_a_lone_surrogate_gets_a_clear_answer(personas, chat_client):
    member = chat_client(personas.member)
    member.join(personas.g1.slug)
    for body in ("zero\x00bajt", "pół\ud800znaku"):
        answer = member.send(personas.g1.slug, body, f"bad-{len(body)}")
        assert answer["ok"] is False and answer["error"] == "bad_request", answer
        assert "cannot be stored" in answer["message"]
    assert member.send(personas.g1.slug, "w porządku", "good-1")["ok"]


def test_an_over_long_resubmission_token_is_not_stored(app, login_as, personas):
    member = login_as(personas.member)
    response = member.post(f"/g/{personas.g1.slug}/t/new", data={
        "title": "Dowozy", "body": "Tekst", "workshop_number": "0", "client_token": "t" * 5000})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(db.select(Post.client_token)).all() == [None]
