"""Check results in the reader's language: the domain's English templates, translated, filled with the stored values.

In English the stored values fill the templates as they are, so the text equals the stored message. In another
language the values that carry English words (document kinds, dates, the lists made of lots and analytes) are
written again from the result's details in that language; numbers stay as the domain formatted them.
"""
import datetime as dt
from typing import Any

from flask import has_request_context
from flask_babel import get_locale, gettext

from certify.domain.checks import FIXES, MESSAGES
from certify.models import CheckResult
from certify.web.formatting import date, number, words

DATE_PARAMS = ("production_start", "production_end", "today", "permit_valid_until")


def _reading_english() -> bool:
    if not has_request_context():
        return True
    locale = get_locale()
    return locale is None or locale.language == "en"


def _kinds(value: str) -> str:
    """Document kind codes ("assay_report, feedstock_evidence") as the reader's words."""
    return ", ".join(words(kind) for kind in value.split(", "))


def _date(value: Any) -> str:
    try:
        return date(dt.date.fromisoformat(value)) if isinstance(value, str) else str(value)
    except ValueError:
        return str(value)


def _unit(unit: str | None) -> str:
    return " %" if unit == "pct" else f" {unit}" if unit else ""


def _mismatch(item: dict) -> str:
    analyte = gettext("purity") if item.get("analyte") == "purity" else str(item.get("analyte"))
    unit = _unit(item.get("unit"))
    declared, reported = item.get("declared"), item.get("reported")
    declared_text = (gettext("not declared") if declared is None
                     else gettext("declared {value}").format(value=f"{number(declared)}{unit}"))
    reported_text = (gettext("not in the report") if reported is None
                     else gettext("report {value}").format(value=f"{number(reported)}{unit}"))
    return f"{analyte} {declared_text}, {reported_text}"


def _localized_params(result: CheckResult, params: dict) -> dict:
    """The stored values in the reader's language, from the result's details where English words are in them."""
    params = dict(params)
    details = result.details or {}
    key = result.message_key
    for name in ("missing_kinds", "required_kinds"):
        if name in params:
            params[name] = _kinds(params[name])
    for name in DATE_PARAMS:
        if name in params:
            params[name] = _date(params[name])
    if details.get("late_lots"):
        params["late_lots"] = ", ".join(
            gettext("{lot_no} (received {received_on})").format(lot_no=lot["lot_no"],
                                                                received_on=_date(lot["received_on"]))
            for lot in details["late_lots"])
    if key == "period.invalid" and details.get("problems"):
        params["problems"] = "; ".join(gettext(MESSAGES[problem]).format(**params)
                                       for problem in details["problems"] if problem in MESSAGES)
    elif key == "impurities.over_max" and details.get("over"):
        params["impurities"] = ", ".join(
            gettext("{element} {ppm} ppm (max {max_ppm} ppm)").format(
                element=item["element"], ppm=number(item["ppm"]), max_ppm=number(item["max_ppm"]))
            for item in details["over"])
    elif key == "assay_match.template_mismatch" and details.get("mismatches"):
        params["mismatches"] = "; ".join(_mismatch(item) for item in details["mismatches"])
    elif key == "doc_duplicate.same_company" and details.get("same_company_files"):
        params["files"] = "; ".join(
            gettext("{filename} (batch {batch_numbers})").format(
                filename=item["filename"], batch_numbers=", ".join(item["batch_numbers"]))
            for item in details["same_company_files"])
    elif key == "lot_allocation.over" and details.get("lots"):
        params["lots"] = "; ".join(
            gettext("{lot_no} by {excess_kg} kg ({mass_kg} kg in the lot, {reserved_by_others_kg} kg reserved by "
                    "other batches, {allocated_kg} kg for this batch)").format(
                lot_no=lot["lot_no"], excess_kg=number(lot["excess_kg"]), mass_kg=number(lot["mass_kg"]),
                reserved_by_others_kg=number(lot["reserved_by_others_kg"]),
                allocated_kg=number(lot["allocated_kg"]))
            for lot in details["lots"] if lot.get("excess_kg"))
    elif key == "transfer_doc_unique.conflict" and details.get("lots"):
        params["lots"] = ", ".join(
            gettext("{lot_no} (transfer document {transfer_doc_no})").format(
                lot_no=lot["lot_no"], transfer_doc_no=lot["transfer_doc_no"])
            for lot in details["lots"])
    return params


def _params(result: CheckResult) -> dict:
    params = result.params or {}
    if _reading_english():
        return params
    try:
        return _localized_params(result, params)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):  # details of an older shape: keep values
        return params


def _translated(templates: dict[str, str], key: str, params: dict, stored: str | None) -> str | None:
    template = templates.get(key)
    if template is None or stored is None:
        return stored  # a result recorded under a key this version no longer has keeps its stored wording
    try:
        return gettext(template).format(**params)
    except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder must not break the page
        return stored


def check_message(result: CheckResult) -> str:
    return _translated(MESSAGES, result.message_key, _params(result), result.message)


def check_fix(result: CheckResult) -> str | None:
    return _translated(FIXES, result.message_key, _params(result), result.fix)
