"""Check results and the numbers and dates around them in Korean and in English."""
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from certify.check_text import check_fix, check_message
from certify.domain.checks import MESSAGES, run_all
from certify.web.formatting import check_title, date, describe_details, detail_value, kg, number, outcome_label, words
from tests.domain.builders import make_batch, make_document, make_input, make_ruleset

D = Decimal


def korean(app):
    return app.test_request_context(headers={"Accept-Language": "ko"})


def english(app):
    return app.test_request_context(headers={"Accept-Language": "en"})


@pytest.fixture()
def report():
    """A batch that fails several checks: low purity, too much Fe, a lot received late, a missing document."""
    batch = make_batch(
        purity_pct=D("97"), impurities_ppm={"Fe": D(14), "Cu": D(2)},
        inputs=(make_input(received_on=dt.date(2026, 3, 11)),),
        documents=(make_document(),),
    )
    return run_all(batch, make_ruleset())


def test_a_check_result_reads_in_korean_with_its_numbers(app, report):
    with korean(app):
        purity = report.result("PURITY")
        assert check_message(purity) == "순도 97 %로 NISO4의 배터리 등급 최소 순도 98.5 %에 미달합니다."
        assert check_fix(purity).startswith("배치를 순도 98.5 % 이상으로 정제하거나")
        assert check_message(report.result("IMPURITIES")) == (
            "다음 불순물이 NISO4의 배터리 등급 최대 기준값을 초과합니다: Fe 14 ppm(최대 10 ppm).")
        # Document kinds by name, not by code.
        assert check_message(report.result("DOC_REQUIRED")) == (
            "다음 필수 문서가 첨부되지 않았습니다: 원료 증빙, 생산 기록.")
        # The parts of an invalid period in Korean too, with Korean dates.
        period = check_message(report.result("PERIOD"))
        assert period == ("2026. 2. 15.부터 2026. 3. 10.까지의 생산 기간은 인정할 수 없습니다: 다음 로트가 생산 종료일 "
                          "이후에 입고되었습니다: IN-2026-0042(2026. 3. 11. 입고).")
        assert check_message(report.result("MASS_BALANCE")) == (
            "Ni 2,166.01 kg을 회수했습니다(투입 2,365 kg, 회수율 91.586 %).")
        for result in report.results:
            assert check_message(result)
            assert "_" not in check_message(result).replace("IN-2026-0042", "")  # no raw codes


def test_the_same_result_in_english_is_the_stored_message(app, report):
    with english(app):
        for result in report.results:
            assert check_message(result) == result.message
            assert check_fix(result) == result.fix


def test_every_template_has_a_korean_sentence(app):
    with korean(app):
        from flask_babel import gettext
        untranslated = [template for template in MESSAGES.values() if gettext(template) == template]
    assert not untranslated


def test_a_broken_translation_falls_back_to_the_stored_text(app, report, monkeypatch):
    purity = report.result("PURITY")
    monkeypatch.setattr("certify.check_text.gettext", lambda template: "순도 {purity} %가 부족합니다.")
    with korean(app):
        assert check_message(purity) == purity.message
    missing_key = dataclasses.replace(purity, message_key="purity.retired")
    with korean(app):
        assert check_message(missing_key) == purity.message


def test_numbers_dates_and_labels_in_korean_and_english(app):
    day = dt.date(2026, 3, 10)
    moment = dt.datetime(2026, 3, 10, 14, 5, tzinfo=dt.UTC)
    with english(app):
        assert number(D("2217.3690")) == "2,217.369" and kg(D("2217.3690")) == "2,217.369 kg"
        assert date(day) == "2026-03-10" and date(moment) == "2026-03-10 14:05 UTC"
        assert check_title("MASS_BALANCE") == "Mass balance" and outcome_label("fail") == "failed"
        assert words("post_consumer") == "post-consumer" and detail_value("period_days", 24) == "24 days"
    with korean(app):
        assert number(D("2217.3690")) == "2,217.369" and number(D("-0.00001")) == "0"
        assert date(day) == "2026. 3. 10." and date(moment) == "2026. 3. 10. 23:05 KST"
        assert check_title("MASS_BALANCE") == "물질수지" and outcome_label("fail") == "실패"
        assert words("post_consumer") == "사용 후(폐배터리)" and words("checks_failed") == "검사 실패"
        assert detail_value("period_days", 24) == "24일" and detail_value("lab_accredited", True) == "예"
        assert detail_value("production_end", "2026-03-10") == "2026. 3. 10."
        described = describe_details({"missing_kinds": ["feedstock_evidence"], "recovery_pct": D("93.7577")})
        assert [(item.label, item.text) for item in described] == [("누락된 문서 종류", "원료 증빙"),
                                                                   ("회수율", "93.7577 %")]
    # Outside a request (scripts, PDFs): English, as before.
    assert date(day) == "2026-03-10" and check_title("PURITY") == "Purity" and words("black_mass") == "black mass"
