"""What the thread page costs and how its per-post parts work (issue 13, "Fast pages").

The page asks the database a fixed number of questions, whatever the thread's length and
whichever page is open; each post has one reaction form (one CSRF token, the pressed button
says which reaction); what the reader may do is decided once per kind of post and agrees with
the policy; dates are forum.i18n.post_time's in the reader's language and zone.
"""

import re
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_time
from flask import url_for
from sqlalchemy import event

from forum.accounts.models import User
from forum.discussions import services
from forum.discussions.models import Post, Reaction
from forum.discussions.thread_page import ReaderRules
from forum.extensions import db
from forum.groups import policy
from forum.links import UrlPattern
from tests import factories

# Questions the thread page asks, signed in, on an already-read page (the first visit of a
# page also writes the read mark). Raise a budget only with a reason in the commit message.
QUERY_BUDGET = {"member": 4, "observer": 4, "moderator": 6}


def _count_queries(app, client, url: str) -> list[str]:
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    client.get(url)  # the first visit writes the read mark: not what is measured
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


def _grow(app, personas, thread_id: int | None, posts: int) -> int:
    """Add `posts` replies to the thread (a new one if None) by several people, with
    reactions, replies to earlier posts, an edited, a hidden and a removed post."""
    with app.app_context():
        people = factories.people_of(personas)
        group = people["g1"]
        writers = [people["member"], people["moderator"], factories.make_user()]
        factories.add_member(writers[2], group)
        if thread_id is None:
            thread = factories.make_thread(people["moderator"], group, title="Długi wątek")
        else:
            thread = db.session.get(services.Thread, thread_id)
        first = None
        for n in range(posts):
            post = factories.make_post(writers[n % 3], thread, f"Wpis {n}",
                                       reply_to_id=first.id if first and n % 4 == 0 else None)
            first = first or post
            for reader in writers[: 1 + n % 3]:
                services.toggle_reaction(reader, post, ("useful", "agree", "thanks")[n % 3])
            if n == 3:
                services.edit_post(writers[n % 3], post, "Poprawiony wpis")
            if n == 5:
                services.hide_post(people["moderator"], post, "Nie na temat")
            if n == 7:
                services.delete_post(writers[n % 3], post)
        return thread.id


@pytest.mark.parametrize("persona", sorted(QUERY_BUDGET))
def test_thread_page_queries_stay_within_the_budget_and_do_not_grow(app, personas, login_as,
                                                                    persona):
    client = login_as(getattr(personas, persona))
    slug = personas.g1.slug
    thread_id = _grow(app, personas, None, 35)  # two pages
    small = {page: _count_queries(app, client, f"/g/{slug}/t/{thread_id}?page={page}")
             for page in (1, 2)}
    _grow(app, personas, thread_id, 70)  # four pages, more people, more reactions
    large = {page: _count_queries(app, client, f"/g/{slug}/t/{thread_id}?page={page}")
             for page in (1, 2, 4)}
    budget = QUERY_BUDGET[persona]
    for page, statements in (large | {f"small {k}": v for k, v in small.items()}).items():
        assert len(statements) <= budget, f"page {page}: " + "\n".join(statements)
    assert len(large[1]) == len(small[1]), "\n".join(large[1])
    assert len(large[2]) == len(small[2]) == len(large[4]), "\n".join(large[4])


# --- one reaction form per post ----------------------------------------------------------------


def _one_post_thread(app, personas) -> tuple[str, int]:
    with app.app_context():
        people = factories.people_of(personas)
        thread = factories.make_thread(people["moderator"], people["g1"])
        return f"/g/{personas.g1.slug}/t/{thread.id}?page=1", services.post_id_at(thread, 1)


def _reaction_form(page: str, post_id: int) -> str:
    forms = re.findall(rf'<form method="post" action="/g/[^"]+/p/{post_id}/react"[^>]*>.*?</form>',
                       page, re.S)
    assert len(forms) == 1, forms
    return forms[0]


def _buttons(form: str) -> dict[str, tuple[bool, str]]:
    """kind → (pressed, count) of the form's buttons."""
    found = {}
    for kind, pressed, inner in re.findall(
            r'<button type="submit" name="kind" value="(\w+)" class="reaction[^"]*" '
            r'aria-pressed="(true|false)">(.*?)</button>', form, re.S):
        count = re.search(r'class="count">(\d+)<', inner)
        found[kind] = (pressed == "true", count.group(1) if count else "")
    return found


def _mine(app, personas, post_id: int) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(db.select(Reaction.kind).where(
            Reaction.post_id == post_id, Reaction.user_id == personas.member.id)))


def test_one_reaction_form_per_post_with_one_token_and_a_button_per_reaction(app, personas,
                                                                             login_as):
    url, post_id = _one_post_thread(app, personas)
    page = login_as(personas.member).get(url).get_data(as_text=True)
    form = _reaction_form(page, post_id)
    assert form.count('name="csrf_token"') == 1
    assert 'name="kind" type="hidden"' not in form and 'type="hidden" name="kind"' not in form
    assert _buttons(form) == {kind: (False, "") for kind in services.REACTIONS}


def test_add_change_and_remove_a_reaction_through_the_form(app, personas, login_as):
    url, post_id = _one_post_thread(app, personas)
    member = login_as(personas.member)
    react = f"/g/{personas.g1.slug}/p/{post_id}/react"

    response = member.post(react, data={"kind": "useful"})  # add
    assert response.status_code == 302 and f"#post-{post_id}" in response.headers["Location"]
    buttons = _buttons(_reaction_form(member.get(url).get_data(as_text=True), post_id))
    assert buttons["useful"] == (True, "1") and buttons["agree"] == (False, "")
    assert _mine(app, personas, post_id) == {"useful"}

    member.post(react, data={"kind": "agree"})  # another reaction as well
    member.post(react, data={"kind": "useful"})  # the first one taken back
    buttons = _buttons(_reaction_form(member.get(url).get_data(as_text=True), post_id))
    assert buttons == {"useful": (False, ""), "agree": (True, "1"), "thanks": (False, "")}
    assert _mine(app, personas, post_id) == {"agree"}

    member.post(react, data={"kind": "agree"})  # removed
    assert _mine(app, personas, post_id) == set()
    assert member.post(react, data={"kind": "angry"}).status_code == 400
    assert member.post(react, data={}).status_code == 400


def test_who_reacted_is_listed_under_the_post_in_alphabetical_order(app, personas, login_as):
    url, post_id = _one_post_thread(app, personas)
    react = f"/g/{personas.g1.slug}/p/{post_id}/react"
    for persona, kind in ((personas.moderator, "useful"), (personas.member, "useful"),
                          (personas.member, "thanks")):
        login_as(persona).post(react, data={"kind": kind})
    page = login_as(personas.observer).get(url).get_data(as_text=True)
    listed = page[page.index('<details class="reactors">'):]
    listed = listed[:listed.index("</details>")]
    useful = ", ".join(sorted((personas.member.name, personas.moderator.name)))
    assert "<summary>Who reacted</summary>" in listed
    assert f"<li><strong>Useful</strong>: {useful}</li>" in listed
    assert f"<li><strong>Thanks</strong>: {personas.member.name}</li>" in listed
    assert "Agree" not in listed
    # No list under a post nobody reacted to.
    url2, _post2 = _one_post_thread(app, personas)
    assert 'class="reactors"' not in login_as(personas.member).get(url2).get_data(as_text=True)


def test_the_reaction_form_works_with_csrf_protection_on(make_app, app, personas):
    url, post_id = _one_post_thread(app, personas)
    protected = make_app(WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"csrf_token": token, "email": personas.member.email,
                                       "password": factories.PASSWORD}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    form = _reaction_form(page, post_id)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    # One token for the page: every form of it carries the same value.
    assert set(re.findall(r'name="csrf_token" value="([^"]+)"', page)) == {token}
    react = f"/g/{personas.g1.slug}/p/{post_id}/react"
    client.post(react, data={"kind": "thanks"})  # no token: nothing happens
    assert _mine(app, personas, post_id) == set()
    assert client.post(react, data={"csrf_token": token, "kind": "thanks"}).status_code == 302
    assert _mine(app, personas, post_id) == {"thanks"}


def test_a_non_member_gets_404_and_an_observer_cannot_react(app, personas, login_as):
    url, post_id = _one_post_thread(app, personas)
    react = f"/g/{personas.g1.slug}/p/{post_id}/react"
    login_as(personas.member).post(react, data={"kind": "useful"})
    assert login_as(personas.outsider).post(react, data={"kind": "thanks"}).status_code == 404
    observer = login_as(personas.observer)
    page = observer.get(url).get_data(as_text=True)
    assert f"/p/{post_id}/react" not in page and 'name="kind"' not in page
    assert '<span class="reaction">Useful <span class="count">1</span></span>' in page
    assert observer.post(react, data={"kind": "thanks"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Reaction).where(
            Reaction.post_id == post_id)) == 1


# --- permissions once per kind of post, dates once per page ------------------------------------


@pytest.mark.parametrize("persona", ["admin", "moderator", "member", "observer"])
def test_reader_rules_agree_with_the_policy_for_every_kind_of_post(people, persona):
    group, reader = people["g1"], people[persona]
    thread = factories.make_thread(people["moderator"], group)
    posts = []
    for author in (people["member"], people["moderator"]):
        for change in ("", "hidden", "removed", "edited"):
            post = factories.make_post(author, thread, f"{change or 'plain'} by {author.name}")
            if change == "hidden":
                services.hide_post(people["moderator"], post, "powód")
            elif change == "removed":
                services.delete_post(people["moderator"], post)
            elif change == "edited":
                services.edit_post(author, post, "poprawione")
            posts.append(post)
    thread.locked = True  # a moderator may still reply to a locked thread, others not
    rules = ReaderRules(reader, group, thread)
    assert rules.react == policy.can_participate(reader, group)
    assert rules.reply == policy.can_post_in_thread(reader, group, thread)
    assert rules.moderate == policy.can_moderate_group(reader, group)
    for post in posts:
        may = rules.for_post(post)
        assert may.edit == policy.can_edit_post(reader, group, post), post.body
        assert may.delete == policy.can_delete_post(reader, group, post), post.body
        assert may.history == policy.can_see_post_history(reader, group, post), post.body
        assert may.see_hidden == policy.can_see_hidden_post(reader, group, post), post.body
        assert may.report == (policy.can_report(reader, group)
                              and post.author_id != reader.id), post.body
        assert services.shown_body(post, may.see_hidden) == services.visible_body(reader, post)
    db.session.rollback()


def test_post_dates_are_in_the_readers_language_and_time_zone(app, personas, login_as):
    url, post_id = _one_post_thread(app, personas)
    with app.app_context():
        db.session.execute(db.update(User).where(User.id == personas.member.id)
                           .values(locale="pl", time_zone="America/Sao_Paulo"))
        db.session.commit()
    member = login_as(personas.member)
    page = member.get(url).get_data(as_text=True)
    with app.app_context():
        created = db.session.get(Post, post_id).created_at
    local = created.replace(tzinfo=UTC).astimezone(ZoneInfo("America/Sao_Paulo"))
    time = format_time(local, "short", locale="pl")
    # Today's post by the day's name in the reader's language and zone; the whole date on
    # hover and in <time datetime> with the zone's offset.
    assert (f'href="#post-{post_id}"><time datetime="{local.isoformat(timespec="minutes")}" '
            f'title="{format_date(local, "full", locale="pl")}, {time}">'
            f'dziś, {time}</time></a>') in page


def test_links_from_a_prefix_are_those_of_url_for(app):
    with app.test_request_context():
        for endpoint, key, anchor, values in (
                ("discussions.react", "post_id", "", {"slug": "miasta-testowe"}),
                ("discussions.thread", "quote", "reply",
                 {"slug": "a-1", "thread_id": 12, "page": 3}),
                ("moderation.report_post", "post_id", "", {"slug": "x"})):
            pattern = UrlPattern(endpoint, key, f"#{anchor}" if anchor else "", **values)
            for value in (1, 12, 987654321, 2**40):
                assert pattern(value) == url_for(endpoint, **values, **{key: value},
                                                 _anchor=anchor or None)


# --- posts kept rendered (forum.fragments) -------------------------------------------------------


def _page_without_tokens(client, url: str) -> str:
    from tests.conftest import without_csrf_token

    page = client.get(url).get_data(as_text=True)
    return re.sub(r'name="client_token" type="hidden" value="[^"]+"', "",
                  without_csrf_token(page))


def test_kept_posts_show_what_a_fresh_rendering_shows_after_every_change(app, personas,
                                                                        login_as):
    """Each step changes something a post shows; the page from kept pieces must equal the
    page rendered from scratch (the pieces' keys hold everything they show)."""
    from forum.accounts.models import Organisation
    from forum.fragments import fragments

    thread_id = _grow(app, personas, None, 12)
    url = f"/g/{personas.g1.slug}/t/{thread_id}?page=1"
    member, observer = login_as(personas.member), login_as(personas.observer)
    with app.app_context():
        first_id = services.post_id_at(db.session.get(services.Thread, thread_id), 1)
        second_id = services.post_id_at(db.session.get(services.Thread, thread_id), 2)

    def check(client, expect: str | None = None, absent: str | None = None):
        client.get(url)  # the visit marks the page read (the "first unread" badge goes)
        kept = _page_without_tokens(client, url)
        kept_again = _page_without_tokens(client, url)
        fragments.clear()
        fresh = _page_without_tokens(client, url)
        assert kept == kept_again == fresh
        assert expect is None or expect in fresh
        assert absent is None or absent not in fresh
        assert len(fragments) > 0  # the pieces were kept

    for client in (member, observer):
        check(client)
    member.post(f"/g/{personas.g1.slug}/p/{second_id}/react", data={"kind": "thanks"})
    check(member)
    check(observer)
    with app.app_context():
        people = factories.people_of(personas)
        services.edit_post(people["moderator"], db.session.get(Post, first_id),
                           "Nowa treść pierwszego wpisu")
        db.session.commit()
    check(member, expect="Nowa treść pierwszego wpisu")
    with app.app_context():
        people = factories.people_of(personas)
        services.hide_post(people["moderator"], db.session.get(Post, second_id), "Poza tematem")
        db.session.commit()
    check(member, expect="Poza tematem")  # its author sees it with the reason
    check(observer, absent="<p>Wpis 0</p>")
    with app.app_context():
        organisation = db.session.get(User, personas.moderator.id).organisation
        if organisation is None:
            organisation = Organisation(name="Gmina Testowa")
            db.session.get(User, personas.moderator.id).organisation = organisation
        organisation.name = "Gmina Przemianowana"
        db.session.commit()
    check(observer, expect="Gmina Przemianowana")
    member.post("/language", data={"locale": "ca", "next": "/"})
    check(member)
    assert "Resposta" in _page_without_tokens(member, url) or "Respon" in _page_without_tokens(
        member, url)


def test_kept_posts_carry_each_readers_own_csrf_token(make_app, app, personas):
    from forum.fragments import CSRF_PLACEHOLDER

    url, post_id = _one_post_thread(app, personas)
    protected = make_app(WTF_CSRF_ENABLED=True)
    tokens = []
    for email in (personas.member.email, personas.observer.email, personas.member.email):
        client = protected.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"csrf_token": token, "email": email,
                                    "password": factories.PASSWORD})
        page = client.get(url).get_data(as_text=True)
        assert CSRF_PLACEHOLDER not in page
        found = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
        assert len(found) == 1
        tokens.append(found.pop())
        if email == personas.member.email:  # the kept reaction form posts with it
            assert client.post(f"/g/{personas.g1.slug}/p/{post_id}/react", data={
                "csrf_token": tokens[-1], "kind": "useful"}).status_code == 302
    assert len(set(tokens)) == 3  # three sessions, three tokens, none from a kept piece
