"""The upload allow-list: a file's type comes from its bytes, never its name; names become harmless labels."""
import unicodedata
import zipfile

import pytest

from certify.documents import ACCEPTED_MEDIA_TYPES, safe_filename_label, sniff_media_type
from certify.documents.sniff import CSV, JPEG, MAX_LABEL_CHARS, PDF, PNG, TEXT_HEAD_BYTES, XLSX

from . import samples


def sniff(tmp_path, name, data):
    return sniff_media_type(samples.save(tmp_path, name, data))


def test_accepted_media_types_are_the_five_of_the_spec():
    assert ACCEPTED_MEDIA_TYPES == {
        "application/pdf", "text/csv", "image/png", "image/jpeg",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


# Each accepted type, recognised by content --------------------------------------------------------------


def test_a_pdf_is_recognised_by_its_header(tmp_path):
    assert sniff(tmp_path, "report.pdf", samples.reportlab_pdf("Assay report R-1")) == PDF


def test_pdf_header_must_start_the_file(tmp_path):
    # Viewers look for %PDF- in the first 1024 bytes; the allow-list is stricter. (reportlab's binary
    # comment line and compressed streams keep the shifted file from passing as text instead.)
    assert sniff(tmp_path, "report.pdf", b"\n" + samples.reportlab_pdf("Assay report R-1")) is None


def test_png_and_jpeg_made_by_pillow_are_recognised(tmp_path):
    assert sniff(tmp_path, "ticket.png", samples.pillow_image("PNG")) == PNG
    assert sniff(tmp_path, "ticket.jpg", samples.pillow_image("JPEG")) == JPEG


def test_a_workbook_is_a_zip_holding_content_types_and_xl_workbook(tmp_path):
    assert sniff_media_type(samples.assay_xlsx(tmp_path / "assay.xlsx")) == XLSX


def test_utf8_text_is_csv(tmp_path):
    assert sniff(tmp_path, "production.csv", samples.PRODUCTION_CSV) == CSV


def test_utf8_text_with_bom_tabs_and_crlf_is_csv(tmp_path):
    assert sniff(tmp_path, "assay.csv", "\ufeffanalyte\tvalue\tunit\r\npurity\t99.5\tpct\r\n") == CSV


def test_a_csv_value_below_detection_limit_is_not_markup(tmp_path):
    assert sniff(tmp_path, "assay.csv", "analyte,value,unit\nPb,<0.5,ppm\n") == CSV


def test_korean_text_is_csv(tmp_path):
    assert sniff(tmp_path, "생산기록.csv", "일자,생산량_kg\n2026-01-01,10000\n") == CSV


# The name and the claimed type decide nothing (checklist 22) ---------------------------------------------


def test_html_named_pdf_is_refused(tmp_path):
    assert sniff(tmp_path, "report.pdf", samples.HTML) is None


def test_png_named_pdf_is_a_png(tmp_path):
    assert sniff(tmp_path, "report.pdf", samples.pillow_image("PNG")) == PNG


def test_random_zip_named_xlsx_is_refused(tmp_path):
    assert sniff_media_type(samples.random_zip(tmp_path / "assay.xlsx")) is None


def test_zip_with_only_content_types_is_not_a_workbook(tmp_path):
    path = tmp_path / "assay.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", samples.CONTENT_TYPES)
    assert sniff_media_type(path) is None


def test_damaged_zip_is_refused(tmp_path):
    assert sniff(tmp_path, "assay.xlsx", b"PK\x03\x04" + bytes(200)) is None


def test_executable_is_refused_whatever_it_claims(tmp_path):
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(100)
    assert sniff(tmp_path, "report.pdf", elf) is None
    assert sniff(tmp_path, "setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(100)) is None


def test_pdf_html_polyglot_is_a_pdf(tmp_path):
    # Served as application/pdf, attachment, nosniff and sandboxed (checklist 27): never as HTML.
    assert sniff(tmp_path, "report.html", samples.pdf_html_polyglot()) == PDF


# Text that is not CSV -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "<html><body>hi</body></html>",
    "  \r\n\t<!DOCTYPE html><p>hi",
    "\ufeff<html>",
    "<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    "<?xml version='1.0'?><root/>",
    "<0.5,ppm",
    "analyte,value\nFe,<SCRIPT>alert(1)</SCRIPT>\n",
    "a,b\n1,2\n<HtMl>",
    "a,b\n<!DocType html>",
    "a,b\n<svg/onload=alert(1)>",
    "a,b\n<?XML version='1.0'?>",
])
def test_markup_is_not_csv(tmp_path, text):
    assert sniff(tmp_path, "data.csv", text) is None


@pytest.mark.parametrize("data", [
    b"analyte,value\nFe,4\x00\n",
    b"analyte,value\nFe,\x1b[31m4\n",
    b"analyte,value\x0cFe,4\n",
])
def test_control_characters_are_not_csv(tmp_path, data):
    assert sniff(tmp_path, "data.csv", data) is None


@pytest.mark.parametrize("data", [b"", b"   \r\n\t ", b"\xef\xbb\xbf"])
def test_empty_text_is_not_csv(tmp_path, data):
    assert sniff(tmp_path, "data.csv", data) is None


def test_invalid_utf8_is_not_csv(tmp_path):
    assert sniff(tmp_path, "data.csv", "analyte,value\ncafé,1\n".encode("latin-1")) is None


def test_a_short_file_ending_inside_a_character_is_not_csv(tmp_path):
    assert sniff(tmp_path, "data.csv", "a,b\n가".encode()[:-1]) is None


def test_a_character_cut_by_the_64_kib_boundary_is_tolerated(tmp_path):
    head = b"a" * (TEXT_HEAD_BYTES - 1) + "가".encode()  # the 3-byte character straddles the boundary
    assert len(head) > TEXT_HEAD_BYTES
    assert sniff(tmp_path, "data.csv", head + b",b\n") == CSV


def test_invalid_utf8_at_the_64_kib_boundary_is_not_csv(tmp_path):
    assert sniff(tmp_path, "data.csv", b"a" * (TEXT_HEAD_BYTES - 1) + b"\xff" + b"more\n") is None


def test_only_the_first_64_kib_are_sniffed(tmp_path):
    # Beyond the head, validity is inspect_document's job (it decodes the whole file).
    assert sniff(tmp_path, "data.csv", b"a,b\n" * (TEXT_HEAD_BYTES // 4) + b"\xff\n") == CSV


# Filenames are labels (checklist 26) ----------------------------------------------------------------------


@pytest.mark.parametrize("name, label", [
    ("assay.pdf", "assay.pdf"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\win.ini", "win.ini"),
    ("C:\\Users\\kim\\Desktop\\분석성적서.pdf", "분석성적서.pdf"),
    ("%2e%2e%2f", "%2e%2e%2f"),
    ("a.pdf%00.html", "a.pdf%00.html"),
    ("a.pdf\x00.html", "a.pdf.html"),
    ("CON.pdf", "CON.pdf"),
    ('report"; filename="evil.html', "report; filename=evil.html"),
    ("it's.pdf", "its.pdf"),
    ("assay\r\nSet-Cookie: session=stolen.pdf", "assaySet-Cookie: session=stolen.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ("  lab \t report\u00a0 2026.pdf  ", "lab report 2026.pdf"),
    ("", "file"),
    ("   ", "file"),
    ("/", "file"),
    ("uploads/..", "file"),
    ("\x00\r\n", "file"),
])
def test_filename_label(name, label):
    assert safe_filename_label(name) == label


def test_a_long_label_is_cut_to_120_characters_keeping_the_extension():
    label = safe_filename_label("가" * 300 + ".pdf")
    assert len(label) == MAX_LABEL_CHARS == 120
    assert label.endswith("가.pdf")


def test_a_long_label_without_a_short_extension_is_simply_cut():
    assert safe_filename_label("x" * 300) == "x" * 120
    assert safe_filename_label("report." + "y" * 300) == ("report." + "y" * 300)[:120]


def test_label_is_composed_so_macos_korean_names_display_normally():
    decomposed = unicodedata.normalize("NFD", "성적서.pdf")
    assert safe_filename_label(decomposed) == "성적서.pdf"
