"""Plain data the check engine works on: gathered from the database by the worker, never by the rules."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping

GRADES = ("battery", "technical")
LOT_CATEGORIES = ("post_consumer", "pre_consumer", "primary")
RECYCLED_CATEGORIES = ("post_consumer", "pre_consumer")
DOCUMENT_KINDS = ("assay_report", "feedstock_evidence", "production_record", "mass_balance", "other")
REQUIRED_DOCUMENT_KINDS = ("assay_report", "feedstock_evidence", "production_record")


@dataclass(frozen=True)
class Ruleset:
    """One material's thresholds as of one ruleset version (domain.md, Material catalogue and Rulesets)."""

    version: int
    material_code: str
    element: str
    element_fraction_pct: Decimal
    min_purity_pct: Decimal
    max_impurities_ppm: Mapping[str, Decimal]
    max_recovery_pct: Decimal
    typical_max_recovery_pct: Decimal
    min_recovery_pct: Decimal


@dataclass(frozen=True)
class LotFacts:
    """A feedstock lot an input draws on, with what the database knows about its other uses."""

    lot_id: int
    lot_no: str
    category: str
    mass_kg: Decimal
    received_on: dt.date
    transfer_doc_no: str | None
    element_content_pct: Mapping[str, Decimal]
    # Mass reserved on this lot by other batches (checking-after-reservation, awaiting_review, approved).
    reserved_by_others_kg: Decimal = Decimal(0)
    # Lot numbers of other companies' lots that carry the same transfer_doc_no.
    transfer_doc_conflicts: tuple[str, ...] = ()


@dataclass(frozen=True)
class InputFacts:
    lot: LotFacts
    mass_kg: Decimal


@dataclass(frozen=True)
class AssayRow:
    """One line of the assay template (columns analyte,value,unit)."""

    analyte: str  # "purity" or an element symbol such as "Fe"
    value: Decimal
    unit: str  # "pct" for purity, "ppm" for elements


@dataclass(frozen=True)
class DocumentFacts:
    document_id: int
    kind: str
    filename: str
    sha256: str
    media_type: str
    # Why the file is not what it claims or not safe to open; None when it is fine.
    format_problem: str | None = None
    # The PDF's text layer ("" when it has none); None for a file that is not a PDF.
    text: str | None = None
    # The rows of the assay template when the file is a CSV/XLSX in that template; None otherwise.
    assay_rows: tuple[AssayRow, ...] | None = None
    # Other batches holding a file with the same SHA-256 (their batch numbers).
    duplicate_in_other_company: tuple[str, ...] = ()
    duplicate_in_same_company: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchFacts:
    """Everything the 14 checks need to know about one submitted batch."""

    batch_number: str
    material_code: str
    grade: str
    quantity_kg: Decimal
    production_start: dt.date
    production_end: dt.date
    purity_pct: Decimal
    impurities_ppm: Mapping[str, Decimal]
    lab_name: str
    lab_accreditation_no: str
    lab_accredited: bool
    report_no: str
    claimed_recycled_content_pct: Decimal
    facility_permit_valid_until: dt.date
    facility_annual_capacity_kg: Decimal
    submitted_on: dt.date
    today: dt.date
    inputs: tuple[InputFacts, ...] = ()
    documents: tuple[DocumentFacts, ...] = field(default=())
