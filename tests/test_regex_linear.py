"""Every regular expression in forum/ stays linear on hostile text (issue 19: three posts of
20,000 "[" froze the server for 6 s through the excerpt's link pattern).

The patterns are found in the source itself, so a new one is checked without anyone listing
it. Each meets 20,000-character runs built from the characters it names (one character
repeated, two alternating, with a tail that makes a match fail late): the shapes that make a
backtracking engine go quadratic. Linear work on 20,000 characters takes a millisecond or
two; the bound below is a hundred times that, while the old link pattern took seconds.
"""

from __future__ import annotations

import ast
import itertools
import re
import time
from pathlib import Path

import pytest

from forum.text import plain_text, render_markdown

FORUM = Path(__file__).resolve().parent.parent / "forum"
LENGTH = 20_000
BOUND_SECONDS = 0.25
RE_FUNCTIONS = {"compile", "search", "match", "fullmatch", "sub", "subn", "findall",
                "finditer", "split"}
# What a class stands for, as a character that belongs to it.
CLASS_SAMPLES = {"d": "7", "w": "a", "s": " ", "W": "!", "D": "x", "S": "x", "b": ""}
ALWAYS = "a7 \n_.-@[](`!#>*"


def _patterns() -> list[tuple[str, str, int]]:
    """(where, pattern, flags) for each literal pattern given to the re module in forum/."""
    found = []
    for path in sorted(FORUM.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                    and node.func.attr in RE_FUNCTIONS and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                continue
            flags = 0
            for argument in [*node.args[1:], *(k.value for k in node.keywords)]:
                for name in re.findall(r"re\.([A-Z]+)", ast.unparse(argument)):
                    flags |= getattr(re, name)
            where = f"{path.relative_to(FORUM.parent)}:{node.lineno}"
            found.append((where, node.args[0].value, flags))
    return found


def _alphabet(pattern: str) -> str:
    chars = set(ALWAYS)
    for escape, sample in CLASS_SAMPLES.items():
        if "\\" + escape in pattern:
            chars.add(sample)
    chars.update(c for c in pattern if c.isprintable())
    return "".join(sorted(c for c in chars if c))


def _hostile_texts(pattern: str):
    alphabet = _alphabet(pattern)
    for char in alphabet:
        for tail in ("", "!", "\n", "a"):
            yield char * LENGTH + tail
    for first, second in itertools.combinations(alphabet, 2):
        yield (first + second) * (LENGTH // 2)
        yield (first + second + second) * (LENGTH // 3)


PATTERNS = _patterns()


def test_the_source_scan_finds_the_patterns():
    wheres = {where.split(":")[0] for where, _, _ in PATTERNS}
    assert {"forum/text.py", "forum/notifications/mentions.py"} <= wheres
    assert len(PATTERNS) >= 20


def _slowest(compiled: re.Pattern, texts) -> tuple[float, str]:
    worst, worst_text = 0.0, ""
    for text in texts:
        started = time.perf_counter()
        for _ in compiled.finditer(text):  # every start position, as sub() and findall() scan
            pass
        took = time.perf_counter() - started
        if took > worst:
            worst, worst_text = took, text
    return worst, worst_text


@pytest.mark.parametrize("where,pattern,flags", PATTERNS, ids=[p[0] for p in PATTERNS])
def test_each_pattern_is_linear_on_hostile_text(where, pattern, flags):
    compiled = re.compile(pattern, flags)
    took, text = _slowest(compiled, _hostile_texts(pattern))
    if took > BOUND_SECONDS:  # once more, in case the machine was busy
        took, text = _slowest(compiled, [text])
    assert took <= BOUND_SECONDS, (where, pattern, repr(text[:12]), took)


HOSTILE_POSTS = ["[" * LENGTH + " word", "[a](" * (LENGTH // 4), "![" * (LENGTH // 2),
                 "@" * LENGTH, "@a." * (LENGTH // 3), "`" * LENGTH, "```\n" * (LENGTH // 4),
                 "<" * LENGTH, "http://" + "a." * (LENGTH // 2), "*_" * (LENGTH // 2),
                 "> " * (LENGTH // 2), "&" * LENGTH, "[a]: " * (LENGTH // 5),
                 "www." * (LENGTH // 4), "a@b." * (LENGTH // 4)]


@pytest.mark.parametrize("text", HOSTILE_POSTS, ids=[repr(t[:6]) for t in HOSTILE_POSTS])
def test_rendering_and_excerpts_of_hostile_posts_are_bounded(text):
    """The whole pipeline a post goes through on every view (Markdown, the sanitiser, the
    linker, the excerpt) does a bounded amount of work on each shape."""
    started = time.perf_counter()
    plain_text(text)
    render_markdown(text, {"a": "/u/a"})
    took = time.perf_counter() - started
    assert took < 2.0, took
