"""Hostile Markdown and HTML: nothing that can run script or restyle the page survives."""

import re

import pytest

from forum.text import fold, render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    "<a href=javascript:alert(1)>x</a>",
    "<a href='jav&#x09;ascript:alert(1)'>x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1)\">x</a>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](java\\nscript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "![x](javascript:alert(1))",
    "![x](https://evil.example/track.png)",
    "![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
    "<div style=\"position:fixed;top:0;left:0;width:100%;height:100%\">x</div>",
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "<style>body{display:none}</style>",
    "<link rel=stylesheet href=//evil.example/x.css>",
    "<meta http-equiv=refresh content='0;url=//evil.example'>",
    "<base href=//evil.example/>",
    "<form action=//evil.example><input name=password></form>",
    "<button formaction=javascript:alert(1)>x</button>",
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">ok</a>",
    "<a href=\"https://ok.example\" onmouseover=alert(1)>ok</a>",
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<template><script>alert(1)</script></template>",
    "[a](https://ok.example \"title\" onclick=alert(1))",
    "<http://evil.example/\" onclick=\"alert(1)>",
    "www.example.org/\"onmouseover=\"alert(1)",
    "<table><tr><td background=javascript:alert(1)>x</td></tr></table>",
    "<xss style=\"behavior:url(x.htc)\">",
    "<a href=\"//evil.example\">protocol-relative</a>",
    "[another site](//evil.example/a)",
    "[another site](/\\evil.example/a)",
    "[another site](  //evil.example/a  )",
]

FORBIDDEN_TAGS = re.compile(
    r"<\s*/?\s*(script|style|iframe|object|embed|svg|math|img|form|input|button|meta|link|"
    r"base|body|template|noscript|details|xss)\b", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son\w+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
# Inside a real tag (escaped text such as "&lt;a href=javascript:" is harmless).
BAD_URL = re.compile(r"<[^>]*\b(href|src|action|formaction|background|data)\s*=\s*[\"']?\s*"
                     r"(javascript|data|vbscript|file):", re.IGNORECASE)


def test_the_corpus_is_large_enough():
    assert len(HOSTILE) >= 40


@pytest.mark.parametrize("source", HOSTILE)
def test_nothing_hostile_survives(source):
    html = render_markdown(source)
    assert not FORBIDDEN_TAGS.search(html), html
    assert not EVENT_HANDLER.search(html), html
    assert not STYLE_ATTRIBUTE.search(html), html
    assert not BAD_URL.search(html), html
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("http://", "https://", "mailto:", "/")), html
        assert not href.startswith(("//", "/\\")), html


def test_links_are_marked_nofollow():
    html = render_markdown("[Urząd](https://lublin.eu) i https://gov.pl")
    assert html.count('rel="nofollow noopener"') == 2


def test_ordinary_markdown_still_works():
    html = render_markdown("# Tytuł\n\n**Gruby** i *pochyły*\n\n- a\n- b\n\n> cytat\n\n`kod`")
    for fragment in ("<h3>Tytuł</h3>", "<strong>Gruby</strong>", "<em>pochyły</em>",
                     "<li>a</li>", "<blockquote>", "<code>kod</code>"):
        assert fragment in html


def test_folding_for_search():
    assert fold("Żółć, ŁÓDŹ i Penedès") == "zolc, lodz i penedes"


LINKS = {"jan.kowalski": "/g/gminy/members#member-7"}


def test_mentions_of_named_handles_become_links_and_nothing_else_does():
    html = render_markdown("Pytanie do @jan.kowalski. i @Jan.Kowalski, nie do @ktos.inny", LINKS)
    assert html.count('<a href="/g/gminy/members#member-7" class="mention" '
                      'rel="nofollow noopener">') == 2
    assert ">@jan.kowalski</a>." in html and ">@Jan.Kowalski</a>," in html
    assert "@ktos.inny" in html and html.count("<a ") == 2
    # Not in code, not in an e-mail address, not inside a link's text, not without the map.
    html = render_markdown("`@jan.kowalski` a.b@jan.kowalski [@jan.kowalski](https://x.pl)\n\n"
                           "```\n@jan.kowalski\n```", LINKS)
    assert 'class="mention"' not in html
    assert 'class="mention"' not in render_markdown("@jan.kowalski")


def test_a_class_attribute_is_kept_only_for_mentions():
    # Markdown cannot write a class, and a class other than "mention" never survives cleaning.
    from forum.text import _cleaner

    assert _cleaner.clean('<a class="evil" href="/x">x</a>') == \
        '<a href="/x" rel="nofollow noopener">x</a>'
    assert 'class="' not in render_markdown('[x](/x "t"){.evil} <a class="mention">y</a>')


def test_initials_for_avatars():
    from forum.text import initials

    assert initials("Ewa Zielińska-Nowak") == "EN"
    assert initials("łucja żółkiewska") == "ŁŻ"
    assert initials("Jan") == "J"
    assert initials("") == "?" and initials("  - ") == "?"


def test_code_spans_and_blocks_show_their_text_literally():
    """`a && b` reads "a && b", not "a &amp;&amp; b" (issue 19: escaped twice)."""
    html = render_markdown("`a && b < c` and a && b\n\n```\nif (x < 1 && y) {}\n```")
    assert "<code>a &amp;&amp; b &lt; c</code>" in html
    assert "<pre><code>if (x &lt; 1 &amp;&amp; y) {}\n</code></pre>" in html
    assert "&amp;amp;" not in html and "&amp;lt;" not in html
    # Addresses still become links outside code, and stay text inside it.
    html = render_markdown("see http://example.org/?a=1&b=2 and `http://example.org/x`")
    assert '<a href="http://example.org/?a=1&amp;b=2" rel="nofollow noopener">' in html
    assert "<code>http://example.org/x</code>" in html
