"""The public verification page a certificate's QR code opens: status and facts in Korean and English, 404 alike."""
import html
import re

import pytest
from sqlalchemy import select

from certify.extensions import db
from certify.models import Certificate
from certify.services import admin
from certify.web.formatting import date
from certify.web.public import KEPT_VERIFY_PAGES
from tests.helpers import Applicant, bearer, make_user, token_for
from tests.workers.test_check_runs import wait_for_status

STATUS_WORDS = {
    "valid": ("유효", "VALID", "이 인증서는 유효합니다", "This certificate is valid"),
    "suspended": ("효력 정지", "SUSPENDED", "이 인증서는 효력이 정지되었습니다", "This certificate is suspended"),
    "revoked": ("취소", "REVOKED", "이 인증서는 취소되었습니다", "This certificate is revoked"),
}


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture()
def reviewer_headers(client, ctx):
    return bearer(token_for(client, make_user("reviewer").email))


@pytest.fixture()
def certificate(client, reviewer_headers, worker) -> Certificate:
    """A certificate issued through the API: one batch, its lab accredited, approved by one reviewer."""
    admin.create_lab(None, "KOLAS-T-0417", "KTR Pohang")
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    batch = wait_for_status(applicant, batch["id"])
    approved = client.post(f"/api/v1/batches/{batch['id']}/decision", headers=reviewer_headers,
                           json={"decision": "approve", "version": batch["version"]}).get_json()
    return db.session.scalar(select(Certificate).where(Certificate.number == approved["certificate_number"]))


def visit(app, path, **headers):
    """As someone who scanned the QR code: a fresh browser, nobody signed in."""
    return app.test_client().get(path, headers=headers)


@pytest.mark.parametrize("status, events", [("valid", []), ("suspended", ["suspend"]),
                                            ("revoked", ["suspend", "revoke"])])
def test_the_page_shows_the_status_in_korean_and_english(app, client, reviewer_headers, certificate, status,
                                                         events):
    for event in events:
        response = client.post(f"/api/v1/certificates/{certificate.number}/{event}", headers=reviewer_headers,
                               json={"reason": "inspection"})
        assert response.status_code == 200
    db.session.refresh(certificate)

    response = visit(app, f"/verify/{certificate.number}?code={certificate.verification_code}")
    assert response.status_code == 200
    text = page_text(response)
    for words in STATUS_WORDS[status]:
        assert words in text, words
    assert f"verify-banner verify-{status}" in text
    for shown in (certificate.number, "재생원료 생산 인증서", "Recycled Battery Material Production Certificate",
                  "Hanbit Battery Recycling", "Pohang Plant", "황산니켈 육수화물", "Nickel sulfate hexahydrate",
                  "배터리 등급", "battery grade", "10,000 kg", "재생원료 함량", "Recycled content", "100 %",
                  "발행 일시", "Issued", date(certificate.issued_at), "상태 변경 일시", "Status changed",
                  date(certificate.status_changed_at), certificate.verification_code, certificate.key_id):
        assert shown in text, shown
    assert 'href="/.well-known/certify-keys.json"' in text and "/api/v1/public/verify" in text
    assert "inspection" not in text  # the reason is for the ministry's trail, not the public page
    assert response.headers["Cache-Control"] == "no-store"
    assert "Sign out" not in text


def test_a_kept_page_never_outlives_a_change_of_status(app, client, reviewer_headers, certificate):
    path = f"/verify/{certificate.number}?code={certificate.verification_code}"
    KEPT_VERIFY_PAGES.forget()
    assert "verify-banner verify-valid" in visit(app, path).get_data(as_text=True)
    assert visit(app, path).get_data() == visit(app, path).get_data()
    assert len(KEPT_VERIFY_PAGES) == 1  # kept: its key is made of values that can be kept under
    for event, status in (("suspend", "suspended"), ("reinstate", "valid"), ("suspend", "suspended"),
                          ("revoke", "revoked")):
        assert client.post(f"/api/v1/certificates/{certificate.number}/{event}", headers=reviewer_headers,
                           json={"reason": "inspection"}).status_code == 200
        shown = visit(app, path).get_data(as_text=True)
        assert f"verify-banner verify-{status}" in shown, (event, status)


def test_the_page_is_the_same_whatever_the_readers_language(app, certificate):
    path = f"/verify/{certificate.number}?code={certificate.verification_code}"
    korean, english = (visit(app, path, **{"Accept-Language": language}) for language in ("ko", "en"))
    assert korean.get_data() == english.get_data()
    # Times in both forms: Korean offices' in Korea's time, and ISO 8601 in UTC.
    text = re.sub(r"<[^>]+>", "", page_text(korean))
    for moment in (certificate.issued_at, certificate.status_changed_at):
        assert f"{date(moment, 'ko')} · {date(moment, 'en')}" in text
    assert date(certificate.issued_at, "ko").endswith(" KST") and date(certificate.issued_at, "en").endswith(" UTC")
    assert "Set-Cookie" not in korean.headers  # nothing of a session either


def test_the_links_follow_the_root_the_service_is_served_under(app, certificate):
    path = f"/verify/{certificate.number}?code={certificate.verification_code}"
    at_root = app.test_client().get(path).get_data(as_text=True)
    under_prefix = app.test_client().get(path, base_url="http://localhost/certify").get_data(as_text=True)
    for link in ("/static/certify.css", "/.well-known/certify-keys.json"):
        assert f'href="{link}"' in at_root and f'href="/certify{link}"' in under_prefix
    assert 'class="brand" href="/"' in at_root and 'class="brand" href="/certify/"' in under_prefix


def test_the_code_printed_in_capitals_works_too(app, certificate):
    response = visit(app, f"/verify/{certificate.number}?code={certificate.verification_code.upper()}")
    assert response.status_code == 200


def test_a_wrong_or_missing_code_looks_exactly_like_an_unknown_number(app, certificate):
    number, code = certificate.number, certificate.verification_code
    wrong_code = "0" * 12 if code != "0" * 12 else "1" * 12
    answers = [visit(app, path) for path in (
        f"/verify/{number}?code={wrong_code}", f"/verify/{number}", f"/verify/{number}?code=",
        f"/verify/KR-RM-2000-999999?code={code}", f"/verify/{number}?code={code[:-1]}")]
    assert [answer.status_code for answer in answers] == [404] * len(answers)
    # The language switch's CSRF token is signed with the second it was made in; nothing else may differ.
    bodies = {re.sub(r'name="csrf_token" value="[^"]+"', "", answer.get_data(as_text=True)) for answer in answers}
    assert len(bodies) == 1
    text = html.unescape(bodies.pop())
    assert "확인할 수 없음" in text and "NOT FOUND" in text
    assert number not in text and "Hanbit" not in text


def test_an_unknown_number_is_404_without_any_certificate(app, ctx):
    response = visit(app, "/verify/KR-RM-2026-000001?code=abcdefabcdef")
    assert response.status_code == 404 and "No certificate matches this number" in page_text(response)
