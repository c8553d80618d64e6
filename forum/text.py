"""Markdown → sanitised HTML: the one place where user text becomes HTML.

Markdown is rendered by markdown-it-py with raw HTML switched off, then bleach keeps only a
small allow-list of tags and attributes. Links keep only http, https and mailto and get
rel="nofollow noopener"; images are not allowed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import bleach
from bleach.linkifier import Linker
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "ol": ["start"], "th": ["align"],
                      "td": ["align"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    # Headings inside user text start at h3: the page owns h1 and h2.
    md.add_render_rule("heading_open", _shift_heading)
    md.add_render_rule("heading_close", _shift_heading)
    return md


def _shift_heading(self, tokens, idx, options, env):
    token = tokens[idx]
    level = min(int(token.tag[1]) + 2, 6)
    return f"<h{level}>" if token.nesting == 1 else f"</h{level}>\n"


def _link_attributes(attrs, new=False):
    href = attrs.get((None, "href"), "")
    if not href.startswith(("http:", "https:", "mailto:")):
        # Relative links stay (they point inside the forum); anything else was removed already.
        if not href.startswith("/"):
            return None
    attrs[(None, "rel")] = "nofollow noopener"
    return attrs


_cleaner = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                          protocols=ALLOWED_PROTOCOLS, strip=True)
_linker = Linker(callbacks=[_link_attributes], skip_tags={"pre", "code"})


def render_markdown(source: str) -> str:
    """Sanitised HTML for a Markdown source; safe to mark as safe in templates."""
    if not source or not source.strip():
        return ""
    return _linker.linkify(_cleaner.clean(_markdown().render(source)))


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
    (re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)"), r"\1"),  # links and images: their text
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
