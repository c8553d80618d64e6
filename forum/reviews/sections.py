"""Numbered sections from the headings of a file: Markdown/plain text (lines starting with #),
DOCX (paragraphs in a Heading style, python-docx) and ODT (text:h elements of content.xml).
PDF and other kinds give no sections: the moderator enters them by hand (the same Markdown
headings in a text box). Bounded: at most MAX_SECTIONS sections and MAX_TEXT characters each."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from typing import NamedTuple
from xml.etree import ElementTree

log = logging.getLogger(__name__)

MAX_SECTIONS = 200
MAX_TEXT = 20_000
MAX_FILE_BYTES = 30 * 1024 * 1024
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TEXT_SUFFIXES = (".md", ".markdown", ".txt")
AUTOMATIC_FORMATS = ("Markdown", "DOCX", "ODT")


class Section(NamedTuple):
    heading: str
    text: str


def _collect(blocks) -> list[Section]:
    """(is_heading, text) blocks → sections; text before the first heading (a title page)
    is left out."""
    sections: list[list] = []
    for is_heading, text in blocks:
        text = text.strip()
        if is_heading and text:
            if len(sections) >= MAX_SECTIONS:
                break
            sections.append([text[:300], []])
        elif sections and text:
            sections[-1][1].append(text)
    return [Section(heading, "\n\n".join(parts)[:MAX_TEXT]) for heading, parts in sections]


def from_markdown(source: str) -> list[Section]:
    blocks = []
    paragraph: list[str] = []
    for line in source.splitlines():
        match = _HEADING.match(line)
        if match:
            blocks.append((False, "\n".join(paragraph)))
            paragraph = []
            blocks.append((True, match.group(1)))
        else:
            paragraph.append(line)
    blocks.append((False, "\n".join(paragraph)))
    return _collect(blocks)


def from_docx(data: bytes) -> list[Section]:
    import docx

    document = docx.Document(io.BytesIO(data))
    blocks = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name or "") if paragraph.style is not None else ""
        heading = style.startswith("Heading")
        blocks.append((heading, paragraph.text))
    return _collect(blocks)


def from_odt(data: bytes) -> list[Section]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("content.xml")
        if info.file_size > MAX_FILE_BYTES:
            return []
        root = ElementTree.fromstring(archive.read(info))
    blocks = []
    for element in root.iter():
        if element.tag == f"{{{_TEXT_NS}}}h":
            blocks.append((True, "".join(element.itertext())))
        elif element.tag == f"{{{_TEXT_NS}}}p":
            blocks.append((False, "".join(element.itertext())))
    return _collect(blocks)


def from_file(name: str, data: bytes) -> list[Section]:
    """The sections of an uploaded file, or [] when none can be found (any failure)."""
    lower = name.lower()
    if len(data) > MAX_FILE_BYTES:
        return []
    try:
        if lower.endswith(TEXT_SUFFIXES):
            return from_markdown(data.decode("utf-8", errors="replace"))
        if lower.endswith(".docx"):
            return from_docx(data)
        if lower.endswith(".odt"):
            return from_odt(data)
    except Exception:  # a damaged file: the manual path
        log.warning("reviews: no sections read from %s", name, exc_info=True)
    return []
