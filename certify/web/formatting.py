"""Numbers, dates and check details as people read them on the HTML pages (the one place to localise later)."""
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from certify.domain.numbers import to_decimal
from certify.timeutil import as_utc

# Labels for the members of a check result's `details` (domain/checks.py); unknown keys fall back to words.
DETAIL_LABELS = {
    "required_kinds": "Required kinds", "missing_kinds": "Missing kinds", "files": "Files",
    "filename": "File", "problem": "Problem", "other_company_files": "Attached to another company's batch",
    "same_company_files": "Attached to other batches of your company", "batch_numbers": "Batches",
    "assay_reports": "Assay reports", "mismatches": "Differences", "analyte": "Analyte", "declared": "Declared",
    "reported": "In the report", "report_no": "Report no.", "found_in": "Found in", "lab_name": "Laboratory",
    "lab_accreditation_no": "Accreditation no.", "lab_accredited": "On the accredited list", "grade": "Grade",
    "purity_pct": "Declared purity", "min_purity_pct": "Battery-grade minimum", "over": "Over the maximum",
    "element": "Element", "ppm": "Declared", "max_ppm": "Maximum", "not_limited": "Not limited for this material",
    "production_start": "Production start", "production_end": "Production end", "submitted_on": "Submitted on",
    "period_days": "Period", "days_since_end": "Submitted after the end", "late_lots": "Lots received after the end",
    "lot_no": "Lot", "received_on": "Received", "permit_valid_until": "Permit valid until",
    "quantity_kg": "Quantity", "annual_capacity_kg": "Annual capacity", "max_quantity_kg": "Capacity for the period",
    "output_element_kg": "Element out", "input_element_kg": "Element in", "recovery_pct": "Recovery",
    "max_recovery_pct": "Maximum recovery", "typical_max_recovery_pct": "Typical maximum recovery",
    "min_recovery_pct": "Usual minimum recovery", "inputs": "Inputs", "category": "Category", "mass_kg": "Mass",
    "element_content_pct": "Element content", "element_kg": "Element mass", "claimed_pct": "Claimed",
    "recycled_content_pct": "Computed recycled content", "post_consumer_pct": "Post-consumer",
    "pre_consumer_pct": "Pre-consumer", "allocated_kg": "Allocated", "lots": "Lots",
    "reserved_by_others_kg": "Reserved by other batches", "excess_kg": "Excess", "transfer_doc_no": "Transfer document",
}
CHECK_TITLES = {
    "DOC_REQUIRED": "Required documents", "DOC_FORMAT": "Files valid and safe", "DOC_DUPLICATE": "No reused files",
    "ASSAY_MATCH": "Assay report matches", "LAB_ACCREDITED": "Accredited laboratory", "PURITY": "Purity",
    "IMPURITIES": "Impurities", "PERIOD": "Production period", "FACILITY_PERMIT": "Facility permit",
    "CAPACITY": "Facility capacity", "MASS_BALANCE": "Mass balance", "RECYCLED_CLAIM": "Recycled-content claim",
    "LOT_ALLOCATION": "Lot mass available", "TRANSFER_DOC_UNIQUE": "Transfer document unique",
}
OUTCOME_LABELS = {"pass": "passed", "warn": "warning", "fail": "failed"}
# Internal keys: ids and message keys say nothing to a person, and `unit` is folded into the numbers it qualifies.
HIDDEN_DETAILS = {"document_id", "lot_id", "unit", "problems"}
UNIT_BY_SUFFIX = (("_kg", "kg"), ("_pct", "%"), ("_ppm", "ppm"), ("ppm", "ppm"), ("_days", "days"), ("days", "days"))
UNIT_NAMES = {"pct": "%", "ppm": "ppm"}


def _decimal(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return to_decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


def number(value, places: int = 4) -> str:
    """At most `places` decimals (half up), trailing zeros dropped, thousands separated: 2217.3690 → "2,217.369"."""
    exact = _decimal(value)
    if exact is None:
        return "" if value is None else str(value)
    rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def kg(value) -> str:
    """A mass in kilograms to the gram: "2,217.369 kg"."""
    return f"{number(value, 3)} kg" if value is not None else "–"


def pct(value) -> str:
    """A share to two decimals: "93.76 %"; "–" when there is none (no input carries the element)."""
    return f"{number(value, 2)} %" if value is not None else "–"


def plain_number(value) -> str:
    """A number as typed into a form: exact, no separators, no exponent (1E+4 → "10000")."""
    exact = _decimal(value)
    if exact is None:
        return ""
    text = format(exact, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def date(value) -> str:
    """Dates as ISO 8601 (2026-03-10): unambiguous in Korea and abroad."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return as_utc(value).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def words(value: str | None) -> str:
    """An enumerated value as words: "post_consumer" → "post-consumer", "black_mass" → "black mass"."""
    if not value:
        return ""
    return value.replace("post_consumer", "post-consumer").replace("pre_consumer", "pre-consumer").replace("_", " ")


def detail_label(key: str) -> str:
    return DETAIL_LABELS.get(key, words(key).capitalize())


def detail_value(key: str, value, unit: str | None = None) -> str:
    """One detail value with its unit, read from the key's suffix (mass_kg → kg) or a sibling `unit` member."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
        unit = unit or next((name for suffix, name in UNIT_BY_SUFFIX if key.endswith(suffix)), None)
        return f"{number(value)} {unit}" if unit else number(value)
    if isinstance(value, list):
        return ", ".join(words(str(item)) if key.endswith("kinds") else str(item) for item in value) or "none"
    if key in ("grade", "category"):
        return words(value)
    return str(value)


@dataclass(frozen=True)
class DetailTable:
    label: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class DetailValue:
    label: str
    text: str


def describe_details(details: dict | None) -> list[DetailValue | DetailTable]:
    """The numbers behind a check result as labelled values, and its lists of lots or files as small tables."""
    described: list[DetailValue | DetailTable] = []
    for key, value in (details or {}).items():
        if key in HIDDEN_DETAILS:
            continue
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            keys = [name for name in value[0] if name not in HIDDEN_DETAILS]
            rows = [[detail_value(name, item.get(name), UNIT_NAMES.get(item.get("unit")))
                     if name in ("declared", "reported") else detail_value(name, item.get(name))
                     for name in keys] for item in value]
            described.append(DetailTable(detail_label(key), [detail_label(name) for name in keys], rows))
        elif isinstance(value, list) and not value and key not in ("required_kinds", "missing_kinds"):
            continue  # an empty list of problems (no late lots, no mismatches) is already said by the message
        else:
            described.append(DetailValue(detail_label(key), detail_value(key, value)))
    return described


def check_title(code: str) -> str:
    return CHECK_TITLES.get(code, code)


def outcome_label(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, outcome)


def file_size(size: int | None) -> str:
    """Bytes as people read them: "18 KB", "2.4 MB"."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{number(Decimal(size) / 1024, 0)} KB"
    return f"{number(Decimal(size) / (1024 * 1024), 1)} MB"


FILTERS = {"number": number, "kg": kg, "pct": pct, "plain_number": plain_number, "date": date, "words": words,
           "describe_details": describe_details, "check_title": check_title, "outcome_label": outcome_label,
           "file_size": file_size}
