"""Opening a stored document safely for the DOC_FORMAT and ASSAY_MATCH checks: is it sound, what does it say."""
from __future__ import annotations

import contextlib
import csv
import functools
import importlib
import io
import itertools
import math
import os
import re
import signal
import threading
import time
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterable, Iterator, Sequence, TypeVar

import defusedxml
import defusedxml.ElementTree
import openpyxl
import pypdf._codecs
from PIL import Image
from pypdf import PageObject, PdfReader
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from certify.documents.sniff import CSV, JPEG, PDF, PNG, TEXT_HEAD_BYTES, XLSX, plain_text_problem, sniffed_media_type
from certify.domain.facts import AssayRow

if TYPE_CHECKING:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

MAX_PDF_PAGES = 200
MAX_PDF_OBJECTS = 200_000
MAX_TEXT_CHARS = 1_000_000
MAX_ROWS = 100_000
MAX_XLSX_UNCOMPRESSED_BYTES = 100_000_000
MAX_XLSX_ENTRIES = 10_000
# Only the template's first columns matter; a cap stops a cell in column XFD from widening every row.
MAX_XLSX_COLUMNS = 64
# Pillow's own default (0.25 GiB as 24-bit RGB), enforced here so that a change to Pillow's global
# setting cannot switch the guard off, and so the 1x–2x band Pillow merely warns about is refused.
MAX_IMAGE_PIXELS = 89_478_485

_READ_CHUNK = 1024 * 1024
_KIND = {PDF: "a PDF", CSV: "a CSV text file", PNG: "a PNG image", JPEG: "a JPEG image", XLSX: "an XLSX workbook"}
_ASSAY_HEADER = ["analyte", "value", "unit"]
# An element symbol as written ("Fe", "Cl") or a radical the catalogue limits ("SO4").
_ANALYTE = re.compile(r"[A-Z][a-z]?(?:[A-Z][a-z]?|[0-9])*")
# ASCII digits only: Decimal() would also take "١٢" or "1_000", which no lab means.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_MAX_VALUE_CHARS = 40

_JAVASCRIPT = "JavaScript"
_LAUNCH = "a launch action"
_EMBEDDED = "embedded files"
_ADDITIONAL_ACTIONS = "automatic actions (/AA)"
_XFA = "an XFA form"
_FINDING_ORDER = (_JAVASCRIPT, _LAUNCH, _EMBEDDED, _ADDITIONAL_ACTIONS, _XFA)
_PDF_CONTAINERS = (IndirectObject, DictionaryObject, ArrayObject)
T = TypeVar("T")


@dataclass(frozen=True)
class Inspection:
    """What inspecting one stored file found."""

    # Why the file is not what it claims or not safe to open, in words a recycler understands; None when fine.
    problem: str | None
    # A PDF's text layer ("" when it has none); None for other files and when there is a problem.
    text: str | None = None
    # The assay template's rows when a CSV/XLSX is in that template; None otherwise.
    assay_rows: tuple[AssayRow, ...] | None = None


_PYPDF_NAMED_ENCODING = getattr(pypdf._codecs, "encoding_dict_from_named_encoding", None)


@functools.lru_cache(maxsize=8)
def _named_encoding_table(encoding: str) -> dict[int, str]:
    return _PYPDF_NAMED_ENCODING(encoding)


def _named_encoding(encoding: str) -> dict[int, str]:
    # A copy: pypdf applies a font's /Differences to the table it is given.
    return dict(_named_encoding_table(encoding))


# pypdf builds the 256-entry table of a named encoding (cp1252) by decoding each byte on its own, twice for every page
# it extracts text from (its default font and a standard font), and the table depends on the name alone: a quarter of
# the text extraction of a one-page PDF. Its text-extraction modules get each table built once instead. A pypdf whose
# modules are laid out otherwise is left as it is.
for _name in ("pypdf._text_extraction._text_extractor", "pypdf.generic._font"):
    try:
        _module = importlib.import_module(_name)
    except ImportError:
        continue
    if _PYPDF_NAMED_ENCODING and getattr(_module, "encoding_dict_from_named_encoding", None) is _PYPDF_NAMED_ENCODING:
        _module.encoding_dict_from_named_encoding = _named_encoding


class _Refused(Exception):
    """A plain-English reason the file fails, raised from deep inside a reader."""


class _OutOfTime(BaseException):
    """Raised by the reading-time alarm. Not an Exception, so that no parser's `except Exception` swallows it."""


class DeadlinePassed(BaseException):
    """The deadline of the work the read is part of (a check run's) came during the read, or before it: that work
    is out of time, whatever the file. Not an Exception, for the reason _OutOfTime is not."""


RING_AGAIN_SECONDS = 0.05


@contextlib.contextmanager
def _time_budget(seconds: float | None) -> Iterator[None]:
    """Interrupts the block after `seconds` of wall time: a file crafted to be slow cannot hold a worker.

    Signals reach only the main thread, which is where a worker process runs its task; elsewhere (a test
    driving check runs from threads) the block runs unbounded, within the size limits above.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def out_of_time(_signum, _frame):
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, out_of_time)
    # Repeating: an exception raised while Python runs a finaliser or a weakref callback is printed and dropped,
    # so the alarm rings again until one reaches the read.
    signal.setitimer(signal.ITIMER_REAL, seconds, RING_AGAIN_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def inspect_document(
    path: str | os.PathLike[str],
    media_type: str,
    *,
    max_uncompressed_bytes: int = MAX_XLSX_UNCOMPRESSED_BYTES,
    seconds: float | None = None,
    deadline: float | None = None,
    with_text: bool = True,
) -> Inspection:
    """Opens the stored file as `media_type` within fixed bounds (and `seconds`, when given) and reports what
    is wrong with it; a PDF's text too, unless `with_text` is false (only an assay report's is ever read, and
    extracting it is most of the cost of a PDF).

    `deadline` (time.monotonic()) is when the work the read is part of must end: reaching it raises
    DeadlinePassed instead of blaming the file. A check run's own time limit is Celery's SoftTimeLimitExceeded,
    an Exception that a parser's `except Exception` swallows (the run would go on as if the file had been read to
    its end, or blame the file), so a run stops its reads itself before that limit comes.

    Never raises for anything the file contains; raises OSError only when the file cannot be opened.
    """
    kind = _KIND.get(media_type)
    if kind is None:
        return Inspection(f"files of type {media_type!r} are not accepted")
    budget, deadline_first = seconds or None, False  # none or 0: no budget of its own
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlinePassed
        deadline_first = budget is None or left < budget
        budget = left if deadline_first else budget
    with open(path, "rb") as fh:
        sniffed = sniffed_media_type(fh)
        fh.seek(0)
        if sniffed != media_type:
            reason = plain_text_problem(fh.read(TEXT_HEAD_BYTES + 1)) if media_type == CSV and not sniffed else None
            actual = _KIND[sniffed] if sniffed else "none of the accepted types"
            return Inspection(reason or f"the file was recorded as {kind} but its content is {actual}")
        try:
            with _time_budget(budget):
                return _inspect(fh, media_type, max_uncompressed_bytes, with_text)
        except _OutOfTime:
            if deadline_first:
                raise DeadlinePassed from None
            return Inspection(f"reading the file took longer than {seconds:g} seconds; it is too complex to check")
        except _Refused as refused:
            return Inspection(str(refused))
        except Exception as exc:  # a parser's own failure on hostile or damaged content
            if _caused_by(exc, defusedxml.DefusedXmlException):
                return Inspection("the workbook's XML declares entities (an XML bomb or an external entity)")
            return Inspection(f"the file could not be read as {kind}: {_describe(exc, path)}")


def read_ahead(paths: Iterable[str | os.PathLike[str]]) -> None:
    """Asks the kernel to start reading these files now, all at once, before they are inspected one by one.

    A stored file not read for a while is no longer in memory: read one after the other, each would wait for the
    disk in turn. A file that cannot be opened is left to inspect_document to report. Where the system has no
    such hint (not Linux), nothing is done.
    """
    if not hasattr(os, "posix_fadvise"):
        return
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)


def _inspect(fh: BinaryIO, media_type: str, max_uncompressed_bytes: int, with_text: bool) -> Inspection:
    if media_type == PDF:
        return _inspect_pdf(fh, with_text)
    if media_type == CSV:
        return _inspect_csv(fh)
    if media_type == XLSX:
        return _inspect_xlsx(fh, max_uncompressed_bytes)
    return _inspect_image(fh, "PNG" if media_type == PNG else "JPEG")


def _describe(exc: BaseException, path: str | os.PathLike[str] | None = None) -> str:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if path is not None:
        # openpyxl names the file it read; where the store keeps it is nobody's business.
        detail = detail.replace(os.fspath(path), "the file")
    return detail if len(detail) <= 200 else detail[:199] + "…"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    # openpyxl re-raises parser errors as a plain ValueError; the real reason is further down the chain.
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


# PDF ------------------------------------------------------------------------------------------------


def _inspect_pdf(fh: BinaryIO, with_text: bool) -> Inspection:
    try:
        reader = PdfReader(fh, strict=False)
    except Exception as exc:
        raise _Refused(f"the PDF's structure is damaged: {_describe(exc)}") from exc
    if reader.is_encrypted:
        raise _Refused("the PDF is encrypted")
    findings = _active_content(reader)
    if findings:
        found = [name for name in _FINDING_ORDER if name in findings]
        listed = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]
        raise _Refused(f"the PDF contains {listed}")
    if not with_text:
        _decompress_pages(reader)
        return Inspection(None)
    return Inspection(None, text=_pdf_text(reader))


def _active_content(reader: PdfReader) -> set[str]:
    """Every kind of active content reachable from the trailer.

    A walk over the whole object graph rather than a look at a few known places: JavaScript can hang
    off outlines, form fields and action chains (/Next), and names written as /J#61vaScript or hidden
    in object streams only show up once pypdf has decoded them.
    """
    findings: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [reader.trailer]
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            reference = (node.idnum, node.generation)
            if reference in seen:
                continue
            seen.add(reference)
            if len(seen) > MAX_PDF_OBJECTS:
                raise _Refused(f"the PDF has more than {MAX_PDF_OBJECTS:,} objects, too many to inspect")
            node = node.get_object()
        if isinstance(node, DictionaryObject):
            findings |= _dictionary_findings(node)
            children: Iterable[object] = dict.values(node)  # raw: references stay unresolved until popped
        elif isinstance(node, ArrayObject):
            children = list.__iter__(node)
        else:
            continue
        stack.extend(child for child in children if isinstance(child, _PDF_CONTAINERS))
    return findings


def _dictionary_findings(node: DictionaryObject) -> set[str]:
    findings = set()
    action = _resolved(node.get("/S"))
    kind = _resolved(node.get("/Type"))
    if "/JS" in node or "/JavaScript" in node or action == "/JavaScript":
        findings.add(_JAVASCRIPT)
    if action == "/Launch":
        findings.add(_LAUNCH)
    if ("/EmbeddedFiles" in node or "/EF" in node or kind == "/EmbeddedFile" or action == "/GoToE"
            or _resolved(node.get("/Subtype")) == "/FileAttachment"):
        findings.add(_EMBEDDED)
    if "/AA" in node:
        findings.add(_ADDITIONAL_ACTIONS)
    if "/XFA" in node:
        findings.add(_XFA)
    return findings


def _resolved(value: object) -> object:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _each_page(reader: PdfReader, read: Callable[[PageObject], T]) -> Iterator[T | None]:
    """read(page) for each page, up to MAX_PDF_PAGES. A page that decompresses beyond safe limits refuses the file;
    one pypdf cannot otherwise read gives None: pypdf's page reading is less robust than its parser, and such a page
    is a page without text (ASSAY_MATCH then warns), not a damaged file."""
    for index, page in enumerate(itertools.islice(reader.pages, MAX_PDF_PAGES)):
        try:
            result = read(page)
        except LimitReachedError as exc:
            raise _Refused(f"page {index + 1} of the PDF decompresses beyond safe limits") from exc
        except Exception:
            result = None
        yield result


def _decompress(page: PageObject) -> None:
    contents = page.get_contents()
    if contents is not None:
        contents.get_data()


def _decompress_pages(reader: PdfReader) -> None:
    """What reading the text would decompress of the pages, without reading it: a page that decompresses beyond
    safe limits is refused whether or not its text is wanted."""
    for _ in _each_page(reader, _decompress):
        pass


def _pdf_text(reader: PdfReader) -> str:
    parts: list[str] = []
    length = 0
    for text in _each_page(reader, PageObject.extract_text):
        if text is not None:
            parts.append(text)
            length += len(text) + 1
        if length >= MAX_TEXT_CHARS:
            break
    return "\n".join(parts)[:MAX_TEXT_CHARS]


# CSV ------------------------------------------------------------------------------------------------


def _inspect_csv(fh: BinaryIO) -> Inspection:
    # newline="" hands CR, LF and CRLF to the csv module untouched, as its documentation requires.
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="strict", newline="")
    return Inspection(None, assay_rows=_read_assay_template(_csv_rows(text)))


def _csv_rows(text: io.TextIOWrapper) -> Iterator[list[str]]:
    reader = csv.reader(text)
    number = 0
    try:
        for number, row in enumerate(reader, 1):
            if number > MAX_ROWS:
                raise _Refused(f"the CSV has more than {MAX_ROWS:,} rows")
            yield row
    except UnicodeDecodeError as exc:
        raise _Refused("the file is not valid UTF-8 text") from exc
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise _Refused(
                f"row {number + 1} of the CSV has a field longer than {csv.field_size_limit():,} characters"
            ) from exc
        raise _Refused(f"the CSV could not be parsed at row {number + 1}: {_describe(exc)}") from exc


# XLSX -----------------------------------------------------------------------------------------------


def _inspect_xlsx(fh: BinaryIO, max_uncompressed_bytes: int) -> Inspection:
    if not openpyxl.DEFUSEDXML:
        raise _Refused("workbooks cannot be opened safely on this server (defusedxml is not in use)")
    try:
        archive = zipfile.ZipFile(fh)
    except Exception as exc:
        raise _Refused(f"the workbook is not a valid zip archive: {_describe(exc)}") from exc
    with archive:
        _check_archive(archive, max_uncompressed_bytes)
    fh.seek(0)
    workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True, keep_links=False)
    try:
        budget = _RowBudget(MAX_ROWS)
        sheets = workbook.worksheets
        assay_rows = _read_assay_template(budget.rows(sheets[0])) if sheets else None
        for sheet in sheets[1:]:
            # Read to the end so that every sheet's XML goes through the defused parser.
            for _ in budget.rows(sheet):
                pass
    finally:
        workbook.close()
    return Inspection(None, assay_rows=assay_rows)


def _check_archive(archive: zipfile.ZipFile, max_uncompressed_bytes: int) -> None:
    """Refuses bombs, macros and external links before openpyxl decompresses anything."""
    entries = archive.infolist()
    if len(entries) > MAX_XLSX_ENTRIES:
        raise _Refused(f"the workbook has more than {MAX_XLSX_ENTRIES:,} parts")
    size_problem = f"the workbook decompresses to more than {max_uncompressed_bytes / 1e6:g} MB"
    if sum(entry.file_size for entry in entries) > max_uncompressed_bytes:
        raise _Refused(size_problem)
    names = [entry.filename.lower() for entry in entries]
    if any(name.endswith("vbaproject.bin") or name.startswith("xl/macrosheets/") for name in names):
        raise _Refused("the workbook contains macros")
    if any(name.startswith("xl/externallinks/") for name in names):
        raise _Refused("the workbook links to external workbooks")
    _check_no_overlap(entries)

    # zipfile (Python 3.11) trusts the sizes in the headers; count what really comes out instead.
    budget = max_uncompressed_bytes
    content_types = bytearray()
    try:
        for entry in entries:
            with archive.open(entry) as stream:
                while chunk := stream.read(_READ_CHUNK):
                    budget -= len(chunk)
                    if budget < 0:
                        raise _Refused(size_problem)
                    if entry.filename == "[Content_Types].xml":
                        content_types += chunk
    except zipfile.BadZipFile as exc:
        # zipfile stops at the declared size, so a part larger than its header says fails its CRC here.
        raise _Refused(f"the workbook's zip archive is damaged or its sizes are false: {_describe(exc)}") from exc
    for element in defusedxml.ElementTree.fromstring(bytes(content_types)).iter():
        content_type = element.get("ContentType", "").lower()
        if "macroenabled" in content_type or "vbaproject" in content_type or "macrosheet" in content_type:
            raise _Refused("the workbook contains macros")
        if "externallink" in content_type:
            raise _Refused("the workbook links to external workbooks")


def _check_no_overlap(entries: Sequence[zipfile.ZipInfo]) -> None:
    # Overlapping entries (one compressed stream shared by many names) multiply the output without
    # raising any declared size above the limit; Python 3.11's zipfile does not detect them.
    spans = sorted((entry.header_offset, entry.header_offset + 30 + entry.compress_size) for entry in entries)
    for (_, end), (next_start, _) in zip(spans, spans[1:]):
        if end > next_start:
            raise _Refused("the workbook's zip entries overlap (a zip bomb technique)")


class _RowBudget:
    """The rows still allowed across all sheets of one workbook."""

    def __init__(self, limit: int) -> None:
        self.limit = self.left = limit

    def rows(self, sheet: ReadOnlyWorksheet) -> Iterator[tuple[object, ...]]:
        # The sheet's stated dimension may be a lie that pads every row; the budget bounds the work
        # instead, including the empty rows openpyxl invents for a gap before row 1,048,576.
        sheet.reset_dimensions()
        for row in sheet.iter_rows(max_row=self.left + 1, max_col=MAX_XLSX_COLUMNS, values_only=True):
            self.left -= 1
            if self.left < 0:
                raise _Refused(f"the workbook has more than {self.limit:,} rows")
            yield row


# Images ---------------------------------------------------------------------------------------------


def _inspect_image(fh: BinaryIO, image_format: str) -> Inspection:
    try:
        with Image.open(fh, formats=[image_format]) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _Refused(
                    f"the image is {width:,} × {height:,} pixels, more than the {MAX_IMAGE_PIXELS:,} "
                    "that can be decoded safely"
                )
            image.verify()
        # verify() leaves the image unusable; decoding every pixel needs a fresh open.
        fh.seek(0)
        with Image.open(fh, formats=[image_format]) as image:
            image.load()
    except Image.DecompressionBombError as exc:
        raise _Refused("the image's dimensions are too large to decode safely (a decompression bomb)") from exc
    return Inspection(None)


# The assay template ---------------------------------------------------------------------------------


def _read_assay_template(rows: Iterable[Sequence[object]]) -> tuple[AssayRow, ...] | None:
    """The template's rows when the first non-empty row is its header; reads every row either way."""
    header_seen = False
    assay_rows: list[AssayRow] | None = None
    first_row_of: dict[str, int] = {}
    for number, row in enumerate(rows, 1):
        if header_seen and assay_rows is None:
            continue  # not the template: the rest is only read through
        cells = _trimmed(row)
        if not cells:
            continue
        if not header_seen:
            header_seen = True
            if [_cell_text(cell).lower() for cell in cells] == _ASSAY_HEADER:
                assay_rows = []
            continue
        assay_row = _assay_row(number, cells)
        if assay_row.analyte in first_row_of:
            raise _Refused(
                f"assay template rows {first_row_of[assay_row.analyte]} and {number} both give {assay_row.analyte}"
            )
        first_row_of[assay_row.analyte] = number
        assay_rows.append(assay_row)
    return tuple(assay_rows) if assay_rows is not None else None


def _assay_row(number: int, cells: list[object]) -> AssayRow:
    where = f"assay template row {number}"
    if len(cells) != 3:
        raise _Refused(f"{where} should hold analyte, value and unit but has {len(cells)} values")
    analyte = _cell_text(cells[0])
    if analyte.lower() == "purity":
        analyte, expected_unit = "purity", "pct"
    elif len(analyte) <= 12 and _ANALYTE.fullmatch(analyte):
        expected_unit = "ppm"
    else:
        raise _Refused(f"{where}: {_quoted(analyte)} is neither purity nor an element symbol such as Fe")
    value = _decimal(cells[1])
    if value is None:
        raise _Refused(f"{where}: the value {_quoted(_cell_text(cells[1]))} of {analyte} is not a number")
    if value < 0 or (analyte == "purity" and value > 100):
        raise _Refused(f"{where}: the value {value} of {analyte} is out of range")
    unit = _cell_text(cells[2]).lower()
    if unit != expected_unit:
        raise _Refused(f"{where}: the unit of {analyte} must be {expected_unit}, not {_quoted(unit)}")
    return AssayRow(analyte=analyte, value=value, unit=unit)


def _trimmed(row: Sequence[object]) -> list[object]:
    if row.count(None) == len(row):  # the common empty row, without a loop in Python
        return []
    cells = list(row)
    while cells and _cell_text(cells[-1]) == "":
        cells.pop()
    return cells


def _cell_text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


def _decimal(cell: object) -> Decimal | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        # str() gives the shortest text that round-trips, i.e. what the spreadsheet showed.
        return Decimal(str(cell)) if math.isfinite(cell) else None
    if isinstance(cell, str):
        text = cell.strip()
        return Decimal(text) if len(text) <= _MAX_VALUE_CHARS and _NUMBER.fullmatch(text) else None
    return None


def _quoted(text: str) -> str:
    return repr(text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS] + "…")
