"""What an uploaded file is, decided from its content alone, and the display label of its client-side name."""
from __future__ import annotations

import codecs
import os
import re
import unicodedata
import zipfile
from typing import BinaryIO

PDF = "application/pdf"
CSV = "text/csv"
PNG = "image/png"
JPEG = "image/jpeg"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACCEPTED_MEDIA_TYPES = frozenset({PDF, CSV, PNG, JPEG, XLSX})

TEXT_HEAD_BYTES = 64 * 1024
MAX_LABEL_CHARS = 120

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"
_ZIP_SIGNATURE = b"PK\x03\x04"
_XLSX_REQUIRED_PARTS = frozenset({"[Content_Types].xml", "xl/workbook.xml"})
_UTF8_BOM = "\ufeff"
# C0 controls other than tab, LF and CR: real CSV never holds them, binary files nearly always do.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Markers that make a browser or viewer treat text as active markup (HTML, SVG, XML).
_MARKUP = re.compile(r"<(?:script|html|!doctype|svg|\?xml)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
# Cc/Cf/Zl/Zp/Cs cover CR, LF, NUL, bidi overrides (a "fdp.exe" trick) and lone surrogates.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_MAX_EXTENSION_CHARS = 16


def sniff_media_type(path: str | os.PathLike[str]) -> str | None:
    """The accepted media type the file's bytes show, or None when it is none of them.

    Only the content decides: the filename and the client's Content-Type are never consulted.
    Raises OSError only when the file itself cannot be opened.
    """
    with open(path, "rb") as fh:
        return sniffed_media_type(fh)


def sniffed_media_type(fh: BinaryIO) -> str | None:
    """sniff_media_type of a file already open for reading at its start; leaves it at no position in particular."""
    head = fh.read(TEXT_HEAD_BYTES + 1)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(_PNG_SIGNATURE):
        return PNG
    if head.startswith(_JPEG_SIGNATURE):
        return JPEG
    if head.startswith(_ZIP_SIGNATURE):
        return XLSX if _is_xlsx(fh) else None
    return CSV if plain_text_problem(head) is None else None


def _is_xlsx(fh: BinaryIO) -> bool:
    try:
        with zipfile.ZipFile(fh) as archive:
            return _XLSX_REQUIRED_PARTS <= set(archive.namelist())
    except Exception:  # any damage in the central directory means "not a workbook"
        return False


def plain_text_problem(head: bytes) -> str | None:
    """Why the first bytes of a file are not plain UTF-8 text fit to be served as CSV; None when they are.

    `head` is the file's first TEXT_HEAD_BYTES bytes, plus one more when the file is longer.
    """
    truncated = len(head) > TEXT_HEAD_BYTES
    try:
        # A file longer than the head may be cut inside a multibyte character: the decoder keeps
        # that tail pending instead of calling it invalid.
        text = codecs.getincrementaldecoder("utf-8")().decode(head[:TEXT_HEAD_BYTES], final=not truncated)
    except UnicodeDecodeError:
        return "the file is not valid UTF-8 text"
    text = text.removeprefix(_UTF8_BOM)
    if not text.strip():
        return "the file is empty"
    if _CONTROL_CHARS.search(text):
        return "the file contains control characters, so it is not plain text"
    if text.lstrip().startswith("<") or _MARKUP.search(text):
        return "the file looks like HTML or XML markup, not CSV"
    return None


def safe_filename_label(name: str) -> str:
    """The client's filename reduced to a harmless display label; files are stored under their SHA-256."""
    name = unicodedata.normalize("NFC", name)  # macOS sends Korean names decomposed into jamo
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES and ch not in "\"'")
    name = _WHITESPACE.sub(" ", name).strip()
    if name in ("", ".", ".."):
        return "file"
    if len(name) <= MAX_LABEL_CHARS:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and len(extension) <= _MAX_EXTENSION_CHARS:
        suffix = "." + extension
        return name[: MAX_LABEL_CHARS - len(suffix)].rstrip() + suffix
    return name[:MAX_LABEL_CHARS].rstrip()
