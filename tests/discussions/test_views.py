import re

from forum.discussions import services
from tests import factories


def _start(client, slug, title="Dowozy uczniów", body="Jak to robicie?", **extra):
    return client.post(f"/g/{slug}/t/new", data={"title": title, "body": body,
                                                  "workshop_number": "0", **extra})


def _thread_url(response) -> str:
    return response.headers["Location"]


def test_start_a_thread_and_read_it(personas, login_as):
    member = login_as(personas.member)
    response = _start(member, personas.g1.slug, body="Pierwszy *wpis* <script>x()</script>")
    assert response.status_code == 302
    page = member.get(_thread_url(response)).get_data(as_text=True)
    assert "<h1>Dowozy uczniów</h1>" in page
    assert "<em>wpis</em>" in page and "<script>x()" not in page
    listing = member.get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert "Dowozy uczniów" in listing


def test_failed_thread_keeps_what_was_typed(personas, login_as):
    member = login_as(personas.member)
    response = _start(member, personas.g1.slug, title="", body="Mój długi tekst")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter a title." in page and "Mój długi tekst" in page


def test_preview_shows_the_html_and_keeps_the_text(personas, login_as):
    member = login_as(personas.member)
    page = member.post(f"/g/{personas.g1.slug}/t/new", data={
        "title": "T", "body": "**gruby**", "workshop_number": "0", "preview": "1"}).get_data(
        as_text=True)
    assert "<strong>gruby</strong>" in page and "**gruby**" in page
    assert "T" in page


def test_reply_quote_and_reply_to(personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug, body="Linia pierwsza"))
    moderator = login_as(personas.moderator)
    first_id = re.search(r'id="post-(\d+)"', moderator.get(url + "?page=1").get_data(
        as_text=True)).group(1)
    page = moderator.get(f"{url}?page=1&quote={first_id}").get_data(as_text=True)
    assert "&gt; Linia pierwsza" in page
    response = moderator.post(f"{url}/reply", data={"body": "Odpowiadam",
                                                     "reply_to_id": first_id})
    assert response.status_code == 302 and "#post-" in response.headers["Location"]
    page = member.get(f"{url}?page=1").get_data(as_text=True)
    assert "In reply to" in page and "Odpowiadam" in page


def test_empty_reply_keeps_the_page_and_says_why(personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug))
    response = member.post(f"{url}/reply", data={"body": "   "})
    assert response.status_code == 400
    assert "Write something first." in response.get_data(as_text=True)


def test_double_submission_creates_one_post(app, personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug))
    for _ in range(2):
        member.post(f"{url}/reply", data={"body": "raz", "client_token": "abc123"})
    with app.app_context():
        thread = services.get_thread_for(factories.user(personas.member.id),
                                         factories.group(personas.g1.id),
                                         int(url.rsplit("/", 1)[1]))
        assert thread.last_number == 2


def test_opening_a_thread_jumps_to_the_first_unread_post(app, personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug))
    moderator = login_as(personas.moderator)
    moderator.get(url + "?page=1")
    for n in range(35):
        member.post(f"{url}/reply", data={"body": f"wpis {n}"})
    response = moderator.get(url)
    assert response.status_code == 302
    assert "page=1#post-" in response.headers["Location"]
    moderator.get(url + "?page=1")
    response = moderator.get(url)
    assert "page=2#post-" in response.headers["Location"]


def test_locked_thread_shows_a_notice_and_refuses_replies(personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug))
    moderator = login_as(personas.moderator)
    moderator.post(f"{url}/moderate", data={"action": "lock"})
    page = member.get(url + "?page=1").get_data(as_text=True)
    assert "This thread is locked" in page and "Post the reply" not in page
    response = member.post(f"{url}/reply", data={"body": "jeszcze"})
    assert response.status_code == 400
    assert "This thread is locked" in response.get_data(as_text=True)
    assert member.post(f"{url}/moderate", data={"action": "unlock"}).status_code == 403


def test_edit_and_history(personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug, body="stara treść"))
    page = member.get(url + "?page=1").get_data(as_text=True)
    post_id = re.search(r'id="post-(\d+)"', page).group(1)
    slug = personas.g1.slug
    assert login_as(personas.moderator).get(f"/g/{slug}/p/{post_id}/edit").status_code == 403
    member.post(f"/g/{slug}/p/{post_id}/edit", data={"body": "nowa treść"})
    page = member.get(url + "?page=1").get_data(as_text=True)
    assert "nowa treść" in page and "(edited" in page
    history = login_as(personas.moderator).get(f"/g/{slug}/p/{post_id}/history")
    page = history.get_data(as_text=True)
    # The change is highlighted word by word, with words for screen readers; the earlier
    # text is there in full too.
    assert ('<div class="text-diff"><del><span class="visually-hidden">[removed text: </span>'
            'stara<span class="visually-hidden">]</span></del><ins><span class="visually-hidden">'
            '[added text: </span>nowa<span class="visually-hidden">]</span></ins> treść</div>'
            ) in page
    assert "Edited on " in page and f"by {personas.member.name}</h2>" in page
    assert "<p>stara treść</p>" in page
    member.post(f"/g/{slug}/p/{post_id}/edit", data={"body": "nowa treść <b>x</b>"})
    page = member.get(f"/g/{slug}/p/{post_id}/history").get_data(as_text=True)
    assert page.count('class="post-edit"') == 2
    assert "[added text: </span> &lt;b&gt;x&lt;/b&gt;<span" in page  # escaped, newest first
    assert login_as(personas.observer).get(f"/g/{slug}/p/{post_id}/history").status_code == 404


def test_hide_with_reason(personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug))
    reply = member.post(f"{url}/reply", data={"body": "PESEL 12345678901"})
    post_id = reply.headers["Location"].rsplit("post-", 1)[1]
    slug = personas.g1.slug
    moderator = login_as(personas.moderator)
    moderator.post(f"/g/{slug}/p/{post_id}/hide", data={"reason": "Dane osobowe"})
    observer_page = login_as(personas.observer).get(url + "?page=1").get_data(as_text=True)
    assert "PESEL" not in observer_page and "hidden by a moderator" in observer_page
    author_page = member.get(url + "?page=1").get_data(as_text=True)
    assert "Dane osobowe" in author_page and "PESEL" in author_page


def test_reactions_and_notifications_through_pages(personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug))
    moderator = login_as(personas.moderator)
    page = moderator.get(url + "?page=1").get_data(as_text=True)
    post_id = re.search(r'id="post-(\d+)"', page).group(1)
    moderator.post(f"/g/{personas.g1.slug}/p/{post_id}/react", data={"kind": "thanks"})
    page = moderator.get(url + "?page=1").get_data(as_text=True)
    assert 'aria-pressed="true"' in page
    moderator.post(f"{url}/reply", data={"body": "Witaj @jan.kowalski"})
    header = member.get("/").get_data(as_text=True)
    assert 'class="count-badge">1<' in header
    notes = member.get("/notifications").get_data(as_text=True)
    assert "mentioned you" in notes
    note_id = re.search(r"/notifications/(\d+)", notes).group(1)
    # Following the link (an e-mail's, a prefetch) leads there and changes nothing; the
    # inbox's button (a POST) marks it read on the way (issue 19: no state change on GET).
    response = member.get(f"/notifications/{note_id}")
    assert f"/g/{personas.g1.slug}/p/" in response.headers["Location"]
    assert 'class="count-badge">1<' in member.get("/").get_data(as_text=True)
    assert f'<form method="post" action="/notifications/{note_id}"' in notes
    response = member.post(f"/notifications/{note_id}")
    assert f"/g/{personas.g1.slug}/p/" in response.headers["Location"]
    assert 'class="count-badge"' not in member.get("/").get_data(as_text=True)
    notes = member.get("/notifications").get_data(as_text=True)
    assert f'<a href="/notifications/{note_id}">' in notes  # read: a plain link
    # Someone else's notification: nothing to open, nothing changed.
    assert login_as(personas.moderator).post(
        f"/notifications/{note_id}").headers["Location"].endswith("/notifications")


def test_group_page_filters(personas, login_as):
    member = login_as(personas.member)
    _start(member, personas.g1.slug, title="Pierwszy")
    page = member.get(f"/g/{personas.g1.slug}/?unread=1").get_data(as_text=True)
    assert "Nothing unread" in page
    assert member.get(f"/g/{personas.g1.slug}/?session=99").status_code == 404
    assert member.get(f"/g/{personas.g1.slug}/?material=99").status_code == 404


def test_outsiders_get_404_on_every_discussion_url(personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug))
    page = member.get(url + "?page=1").get_data(as_text=True)
    post_id = re.search(r'id="post-(\d+)"', page).group(1)
    slug = personas.g1.slug
    outsider = login_as(personas.outsider)
    for target in (url, f"/g/{slug}/t/new", f"/g/{slug}/p/{post_id}",
                   f"/g/{slug}/p/{post_id}/edit", f"/g/{slug}/p/{post_id}/history",
                   f"/g/{slug}/search?q=dowozy"):
        assert outsider.get(target).status_code == 404, target
    for target in (f"{url}/reply", f"{url}/moderate", f"{url}/watch", f"/g/{slug}/watch",
                   f"/g/{slug}/p/{post_id}/delete", f"/g/{slug}/p/{post_id}/hide",
                   f"/g/{slug}/p/{post_id}/react"):
        assert outsider.post(target, data={"body": "x"}).status_code == 404, target


def test_observers_read_but_cannot_write(personas, login_as):
    url = _thread_url(_start(login_as(personas.member), personas.g1.slug))
    observer = login_as(personas.observer)
    page = observer.get(url + "?page=1").get_data(as_text=True)
    assert "Dowozy" in page and "Post the reply" not in page
    assert observer.get(f"/g/{personas.g1.slug}/t/new").status_code == 403
    assert observer.post(f"{url}/reply", data={"body": "x"}).status_code == 403
    # The "Reply" section explains the role instead of a form, and every section's heading
    # is there (axe: aria).
    labelled = re.findall(r'aria-labelledby="([^"]+)"', page)
    assert "reply-heading" in labelled and "as an observer" in page
    assert all(f'id="{target}"' in page for target in labelled)


def test_mention_suggestions_list_members_only(personas, login_as):
    member = login_as(personas.member)
    found = member.get(f"/g/{personas.g1.slug}/mentions?q=mar").json
    assert found == [{"handle": "marta.moderator", "name": "Marta Moderator",
                      "organisation": "Miasto Lublin"}]
    assert member.get(f"/g/{personas.g1.slug}/mentions?q=olek").json == []  # not a member
    assert login_as(personas.outsider).get(
        f"/g/{personas.g1.slug}/mentions?q=mar").status_code == 404


def test_hostile_titles_and_posts_render_inert(personas, login_as):
    member = login_as(personas.member)
    response = _start(member, personas.g1.slug, title='<script>alert("t")</script>',
                      body='<img src=x onerror=alert(1)> [x](javascript:alert(2))')
    page = member.get(response.headers["Location"]).get_data(as_text=True)
    assert '<script>alert("t")' not in page and "onerror=alert" not in page.replace(
        "onerror=alert(1)&gt;", "")
    assert 'href="javascript:' not in page
    listing = member.get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert "&lt;script&gt;" in listing


def test_lock_and_close_are_told_apart_and_lock_is_not_offered_on_a_closed_thread(
        personas, login_as):
    url = _thread_url(_start(login_as(personas.member), personas.g1.slug))
    moderator = login_as(personas.moderator)
    page = moderator.get(url + "?page=1").get_data(as_text=True)
    assert "Pause replies (lock)" in page and "Close with a summary" in page
    assert "“Pause replies” stops new replies until you allow them again" in page
    moderator.post(f"{url}/moderate", data={"action": "lock"})
    assert "Allow replies again (unlock)" in moderator.get(url + "?page=1").get_data(
        as_text=True)
    moderator.post(f"{url}/moderate", data={"action": "unlock"})
    moderator.post(f"{url}/close", data={"close-summary": "Ustalone."})
    page = moderator.get(url + "?page=1").get_data(as_text=True)
    assert "Reopen the thread" in page
    assert "Pause replies (lock)" not in page and "(unlock)" not in page


def test_deleting_ones_own_post_asks_first_and_moderator_tools_sit_in_one_menu(
        personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug, body="Mój wpis"))
    page = member.get(url + "?page=1").get_data(as_text=True)
    post_id = re.search(r'id="post-(\d+)"', page).group(1)
    question = page[page.index('<details class="confirm" data-menu>'):]
    question = question[:question.index("</details>")]
    assert '<summary class="link-button">Delete</summary>' in question
    assert "Delete this post? A note that it was removed stays in its place." in question
    assert f'action="/g/{personas.g1.slug}/p/{post_id}/delete"' in question
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert f'value="{token}"' in question  # the reader's own token, not a kept one
    moderator_page = login_as(personas.moderator).get(url + "?page=1").get_data(as_text=True)
    menu = moderator_page[moderator_page.index('<details class="moderate-post" data-menu>'):]
    menu = menu[:menu.index("</details>")]
    assert "Mark as the conclusion" in menu and "Hide the post" in menu


def test_observers_are_told_why_they_cannot_reply(personas, login_as):
    url = _thread_url(_start(login_as(personas.member), personas.g1.slug))
    page = login_as(personas.observer).get(url + "?page=1").get_data(as_text=True)
    assert "You follow this group as an observer: you can read its threads but not reply" in page
    assert "Post the reply" not in page
    member_page = login_as(personas.member).get(url + "?page=1").get_data(as_text=True)
    assert "as an observer" not in member_page and "Post the reply" in member_page


def test_quote_and_reply_buttons_keep_what_was_typed_without_javascript(personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug, body="Pierwszy wpis\ndruga linia"))
    page = member.get(url + "?page=1").get_data(as_text=True)
    post_id = re.search(r'id="post-(\d+)"', page).group(1)
    # The buttons belong to the reply form and come back to the page the reader was on.
    assert (f'<button type="submit" form="reply-form" formaction="{url}/reply?page=1#reply" '
            f'name="quote" value="{post_id}"') in page
    moderator = login_as(personas.moderator)
    response = moderator.post(f"{url}/reply?page=1", data={"body": "Moja myśl", "quote": post_id})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert (f"Moja myśl\n\n[{personas.member.name}](/g/{personas.g1.slug}/p/{post_id}):\n"
            "&gt; Pierwszy wpis\n&gt; druga linia") in body
    assert f'name="reply_to_id" type="hidden" value="{post_id}"' in body
    assert "In reply to " + personas.member.name in body
    response = moderator.post(f"{url}/reply?page=1", data={"body": "Tylko odpowiedź",
                                                           "answer": post_id})
    body = response.get_data(as_text=True)
    assert "Tylko odpowiedź</textarea>" in body
    assert f'name="reply_to_id" type="hidden" value="{post_id}"' in body
    # Nothing was posted by either.
    assert "Moja myśl" not in moderator.get(url + "?page=1").get_data(as_text=True).split(
        "<textarea")[0]


def test_the_quote_and_preview_endpoints_answer_members_only(personas, login_as):
    member = login_as(personas.member)
    url = _thread_url(_start(member, personas.g1.slug, body="Cytat **ważny**"))
    page = member.get(url + "?page=1").get_data(as_text=True)
    post_id = re.search(r'id="post-(\d+)"', page).group(1)
    slug = personas.g1.slug
    quote = member.get(f"/g/{slug}/p/{post_id}/quote").json
    assert quote == {"text": f"[{personas.member.name}](/g/{slug}/p/{post_id}):\n"
                             "> Cytat **ważny**\n\n",
                     "post_id": int(post_id), "author": personas.member.name}
    preview = member.post(f"/g/{slug}/preview", data={"body": "**a** <script>x()</script>"})
    assert preview.json["html"] == "<p><strong>a</strong> &lt;script&gt;x()&lt;/script&gt;</p>\n"
    outsider = login_as(personas.outsider)
    assert outsider.get(f"/g/{slug}/p/{post_id}/quote").status_code == 404
    assert outsider.post(f"/g/{slug}/preview", data={"body": "x"}).status_code == 404
    assert login_as(personas.observer).post(f"/g/{slug}/preview",
                                            data={"body": "x"}).status_code == 403
    member.post(f"/g/{slug}/p/{post_id}/delete")
    assert member.get(f"/g/{slug}/p/{post_id}/quote").status_code == 404
