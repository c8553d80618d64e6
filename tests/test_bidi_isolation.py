"""Right-to-left text and bidi controls in names and titles stay where they are (issue 18, item 11).

A person's name, a group's name or a thread's title may hold Arabic or Hebrew letters, or a
U+202E RIGHT-TO-LEFT OVERRIDE that would turn the rest of the line around. The pages keep such
text to itself: it is inside `<bdi>` or an element with `dir="auto"` (both isolate it, HTML
§ 4.5.24 and § 3.2.6.4), or it is the whole text of a block of its own (a heading, a table cell),
which ends every embedding. These tests read the served HTML and check every place where the text
is laid out (not <title>, options, attributes or text for screen readers only).
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from forum.extensions import db
from tests import factories

RLO = "\u202e"
ARABIC = "\u0639\u0644\u064a"  # علي
HEBREW = "\u05e9\u05dc\u05d5\u05dd"  # שלום
PERSON = f"Ala {RLO}{ARABIC} Nowak"
GROUP = f"Miasta {HEBREW} {RLO}testowe"
TITLE = f"Dowozy {RLO}{HEBREW} uczniów"
ORGANISATION = f"Gmina {ARABIC} {RLO}Lipowa"
BODY = f"{HEBREW} {ARABIC} — odpowiedź"

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
BLOCKS = {"address", "article", "aside", "blockquote", "caption", "dd", "div", "dt", "footer",
          "h1", "h2", "h3", "h4", "h5", "h6", "header", "legend", "li", "main", "nav", "ol", "p",
          "pre", "section", "td", "th", "ul"}
NOT_LAID_OUT = {"title", "option", "script", "style", "template", "textarea"}


class _Node:
    def __init__(self, tag: str, attrs: dict, parent: _Node | None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def ancestors(self):
        node = self
        while node is not None:
            yield node
            node = node.parent


class _Tree(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = self.current = _Node("#root", {}, None)
        self.texts: list[tuple[str, _Node]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        for node in self.current.ancestors():
            if node.tag == tag:
                self.current = node.parent
                return

    def handle_data(self, data):
        self.current.children.append(data)
        self.texts.append((data, self.current))


def _placements(html: str, needle: str) -> list[tuple[str, _Node]]:
    """Where `needle` is laid out on the page: (how it is kept to itself, its element)."""
    found = []
    for data, parent in _Tree(html).texts:
        if needle not in data:
            continue
        chain = list(parent.ancestors())
        if any(n.tag in NOT_LAID_OUT or "visually-hidden" in (n.attrs.get("class") or "")
               for n in chain):
            continue
        if any(n.tag == "bdi" or n.attrs.get("dir") == "auto" for n in chain):
            found.append(("isolated", parent))
            continue
        block = next((n for n in chain if n.tag in BLOCKS), None)
        if block is not None and block.text().strip() == needle:
            found.append(("own block", parent))
        else:
            found.append(("loose", parent))
    return found


def assert_kept_apart(html: str, needle: str, *, isolated_at_least: int = 1) -> None:
    placements = _placements(html, needle)
    assert placements, f"{needle!r} is not on the page"
    loose = [node.tag + repr(node.attrs) for how, node in placements if how == "loose"]
    assert not loose, f"{needle!r} not isolated in: {loose}"
    isolated = sum(1 for how, _ in placements if how == "isolated")
    assert isolated >= isolated_at_least, placements


@pytest.fixture
def hostile(app, personas):
    """A member with a right-to-left name and organisation, in a group with a Hebrew name, who
    started a thread with an override in its title, replied with Hebrew and Arabic, and chatted.
    Names and titles are written straight to the database: this is about showing them."""
    with app.app_context():
        group = factories.group(personas.g1.id)
        group.name = GROUP
        group.description = f"{HEBREW} — opis grupy"
        organisation = factories.make_organisation(name=ORGANISATION)
        person = factories.make_user(email="ala@example.org", name=PERSON,
                                     organisation=organisation)
        factories.add_member(person, group)
        thread = factories.make_thread(person, group)
        thread.title = TITLE
        db.session.commit()
        thanks = factories.make_post(factories.user(personas.member.id), thread, "Dziękuję")
        factories.make_post(person, thread, BODY, reply_to_id=thanks.id)  # notifies the member
        factories.add_messages(group.id, person.id, 2, prefix=f"{HEBREW} ")
        return {"thread_id": thread.id, "slug": group.slug}


def test_the_thread_page_keeps_names_and_the_title_apart(hostile, personas, login_as):
    address = f"/g/{hostile['slug']}/t/{hostile['thread_id']}"
    page = login_as(personas.member).get(address, follow_redirects=True).get_data(as_text=True)
    assert_kept_apart(page, PERSON, isolated_at_least=2)  # the author of both posts
    assert_kept_apart(page, ORGANISATION, isolated_at_least=2)
    assert_kept_apart(page, TITLE, isolated_at_least=0)  # the heading: a block of its own
    assert_kept_apart(page, GROUP)  # the breadcrumb
    assert f'-author" dir="auto">{PERSON}</span>' in page
    assert BODY in page and 'class="prose post-body" dir="auto"' in page


def test_the_thread_list_and_group_page_keep_them_apart(hostile, personas, login_as):
    page = login_as(personas.member).get(f"/g/{hostile['slug']}/").get_data(as_text=True)
    assert_kept_apart(page, TITLE)  # the link in the thread list
    assert f'dir="auto">{TITLE}</a>' in page
    assert_kept_apart(page, PERSON)  # who started it, who wrote last
    assert f"<bdi>{PERSON}</bdi>" in page
    assert_kept_apart(page, GROUP, isolated_at_least=0)  # the page heading
    assert_kept_apart(page, "opis grupy")  # the description: dir="auto"


def test_the_dashboard_keeps_group_names_apart(hostile, personas, login_as):
    page = login_as(personas.member).get("/").get_data(as_text=True)
    assert_kept_apart(page, GROUP)


def test_the_member_list_keeps_names_apart(hostile, personas, login_as):
    page = login_as(personas.member).get(f"/g/{hostile['slug']}/members").get_data(as_text=True)
    assert_kept_apart(page, PERSON, isolated_at_least=0)  # its own table cell
    assert_kept_apart(page, ORGANISATION, isolated_at_least=0)
    assert_kept_apart(page, GROUP, isolated_at_least=0)


def test_the_chat_page_keeps_names_and_messages_apart(hostile, personas, login_as):
    page = login_as(personas.moderator).get(f"/g/{hostile['slug']}/chat").get_data(as_text=True)
    assert_kept_apart(page, PERSON, isolated_at_least=2)  # two messages (and "Mute … for")
    assert f'<span class="chat-author" dir="auto">{PERSON}</span>' in page
    assert_kept_apart(page, ORGANISATION)
    assert '<div class="prose chat-body" dir="auto">' in page
    assert_kept_apart(page, f"{HEBREW} 0")
    # The script's template for new messages isolates them the same way.
    assert '<span class="chat-author" dir="auto"></span>' in page
    assert '<div class="prose chat-body" dir="auto"></div>' in page


def test_notifications_keep_the_name_and_the_title_apart(hostile, personas, login_as):
    page = login_as(personas.member).get("/notifications").get_data(as_text=True)
    assert_kept_apart(page, PERSON)  # "… replied in “…”"
    assert_kept_apart(page, TITLE)
    assert f"<bdi>{PERSON}</bdi>" in page


def test_the_checker_sees_text_that_is_not_kept_apart():
    loose = f"<p>Napisał(a) {PERSON} wczoraj</p>"
    with pytest.raises(AssertionError, match="not isolated"):
        assert_kept_apart(loose, PERSON)
    assert_kept_apart(f"<p>Napisał(a) <bdi>{PERSON}</bdi> wczoraj</p>", PERSON)
    assert_kept_apart(f"<p>Napisał(a) <a dir=\"auto\">{PERSON}</a> wczoraj</p>", PERSON)
    assert_kept_apart(f"<h1>{PERSON}</h1><title>{PERSON}</title>", PERSON, isolated_at_least=0)
