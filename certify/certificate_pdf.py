"""The certificate as a one-page bilingual A4 PDF: the signed facts, the status, and how to verify them."""
from __future__ import annotations

import functools
import importlib.util
import io
from collections import Counter
from dataclasses import dataclass
from decimal import InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
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


def _register_ttf(regular: Path, bold: Path) -> _Fonts:
    # TTFont embeds only the glyphs a document uses, so the 4 MB font costs a few kB per PDF.
    pdfmetrics.registerFont(TTFont("CertifyKorean", str(regular)))
    bold_name = "CertifyKorean"
    if bold.is_file():
        pdfmetrics.registerFont(TTFont("CertifyKorean-Bold", str(bold)))
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
    styles = _Styles(fonts)
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


def _title(styles: _Styles) -> list[Flowable]:
    return [
        Paragraph("재생원료 생산 인증서", styles.title_ko),
        Paragraph("Recycled Battery Material Production Certificate", styles.title_en),
        Spacer(1, 5 * mm),
        Paragraph("아래 생산 배치의 재생원료 생산 사실을 질량수지 방식(ISO 22095)으로 검토하여 인증합니다.<br/>"
                  "This certifies the production of recycled material in the batch below, "
                  "reviewed by mass balance (ISO 22095).", styles.statement),
        Spacer(1, 7 * mm),
    ]


def _facts_table(certificate: dict[str, Any], styles: _Styles) -> Table:
    """Every fact of the signed certificate member, as label/value pairs two to a row."""
    company = _mapping(certificate.get("company"))
    facility = _mapping(certificate.get("facility"))

    def label(korean: str, english: str) -> list[Paragraph]:
        return [Paragraph(korean, styles.label_ko), Paragraph(english, styles.label_en)]

    def value(text: str, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(text, style or styles.value)

    def section(korean: str, english: str) -> list[Any]:
        return [Paragraph(f"{korean}  <font color='#5B6675'>/ {english}</font>", styles.section), "", "", ""]

    rows: list[list[Any]] = [
        section("인증 대상", "Certified production"),
        [label("인증서 번호", "Certificate number"), value(_text(certificate.get("number")), styles.value_strong),
         label("배치 번호", "Batch number"), value(_text(certificate.get("batch_number")))],
        [label("재생원료", "Material"), value(_material(certificate.get("material_code"))), "", ""],
        [label("등급", "Grade"), value(_named(certificate.get("grade"), GRADE_NAMES)),
         label("생산량", "Quantity"), value(f"{_quantity(certificate.get('quantity_kg'))} kg", styles.value_strong)],
        [label("생산 기간", "Production period"),
         value(f"{_text(certificate.get('production_start'))} – {_text(certificate.get('production_end'))}"),
         label("발행 일시", "Issued at"), value(_text(certificate.get("issued_at")))],
        section("생산자", "Producer"),
        [label("회사명", "Company"), value(_text(company.get("name"))),
         label("사업자등록번호", "Business registration no."), value(_text(company.get("business_registration_no")))],
        [label("사업장", "Facility"), value(_text(facility.get("name"))),
         label("허가 번호", "Permit no."), value(_text(facility.get("permit_no")))],
        [label("공정", "Process"), value(_text(facility.get("process"))), "", ""],
        section("재생원료 함량", "Recycled content"),
        [label("재생원료 함량", "Recycled content"),
         value(f"{_quantity(certificate.get('recycled_content_pct'))} %", styles.value_strong),
         label("관리 방식", "Chain of custody"), value(_named(certificate.get("chain_of_custody"),
                                                          CHAIN_OF_CUSTODY_NAMES))],
        [label("소비후 (폐배터리)", "Post-consumer"), value(f"{_quantity(certificate.get('post_consumer_pct'))} %"),
         label("소비전 (공정 스크랩)", "Pre-consumer"), value(f"{_quantity(certificate.get('pre_consumer_pct'))} %")],
        [label("심사 규칙 버전", "Ruleset version"), value(_text(certificate.get("ruleset_version"))),
         label("승인 심사관 ID", "Approved by (reviewer ids)"), value(_reviewers(certificate.get("approved_by")))],
        section("증빙 문서", "Evidence documents (SHA-256)"),
        [label("문서", "Documents"), _documents(certificate.get("documents"), styles), "", ""],
    ]
    label_width, value_width = 36 * mm, CONTENT_WIDTH / 2 - 36 * mm
    table = Table(rows, colWidths=[label_width, value_width, label_width, value_width])
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4.6),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
    ]
    for index, row in enumerate(rows):
        if row[1] == "":  # a section heading
            commands += [("SPAN", (0, index), (-1, index)), ("BACKGROUND", (0, index), (-1, index), SHADE),
                         ("TOPPADDING", (0, index), (-1, index), 4.5),
                         ("LINEABOVE", (0, index), (-1, index), 0.8, ACCENT)]
        elif row[2] == "":  # one fact spanning the row
            commands.append(("SPAN", (1, index), (-1, index)))
    table.setStyle(TableStyle(commands))
    return table


def _verification_box(document: dict[str, Any], status: str, verify_url: str, styles: _Styles) -> Table:
    """Status, key, verification code and URL beside the QR code that opens the verification page."""
    status_ko, status_en, status_colour = STATUS_NAMES.get(status, (status, status, INK))
    signature = _text(document.get("signature"))
    keys_url = _keys_url(verify_url)
    lines: list[Flowable] = [
        Paragraph(f"<font color='{status_colour.hexval().replace('0x', '#')}'>상태 / Status: "
                  f"{escape(status_ko)} / {escape(status_en)}</font>", styles.status),
        Paragraph("이 PDF를 만든 시점의 상태이며, 현재 상태는 아래 주소에서 확인하십시오. / "
                  "Status when this PDF was generated; the page below shows the current status.", styles.small),
        Spacer(1, 2.2 * mm),
        Paragraph("검증 코드 / Verification code", styles.label_ko),
        Paragraph(escape(_text(document.get("verification_code"))), styles.code),
        Spacer(1, 1.2 * mm),
        Paragraph("검증 주소 / Verify at", styles.label_ko),
        Paragraph(escape(verify_url), styles.url),
        Spacer(1, 1.6 * mm),
        Paragraph(f"서명 키 ID / Signing key id: <font name='{MONO}'>{escape(_text(document.get('key_id')))}"
                  f"</font> (Ed25519)", styles.small),
        Paragraph(f"서명 / Signature: <font name='{MONO}' size='6.3'>{escape(signature)}</font>", styles.small),
        Spacer(1, 1.6 * mm),
        Paragraph(
            "오프라인 검증: 인증서 JSON 문서의 certificate 항목을 정규 JSON(키 정렬, 공백 없음, UTF-8)으로 "
            f"직렬화하고, {escape(keys_url)} 에 공개된 위 키 ID의 공개키로 Ed25519 서명을 확인하십시오. "
            "Offline verification: serialise the certificate member of the certificate's JSON document as "
            "canonical JSON (sorted keys, no whitespace, UTF-8) and check its Ed25519 signature with the public "
            f"key of the key id above, published at {escape(keys_url)}.", styles.small),
    ]
    qr_size = 39 * mm
    text_width = CONTENT_WIDTH - qr_size - 10 * mm
    qr_cell = [_QrCode(verify_url, qr_size),
               Paragraph("QR 코드로 검증 페이지 열기<br/>Scan to open the verification page",
                         ParagraphStyle("qr_caption", parent=styles.small, alignment=TA_CENTER, fontSize=6.6,
                                        leading=8.4, textColor=MUTED))]
    box = Table([[lines, qr_cell]], colWidths=[text_width, qr_size + 10 * mm])
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
        module = self.size / (len(matrix) + 2 * border)
        canvas: Canvas = self.canv
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        for row_index, row in enumerate(matrix):
            y = self.size - (row_index + border + 1) * module
            column = 0
            while column < len(row):
                if not row[column]:
                    column += 1
                    continue
                start = column
                while column < len(row) and row[column]:
                    column += 1
                # One rectangle per run of dark modules keeps the drawing small.
                canvas.rect((start + border) * module, y, (column - start) * module, module, stroke=0, fill=1)


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


def _text(value: Any) -> str:
    """A fact as plain text, escaped for Paragraph markup; a missing one as a dash."""
    return "–" if value is None or value == "" else escape(str(value))


def _quantity(value: Any) -> str:
    """A number with thousands separators and no trailing zeros: 10000 → 10,000; 93.75 → 93.75."""
    try:
        number = to_decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return _text(value)
    if not number.is_finite():
        return _text(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return format(number.normalize(), ",f")


def _named(value: Any, names: dict[str, tuple[str, ...]]) -> str:
    if isinstance(value, str) and value in names:
        korean, english = names[value][:2]
        return f"{escape(korean)} / {escape(english)}"
    return _text(value)


def _material(code: Any) -> str:
    names = MATERIAL_NAMES.get(code) if isinstance(code, str) else None
    if names is None:
        return _text(code)
    korean, english, formula = names
    return f"<b>{escape(code)}</b> — {korean} / {english} ({formula})"


def _reviewers(value: Any) -> str:
    if isinstance(value, list) and value:
        return ", ".join(f"#{_text(reviewer)}" for reviewer in value)
    return _text(value)


def _documents(value: Any, styles: _Styles) -> Paragraph:
    """Counts per kind and each document's hash prefix; a single digest of the list when there are many."""
    documents = [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
    if not documents:
        return Paragraph("–", styles.value)
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
    return Paragraph("<br/>".join(lines), styles.small)
