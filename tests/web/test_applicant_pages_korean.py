"""The applicant's pages in Korean, the default language: labels, choices, messages and the live progress texts."""
import io
import re

from certify.extensions import db
from certify.models import Batch, FeedstockLot
from tests.helpers import (
    Applicant,
    batch_form,
    csrf_token_from,
    evidence_files,
    login,
    lot_form,
    lot_held,
    submit_form,
)

KO = {"Accept-Language": "ko"}


def signed_in(client) -> Applicant:
    applicant = Applicant(client, "Hanbit Battery Recycling", "124-81-00001")
    login(client, applicant.user.email)
    return applicant


def korean(response) -> str:
    html = response.get_data(as_text=True)
    assert '<html lang="ko">' in html
    return html


def errors_beside(html: str, field_id: str) -> str:
    match = re.search(rf'<ul class="errors" id="{re.escape(field_id)}-errors">(.*?)</ul>', html, re.DOTALL)
    assert match, f"no errors shown beside {field_id}"
    return match.group(1)


def register_lot(client, facility, **overrides) -> FeedstockLot:
    response = submit_form(client, "/lots/new", lot_form(facility, **overrides), headers=KO)
    assert response.status_code == 302
    return db.session.scalar(db.select(FeedstockLot).order_by(FeedstockLot.id.desc()))


def create_batch(client, facility, lot) -> Batch:
    response = submit_form(client, "/batches/new", batch_form(facility, [(lot.id, "11,000")]), headers=KO)
    assert response.status_code == 302
    return db.session.get(Batch, int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1]))


def test_the_lot_list_reads_in_korean(client, ctx):
    applicant = signed_in(client)
    register_lot(client, applicant.facility)
    page = korean(client.get("/lots", headers=KO))
    assert "로트 IN-2026-0042(12,000 kg)를 등록했습니다." in page  # the flash, made in Korean
    assert "<h1>원료 로트</h1>" in page and ">로트 등록</a>" in page
    assert "<th scope=\"col\">공급처</th>" in page and ">잔량</th>" in page
    assert "사용 후(폐배터리)" in page and "블랙매스" in page  # category and form by their labels
    assert "post consumer" not in page and "black mass" not in page
    assert 'aria-current="page">로트</a>' in page


def test_a_refused_lot_form_says_what_to_fix_in_korean(client, ctx):
    applicant = signed_in(client)
    empty = korean(client.get("/lots/new", headers=KO))
    assert "<h1>원료 로트 등록</h1>" in empty and "— 선택 —" in empty and "제조 공정 스크랩" in empty
    assert "알 수 없음 / 배터리 아님" in empty and "올바로 인계서 번호입니다" in empty
    response = submit_form(client, "/lots/new", lot_form(applicant.facility, received_on="",
                                                          element_content_pct="Ni = 6,2\nXx1 = 3"), headers=KO)
    assert response.status_code == 422
    html = korean(response)
    assert "저장되지 않았습니다. 빨간색으로 표시된 항목을 고친 뒤 다시 제출하십시오." in html
    assert "필수 항목입니다." in errors_beside(html, "received_on")
    content = errors_beside(html, "element_content_pct")
    assert "1번째 줄: 소수점은 점으로 쓰십시오(6.2)." in content
    assert "2번째 줄: &#34;Xx1&#34;은(는) Ni, Fe, SO4 같은 원소 기호가 아닙니다." in content
    assert '<input class="primary" id="submit" name="submit" type="submit" value="로트 등록">' in html


def test_the_batch_form_reads_in_korean(client, ctx):
    applicant = signed_in(client)
    register_lot(client, applicant.facility, lot_no="IN-A")
    page = korean(client.get("/batches/new", headers=KO))
    assert "<h1>새 배치</h1>" in page and "<h2>투입 원료</h2>" in page and "<h2>분석</h2>" in page
    assert "배터리 등급" in page and "산업용 등급" in page and "— 로트 선택 —" in page
    assert "IN-A · 사용 후(폐배터리) 블랙매스 · 12,000 kg 중 12,000 kg 남음" in page
    assert 'value="배치 저장"' in page and 'value="투입 행 추가"' in page and ">취소</a>" in page
    refused = submit_form(client, "/batches/new", batch_form(applicant.facility, [], **{"assay-impurities_ppm": "Fe 4,5"}),
                          headers=KO)
    assert refused.status_code == 422
    assert "1번째 줄: 소수점은 점으로" in errors_beside(korean(refused), "assay-impurities_ppm")


def test_a_batch_page_and_its_progress_read_in_korean(client, ctx):
    applicant = signed_in(client)
    lot = register_lot(client, applicant.facility)
    batch = create_batch(client, applicant.facility, lot)
    page = korean(client.get(f"/batches/{batch.id}", headers=KO))
    assert f"배치 {batch.number}를 작성 중 상태로 저장했습니다." in page
    assert f"<title>배치 {batch.number}" in page or f"배치 {batch.number}" in page
    assert "작성 중입니다. 내용을 완성하고 증빙을 업로드한 뒤" in page
    assert "아직 없는 문서: 분석 성적서, 원료 증빙(인계서, 계량 기록), 생산 기록." in page
    assert ">배치 수정</a>" in page and ">검사 요청</button>" in page and "<h3>증빙 업로드</h3>" in page
    assert "<dt>등급</dt><dd>배터리 등급</dd>" in page and "<td>사용 후(폐배터리)</td>" in page
    assert "문서 종류" in page and "물질수지표" in page

    token = csrf_token_from(client.get(f"/batches/{batch.id}").get_data(as_text=True))
    for kind, filename, data in evidence_files("R-26-1187", tag=str(batch.id)):
        response = client.post(f"/batches/{batch.id}/documents", content_type="multipart/form-data", headers=KO,
                               data={"kind": kind, "file": (io.BytesIO(data), filename), "csrf_token": token})
        assert response.status_code == 302
    attached = korean(client.get(f"/batches/{batch.id}", headers=KO))
    assert "production.csv 파일을 생산 기록(으)로 첨부했습니다." in attached and "아직 없는 문서" not in attached

    # A worker left running by another test may take the run at once: the held lot keeps the batch checking.
    with lot_held(lot.lot_no):
        assert client.post(f"/batches/{batch.id}/submit", data={"csrf_token": token}, headers=KO).status_code == 302
        checking = korean(client.get(f"/batches/{batch.id}", headers=KO))
        progress = client.get(f"/batches/{batch.id}/progress.json", headers=KO).get_json()
    assert f"배치 {batch.number}를 제출했습니다. 검사가 진행 중입니다." in checking
    assert "<h2>검사 진행 중</h2>" in checking and ">새로 고침</a>" in checking and ">대기</span>" in checking
    assert 'data-elapsed-minutes="{minutes}분 {seconds}초"' in checking and 'data-elapsed-seconds="{seconds}초"' in checking
    waiting = ("검사 작업자가 배치를 받기를 기다리는 중입니다…",
               "14개 검사를 실행하고 있습니다. 문서를 확인하고 물질수지를 계산하는 중입니다…")
    assert any(message in checking for message in waiting)
    assert progress["message"] in waiting
