"""The certificate as a one-page bilingual A4 PDF: the signed facts, the status, and how to verify them."""
from __future__ import annotations

import functools
import importlib.util
import io
import zlib
from collections import Counter
from dataclasses import dataclass
from decimal import InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import (FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, TTFont, TTFontFace,
                                       makeToUnicodeCMap)
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (BaseDocTemplate, Flowable, Frame, KeepInFrame, PageTemplate, Paragraph,
                                Spacer, Table, TableStyle)

from certify.domain.canonical import canonical_json, sha256_hex
from certify.domain.numbers import to_decimal

KEYS_PATH = "/.well-known/certify-keys.json"

# Korean and English names of the default catalogue (domain.md, Material catalogue); formulas in Paragraph markup.
MATERIAL_NAMES = {
    "LI2CO3": ("탄산리튬", "Lithium carbonate", "Li<sub>2</sub>CO<sub>3</sub>"),
    "LIOH": ("수산화리튬 일수화물", "Lithium hydroxide monohydrate", "LiOH·H<sub>2</sub>O"),
    "NISO4": ("황산니켈 육수화물", "Nickel sulfate hexahydrate", "NiSO<sub>4</sub>·6H<sub>2</sub>O"),
    "COSO4": ("황산코발트 칠수화물", "Cobalt sulfate heptahydrate", "CoSO<sub>4</sub>·7H<sub>2</sub>O"),
    "MNSO4": ("황산망간 일수화물", "Manganese sulfate monohydrate", "MnSO<sub>4</sub>·H<sub>2</sub>O"),
    "PB": ("정제 납", "Refined lead", "Pb"),
}
GRADE_NAMES = {"battery": ("배터리 등급", "battery grade"), "technical": ("산업용 등급", "technical grade")}
STATUS_NAMES = {
    "valid": ("유효", "Valid", colors.HexColor("#1B7F3B")),
    "suspended": ("효력 정지", "Suspended", colors.HexColor("#B26A00")),
    "revoked": ("취소", "Revoked", colors.HexColor("#B3261E")),
}
CHAIN_OF_CUSTODY_NAMES = {"mass_balance": ("질량수지", "mass balance (ISO 22095)")}
DOCUMENT_KIND_NAMES = {
    "assay_report": "분석성적서 / assay report",
    "feedstock_evidence": "투입원료 증빙 / feedstock evidence",
    "production_record": "생산 기록 / production record",
    "mass_balance": "질량수지표 / mass balance",
    "other": "기타 / other",
}
# Beyond this many documents the page lists counts and one digest instead of each hash.
MAX_LISTED_DOCUMENTS = 8

INK = colors.HexColor("#1A2B42")
ACCENT = colors.HexColor("#1F4E79")
MUTED = colors.HexColor("#5B6675")
RULE = colors.HexColor("#B8C4D2")
SHADE = colors.HexColor("#EEF2F7")
MONO = "Courier"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 17 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN


@dataclass(frozen=True)
class _Fonts:
    regular: str
    bold: str
    embedded: bool


# Packages shipping a Hangul TrueType font reportlab can embed (NanumGothic, SIL OFL 1.1). None is a dependency:
# koreanize-matplotlib drags in matplotlib; the small Korean font packages ship CFF fonts reportlab cannot read.
_PACKAGE_FONTS = (("koreanize_matplotlib", "fonts/NanumGothic.ttf", "fonts/NanumGothicBold.ttf"),)
_DEBIAN_FONTS = ("/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
                 "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf")


@functools.cache
def _korean_font() -> _Fonts:
    """The font with Hangul glyphs: a package's TrueType, else Debian's fonts-nanum, else reportlab's CID font."""
    for package, regular, bold in _PACKAGE_FONTS:
        # find_spec locates the package without importing it (and its heavy dependencies).
        spec = importlib.util.find_spec(package)
        if spec and spec.submodule_search_locations:
            root = Path(next(iter(spec.submodule_search_locations)))
            if (root / regular).is_file():
                return _register_ttf(root / regular, root / bold)
    if Path(_DEBIAN_FONTS[0]).is_file():
        return _register_ttf(Path(_DEBIAN_FONTS[0]), Path(_DEBIAN_FONTS[1]))
    return _cid_font()


class _EmbeddedTTFont(TTFont):
    """A TrueType font embedded as subsets whose PDF objects are built once per process rather than once per PDF.

    Cutting the subset's glyphs out of the font, compressing them and writing out their widths were most of what
    a certificate cost. A subset of the same glyphs gives the same bytes every time, and certificates share their
    glyph sets: the page's own text is most of them. The objects are those TTFont.addObjects makes; only their
    contents are kept, per glyph set.
    """

    def addObjects(self, doc: pdfdoc.PDFDocument) -> None:
        state = self._assignState(doc)
        state.frozen = 1
        fonts = doc.idToObject["BasicFonts"].dict
        for index, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(index, doc)[1:]
            contents = _subset_contents(self.face, index, tuple(subset))
            # Referenced in the order TTFont.addObjects references them, which numbers the objects alike.
            to_unicode = doc.Reference(_stream(contents.to_unicode), "toUnicodeCMap:" + contents.base_font)
            font_file = doc.Reference(_stream(contents.program, Length1=contents.program_length),
                                      f"fontFile:{self.face.filename}({contents.base_font})")
            descriptor = doc.Reference(pdfdoc.PDFDictionary({
                "Type": "/FontDescriptor", "Ascent": self.face.ascent, "CapHeight": self.face.capHeight,
                "Descent": self.face.descent, "Flags": (self.face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
                "FontBBox": pdfdoc.PDFArray(self.face.bbox), "FontName": pdfdoc.PDFName(contents.base_font),
                "ItalicAngle": self.face.italicAngle, "StemV": self.face.stemV, "FontFile2": font_file,
                "MissingWidth": self.face.defaultWidth,
            }), "fontDescriptor:" + contents.base_font)
            font = pdfdoc.PDFTrueTypeFont()
            font.Name = internal_name
            font.BaseFont = contents.base_font
            font.FirstChar = 0
            font.LastChar = len(subset) - 1
            font.Widths = _Written(contents.widths)
            font.ToUnicode = to_unicode
            font.FontDescriptor = descriptor
            doc.Reference(font, internal_name)
            fonts[internal_name] = font
        del self.state[doc]


@dataclass(frozen=True)
class _SubsetContents:
    base_font: str
    program: bytes  # the subset TrueType program, compressed
    program_length: int
    widths: bytes  # the Widths array, written out
    to_unicode: bytes  # the ToUnicode CMap, compressed


@functools.lru_cache(maxsize=128)
def _subset_contents(face: TTFontFace, index: int, subset: tuple[int, ...]) -> _SubsetContents:
    # The same names and bytes TTFont.addObjects and TTFontFace.addSubsetObjects make.
    base_font = b"".join((SUBSETN(index), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
    program = face.makeSubset(list(subset))
    return _SubsetContents(
        base_font=base_font, program=zlib.compress(program), program_length=len(program),
        widths=pdfdoc.PDFArray([face.getCharWidth(code) for code in subset]).format(None),
        to_unicode=zlib.compress(makeToUnicodeCMap(base_font, list(subset)).encode("utf-8")))


def _stream(compressed: bytes, **entries: Any) -> pdfdoc.PDFStream:
    stream = pdfdoc.PDFStream(pdfdoc.PDFDictionary(entries), compressed)
    # With its Filter named, the stream is written as it is instead of being compressed again.
    stream.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
    return stream


class _Written(pdfdoc.PDFObject):
    """A PDF value already written out: the same bytes in every document."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: pdfdoc.PDFDocument) -> bytes:
        return self.data


def _register_ttf(regular: Path, bold: Path) -> _Fonts:
    # TTFont embeds only the glyphs a document uses, so the 4 MB font costs a few kB per PDF.
    pdfmetrics.registerFont(_EmbeddedTTFont("CertifyKorean", str(regular)))
    bold_name = "CertifyKorean"
    if bold.is_file():
        pdfmetrics.registerFont(_EmbeddedTTFont("CertifyKorean-Bold", str(bold)))
        bold_name = "CertifyKorean-Bold"
    # The family lets <b> in Paragraph markup pick the bold face.
    pdfmetrics.registerFontFamily("CertifyKorean", normal="CertifyKorean", bold=bold_name,
                                  italic="CertifyKorean", boldItalic=bold_name)
    return _Fonts("CertifyKorean", bold_name, embedded=True)


def _cid_font() -> _Fonts:
    # Not embedded: viewers with CJK support (Acrobat's Korean pack, poppler with CJK fonts) supply the glyphs.
    pdfmetrics.registerFont(UnicodeCIDFont("HYGothic-Medium"))
    return _Fonts("HYGothic-Medium", "HYGothic-Medium", embedded=False)


def render_certificate_pdf(document: dict[str, Any], status: str, verify_url: str) -> bytes:
    """Renders the certificate document (api.md) with its current status as one A4 page of PDF."""
    fonts = _korean_font()
    styles = _styles(fonts)
    certificate = document["certificate"]
    number = str(certificate.get("number", ""))
    buffer = io.BytesIO()
    template = BaseDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 6 * mm,
        bottomMargin=MARGIN + 4 * mm, title=f"재생원료 생산 인증서 {number}",
        author="certify", subject="Recycled Battery Material Production Certificate", creator="certify",
        invariant=True,  # no timestamp or random id: the same certificate renders to the same bytes
    )
    frame = Frame(template.leftMargin, template.bottomMargin, template.width, template.height,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="page")
    template.addPageTemplates([PageTemplate("certificate", [frame], onPage=functools.partial(
        _decorate_page, fonts=fonts, number=number))])
    story = [
        *_title(styles),
        _facts_table(certificate, styles),
        Spacer(1, 8 * mm),
        _verification_box(document, status, verify_url, styles),
    ]
    # Long names or many documents shrink the page's content rather than spill onto a second page.
    template.build([KeepInFrame(template.width, template.height, story, mode="shrink")])
    return buffer.getvalue()


class _Styles:
    def __init__(self, fonts: _Fonts) -> None:
        self.title_ko = ParagraphStyle("title_ko", fontName=fonts.bold, fontSize=21, leading=27,
                                       alignment=TA_CENTER, textColor=INK)
        self.title_en = ParagraphStyle("title_en", fontName=fonts.regular, fontSize=11.5, leading=15,
                                       alignment=TA_CENTER, textColor=ACCENT)
        self.statement = ParagraphStyle("statement", fontName=fonts.regular, fontSize=8.3, leading=11.5,
                                        alignment=TA_CENTER, textColor=INK)
        self.section = ParagraphStyle("section", fontName=fonts.bold, fontSize=8.8, leading=11,
                                      textColor=ACCENT)
        self.label_ko = ParagraphStyle("label_ko", fontName=fonts.bold, fontSize=7.6, leading=9.4, textColor=INK)
        self.label_en = ParagraphStyle("label_en", fontName=fonts.regular, fontSize=6.8, leading=8.4,
                                       textColor=MUTED)
        self.value = ParagraphStyle("value", fontName=fonts.regular, fontSize=9, leading=11.5, textColor=INK)
        self.value_strong = ParagraphStyle("value_strong", parent=self.value, fontName=fonts.bold)
        self.small = ParagraphStyle("small", fontName=fonts.regular, fontSize=7.1, leading=9.4, textColor=INK)
        self.url = ParagraphStyle("url", parent=self.small, fontName=MONO, fontSize=7.4, wordWrap="CJK")
        self.mono = ParagraphStyle("mono", parent=self.value, fontName=MONO, fontSize=7.6, leading=9.6,
                                   wordWrap="CJK")
        self.code = ParagraphStyle("code", fontName="Courier-Bold", fontSize=15, leading=18, textColor=INK)
        self.status = ParagraphStyle("status", fontName=fonts.bold, fontSize=12, leading=15)
        self.qr_caption = ParagraphStyle("qr_caption", parent=self.small, alignment=TA_CENTER, fontSize=6.6,
                                         leading=8.4, textColor=MUTED)


@functools.cache
def _styles(fonts: _Fonts) -> _Styles:
    return _Styles(fonts)


@dataclass(frozen=True)
class _Run:
    """Plain text (not Paragraph markup) in its paragraph's style, or in its own font, colour or size."""
    text: str
    font: str | None = None
    colour: colors.Color | None = None
    size: float | None = None


class _Lines(Flowable):
    """Paragraphs of plain text, stacked, each drawn just where Paragraph would draw it.

    Most of the page is labels and short values, and most of the rest is the same text on every certificate.
    Paragraph parses its markup and breaks its lines on every wrap, and a table wraps each cell more than once.
    Here a paragraph that fits on one line is measured and drawn directly, and one that does not has its lines
    broken by Paragraph itself, once per process for each text, style and width. Left to a Paragraph of its own:
    text in several fonts or sizes that needs more than one line, and lines Paragraph breaks within words or fits
    by narrowing their spaces.
    """

    def __init__(self, *paragraphs: tuple[ParagraphStyle, str | tuple[_Run, ...]]) -> None:
        super().__init__()
        self.paragraphs = [(style, (_Run(runs),) if isinstance(runs, str) else runs) for style, runs in paragraphs]
        self._laid_out_for: float | None = None
        self._laid_out: list[tuple[tuple[float, tuple[_Run, ...]], ...] | Paragraph] = []

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if availWidth != self._laid_out_for:
            self._laid_out_for = availWidth
            self._laid_out = [_lines(style, runs, availWidth) or _Paragraph(_markup(runs), style)
                              for style, runs in self.paragraphs]
        self.width, self.height = availWidth, 0
        for (style, _), lines in zip(self.paragraphs, self._laid_out):
            if isinstance(lines, Paragraph):
                self.height += lines.wrap(availWidth, availHeight)[1]
            else:
                self.height += style.leading * len(lines)
        return self.width, self.height

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:
        # Drawn in place rather than in a translated copy of the coordinates as Flowable.drawOn does: this is
        # drawn some fifty times a page, and writing out each translation cost more than the text itself.
        canvas.saveState()
        x = self._hAlignAdjust(x, _sW)
        top = y + self.height
        text = canvas.beginText()
        font = colour = None
        for (style, _), lines in zip(self.paragraphs, self._laid_out):
            if isinstance(lines, Paragraph):
                top -= lines.height
                lines.drawOn(canvas, x, top)
                continue
            for line_x, runs in lines:
                # Paragraph puts a line's baseline one font size below its top, and the next line a leading lower.
                text.setTextOrigin(x + line_x, top - style.fontSize)
                top -= style.leading
                for position, run in enumerate(runs, 1):
                    if (run.font or style.fontName, style.fontSize) != font:
                        font = (run.font or style.fontName, style.fontSize)
                        text.setFont(*font, style.leading)
                    if (run.colour or style.textColor) != colour:
                        colour = run.colour or style.textColor
                        text.setFillColor(colour)
                    if position < len(runs):
                        text.textOut(run.text)
                    else:  # the line's end: textLine does not measure the text, as textOut does for the next run
                        text.textLine(run.text)
        canvas.drawText(text)
        canvas.restoreState()

    def draw(self) -> None:
        self.drawOn(self.canv, 0, 0)


@functools.lru_cache(maxsize=1024)
def _lines(style: ParagraphStyle, runs: tuple[_Run, ...],
           width: float) -> tuple[tuple[float, tuple[_Run, ...]], ...] | None:
    """Each line's x and runs, as Paragraph would lay them out; None when Paragraph has to draw them.

    Kept per process: most of the page is the same text in the same place on every certificate.
    """
    text = "".join(run.text for run in runs)
    if _drawn_as_written(text) and all(run.size is None for run in runs):
        line_width = sum(pdfmetrics.stringWidth(run.text, run.font or style.fontName, style.fontSize)
                         for run in runs)
        if line_width <= width - style.leftIndent - style.rightIndent:
            return ((_line_x(style, width, line_width), runs),)
    if len(runs) == 1 and runs[0].font is None and runs[0].size is None:
        lines = _broken_lines(text, style, width)
        if lines is not None:
            return tuple((_line_x(style, width, line_width), (_Run(line, colour=runs[0].colour),))
                         for line, line_width in lines)
    return None


def _drawn_as_written(text: str) -> bool:
    """Whether Paragraph would draw the text as it is: no spaces to collapse, no soft hyphen."""
    return bool(text) and text == text.strip() and "  " not in text and not any(
        character.isspace() and character != " " or character in "\u200b\xad" for character in text)


def _line_x(style: ParagraphStyle, width: float, line_width: float) -> float:
    if style.alignment == TA_CENTER:
        return style.leftIndent + (width - style.leftIndent - style.rightIndent - line_width) / 2
    if style.alignment == TA_RIGHT:
        return width - style.rightIndent - line_width
    return style.leftIndent


def _broken_lines(text: str, style: ParagraphStyle, width: float) -> tuple[tuple[str, float], ...] | None:
    """Paragraph's own lines for plain text, each with its width; None if Paragraph lays them out otherwise."""
    paragraph = Paragraph(escape(text), style)
    paragraph.wrap(width, PAGE_HEIGHT)
    broken = paragraph.blPara
    # kind 0: one font throughout, each line the width left over and its words (Paragraph.breakLines). Lines
    # broken within words (wordWrap), justified, or squeezed by narrowing their spaces are left to Paragraph.
    if (broken.kind != 0 or style.wordWrap or style.alignment not in (TA_LEFT, TA_CENTER, TA_RIGHT)
            or style.firstLineIndent or any(unused < -1e-8 for unused, _ in broken.lines)):
        return None
    available = width - style.leftIndent - style.rightIndent
    return tuple((" ".join(words), available - unused) for unused, words in broken.lines)


def _markup(runs: tuple[_Run, ...]) -> str:
    parts = []
    for run in runs:
        attributes = "".join(f" {name}='{value}'" for name, value in (
            ("name", run.font), ("color", run.colour and _hex(run.colour)), ("size", run.size)) if value)
        parts.append(f"<font{attributes}>{escape(run.text)}</font>" if attributes else escape(run.text))
    return "".join(parts)


def _hex(colour: colors.Color) -> str:
    return colour.hexval().replace("0x", "#")


class _Paragraph(Paragraph):
    """A Paragraph that breaks its lines once per width: a table wraps its cells again before drawing them."""

    _wrapped_for: tuple[float, tuple[float, float]] | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        # The lines depend on the width alone (the height only matters to split, which a one-page story never does).
        if self._wrapped_for is None or self._wrapped_for[0] != availWidth:
            self._wrapped_for = (availWidth, super().wrap(availWidth, availHeight))
        return self._wrapped_for[1]


class _Table(Table):
    """A Table laid out once per available space: KeepInFrame lays its content out again to draw it."""

    _wrapped_for: tuple[tuple[float, float], tuple[float, float]] | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self._wrapped_for is None or self._wrapped_for[0] != (availWidth, availHeight):
            self._wrapped_for = ((availWidth, availHeight), super().wrap(availWidth, availHeight))
        return self._wrapped_for[1]


def _title(styles: _Styles) -> list[Flowable]:
    return [
        _Lines((styles.title_ko, "재생원료 생산 인증서")),
        _Lines((styles.title_en, "Recycled Battery Material Production Certificate")),
        Spacer(1, 5 * mm),
        _Lines((styles.statement, "아래 생산 배치의 재생원료 생산 사실을 질량수지 방식(ISO 22095)으로 검토하여 인증합니다."),
               (styles.statement, "This certifies the production of recycled material in the batch below, "
                                  "reviewed by mass balance (ISO 22095).")),
        Spacer(1, 7 * mm),
    ]


def _facts_table(certificate: dict[str, Any], styles: _Styles) -> Flowable:
    """Every fact of the signed certificate member, as label/value pairs two to a row."""
    company = _mapping(certificate.get("company"))
    facility = _mapping(certificate.get("facility"))

    def label(korean: str, english: str) -> Flowable:
        return _Lines((styles.label_ko, korean), (styles.label_en, english))

    def value(text: str, style: ParagraphStyle | None = None) -> Flowable:
        return _Lines((style or styles.value, text))

    def section(korean: str, english: str) -> tuple[Flowable]:
        return (_Lines((styles.section, (_Run(f"{korean} "), _Run(f"/ {english}", colour=MUTED)))),)

    return _FactsGrid([
        section("인증 대상", "Certified production"),
        (label("인증서 번호", "Certificate number"), value(_plain(certificate.get("number")), styles.value_strong),
         label("배치 번호", "Batch number"), value(_plain(certificate.get("batch_number")))),
        (label("재생원료", "Material"), _material(certificate.get("material_code"), styles)),
        (label("등급", "Grade"), value(_named(certificate.get("grade"), GRADE_NAMES)),
         label("생산량", "Quantity"), value(f"{_quantity(certificate.get('quantity_kg'))} kg", styles.value_strong)),
        (label("생산 기간", "Production period"),
         value(f"{_plain(certificate.get('production_start'))} – {_plain(certificate.get('production_end'))}"),
         label("발행 일시", "Issued at"), value(_plain(certificate.get("issued_at")))),
        section("생산자", "Producer"),
        (label("회사명", "Company"), value(_plain(company.get("name"))),
         label("사업자등록번호", "Business registration no."), value(_plain(company.get("business_registration_no")))),
        (label("사업장", "Facility"), value(_plain(facility.get("name"))),
         label("허가 번호", "Permit no."), value(_plain(facility.get("permit_no")))),
        (label("공정", "Process"), value(_plain(facility.get("process")))),
        section("재생원료 함량", "Recycled content"),
        (label("재생원료 함량", "Recycled content"),
         value(f"{_quantity(certificate.get('recycled_content_pct'))} %", styles.value_strong),
         label("관리 방식", "Chain of custody"), value(_named(certificate.get("chain_of_custody"),
                                                          CHAIN_OF_CUSTODY_NAMES))),
        (label("소비후 (폐배터리)", "Post-consumer"), value(f"{_quantity(certificate.get('post_consumer_pct'))} %"),
         label("소비전 (공정 스크랩)", "Pre-consumer"), value(f"{_quantity(certificate.get('pre_consumer_pct'))} %")),
        (label("심사 규칙 버전", "Ruleset version"), value(_plain(certificate.get("ruleset_version"))),
         label("승인 심사관 ID", "Approved by (reviewer ids)"), value(_reviewers(certificate.get("approved_by")))),
        section("증빙 문서", "Evidence documents (SHA-256)"),
        (label("문서", "Documents"), _documents(certificate.get("documents"), styles)),
    ])


class _FactsGrid(Flowable):
    """Rows of four columns (label, value, label, value) under shaded section headings, ruled below each row.

    Laid out and drawn as a reportlab Table with the matching spans and styles draws them: the same row
    heights, cell positions (middle aligned, padded), shading and rules. A Table sizes and places each of its
    sixty-odd cells through its machinery for spans and per-cell styles, which cost more than the cells' text.
    """

    LABEL_WIDTH = 36 * mm
    VALUE_WIDTH = CONTENT_WIDTH / 2 - 36 * mm
    PADDING = 4  # left, right and top
    BOTTOM_PADDING = 4.6
    SECTION_TOP_PADDING = 4.5
    # A Table still sizes the empty cells a span covers, as one line of its default style: 12 points high.
    SPANNED_CELL_HEIGHT = 12

    def __init__(self, rows: list[tuple[Flowable, ...]]) -> None:
        """Each row: a section heading alone, a label and a fact across the row, or two labels and facts."""
        super().__init__()
        self.rows = rows
        self.width = 2 * (self.LABEL_WIDTH + self.VALUE_WIDTH)
        self.hAlign = "CENTER"  # as a Table's: centred when a shrunk page gives it more width than it takes
        self._laid_out_for: float | None = None
        self._row_heights: list[float] = []
        self._cell_heights: list[list[float]] = []

    def _columns(self, row: tuple[Flowable, ...]) -> list[tuple[float, float]]:
        """(x, width) of each cell of the row."""
        label, value = self.LABEL_WIDTH, self.VALUE_WIDTH
        if len(row) == 1:
            return [(0, self.width)]
        if len(row) == 2:
            return [(0, label), (label, self.width - label)]
        return [(0, label), (label, value), (label + value, label), (2 * label + value, value)]

    def _top_padding(self, row: tuple[Flowable, ...]) -> float:
        return self.SECTION_TOP_PADDING if len(row) == 1 else self.PADDING

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if availWidth != self._laid_out_for:
            self._laid_out_for = availWidth
            self._cell_heights = [
                [cell.wrapOn(getattr(self, "canv", None), width - 2 * self.PADDING, availHeight)[1]
                 for cell, (_, width) in zip(row, self._columns(row))]
                for row in self.rows]
            self._row_heights = [
                max(*heights, self.SPANNED_CELL_HEIGHT if len(row) < 4 else 0)
                + self._top_padding(row) + self.BOTTOM_PADDING
                for row, heights in zip(self.rows, self._cell_heights)]
            self.height = sum(self._row_heights)
        return self.width, self.height

    def draw(self) -> None:
        canvas: Canvas = self.canv
        canvas.saveState()
        tops = [self.height]
        for row_height in self._row_heights:
            tops.append(tops[-1] - row_height)
        canvas.setFillColor(SHADE)
        for row, top, row_height in zip(self.rows, tops, self._row_heights):
            if len(row) == 1:
                canvas.rect(0, top, self.width, -row_height, stroke=0, fill=1)
        for row, heights, bottom, row_height in zip(self.rows, self._cell_heights, tops[1:], self._row_heights):
            for cell, height, (x, _) in zip(row, heights, self._columns(row)):
                # Vertically centred within the padding, as Table's VALIGN MIDDLE places it.
                y = bottom + (row_height + self.BOTTOM_PADDING - self._top_padding(row) - height) / 2
                cell.drawOn(canvas, x + self.PADDING, y)
        canvas.setLineCap(1)
        canvas.setLineJoin(1)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.4)
        for bottom in tops[1:]:
            canvas.line(0, bottom, self.width, bottom)
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(0.8)
        for row, top in zip(self.rows, tops):
            if len(row) == 1:
                canvas.line(0, top, self.width, top)
        canvas.restoreState()


def _verification_box(document: dict[str, Any], status: str, verify_url: str, styles: _Styles) -> Table:
    """Status, key, verification code and URL beside the QR code that opens the verification page."""
    status_ko, status_en, status_colour = STATUS_NAMES.get(status, (status, status, INK))
    keys_url = _keys_url(verify_url)
    lines: list[Flowable] = [
        _Lines((styles.status, (_Run(f"상태 / Status: {status_ko} / {status_en}", colour=status_colour),))),
        _Lines((styles.small, "이 PDF를 만든 시점의 상태이며, 현재 상태는 아래 주소에서 확인하십시오. / "
                              "Status when this PDF was generated; the page below shows the current status.")),
        Spacer(1, 2.2 * mm),
        _Lines((styles.label_ko, "검증 코드 / Verification code")),
        _Lines((styles.code, _plain(document.get("verification_code")))),
        Spacer(1, 1.2 * mm),
        _Lines((styles.label_ko, "검증 주소 / Verify at")),
        _Lines((styles.url, verify_url)),
        Spacer(1, 1.6 * mm),
        _Lines((styles.small, (_Run("서명 키 ID / Signing key id: "), _Run(_plain(document.get("key_id")), font=MONO),
                               _Run(" (Ed25519)")))),
        _Lines((styles.small, (_Run("서명 / Signature: "), _Run(_plain(document.get("signature")), font=MONO,
                                                              size=6.3)))),
        Spacer(1, 1.6 * mm),
        _Lines((styles.small,
                "오프라인 검증: 인증서 JSON 문서의 certificate 항목을 정규 JSON(키 정렬, 공백 없음, UTF-8)으로 "
                f"직렬화하고, {keys_url} 에 공개된 위 키 ID의 공개키로 Ed25519 서명을 확인하십시오. "
                "Offline verification: serialise the certificate member of the certificate's JSON document as "
                "canonical JSON (sorted keys, no whitespace, UTF-8) and check its Ed25519 signature with the public "
                f"key of the key id above, published at {keys_url}.")),
    ]
    qr_size = 39 * mm
    text_width = CONTENT_WIDTH - qr_size - 10 * mm
    qr_cell = [_QrCode(verify_url, qr_size),
               _Lines((styles.qr_caption, "QR 코드로 검증 페이지 열기"),
                      (styles.qr_caption, "Scan to open the verification page"))]
    box = _Table([[lines, qr_cell]], colWidths=[text_width, qr_size + 10 * mm])
    box.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 1, ACCENT),
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#F7F9FC")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (1, 0), (1, 0), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 7),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
    ]))
    return box


class _QrCode(Flowable):
    """The QR code drawn as vector rectangles, sharp at any zoom and in print."""

    def __init__(self, url: str, size: float) -> None:
        super().__init__()
        self.qr = segno.make(url, error="m", micro=False)
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        matrix = self.qr.matrix
        border = 2  # a quiet zone of 2 modules inside the box's own white space
        side = len(matrix) + 2 * border
        canvas: Canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        # In units of one module every rectangle has whole-number corners: short to write, exact to place.
        canvas.scale(self.size / side, self.size / side)
        runs = []
        for row_index, row in enumerate(matrix):
            y = side - border - 1 - row_index
            column = 0
            while column < len(row):
                if not row[column]:
                    column += 1
                    continue
                start = column
                while column < len(row) and row[column]:
                    column += 1
                # One rectangle per run of dark modules keeps the drawing small.
                runs.append(f"{start + border} {y} {column - start} 1 re")
        # All runs as one path filled once; the runs never overlap, so the fill covers exactly the dark modules.
        canvas.addLiteral("n " + "\n".join(runs) + " f")
        canvas.restoreState()


def _decorate_page(canvas: Canvas, doc: BaseDocTemplate, *, fonts: _Fonts, number: str) -> None:
    """The frame, header and footer that make the page read as an official certificate."""
    canvas.saveState()
    inset = 9 * mm
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(1.6)
    canvas.rect(inset, inset, PAGE_WIDTH - 2 * inset, PAGE_HEIGHT - 2 * inset)
    canvas.setLineWidth(0.5)
    canvas.rect(inset + 2 * mm, inset + 2 * mm, PAGE_WIDTH - 2 * inset - 4 * mm, PAGE_HEIGHT - 2 * inset - 4 * mm)
    canvas.setFillColor(MUTED)
    canvas.setFont(fonts.regular, 7)
    header_y = PAGE_HEIGHT - inset - 7.5 * mm
    canvas.drawString(MARGIN, header_y, "사용후전지 재생원료 생산 인증 · Recycled material production certification")
    canvas.drawRightString(PAGE_WIDTH - MARGIN, header_y, number)
    footer_y = inset + 5 * mm
    canvas.drawString(MARGIN, footer_y, "전자서명 문서 (Ed25519) · Digitally signed document (Ed25519)")
    canvas.drawRightString(PAGE_WIDTH - MARGIN, footer_y, "1 / 1")
    canvas.restoreState()


def _keys_url(verify_url: str) -> str:
    """Where the public keys are published: the verify URL's site and path prefix, plus KEYS_PATH."""
    parts = urlsplit(verify_url)
    prefix = parts.path.split("/verify/", 1)[0] if "/verify/" in parts.path else ""
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}{prefix}{KEYS_PATH}"
    return KEYS_PATH


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _plain(value: Any) -> str:
    """A fact as plain text; a missing one as a dash."""
    return "–" if value is None or value == "" else str(value)


def _quantity(value: Any) -> str:
    """A number with thousands separators and no trailing zeros: 10000 → 10,000; 93.75 → 93.75."""
    try:
        number = to_decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return _plain(value)
    if not number.is_finite():
        return _plain(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return format(number.normalize(), ",f")


def _named(value: Any, names: dict[str, tuple[str, ...]]) -> str:
    if isinstance(value, str) and value in names:
        korean, english = names[value][:2]
        return f"{korean} / {english}"
    return _plain(value)


def _material(code: Any, styles: _Styles) -> Flowable:
    names = MATERIAL_NAMES.get(code) if isinstance(code, str) else None
    if names is None:
        return _Lines((styles.value, _plain(code)))
    korean, english, formula = names
    return _Paragraph(f"<b>{escape(code)}</b> — {korean} / {english} ({formula})", styles.value)


def _reviewers(value: Any) -> str:
    if isinstance(value, list) and value:
        return ", ".join(f"#{_plain(reviewer)}" for reviewer in value)
    return _plain(value)


def _documents(value: Any, styles: _Styles) -> Flowable:
    """Counts per kind and each document's hash prefix; a single digest of the list when there are many."""
    documents = [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
    if not documents:
        return _Lines((styles.value, "–"))
    counts = Counter(str(item.get("kind", "")) for item in documents)
    summary = ", ".join(f"{escape(DOCUMENT_KIND_NAMES.get(kind, kind))} {count}"
                        for kind, count in sorted(counts.items()))
    lines = [f"{len(documents)}건 / documents: {summary}"]
    if len(documents) <= MAX_LISTED_DOCUMENTS:
        hashes = [f"{escape(str(item.get('kind', '')))} "
                  f"<font name='{MONO}'>{escape(str(item.get('sha256', ''))[:12])}</font>" for item in documents]
        lines.append(" · ".join(hashes))
    else:
        digest = sha256_hex(canonical_json(documents))
        lines.append(f"SHA-256 of the canonical JSON of all {len(documents)} entries / 전체 목록의 SHA-256: "
                     f"<font name='{MONO}'>{digest}</font>")
    return _Paragraph("<br/>".join(lines), styles.small)
