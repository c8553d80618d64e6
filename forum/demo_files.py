"""Small, real sample files for the demo data set, made on the spot (nothing binary in git)."""

from __future__ import annotations

import io
import unicodedata

from PIL import Image, ImageDraw


def _pdf_text(text: str) -> str:
    # The built-in Helvetica knows only Latin-1: fold Polish letters to their base letters.
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = plain.encode("latin-1", "replace").decode("latin-1")
    return plain.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF with a title and some lines of text."""
    content = ["BT", "/F1 18 Tf", "72 770 Td", f"({_pdf_text(title)}) Tj", "/F1 11 Tf"]
    for line in lines:
        content += ["0 -20 Td", f"({_pdf_text(line)}) Tj"]
    content.append("ET")
    stream = "\n".join(content).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def make_csv(rows: list[list[str]]) -> bytes:
    return "\n".join(";".join(row) for row in rows).encode("utf-8") + b"\n"


def make_chart_png(values: list[int], width: int = 480, height: int = 240) -> bytes:
    """A simple bar chart, as a presentation slide might have."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    bar = width // (len(values) * 2 + 1)
    top = max(values) or 1
    for index, value in enumerate(values):
        x = bar * (index * 2 + 1)
        draw.rectangle([x, height - 20 - (height - 40) * value // top, x + bar, height - 20],
                       fill="#1d4e89")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
