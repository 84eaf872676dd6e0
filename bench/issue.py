"""Certificate issue (sign + PDF + QR) against a minimal one-page reportlab PDF with a QR code, in one process.

The subject is what issuing costs beyond the database: signing the certificate member with the service's key,
its verification code, and rendering the certificate PDF with its QR code, as the service does them. The
baseline is the least a PDF with a QR code costs with the same libraries: one canvas page, a few lines of
built-in Helvetica, and the QR code made by segno (the service's QR library) drawn as one rectangle per run of
dark modules. (reportlab's own QR widget is no floor: it alone takes longer than the whole certificate.)
Runs alternate between the two; the medians are compared.
"""
import io
import statistics
import time

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from certify.certificate_pdf import render_certificate_pdf
from certify.services.certificates import keyring
from certify.signing import verification_code


def minimal_pdf_with_qr(number: str, url: str) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(20 * mm, 270 * mm, "Certificate")
    canvas.setFont("Helvetica", 11)
    canvas.drawString(20 * mm, 260 * mm, number)
    canvas.drawString(20 * mm, 253 * mm, url)
    matrix = segno.make(url, error="m", micro=False).matrix
    module = 40 * mm / len(matrix)
    left, top = 20 * mm, 240 * mm
    for row_index, row in enumerate(matrix):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            canvas.rect(left + start * module, top - (row_index + 1) * module, (column - start) * module, module,
                        stroke=0, fill=1)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def issued_pdf(content: dict, status: str, url: str) -> bytes:
    """Signs the certificate member and renders the certificate, as issuing and the first download do."""
    key_id, signature = keyring().sign(content)
    document = {"certificate": content, "status": status, "key_id": key_id, "signature": signature,
                "verification_code": verification_code(signature)}
    return render_certificate_pdf(document, status, url)


def median_seconds(content: dict, url: str, repeats: int) -> tuple[float, float]:
    """(subject, baseline) median seconds over `repeats` alternating runs, after one warm-up run of each."""
    number = content["number"]
    issued_pdf(content, "valid", url)
    minimal_pdf_with_qr(number, url)
    subject, baseline = [], []
    for index in range(repeats):
        order = [(subject, lambda: issued_pdf(content, "valid", url)),
                 (baseline, lambda: minimal_pdf_with_qr(number, url))]
        for times, render in (order if index % 2 == 0 else reversed(order)):
            started = time.perf_counter()
            render()
            times.append(time.perf_counter() - started)
    return statistics.median(subject), statistics.median(baseline)
