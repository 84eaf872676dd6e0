"""Builders for every sample document the tests need, sound or hostile, generated on the fly (no binary fixtures)."""
from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

from openpyxl import Workbook
from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

ASSAY_CSV = "analyte,value,unit\r\npurity,99.62,pct\r\nFe,4,ppm\r\nNi,3.5,ppm\r\n"
PRODUCTION_CSV = "date,output_kg\n2026-01-01,10000,extra\n"
JAVASCRIPT_ACTION = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"


def save(directory: Path, name: str, data: bytes | str) -> Path:
    path = directory / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# PDF ------------------------------------------------------------------------------------------------


def reportlab_pdf(*pages: str) -> bytes:
    """A PDF as real producers write it (compressed streams), one page per text."""
    out = io.BytesIO()
    document = canvas.Canvas(out)
    for text in pages:
        document.drawString(72, 720, text)
        document.showPage()
    document.save()
    return out.getvalue()


def minimal_pdf(text: str | None = "Assay report R-1", *, catalog: bytes = b"", page: bytes = b"",
                objects: tuple[bytes, ...] = (), preamble: bytes = b"", startxref_shift: int = 0,
                contents: bytes | None = None) -> bytes:
    """A hand-written one-page PDF; `catalog` and `page` add entries, `objects` are numbered from 6.

    With `text` None the page only draws a line, like a scan without a text layer; `contents` replaces the page's
    content stream object whole.
    """
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode() if text is not None else b"0 0 m 100 100 l S"
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> " + page + b" >>",
        contents if contents is not None else b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *objects,
    ]
    out, offsets = b"%PDF-1.4\n" + preamble, []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref + startxref_shift)
    return out


def pdf_with_page_decompressing_to(megabytes: int) -> bytes:
    """A one-page PDF whose content stream is a few kilobytes of Flate inflating to `megabytes` of blanks."""
    stream = zlib.compress(b" " * (megabytes * 1024 * 1024), 9)
    return minimal_pdf(contents=b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
                       + b"\nendstream")


def pdf_with_open_action_javascript() -> bytes:
    return minimal_pdf(catalog=b"/OpenAction 6 0 R", objects=(JAVASCRIPT_ACTION,))


def pdf_with_hex_escaped_javascript() -> bytes:
    # "/J#61vaScript" is "/JavaScript" to every PDF reader but not to a byte search.
    return minimal_pdf(catalog=b"/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>")


def pdf_with_javascript_in_names_tree() -> bytes:
    return minimal_pdf(catalog=b"/Names << /JavaScript 6 0 R >>",
                       objects=(b"<< /Names [(hello) 7 0 R] >>", JAVASCRIPT_ACTION))


def pdf_with_javascript_after_harmless_action() -> bytes:
    return minimal_pdf(catalog=b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next 6 0 R >>",
                       objects=(JAVASCRIPT_ACTION,))


def pdf_with_javascript_in_outline() -> bytes:
    """JavaScript behind a bookmark: none of the usual places (catalogue, names tree, pages) holds it."""
    return minimal_pdf(catalog=b"/Outlines 6 0 R", objects=(
        b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>",
        b"<< /Title (Results) /Parent 6 0 R /A 8 0 R >>",
        JAVASCRIPT_ACTION,
    ))


def pdf_with_launch_link() -> bytes:
    return minimal_pdf(page=b"/Annots [6 0 R]", objects=(
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 200 200] /A << /S /Launch /F (C:\\\\Windows\\\\calc.exe) >> >>",))


def pdf_with_page_additional_actions() -> bytes:
    return minimal_pdf(page=b"/AA << /O << /S /URI /URI (https://attacker.example/) >> >>")


def pdf_with_xfa_form() -> bytes:
    return minimal_pdf(catalog=b"/AcroForm << /Fields [] /XFA 6 0 R >>",
                       objects=(b"<< /Length 7 >>\nstream\n<xdp/>\nendstream",))


def pdf_with_embedded_file() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(minimal_pdf())))
    writer.add_attachment("payload.exe", b"MZ\x90\x00 not really a program")
    return _written(writer)


def encrypted_pdf() -> bytes:
    # An empty user password: every viewer opens it without asking, yet it is still encrypted.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(minimal_pdf())))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-128")
    return _written(writer)


def pdf_with_garbage_after_header() -> bytes:
    return b"%PDF-1.7\n" + random.Random(25).randbytes(4096)


def pdf_html_polyglot() -> bytes:
    """Valid PDF whose comment line is an HTML page with a script: PDF by content, HTML to a careless browser."""
    return minimal_pdf(preamble=b"%" + HTML)


def _written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# Images ---------------------------------------------------------------------------------------------


def pillow_image(image_format: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 40)).save(out, format=image_format)
    return out.getvalue()


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims huge dimensions over a few bytes of data: a decompression bomb."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
            + chunk(b"IEND", b""))


# Workbooks ------------------------------------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "</Types>"
)


def xlsx(path: Path, *sheets: list[list[object]]) -> Path:
    """A workbook written by openpyxl, one sheet per list of rows."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for number, rows in enumerate(sheets or ([],), 1):
        sheet = workbook.create_sheet(f"Sheet{number}")
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def assay_xlsx(path: Path) -> Path:
    return xlsx(path, [["Analyte", "Value", "Unit", None], ["Purity", 99.62, "pct"], ["Fe", 4, "ppm"],
                       ["Ni", "3.5", "ppm"], [], ["Na", 0.1, "ppm"]])


def tampered_xlsx(source: Path, target: Path, *, replace: dict[str, bytes] | None = None,
                  add: dict[str, bytes] | None = None) -> Path:
    """A copy of a workbook with parts swapped or added, the way a hostile file is made."""
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for entry in old.infolist():
            new.writestr(entry.filename, replace.get(entry.filename) or old.read(entry))
        for name, data in add.items():
            new.writestr(name, data)
    return target


MACROS = {
    "vba-project": {"add": {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"}},
    "excel-4-macro-sheet": {"add": {"xl/macrosheets/sheet1.xml": b"<xm:macrosheet/>"}},
    "xlsm-content-type": {"main_type": b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"},
}


def xlsx_with_macros(source: Path, target: Path, how: str) -> Path:
    """A copy of a workbook made macro-bearing in one of the MACROS ways."""
    change = MACROS[how]
    replace = {}
    if "main_type" in change:
        with zipfile.ZipFile(source) as archive:
            types = archive.read("[Content_Types].xml")
        replace["[Content_Types].xml"] = types.replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", change["main_type"])
    return tampered_xlsx(source, target, replace=replace, add=change.get("add"))


def random_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("readme.txt", "not a workbook")
        archive.writestr("data/report.xml", "<report/>")
    return path


def _skeleton(archive: zipfile.ZipFile) -> None:
    archive.writestr("[Content_Types].xml", CONTENT_TYPES)
    archive.writestr("xl/workbook.xml", "<workbook/>")


def xlsx_of_zeros(path: Path, megabytes: int) -> Path:
    """A workbook-shaped zip with one part of `megabytes` MB of zeros, written in 1 MB chunks."""
    chunk = bytes(1_000_000)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        _skeleton(archive)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            for _ in range(megabytes):
                part.write(chunk)
    return path


def xlsx_with_lying_sizes(path: Path, real_bytes: int, declared_bytes: int) -> Path:
    """A workbook-shaped zip whose headers declare one part far smaller than it decompresses to."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        _skeleton(archive)
        archive.writestr("xl/worksheets/sheet1.xml", bytes(real_bytes))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        entry = archive.getinfo("xl/worksheets/sheet1.xml")
        central = archive.start_dir
    struct.pack_into("<I", data, entry.header_offset + 22, declared_bytes)  # local file header
    while data[central:central + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, central + 28)
        if data[central + 46:central + 46 + name_length] == entry.filename.encode():
            struct.pack_into("<I", data, central + 24, declared_bytes)  # central directory record
        central += 46 + name_length + extra_length + comment_length
    path.write_bytes(bytes(data))
    return path


def xlsx_with_overlapping_entries(path: Path, copies: int) -> Path:
    """A workbook-shaped zip whose central directory lists one compressed part many times over."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        _skeleton(archive)
        archive.writestr("xl/worksheets/sheet1.xml", bytes(1_000_000))
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        start = archive.start_dir
    end_record = data.rindex(b"PK\x05\x06")
    directory = data[start:end_record]
    last = directory.rindex(b"PK\x01\x02")
    records = directory + directory[last:] * copies
    count = 3 + copies
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(records), start, 0)
    path.write_bytes(data[:start] + records + end)
    return path


def xlsx_with_many_entries(path: Path, count: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        _skeleton(archive)
        for number in range(count):
            archive.writestr(f"xl/media/{number}.bin", b"")
    return path


SHEET_WITH_DTD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n{dtd}\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{entity}</t></is></c></row></sheetData></worksheet>'
)


def billion_laughs_sheet() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{("&lol" + str(level - 1) + ";") * 10}">' for level in range(1, 10)
    ]
    dtd = "<!DOCTYPE worksheet [" + "".join(entities) + "]>"
    return SHEET_WITH_DTD.format(dtd=dtd, entity="&lol9;").encode()


def external_entity_sheet(target: str = "file:///etc/passwd") -> bytes:
    dtd = f'<!DOCTYPE worksheet [<!ENTITY secret SYSTEM "{target}">]>'
    return SHEET_WITH_DTD.format(dtd=dtd, entity="&secret;").encode()
