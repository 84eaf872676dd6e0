"""DOC_FORMAT's inspection of stored files: hostile content becomes a plain reason, sound content yields its facts."""
import ast
import random
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import openpyxl
import pytest
from openpyxl import Workbook

import certify.documents.inspect as inspect_module
from certify.documents import Inspection, inspect_document, sniff_media_type
from certify.documents.sniff import CSV, JPEG, PDF, PNG, XLSX
from certify.domain.facts import AssayRow

from . import samples

ASSAY_ROWS = (
    AssayRow(analyte="purity", value=Decimal("99.62"), unit="pct"),
    AssayRow(analyte="Fe", value=Decimal("4"), unit="ppm"),
    AssayRow(analyte="Ni", value=Decimal("3.5"), unit="ppm"),
)


def inspect_bytes(tmp_path: Path, data: bytes | str, media_type: str, name: str = "upload") -> Inspection:
    return inspect_document(samples.save(tmp_path, name, data), media_type)


def inspect_file(path: Path, **limits) -> Inspection:
    return inspect_document(path, sniff_media_type(path), **limits)


# The package's edges --------------------------------------------------------------------------------------


def imported_modules(source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_the_package_imports_no_web_database_or_broker_code():
    forbidden = {"flask", "flask_sqlalchemy", "flask_login", "sqlalchemy", "celery", "kombu", "redis", "werkzeug"}
    app_modules = ("certify.models", "certify.services", "certify.extensions", "certify.web", "certify.api")
    for module in Path(inspect_module.__file__).parent.glob("*.py"):
        for name in imported_modules(module.read_text()):
            assert name.split(".")[0] not in forbidden, f"{module.name} imports {name}"
            assert not name.startswith(app_modules), f"{module.name} imports {name}"


def test_an_unaccepted_media_type_is_a_problem(tmp_path):
    result = inspect_bytes(tmp_path, samples.HTML, "text/html")
    assert result == Inspection("files of type 'text/html' are not accepted")


def test_content_that_is_not_the_recorded_type_is_a_problem(tmp_path):
    result = inspect_bytes(tmp_path, samples.pillow_image("PNG"), PDF)
    assert result.problem == "the file was recorded as a PDF but its content is a PNG image"


def test_html_recorded_as_pdf_is_a_problem(tmp_path):
    result = inspect_bytes(tmp_path, samples.HTML, PDF)
    assert result.problem == "the file was recorded as a PDF but its content is none of the accepted types"


def test_a_missing_file_raises_rather_than_blaming_the_applicant(tmp_path):
    with pytest.raises(OSError):
        inspect_document(tmp_path / "gone.pdf", PDF)


@pytest.mark.parametrize("media_type, sound", [
    (PDF, lambda path: samples.save(path, "a.pdf", samples.reportlab_pdf("Assay report R-1", "page 2"))),
    (CSV, lambda path: samples.save(path, "a.csv", samples.ASSAY_CSV)),
    (PNG, lambda path: samples.save(path, "a.png", samples.pillow_image("PNG"))),
    (JPEG, lambda path: samples.save(path, "a.jpg", samples.pillow_image("JPEG"))),
    (XLSX, lambda path: samples.assay_xlsx(path / "a.xlsx")),
])
def test_damaged_content_never_raises(tmp_path, media_type, sound):
    """Truncations and random byte flips of a sound file: always an Inspection, never an exception."""
    original = sound(tmp_path).read_bytes()
    rng = random.Random(media_type)
    for attempt in range(25):
        data = bytearray(original)
        if attempt % 2:
            del data[rng.randrange(1, len(data)):]
        else:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        result = inspect_bytes(tmp_path, bytes(data), media_type)
        assert isinstance(result, Inspection)
        assert str(tmp_path) not in (result.problem or "")  # where the store keeps files stays private


# PDF (checklist 25, 27) ------------------------------------------------------------------------------------


def test_a_sound_pdf_passes_with_its_text_layer(tmp_path):
    result = inspect_bytes(tmp_path, samples.reportlab_pdf("Assay report R-2026-0117", "Ni 22.1 %"), PDF)
    assert result.problem is None
    assert "Assay report R-2026-0117" in result.text and "Ni 22.1 %" in result.text
    assert result.assay_rows is None


def test_a_pdf_without_text_has_empty_text(tmp_path):
    assert inspect_bytes(tmp_path, samples.minimal_pdf(text=None), PDF) == Inspection(None, text="")


def test_a_pdf_html_polyglot_is_a_sound_pdf(tmp_path):
    # The HTML sits in a PDF comment; serving it as a PDF download (checklist 27) is what keeps it inert.
    assert inspect_bytes(tmp_path, samples.pdf_html_polyglot(), PDF) == Inspection(None, text="Assay report R-1")


def test_an_xref_pypdf_can_rebuild_is_accepted(tmp_path):
    result = inspect_bytes(tmp_path, samples.minimal_pdf(startxref_shift=7), PDF)
    assert result == Inspection(None, text="Assay report R-1")


def test_garbage_after_the_header_is_a_damaged_pdf(tmp_path):
    result = inspect_bytes(tmp_path, samples.pdf_with_garbage_after_header(), PDF)
    assert result.problem.startswith("the PDF's structure is damaged")
    assert result.text is None


def test_an_encrypted_pdf_fails_even_with_an_empty_user_password(tmp_path):
    assert inspect_bytes(tmp_path, samples.encrypted_pdf(), PDF) == Inspection("the PDF is encrypted")


@pytest.mark.parametrize("build, problem", [
    (samples.pdf_with_open_action_javascript, "the PDF contains JavaScript"),
    (samples.pdf_with_hex_escaped_javascript, "the PDF contains JavaScript"),
    (samples.pdf_with_javascript_in_names_tree, "the PDF contains JavaScript"),
    (samples.pdf_with_javascript_after_harmless_action, "the PDF contains JavaScript"),
    (samples.pdf_with_javascript_in_outline, "the PDF contains JavaScript"),
    (samples.pdf_with_launch_link, "the PDF contains a launch action"),
    (samples.pdf_with_page_additional_actions, "the PDF contains automatic actions (/AA)"),
    (samples.pdf_with_xfa_form, "the PDF contains an XFA form"),
    (samples.pdf_with_embedded_file, "the PDF contains embedded files"),
], ids=lambda value: getattr(value, "__name__", ""))
def test_active_content_in_a_pdf_fails(tmp_path, build, problem):
    assert inspect_bytes(tmp_path, build(), PDF) == Inspection(problem)


def test_every_kind_of_active_content_found_is_named(tmp_path):
    pdf = samples.minimal_pdf(catalog=b"/OpenAction 6 0 R /AA << /WC 6 0 R >>", objects=(samples.JAVASCRIPT_ACTION,))
    assert inspect_bytes(tmp_path, pdf, PDF).problem == "the PDF contains JavaScript and automatic actions (/AA)"


def test_only_the_first_pages_are_read_for_text(tmp_path, monkeypatch):
    monkeypatch.setattr(inspect_module, "MAX_PDF_PAGES", 1)
    result = inspect_bytes(tmp_path, samples.reportlab_pdf("first page", "second page"), PDF)
    assert "first page" in result.text and "second page" not in result.text


def test_extracted_text_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(inspect_module, "MAX_TEXT_CHARS", 6)
    assert inspect_bytes(tmp_path, samples.reportlab_pdf("Assay report"), PDF).text == "Assay "


def test_a_pdf_whose_text_is_not_wanted_is_checked_alike_and_yields_none(tmp_path):
    path = samples.save(tmp_path, "evidence.pdf", samples.reportlab_pdf("Feedstock evidence", "page 2"))
    assert inspect_document(path, PDF, with_text=False) == Inspection(None)
    for build, problem in ((samples.pdf_with_open_action_javascript, "the PDF contains JavaScript"),
                           (samples.encrypted_pdf, "the PDF is encrypted")):
        path = samples.save(tmp_path, "hostile.pdf", build())
        assert inspect_document(path, PDF, with_text=False) == Inspection(problem)


@pytest.mark.parametrize("with_text", [True, False])
def test_a_page_that_decompresses_beyond_safe_limits_fails_with_or_without_its_text(tmp_path, with_text):
    # pypdf stops inflating at 75 MB; a few kilobytes of Flate say 80.
    path = samples.save(tmp_path, "bomb.pdf", samples.pdf_with_page_decompressing_to(80))
    assert inspect_document(path, PDF, with_text=with_text) == Inspection(
        "page 1 of the PDF decompresses beyond safe limits")
    sound = samples.save(tmp_path, "blanks.pdf", samples.pdf_with_page_decompressing_to(1))
    assert inspect_document(sound, PDF, with_text=with_text).problem is None


def test_a_pdf_with_too_many_objects_is_not_walked_to_the_end(tmp_path, monkeypatch):
    monkeypatch.setattr(inspect_module, "MAX_PDF_OBJECTS", 3)
    result = inspect_bytes(tmp_path, samples.minimal_pdf(), PDF)
    assert result.problem == "the PDF has more than 3 objects, too many to inspect"


# CSV (checklist 29) ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    samples.ASSAY_CSV,
    "\ufeff" + samples.ASSAY_CSV,
    samples.ASSAY_CSV.replace("\r\n", "\r"),
    samples.ASSAY_CSV.replace("\r\n", "\n"),
    " Analyte , VALUE ,Unit,,\n\nPurity,99.62,PCT\n,,\nFe, 4 ,ppm,\nNi,\"3.5\",ppm\n",
], ids=["crlf", "bom", "cr-only", "lf", "loose-header-and-blank-lines"])
def test_the_assay_template_in_csv_yields_exact_rows(tmp_path, text):
    assert inspect_bytes(tmp_path, text, CSV) == Inspection(None, assay_rows=ASSAY_ROWS)


def test_a_production_record_with_ragged_rows_is_sound(tmp_path):
    assert inspect_bytes(tmp_path, samples.PRODUCTION_CSV, CSV) == Inspection(None)


def test_values_keep_their_written_precision(tmp_path):
    result = inspect_bytes(tmp_path, "analyte,value,unit\npurity,99.50,pct\nSO4,1e2,ppm\n", CSV)
    assert [str(row.value) for row in result.assay_rows] == ["99.50", "1E+2"]
    assert result.assay_rows[1].analyte == "SO4"


def test_an_empty_template_has_no_rows(tmp_path):
    assert inspect_bytes(tmp_path, "analyte,value,unit\n", CSV) == Inspection(None, assay_rows=())


def test_invalid_utf8_is_a_problem(tmp_path):
    data = "analyte,value,unit\nFe,4,ppm\ncafé,1,ppm\n".encode("latin-1")
    assert inspect_bytes(tmp_path, data, CSV) == Inspection("the file is not valid UTF-8 text")


def test_invalid_utf8_beyond_the_sniffed_head_is_a_problem(tmp_path):
    data = b"date,output_kg\n" + b"2026-01-01,10000\n" * 10_000 + b"2026-01-02,\xff\n"
    assert sniff_media_type(samples.save(tmp_path, "record.csv", data)) == CSV
    assert inspect_bytes(tmp_path, data, CSV) == Inspection("the file is not valid UTF-8 text")


def test_a_10_mb_field_is_a_problem_not_a_memory_hog(tmp_path):
    data = "analyte,value,unit\n" + "A" * 10_000_000 + ",1,ppm\n"
    result = inspect_bytes(tmp_path, data, CSV)
    assert result.problem == "row 2 of the CSV has a field longer than 131,072 characters"


def test_too_many_csv_rows_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.setattr(inspect_module, "MAX_ROWS", 3)
    result = inspect_bytes(tmp_path, "a\n1\n2\n3\n", CSV)
    assert result == Inspection("the CSV has more than 3 rows")


def test_markup_recorded_as_csv_is_a_problem(tmp_path):
    result = inspect_bytes(tmp_path, samples.HTML, CSV)
    assert result == Inspection("the file looks like HTML or XML markup, not CSV")


@pytest.mark.parametrize("row, problem", [
    ("Fe,abc,ppm", "assay template row 3: the value 'abc' of Fe is not a number"),
    ("Fe,,ppm", "assay template row 3: the value '' of Fe is not a number"),
    ("Fe,1_000,ppm", "assay template row 3: the value '1_000' of Fe is not a number"),
    ("Fe,٤,ppm", "assay template row 3: the value '٤' of Fe is not a number"),
    ("Fe,NaN,ppm", "assay template row 3: the value 'NaN' of Fe is not a number"),
    ("Fe,-4,ppm", "assay template row 3: the value -4 of Fe is out of range"),
    ("purity,100.5,pct", "assay template row 3: the value 100.5 of purity is out of range"),
    ("Fe,4,pct", "assay template row 3: the unit of Fe must be ppm, not 'pct'"),
    ("purity,99.5,%", "assay template row 3: the unit of purity must be pct, not '%'"),
    ("Fe,4", "assay template row 3 should hold analyte, value and unit but has 2 values"),
    ("Fe,4,ppm,by ICP-OES", "assay template row 3 should hold analyte, value and unit but has 4 values"),
    ("iron,4,ppm", "assay template row 3: 'iron' is neither purity nor an element symbol such as Fe"),
    ("Ni,5,ppm", "assay template rows 2 and 3 both give Ni"),
])
def test_an_invalid_template_row_is_a_problem_naming_the_row(tmp_path, row, problem):
    result = inspect_bytes(tmp_path, f"analyte,value,unit\nNi,3,ppm\n{row}\n", CSV)
    assert result == Inspection(problem)


# XLSX (checklist 23, 24) -----------------------------------------------------------------------------------


def test_the_assay_template_in_xlsx_yields_exact_rows(tmp_path):
    result = inspect_file(samples.assay_xlsx(tmp_path / "assay.xlsx"))
    # 0.1 stored as a float comes back as 0.1, not as 0.1000000000000000055511151231257827…
    assert result == Inspection(None, assay_rows=ASSAY_ROWS + (AssayRow("Na", Decimal("0.1"), "ppm"),))


def test_a_workbook_not_in_the_template_has_no_rows(tmp_path):
    path = samples.xlsx(tmp_path / "record.xlsx", [["date", "output_kg"], ["2026-01-01", 10000, "extra"]])
    assert inspect_file(path) == Inspection(None)


def test_only_the_first_sheet_can_hold_the_template(tmp_path):
    path = samples.xlsx(tmp_path / "assay.xlsx", [["notes"]], [["analyte", "value", "unit"], ["Fe", 4, "ppm"]])
    assert inspect_file(path) == Inspection(None)


def test_an_invalid_template_row_in_xlsx_is_a_problem(tmp_path):
    path = samples.xlsx(tmp_path / "assay.xlsx", [["analyte", "value", "unit"], ["Fe", True, "ppm"]])
    assert inspect_file(path).problem == "assay template row 2: the value 'True' of Fe is not a number"


def test_a_random_zip_recorded_as_xlsx_is_a_problem(tmp_path):
    result = inspect_document(samples.random_zip(tmp_path / "assay.xlsx"), XLSX)
    assert result.problem == "the file was recorded as an XLSX workbook but its content is none of the accepted types"


def test_200_mb_of_zeros_is_refused_before_decompression(tmp_path):
    path = samples.xlsx_of_zeros(tmp_path / "bomb.xlsx", megabytes=200)
    assert path.stat().st_size < 1_000_000
    assert inspect_file(path) == Inspection("the workbook decompresses to more than 100 MB")


def test_the_decompressed_size_limit_is_configurable(tmp_path):
    path = samples.assay_xlsx(tmp_path / "assay.xlsx")
    result = inspect_file(path, max_uncompressed_bytes=2_000)
    assert result == Inspection("the workbook decompresses to more than 0.002 MB")


def test_a_part_larger_than_its_header_says_is_caught_while_reading(tmp_path):
    path = samples.xlsx_with_lying_sizes(tmp_path / "liar.xlsx", real_bytes=5_000_000, declared_bytes=1_000)
    result = inspect_file(path, max_uncompressed_bytes=1_000_000)
    assert result.problem.startswith("the workbook's zip archive is damaged or its sizes are false")


def test_overlapping_entries_are_refused(tmp_path):
    path = samples.xlsx_with_overlapping_entries(tmp_path / "overlap.xlsx", copies=50)
    assert inspect_file(path) == Inspection("the workbook's zip entries overlap (a zip bomb technique)")


def test_20000_entries_are_refused(tmp_path):
    path = samples.xlsx_with_many_entries(tmp_path / "many.xlsx", count=20_000)
    assert inspect_file(path) == Inspection("the workbook has more than 10,000 parts")


@pytest.mark.parametrize("how", sorted(samples.MACROS))
def test_a_workbook_with_macros_is_refused(tmp_path, how):
    sound = samples.assay_xlsx(tmp_path / "sound.xlsx")
    path = samples.xlsx_with_macros(sound, tmp_path / "macros.xlsx", how)
    assert inspect_file(path) == Inspection("the workbook contains macros")


def test_a_workbook_with_external_links_is_refused(tmp_path):
    path = samples.tampered_xlsx(samples.assay_xlsx(tmp_path / "sound.xlsx"), tmp_path / "linked.xlsx",
                                 add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"})
    assert inspect_file(path) == Inspection("the workbook links to external workbooks")


def test_openpyxl_parses_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize("part, xml", [
    ("xl/worksheets/sheet1.xml", samples.billion_laughs_sheet()),
    ("xl/worksheets/sheet1.xml", samples.external_entity_sheet("file:///etc/passwd")),
    ("xl/worksheets/sheet2.xml", samples.external_entity_sheet("file:///etc/passwd")),
    ("xl/styles.xml", samples.external_entity_sheet("http://127.0.0.1:9/leak")),
    ("[Content_Types].xml", samples.billion_laughs_sheet()),
], ids=["billion-laughs", "external-entity", "in-second-sheet", "in-styles", "in-content-types"])
def test_xml_entities_are_refused(tmp_path, part, xml):
    sound = samples.xlsx(tmp_path / "sound.xlsx", [["a"]], [["b"]])
    path = samples.tampered_xlsx(sound, tmp_path / "hostile.xlsx", replace={part: xml})
    assert inspect_file(path) == Inspection("the workbook's XML declares entities (an XML bomb or an external entity)")


def test_a_workbook_is_refused_when_defusedxml_is_not_in_use(tmp_path, monkeypatch):
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    result = inspect_file(samples.assay_xlsx(tmp_path / "assay.xlsx"))
    assert result == Inspection("workbooks cannot be opened safely on this server (defusedxml is not in use)")


def test_a_cell_at_the_last_row_costs_bounded_work(tmp_path):
    workbook = Workbook()
    workbook.active["A1"] = "analyte"
    workbook.active["A1048576"] = "far away"
    workbook.active["XFD2"] = "far right"
    workbook.save(tmp_path / "sparse.xlsx")
    assert inspect_file(tmp_path / "sparse.xlsx") == Inspection("the workbook has more than 100,000 rows")


def test_too_many_rows_across_sheets_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.setattr(inspect_module, "MAX_ROWS", 3)
    path = samples.xlsx(tmp_path / "rows.xlsx", [["a"], ["b"]], [["c"], ["d"]])
    assert inspect_file(path) == Inspection("the workbook has more than 3 rows")


# Images ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("image_format, media_type", [("PNG", PNG), ("JPEG", JPEG)])
def test_an_image_made_by_pillow_is_sound(tmp_path, image_format, media_type):
    assert inspect_bytes(tmp_path, samples.pillow_image(image_format), media_type) == Inspection(None)


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path):
    result = inspect_bytes(tmp_path, samples.png_header_claiming(100_000, 100_000), PNG)
    assert result == Inspection("the image's dimensions are too large to decode safely (a decompression bomb)")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_image_pillow_would_only_warn_about_is_refused(tmp_path):
    result = inspect_bytes(tmp_path, samples.png_header_claiming(10_000, 9_000), PNG)
    assert result.problem == "the image is 10,000 × 9,000 pixels, more than the 89,478,485 that can be decoded safely"


def test_a_truncated_image_is_a_problem(tmp_path):
    result = inspect_bytes(tmp_path, samples.pillow_image("PNG")[:70], PNG)
    assert result.problem.startswith("the file could not be read as a PNG image")


def test_a_jpeg_recorded_as_png_is_a_problem(tmp_path):
    result = inspect_bytes(tmp_path, samples.pillow_image("JPEG"), PNG)
    assert result.problem == "the file was recorded as a PNG image but its content is a JPEG image"

