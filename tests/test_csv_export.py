"""safe_cell: a cell a spreadsheet would run as a formula gets a leading ' (security checklist row 28)."""
import csv
import io

import pytest

from certify.csv_export import csv_stream, csv_text, safe_cell


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(1)", "\t=1+1", "\r=1+1",
                                       "=cmd|' /C calc'!A0", "-2+3"])
def test_a_cell_that_starts_a_formula_gets_a_leading_quote(dangerous):
    assert safe_cell(dangerous) == "'" + dangerous


@pytest.mark.parametrize("harmless", ["Hanbit Battery Recycling", "한빛 배터리 리사이클링", "KR-RM-2026-000007",
                                      "10000", "93.7577", "2026-03-10", "a=b", "1+1", "e-mail@x", " =1", ""])
def test_a_cell_that_starts_with_anything_else_is_left_as_it_is(harmless):
    assert safe_cell(harmless) == harmless


def test_none_is_an_empty_cell_and_numbers_are_their_text():
    assert safe_cell(None) == ""
    assert safe_cell(10000) == "10000"
    assert safe_cell(-5) == "'-5"


def test_rows_come_out_with_every_cell_made_safe_and_quoted_where_csv_needs_it():
    text = csv_text([["=1+1", 'a "quoted", name', "ok"]])
    assert text == '\'=1+1,"a ""quoted"", name",ok\r\n'
    assert list(csv.reader(io.StringIO(text))) == [["'=1+1", 'a "quoted", name', "ok"]]


def test_the_stream_opens_with_a_bom_and_the_header_then_one_piece_per_chunk():
    pieces = list(csv_stream(["number", "company"], [[["KR-1", "한빛"]], [["KR-2", "@SUM(1)"]]]))
    assert pieces == ["\ufeffnumber,company\r\n", "KR-1,한빛\r\n", "KR-2,'@SUM(1)\r\n"]
