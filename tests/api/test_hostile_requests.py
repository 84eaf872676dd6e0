"""Requests built to hurt (security checklist 20, 21, 26, 27): hostile file names, a PDF that is also HTML, too
many form parts, an oversized text field. Each is refused or made harmless, and nothing reaches a header."""
import io

import pytest

from certify.documents.sniff import MAX_LABEL_CHARS
from tests.helpers import Applicant, csrf_token_from, login, make_user, minimal_pdf

HOSTILE_NAMES = [
    "../../etc/passwd",
    "..\\..\\win.ini",
    "%2e%2e%2fsecret.pdf",
    "a.pdf%00.html",
    "a.pdf\x00.html",
    "x" * 300 + ".pdf",
    "CON.pdf",
    'report".pdf; filename="evil.html',
    "report.pdf\tSet-Cookie: stolen=1",
    "분석 보고서.pdf",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_file_name_is_only_a_label_and_never_reaches_a_header_raw(client, ctx, name):
    applicant = Applicant(client)
    batch = applicant.batch()
    uploaded = applicant.upload(batch["id"], "assay_report", name, minimal_pdf("Assay report R-26-1187"))
    assert uploaded.status_code == 201, uploaded.get_json()
    label = uploaded.get_json()["filename"]
    assert not set(label) & set('/\\"\r\n\x00') and 0 < len(label) <= MAX_LABEL_CHARS
    download = applicant.get(f"/api/v1/batches/{batch['id']}/documents/{uploaded.get_json()['id']}")
    assert download.status_code == 200
    [disposition] = download.headers.getlist("Content-Disposition")
    assert disposition.startswith("attachment; filename=")
    assert "\r" not in disposition and "\n" not in disposition and disposition.count('"') in (0, 2)
    assert "Set-Cookie" not in download.headers
    if not label.isascii():  # RFC 6266 / 5987: the real name in filename*, an ASCII fallback in filename
        assert "filename*=UTF-8''" in disposition


def test_a_file_name_with_a_line_break_breaks_only_its_own_upload(client, ctx):
    """The line break ends the part's header early, so the part carries no file: a clear 422, nothing stored."""
    applicant = Applicant(client)
    batch = applicant.batch()
    response = applicant.upload(batch["id"], "assay_report", "report.pdf\r\nSet-Cookie: stolen=1", minimal_pdf("x"))
    assert response.status_code == 422 and "file" in response.get_json()["error"]["fields"]
    assert "Set-Cookie" not in response.headers
    assert applicant.get(f"/api/v1/batches/{batch['id']}").get_json()["documents"] == []


def test_a_pdf_that_is_also_html_is_served_as_a_sandboxed_pdf_attachment(client, ctx):
    applicant = Applicant(client)
    batch = applicant.batch()
    polyglot = minimal_pdf("Assay report R-26-1187") + b"<html><body><script>alert(document.cookie)</script></html>"
    uploaded = applicant.upload(batch["id"], "assay_report", "report.html", polyglot)
    assert uploaded.status_code == 201 and uploaded.get_json()["media_type"] == "application/pdf"
    download = applicant.get(f"/api/v1/batches/{batch['id']}/documents/{uploaded.get_json()['id']}")
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"].startswith("sandbox")


def test_two_thousand_form_parts_are_refused_with_413(client, ctx):
    applicant = Applicant(client)
    batch = applicant.batch()
    fields = {f"field{n}": "x" for n in range(2000)}
    response = applicant.post(f"/api/v1/batches/{batch['id']}/documents", content_type="multipart/form-data",
                              data={"kind": "assay_report", "file": (io.BytesIO(minimal_pdf("x")), "a.pdf"), **fields})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert applicant.get(f"/api/v1/batches/{batch['id']}").get_json()["documents"] == []


def test_a_one_megabyte_text_field_is_refused_with_413(app, ctx):
    make_user("auditor")
    browser = app.test_client()
    login(browser, "auditor@certify.test")
    token = csrf_token_from(browser.get("/home").get_data(as_text=True))
    response = browser.post("/logout", data={"csrf_token": token, "comment": "x" * (1024 * 1024)})
    assert response.status_code == 413
    assert browser.get("/home").status_code == 200  # the refused request changed nothing: still signed in


def test_signed_in_pages_are_not_cached_and_every_text_type_names_its_charset(app, ctx):
    make_user("auditor")
    browser = app.test_client()
    login(browser, "auditor@certify.test")
    for path in ("/home", "/audit/", "/no-such-page"):
        response = browser.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert "charset=utf-8" in response.headers["Content-Type"], path
    for path in ("/login", "/healthz", "/api/v1/openapi.json", "/.well-known/certify-keys.json"):
        content_type = app.test_client().get(path).headers["Content-Type"]
        assert not content_type.startswith("text/") or "charset=utf-8" in content_type, path
