"""What an uploaded material really is, judged by its bytes, and how to hand it back safely.

`sniff` reads magic bytes (and the ZIP or OLE2 directory of Office files) and checks the name's
extension; `strip_image_metadata` re-encodes images; `content_disposition` names downloads.
"""

from __future__ import annotations

import codecs
import os
import re
import struct
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, ImageSequence

MB = 1024 * 1024
TEXT_WINDOW = 64 * 1024  # how much of a text file is checked


# Made when raised, to carry their parameters; literal strings so that pybabel extracts them.
_MESSAGES = {
    "type_not_allowed": lambda: _l("This kind of file is not accepted. Upload PDF, Office or "
                                   "OpenDocument files, images, text, CSV or ZIP."),
    "type_mismatch": lambda **p: _l("This file is %(label)s but its name ends in .%(ext)s. Rename"
                                    " it to end in .%(expected)s, or upload the file you meant.",
                                    **p),
    "too_large": lambda **p: _l("The file is too large. The limit is %(limit)s MB.", **p),
    "zip_bomb": lambda: _l("The archive is too large when unpacked or holds too many files."),
    "macros": lambda: _l("Files with macros are not accepted. Save the document without macros"
                         " and upload it again."),
    "empty": lambda: _l("The file is empty."),
    "bad_name": lambda: _l("The file name needs an extension that matches its contents, "
                           "such as .pdf."),
    "infected": lambda: _l("The virus scanner found a threat in this file, so it was not "
                           "uploaded."),
    "scan_failed": lambda: _l("The file could not be checked for viruses just now. Try again in"
                              " a few minutes; if it keeps happening, tell the administrators."),
    "unreadable_image": lambda **p: _l("The image could not be read, or it is too large (over "
                                       "%(limit)s megapixels).", **p),
}


class RejectedFile(Exception):
    """An upload that breaks a rule: `code` for programs, `message` (lazy) for people."""

    def __init__(self, code: str, message=None, **params):
        super().__init__(code)
        self.code, self.params = code, params
        self.message = message if message is not None else _MESSAGES[code](**params)


@dataclass(frozen=True)
class FileKind:
    mime: str
    extension: str  # canonical, without the dot
    label: str  # format name, the same in every language
    inline: bool  # shown in the browser rather than downloaded


_OOXML = "application/vnd.openxmlformats-officedocument."
_OPENDOCUMENT = "application/vnd.oasis.opendocument."
PDF = FileKind("application/pdf", "pdf", "PDF", False)  # may carry scripts: downloaded
DOCX = FileKind(_OOXML + "wordprocessingml.document", "docx", "Word (DOCX)", False)
XLSX = FileKind(_OOXML + "spreadsheetml.sheet", "xlsx", "Excel (XLSX)", False)
PPTX = FileKind(_OOXML + "presentationml.presentation", "pptx", "PowerPoint (PPTX)", False)
DOC = FileKind("application/msword", "doc", "Word (DOC)", False)
XLS = FileKind("application/vnd.ms-excel", "xls", "Excel (XLS)", False)
PPT = FileKind("application/vnd.ms-powerpoint", "ppt", "PowerPoint (PPT)", False)
ODT = FileKind(_OPENDOCUMENT + "text", "odt", "OpenDocument (ODT)", False)
ODS = FileKind(_OPENDOCUMENT + "spreadsheet", "ods", "OpenDocument (ODS)", False)
ODP = FileKind(_OPENDOCUMENT + "presentation", "odp", "OpenDocument (ODP)", False)
PNG = FileKind("image/png", "png", "PNG", True)
JPEG = FileKind("image/jpeg", "jpg", "JPEG", True)
GIF = FileKind("image/gif", "gif", "GIF", True)
WEBP = FileKind("image/webp", "webp", "WebP", True)
TEXT = FileKind("text/plain", "txt", "TXT", False)
CSV = FileKind("text/csv", "csv", "CSV", False)
ZIP = FileKind("application/zip", "zip", "ZIP", False)

IMAGES = frozenset({PNG, JPEG, GIF, WEBP})
INLINE_TYPES = frozenset(kind.mime for kind in IMAGES)  # the only files shown in the browser
# Extensions accepted for each type; anything else is a mismatch.
EXTENSIONS = {kind: {kind.extension} for kind in
              (PDF, DOCX, XLSX, PPTX, DOC, XLS, PPT, ODT, ODS, ODP, PNG, GIF, WEBP, CSV)}
EXTENSIONS |= {JPEG: {"jpg", "jpeg"}, TEXT: {"txt", "md"}, ZIP: {"zip"}}

_MAGIC = [(b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG),
          (b"GIF87a", GIF), (b"GIF89a", GIF)]
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODF = {kind.mime.encode(): kind for kind in (ODT, ODS, ODP)}
# Markup a browser might render if it ever ignored our Content-Type.
_MARKUP = ("<!doctype", "<html", "<head", "<body", "<svg", "<?xml", "<script", "<iframe")


def sniff(path: Path, original_name: str, *, max_entries: int = 10_000,
          max_uncompressed: int = 500 * MB, max_ratio: int = 100) -> FileKind:
    """The checked type of the file at `path`, or RejectedFile. Reads only what it needs."""
    name = safe_download_name(original_name)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    with open(path, "rb") as f:
        head = f.read(TEXT_WINDOW)
        if not head:
            raise RejectedFile("empty")
        kind = next((k for magic, k in _MAGIC if head.startswith(magic)), None)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            kind = WEBP
        elif head.startswith(b"PK\x03\x04"):
            kind = _sniff_zip(f, ext, max_entries, max_uncompressed, max_ratio)
        elif head.startswith(_OLE2):
            kind = _sniff_ole(f, ext)
        elif kind is None and _is_plain_text(head, complete=len(head) < TEXT_WINDOW):
            kind = CSV if ext == "csv" else TEXT
    if kind is None:
        raise RejectedFile("type_not_allowed")
    if not ext:
        raise RejectedFile("bad_name")
    if ext not in EXTENSIONS[kind]:
        raise RejectedFile("type_mismatch", label=kind.label, ext=ext, expected=kind.extension)
    return kind


def _is_plain_text(head: bytes, complete: bool) -> bool:
    if b"\x00" in head:
        return False
    head = head.removeprefix(codecs.BOM_UTF8)
    try:  # a character cut at the end of the window is fine unless the file ends there
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    start = head[:1024].decode("utf-8", "ignore").lower()
    return not any(marker in start for marker in _MARKUP)


def _sniff_zip(f, ext, max_entries, max_uncompressed, max_ratio) -> FileKind | None:
    # Check the end record before zipfile parses the directory: a huge central directory is
    # itself a memory bomb. 512 bytes per entry is far more than real documents use.
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - 22 - 65535))
    tail = f.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) < end + 22:
        return None
    count, directory_size = struct.unpack_from("<HI", tail, end + 10)
    if count == 0xFFFF or directory_size == 0xFFFFFFFF:  # ZIP64: the real numbers are elsewhere
        locator = tail.rfind(b"PK\x06\x07", 0, end)
        if locator < 0:
            return None
        f.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
        record = f.read(56)
        if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
            return None
        count, directory_size = struct.unpack_from("<QQ", record, 32)
    if count > max_entries or directory_size > max_entries * 512:
        raise RejectedFile("zip_bomb")
    try:
        with zipfile.ZipFile(f) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos)
            # Small archives of repetitive text compress very well and are harmless.
            if (len(infos) > max_entries or total > max_uncompressed
                    or (total > MB and total > max_ratio * max(packed, 1))):
                raise RejectedFile("zip_bomb")
            if ext == "zip":  # Office files are ZIPs too; one named .zip is served as a ZIP
                return ZIP
            names = {i.filename for i in infos}
            if "mimetype" in names:
                with zf.open("mimetype") as entry:
                    kind = _ODF.get(entry.read(100).strip())
                if any(n.startswith(("Basic/", "Scripts/")) for n in names):
                    raise RejectedFile("macros")
                return kind
            if "[Content_Types].xml" in names:
                with zf.open("[Content_Types].xml") as entry:
                    types = entry.read(MB).lower()
                if b"macroenabled" in types or any(
                        n.lower().endswith("vbaproject.bin") for n in names):
                    raise RejectedFile("macros")
                for prefix, kind in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
                    if any(n.startswith(prefix) for n in names):
                        return kind
            return ZIP
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, RuntimeError,
            NotImplementedError, ValueError):  # corrupt, encrypted or odd compression
        return None


def _sniff_ole(f, ext) -> FileKind | None:
    """Legacy Office files are OLE2 compound files; the stream names tell which program."""
    try:
        names = _ole_names(f)
    except (struct.error, IndexError, ValueError):  # truncated or not really OLE2
        return None
    if names & {"Macros", "_VBA_PROJECT_CUR", "VBA"}:
        raise RejectedFile("macros")
    if "EncryptedPackage" in names:  # a password-protected DOCX/XLSX/PPTX
        return {"docx": DOCX, "xlsx": XLSX, "pptx": PPTX}.get(ext)
    streams = {"WordDocument": DOC, "Workbook": XLS, "Book": XLS, "PowerPoint Document": PPT}
    # None for MSI installers, Outlook messages and the like
    return next((kind for stream, kind in streams.items() if stream in names), None)


def _ole_names(f, max_sectors: int = 4096) -> set[str]:
    """Names in the directory of a compound file: 128-byte entries in a chain of sectors."""
    f.seek(0)
    header = f.read(512)
    size = 1 << struct.unpack_from("<H", header, 30)[0]
    if size not in (512, 4096):
        raise ValueError("odd sector size")
    n = struct.unpack_from("<I", header, 48)[0]  # the directory's first sector
    difat_next, difat_count = struct.unpack_from("<II", header, 68)
    fat_sectors = list(struct.unpack_from("<109I", header, 76))
    per_sector, end = size // 4, 0xFFFFFFFA

    def sector(n: int) -> bytes:
        f.seek((n + 1) * size)
        if len(data := f.read(size)) != size:
            raise ValueError("truncated")
        return data

    # Bounded loops: a cyclic chain must not loop forever. Numbers from `end` up end a chain.
    for _ in range(min(difat_count, max_sectors)):  # FAT locations beyond the first 109
        if difat_next >= end:
            break
        *more, difat_next = struct.unpack(f"<{per_sector}I", sector(difat_next))
        fat_sectors += more
    names = set()
    for _ in range(max_sectors):
        if n >= end:
            break
        data = sector(n)
        for entry in range(0, size, 128):
            length, = struct.unpack_from("<H", data, entry + 64)
            if 2 <= length <= 64:
                names.add(data[entry:entry + length - 2].decode("utf-16-le", "replace"))
        fat = sector(fat_sectors[n // per_sector])
        n, = struct.unpack_from("<I", fat, (n % per_sector) * 4)
    return names


# Characters Windows refuses in file names; control and format characters (which include the
# right-to-left override used to disguise extensions) are dropped separately.
_RESERVED = re.compile(r'[<>:"|?*]')
_ASCII_FOLD = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O",
                             "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                             "–": "-", "—": "-", "‘": "'", "’": "'"})


def safe_download_name(name: str, max_length: int = 150) -> str:
    """The user's file name, fit to be offered back: no folders, no control characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if c.isspace() else c for c in name
                   if c.isspace() or not unicodedata.category(c).startswith("C"))
    name = _RESERVED.sub("_", " ".join(name.split())).lstrip(". ").rstrip(". ")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    stem = stem[: max_length - len(suffix)].rstrip(". ")
    return f"{stem}{suffix}" if stem else f"file{suffix}"


def content_disposition(name: str, inline: bool) -> str:
    """A Content-Disposition value (RFC 6266) with an ASCII name and the exact UTF-8 one."""
    name = safe_download_name(name)
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    stem, ext = _ascii(stem) or "file", _ascii(ext)
    ascii_name = f"{stem}.{ext}" if dot and ext else stem
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    # '%' is dropped too: some browsers percent-decode the plain filename parameter.
    kept = "".join(c for c in folded if " " <= c <= "~" and c not in '"\\%')
    return " ".join(kept.split())


_PILLOW_FORMATS = {PNG: "PNG", JPEG: "JPEG", GIF: "GIF", WEBP: "WEBP"}
# Kept when re-encoding: needed to draw the image right (the colour profile too: it is not
# personal). EXIF, XMP, comments and text chunks go.
_KEEP_INFO = {"transparency", "icc_profile", "duration", "loop", "background"}


def strip_image_metadata(path: Path, kind: FileKind, max_pixels: int = 50_000_000) -> None:
    """Re-encode the image in place without its metadata, turned the way EXIF says."""
    fmt = _PILLOW_FORMATS[kind]
    try:
        with Image.open(path, formats=[fmt]) as im:
            # JPEGs may carry extra frames (MPO depth maps, gain maps): only the photo is kept.
            frames = 1 if fmt == "JPEG" else getattr(im, "n_frames", 1)
            # Checked before decoding: the size in the header is what the pixels will cost.
            if im.width * im.height * frames > max_pixels:
                raise RejectedFile("unreadable_image", limit=max_pixels // 1_000_000)
            if frames == 1:
                images = [_clean(ImageOps.exif_transpose(im), im.info, fmt)]
            else:
                images = [_clean(frame.copy(), frame.info, fmt)
                          for frame in ImageSequence.Iterator(im)]
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise RejectedFile("unreadable_image", limit=max_pixels // 1_000_000) from exc
    options = {"quality": 90} if fmt == "JPEG" else {}
    if icc := images[0].info.get("icc_profile"):  # JPEG and WebP only write it when told
        options["icc_profile"] = icc
    if len(images) > 1:
        options |= {"save_all": True, "append_images": images[1:]}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".strip-")
    try:
        with os.fdopen(fd, "wb") as out:
            images[0].save(out, format=fmt, **options)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _clean(image: Image.Image, info: dict, fmt: str) -> Image.Image:
    if fmt == "JPEG" and image.mode not in ("L", "RGB", "CMYK"):
        image = image.convert("RGB")
    image.info = {k: v for k, v in info.items() if k in _KEEP_INFO}
    return image
