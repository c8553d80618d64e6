import io

import docx

from forum.reviews import sections
from tests.materials.test_extract import make_odt


def test_markdown_headings_give_numbered_sections_without_the_title_page():
    found = sections.from_markdown("Title page\n\n# Intro\n\nText one.\n\n## Details ##\nMore.")
    assert found == [sections.Section("Intro", "Text one."),
                     sections.Section("Details", "More.")]


def test_docx_heading_styles_give_sections():
    document = docx.Document()
    document.add_paragraph("Cover")
    document.add_heading("Module 1", level=1)
    document.add_paragraph("Content of module 1.")
    document.add_heading("Module 2", level=2)
    out = io.BytesIO()
    document.save(out)
    found = sections.from_file("draft.docx", out.getvalue())
    assert [s.heading for s in found] == ["Module 1", "Module 2"]
    assert found[0].text == "Content of module 1."


def test_odt_headings_give_sections():
    found = sections.from_file("draft.odt", make_odt("Moduł", ["Treść modułu."]))
    assert found == [sections.Section("Moduł", "Treść modułu.")]


def test_pdf_or_a_damaged_file_gives_no_sections():
    assert sections.from_file("draft.pdf", b"%PDF-1.4") == []
    assert sections.from_file("draft.docx", b"not a zip") == []
    assert sections.from_markdown("no headings here") == []
