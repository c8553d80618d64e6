import io
import struct
import time
import zipfile

import pytest
from flask import Flask
from flask_babel import Babel
from PIL import Image, ImageCms, PngImagePlugin

from forum.materials import filetypes as ft
from forum.materials.filetypes import RejectedFile, content_disposition, safe_download_name, sniff

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"  # noqa: E501
OOXML_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Override PartName="/{part}" ContentType="{type}"/></Types>'
)


def make_zip(entries, *, stored_first=None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        if stored_first:  # ODF wants `mimetype` first and uncompressed
            zf.writestr(zipfile.ZipInfo(stored_first[0]), stored_first[1], zipfile.ZIP_STORED)
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def ooxml(folder: str, part: str, content_type: str = "application/xml") -> bytes:
    return make_zip({
        "[Content_Types].xml": OOXML_TYPES.format(part=f"{folder}{part}", type=content_type),
        "_rels/.rels": "<Relationships/>",
        f"{folder}{part}": "<document/>",
    })


def odf(kind: str) -> bytes:
    mimetype = f"application/vnd.oasis.opendocument.{kind}"
    return make_zip({"content.xml": "<office:document-content/>",
                     "META-INF/manifest.xml": "<manifest/>"}, stored_first=("mimetype", mimetype))


def ole2(*streams: str) -> bytes:
    """A minimal compound file (512-byte sectors): sector 0 is the FAT, sector 1 the directory."""
    end, free = 0xFFFFFFFE, 0xFFFFFFFF
    header = bytearray(512)
    header[:8] = ft._OLE2
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    fat = struct.pack("<128I", 0xFFFFFFFD, end, *([free] * 126))
    directory = bytearray(512)
    for index, name in enumerate(("Root Entry", *streams)):
        encoded = name.encode("utf-16-le") + b"\0\0"
        entry = index * 128
        directory[entry:entry + len(encoded)] = encoded
        struct.pack_into("<HB", directory, entry + 64, len(encoded), 5 if index == 0 else 2)
    return bytes(header) + fat + bytes(directory)


def far_ole2(*streams: str) -> bytes:
    """A compound file over 7 MB whose directory is mapped by a FAT sector listed in a DIFAT
    sector, as in large legacy documents (the header lists only the first 109 FAT sectors)."""
    end, free, fat_mark, difat_mark = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFC
    directory = 109 * 128  # first sector mapped by FAT sector number 110
    data = bytearray(ole2(*streams)[:512] + bytes((directory + 2) * 512))
    struct.pack_into("<IIIIIIIII", data, 40, 0, 2, directory, 0, 4096, end, 0, 1, 1)
    struct.pack_into("<109I", data, 76, 0, *([free] * 108))
    struct.pack_into("<128I", data, 512, fat_mark, difat_mark, *([free] * 126))
    struct.pack_into("<128I", data, 1024, directory + 1, *([free] * 126), end)
    data[(directory + 1) * 512:(directory + 2) * 512] = ole2(*streams)[1024:1536]
    struct.pack_into("<128I", data, (directory + 2) * 512, end, fat_mark, *([free] * 126))
    return bytes(data)


def image_bytes(fmt: str, size=(40, 30), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt, **save)
    return buffer.getvalue()


def gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 12.0, 30.0)  # GPSLatitudeRef, GPSLatitude (Łęczna)
    gps[3], gps[4] = "E", (22.0, 52.0, 50.0)
    if orientation:
        exif[0x0112] = orientation
    return exif


@pytest.fixture
def put(tmp_path):
    def put(data: bytes, name: str = "upload.bin"):
        path = tmp_path / name
        path.write_bytes(data)
        return path
    return put


ACCEPTED = [
    (PDF, "Raport.PDF", ft.PDF),
    (ooxml("word/", "document.xml"), "umowa.docx", ft.DOCX),
    (ooxml("xl/", "workbook.xml"), "budżet.xlsx", ft.XLSX),
    (ooxml("ppt/", "presentation.xml"), "slajdy.pptx", ft.PPTX),
    (odf("text"), "notatka.odt", ft.ODT),
    (odf("spreadsheet"), "tabela.ods", ft.ODS),
    (odf("presentation"), "prezentacja.odp", ft.ODP),
    (ole2("WordDocument", "\x05SummaryInformation"), "stary.doc", ft.DOC),
    (ole2("\x05SummaryInformation", "Workbook"), "stary.xls", ft.XLS),
    (ole2("PowerPoint Document"), "stary.ppt", ft.PPT),
    (ole2("EncryptedInfo", "EncryptedPackage"), "hasło.xlsx", ft.XLSX),
    (far_ole2("PowerPoint Document"), "duży.ppt", ft.PPT),
    (image_bytes("PNG"), "mapa.png", ft.PNG),
    (image_bytes("JPEG"), "zdjęcie.jpeg", ft.JPEG),
    (image_bytes("JPEG"), "zdjęcie.JPG", ft.JPEG),
    (image_bytes("GIF"), "anim.gif", ft.GIF),
    (image_bytes("WEBP"), "foto.webp", ft.WEBP),
    ("Zażółć gęślą jaźń\n<br> is fine further on\n".encode(), "notes.txt", ft.TEXT),
    (b"\xef\xbb\xbf# Notatki\n", "README.md", ft.TEXT),
    ("gmina;liczba\nŁęczna;1\n".encode(), "dane.csv", ft.CSV),
    (make_zip({"a.txt": "a", "b/c.pdf": PDF}), "paczka.zip", ft.ZIP),
    (ooxml("word/", "document.xml"), "dokumenty.zip", ft.ZIP),
]


@pytest.mark.parametrize(("data", "name", "kind"), ACCEPTED, ids=[a[1] for a in ACCEPTED])
def test_accepted_files_are_recognised_by_content(put, data, name, kind):
    assert sniff(put(data), name) == kind


REFUSED = [
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "raport.pdf", "type_not_allowed"),
    (b"  <html><body>hi</body></html>", "notes.txt", "type_not_allowed"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.png",
     "type_not_allowed"),
    (b'<?xml version="1.0"?><svg/>', "logo.svg", "type_not_allowed"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "setup.pdf", "type_not_allowed"),
    (b"\x7fELF\x02\x01\x01\x00", "program.txt", "type_not_allowed"),
    (b"plain\x00with nul", "data.txt", "type_not_allowed"),
    (b"cp1250 " + "Łódź".encode("cp1250"), "stare.txt", "type_not_allowed"),
    (ole2("\x05SummaryInformation"), "installer.doc", "type_not_allowed"),  # e.g. an MSI
    (make_zip({"mimetype": "application/epub+zip"}), "book.odt", "type_not_allowed"),
    (b"PK\x03\x04 not really a zip", "broken.docx", "type_not_allowed"),
    (PDF, "wniosek.docx", "type_mismatch"),
    (ooxml("word/", "document.xml"), "arkusz.xlsx", "type_mismatch"),
    (image_bytes("PNG"), "photo.jpg", "type_mismatch"),
    (b"#!/bin/sh\nrm -rf /\n", "script.sh", "type_mismatch"),
    (PDF, "raport", "bad_name"),
    (b"", "empty.pdf", "empty"),
    (ooxml("word/", "document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
     "makro.docx", "macros"),
    (make_zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<d/>",
               "word/vbaProject.bin": "x"}), "makro.docx", "macros"),
    (ole2("WordDocument", "Macros"), "makro.doc", "macros"),
]


@pytest.mark.parametrize(("data", "name", "code"), REFUSED, ids=[f"{r[1]}-{r[2]}" for r in REFUSED])
def test_refused_files(put, data, name, code):
    with pytest.raises(RejectedFile) as error:
        sniff(put(data), name)
    assert error.value.code == code


def test_a_zip_bomb_is_refused_from_its_directory_without_unpacking(put, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("[Content_Types].xml", OOXML_TYPES.format(part="word/document.xml",
                                                              type="application/xml"))
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as entry:
            zeros = bytes(1024 * 1024)
            for _ in range(200):  # 200 MB of zeros, about 200 KB on disk
                entry.write(zeros)
    assert len(buffer.getvalue()) < 1024 * 1024
    path = put(buffer.getvalue())
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open",
                        lambda self, name, *a, **k: opened.append(str(name)) or real_open(
                            self, name, *a, **k))
    started = time.perf_counter()
    for name in ("bomb.docx", "bomb.zip"):
        with pytest.raises(RejectedFile) as error:
            sniff(path, name)
        assert error.value.code == "zip_bomb"
    assert time.perf_counter() - started < 2
    assert opened == []  # nothing was decompressed


def test_zip_limits_are_parameters(put):
    path = put(make_zip({"a.txt": "x" * 2000}))
    assert sniff(path, "a.zip", max_uncompressed=2000) == ft.ZIP
    with pytest.raises(RejectedFile, match="zip_bomb"):
        sniff(path, "a.zip", max_uncompressed=1999)


def test_too_many_entries_are_refused(put):
    path = put(make_zip({f"f{i}.txt": "" for i in range(101)}))
    assert sniff(path, "many.zip", max_entries=101) == ft.ZIP
    with pytest.raises(RejectedFile) as error:
        sniff(path, "many.zip", max_entries=100)
    assert error.value.code == "zip_bomb"


@pytest.mark.parametrize(("name", "safe"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x\\Łódź raport.pdf", "Łódź raport.pdf"),
    ('"; rm -rf', "_; rm -rf"),
    ("..\\..\\.htaccess", "htaccess"),
    ("  plan\t\npracy  \x00\x1b.docx ", "plan pracy.docx"),
    ("faktura\u202efdp.exe", "fakturafdp.exe"),  # no right-to-left override tricks
    ("Lo\u0301dz\u0301.txt", "Lódź.txt"),  # decomposed (macOS) names are composed
    ("...", "file"),
    ("", "file"),
    ("/", "file"),
    (".pdf", "pdf"),
    ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
])
def test_safe_download_name(name, safe):
    assert safe_download_name(name) == safe


def test_content_disposition_has_an_ascii_fallback_and_the_exact_utf8_name():
    value = content_disposition("Diagnoza potrzeb – Łęczna.pdf", inline=False)
    assert value == (
        'attachment; filename="Diagnoza potrzeb - Leczna.pdf"; '
        "filename*=UTF-8''Diagnoza%20potrzeb%20%E2%80%93%20%C5%81%C4%99czna.pdf"
    )
    value.encode("latin-1")  # a header value must be encodable


@pytest.mark.parametrize(("name", "inline", "expected"), [
    ("Zażółć gęślą jaźń.png", True, 'inline; filename="Zazolc gesla jazn.png"'),
    ("報告.pdf", True, 'inline; filename="file.pdf"'),
    ('a "quoted" 100%.txt', False, 'attachment; filename="a _quoted_ 100.txt"'),
    ("dir\\ 100%.txt", False, 'attachment; filename="100.txt"'),  # \\ separates folders
    ("evil\r\nSet-Cookie: x=1.txt", False, 'attachment; filename="evil Set-Cookie_ x=1.txt"'),
])
def test_content_disposition_fallbacks(name, inline, expected):
    value = content_disposition(name, inline)
    assert value.startswith(expected + "; filename*=UTF-8''")
    assert "\r" not in value and "\n" not in value


def test_refusal_messages_are_translatable_and_filled_in():
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        assert "50 MB" in str(RejectedFile("too_large", limit="50").message)
        mismatch = RejectedFile("type_mismatch", label="PDF", ext="docx", expected="pdf")
        message = str(mismatch.message)
        assert "PDF" in message and ".docx" in message and ".pdf" in message
        assert "PDF, Office" in str(RejectedFile("type_not_allowed").message)


def test_stripping_removes_gps_and_applies_the_orientation(put):
    path = put(image_bytes("JPEG", size=(40, 20), exif=gps_exif(orientation=6)), "p.jpg")
    with Image.open(path) as before:
        assert before.getexif().get_ifd(0x8825)
    ft.strip_image_metadata(path, ft.JPEG)
    with Image.open(path) as after:
        assert after.format == "JPEG"
        assert after.size == (20, 40)  # rotated as the camera meant, then the tag dropped
        assert not after.getexif()
        assert "exif" not in after.info


@pytest.mark.parametrize(("fmt", "kind"), [("JPEG", ft.JPEG), ("PNG", ft.PNG), ("WEBP", ft.WEBP)])
def test_stripping_keeps_the_format_and_colour_profile_and_drops_exif_and_xmp(put, fmt, kind):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = put(image_bytes(fmt, exif=gps_exif(), xmp=b"<x:xmpmeta>GPS</x:xmpmeta>",
                           icc_profile=icc), "p")
    with Image.open(path) as before:  # Pillow writes PNG XMP only as a text chunk (see below)
        assert before.getexif() and ("xmp" in before.info or fmt == "PNG")
    ft.strip_image_metadata(path, kind)
    with Image.open(path) as after:
        assert after.format == fmt
        assert not after.getexif()
        assert "exif" not in after.info and "xmp" not in after.info
        assert after.info.get("icc_profile") == icc


def test_stripping_keeps_the_animation(put):
    frames = [Image.new("RGB", (10, 10), color) for color in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=120,
                   loop=0, comment=b"secret")
    path = put(buffer.getvalue(), "a.gif")
    with Image.open(path) as before:
        assert before.n_frames == 3 and before.info["comment"] == b"secret"
    ft.strip_image_metadata(path, ft.GIF)
    with Image.open(path) as after:
        assert after.n_frames == 3
        assert "comment" not in after.info
        assert after.info.get("duration") == 120


def test_broken_and_oversized_images_are_refused(put):
    broken = put(image_bytes("PNG")[:60], "broken.png")
    with pytest.raises(RejectedFile) as error:
        ft.strip_image_metadata(broken, ft.PNG)
    assert error.value.code == "unreadable_image"
    large = put(image_bytes("PNG", size=(1000, 1000)), "large.png")
    with pytest.raises(RejectedFile) as error:
        ft.strip_image_metadata(large, ft.PNG, max_pixels=999_999)
    assert error.value.code == "unreadable_image"
    assert large.read_bytes() == image_bytes("PNG", size=(1000, 1000))  # left untouched


def test_a_png_claiming_huge_dimensions_is_refused_before_decoding(put):
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    struct.pack_into(">II", data, 16, 100_000, 100_000)  # IHDR width/height; CRC now wrong
    path = put(bytes(data), "bomb.png")
    with pytest.raises(RejectedFile) as error:
        ft.strip_image_metadata(path, ft.PNG)
    assert error.value.code == "unreadable_image"


def test_stripping_drops_png_text_and_xmp_but_keeps_transparency(put):
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] * 128)
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Jan Kowalski")
    text.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS</x:xmpmeta>")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0, pnginfo=text)
    path = put(buffer.getvalue(), "a.png")
    ft.strip_image_metadata(path, ft.PNG)
    with Image.open(path) as after:
        assert after.info == {"transparency": 0}


def test_zip64_entry_counts_are_read_before_the_directory_is_parsed(put, monkeypatch):
    buffer = io.BytesIO()
    # Past this count zipfile writes ZIP64 end records, as it does for 65,536 entries or more.
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 5)
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(20):
            zf.writestr(f"{i}", b"")
    assert b"PK\x06\x06" in buffer.getvalue()
    path = put(buffer.getvalue())
    assert sniff(path, "many.zip", max_entries=20) == ft.ZIP

    def refuse(*args, **kwargs):
        raise AssertionError("the central directory should not have been parsed")

    monkeypatch.setattr(zipfile, "ZipFile", refuse)
    with pytest.raises(RejectedFile) as error:
        sniff(path, "many.zip", max_entries=19)
    assert error.value.code == "zip_bomb"
