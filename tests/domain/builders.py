"""Plain builders for the check engine's facts: a NISO4 batch from api.md's example that passes every check."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from certify.domain.facts import AssayRow, BatchFacts, DocumentFacts, InputFacts, LotFacts, Ruleset

D = Decimal


def make_ruleset(**overrides: Any) -> Ruleset:
    """NISO4 as domain.md's material catalogue lists it."""
    values: dict[str, Any] = {
        "version": 3,
        "material_code": "NISO4",
        "element": "Ni",
        "element_fraction_pct": D("22.330"),
        "min_purity_pct": D("98.5"),
        "max_impurities_ppm": {
            "Co": D(50), "Fe": D(10), "Cu": D(10), "Zn": D(10),
            "Ca": D(30), "Mg": D(50), "Na": D(50), "Pb": D(5),
        },
        "max_recovery_pct": D(102),
        "typical_max_recovery_pct": D(99),
        "min_recovery_pct": D(50),
    }
    values.update(overrides)
    return Ruleset(**values)


def make_lot(**overrides: Any) -> LotFacts:
    """api.md's example lot: 12,000 kg of post-consumer NMC black mass at 21.5 % Ni."""
    values: dict[str, Any] = {
        "lot_id": 17,
        "lot_no": "IN-2026-0042",
        "category": "post_consumer",
        "mass_kg": D(12000),
        "received_on": dt.date(2026, 2, 11),
        "transfer_doc_no": "AB-2026-118822",
        "element_content_pct": {"Li": D("3.4"), "Ni": D("21.5"), "Co": D("6.8"), "Mn": D("6.1")},
    }
    values.update(overrides)
    return LotFacts(**values)


def make_input(
    mass_kg: Decimal | int | str = 11000, lot: LotFacts | None = None, **lot_overrides: Any
) -> InputFacts:
    """An allocation of mass_kg on `lot`, or on make_lot(**lot_overrides)."""
    return InputFacts(lot=lot or make_lot(**lot_overrides), mass_kg=D(mass_kg))


def make_document(**overrides: Any) -> DocumentFacts:
    """A readable PDF assay report that carries the declared report number."""
    values: dict[str, Any] = {
        "document_id": 9,
        "kind": "assay_report",
        "filename": "assay.pdf",
        "sha256": "a" * 64,
        "media_type": "application/pdf",
        "text": "KTR Pohang\nTest report no. R-26-1187\nNickel sulfate hexahydrate",
    }
    values.update(overrides)
    return DocumentFacts(**values)


def make_assay_template(rows: list[tuple[str, str, str]], **overrides: Any) -> DocumentFacts:
    """An assay report uploaded as CSV in the template (analyte,value,unit)."""
    values: dict[str, Any] = {
        "document_id": 12,
        "filename": "assay.csv",
        "sha256": "c" * 64,
        "media_type": "text/csv",
        "text": None,
        "assay_rows": tuple(AssayRow(analyte, D(value), unit) for analyte, value, unit in rows),
    }
    values.update(overrides)
    return make_document(**values)


def make_documents() -> tuple[DocumentFacts, ...]:
    """One document of each required kind."""
    return (
        make_document(),
        make_document(
            document_id=10, kind="feedstock_evidence", filename="allbaro.pdf", sha256="b" * 64,
            text="Allbaro transfer record AB-2026-118822",
        ),
        make_document(
            document_id=11, kind="production_record", filename="production.xlsx", sha256="d" * 64,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", text=None,
        ),
    )


def make_batch(**overrides: Any) -> BatchFacts:
    """api.md's example batch: 10,000 kg NISO4 at 99.3 % from 11,000 kg of lot IN-2026-0042; every check passes."""
    values: dict[str, Any] = {
        "batch_number": "B-2026-000041",
        "material_code": "NISO4",
        "grade": "battery",
        "quantity_kg": D(10000),
        "production_start": dt.date(2026, 2, 15),
        "production_end": dt.date(2026, 3, 10),
        "purity_pct": D("99.3"),
        "impurities_ppm": {"Fe": D(4), "Cu": D(2), "Zn": D(3)},
        "lab_name": "KTR Pohang",
        "lab_accreditation_no": "KOLAS-T-0417",
        "lab_accredited": True,
        "report_no": "R-26-1187",
        "claimed_recycled_content_pct": D(100),
        "facility_permit_valid_until": dt.date(2027, 12, 31),
        "facility_annual_capacity_kg": D(500000),
        "submitted_on": dt.date(2026, 3, 12),
        "today": dt.date(2026, 3, 12),
        "inputs": (make_input(),),
        "documents": make_documents(),
    }
    values.update(overrides)
    return BatchFacts(**values)
