"""The JSON forms of the service's objects, exactly as api.md names their members."""
from certify.models import Company, Facility, Lab, Material, MaterialRules, User


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
