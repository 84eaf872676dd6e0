"""The certificate PDF (domain.md, Certificate): one bilingual page carrying the signed facts and how to verify them."""
import io
import subprocess
from xml.sax.saxutils import escape

import pypdf
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from certify import certificate_pdf
from certify.certificate_pdf import render_certificate_pdf
from certify.signing import Keyring, verification_code

KEYRING = Keyring(Ed25519PrivateKey.generate())


def make_document(**changes):
    certificate = {
        "number": "KR-RM-2026-000007", "batch_number": "B-2026-000041",
        "company": {"name": "한빛리사이클링 주식회사", "business_registration_no": "123-45-67890"},
        "facility": {"name": "오창 제2공장", "permit_no": "충북-2025-0042", "process": "hydrometallurgy"},
        "material_code": "NISO4", "grade": "battery", "quantity_kg": 10000,
        "production_start": "2026-02-01", "production_end": "2026-02-28",
        "recycled_content_pct": 93.7577, "post_consumer_pct": 81.25, "pre_consumer_pct": 12.5077,
        "chain_of_custody": "mass_balance", "ruleset_version": 3,
        "documents": [{"kind": "assay_report", "sha256": "3f2a9c01b4e7" + "0" * 52},
                      {"kind": "feedstock_evidence", "sha256": "a1b2c3d4e5f6" + "1" * 52}],
        "approved_by": [5, 9], "issued_at": "2026-03-01T09:30:00Z",
    }
    certificate.update(changes)
    kid, signature = KEYRING.sign(certificate)
    return {"certificate": certificate, "status": "valid", "key_id": kid, "signature": signature,
            "verification_code": verification_code(signature)}


def verify_url(document):
    return (f"https://certify.example.kr/verify/{document['certificate']['number']}"
            f"?code={document['verification_code']}")


def extracted_text(pdf):
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_the_certificate_is_one_pdf_page_with_its_number_code_and_korean_text():
    document = make_document()
    pdf = render_certificate_pdf(document, "valid", verify_url(document))
    reader, text = extracted_text(pdf)
    assert pdf.startswith(b"%PDF-")
    assert len(reader.pages) == 1
    assert "KR-RM-2026-000007" in text
    assert document["verification_code"] in text
    assert "재생원료 생산 인증서" in text
    assert "Recycled Battery Material Production Certificate" in text


def test_every_signed_fact_is_printed():
    document = make_document()
    _, text = extracted_text(render_certificate_pdf(document, "valid", verify_url(document)))
    for fact in ["B-2026-000041", "한빛리사이클링 주식회사", "123-45-67890", "오창 제2공장", "충북-2025-0042",
                 "hydrometallurgy", "NISO4", "황산니켈 육수화물", "Nickel sulfate hexahydrate", "battery grade",
                 "10,000 kg", "2026-02-01", "2026-02-28", "93.7577 %", "81.25 %", "12.5077 %",
                 "mass balance (ISO 22095)", "3f2a9c01b4e7", "a1b2c3d4e5f6", "#5, #9", "2026-03-01T09:30:00Z",
                 document["key_id"], document["signature"]]:
        assert fact in text, fact


def test_the_status_the_verify_url_and_the_offline_key_location_are_printed():
    document = make_document()
    _, text = extracted_text(render_certificate_pdf(document, "suspended", verify_url(document)))
    assert "효력 정지 / Suspended" in text
    assert verify_url(document) in text.replace("\n", "")
    assert "https://certify.example.kr/.well-known/certify-keys.json" in text


def test_quantities_get_thousands_separators():
    document = make_document(quantity_kg=1234567.5)
    _, text = extracted_text(render_certificate_pdf(document, "valid", verify_url(document)))
    assert "1,234,567.5 kg" in text


def test_many_documents_are_summarised_by_kind_and_one_digest():
    documents = [{"kind": "assay_report", "sha256": f"{i:064x}"} for i in range(30)]
    document = make_document(documents=documents)
    _, text = extracted_text(render_certificate_pdf(document, "valid", verify_url(document)))
    assert "assay report 30" in text
    assert "SHA-256 of the canonical JSON of all 30 entries" in text


def test_long_values_and_markup_stay_on_one_page():
    document = make_document(company={"name": "<b>재생 & 순환</b> " * 20, "business_registration_no": "1" * 80},
                             facility={"name": "긴사업장이름" * 30, "permit_no": "P" * 90, "process": "x " * 300},
                             material_code="UNKNOWN", grade="technical")
    pdf = render_certificate_pdf(document, "revoked", verify_url(document) + "&padding=" + "y" * 300)
    reader, text = extracted_text(pdf)
    assert len(reader.pages) == 1
    assert "<b>재생 & 순환</b>" in text  # shown as typed, not taken as markup
    assert "취소 / Revoked" in text


def test_the_same_certificate_renders_to_the_same_bytes():
    document = make_document()
    assert render_certificate_pdf(document, "valid", verify_url(document)) == \
        render_certificate_pdf(document, "valid", verify_url(document))


def test_the_qr_code_encodes_the_exact_verify_url(monkeypatch):
    document = make_document()
    url = verify_url(document)
    made = []
    real_make = segno.make

    def recording_make(content, **options):
        qr = real_make(content, **options)
        made.append((content, qr))
        return qr

    monkeypatch.setattr(certificate_pdf.segno, "make", recording_make)
    render_certificate_pdf(document, "valid", url)
    [(content, qr)] = made
    assert content == url
    assert not qr.is_micro
    assert qr.mode == "byte"
    assert qr.matrix == real_make(url, error="m", micro=False).matrix


def test_the_qr_code_decodes_to_the_verify_url(tmp_path):
    # zbar-tools and poppler-utils come from Debian's packages, installed by .ci/run.
    document = make_document()
    (tmp_path / "certificate.pdf").write_bytes(render_certificate_pdf(document, "valid", verify_url(document)))
    subprocess.run(["pdftoppm", "-png", "-r", "150", "certificate.pdf", "page"], cwd=tmp_path, check=True)
    decoded = subprocess.run(["zbarimg", "--raw", "-q", "page-1.png"], cwd=tmp_path, capture_output=True, text=True)
    assert decoded.stdout.strip() == verify_url(document)


def test_the_korean_font_is_embedded_when_a_truetype_font_is_available():
    # Debian's fonts-nanum is installed by .ci/run; without it the CID fallback below is used.
    assert certificate_pdf._korean_font().embedded
    document = make_document()
    pdf = render_certificate_pdf(document, "valid", verify_url(document))
    assert b"/FontFile2" in pdf


def test_the_cid_fallback_still_yields_extractable_korean(monkeypatch):
    monkeypatch.setattr(certificate_pdf, "_korean_font", certificate_pdf._cid_font)
    document = make_document()
    reader, text = extracted_text(render_certificate_pdf(document, "valid", verify_url(document)))
    assert len(reader.pages) == 1
    assert "재생원료 생산 인증서" in text
    assert document["verification_code"] in text


def page_pdf(flowable, width):
    """One A4 page with the flowable drawn at its top left."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    _, height = flowable.wrapOn(canvas, width, A4[1])
    flowable.drawOn(canvas, 40, A4[1] - 40 - height)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def page_png(tmp_path, name, flowable, width):
    """page_pdf as a 100 dpi PNG (pdftoppm, poppler-utils)."""
    (tmp_path / f"{name}.pdf").write_bytes(page_pdf(flowable, width))
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-singlefile", f"{name}.pdf", name], cwd=tmp_path, check=True)
    return (tmp_path / f"{name}.png").read_bytes()


def shown_text(pdf):
    """Each piece of text the page shows (the text, where it starts, its font and size) and each word spacing."""
    shown = []

    def visit_text(text, cm, tm, font, size):
        if text.strip():
            x, y = tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            shown.append((text.strip(), round(x, 2), round(y, 2), font["/BaseFont"], size))

    def visit_operator(operator, operands, cm, tm):
        if operator == b"Tw":
            shown.append(("word spacing", round(float(operands[0]), 3)))

    pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit_text,
                                                           visitor_operand_before=visit_operator)
    return shown


def test_plain_text_is_shown_just_where_a_paragraph_shows_it():
    styles = certificate_pdf._styles(certificate_pdf._korean_font())
    Run = certificate_pdf._Run
    plain = [
        (styles.value, "Bench Recycling Co."),  # fits on one line
        (styles.statement, "재생원료 생산 사실을 인증합니다."),  # centred
        (styles.value, "한빛리사이클링 주식회사 " * 8),  # broken into lines
        (styles.value, "  two  spaces,\ta tab and a\xa0no-break space  "),  # spaces Paragraph collapses
        (styles.small, "x " * 120),  # lines that fit only with their spaces narrowed (at 153 points)
        (styles.url, "https://certify.example.kr/verify/KR-RM-2026-000007?code=" + "y" * 80),  # broken in words
    ]
    runs = [
        (styles.section, (Run("인증 대상 "), Run("/ Certified production", colour=certificate_pdf.MUTED)),
         "인증 대상 <font color='#5B6675'>/ Certified production</font>"),
        (styles.small, (Run("서명 / Signature: "), Run("A" * 88, font="Courier", size=6.3)),
         "서명 / Signature: <font name='Courier' size='6.3'>" + "A" * 88 + "</font>"),
    ]
    for style, text, markup in [(style, text, escape(text)) for style, text in plain] + runs:
        shown = shown_text(page_pdf(certificate_pdf._Lines((style, text)), 153))
        assert shown == shown_text(page_pdf(Paragraph(markup, style), 153)), markup


def test_the_facts_grid_looks_like_the_table_it_stands_for(tmp_path):
    styles = certificate_pdf._styles(certificate_pdf._korean_font())
    certificate = make_document(company={"name": "한빛리사이클링 주식회사 " * 6, "business_registration_no": "1"})
    grid = certificate_pdf._facts_table(certificate["certificate"], styles)
    # The Table the facts were drawn with before: empty cells under each span, the styles below.
    rows = [list(row) + [""] * (4 - len(row)) for row in certificate_pdf._facts_table(certificate["certificate"],
                                                                                      styles).rows]
    commands = [("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4), ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4.6),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, certificate_pdf.RULE)]
    for index, row in enumerate(rows):
        if row[1] == "":
            commands += [("SPAN", (0, index), (-1, index)), ("BACKGROUND", (0, index), (-1, index),
                                                                certificate_pdf.SHADE),
                         ("TOPPADDING", (0, index), (-1, index), 4.5),
                         ("LINEABOVE", (0, index), (-1, index), 0.8, certificate_pdf.ACCENT)]
        elif row[2] == "":
            commands.append(("SPAN", (1, index), (-1, index)))
    label, value = certificate_pdf._FactsGrid.LABEL_WIDTH, certificate_pdf._FactsGrid.VALUE_WIDTH
    table = Table(rows, colWidths=[label, value, label, value], style=TableStyle(commands))
    width = certificate_pdf.CONTENT_WIDTH
    assert page_png(tmp_path, "grid", grid, width) == page_png(tmp_path, "table", table, width)


def test_a_certificate_renders_alike_whatever_was_rendered_before_it():
    # The font subsets are kept per glyph set: other certificates' glyphs must neither leak in nor go missing.
    first = make_document(company={"name": "가온누리 재생 주식회사", "business_registration_no": "1"})
    second = make_document(company={"name": "다솜바람 순환 유한회사", "business_registration_no": "2"})
    alone = render_certificate_pdf(second, "valid", verify_url(second))
    certificate_pdf._subset_contents.cache_clear()
    certificate_pdf._lines.cache_clear()
    render_certificate_pdf(first, "valid", verify_url(first))
    after_another = render_certificate_pdf(second, "valid", verify_url(second))
    assert after_another == alone
    assert "다솜바람 순환 유한회사" in extracted_text(after_another)[1]
