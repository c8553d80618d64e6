"""Markdown → sanitised HTML: the one place where user text becomes HTML.

Markdown is rendered by markdown-it-py with raw HTML switched off, then bleach keeps only a
small allow-list of tags and attributes. Links keep only http, https and mailto and get
rel="nofollow noopener"; images are not allowed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
})
def _link_attribute(tag: str, name: str, value: str) -> bool:
    # class="mention" comes only from the mention rule below (Markdown cannot set a class).
    return name in ("href", "title", "rel") or (name == "class" and value == "mention")


ALLOWED_ATTRIBUTES = {"a": _link_attribute, "ol": ["start"], "th": ["align"],
                      "td": ["align"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    # Headings inside user text start at h3: the page owns h1 and h2.
    md.add_render_rule("heading_open", _shift_heading)
    md.add_render_rule("heading_close", _shift_heading)
    md.inline.ruler.before("emphasis", "mention", _mention)
    return md


_HANDLE = re.compile(r"@([a-z0-9][a-z0-9._-]*[a-z0-9]|[a-z0-9])", re.IGNORECASE)


def _mention(state, silent: bool) -> bool:
    """@handle → a link, for the handles the caller names in env["mention_links"] (members of
    the group; any other @word stays text). Not inside code (code spans are parsed first) nor
    inside a link's text."""
    links = state.env.get("mention_links") if isinstance(state.env, dict) else None
    pos = state.pos
    if not links or state.src[pos] != "@" or state.linkLevel > 0:
        return False
    if pos > 0 and (state.src[pos - 1].isalnum() or state.src[pos - 1] in "_@/."):
        return False  # an e-mail address or a path, not a mention
    match = _HANDLE.match(state.src, pos)
    url = links.get(match.group(1).lower()) if match else None
    if url is None:
        return False
    if not silent:
        state.push("link_open", "a", 1).attrs = {"href": url, "class": "mention"}
        state.push("text", "", 0).content = match.group(0)
        state.push("link_close", "a", -1)
    state.pos = match.end()
    return True


def _shift_heading(self, tokens, idx, options, env):
    token = tokens[idx]
    level = min(int(token.tag[1]) + 2, 6)
    return f"<h{level}>" if token.nesting == 1 else f"</h{level}>\n"


def _link_attributes(attrs, new=False):
    href = attrs.get((None, "href"), "")
    if not href.startswith(("http:", "https:", "mailto:")):
        # Paths stay (they point inside the forum); anything else was removed already. "//x"
        # and "/\\x" are not paths: browsers read them as another site's address.
        if not href.startswith("/") or href.startswith(("//", "/\\")):
            return None
    attrs[(None, "rel")] = "nofollow noopener"
    return attrs


# Bare addresses become links in the same pass that sanitises (a filter of the cleaner): a
# second parse by bleach's Linker re-escaped the text of code, showing `a && b` as
# "a &amp;&amp; b" (issue 19).
_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS, strip=True,
    filters=[partial(LinkifyFilter, callbacks=[_link_attributes], skip_tags={"pre", "code"})])


def render_markdown(source: str, mention_links: dict[str, str] | None = None) -> str:
    """Sanitised HTML for a Markdown source; safe to mark as safe in templates.
    `mention_links`: @handle → the address its mentions link to."""
    if not source or not source.strip():
        return ""
    html = _markdown().render(source, {"mention_links": mention_links} if mention_links else {})
    return _cleaner.clean(html)


def initials(name: str) -> str:
    """Up to two letters for an avatar: the first letters of the first and the last word
    ("Ewa Zielińska-Nowak" → "EZ"); "?" for no name."""
    words = [w for w in re.split(r"[\s\-]+", name or "") if w[:1].isalpha()]
    if not words:
        return "?"
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


AVATAR_COLOURS = 8  # static/css/forum.css: .avatar-0 … .avatar-7


# Letters that Unicode does not decompose into a base letter and a mark.
_FOLD_EXTRA = str.maketrans({"ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ø": "o", "Ø": "o",
                             "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe"})


def fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char.translate(_FOLD_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def fold(text: str) -> str:
    """Lower-case text without diacritics: "Łódź" → "lodz", so searches match either way."""
    return "".join(fold_char(c) for c in text)


# --- Markdown as plain text (excerpts) ---------------------------------------------------------

_MARKDOWN = [
    (re.compile(r"^[ \t]*(?:`{3,}|~{3,}).*$", re.M), ""),  # code fences
    # Links and images: their text. Neither part may contain its own opening bracket, so a
    # failed attempt stops at the next "[" or "(" and the scan stays linear on adversarial
    # text (a run of 20,000 "[" took seconds with "[^\]]*", issue 19).
    (re.compile(r"!?\[([^\[\]\n]*)\]\([^()\n]*\)"), r"\1"),
    (re.compile(r"^[ \t]{0,3}(?:#{1,6}|(?:>[ \t]*)+|[-*+]|\d{1,9}[.)])[ \t]+", re.M), ""),
    (re.compile(r"[*`~]+|(?<![^\W_])_+|_+(?![^\W_])"), ""),  # emphasis, code, strikethrough
    (re.compile(r"\s+"), " "),
]


def plain_text(markdown: str, limit: int = 20_000) -> str:
    """The first `limit` characters of Markdown source as one line of text, roughly (the
    markup characters dropped): for excerpts."""
    text = markdown[:limit]
    for pattern, replacement in _MARKDOWN:
        text = pattern.sub(replacement, text)
    return text.strip()


# --- characters that cannot be stored or shown safely -----------------------------------------

# NUL cannot be stored in PostgreSQL text; a lone surrogate (from a JSON "\ud800") cannot be
# encoded at all. Either one in user text is refused with a clear message (issue 18).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Direction controls (they reverse what follows: "‮gpj.exe") and characters that show nothing.
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = _BIDI_CONTROLS + ("\u00ad\u034f\u115f\u1160\u180e\u200b\u200c\u200d\u2060"
                               "\u2061\u2062\u2063\u2064\u3164\ufeff\uffa0")
_NOTHING = str.maketrans("", "", _INVISIBLE)


def unstorable(text: str) -> bool:
    """Does the text hold a character no database can keep (NUL, a lone surrogate)?"""
    return bool(_UNSTORABLE.search(text))


def name_problem(name: str) -> str | None:
    """Why a person's, organisation's or group's name cannot be used, or None:
    "unstorable", "direction" (it holds text-direction controls) or "invisible" (nothing
    visible once invisible characters are taken out)."""
    if unstorable(name):
        return "unstorable"
    if any(c in _BIDI_CONTROLS for c in name):
        return "direction"
    if not name.translate(_NOTHING).strip():
        return "invisible"
    return None
