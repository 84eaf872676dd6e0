"""The 14 checks of domain.md ("Checks"): one result per code for a batch, against one ruleset version."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from certify.domain.facts import REQUIRED_DOCUMENT_KINDS, BatchFacts, DocumentFacts, LotFacts, Ruleset
from certify.domain.formulas import Computed, compute, element_kg
from certify.domain.numbers import json_number, round4

PASS = "pass"
WARN = "warn"
FAIL = "fail"

CHECK_CODES = (
    "DOC_REQUIRED",
    "DOC_FORMAT",
    "DOC_DUPLICATE",
    "ASSAY_MATCH",
    "LAB_ACCREDITED",
    "PURITY",
    "IMPURITIES",
    "PERIOD",
    "FACILITY_PERMIT",
    "CAPACITY",
    "MASS_BALANCE",
    "RECYCLED_CLAIM",
    "LOT_ALLOCATION",
    "TRANSFER_DOC_UNIQUE",
)

MAX_PERIOD_DAYS = 366
LATE_SUBMISSION_WARN_DAYS = 90
LATE_SUBMISSION_FAIL_DAYS = 180
DAYS_PER_YEAR = 365
PURITY_TOLERANCE_POINTS = Decimal("0.05")
IMPURITY_TOLERANCE_RELATIVE = Decimal("0.10")
PDF_MEDIA_TYPE = "application/pdf"
# The one kind of document whose text a check reads (ASSAY_MATCH looks for the report number in an assay PDF): the
# worker extracts no other document's text.
TEXT_READ_FROM_KIND = "assay_report"



def N_(message: str) -> str:
    """Marks a template for the translators' catalogue without translating it here (the domain has no locale)."""
    return message


# English templates, formatted with str.format(**params); a translation layer swaps these by message_key.
MESSAGES: dict[str, str] = {
    "doc_required.ok": N_("Every required kind of document is attached: {required_kinds}."),
    "doc_required.missing": N_("No document of these required kinds is attached: {missing_kinds}."),
    "doc_format.ok": N_("Every attached file ({count}) is valid and safe to open."),
    "doc_format.no_documents": N_("No files are attached, so there is nothing to inspect."),
    "doc_format.invalid": N_("These files are not what they claim to be or are not safe to open: {files}."),
    "doc_duplicate.ok": N_("No attached file is already attached to another batch."),
    "doc_duplicate.other_company": N_("These files are already attached to another company's batch: {files}."),
    "doc_duplicate.same_company": N_("These files are already attached to other batches of your company: {files}."),
    "assay_match.template_ok": N_("The assay report {files} matches the declared purity and impurities."),
    "assay_match.template_mismatch": N_("The assay report {files} does not match the declared assay: {mismatches}."),
    "assay_match.pdf_ok": N_("The report number {report_no} appears in the assay report {files}."),
    "assay_match.pdf_report_no_missing": N_("The report number {report_no} does not appear in the assay report "
    "{files}."),
    "assay_match.pdf_unreadable": N_("The assay report {files} has no text layer and could not be read."),
    "assay_match.not_comparable": N_("No assay report in the CSV/XLSX template or as a PDF with text is attached, "
    "so the declared assay could not be compared."),
    "lab_accredited.ok": N_("The laboratory {lab_name} ({lab_accreditation_no}) is on the list of accredited "
    "laboratories."),
    "lab_accredited.not_listed": N_("The laboratory {lab_name} ({lab_accreditation_no}) is not on the list of "
    "accredited laboratories."),
    "purity.ok": N_("Purity {purity_pct} % meets the battery-grade minimum ({min_purity_pct} %) "
    "for {material_code}."),
    "purity.below_min": N_("Purity {purity_pct} %: below the battery-grade minimum ({min_purity_pct} %) "
    "for {material_code}."),
    "purity.technical": N_("Technical grade: the battery-grade minimum purity of {min_purity_pct} % was not applied "
    "(declared {purity_pct} %)."),
    "impurities.ok": N_("Every declared impurity is within the battery-grade maximum for {material_code}."),
    "impurities.over_max": N_("These impurities are over the battery-grade maximum for {material_code}: "
    "{impurities}."),
    "impurities.technical": N_("Technical grade: the battery-grade impurity limits for {material_code} were not "
    "applied."),
    "period.ok": N_("Production ran {period_days} days, from {production_start} to {production_end}, and the batch "
    "was submitted {days_since_end} days after it ended."),
    "period.submitted_late": N_("The batch was submitted {days_since_end} days after production ended on "
    "{production_end}, more than {warn_days} days."),
    "period.invalid": N_("The production period from {production_start} to {production_end} cannot be accepted: "
    "{problems}."),
    "facility_permit.ok": N_("The facility permit is valid until {permit_valid_until}, through the production end "
    "{production_end}."),
    "facility_permit.expired": N_("The facility permit was valid only until {permit_valid_until}, before the "
    "production end {production_end}."),
    "capacity.ok": N_("{quantity_kg} kg produced in {period_days} days is within the facility's capacity of "
    "{max_quantity_kg} kg for that period ({annual_capacity_kg} kg a year)."),
    "capacity.over": N_("{quantity_kg} kg produced in {period_days} days exceeds the facility's capacity of "
    "{max_quantity_kg} kg for that period ({annual_capacity_kg} kg a year)."),
    "capacity.period_invalid": N_("The capacity cannot be evaluated because the production end {production_end} is "
    "before the start {production_start}."),
    "mass_balance.ok": N_("Recovered {output_element_kg} kg {element} of {input_element_kg} kg in: {recovery_pct} %."),
    "mass_balance.no_input": N_("No input carries {element}, so the {output_element_kg} kg {element} in this batch "
    "is not backed by any feedstock."),
    "mass_balance.over_max": N_("Recovered {output_element_kg} kg {element} of {input_element_kg} kg in: "
    "{recovery_pct} %, more than the maximum of {max_recovery_pct} %: more {element} out than in is impossible."),
    "mass_balance.above_typical": N_("Recovered {output_element_kg} kg {element} of {input_element_kg} kg in: "
    "{recovery_pct} %, above the {typical_max_recovery_pct} % the process normally achieves."),
    "mass_balance.below_min": N_("Recovered {output_element_kg} kg {element} of {input_element_kg} kg in: "
    "{recovery_pct} %, below the usual minimum of {min_recovery_pct} %."),
    "recycled_claim.ok": N_("The claimed recycled content ({claimed_pct} %) is backed by the computed "
    "{recycled_content_pct} % ({post_consumer_pct} % post-consumer, {pre_consumer_pct} % pre-consumer)."),
    "recycled_claim.over": N_("The claimed recycled content ({claimed_pct} %) exceeds the computed "
    "{recycled_content_pct} % ({post_consumer_pct} % post-consumer, {pre_consumer_pct} % pre-consumer)."),
    "recycled_claim.no_input": N_("The claimed recycled content ({claimed_pct} %) is not backed: no input "
    "carries {element}."),
    "lot_allocation.ok": N_("Every input lot holds enough mass for this batch's allocation of {allocated_kg} kg "
    "in total."),
    "lot_allocation.no_inputs": N_("No feedstock lot is allocated to this batch."),
    "lot_allocation.over": N_("More mass is allocated than these lots hold: {lots}."),
    "transfer_doc_unique.ok": N_("No other company's lot carries the transfer document number of any input lot."),
    "transfer_doc_unique.conflict": N_("The transfer document of these lots is already registered on another "
    "company's lot, so the same waste shipment would be claimed twice: {lots}."),
    # Parts of "period.invalid"; their keys are listed in the result's details["problems"].
    "period.end_before_start": N_("the production end is before the start"),
    "period.end_in_future": N_("the production end is after today ({today})"),
    "period.too_long": N_("the period lasts {period_days} days, more than {max_period_days}"),
    "period.lots_after_end": N_("these lots were received after the production end: {late_lots}"),
    "period.submitted_too_late": N_("the batch was submitted {days_since_end} days after production ended, "
    "more than {fail_days} days"),
}

FIXES: dict[str, str] = {
    "doc_required.missing": N_("Upload at least one document of each missing kind: {missing_kinds}."),
    "doc_format.invalid": N_("Replace each named file with a valid copy that is not encrypted and has no macros, "
    "scripts, embedded files or external links."),
    "doc_duplicate.other_company": N_("Attach only documents issued for your own company's production; contact "
    "the ministry if you believe this file is yours."),
    "doc_duplicate.same_company": N_("Check that each named file really belongs to this batch and remove it if it "
    "was attached by mistake."),
    "assay_match.template_mismatch": N_("Correct the declared assay to the lab's values, or upload the report "
    "that belongs to this batch."),
    "assay_match.pdf_report_no_missing": N_("Check the declared report number {report_no}, or upload the lab "
    "report that carries it."),
    "assay_match.pdf_unreadable": N_("Upload a text-based PDF from the lab, or the assay in the CSV/XLSX assay "
    "template."),
    "assay_match.not_comparable": N_("Upload the lab's assay report as a text-based PDF or in the CSV/XLSX "
    "assay template."),
    "lab_accredited.not_listed": N_("Have the assay done by an ISO/IEC 17025 accredited laboratory (e.g. KOLAS), "
    "or ask the ministry to add this laboratory to the list."),
    "purity.below_min": N_("Refine the batch to at least {min_purity_pct} %, correct the declared purity if it "
    "was entered wrongly, or declare the batch technical grade."),
    "impurities.over_max": N_("Purify the batch until every named impurity is within its maximum, correct a "
    "wrongly entered value, or declare the batch technical grade."),
    "period.submitted_late": N_("Submit batches within {warn_days} days of the end of production; a reviewer "
    "will look at the reason for this delay."),
    "period.invalid": N_("Correct the production dates and inputs so that the period has ended, lasts at most "
    "{max_period_days} days and ends after every input lot was received; a batch submitted more than "
    "{fail_days} days after production ended cannot be certified."),
    "facility_permit.expired": N_("Renew the facility permit and have its validity date updated, or correct "
    "the production end."),
    "capacity.over": N_("Check the declared quantity and production dates, or have the facility's registered "
    "annual capacity updated."),
    "capacity.period_invalid": N_("Correct the production dates so that the end is on or after the start."),
    "mass_balance.no_input": N_("Allocate the feedstock lots this batch was made from, each with its "
    "{element} content."),
    "mass_balance.over_max": N_("Check the declared quantity and purity, the allocated masses and the lots' "
    "{element} content, and allocate every lot this batch was made from."),
    "mass_balance.above_typical": N_("Confirm the allocated masses and the lots' {element} content, or explain "
    "the high recovery in the production record."),
    "mass_balance.below_min": N_("Allocate only the lots this batch was made from and check their masses and "
    "{element} content, or explain the losses in the production record."),
    "recycled_claim.over": N_("Lower the claim to no more than the computed recycled content, or allocate the "
    "recycled feedstock that backs it."),
    "recycled_claim.no_input": N_("Allocate the feedstock lots this batch was made from, each with its "
    "{element} content."),
    "lot_allocation.over": N_("Reduce this batch's allocation on each named lot to the mass still free on it, "
    "or allocate other lots."),
    "transfer_doc_unique.conflict": N_("Check the transfer document number of each named lot against its "
    "Allbaro record and correct it; contact the ministry if it is right."),
}


@dataclass(frozen=True)
class CheckResult:
    code: str
    outcome: str
    message: str
    # The numbers behind the outcome: Decimal (rounded to 4 places), ISO dates, str, int, None, lists and dicts.
    details: dict[str, Any]
    fix: str | None
    message_key: str
    params: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The result as an item of the batch's `checks` list in api.md."""
        return {
            "code": self.code,
            "outcome": self.outcome,
            "message": self.message,
            "details": jsonable(self.details),
            "fix": self.fix,
        }


@dataclass(frozen=True)
class CheckReport:
    results: tuple[CheckResult, ...]
    computed: Computed

    @property
    def has_failure(self) -> bool:
        return any(result.outcome == FAIL for result in self.results)

    @property
    def has_warning(self) -> bool:
        return any(result.outcome == WARN for result in self.results)

    def result(self, code: str) -> CheckResult:
        return next(result for result in self.results if result.code == code)


def jsonable(value: Any) -> Any:
    """Turns the Decimals inside details into JSON numbers."""
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def _result(
    code: str, outcome: str, message_key: str, details: dict[str, Any], params: dict[str, str] | None = None
) -> CheckResult:
    params = params or {}
    return CheckResult(
        code=code,
        outcome=outcome,
        message=MESSAGES[message_key].format(**params),
        details=details,
        fix=None if outcome == PASS else FIXES[message_key].format(**params),
        message_key=message_key,
        params=params,
    )


def _num(value: Decimal) -> str:
    """A number as people read it: 4 decimals at most, no trailing zeros, thousands separated (2,217.369)."""
    rounded = round4(value)
    if rounded == 0:
        return "0"
    text = f"{rounded:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _names(names: list[str]) -> str:
    return ", ".join(names)


def _period_days(batch: BatchFacts) -> int:
    # Both ends count: a run from the 1st to the 1st is one day.
    return (batch.production_end - batch.production_start).days + 1


def _unique_lots(batch: BatchFacts) -> list[LotFacts]:
    lots: dict[int, LotFacts] = {}
    for input_ in batch.inputs:
        lots.setdefault(input_.lot.lot_id, input_.lot)
    return list(lots.values())


# Document checks


def check_doc_required(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    present = {document.kind for document in batch.documents}
    missing = [kind for kind in REQUIRED_DOCUMENT_KINDS if kind not in present]
    details: dict[str, Any] = {"required_kinds": list(REQUIRED_DOCUMENT_KINDS), "missing_kinds": missing}
    if missing:
        return _result("DOC_REQUIRED", FAIL, "doc_required.missing", details, {"missing_kinds": _names(missing)})
    return _result(
        "DOC_REQUIRED", PASS, "doc_required.ok", details, {"required_kinds": _names(list(REQUIRED_DOCUMENT_KINDS))}
    )


def check_doc_format(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    if not batch.documents:
        return _result("DOC_FORMAT", PASS, "doc_format.no_documents", {"files": []})
    invalid = [document for document in batch.documents if document.format_problem is not None]
    details: dict[str, Any] = {
        "files": [
            {
                "document_id": document.document_id,
                "filename": document.filename,
                "problem": document.format_problem,
            }
            for document in invalid
        ]
    }
    if invalid:
        files = "; ".join(f"{document.filename} ({document.format_problem})" for document in invalid)
        return _result("DOC_FORMAT", FAIL, "doc_format.invalid", details, {"files": files})
    return _result("DOC_FORMAT", PASS, "doc_format.ok", details, {"count": str(len(batch.documents))})


def check_doc_duplicate(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    # Another company's batch numbers are its business: they never appear in the message or details.
    other_company = [document.filename for document in batch.documents if document.duplicate_in_other_company]
    same_company = [document for document in batch.documents if document.duplicate_in_same_company]
    details: dict[str, Any] = {
        "other_company_files": other_company,
        "same_company_files": [
            {"filename": document.filename, "batch_numbers": list(document.duplicate_in_same_company)}
            for document in same_company
        ],
    }
    if other_company:
        return _result(
            "DOC_DUPLICATE", FAIL, "doc_duplicate.other_company", details, {"files": _names(other_company)}
        )
    if same_company:
        files = "; ".join(
            f"{document.filename} (batch {_names(list(document.duplicate_in_same_company))})"
            for document in same_company
        )
        return _result("DOC_DUPLICATE", WARN, "doc_duplicate.same_company", details, {"files": files})
    return _result("DOC_DUPLICATE", PASS, "doc_duplicate.ok", details)


def _assay_mismatches(batch: BatchFacts, document: DocumentFacts) -> list[dict[str, Any]]:
    """Each analyte on which one template report and the declared assay disagree."""
    mismatches: list[dict[str, Any]] = []

    def mismatch(analyte: str, declared: Decimal | None, reported: Decimal | None, unit: str) -> None:
        mismatches.append(
            {
                "filename": document.filename,
                "analyte": analyte,
                "declared": None if declared is None else round4(declared),
                "reported": None if reported is None else round4(reported),
                "unit": unit,
            }
        )

    declared_by_symbol = {symbol.strip().casefold(): symbol for symbol in batch.impurities_ppm}
    reported_symbols: set[str] = set()
    purity_reported = False
    for row in document.assay_rows or ():
        analyte = row.analyte.strip()
        if analyte.casefold() == "purity":
            purity_reported = True
            within = abs(row.value - batch.purity_pct) <= PURITY_TOLERANCE_POINTS
            if row.unit != "pct" or not within:
                mismatch("purity", batch.purity_pct, row.value, row.unit)
            continue
        symbol = declared_by_symbol.get(analyte.casefold())
        if symbol is None:
            mismatch(analyte, None, row.value, row.unit)
            continue
        reported_symbols.add(symbol)
        declared = batch.impurities_ppm[symbol]
        # Relative to the lab's value; a reported zero leaves no room at all.
        within = abs(declared - row.value) <= IMPURITY_TOLERANCE_RELATIVE * row.value
        if row.unit != "ppm" or not within:
            mismatch(symbol, declared, row.value, row.unit)
    if not purity_reported:
        mismatch("purity", batch.purity_pct, None, "pct")
    for symbol, declared in batch.impurities_ppm.items():
        if symbol not in reported_symbols:
            mismatch(symbol, declared, None, "ppm")
    return mismatches


def _describe_mismatch(mismatch: dict[str, Any]) -> str:
    unit = " %" if mismatch["unit"] == "pct" else f" {mismatch['unit']}"
    declared, reported = mismatch["declared"], mismatch["reported"]
    declared_text = "not declared" if declared is None else f"declared {_num(declared)}{unit}"
    reported_text = "not in the report" if reported is None else f"report {_num(reported)}{unit}"
    return f"{mismatch['analyte']} {declared_text}, {reported_text}"


def _squeeze(text: str) -> str:
    return "".join(text.split()).casefold()


def check_assay_match(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    # A file that failed DOC_FORMAT is not evidence of anything; DOC_FORMAT already reports it.
    reports = [
        document
        for document in batch.documents
        if document.kind == TEXT_READ_FROM_KIND and document.format_problem is None
    ]
    templates = [document for document in reports if document.assay_rows is not None]
    pdfs = [
        document for document in reports if document.assay_rows is None and document.media_type == PDF_MEDIA_TYPE
    ]
    readable = [document for document in pdfs if document.text and document.text.strip()]
    details: dict[str, Any] = {"assay_reports": [document.filename for document in reports]}

    if templates:
        names = _names([document.filename for document in templates])
        mismatches = [mismatch for document in templates for mismatch in _assay_mismatches(batch, document)]
        details["mismatches"] = mismatches
        if mismatches:
            described = "; ".join(_describe_mismatch(mismatch) for mismatch in mismatches)
            return _result(
                "ASSAY_MATCH", FAIL, "assay_match.template_mismatch", details,
                {"files": names, "mismatches": described},
            )
        return _result("ASSAY_MATCH", PASS, "assay_match.template_ok", details, {"files": names})

    if readable:
        report_no = _squeeze(batch.report_no)
        found = [
            document.filename for document in readable if report_no and report_no in _squeeze(document.text or "")
        ]
        details["report_no"] = batch.report_no
        details["found_in"] = found
        if found:
            return _result(
                "ASSAY_MATCH", PASS, "assay_match.pdf_ok", details,
                {"report_no": batch.report_no, "files": _names(found)},
            )
        return _result(
            "ASSAY_MATCH", WARN, "assay_match.pdf_report_no_missing", details,
            {"report_no": batch.report_no, "files": _names([document.filename for document in readable])},
        )

    if pdfs:
        return _result(
            "ASSAY_MATCH", WARN, "assay_match.pdf_unreadable", details,
            {"files": _names([document.filename for document in pdfs])},
        )
    return _result("ASSAY_MATCH", WARN, "assay_match.not_comparable", details)


def check_lab_accredited(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    params = {"lab_name": batch.lab_name, "lab_accreditation_no": batch.lab_accreditation_no}
    details: dict[str, Any] = {**params, "lab_accredited": batch.lab_accredited}
    if batch.lab_accredited:
        return _result("LAB_ACCREDITED", PASS, "lab_accredited.ok", details, params)
    return _result("LAB_ACCREDITED", WARN, "lab_accredited.not_listed", details, params)


# Threshold and balance checks


def check_purity(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    params = {
        "purity_pct": _num(batch.purity_pct),
        "min_purity_pct": _num(ruleset.min_purity_pct),
        "material_code": ruleset.material_code,
    }
    details: dict[str, Any] = {
        "grade": batch.grade,
        "purity_pct": round4(batch.purity_pct),
        "min_purity_pct": round4(ruleset.min_purity_pct),
    }
    if batch.grade == "technical":
        return _result("PURITY", PASS, "purity.technical", details, params)
    if batch.purity_pct < ruleset.min_purity_pct:
        return _result("PURITY", FAIL, "purity.below_min", details, params)
    return _result("PURITY", PASS, "purity.ok", details, params)


def check_impurities(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    over = [
        {"element": element, "ppm": round4(ppm), "max_ppm": round4(ruleset.max_impurities_ppm[element])}
        for element, ppm in batch.impurities_ppm.items()
        if element in ruleset.max_impurities_ppm and ppm > ruleset.max_impurities_ppm[element]
    ]
    details: dict[str, Any] = {
        "grade": batch.grade,
        "over": over,
        # Not in the catalogue for this material, so not limited (domain.md).
        "not_limited": [element for element in batch.impurities_ppm if element not in ruleset.max_impurities_ppm],
    }
    params = {"material_code": ruleset.material_code}
    if batch.grade == "technical":
        return _result("IMPURITIES", PASS, "impurities.technical", details, params)
    if over:
        params["impurities"] = _names(
            [f"{item['element']} {_num(item['ppm'])} ppm (max {_num(item['max_ppm'])} ppm)" for item in over]
        )
        return _result("IMPURITIES", FAIL, "impurities.over_max", details, params)
    return _result("IMPURITIES", PASS, "impurities.ok", details, params)


def check_period(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    period_days = _period_days(batch)
    days_since_end = (batch.submitted_on - batch.production_end).days
    late_lots = [lot for lot in _unique_lots(batch) if lot.received_on > batch.production_end]
    params = {
        "production_start": batch.production_start.isoformat(),
        "production_end": batch.production_end.isoformat(),
        "today": batch.today.isoformat(),
        "period_days": str(period_days),
        "days_since_end": str(days_since_end),
        "max_period_days": str(MAX_PERIOD_DAYS),
        "warn_days": str(LATE_SUBMISSION_WARN_DAYS),
        "fail_days": str(LATE_SUBMISSION_FAIL_DAYS),
        "late_lots": _names([f"{lot.lot_no} (received {lot.received_on.isoformat()})" for lot in late_lots]),
    }
    problems: list[str] = []
    if batch.production_end < batch.production_start:
        problems.append("period.end_before_start")
    if batch.production_end > batch.today:
        problems.append("period.end_in_future")
    if period_days > MAX_PERIOD_DAYS:
        problems.append("period.too_long")
    if late_lots:
        problems.append("period.lots_after_end")
    if days_since_end > LATE_SUBMISSION_FAIL_DAYS:
        problems.append("period.submitted_too_late")
    details: dict[str, Any] = {
        "production_start": params["production_start"],
        "production_end": params["production_end"],
        "submitted_on": batch.submitted_on.isoformat(),
        "period_days": period_days,
        "days_since_end": days_since_end,
        "late_lots": [
            {"lot_no": lot.lot_no, "received_on": lot.received_on.isoformat()} for lot in late_lots
        ],
        # A translation layer renders "period.invalid" from these part keys and the same params.
        "problems": problems,
    }
    if problems:
        params["problems"] = "; ".join(MESSAGES[problem].format(**params) for problem in problems)
        return _result("PERIOD", FAIL, "period.invalid", details, params)
    if days_since_end > LATE_SUBMISSION_WARN_DAYS:
        return _result("PERIOD", WARN, "period.submitted_late", details, params)
    return _result("PERIOD", PASS, "period.ok", details, params)


def check_facility_permit(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    params = {
        "permit_valid_until": batch.facility_permit_valid_until.isoformat(),
        "production_end": batch.production_end.isoformat(),
    }
    details: dict[str, Any] = dict(params)
    if batch.facility_permit_valid_until >= batch.production_end:
        return _result("FACILITY_PERMIT", PASS, "facility_permit.ok", details, params)
    return _result("FACILITY_PERMIT", FAIL, "facility_permit.expired", details, params)


def check_capacity(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    period_days = _period_days(batch)
    if batch.production_end < batch.production_start:
        params = {
            "production_start": batch.production_start.isoformat(),
            "production_end": batch.production_end.isoformat(),
        }
        details: dict[str, Any] = {**params, "period_days": period_days}
        return _result("CAPACITY", FAIL, "capacity.period_invalid", details, params)
    max_quantity_kg = batch.facility_annual_capacity_kg * period_days / DAYS_PER_YEAR
    params = {
        "quantity_kg": _num(batch.quantity_kg),
        "period_days": str(period_days),
        "max_quantity_kg": _num(max_quantity_kg),
        "annual_capacity_kg": _num(batch.facility_annual_capacity_kg),
    }
    details = {
        "quantity_kg": round4(batch.quantity_kg),
        "period_days": period_days,
        "annual_capacity_kg": round4(batch.facility_annual_capacity_kg),
        "max_quantity_kg": round4(max_quantity_kg),
    }
    # Cross-multiplied so that equality is decided exactly, not after a rounded division.
    if batch.quantity_kg * DAYS_PER_YEAR <= batch.facility_annual_capacity_kg * period_days:
        return _result("CAPACITY", PASS, "capacity.ok", details, params)
    return _result("CAPACITY", FAIL, "capacity.over", details, params)


def _optional_round4(value: Decimal | None) -> Decimal | None:
    return None if value is None else round4(value)


def check_mass_balance(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    element = ruleset.element
    details: dict[str, Any] = {
        "element": element,
        "output_element_kg": round4(computed.output_element_kg),
        "input_element_kg": round4(computed.input_element_kg),
        "recovery_pct": _optional_round4(computed.recovery_pct),
        "max_recovery_pct": round4(ruleset.max_recovery_pct),
        "typical_max_recovery_pct": round4(ruleset.typical_max_recovery_pct),
        "min_recovery_pct": round4(ruleset.min_recovery_pct),
        "inputs": [
            {
                "lot_no": input_.lot.lot_no,
                "category": input_.lot.category,
                "mass_kg": round4(input_.mass_kg),
                "element_content_pct": _optional_round4(input_.lot.element_content_pct.get(element)),
                "element_kg": round4(element_kg(input_, element)),
            }
            for input_ in batch.inputs
        ],
    }
    params = {
        "element": element,
        "output_element_kg": _num(computed.output_element_kg),
        "input_element_kg": _num(computed.input_element_kg),
        "max_recovery_pct": _num(ruleset.max_recovery_pct),
        "typical_max_recovery_pct": _num(ruleset.typical_max_recovery_pct),
        "min_recovery_pct": _num(ruleset.min_recovery_pct),
    }
    recovery_pct = computed.recovery_pct
    if recovery_pct is None or computed.input_element_kg <= 0:
        return _result("MASS_BALANCE", FAIL, "mass_balance.no_input", details, params)
    params["recovery_pct"] = _num(recovery_pct)
    if recovery_pct > ruleset.max_recovery_pct:
        return _result("MASS_BALANCE", FAIL, "mass_balance.over_max", details, params)
    if recovery_pct > ruleset.typical_max_recovery_pct:
        return _result("MASS_BALANCE", WARN, "mass_balance.above_typical", details, params)
    if recovery_pct < ruleset.min_recovery_pct:
        return _result("MASS_BALANCE", WARN, "mass_balance.below_min", details, params)
    return _result("MASS_BALANCE", PASS, "mass_balance.ok", details, params)


def check_recycled_claim(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    claimed = batch.claimed_recycled_content_pct
    details: dict[str, Any] = {
        "claimed_pct": round4(claimed),
        "recycled_content_pct": _optional_round4(computed.recycled_content_pct),
        "post_consumer_pct": _optional_round4(computed.post_consumer_pct),
        "pre_consumer_pct": _optional_round4(computed.pre_consumer_pct),
    }
    params = {"claimed_pct": _num(claimed), "element": ruleset.element}
    if (
        computed.recycled_content_pct is None
        or computed.post_consumer_pct is None
        or computed.pre_consumer_pct is None
    ):
        return _result("RECYCLED_CLAIM", FAIL, "recycled_claim.no_input", details, params)
    params |= {
        "recycled_content_pct": _num(computed.recycled_content_pct),
        "post_consumer_pct": _num(computed.post_consumer_pct),
        "pre_consumer_pct": _num(computed.pre_consumer_pct),
    }
    # Full precision: a claim may not exceed the computed share by even a rounding digit.
    if claimed <= computed.recycled_content_pct:
        return _result("RECYCLED_CLAIM", PASS, "recycled_claim.ok", details, params)
    return _result("RECYCLED_CLAIM", FAIL, "recycled_claim.over", details, params)


def check_lot_allocation(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    # A lot named twice in one batch counts with the sum of its allocations.
    allocated_by_lot: dict[int, Decimal] = {}
    for input_ in batch.inputs:
        allocated_by_lot[input_.lot.lot_id] = allocated_by_lot.get(input_.lot.lot_id, Decimal(0)) + input_.mass_kg
    lots = []
    over = []
    for lot in _unique_lots(batch):
        allocated_kg = allocated_by_lot[lot.lot_id]
        excess_kg = lot.reserved_by_others_kg + allocated_kg - lot.mass_kg
        lots.append(
            {
                "lot_id": lot.lot_id,
                "lot_no": lot.lot_no,
                "mass_kg": round4(lot.mass_kg),
                "reserved_by_others_kg": round4(lot.reserved_by_others_kg),
                "allocated_kg": round4(allocated_kg),
                "excess_kg": round4(excess_kg) if excess_kg > 0 else Decimal(0),
            }
        )
        if excess_kg > 0:
            over.append((lot, allocated_kg, excess_kg))
    total_kg = sum(allocated_by_lot.values(), Decimal(0))
    details: dict[str, Any] = {"allocated_kg": round4(total_kg), "lots": lots}
    if over:
        described = "; ".join(
            f"{lot.lot_no} by {_num(excess_kg)} kg ({_num(lot.mass_kg)} kg in the lot, "
            f"{_num(lot.reserved_by_others_kg)} kg reserved by other batches, "
            f"{_num(allocated_kg)} kg for this batch)"
            for lot, allocated_kg, excess_kg in over
        )
        return _result("LOT_ALLOCATION", FAIL, "lot_allocation.over", details, {"lots": described})
    if not lots:
        return _result("LOT_ALLOCATION", PASS, "lot_allocation.no_inputs", details)
    return _result("LOT_ALLOCATION", PASS, "lot_allocation.ok", details, {"allocated_kg": _num(total_kg)})


def check_transfer_doc_unique(batch: BatchFacts, ruleset: Ruleset, computed: Computed) -> CheckResult:
    # The other company's lot numbers stay out of message and details: they are its data, not the applicant's.
    conflicting = [lot for lot in _unique_lots(batch) if lot.transfer_doc_conflicts]
    details: dict[str, Any] = {
        "lots": [{"lot_no": lot.lot_no, "transfer_doc_no": lot.transfer_doc_no} for lot in conflicting]
    }
    if conflicting:
        lots = _names([f"{lot.lot_no} (transfer document {lot.transfer_doc_no})" for lot in conflicting])
        return _result("TRANSFER_DOC_UNIQUE", FAIL, "transfer_doc_unique.conflict", details, {"lots": lots})
    return _result("TRANSFER_DOC_UNIQUE", PASS, "transfer_doc_unique.ok", details)


Check = Callable[[BatchFacts, Ruleset, Computed], CheckResult]

# In the order of domain.md's tables, which is the order of CHECK_CODES.
CHECKS: tuple[Check, ...] = (
    check_doc_required,
    check_doc_format,
    check_doc_duplicate,
    check_assay_match,
    check_lab_accredited,
    check_purity,
    check_impurities,
    check_period,
    check_facility_permit,
    check_capacity,
    check_mass_balance,
    check_recycled_claim,
    check_lot_allocation,
    check_transfer_doc_unique,
)


def run_all(batch: BatchFacts, ruleset: Ruleset) -> CheckReport:
    """Evaluates all 14 checks in one pass; every code gets a result whatever the batch looks like."""
    computed = compute(batch, ruleset)
    return CheckReport(results=tuple(check(batch, ruleset, computed) for check in CHECKS), computed=computed)
