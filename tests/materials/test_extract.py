"""The text of uploaded PDF, ODT and DOCX files: read on upload (small real files made here),
bounded, never failing the upload; searchable; read again by `reindex-search --read-files`."""

import io
import logging
import zipfile

import docx
from sqlalchemy import text

from forum.demo_files import make_pdf
from forum.extensions import db
from forum.materials import extract
from forum.materials.models import MaterialVersion
from forum.search.services import MATERIAL, search
from tests import factories


def make_docx(paragraphs: list[str], cells: list[str] = ()) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if cells:
        table = document.add_table(rows=1, cols=len(cells))
        for cell, value in zip(table.rows[0].cells, cells, strict=True):
            cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_odt(heading: str, paragraphs: list[str]) -> bytes:
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    body = f'<text:h text:outline-level="1">{heading}</text:h>' + "".join(
        f"<text:p>{p}</text:p>" for p in paragraphs)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
               f'office:version="1.2"><office:body><office:text>{body}</office:text>'
               "</office:body></office:document-content>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest/>')
    return out.getvalue()


def _version(material) -> MaterialVersion:
    return db.session.get(MaterialVersion, material.versions[0].id)


def test_a_pdf_is_searchable_by_its_text(people):
    pdf = make_pdf("Diagnoza potrzeb", ["Wnioski z ankiet dla asystentow rodziny."])
    material = factories.make_material(people["member"], people["g1"], pdf, "raport.pdf",
                                       title="Raport 2026")
    assert "Wnioski z ankiet" in _version(material).text
    [hit] = search(people["member"], "asystenci").hits
    assert (hit.kind, hit.id) == (MATERIAL, material.id)
    assert "<mark>asystentow</mark>" in hit.snippet


def test_a_docx_is_searchable_by_its_paragraphs_and_tables(people):
    data = make_docx(["Harmonogram dowozów uczniów.", "Druga strona."],
                     cells=["Łęczna", "kwota 1200 zł"])
    material = factories.make_material(people["member"], people["g1"], data, "plan.docx",
                                       title="Plan")
    assert "Harmonogram dowozów uczniów." in _version(material).text
    assert [h.id for h in search(people["member"], "dowozy").hits] == [material.id]
    assert [h.id for h in search(people["member"], "leczna").hits] == [material.id]


def test_an_odt_is_searchable_by_its_headings_and_paragraphs(people):
    data = make_odt("Diagnoza społeczna", ["Żłobek w gminie.", "Opieka nad <b>seniorami</b>."])
    material = factories.make_material(people["member"], people["g1"], data, "diagnoza.odt",
                                       title="Załącznik")
    assert _version(material).text.splitlines()[:2] == ["Diagnoza społeczna",
                                                        "Żłobek w gminie."]
    assert [h.id for h in search(people["member"], "zlobek").hits] == [material.id]
    assert [h.id for h in search(people["member"], "diagnozę").hits] == [material.id]


def test_a_file_that_cannot_be_read_is_still_uploaded(people, caplog):
    broken = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\nnot really a pdf\n"
    with caplog.at_level(logging.WARNING, logger="forum.materials.extract"):
        material = factories.make_material(people["member"], people["g1"], broken, "zly.pdf",
                                           title="Uszkodzony plik")
    assert material.id and _version(material).text == ""
    assert [h.id for h in search(people["member"], "uszkodzony").hits] == [material.id]


def test_other_kinds_keep_no_text(people):
    material = factories.make_material(people["member"], people["g1"], b"a;b\n1;2\n",
                                       "dane.csv", title="Dane")
    assert _version(material).text == ""


def test_the_text_is_bounded(people, monkeypatch):
    monkeypatch.setattr(extract, "MAX_CHARS", 30)
    data = make_docx([f"Akapit numer {n} o drogach gminnych." for n in range(50)])
    material = factories.make_material(people["member"], people["g1"], data, "d.docx",
                                       title="Drogi")
    assert len(_version(material).text) <= 30


def test_too_large_files_are_not_read(people, monkeypatch, caplog):
    monkeypatch.setattr(extract, "MAX_FILE_BYTES", 100)
    material = factories.make_material(people["member"], people["g1"],
                                       make_docx(["Tekst, który nie zostanie przeczytany."]),
                                       "d.docx", title="Duży")
    assert _version(material).text == ""


def test_reindex_reads_files_uploaded_before_extraction(app, people):
    material = factories.make_material(people["member"], people["g1"],
                                       make_docx(["Kompostownik przydomowy."]), "k.docx",
                                       title="Odpady")
    db.session.execute(text("UPDATE material_version SET text = ''"))
    db.session.execute(text("UPDATE material SET search_text = ''"))
    db.session.execute(text("UPDATE post SET search_text = ''"))
    db.session.commit()
    assert search(people["member"], "kompostownik").hits == []
    result = app.test_cli_runner().invoke(args=["forum", "reindex-search", "--read-files"])
    assert result.exit_code == 0, result.output
    assert "1 materials (1 files read)" in result.output
    db.session.expire_all()
    assert [h.id for h in search(people["member"], "kompostowniki").hits] == [material.id]
