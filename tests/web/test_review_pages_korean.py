"""The reviewer's and auditor's pages in Korean, the default language: headings, labels, choices, flashes, errors."""
import html
import re

import pytest

from tests.helpers import Applicant, csrf_token_from, login, make_user
from tests.web.test_review_pages import submitted

KOREAN = {"Accept-Language": "ko"}
ENGLISH = {"Accept-Language": "en"}


def korean_page(browser, url, status=200) -> str:
    response = browser.get(url, headers=KOREAN)
    assert response.status_code == status, url
    text = html.unescape(response.get_data(as_text=True))
    assert '<html lang="ko">' in text
    return text


def signed_in(app, role, email=None):
    browser = app.test_client()
    login(browser, make_user(role, email=email).email)
    return browser


@pytest.fixture()
def reviewer(app, ctx):
    return signed_in(app, "reviewer", "reviewer0@certify.test")


@pytest.fixture()
def auditor(app, ctx):
    return signed_in(app, "auditor")


def test_the_queue_reads_in_korean(client, reviewer, worker):
    batch = submitted(Applicant(client))
    page = korean_page(reviewer, "/review/")
    for korean in ("<h1>심사 대기 목록</h1>", "심사 대기 배치 1건", "제출이 오래된 순", "최소 대기 일수",
                   "경고가 있는 배치만", "모든 소재", "모든 회사", "필터 적용", "생산량", ">대기 기간</th>", "오늘",
                   '<a href="/review/" aria-current="page">심사 대기</a>', batch["number"]):
        assert korean in page, korean
    assert "Review queue" not in page and "awaiting review" not in page and "Waiting" not in page

    empty = korean_page(reviewer, "/review/?material=PB")
    assert "이 필터와 일치하는 심사 대기 배치가 없습니다." in empty and "필터와 일치하는 심사 대기 배치 0건" in empty


def test_a_review_page_reads_in_korean_with_its_errors_and_flashes(client, reviewer, worker):
    batch = submitted(Applicant(client))  # LAB_ACCREDITED warns: two approvals needed
    url = f"/review/batches/{batch['id']}"
    page = korean_page(reviewer, url)
    for korean in (f"<h1>배치 {batch['number']}", "배치 정보", "투입 원료(원료 로트)", "물질수지", "회수율",
                   "재활용 함량", "사용 후(폐배터리)", "배터리 등급", "증빙 문서", "분석 성적서", "심사 결정",
                   "아직 결정이 없습니다.", "내 결정", "서로 다른 심사자의 승인 2건이 필요하며", "결정 기록",
                   "> 승인</label>", "> 보완 요청</label>", "> 반려</label>", "2건 중 0건 승인"):
        assert korean in page, korean
    for english in ("Your decision", "Record decision", "Evidence documents", "post-consumer", "battery grade"):
        assert english not in page, english

    token = csrf_token_from(page)
    refused = reviewer.post(f"{url}/decision", headers=KOREAN, data={
        "csrf_token": token, "decision": "reject", "comment": " ", "version": batch["version"]})
    assert refused.status_code == 422
    assert re.search(r'id="comment-errors"><li>배치를 반려하려면 의견을 작성하십시오', refused.get_data(as_text=True))
    no_choice = reviewer.post(f"{url}/decision", headers=KOREAN, data={"csrf_token": token,
                                                                        "version": batch["version"]})
    assert "결정을 선택하십시오." in html.unescape(no_choice.get_data(as_text=True))

    approved = reviewer.post(f"{url}/decision", headers=KOREAN, data={
        "csrf_token": token, "decision": "approve", "comment": "", "version": batch["version"]})
    assert approved.status_code == 302
    page = korean_page(reviewer, url)
    assert f"{batch['number']} 배치에 대한 승인이 기록되었습니다." in page
    assert "이 배치를 승인했습니다." in page and "심사자: reviewer0@certify.test" in page


def test_the_audit_pages_read_in_korean(client, auditor, worker):
    batch = submitted(Applicant(client))
    page = korean_page(auditor, f"/audit/batches/{batch['id']}")
    for korean in (f"<h1>배치 {batch['number']}", "증빙 묶음 (.zip)", '">감사 기록</a>', "<h2 id=\"facts-heading\">생산</h2>",
                   "<h2 id=\"assay-heading\">분석</h2>", "성적서 번호", "투입 원료", "로트 질량", "물질수지", "검사",
                   "메시지와 수치", "분석 성적서", "아직 결정이 없습니다.", "인증서 없음: 승인되지 않은 배치입니다."):
        assert korean in page, korean
    assert "Evidence bundle" not in page and "No decision yet." not in page

    search = korean_page(auditor, "/audit/batches")
    for korean in ("<h1>배치</h1>", "배치 번호", "또는 번호의 앞부분", "모든 회사", "모든 상태", ">심사 대기</option>",
                   "생산 기간이 이 기간과 겹치는 배치", ">검색</button>", batch["number"]):
        assert korean in search, korean
    refused = korean_page(auditor, "/audit/batches?period_from=2026-03-02&period_to=2026-03-01", status=422)
    assert "기간의 종료일이 시작일보다 앞섭니다." in refused

    trail = korean_page(auditor, f"/audit/trail?object_type=batch&object_id={batch['id']}")
    assert f"<h1>배치 {batch['number']} 감사 기록</h1>" in trail and "배치로 돌아가기" in trail and "시스템" in trail
    verify = korean_page(auditor, "/audit/verify")
    assert "<h2>체인이 온전합니다</h2>" in verify


def test_the_public_page_is_bilingual_whatever_the_reader_asks_for(app, ctx):
    """Korean and English side by side for everyone; a 404 is the same page whatever was asked, in any language."""
    path = "/verify/KR-RM-2026-000001?code=abcdefabcdef"
    answers = [app.test_client().get(path, headers=headers) for headers in (KOREAN, ENGLISH, {})]
    assert {answer.status_code for answer in answers} == {404}
    bodies = {answer.get_data(as_text=True) for answer in answers}
    assert len(bodies) == 1
    body = bodies.pop()
    assert "확인할 수 없음" in body and "NOT FOUND" in body
    assert "KR-RM-2026-000001" not in body and "abcdefabcdef" not in body
