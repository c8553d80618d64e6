"""Threaded discussions, end to end in Chromium, asserting what people see.

Jan Kowalski (the member) and Marta Moderatorska (Miasta's moderator) have chosen Polish in
their profiles: labels and messages are looked up in the app's own catalogue for the page's
language (live_server.text), so the journeys hold whether or not a Polish translation exists.

Every test starts from the demo data: the threads a journey needs are started for it (through
the services, or through the pages when starting one is the journey) and every thread added
during a test is deleted afterwards, with its posts, reactions, read marks and notifications
(the database cascades), so that no test depends on another one or on their order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from forum.demo import MEMBER_EMAIL, MODERATOR_EMAIL, THEMES
from tests.browser.conftest import assert_accessible, expect, sign_in, submit

GROUP = "miasta"
LIVE_NUMBER = 5  # forum.demo.SCHEDULES["cities"]: session 5 of Miasta starts today
LIVE_THEME = THEMES[LIVE_NUMBER - 1]
MEMBER_NAME = "Jan Kowalski"
MEMBER_HANDLE = "jan.kowalski"  # the name folded to ASCII, words joined by dots
MODERATOR_NAME = "Marta Moderatorska"

# Words typed without their Polish letters must still find these.
TITLE = "Dowozy uczniów do szkół po zmianie rozkładu"
BODY = ("**Żółte autobusy szkolne** jeżdżą od września według nowego rozkładu.\n\n"
        "Jak u Was zorganizowano dowóz do szkół na wsi?")
BOLD = "Żółte autobusy szkolne"


def heading(page):
    return page.get_by_role("heading", level=1)


def labelled(page, live_server, label: str):
    """The form field whose label is `label` in the page's language."""
    return page.get_by_label(live_server.text(page, label), exact=True)


def textbox(page, live_server, label: str):
    """The text field or text area whose label is `label` in the page's language.

    By role, not get_by_label(): the @mention list may take its name from the same label.
    """
    return page.get_by_role("textbox", name=live_server.text(page, label), exact=True)


def button(page, live_server, label: str):
    return page.get_by_role("button", name=live_server.text(page, label), exact=True)


def session_name(live_server, page, number: int = LIVE_NUMBER, theme: str = LIVE_THEME) -> str:
    return live_server.text(page, "Session %(number)d: %(theme)s", number=number, theme=theme)


def post_item(page, post_id: int):
    """One post of the thread page (its <li id="post-…">)."""
    return page.locator(f"li#post-{post_id}")


def posts(page):
    return page.locator("ol.posts > li.post")


def post_id_of(item) -> int:
    return int(item.get_attribute("id").removeprefix("post-"))


def thread_list(page, live_server, region: str):
    return page.get_by_role("region", name=live_server.text(page, region), exact=True)


# --- the database behind the live server -----------------------------------------------------


@dataclass(frozen=True)
class MadeThread:
    id: int
    title: str
    first_post_id: int

    @property
    def path(self) -> str:
        return f"/g/{GROUP}/t/{self.id}"


def _user(email: str):
    from forum.accounts.services import find_user_by_email

    user = find_user_by_email(email)
    assert user is not None, f"the demo data has no {email}"
    return user


def _group(slug: str = GROUP):
    from forum.extensions import db
    from forum.groups.models import Group

    return db.session.scalar(db.select(Group).where(Group.slug == slug))


def start_thread(live_server, email: str, title: str, body: str,
                 session: int | None = LIVE_NUMBER) -> MadeThread:
    from forum.discussions import services

    with live_server.app.app_context():
        thread = services.start_thread(_user(email), _group(), title=title, body=body,
                                       workshop_number=session)
        first = services.post_id_at(thread, 1)
        return MadeThread(thread.id, thread.title, first)


def add_reply(live_server, email: str, thread: MadeThread, body: str,
              reply_to: int | None = None) -> int:
    from forum.discussions import services
    from forum.discussions.models import Thread
    from forum.extensions import db

    with live_server.app.app_context():
        post = services.reply(_user(email), db.session.get(Thread, thread.id), body,
                              reply_to_id=reply_to)
        return post.id


def add_reaction(live_server, email: str, post_id: int, kind: str) -> None:
    from forum.discussions import services
    from forum.discussions.models import Post
    from forum.extensions import db

    with live_server.app.app_context():
        assert services.toggle_reaction(_user(email), db.session.get(Post, post_id), kind)


def mention_options_for(live_server, typed: str, email: str = MODERATOR_EMAIL) -> list[str]:
    """The names the autocomplete offers for `typed`, in the order it lists them."""
    from forum.notifications import mentions

    with live_server.app.app_context():
        return [s["name"] for s in mentions.mention_suggestions(_user(email), _group(), typed)]


def unread_notifications(live_server, email: str) -> int:
    from forum.notifications import inbox

    with live_server.app.app_context():
        return inbox.unread_notification_count(_user(email))


@pytest.fixture
def threads_removed_afterwards(live_server):
    """Delete the threads added during the test (posts, reactions, notifications and drafts
    of replies cascade) and the drafts of new threads."""
    from forum.discussions.models import Draft, Thread
    from forum.extensions import db

    with live_server.app.app_context():
        before = set(db.session.scalars(db.select(Thread.id)))
    yield
    with live_server.app.app_context():
        db.session.execute(db.delete(Thread).where(Thread.id.not_in(before)))
        db.session.execute(db.delete(Draft))  # the demo data has none
        db.session.commit()
        left = set(db.session.scalars(db.select(Thread.id))) - before
    assert not left, f"threads left behind: {left}"


@pytest.fixture
def members_thread(live_server, threads_removed_afterwards) -> MadeThread:
    """A thread Jan Kowalski started in Miasta about the live session (deleted afterwards)."""
    return start_thread(live_server, MEMBER_EMAIL, TITLE, BODY)


@pytest.fixture
def busy_thread(live_server, members_thread) -> MadeThread:
    """The member's thread with replies (one of them mentions him), a quote and reactions."""
    reply = add_reply(live_server, MODERATOR_EMAIL, members_thread,
                      f"Dziękuję @{MEMBER_HANDLE}! U nas przewoźnik *gminny*.\n\n"
                      "- trasa poranna\n- trasa popołudniowa",
                      reply_to=members_thread.first_post_id)
    add_reply(live_server, MEMBER_EMAIL, members_thread,
              f"{MODERATOR_NAME}:\n> U nas przewoźnik gminny.\n\nA bilety miesięczne?",
              reply_to=reply)
    add_reaction(live_server, MODERATOR_EMAIL, members_thread.first_post_id, "useful")
    add_reaction(live_server, MEMBER_EMAIL, reply, "thanks")
    add_reaction(live_server, MODERATOR_EMAIL, reply, "thanks")
    return members_thread


# 1 -------------------------------------------------------------------------------------------


def test_member_starts_a_thread_about_the_live_session(page, live_server,
                                                       threads_removed_afterwards):
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(f"/g/{GROUP}/sessions/{LIVE_NUMBER}")
    expect(heading(page)).to_have_text(session_name(live_server, page))
    page.get_by_role("main").get_by_role("link", name=live_server.text(
        page, "Start a thread about this session"), exact=True).click()

    expect(heading(page)).to_have_text(live_server.text(page, "Start a thread"))
    session = labelled(page, live_server, "Session")
    expect(session).to_have_value(str(LIVE_NUMBER))
    expect(session.locator("option:checked")).to_have_text(session_name(live_server, page))
    textbox(page, live_server, "Title").fill(TITLE)
    textbox(page, live_server, "First post").fill(BODY)

    # The preview shows the Markdown rendered in place (no reload) and keeps everything that
    # was typed.
    page.evaluate("window.notReloaded = true")
    button(page, live_server, "Preview").click()
    preview = page.locator(".preview")
    expect(preview).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    expect(preview.get_by_role("heading", name=live_server.text(page, "Preview"))).to_be_visible()
    expect(preview.locator("strong")).to_have_text(BOLD)
    expect(preview).not_to_contain_text("**")
    expect(textbox(page, live_server, "Title")).to_have_value(TITLE)
    expect(textbox(page, live_server, "First post")).to_have_value(BODY)
    expect(labelled(page, live_server, "Session")).to_have_value(str(LIVE_NUMBER))

    submit(page, button(page, live_server, "Start the thread"))
    expect(page).to_have_url(re.compile(rf"/g/{GROUP}/t/\d+$"))
    thread_address = page.url
    expect(heading(page)).to_have_text(TITLE)
    expect(posts(page)).to_have_count(1)
    first = posts(page).first
    expect(first.locator(".post-author")).to_have_text(MEMBER_NAME)
    expect(first.locator(".post-body strong")).to_have_text(BOLD)
    expect(first.locator(".post-body")).not_to_contain_text("**")

    # The session badge leads back to the session, which lists the thread.
    badge = page.get_by_role("main").get_by_role(
        "link", name=session_name(live_server, page), exact=True)
    expect(badge).to_have_attribute("href", re.compile(rf"/g/{GROUP}/sessions/{LIVE_NUMBER}$"))
    badge.click()
    expect(page).to_have_url(f"{live_server.url}/g/{GROUP}/sessions/{LIVE_NUMBER}")
    listed = thread_list(page, live_server, "Discussions of this session").get_by_role(
        "link", name=TITLE, exact=True)
    expect(listed).to_have_count(1)
    expect(listed).to_have_attribute("href", thread_address.removeprefix(live_server.url))

    # …and so does the group page, also when filtered by the session.
    page.goto(f"/g/{GROUP}/")
    discussions = thread_list(page, live_server, "Discussions")
    expect(discussions.get_by_role("link", name=TITLE, exact=True)).to_have_count(1)
    # The filters are folded away under one summary so that the threads come first.
    expect(labelled(page, live_server, "Session")).to_be_hidden()
    page.get_by_text(live_server.text(page, "Filter and search"), exact=True).click()
    labelled(page, live_server, "Session").select_option(str(LIVE_NUMBER))
    submit(page, button(page, live_server, "Filter"))
    expect(page).to_have_url(re.compile(rf"[?&]session={LIVE_NUMBER}"))
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name=TITLE, exact=True)).to_have_count(1)
    # The author has read all of it: "Only unread" leaves it out.
    labelled(page, live_server, "Only unread").check()
    submit(page, button(page, live_server, "Filter"))
    expect(page).to_have_url(re.compile(r"[?&]unread=1"))
    expect(main.get_by_role("link", name=TITLE, exact=True)).to_have_count(0)


# 2 -------------------------------------------------------------------------------------------


def test_moderator_replies_to_the_first_post_and_finds_it_useful(page, live_server,
                                                                members_thread):
    sign_in(page, live_server, MODERATOR_EMAIL)
    page.goto(members_thread.path)
    expect(heading(page)).to_have_text(TITLE)
    first = post_item(page, members_thread.first_post_id)
    page.evaluate("window.notReloaded = true")
    first.get_by_role("button", name=re.compile(
        "^" + re.escape(live_server.text(page, "Reply")) + " — ")).click()

    reply_section = page.locator("section#reply")
    expect(textbox(page, live_server, "Your reply")).to_be_focused()
    assert page.evaluate("window.notReloaded") is True  # set in place, no reload
    expect(reply_section).to_contain_text(
        live_server.text(page, "In reply to %(name)s", name=MEMBER_NAME))
    text = "U nas dowóz organizuje gmina; bilety miesięczne tylko dla szkół średnich."
    textbox(page, live_server, "Your reply").fill(text)
    submit(page, button(page, live_server, "Post the reply"))

    expect(page).to_have_url(re.compile(r"#post-\d+$"))
    expect(posts(page)).to_have_count(2)
    reply = posts(page).nth(1)
    expect(reply).to_contain_text(text)
    expect(reply.locator(".post-author")).to_have_text(MODERATOR_NAME)
    assert page.url.endswith(f"#post-{post_id_of(reply)}")
    in_reply_to = reply.locator(".in-reply-to")
    expect(in_reply_to).to_have_text(
        live_server.text(page, "In reply to %(name)s", name=MEMBER_NAME))
    link = in_reply_to.get_by_role("link", name=MEMBER_NAME, exact=True)
    expect(link).to_have_attribute(
        "href", re.compile(rf"/g/{GROUP}/p/{members_thread.first_post_id}$"))

    # A reaction: pressed, counted, and the same after the page reloads.
    useful = live_server.text(page, "Useful")
    first = post_item(page, members_thread.first_post_id)
    reaction = first.get_by_role("button", name=re.compile("^" + re.escape(useful)))
    expect(reaction).to_have_attribute("aria-pressed", "false")
    submit(page, reaction)
    expect(reaction).to_have_attribute("aria-pressed", "true")
    expect(reaction.locator(".count")).to_have_text("1")
    expect(reaction).to_have_accessible_name(f"{useful} 1")
    for other in ("Agree", "Thanks"):
        expect(first.get_by_role("button", name=live_server.text(page, other), exact=True)
               ).to_have_attribute("aria-pressed", "false")

    # Following "In reply to Jan Kowalski" lands on the first post.
    reply.locator(".in-reply-to").get_by_role("link", name=MEMBER_NAME).click()
    expect(page).to_have_url(re.compile(rf"#post-{members_thread.first_post_id}$"))
    expect(post_item(page, members_thread.first_post_id)).to_be_in_viewport()


# 3 -------------------------------------------------------------------------------------------


def test_a_mention_chosen_from_the_list_notifies_the_member(new_context, live_server,
                                                           members_thread):
    unread_before = unread_notifications(live_server, MEMBER_EMAIL)
    moderator = new_context().new_page()
    sign_in(moderator, live_server, MODERATOR_EMAIL)
    moderator.goto(members_thread.path)
    box = textbox(moderator, live_server, "Your reply")
    box.click()
    box.press_sequentially("Świetne pytanie, @ja")
    # The list answers the last keystroke (an earlier answer for "ja" is dropped).
    with moderator.expect_response(re.compile(r"/mentions\?q=jan$")):
        box.press("n")
    listbox = moderator.get_by_role("listbox")
    expect(listbox).to_be_visible()
    expect(listbox).to_have_class(re.compile(r"\bmention-list\b"))
    offered = mention_options_for(live_server, "jan")
    assert MEMBER_NAME in offered, offered
    options = listbox.get_by_role("option")
    expect(options).to_have_count(len(offered))
    expect(listbox.get_by_role("option", name=re.compile("^" + MEMBER_NAME))).to_be_visible()
    for _ in range(offered.index(MEMBER_NAME)):
        box.press("ArrowDown")
    expect(options.nth(offered.index(MEMBER_NAME))).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value(f"Świetne pytanie, @{MEMBER_HANDLE} ")
    box.press_sequentially("zajrzyj do materiałów sesji.")
    expect(box).to_have_value(f"Świetne pytanie, @{MEMBER_HANDLE} zajrzyj do materiałów sesji.")
    submit(moderator, button(moderator, live_server, "Post the reply"))
    expect(moderator).to_have_url(re.compile(r"#post-\d+$"))
    mention_post = posts(moderator).last
    expect(mention_post).to_contain_text(f"@{MEMBER_HANDLE} zajrzyj do materiałów sesji.")
    mention_id = post_id_of(mention_post)

    # The member sees it in the header, then on the notifications page.
    member = new_context().new_page()
    sign_in(member, live_server, MEMBER_EMAIL)
    notifications = member.get_by_role("banner").get_by_role(
        "link", name=re.compile("^" + re.escape(live_server.text(member, "Notifications"))))
    badge = notifications.locator(".count-badge")
    expect(badge).to_be_visible()
    count = re.match(r"\s*(\d+)", badge.inner_text())
    assert count and int(count.group(1)) == unread_before + 1 >= 1, badge.inner_text()

    notifications.click()
    expect(member).to_have_url(f"{live_server.url}/notifications")
    expect(heading(member)).to_have_text(live_server.text(member, "Notifications"))
    newest = member.locator(".notification-list > li").first
    said = live_server.text(member, "%(name)s mentioned you in “%(thread)s”",
                            name=MODERATOR_NAME, thread=TITLE)
    # Unread, it opens through a button (a POST marks it read; a GET would change nothing).
    expect(newest.get_by_role("button")).to_have_text(said)
    expect(newest).to_contain_text(live_server.text(member, "unread"))

    newest.get_by_role("button", name=said, exact=True).click()
    expect(member).to_have_url(re.compile(rf"/g/{GROUP}/t/{members_thread.id}\?page=1"
                                          rf"#post-{mention_id}$"))
    expect(post_item(member, mention_id)).to_be_in_viewport()
    expect(post_item(member, mention_id)).to_contain_text(f"@{MEMBER_HANDLE}")

    # Opened, it is read.
    member.goto("/notifications")
    expect(member.locator(".notification-list > li").first.locator(".badge-new")
           ).to_have_count(0)


# 4 -------------------------------------------------------------------------------------------


def test_search_finds_polish_words_typed_without_diacritics(page, live_server,
                                                           members_thread):
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(f"/g/{GROUP}/")
    page.get_by_text(live_server.text(page, "Filter and search"), exact=True).click()
    field = page.get_by_role("searchbox", name=live_server.text(page, "Search this group"),
                              exact=True)
    field.fill("zolte")
    submit(page, page.locator("form", has=field).get_by_role(
        "button", name=live_server.text(page, "Search"), exact=True))

    expect(page).to_have_url(re.compile(rf"/g/{GROUP}/search\?q=zolte$"))
    expect(heading(page)).to_have_text(
        live_server.text(page, "Search in %(group)s", group="Miasta"))
    results = page.locator("ol.search-hits > li")
    found = results.filter(has=page.get_by_role("link", name=TITLE, exact=True))
    expect(found).to_have_count(1)
    expect(found.locator(".snippet mark")).to_have_text(["Żółte"])
    expect(found.get_by_role("link", name=TITLE)).to_have_attribute(
        "href", re.compile(rf"/g/{GROUP}/p/{members_thread.first_post_id}$"))

    page.get_by_role("link", name=live_server.text(page, "Search in all my groups instead"),
                     exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/search?q=zolte")
    expect(heading(page)).to_have_text(live_server.text(page, "Search in all my groups"))
    found = page.locator("ol.search-hits > li").filter(
        has=page.get_by_role("link", name=TITLE, exact=True))
    expect(found).to_have_count(1)
    expect(found.locator(".snippet mark")).to_have_text(["Żółte"])
    expect(found.locator(".meta")).to_contain_text("Miasta")

    # The result leads to the post.
    found.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(rf"#post-{members_thread.first_post_id}$"))
    expect(heading(page)).to_have_text(TITLE)


# 5 -------------------------------------------------------------------------------------------


def test_replying_and_quoting_work_without_javascript(new_context, live_server, members_thread):
    moderators_reply = add_reply(live_server, MODERATOR_EMAIL, members_thread,
                                 "U nas przewoźnik gminny.\nBilety refunduje gmina.")
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(members_thread.path)
    expect(heading(page)).to_have_text(TITLE)

    plain = "Dziękuję, sprawdzę to u nas."
    textbox(page, live_server, "Your reply").fill(plain)
    submit(page, button(page, live_server, "Post the reply"))
    expect(page).to_have_url(re.compile(r"#post-\d+$"))
    expect(posts(page)).to_have_count(3)
    expect(posts(page).last).to_contain_text(plain)
    expect(posts(page).last.locator(".in-reply-to")).to_have_count(0)

    # Without JavaScript "Quote" is a button of the reply form: the page comes back with what
    # was typed kept and the quote below it.
    textbox(page, live_server, "Your reply").fill("Mam pytanie.")
    submit(page, post_item(page, moderators_reply).get_by_role("button", name=re.compile(
        "^" + re.escape(live_server.text(page, "Quote")) + " — ")))
    box = textbox(page, live_server, "Your reply")
    assert box.input_value().startswith(f"Mam pytanie.\n\n[{MODERATOR_NAME}](/g/{GROUP}/p/")
    box.fill(box.input_value().removeprefix("Mam pytanie.\n\n"))
    quoted = box.input_value()
    assert "> U nas przewoźnik gminny.\n> Bilety refunduje gmina." in quoted, quoted
    assert quoted.startswith(f"[{MODERATOR_NAME}](/g/{GROUP}/p/{moderators_reply}):"), quoted
    expect(page.locator("section#reply")).to_contain_text(
        live_server.text(page, "In reply to %(name)s", name=MODERATOR_NAME))

    box.fill(quoted + "A kto płaci za opiekuna w autobusie?")
    submit(page, button(page, live_server, "Post the reply"))
    expect(posts(page)).to_have_count(4)
    answer = posts(page).last
    expect(answer.locator("blockquote")).to_contain_text("Bilety refunduje gmina.")
    # The quote is headed by its author's name, a link to the quoted post.
    expect(answer.locator(".post-body a").first).to_have_attribute(
        "href", f"/g/{GROUP}/p/{moderators_reply}")
    expect(answer).to_contain_text("A kto płaci za opiekuna w autobusie?")
    expect(answer).not_to_contain_text("> U nas")
    expect(answer.locator(".in-reply-to")).to_have_text(
        live_server.text(page, "In reply to %(name)s", name=MODERATOR_NAME))


# 6 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        (MEMBER_EMAIL, f"/g/{GROUP}/"),
        (MEMBER_EMAIL, f"/g/{GROUP}/?session={LIVE_NUMBER}&unread=1"),
        (MEMBER_EMAIL, "{thread}"),
        (MODERATOR_EMAIL, "{thread}"),  # with the moderation controls
        (MEMBER_EMAIL, f"/g/{GROUP}/t/new?session={LIVE_NUMBER}"),
        (MEMBER_EMAIL, "/notifications"),
        (MEMBER_EMAIL, f"/g/{GROUP}/search?q=zolte+autobusy"),
        (MEMBER_EMAIL, "/search?q=zolte"),
        (MEMBER_EMAIL, "/search?q=nic-takiego-nie-ma"),
    ],
)
def test_discussion_pages_pass_axe(page, live_server, busy_thread, persona, path):
    sign_in(page, live_server, persona)
    expect(page.get_by_role("banner").locator("form[action$='/logout']")).to_have_count(1)
    path = path.format(thread=f"{busy_thread.path}?page=1")
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response)
    assert_accessible(page)


def test_thread_with_reactions_passes_axe_after_a_reaction_and_a_preview(page, live_server,
                                                                         busy_thread):
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(busy_thread.path + "?page=1")
    expect(posts(page)).to_have_count(3)
    expect(page.locator("button[aria-pressed=true]")).not_to_have_count(0)
    textbox(page, live_server, "Your reply").fill("**Podgląd** odpowiedzi")
    button(page, live_server, "Preview").click()
    expect(page.locator(".preview strong")).to_have_text("Podgląd")
    assert_accessible(page)


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844},
                                      {"width": 1366, "height": 800}])
def test_typed_text_survives_quote_reply_a_reload_and_asks_before_leaving(
        new_context, live_server, busy_thread, viewport):
    page = new_context(viewport=viewport).new_page()
    sign_in(page, live_server, MEMBER_EMAIL)
    # The server cannot be reached for drafts here (as offline): this browser keeps the text,
    # and leaving asks first because the server has not got it.
    page.route(re.compile(r"/draft$"), lambda route: route.abort())
    page.goto(busy_thread.path + "?page=1")
    page.evaluate("window.notReloaded = true")
    box = textbox(page, live_server, "Your reply")
    box.fill("Zgadzam się <script>alert(1)</script> z **przedmówcą**.")

    # Quote inserts below what was typed, without a reload, and sets the reply's target.
    quote = re.compile("^" + re.escape(live_server.text(page, "Quote")) + " — ")
    second = posts(page).nth(1)
    author = second.locator(".post-author").inner_text()
    second.get_by_role("button", name=quote).click()
    expect(box).to_have_value(re.compile(
        r"^Zgadzam się <script>alert\(1\)</script> z \*\*przedmówcą\*\*\.\n\n"
        + re.escape(f"[{author}](/g/{GROUP}/p/") + r"\d+\):\n> "))
    expect(box).to_be_focused()
    expect(page.locator("#reply-target")).to_contain_text(
        live_server.text(page, "In reply to %(name)s", name=author))
    assert page.evaluate("window.notReloaded") is True

    # Preview in place: rendered by the server's sanitiser (no script element).
    button(page, live_server, "Preview").click()
    expect(page.locator("#reply-preview strong").first).to_have_text("przedmówcą")
    expect(page.locator("#reply-preview script")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    assert_accessible(page)

    # Leaving asks first; staying keeps the text.
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name=live_server.text(page, "My groups")).first.click(
        no_wait_after=True)
    for _attempt in range(50):  # the dialog comes when the navigation starts
        if dialogs:
            break
        page.wait_for_timeout(100)
    assert dialogs == ["beforeunload"]
    expect(box).to_have_value(re.compile("^Zgadzam się"))

    # A reload (or coming back later in this browser) puts the text back.
    typed = box.input_value()
    page.once("dialog", lambda dialog: dialog.accept())
    page.reload()
    expect(textbox(page, live_server, "Your reply")).to_have_value(typed)


def _leaving_asks(page, live_server) -> bool:
    """Whether following the header's "My groups" link asks before leaving (the dialog is
    dismissed: the page stays)."""
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name=live_server.text(page, "My groups")).first.click(
        no_wait_after=True)
    for _attempt in range(30):
        if dialogs:
            break
        page.wait_for_timeout(100)
    return dialogs == ["beforeunload"]


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844},
                                      {"width": 1366, "height": 800}])
def test_a_reply_draft_is_saved_on_the_server_and_follows_to_another_device(
        new_context, live_server, busy_thread, viewport):
    page = new_context(viewport=viewport).new_page()
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(busy_thread.path + "?page=1")
    page.evaluate("window.notReloaded = true")
    box = textbox(page, live_server, "Your reply")
    status = page.locator("#draft-status")
    expect(status).to_be_hidden()
    box.fill("Szkic z laptopa: **ważne**.")
    # Quote keeps the text and inserts the quote without a reload; a moment after typing
    # stops, the server has the draft and says so.
    second = posts(page).nth(1)
    author = second.locator(".post-author").inner_text()
    with page.expect_response(re.compile(r"/draft$")) as saved:
        second.get_by_role("button", name=re.compile(
            "^" + re.escape(live_server.text(page, "Quote")) + " — ")).click()
    assert saved.value.ok
    typed = box.input_value()
    assert typed.startswith("Szkic z laptopa: **ważne**.\n\n" + f"[{author}]"), typed
    expect(status).to_be_visible()
    expect(status.locator("[data-draft-note]")).to_have_text(re.compile(
        "^" + re.escape(live_server.text(page, "Draft saved %(when)s", when="").strip())
        + r"\s*\S"))
    assert page.evaluate("window.notReloaded") is True
    assert_accessible(page)
    # Saved on the server: leaving does not ask.
    assert not _leaving_asks(page, live_server)
    expect(page).to_have_url(f"{live_server.url}/")

    # Another device (nothing kept in its browser): the draft is in the editor, with the
    # reply's target and the note.
    phone = new_context(viewport=viewport).new_page()
    sign_in(phone, live_server, MEMBER_EMAIL)
    phone.goto(busy_thread.path + "?page=1")
    phone_box = textbox(phone, live_server, "Your reply")
    expect(phone_box).to_have_value(typed)
    expect(phone.locator("#reply-target")).to_contain_text(
        live_server.text(phone, "In reply to %(name)s", name=author))
    expect(phone.locator("#draft-status")).to_be_visible()
    assert_accessible(phone)

    # "Discard draft" asks first, then empties the editor in place; a reload finds nothing.
    phone.evaluate("window.notReloaded = true")
    phone.locator("#draft-status summary").click()
    with phone.expect_response(re.compile(r"/draft/discard")):
        button(phone, live_server, "Yes, discard the draft").click()
    expect(phone_box).to_have_value("")
    expect(phone.locator("#draft-status [data-draft-note]")).to_have_text(
        live_server.text(phone, "The draft is discarded."))
    expect(phone.locator("#reply-target")).to_be_hidden()
    assert phone.evaluate("window.notReloaded") is True
    assert_accessible(phone)
    phone.reload()
    expect(textbox(phone, live_server, "Your reply")).to_have_value("")
    expect(phone.locator("#draft-status")).to_be_hidden()
    # The first device's copy reached the server and is gone from it: not put back either.
    page.goto(busy_thread.path + "?page=1")
    expect(textbox(page, live_server, "Your reply")).to_have_value("")


def test_a_new_thread_draft_follows_to_another_device_and_goes_when_sent(
        new_context, live_server, threads_removed_afterwards):
    page = new_context(viewport={"width": 1366, "height": 800}).new_page()
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(f"/g/{GROUP}/t/new")
    textbox(page, live_server, "Title").fill("Szkic wątku")
    with page.expect_response(re.compile(r"/t/new/draft$")):
        textbox(page, live_server, "First post").fill("Treść *szkicu*")
    expect(page.locator("#draft-status")).to_be_visible()

    phone = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, live_server, MEMBER_EMAIL)
    phone.goto(f"/g/{GROUP}/t/new")
    expect(textbox(phone, live_server, "Title")).to_have_value("Szkic wątku")
    expect(textbox(phone, live_server, "First post")).to_have_value("Treść *szkicu*")
    expect(phone.locator("#draft-status")).to_be_visible()
    assert_accessible(phone)
    submit(phone, button(phone, live_server, "Start the thread"))
    expect(heading(phone)).to_have_text("Szkic wątku")
    # Sent: the draft is gone everywhere.
    page.reload()
    expect(textbox(page, live_server, "Title")).to_have_value("")
    expect(textbox(page, live_server, "First post")).to_have_value("")


def test_open_mention_list_passes_axe(page, live_server, busy_thread):
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(busy_thread.path + "?page=1")
    box = textbox(page, live_server, "Your reply")
    box.click()
    box.press_sequentially("Pytanie do @m")
    with page.expect_response(re.compile(r"/mentions\?q=ma$")):
        box.press("a")
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option", name=re.compile("^" + MODERATOR_NAME))).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        (MEMBER_EMAIL, "{thread}"),
        (MODERATOR_EMAIL, "{thread}"),  # with the moderation controls
        (MEMBER_EMAIL, f"/g/{GROUP}/"),
        (MEMBER_EMAIL, "/notifications"),
        (MEMBER_EMAIL, f"/g/{GROUP}/search?q=zolte"),
    ],
)
def test_discussion_pages_fit_a_phone_screen(new_context, live_server, busy_thread, persona,
                                             path):
    phone = new_context(viewport={"width": 375, "height": 740}).new_page()
    sign_in(phone, live_server, persona)
    path = path.format(thread=f"{busy_thread.path}?page=1")
    response = phone.goto(path)
    assert response is not None and response.status == 200, (path, response)
    if path.startswith(busy_thread.path):
        expect(heading(phone)).to_have_text(TITLE)
        expect(posts(phone)).to_have_count(3)
    width = phone.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 375, f"{path} scrolls sideways on a phone ({width}px > 375px)"
