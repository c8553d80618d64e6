"""Real small files for upload tests."""

import io
import zipfile

from PIL import Image

from forum.demo_files import make_pdf

PDF = make_pdf("Diagnoza potrzeb", ["Wnioski z ankiet."])
HTML_AS_PDF = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><document/>')
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 15.0, 0.0), 3: "E", 4: (22.0, 34.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()
