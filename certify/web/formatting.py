"""Numbers, dates and check details as people read them on the HTML pages, in the request's language."""
import datetime as dt
import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel import Locale
from flask import g, has_request_context
from flask_babel import get_locale, get_timezone, gettext

from certify.domain.numbers import to_decimal
from certify.i18n import lazy_gettext as _l
from certify.timeutil import as_utc

# Labels for the members of a check result's `details` (domain/checks.py); unknown keys fall back to words.
DETAIL_LABELS = {
    "required_kinds": _l("Required kinds"), "missing_kinds": _l("Missing kinds"), "files": _l("Files"),
    "filename": _l("File"), "problem": _l("Problem"), "other_company_files": _l("Attached to another company's batch"),
    "same_company_files": _l("Attached to other batches of your company"), "batch_numbers": _l("Batches"),
    "assay_reports": _l("Assay reports"), "mismatches": _l("Differences"), "analyte": _l("Analyte"),
    "declared": _l("Declared"), "reported": _l("In the report"), "report_no": _l("Report no."),
    "found_in": _l("Found in"), "lab_name": _l("Laboratory"), "lab_accreditation_no": _l("Accreditation no."),
    "lab_accredited": _l("On the accredited list"), "grade": _l("Grade"), "purity_pct": _l("Declared purity"),
    "min_purity_pct": _l("Battery-grade minimum"), "over": _l("Over the maximum"), "element": _l("Element"),
    "ppm": _l("Declared"), "max_ppm": _l("Maximum"), "not_limited": _l("Not limited for this material"),
    "production_start": _l("Production start"), "production_end": _l("Production end"),
    "submitted_on": _l("Submitted on"), "period_days": _l("Period"), "days_since_end": _l("Submitted after the end"),
    "late_lots": _l("Lots received after the end"), "lot_no": _l("Lot"), "received_on": _l("Received"),
    "permit_valid_until": _l("Permit valid until"), "quantity_kg": _l("Quantity"),
    "annual_capacity_kg": _l("Annual capacity"), "max_quantity_kg": _l("Capacity for the period"),
    "output_element_kg": _l("Element out"), "input_element_kg": _l("Element in"), "recovery_pct": _l("Recovery"),
    "max_recovery_pct": _l("Maximum recovery"), "typical_max_recovery_pct": _l("Typical maximum recovery"),
    "min_recovery_pct": _l("Usual minimum recovery"), "inputs": _l("Inputs"), "category": _l("Category"),
    "mass_kg": _l("Mass"), "element_content_pct": _l("Element content"), "element_kg": _l("Element mass"),
    "claimed_pct": _l("Claimed"), "recycled_content_pct": _l("Computed recycled content"),
    "post_consumer_pct": _l("Post-consumer"), "pre_consumer_pct": _l("Pre-consumer"),
    "allocated_kg": _l("Allocated"), "lots": _l("Lots"), "reserved_by_others_kg": _l("Reserved by other batches"),
    "excess_kg": _l("Excess"), "transfer_doc_no": _l("Transfer document"),
}
CHECK_TITLES = {
    "DOC_REQUIRED": _l("Required documents"), "DOC_FORMAT": _l("Files valid and safe"),
    "DOC_DUPLICATE": _l("No reused files"), "ASSAY_MATCH": _l("Assay report matches"),
    "LAB_ACCREDITED": _l("Accredited laboratory"), "PURITY": _l("Purity"), "IMPURITIES": _l("Impurities"),
    "PERIOD": _l("Production period"), "FACILITY_PERMIT": _l("Facility permit"),
    "CAPACITY": _l("Facility capacity"), "MASS_BALANCE": _l("Mass balance"),
    "RECYCLED_CLAIM": _l("Recycled-content claim"), "LOT_ALLOCATION": _l("Lot mass available"),
    "TRANSFER_DOC_UNIQUE": _l("Transfer document unique"),
}
OUTCOME_LABELS = {"pass": _l("passed"), "warn": _l("warning"), "fail": _l("failed")}
# Enumerated values as words; each English label is what words() made of the key before, so English pages read alike.
WORD_LABELS = {
    "post_consumer": _l("post-consumer"), "pre_consumer": _l("pre-consumer"), "primary": _l("primary"),
    "battery": _l("battery"), "technical": _l("technical"),
    "battery_pack": _l("battery pack"), "module": _l("module"), "cell": _l("cell"), "black_mass": _l("black mass"),
    "electrode_scrap": _l("electrode scrap"), "other": _l("other"),
    "assay_report": _l("assay report"), "feedstock_evidence": _l("feedstock evidence"),
    "production_record": _l("production record"), "mass_balance": _l("mass balance"),
    "hydrometallurgy": _l("hydrometallurgy"), "pyrometallurgy": _l("pyrometallurgy"),
    "direct_recycling": _l("direct recycling"), "mechanical": _l("mechanical"),
    "approve": _l("approve"), "reject": _l("reject"), "request_changes": _l("request changes"),
    "draft": _l("draft"), "checking": _l("checking"), "checks_failed": _l("checks failed"),
    "awaiting_review": _l("awaiting review"), "approved": _l("approved"), "rejected": _l("rejected"),
    "changes_requested": _l("changes requested"), "valid": _l("valid"), "suspended": _l("suspended"),
    "revoked": _l("revoked"),
}
YES_NO = {True: _l("yes"), False: _l("no")}
NONE_WORD = _l("none")
DAYS = "days"  # a unit read from the key's suffix; written with its number by days()
# Internal keys: ids and message keys say nothing to a person, and `unit` is folded into the numbers it qualifies.
HIDDEN_DETAILS = {"document_id", "lot_id", "unit", "problems"}
UNIT_BY_SUFFIX = (("_kg", "kg"), ("_pct", "%"), ("_ppm", "ppm"), ("ppm", "ppm"), ("_days", DAYS), ("days", DAYS))
UNIT_NAMES = {"pct": "%", "ppm": "ppm"}


def reader_language() -> str:
    """The request's language; outside a request (scripts, tests of plain functions) English, as the API writes."""
    if not has_request_context():
        return "en"
    # Asked for every number and date on a page; Flask-Babel's get_locale goes through `g` three times.
    language = g.get("_certify_language")
    if language is None:
        locale = get_locale()
        language = g._certify_language = locale.language if locale is not None else "en"
    return language


def _text(label) -> str:
    """A label in the request's language; outside a request its English source text."""
    if has_request_context():
        return str(label)
    return label._args[0] if hasattr(label, "_args") else str(label)


def _decimal(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return to_decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


def number(value, places: int = 4, language: str | None = None) -> str:
    """At most `places` decimals (half up), trailing zeros dropped, thousands separated: 2217.3690 → "2,217.369".

    The separators are the language's, by default the reader's (Korean writes numbers as English does).
    """
    exact = _decimal(value)
    if exact is None:
        return "" if value is None else str(value)
    rounded = exact.quantize(_QUANTA[places], rounding=ROUND_HALF_UP)
    if rounded == 0:
        return "0"
    # Python's own grouping, then the locale's symbols: Babel's format_decimal parses its pattern and locale on
    # every call, and list pages format a few numbers per row.
    text = format(rounded, ",f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    group, decimal = _separators(language or reader_language())
    return text if (group, decimal) == (",", ".") else text.translate({ord(","): group, ord("."): decimal})


_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(7)}


@functools.cache
def _separators(language: str) -> tuple[str, str]:
    symbols = Locale.parse(language).number_symbols["latn"]
    return symbols["group"], symbols["decimal"]


def kg(value, language: str | None = None) -> str:
    """A mass in kilograms to the gram: "2,217.369 kg"."""
    return f"{number(value, 3, language)} kg" if value is not None else "–"


def pct(value, language: str | None = None) -> str:
    """A share to two decimals: "93.76 %"; "–" when there is none (no input carries the element)."""
    return f"{number(value, 2, language)} %" if value is not None else "–"


def plain_number(value) -> str:
    """A number as typed into a form: exact, no separators, no exponent (1E+4 → "10000")."""
    exact = _decimal(value)
    if exact is None:
        return ""
    text = format(exact, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# Korean: 2026. 3. 10. and 2026. 3. 10. 23:05 KST (Babel's medium date, the way Korean offices write dates).


def date(value, language: str | None = None) -> str:
    """Dates in the language, by default the reader's: ISO 8601 in English (2026-03-10), 2026. 3. 10. in Korean.

    Times are UTC in English, and the service's time zone (Korea) in Korean.
    """
    if value is None:
        return ""
    language = language or reader_language()
    if isinstance(value, dt.datetime):
        if language == "en":
            return as_utc(value).strftime("%Y-%m-%d %H:%M UTC")
        zone, zone_suffix = _zone()
        local = as_utc(value).astimezone(zone)
        return f"{_korean_date(local)} {local:%H:%M}{zone_suffix}"
    if isinstance(value, dt.date):
        return value.isoformat() if language == "en" else _korean_date(value)
    return str(value)


def _zone() -> tuple[dt.tzinfo, str]:
    """The service's time zone and how a time in it is marked; found once per request, like the language."""
    zone = g.get("_certify_zone")
    if zone is None:
        name = str(get_timezone())
        suffix = " KST" if name in ("Asia/Seoul", "ROK") else f" ({name})"
        # The same zone as the standard library's: Babel's pytz zone converts several times slower.
        zone = g._certify_zone = (ZoneInfo(name), suffix)
    return zone


def _korean_date(value: dt.date) -> str:
    # Babel's medium Korean date ("y. M. d."), written directly: list pages show a date or two per row.
    return f"{value.year}. {value.month}. {value.day}."


def days(value) -> str:
    """A count of days: "24 days", "24일"."""
    if not has_request_context():
        return f"{number(value)} days"
    return gettext("%(count)s days", count=number(value))


def words(value: str | None) -> str:
    """An enumerated value as words: "post_consumer" → "post-consumer", "black_mass" → "black mass"."""
    if not value:
        return ""
    known = WORD_LABELS.get(value)
    if known is not None:
        return _text(known)
    return value.replace("post_consumer", "post-consumer").replace("pre_consumer", "pre-consumer").replace("_", " ")


def detail_label(key: str) -> str:
    known = DETAIL_LABELS.get(key)
    return _text(known) if known is not None else words(key).capitalize()


def detail_value(key: str, value, unit: str | None = None) -> str:
    """One detail value with its unit, read from the key's suffix (mass_kg → kg) or a sibling `unit` member."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return _text(YES_NO[value])
    if isinstance(value, (int, float, Decimal)):
        unit = unit or next((name for suffix, name in UNIT_BY_SUFFIX if key.endswith(suffix)), None)
        if unit == DAYS:
            return days(value)
        return f"{number(value)} {unit}" if unit else number(value)
    if isinstance(value, list):
        listed = ", ".join(words(str(item)) if key.endswith("kinds") else str(item) for item in value)
        return listed or _text(NONE_WORD)
    if key in ("grade", "category"):
        return words(value)
    if key in DATE_DETAILS:
        return date(_iso_date(value))
    return str(value)


# Details that are ISO dates (domain/checks.py writes them as text): shown as the reader writes dates.
DATE_DETAILS = {"production_start", "production_end", "submitted_on", "received_on", "permit_valid_until"}


def _iso_date(value):
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value


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
    title = CHECK_TITLES.get(code)
    return _text(title) if title is not None else code


def outcome_label(outcome: str) -> str:
    label = OUTCOME_LABELS.get(outcome)
    return _text(label) if label is not None else outcome


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
