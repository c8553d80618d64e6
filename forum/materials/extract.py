"""The text of an uploaded PDF, ODT or DOCX file, so that search finds what is inside it.

Read once, when the file is uploaded, from the local copy that was just checked
(filetypes.sniff): PDF with pypdf, DOCX with python-docx, ODT from its content.xml (a zip
of XML: the standard library reads it). Bounded: files over MAX_FILE_BYTES are not read, at
most MAX_PAGES pages of a PDF, at most MAX_CHARS characters, and reading stops after
TIME_LIMIT_SECONDS (checked between pages and paragraphs). Any failure is logged and gives
an empty text: the upload itself never fails because of it.
"""

from __future__ import annotations

import logging
import os
import time
import zipfile
from xml.etree import ElementTree

from forum.materials.filetypes import DOCX, ODT, PDF, FileKind

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 30 * 1024 * 1024
MAX_PAGES = 300
MAX_CHARS = 100_000
MAX_XML_BYTES = 20 * 1024 * 1024  # content.xml of an ODT, unpacked
TIME_LIMIT_SECONDS = 10.0

_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_ODT_BLOCKS = {f"{{{_TEXT_NS}}}p", f"{{{_TEXT_NS}}}h"}


class _Budget:
    def __init__(self) -> None:
        self.deadline = time.monotonic() + TIME_LIMIT_SECONDS
        self.parts: list[str] = []
        self.chars = 0

    def add(self, text: str) -> bool:
        """Keep `text`; False once enough is kept or the time is up."""
        text = text.strip()
        if text:
            self.parts.append(text[:MAX_CHARS - self.chars])
            self.chars += len(self.parts[-1]) + 1
        return self.chars < MAX_CHARS and time.monotonic() < self.deadline

    def text(self) -> str:
        return "\n".join(self.parts)[:MAX_CHARS]


def _pdf(path: str, budget: _Budget) -> None:
    from pypdf import PdfReader

    reader = PdfReader(path)
    for number, page in enumerate(reader.pages):
        if number >= MAX_PAGES or not budget.add(page.extract_text() or ""):
            break


def _docx(path: str, budget: _Budget) -> None:
    import docx

    document = docx.Document(path)
    for paragraph in document.paragraphs:
        if not budget.add(paragraph.text):
            return
    for table in document.tables:
        for row in table.rows:
            if not budget.add(" ".join(cell.text for cell in row.cells)):
                return


def _odt(path: str, budget: _Budget) -> None:
    with zipfile.ZipFile(path) as archive:
        if archive.getinfo("content.xml").file_size > MAX_XML_BYTES:
            raise ValueError("content.xml too large")
        with archive.open("content.xml") as content:
            # Paragraphs and headings, each with the text of everything inside it.
            for _event, element in ElementTree.iterparse(content):
                if element.tag in _ODT_BLOCKS:
                    if not budget.add("".join(element.itertext())):
                        return
                    element.clear()


_READERS = {PDF.mime: _pdf, DOCX.mime: _docx, ODT.mime: _odt}


def can_extract(kind: FileKind) -> bool:
    return kind.mime in _READERS


def extract_text(path: str, kind: FileKind) -> str:
    """The file's text (at most MAX_CHARS characters), or "" for other kinds, files too
    large, and files that cannot be read (logged)."""
    reader = _READERS.get(kind.mime)
    if reader is None:
        return ""
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            log.info("text not extracted: %s file over %d bytes", kind.label, MAX_FILE_BYTES)
            return ""
        budget = _Budget()
        reader(path, budget)
        return budget.text()
    except Exception:  # a damaged or hostile file: searchable by its title only
        log.warning("text extraction failed for a %s file", kind.label, exc_info=True)
        return ""
