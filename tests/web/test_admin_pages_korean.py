"""The admin's pages in Korean, the default language: headings, labels, choices and validation messages."""
import html
import re

import pytest

from tests.helpers import PASSWORD, csrf_token_from, login, make_company, make_facility, make_user

KOREAN = {"Accept-Language": "ko"}


def korean_page(client, url) -> str:
    response = client.get(url, headers=KOREAN)
    assert response.status_code == 200, url
    text = html.unescape(response.get_data(as_text=True))
    assert '<html lang="ko">' in text
    return text


def errors_beside(text: str, field_id: str) -> list[str]:
    match = re.search(rf'<ul class="errors" id="{field_id}-errors">(.*?)</ul>', text, re.DOTALL)
    return re.findall(r"<li>(.*?)</li>", match.group(1), re.DOTALL) if match else []


def submit_in_korean(client, url, data):
    page = client.get(url, headers=KOREAN)
    return client.post(url, data={**data, "csrf_token": csrf_token_from(page.get_data(as_text=True))},
                       headers=KOREAN)


@pytest.fixture()
def admin(client, ctx):
    user = make_user("admin")
    login(client, user.email)
    return user


def test_companies_page_is_korean(client, admin):
    company = make_company("한빛배터리리사이클링", "124-81-00001")
    make_facility(company)
    page = korean_page(client, "/admin/companies")
    for korean in ("<h1>회사</h1>", "회사 등록", "사업자등록번호", "등록 일시", "한빛배터리리사이클링의 사업장(1곳)"):
        assert korean in page
    # The admin's own sections and the auditor's pages admins may read, in Korean.
    for href, korean in (("/admin/facilities", "사업장"), ("/admin/users", "사용자"), ("/admin/labs", "시험기관"),
                         ("/admin/materials", "소재"), ("/audit/trail", "감사 기록")):
        assert f'<a href="{href}">{korean}</a>' in page
    assert "Companies" not in page and "Register a company" not in page


def test_users_page_shows_roles_in_korean(client, admin):
    make_user("applicant", company=make_company())
    page = korean_page(client, "/admin/users")
    for korean in ("<h1>사용자</h1>", "사용자 만들기", "역할", "마지막 로그인", "신청자", "관리자", "없음"):
        assert korean in page
    assert "Applicant" not in page and "Last sign-in" not in page


def test_materials_page_is_korean(client, admin):
    page = korean_page(client, "/admin/materials")
    for korean in ("소재 카탈로그", "최소 순도(%)", "불순물 상한(ppm)", "회수율 최소 / 통상 최대 / 최대(%)", "수정"):
        assert korean in page
    assert "Min. purity" not in page and "Material catalogue" not in page


def test_new_facility_form_is_korean_and_keeps_the_stored_process_values(client, admin):
    make_company()
    page = korean_page(client, "/admin/facilities/new")
    for korean in ("<h1>사업장 등록</h1>", "사업장명", "허가 번호", "허가 유효 기한", "연간 처리 능력(kg)",
                   "회사를 선택하십시오", "취소"):
        assert korean in page
    for value, korean in (("hydrometallurgy", "습식제련"), ("pyrometallurgy", "건식제련"),
                          ("direct_recycling", "직접 재활용"), ("mechanical", "기계적 처리")):
        assert f'<option value="{value}">{korean}</option>' in page


def test_facility_form_without_companies_says_so_in_korean(client, admin):
    assert "먼저 회사를 등록해야 합니다" in korean_page(client, "/admin/facilities/new")


def test_validation_errors_are_korean(client, admin):
    company = make_company()
    response = submit_in_korean(client, "/admin/facilities/new", {
        "company_id": company.id, "name": "", "permit_no": "US-1", "permit_valid_until": "2030-01-01",
        "recycling_process": "mechanical", "annual_capacity_kg": "-5"})
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert '<html lang="ko">' in text
    assert errors_beside(text, "name") == ["이 항목은 필수입니다."]
    assert errors_beside(text, "annual_capacity_kg") == ["0보다 크고 1,000,000,000,000 이하여야 합니다."]


def test_user_form_errors_are_korean(client, admin):
    response = submit_in_korean(client, "/admin/users/new", {
        "email": "not-an-address", "password": PASSWORD, "role": "applicant", "company_id": ""})
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert errors_beside(text, "email") == ["이메일 주소에는 @ 기호가 있어야 합니다."]
    assert errors_beside(text, "company_id") == ["신청자는 회사에 소속되어야 합니다. 회사를 선택하십시오."]


def test_impurity_line_errors_and_flash_are_korean(client, admin):
    url = "/admin/materials/NISO4"
    page = korean_page(client, url)
    assert "새 기준값" in page and "현재 적용: 기준 버전 1" in page
    data = {"based_on_version": "1", "min_purity_pct": "98.5", "max_impurities_ppm": "Fe 10\nZn = 3\nZn = 4",
            "min_recovery_pct": "50", "typical_max_recovery_pct": "99", "max_recovery_pct": "102"}
    response = submit_in_korean(client, url, data)
    assert response.status_code == 422
    errors = errors_beside(html.unescape(response.get_data(as_text=True)), "max_impurities_ppm")
    assert errors[0].startswith('1행("Fe 10"): 원소 기호, "=", ppm 수치 순으로 입력하십시오')
    assert errors[1] == "3행: Zn 원소가 두 번 나옵니다. 원소마다 한 줄만 남기십시오."
    response = submit_in_korean(client, url, {**data, "max_impurities_ppm": "Fe = 5"})
    assert response.status_code == 302
    assert "NISO4: 새 기준값을 저장했습니다(기준 버전 2)." in korean_page(client, "/admin/materials")
