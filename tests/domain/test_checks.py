"""The 14 checks of domain.md: one test per rule branch, edges included, numbers worked out by hand."""
import ast
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from certify.domain import checks as checks_module
from certify.domain import formulas as formulas_module
from certify.domain.checks import (
    CHECK_CODES,
    CHECKS,
    FAIL,
    FIXES,
    MESSAGES,
    PASS,
    WARN,
    CheckResult,
    run_all,
)
from certify.domain.facts import BatchFacts, Ruleset

from .builders import (
    make_assay_template,
    make_batch,
    make_document,
    make_documents,
    make_input,
    make_lot,
    make_ruleset,
)

D = Decimal
END = dt.date(2026, 3, 10)  # make_batch's production_end

DOMAIN_MD_ORDER = (
    "DOC_REQUIRED", "DOC_FORMAT", "DOC_DUPLICATE", "ASSAY_MATCH", "LAB_ACCREDITED",
    "PURITY", "IMPURITIES", "PERIOD", "FACILITY_PERMIT", "CAPACITY",
    "MASS_BALANCE", "RECYCLED_CLAIM", "LOT_ALLOCATION", "TRANSFER_DOC_UNIQUE",
)


def check(code: str, batch: BatchFacts | None = None, ruleset: Ruleset | None = None) -> CheckResult:
    return run_all(batch or make_batch(), ruleset or make_ruleset()).result(code)


def with_assay(*assay_reports) -> BatchFacts:
    """The default batch with its assay report replaced by the given ones."""
    return make_batch(documents=(*assay_reports, *make_documents()[1:]))


# A template report that agrees with make_batch's assay: purity 99.3 %, Fe 4, Cu 2, Zn 3 ppm.
MATCHING_ROWS = [("purity", "99.3", "pct"), ("Fe", "4", "ppm"), ("Cu", "2", "ppm"), ("Zn", "3", "ppm")]


# run_all


def test_check_codes_are_the_fourteen_of_domain_md_in_table_order():
    assert CHECK_CODES == DOMAIN_MD_ORDER
    assert len(CHECKS) == 14


def test_run_all_returns_every_code_once_in_order():
    report = run_all(make_batch(), make_ruleset())
    assert tuple(result.code for result in report.results) == DOMAIN_MD_ORDER


def test_run_all_passes_every_check_for_the_api_md_example_batch():
    report = run_all(make_batch(), make_ruleset())
    assert {result.code: result.outcome for result in report.results} == {code: PASS for code in DOMAIN_MD_ORDER}
    assert not report.has_failure
    assert not report.has_warning


def test_run_all_carries_the_computed_values():
    report = run_all(make_batch(), make_ruleset())
    assert report.computed.as_json()["recovery_pct"] == 93.7577


def test_run_all_returns_every_code_for_an_empty_degenerate_batch():
    batch = make_batch(
        quantity_kg=D(0), purity_pct=D(0), impurities_ppm={}, inputs=(), documents=(),
        production_start=dt.date(2026, 3, 10), production_end=dt.date(2026, 3, 1),
        facility_annual_capacity_kg=D(0), claimed_recycled_content_pct=D(0), report_no="",
    )
    report = run_all(batch, make_ruleset())
    assert tuple(result.code for result in report.results) == DOMAIN_MD_ORDER
    assert report.has_failure


def test_run_all_survives_zero_masses_everywhere():
    lot = make_lot(mass_kg=D(0), element_content_pct={"Ni": D(0)})
    batch = make_batch(quantity_kg=D(0), inputs=(make_input(0, lot=lot),), facility_annual_capacity_kg=D(0))
    report = run_all(batch, make_ruleset())
    assert len(report.results) == 14
    assert report.result("MASS_BALANCE").outcome == FAIL
    assert report.result("LOT_ALLOCATION").outcome == PASS
    assert report.result("CAPACITY").outcome == PASS


def test_has_warning_without_failure():
    report = run_all(make_batch(lab_accredited=False), make_ruleset())
    assert report.has_warning
    assert not report.has_failure


def test_has_failure():
    report = run_all(make_batch(purity_pct=D("98")), make_ruleset())
    assert report.has_failure


SCENARIOS = {
    "example": make_batch(),
    "degenerate": make_batch(inputs=(), documents=(), production_end=dt.date(2026, 2, 1)),
    "late_unaccredited": make_batch(lab_accredited=False, submitted_on=END + dt.timedelta(days=100),
                                    today=END + dt.timedelta(days=100)),
    "everything_wrong": make_batch(
        purity_pct=D("90"), impurities_ppm={"Fe": D(99)}, quantity_kg=D(90000),
        claimed_recycled_content_pct=D(100),
        inputs=(make_input(11000, category="primary", reserved_by_others_kg=D(5000),
                           transfer_doc_conflicts=("XX-1",), received_on=dt.date(2026, 4, 1)),),
        documents=(make_document(format_problem="encrypted PDF", duplicate_in_other_company=("B-9",)),),
        facility_permit_valid_until=dt.date(2026, 1, 1), production_end=dt.date(2026, 3, 20),
    ),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_message_is_its_template_formatted_with_its_params(name):
    for result in run_all(SCENARIOS[name], make_ruleset()).results:
        assert result.message == MESSAGES[result.message_key].format(**result.params)
        assert result.message_key.startswith(result.code.lower() + ".")
        assert all(isinstance(value, str) for value in result.params.values())


@pytest.mark.parametrize("name", SCENARIOS)
def test_warnings_and_failures_say_what_to_do_and_passes_do_not(name):
    for result in run_all(SCENARIOS[name], make_ruleset()).results:
        if result.outcome == PASS:
            assert result.fix is None
        else:
            assert result.fix == FIXES[result.message_key].format(**result.params)
            assert result.fix.endswith(".")


@pytest.mark.parametrize("name", SCENARIOS)
def test_results_turn_into_json(name):
    for result in run_all(SCENARIOS[name], make_ruleset()).results:
        document = json.loads(json.dumps(result.as_json()))
        assert document["code"] == result.code
        assert document["outcome"] in (PASS, WARN, FAIL)


def test_every_fix_template_belongs_to_a_message_template():
    assert set(FIXES) <= set(MESSAGES)


def test_the_everything_wrong_batch_fails_every_check_that_can_fail():
    report = run_all(SCENARIOS["everything_wrong"], make_ruleset())
    outcomes = {result.code: result.outcome for result in report.results}
    assert outcomes == {
        "DOC_REQUIRED": FAIL, "DOC_FORMAT": FAIL, "DOC_DUPLICATE": FAIL, "ASSAY_MATCH": WARN,
        "LAB_ACCREDITED": PASS, "PURITY": FAIL, "IMPURITIES": FAIL, "PERIOD": FAIL, "FACILITY_PERMIT": FAIL,
        "CAPACITY": FAIL, "MASS_BALANCE": FAIL, "RECYCLED_CLAIM": FAIL, "LOT_ALLOCATION": FAIL,
        "TRANSFER_DOC_UNIQUE": FAIL,
    }


# DOC_REQUIRED


def test_doc_required_passes_with_one_document_of_each_required_kind():
    result = check("DOC_REQUIRED")
    assert result.outcome == PASS
    assert result.details["missing_kinds"] == []


def test_doc_required_fails_naming_the_missing_kinds():
    batch = make_batch(documents=(make_documents()[1],))
    result = check("DOC_REQUIRED", batch)
    assert result.outcome == FAIL
    assert result.message_key == "doc_required.missing"
    assert result.details["missing_kinds"] == ["assay_report", "production_record"]
    assert result.message == "No document of these required kinds is attached: assay_report, production_record."


def test_doc_required_fails_naming_every_kind_when_there_are_no_documents():
    result = check("DOC_REQUIRED", make_batch(documents=()))
    assert result.outcome == FAIL
    assert result.details["missing_kinds"] == ["assay_report", "feedstock_evidence", "production_record"]


def test_doc_required_does_not_count_other_kinds():
    documents = (
        make_document(kind="mass_balance"), make_document(kind="other"), *make_documents()[1:],
    )
    result = check("DOC_REQUIRED", make_batch(documents=documents))
    assert result.outcome == FAIL
    assert result.details["missing_kinds"] == ["assay_report"]


# DOC_FORMAT


def test_doc_format_passes_when_every_file_is_fine():
    result = check("DOC_FORMAT")
    assert result.outcome == PASS
    assert result.message == "Every attached file (3) is valid and safe to open."


def test_doc_format_passes_with_a_message_when_there_are_no_documents():
    result = check("DOC_FORMAT", make_batch(documents=()))
    assert result.outcome == PASS
    assert result.message_key == "doc_format.no_documents"


def test_doc_format_fails_naming_each_bad_file_with_its_problem():
    documents = (
        make_document(filename="assay.pdf", format_problem="PDF is encrypted"),
        make_documents()[1],
        make_document(document_id=11, kind="production_record", filename="log.xlsx",
                      format_problem="workbook contains macros"),
    )
    result = check("DOC_FORMAT", make_batch(documents=documents))
    assert result.outcome == FAIL
    assert "assay.pdf (PDF is encrypted)" in result.message
    assert "log.xlsx (workbook contains macros)" in result.message
    assert "allbaro.pdf" not in result.message
    assert result.details["files"] == [
        {"document_id": 9, "filename": "assay.pdf", "problem": "PDF is encrypted"},
        {"document_id": 11, "filename": "log.xlsx", "problem": "workbook contains macros"},
    ]


# DOC_DUPLICATE


def test_doc_duplicate_passes_when_no_file_is_attached_elsewhere():
    assert check("DOC_DUPLICATE").outcome == PASS


def test_doc_duplicate_warns_naming_files_and_batches_of_the_same_company():
    batch = with_assay(make_document(duplicate_in_same_company=("B-2026-000012", "B-2026-000013")))
    result = check("DOC_DUPLICATE", batch)
    assert result.outcome == WARN
    assert result.message == (
        "These files are already attached to other batches of your company: "
        "assay.pdf (batch B-2026-000012, B-2026-000013)."
    )


def test_doc_duplicate_fails_for_another_company_without_naming_its_batch():
    batch = with_assay(make_document(duplicate_in_other_company=("B-2025-000777",)))
    result = check("DOC_DUPLICATE", batch)
    assert result.outcome == FAIL
    assert result.message == "These files are already attached to another company's batch: assay.pdf."
    exposed = json.dumps([result.message, result.fix, result.params, result.as_json()])
    assert "B-2025-000777" not in exposed


def test_doc_duplicate_fails_for_another_company_even_when_the_same_company_also_has_it():
    batch = with_assay(
        make_document(duplicate_in_other_company=("B-2025-000777",), duplicate_in_same_company=("B-2026-000012",))
    )
    result = check("DOC_DUPLICATE", batch)
    assert result.outcome == FAIL
    assert "B-2025-000777" not in json.dumps(result.as_json())


# ASSAY_MATCH: template (CSV/XLSX)


def test_assay_match_passes_when_the_template_agrees_with_the_declared_assay():
    result = check("ASSAY_MATCH", with_assay(make_assay_template(MATCHING_ROWS)))
    assert result.outcome == PASS
    assert result.message_key == "assay_match.template_ok"


def test_assay_match_passes_with_purity_exactly_0_05_points_above():
    rows = [("purity", "99.35", "pct"), *MATCHING_ROWS[1:]]
    assert check("ASSAY_MATCH", with_assay(make_assay_template(rows))).outcome == PASS


def test_assay_match_passes_with_purity_exactly_0_05_points_below():
    rows = [("purity", "99.25", "pct"), *MATCHING_ROWS[1:]]
    assert check("ASSAY_MATCH", with_assay(make_assay_template(rows))).outcome == PASS


def test_assay_match_fails_with_purity_0_06_points_off():
    rows = [("purity", "99.36", "pct"), *MATCHING_ROWS[1:]]
    result = check("ASSAY_MATCH", with_assay(make_assay_template(rows)))
    assert result.outcome == FAIL
    assert result.message == (
        "The assay report assay.csv does not match the declared assay: purity declared 99.3 %, report 99.36 %."
    )


def test_assay_match_passes_with_an_impurity_exactly_10_percent_off():
    # declared Fe 9 ppm, report 10 ppm: |9 − 10| = 1 = 10 % of 10
    batch = make_batch(
        impurities_ppm={"Fe": D(9), "Cu": D(2), "Zn": D(3)},
        documents=(make_assay_template([*MATCHING_ROWS[:1], ("Fe", "10", "ppm"), *MATCHING_ROWS[2:]]),
                   *make_documents()[1:]),
    )
    assert check("ASSAY_MATCH", batch).outcome == PASS


def test_assay_match_fails_with_an_impurity_more_than_10_percent_off():
    # declared Fe 8.99 ppm, report 10 ppm: |8.99 − 10| = 1.01 > 1
    batch = make_batch(
        impurities_ppm={"Fe": D("8.99"), "Cu": D(2), "Zn": D(3)},
        documents=(make_assay_template([*MATCHING_ROWS[:1], ("Fe", "10", "ppm"), *MATCHING_ROWS[2:]]),
                   *make_documents()[1:]),
    )
    result = check("ASSAY_MATCH", batch)
    assert result.outcome == FAIL
    assert "Fe declared 8.99 ppm, report 10 ppm" in result.message
    assert result.details["mismatches"] == [
        {"filename": "assay.csv", "analyte": "Fe", "declared": D("8.99"), "reported": D(10), "unit": "ppm"}
    ]


def test_assay_match_passes_when_report_and_declaration_are_both_zero():
    batch = make_batch(
        impurities_ppm={"Fe": D(0)},
        documents=(make_assay_template([MATCHING_ROWS[0], ("Fe", "0", "ppm")]), *make_documents()[1:]),
    )
    assert check("ASSAY_MATCH", batch).outcome == PASS


def test_assay_match_fails_when_the_report_says_zero_and_the_declaration_does_not():
    batch = make_batch(
        impurities_ppm={"Fe": D("0.1")},
        documents=(make_assay_template([MATCHING_ROWS[0], ("Fe", "0", "ppm")]), *make_documents()[1:]),
    )
    assert check("ASSAY_MATCH", batch).outcome == FAIL


def test_assay_match_fails_when_the_report_lists_an_element_not_declared():
    rows = [*MATCHING_ROWS, ("Co", "12", "ppm")]
    result = check("ASSAY_MATCH", with_assay(make_assay_template(rows)))
    assert result.outcome == FAIL
    assert "Co not declared, report 12 ppm" in result.message


def test_assay_match_fails_when_a_declared_impurity_is_missing_from_the_report():
    rows = MATCHING_ROWS[:3]
    result = check("ASSAY_MATCH", with_assay(make_assay_template(rows)))
    assert result.outcome == FAIL
    assert "Zn declared 3 ppm, not in the report" in result.message


def test_assay_match_fails_when_the_report_has_no_purity():
    result = check("ASSAY_MATCH", with_assay(make_assay_template(MATCHING_ROWS[1:])))
    assert result.outcome == FAIL
    assert "purity declared 99.3 %, not in the report" in result.message


def test_assay_match_fails_on_a_row_in_the_wrong_unit():
    rows = [*MATCHING_ROWS[:3], ("Zn", "3", "pct")]
    assert check("ASSAY_MATCH", with_assay(make_assay_template(rows))).outcome == FAIL


def test_assay_match_lists_every_mismatch_with_both_values():
    rows = [("purity", "98.9", "pct"), ("Fe", "6", "ppm"), ("Cu", "2", "ppm"), ("Zn", "3", "ppm")]
    result = check("ASSAY_MATCH", with_assay(make_assay_template(rows)))
    assert result.message == (
        "The assay report assay.csv does not match the declared assay: "
        "purity declared 99.3 %, report 98.9 %; Fe declared 4 ppm, report 6 ppm."
    )


def test_assay_match_reads_analyte_names_regardless_of_case():
    rows = [("Purity", "99.3", "pct"), ("FE", "4", "ppm"), ("cu", "2", "ppm"), (" Zn ", "3", "ppm")]
    assert check("ASSAY_MATCH", with_assay(make_assay_template(rows))).outcome == PASS


def test_assay_match_compares_the_template_even_when_a_pdf_is_attached_too():
    batch = with_assay(make_assay_template(MATCHING_ROWS), make_document(text="no number here"))
    assert check("ASSAY_MATCH", batch).message_key == "assay_match.template_ok"


def test_assay_match_ignores_a_report_that_failed_the_format_check():
    broken = make_assay_template([("purity", "50", "pct")], format_problem="CSV is not UTF-8")
    result = check("ASSAY_MATCH", with_assay(broken))
    assert result.outcome == WARN
    assert result.message_key == "assay_match.not_comparable"


def test_assay_match_ignores_templates_of_other_kinds():
    other = make_assay_template([("purity", "50", "pct")], kind="other")
    batch = make_batch(documents=(*make_documents(), other))
    assert check("ASSAY_MATCH", batch).message_key == "assay_match.pdf_ok"


# ASSAY_MATCH: PDF and nothing comparable


def test_assay_match_passes_when_the_pdf_text_carries_the_report_number():
    result = check("ASSAY_MATCH")
    assert result.outcome == PASS
    assert result.message == "The report number R-26-1187 appears in the assay report assay.pdf."


def test_assay_match_finds_the_report_number_ignoring_case_and_whitespace():
    batch = with_assay(make_document(text="Report no.: r - 26 -\n1187"))
    assert check("ASSAY_MATCH", batch).outcome == PASS


def test_assay_match_warns_when_the_report_number_is_not_in_the_pdf_text():
    batch = with_assay(make_document(text="Test report no. R-26-1188"))
    result = check("ASSAY_MATCH", batch)
    assert result.outcome == WARN
    assert result.message == "The report number R-26-1187 does not appear in the assay report assay.pdf."


def test_assay_match_warns_when_no_report_number_is_declared():
    batch = make_batch(report_no="  ")
    assert check("ASSAY_MATCH", batch).outcome == WARN


def test_assay_match_passes_when_one_of_several_pdfs_carries_the_report_number():
    batch = with_assay(
        make_document(document_id=1, filename="scan.pdf", text=""),
        make_document(document_id=2, filename="cover.pdf", text="Cover letter"),
        make_document(document_id=3, filename="assay.pdf"),
    )
    result = check("ASSAY_MATCH", batch)
    assert result.outcome == PASS
    assert result.details["found_in"] == ["assay.pdf"]


def test_assay_match_warns_that_a_pdf_without_text_could_not_be_read():
    result = check("ASSAY_MATCH", with_assay(make_document(text="")))
    assert result.outcome == WARN
    assert result.message == "The assay report assay.pdf has no text layer and could not be read."


def test_assay_match_treats_a_whitespace_only_text_layer_as_unreadable():
    assert check("ASSAY_MATCH", with_assay(make_document(text=" \n "))).message_key == "assay_match.pdf_unreadable"


def test_assay_match_warns_when_there_is_no_assay_report():
    result = check("ASSAY_MATCH", make_batch(documents=make_documents()[1:]))
    assert result.outcome == WARN
    assert result.message_key == "assay_match.not_comparable"


def test_assay_match_warns_when_the_assay_report_is_neither_template_nor_pdf():
    photo = make_document(filename="assay.jpg", media_type="image/jpeg", text=None)
    result = check("ASSAY_MATCH", with_assay(photo))
    assert result.outcome == WARN
    assert result.message_key == "assay_match.not_comparable"


# LAB_ACCREDITED


def test_lab_accredited_passes_for_a_listed_lab():
    assert check("LAB_ACCREDITED").outcome == PASS


def test_lab_accredited_warns_for_an_unlisted_lab():
    result = check("LAB_ACCREDITED", make_batch(lab_accredited=False))
    assert result.outcome == WARN
    assert result.message == (
        "The laboratory KTR Pohang (KOLAS-T-0417) is not on the list of accredited laboratories."
    )


# PURITY


def test_purity_passes_above_the_minimum():
    result = check("PURITY")
    assert result.outcome == PASS
    assert result.message == "Purity 99.3 % meets the battery-grade minimum (98.5 %) for NISO4."


def test_purity_passes_exactly_at_the_minimum():
    assert check("PURITY", make_batch(purity_pct=D("98.5"))).outcome == PASS


def test_purity_fails_just_below_the_minimum():
    result = check("PURITY", make_batch(purity_pct=D("98.4999")))
    assert result.outcome == FAIL
    assert result.message == "Purity 98.4999 %: below the battery-grade minimum (98.5 %) for NISO4."
    assert result.details["min_purity_pct"] == D("98.5")


def test_purity_passes_technical_grade_without_applying_the_limit():
    result = check("PURITY", make_batch(grade="technical", purity_pct=D("95")))
    assert result.outcome == PASS
    assert result.message == (
        "Technical grade: the battery-grade minimum purity of 98.5 % was not applied (declared 95 %)."
    )


# IMPURITIES


def test_impurities_pass_when_all_are_below_their_maximum():
    assert check("IMPURITIES").outcome == PASS


def test_impurities_pass_exactly_at_the_maximum():
    assert check("IMPURITIES", make_batch(impurities_ppm={"Fe": D(10), "Pb": D(5)})).outcome == PASS


def test_impurities_fail_naming_each_one_over_its_maximum():
    batch = make_batch(impurities_ppm={"Fe": D("10.01"), "Cu": D(2), "Pb": D(6)})
    result = check("IMPURITIES", batch)
    assert result.outcome == FAIL
    assert result.message == (
        "These impurities are over the battery-grade maximum for NISO4: "
        "Fe 10.01 ppm (max 10 ppm), Pb 6 ppm (max 5 ppm)."
    )
    assert [item["element"] for item in result.details["over"]] == ["Fe", "Pb"]


def test_impurities_do_not_limit_an_element_the_catalogue_does_not_list():
    result = check("IMPURITIES", make_batch(impurities_ppm={"K": D(9999), "Fe": D(4)}))
    assert result.outcome == PASS
    assert result.details["not_limited"] == ["K"]


def test_impurities_pass_technical_grade_without_applying_the_limits():
    result = check("IMPURITIES", make_batch(grade="technical", impurities_ppm={"Fe": D(500)}))
    assert result.outcome == PASS
    assert result.message == "Technical grade: the battery-grade impurity limits for NISO4 were not applied."


def test_impurities_pass_when_none_are_declared():
    assert check("IMPURITIES", make_batch(impurities_ppm={})).outcome == PASS


# PERIOD


def submitted_after_end(days: int) -> BatchFacts:
    day = END + dt.timedelta(days=days)
    return make_batch(submitted_on=day, today=day)


def test_period_passes_for_a_past_period_submitted_promptly():
    # 15 Feb – 10 Mar 2026: 14 days of February + 10 of March = 24 days; submitted 2 days after
    result = check("PERIOD")
    assert result.outcome == PASS
    assert result.details["period_days"] == 24
    assert result.details["days_since_end"] == 2


def test_period_counts_both_ends_so_a_single_day_is_one_day():
    result = check("PERIOD", make_batch(production_start=END))
    assert result.outcome == PASS
    assert result.details["period_days"] == 1


def test_period_passes_at_exactly_366_days():
    # 10 Mar 2025 – 10 Mar 2026 = 365 days apart, 366 counting both ends
    result = check("PERIOD", make_batch(production_start=dt.date(2025, 3, 10)))
    assert result.outcome == PASS
    assert result.details["period_days"] == 366


def test_period_fails_at_367_days():
    result = check("PERIOD", make_batch(production_start=dt.date(2025, 3, 9)))
    assert result.outcome == FAIL
    assert result.details["problems"] == ["period.too_long"]
    assert "the period lasts 367 days, more than 366" in result.message


def test_period_fails_when_the_end_is_before_the_start():
    result = check("PERIOD", make_batch(production_start=dt.date(2026, 3, 11)))
    assert result.outcome == FAIL
    assert result.details["problems"] == ["period.end_before_start"]
    assert result.message == (
        "The production period from 2026-03-11 to 2026-03-10 cannot be accepted: "
        "the production end is before the start."
    )


def test_period_passes_when_production_ends_today():
    assert check("PERIOD", make_batch(today=END, submitted_on=END)).outcome == PASS


def test_period_fails_when_the_end_is_in_the_future():
    result = check("PERIOD", make_batch(today=dt.date(2026, 3, 9), submitted_on=dt.date(2026, 3, 9)))
    assert result.outcome == FAIL
    assert result.details["problems"] == ["period.end_in_future"]
    assert "the production end is after today (2026-03-09)" in result.message


def test_period_passes_when_a_lot_was_received_on_the_production_end():
    assert check("PERIOD", make_batch(inputs=(make_input(received_on=END),))).outcome == PASS


def test_period_fails_naming_lots_received_after_the_production_end():
    batch = make_batch(
        inputs=(
            make_input(6000),
            make_input(1000, lot_id=18, lot_no="IN-2026-0050", received_on=dt.date(2026, 3, 11)),
        )
    )
    result = check("PERIOD", batch)
    assert result.outcome == FAIL
    assert result.details["late_lots"] == [{"lot_no": "IN-2026-0050", "received_on": "2026-03-11"}]
    assert "received after the production end: IN-2026-0050 (received 2026-03-11)" in result.message
    assert "IN-2026-0042" not in result.message


def test_period_passes_when_submitted_exactly_90_days_after_the_end():
    assert check("PERIOD", submitted_after_end(90)).outcome == PASS


def test_period_warns_when_submitted_91_days_after_the_end():
    result = check("PERIOD", submitted_after_end(91))
    assert result.outcome == WARN
    assert result.message == (
        "The batch was submitted 91 days after production ended on 2026-03-10, more than 90 days."
    )


def test_period_warns_when_submitted_exactly_180_days_after_the_end():
    assert check("PERIOD", submitted_after_end(180)).outcome == WARN


def test_period_fails_when_submitted_181_days_after_the_end():
    result = check("PERIOD", submitted_after_end(181))
    assert result.outcome == FAIL
    assert result.details["problems"] == ["period.submitted_too_late"]


def test_period_fails_naming_every_problem_at_once():
    batch = make_batch(
        today=dt.date(2026, 3, 5), submitted_on=dt.date(2026, 3, 5),
        inputs=(make_input(received_on=dt.date(2026, 3, 12)),),
    )
    result = check("PERIOD", batch)
    assert result.details["problems"] == ["period.end_in_future", "period.lots_after_end"]
    assert result.message == (
        "The production period from 2026-02-15 to 2026-03-10 cannot be accepted: "
        "the production end is after today (2026-03-05); "
        "these lots were received after the production end: IN-2026-0042 (received 2026-03-12)."
    )


# FACILITY_PERMIT


def test_facility_permit_passes_when_valid_beyond_the_production_end():
    assert check("FACILITY_PERMIT").outcome == PASS


def test_facility_permit_passes_when_valid_until_exactly_the_production_end():
    assert check("FACILITY_PERMIT", make_batch(facility_permit_valid_until=END)).outcome == PASS


def test_facility_permit_fails_when_it_expired_before_the_production_end():
    result = check("FACILITY_PERMIT", make_batch(facility_permit_valid_until=dt.date(2026, 3, 9)))
    assert result.outcome == FAIL
    assert result.message == (
        "The facility permit was valid only until 2026-03-09, before the production end 2026-03-10."
    )


# CAPACITY


def test_capacity_passes_below_the_capacity_of_the_period():
    # 500,000 kg a year × 24 / 365 = 32,876.7123… kg for the period
    result = check("CAPACITY")
    assert result.outcome == PASS
    assert result.details["max_quantity_kg"] == D("32876.7123")
    assert result.message == (
        "10,000 kg produced in 24 days is within the facility's capacity of 32,876.7123 kg for that period "
        "(500,000 kg a year)."
    )


def test_capacity_passes_exactly_at_the_capacity_of_the_period():
    # 365,000 kg a year × 24 / 365 = 24,000 kg
    batch = make_batch(facility_annual_capacity_kg=D(365000), quantity_kg=D(24000))
    assert check("CAPACITY", batch).outcome == PASS


def test_capacity_fails_just_above_the_capacity_of_the_period():
    batch = make_batch(facility_annual_capacity_kg=D(365000), quantity_kg=D("24000.0001"))
    assert check("CAPACITY", batch).outcome == FAIL


def test_capacity_decides_against_the_exact_not_the_rounded_capacity():
    # 32,876.7123 × 365 = 11,999,999.99 ≤ 12,000,000; 32,876.7124 × 365 = 12,000,000.03 > 12,000,000
    assert check("CAPACITY", make_batch(quantity_kg=D("32876.7123"))).outcome == PASS
    result = check("CAPACITY", make_batch(quantity_kg=D("32876.7124")))
    assert result.outcome == FAIL
    assert result.message == (
        "32,876.7124 kg produced in 24 days exceeds the facility's capacity of 32,876.7123 kg for that period "
        "(500,000 kg a year)."
    )


def test_capacity_fails_when_the_period_cannot_be_counted():
    result = check("CAPACITY", make_batch(production_start=dt.date(2026, 3, 11)))
    assert result.outcome == FAIL
    assert result.message_key == "capacity.period_invalid"
    assert result.message == (
        "The capacity cannot be evaluated because the production end 2026-03-10 is before the start 2026-03-11."
    )


# MASS_BALANCE
# For the edges: a 10,000 kg lot at 22.33 % Ni puts 2,233 kg Ni in, and Q kg of 100 % NISO4 puts
# Q × 22.33 % out, so the recovery is exactly Q / 100 %.


def recovering(quantity_kg: str) -> BatchFacts:
    return make_batch(
        quantity_kg=D(quantity_kg), purity_pct=D(100),
        inputs=(make_input(10000, category="pre_consumer", element_content_pct={"Ni": D("22.33")}),),
    )


def test_mass_balance_passes_for_a_usual_recovery():
    # 2,217.369 / 2,365 × 100 = 93.7577 %
    result = check("MASS_BALANCE")
    assert result.outcome == PASS
    assert result.message == "Recovered 2,217.369 kg Ni of 2,365 kg in: 93.7577 %."
    assert result.details["recovery_pct"] == D("93.7577")
    assert result.details["inputs"] == [
        {"lot_no": "IN-2026-0042", "category": "post_consumer", "mass_kg": D(11000),
         "element_content_pct": D("21.5"), "element_kg": D(2365)}
    ]


def test_mass_balance_fails_when_more_nickel_out_than_in():
    # 9,000 kg × 21.5 % = 1,935 kg Ni in; 2,217.369 / 1,935 = 114.5927 %
    result = check("MASS_BALANCE", make_batch(inputs=(make_input(9000),)))
    assert result.outcome == FAIL
    assert result.message_key == "mass_balance.over_max"
    assert result.message == (
        "Recovered 2,217.369 kg Ni of 1,935 kg in: 114.5927 %, more than the maximum of 102 %: "
        "more Ni out than in is impossible."
    )


def test_mass_balance_warns_exactly_at_the_maximum_recovery():
    result = check("MASS_BALANCE", recovering("10200"))
    assert result.details["recovery_pct"] == D(102)
    assert result.outcome == WARN
    assert result.message_key == "mass_balance.above_typical"


def test_mass_balance_fails_just_above_the_maximum_recovery():
    result = check("MASS_BALANCE", recovering("10200.01"))
    assert result.details["recovery_pct"] == D("102.0001")
    assert result.outcome == FAIL


def test_mass_balance_passes_exactly_at_the_typical_maximum():
    result = check("MASS_BALANCE", recovering("9900"))
    assert result.details["recovery_pct"] == D(99)
    assert result.outcome == PASS


def test_mass_balance_warns_just_above_the_typical_maximum():
    result = check("MASS_BALANCE", recovering("9900.01"))
    assert result.outcome == WARN
    assert result.message == (
        "Recovered 2,210.6722 kg Ni of 2,233 kg in: 99.0001 %, above the 99 % the process normally achieves."
    )


def test_mass_balance_passes_exactly_at_the_minimum_recovery():
    result = check("MASS_BALANCE", recovering("5000"))
    assert result.details["recovery_pct"] == D(50)
    assert result.outcome == PASS


def test_mass_balance_warns_just_below_the_minimum_recovery():
    result = check("MASS_BALANCE", recovering("4999.99"))
    assert result.outcome == WARN
    assert result.message_key == "mass_balance.below_min"
    # 4,999.99 kg × 22.33 % = 1,116.497767 kg Ni of 2,233 kg in: 49.9999 %
    assert result.message == (
        "Recovered 1,116.4978 kg Ni of 2,233 kg in: 49.9999 %, below the usual minimum of 50 %."
    )


def test_mass_balance_fails_when_no_input_carries_nickel():
    batch = make_batch(inputs=(make_input(11000, element_content_pct={"Li": D("3.4")}),))
    result = check("MASS_BALANCE", batch)
    assert result.outcome == FAIL
    assert result.message_key == "mass_balance.no_input"
    assert result.details["recovery_pct"] is None
    assert result.details["inputs"][0]["element_content_pct"] is None


def test_mass_balance_fails_when_there_are_no_inputs():
    assert check("MASS_BALANCE", make_batch(inputs=())).outcome == FAIL


def test_mass_balance_uses_purity_also_for_technical_grade():
    # 10,000 kg × 90 % × 22.330 % = 2,009.7 kg Ni of 2,365: 84.9767 %
    result = check("MASS_BALANCE", make_batch(grade="technical", purity_pct=D(90)))
    assert result.details["output_element_kg"] == D("2009.7")
    assert result.details["recovery_pct"] == D("84.9767")


# RECYCLED_CLAIM


def mixed_lots() -> tuple:
    # post 5,000 × 20 % = 1,000; pre 2,000 × 25 % = 500; primary 1,000 × 50 % = 500 kg Ni: 75 % recycled
    return (
        make_input(5000, lot_id=1, lot_no="POST-1", category="post_consumer", element_content_pct={"Ni": D(20)}),
        make_input(2000, lot_id=2, lot_no="PRE-1", category="pre_consumer", element_content_pct={"Ni": D(25)}),
        make_input(1000, lot_id=3, lot_no="PRIM-1", category="primary", element_content_pct={"Ni": D(50)}),
    )


def test_recycled_claim_passes_when_all_input_is_recycled():
    result = check("RECYCLED_CLAIM")
    assert result.outcome == PASS
    assert result.message == (
        "The claimed recycled content (100 %) is backed by the computed 100 % "
        "(100 % post-consumer, 0 % pre-consumer)."
    )


def test_recycled_claim_passes_exactly_at_the_computed_share_of_mixed_lots():
    result = check("RECYCLED_CLAIM", make_batch(inputs=mixed_lots(), claimed_recycled_content_pct=D(75)))
    assert result.outcome == PASS
    assert result.details == {
        "claimed_pct": D(75), "recycled_content_pct": D(75), "post_consumer_pct": D(50), "pre_consumer_pct": D(25),
    }


def test_recycled_claim_fails_just_above_the_computed_share():
    result = check("RECYCLED_CLAIM", make_batch(inputs=mixed_lots(), claimed_recycled_content_pct=D("75.0001")))
    assert result.outcome == FAIL
    assert result.message == (
        "The claimed recycled content (75.0001 %) exceeds the computed 75 % "
        "(50 % post-consumer, 25 % pre-consumer)."
    )


def test_recycled_claim_compares_at_full_precision():
    # post 100 kg of 300 kg Ni = 33.333…%: 33.3333 is under it, 33.3334 and a 28-digit over-claim are not
    lots = (
        make_input(1000, lot_id=1, lot_no="POST-1", element_content_pct={"Ni": D(10)}),
        make_input(2000, lot_id=2, lot_no="PRIM-1", category="primary", element_content_pct={"Ni": D(10)}),
    )

    def outcome(claimed: str) -> str:
        return check("RECYCLED_CLAIM", make_batch(inputs=lots, claimed_recycled_content_pct=D(claimed))).outcome

    assert outcome("33.3333") == PASS
    assert outcome("33.33333333333333333333333333") == PASS
    assert outcome("33.33333333333333333333333334") == FAIL
    assert outcome("33.3334") == FAIL


def test_recycled_claim_fails_when_a_primary_lot_dilutes_a_full_claim():
    result = check("RECYCLED_CLAIM", make_batch(inputs=mixed_lots()))
    assert result.outcome == FAIL


def test_recycled_claim_fails_when_nothing_backs_it():
    result = check("RECYCLED_CLAIM", make_batch(inputs=(), claimed_recycled_content_pct=D(0)))
    assert result.outcome == FAIL
    assert result.message == "The claimed recycled content (0 %) is not backed: no input carries Ni."
    assert result.details["recycled_content_pct"] is None


# LOT_ALLOCATION


def test_lot_allocation_passes_when_the_lot_has_room():
    result = check("LOT_ALLOCATION")
    assert result.outcome == PASS
    assert result.message == "Every input lot holds enough mass for this batch's allocation of 11,000 kg in total."


def test_lot_allocation_passes_when_reservations_fill_the_lot_exactly():
    # 1,000 reserved by others + 11,000 here = 12,000 kg = the lot
    batch = make_batch(inputs=(make_input(11000, reserved_by_others_kg=D(1000)),))
    assert check("LOT_ALLOCATION", batch).outcome == PASS


def test_lot_allocation_fails_naming_the_lot_and_the_excess():
    # 1,500 reserved by others + 11,000 here = 12,500 kg: 500 kg more than the 12,000 kg lot
    batch = make_batch(inputs=(make_input(11000, reserved_by_others_kg=D(1500)),))
    result = check("LOT_ALLOCATION", batch)
    assert result.outcome == FAIL
    assert result.message == (
        "More mass is allocated than these lots hold: IN-2026-0042 by 500 kg (12,000 kg in the lot, "
        "1,500 kg reserved by other batches, 11,000 kg for this batch)."
    )
    assert result.details["lots"][0]["excess_kg"] == D(500)


def test_lot_allocation_sums_a_lot_named_twice_in_one_batch():
    lot = make_lot()
    # 6,000 + 6,500 = 12,500 kg of a 12,000 kg lot: 500 kg over
    result = check("LOT_ALLOCATION", make_batch(inputs=(make_input(6000, lot=lot), make_input(6500, lot=lot))))
    assert result.outcome == FAIL
    assert result.details["lots"][0]["allocated_kg"] == D(12500)
    assert result.details["lots"][0]["excess_kg"] == D(500)
    # 6,000 + 6,000 = 12,000 kg fits exactly
    fitting = make_batch(inputs=(make_input(6000, lot=lot), make_input(6000, lot=lot)))
    assert check("LOT_ALLOCATION", fitting).outcome == PASS


def test_lot_allocation_names_only_the_lots_that_are_over():
    batch = make_batch(inputs=(
        make_input(11000),
        # 1,250 reserved by others + 3,000 here = 4,250 kg: 250 kg more than the 4,000 kg lot
        make_input(
            3000, lot=make_lot(lot_id=18, lot_no="IN-2026-0050", mass_kg=D(4000), reserved_by_others_kg=D(1250))
        ),
    ))
    result = check("LOT_ALLOCATION", batch)
    assert result.outcome == FAIL
    assert "IN-2026-0050 by 250 kg" in result.message
    assert "IN-2026-0042" not in result.message


def test_lot_allocation_passes_with_a_message_when_there_are_no_inputs():
    result = check("LOT_ALLOCATION", make_batch(inputs=()))
    assert result.outcome == PASS
    assert result.message_key == "lot_allocation.no_inputs"


# TRANSFER_DOC_UNIQUE


def test_transfer_doc_unique_passes_when_no_other_company_has_the_number():
    assert check("TRANSFER_DOC_UNIQUE").outcome == PASS


def test_transfer_doc_unique_fails_naming_the_lot_and_its_transfer_doc_no():
    batch = make_batch(inputs=(make_input(transfer_doc_conflicts=("OTHER-LOT-7",)),))
    result = check("TRANSFER_DOC_UNIQUE", batch)
    assert result.outcome == FAIL
    assert result.message == (
        "The transfer document of these lots is already registered on another company's lot, so the same waste "
        "shipment would be claimed twice: IN-2026-0042 (transfer document AB-2026-118822)."
    )
    assert "OTHER-LOT-7" not in json.dumps(result.as_json())


def test_transfer_doc_unique_names_a_lot_allocated_twice_only_once():
    lot = make_lot(transfer_doc_conflicts=("OTHER-LOT-7",))
    batch = make_batch(inputs=(make_input(5000, lot=lot), make_input(5000, lot=lot)))
    result = check("TRANSFER_DOC_UNIQUE", batch)
    assert result.details["lots"] == [{"lot_no": "IN-2026-0042", "transfer_doc_no": "AB-2026-118822"}]


# Purity of the domain layer


@pytest.mark.parametrize("module", [checks_module, formulas_module])
def test_the_engine_imports_no_web_database_or_broker_code(module):
    tree = ast.parse(Path(module.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {name.split(".")[0] for name in imported} & {"flask", "flask_sqlalchemy", "sqlalchemy", "celery"}
