"""What makes reading a batch's files cheaper changes nothing they say: pypdf's encoding tables built once, the
file sniffed through the handle that reads it, and the kernel asked to read a batch's files ahead."""
import pypdf._codecs
import pypdf._text_extraction._text_extractor
import pypdf.generic._font
import pytest

import certify.documents.inspect as inspect_module
from certify.documents import inspect_document, read_ahead, sniff_media_type
from certify.documents.generated import pdf_with_text
from certify.documents.sniff import CSV, PDF, sniffed_media_type

from . import samples


def test_pypdf_extracts_text_with_encoding_tables_built_once():
    for module in (pypdf._text_extraction._text_extractor, pypdf.generic._font):
        assert module.encoding_dict_from_named_encoding is inspect_module._named_encoding


def test_each_caller_gets_its_own_copy_of_a_table_equal_to_pypdfs():
    first = inspect_module._named_encoding("cp1252")
    assert first == pypdf._codecs.encoding_dict_from_named_encoding("cp1252")
    first[65] = "changed, as a font's /Differences would"
    assert inspect_module._named_encoding("cp1252")[65] == "A"


@pytest.mark.parametrize("data", [
    samples.reportlab_pdf("Assay report R-2026-0117", "Ni 22.1 %"),
    pdf_with_text(["KTR Pohang (KOLAS-T-0417)", "Assay report R-26-0097064", "Purity 99.3 %", "Fe 4 ppm"]),
    samples.minimal_pdf(text="Assay report R-1"),
])
def test_the_text_is_the_same_as_with_pypdfs_own_tables(tmp_path, monkeypatch, data):
    path = samples.save(tmp_path, "assay.pdf", data)
    shared = inspect_document(path, PDF)
    for module in (pypdf._text_extraction._text_extractor, pypdf.generic._font):
        monkeypatch.setattr(module, "encoding_dict_from_named_encoding",
                            pypdf._codecs.encoding_dict_from_named_encoding)
    assert shared == inspect_document(path, PDF) and shared.problem is None and shared.text


@pytest.mark.parametrize("name, data", [
    ("report.pdf", samples.reportlab_pdf("Assay report R-1")),
    ("ticket.png", samples.pillow_image("PNG")),
    ("ticket.jpg", samples.pillow_image("JPEG")),
    ("assay.csv", "analyte,value,unit\npurity,99.6,pct\n"),
    ("page.csv", samples.HTML),
    ("empty.csv", b""),
])
def test_sniffing_an_open_file_says_what_sniffing_its_path_says(tmp_path, name, data):
    path = samples.save(tmp_path, name, data)
    with open(path, "rb") as fh:
        assert sniffed_media_type(fh) == sniff_media_type(path)


def test_a_workbook_is_sniffed_through_its_handle_too(tmp_path):
    path = samples.assay_xlsx(tmp_path / "assay.xlsx")
    with open(path, "rb") as fh:
        assert sniffed_media_type(fh) == sniff_media_type(path)


def test_a_csv_recorded_as_csv_is_read_from_its_start_after_sniffing(tmp_path):
    path = samples.save(tmp_path, "assay.csv", "analyte,value,unit\npurity,99.6,pct\nFe,4,ppm\n")
    result = inspect_document(path, CSV)
    assert result.problem is None and [row.analyte for row in result.assay_rows] == ["purity", "Fe"]


def test_reading_ahead_passes_over_files_that_are_not_there(tmp_path):
    present = samples.save(tmp_path, "assay.pdf", samples.minimal_pdf())
    assert read_ahead([tmp_path / "gone.pdf", present, str(present)]) is None
