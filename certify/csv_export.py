"""CSV exports that spreadsheets open safely: cells that a spreadsheet would run as a formula are neutralised."""
import csv
import io
from collections.abc import Iterable, Iterator

# Excel, LibreOffice and Google Sheets start a formula (or DDE call) at these characters (checklist row 28).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Excel reads a CSV as UTF-8 only when it starts with a byte order mark; without one, Hangul comes out garbled.
UTF8_BOM = "\ufeff"


def safe_cell(value) -> str:
    """The cell's text, with a leading ' when it would start a formula, so the spreadsheet shows it as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_text(rows: Iterable[Iterable]) -> str:
    """Rows as CSV lines (CRLF, as Excel writes them), every cell made safe."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def csv_stream(header: Iterable[str], row_chunks: Iterable[Iterable[Iterable]]) -> Iterator[str]:
    """The BOM and the header line, then one piece of text per chunk of rows, so the file never sits whole in memory."""
    yield UTF8_BOM + csv_text([header])
    for rows in row_chunks:
        yield csv_text(rows)
