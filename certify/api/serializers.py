"""The JSON forms of the service's objects, exactly as api.md names their members."""
from decimal import Decimal

from certify.models import (
    Company,
    Facility,
    FeedstockLot,
    Lab,
    Material,
    MaterialRules,
    User,
)


def user_json(user: User) -> dict:
    return {"id": user.id, "email": user.email, "role": user.role, "company_id": user.company_id}


def company_json(company: Company) -> dict:
    return {"id": company.id, "name": company.name, "business_registration_no": company.business_registration_no}


def facility_json(facility: Facility) -> dict:
    return {"id": facility.id, "company_id": facility.company_id, "name": facility.name,
            "permit_no": facility.permit_no, "permit_valid_until": facility.permit_valid_until,
            "process": facility.process, "annual_capacity_kg": facility.annual_capacity_kg}


def material_json(material: Material, rules: MaterialRules) -> dict:
    return {"code": material.code, "name": material.name, "element": material.element,
            "element_fraction_pct": material.element_fraction_pct, "min_purity_pct": rules.min_purity_pct,
            "max_impurities_ppm": dict(rules.max_impurities_ppm), "max_recovery_pct": rules.max_recovery_pct,
            "typical_max_recovery_pct": rules.typical_max_recovery_pct,
            "min_recovery_pct": rules.min_recovery_pct, "ruleset_version": rules.version}


def lab_json(lab: Lab) -> dict:
    return {"id": lab.id, "accreditation_no": lab.accreditation_no, "name": lab.name}


def lot_json(lot: FeedstockLot, allocated_kg: Decimal) -> dict:
    return {"id": lot.id, "company_id": lot.company_id, "facility_id": lot.facility_id, "lot_no": lot.lot_no,
            "supplier": lot.supplier, "category": lot.category, "form": lot.form, "chemistry": lot.chemistry,
            "mass_kg": lot.mass_kg, "received_on": lot.received_on, "transfer_doc_no": lot.transfer_doc_no,
            "element_content_pct": dict(lot.element_content_pct), "allocated_kg": allocated_kg,
            "remaining_kg": lot.mass_kg - allocated_kg, "created_at": lot.created_at}
