"""Administration endpoints: companies, facilities, users, the material catalogue and accredited labs."""
from flask import jsonify
from flask_login import current_user
from sqlalchemy import select

from certify.api import api
from certify.api.openapi import operation
from certify.api.parsing import keyset_page, parse_body, parse_query
from certify.api.responses import (
    CompanyOut,
    FacilityOut,
    LabOut,
    MaterialOut,
    UserOut,
    page_of,
)
from certify.api.schemas import (
    CompanyCreate,
    FacilityCreate,
    LabCreate,
    ListQuery,
    MaterialPatch,
    UserCreate,
)
from certify.api.serializers import (
    company_json,
    facility_json,
    lab_json,
    material_json,
    user_json,
)
from certify.errors import NotFound
from certify.extensions import db
from certify.models import Company, Facility, Lab, Material
from certify.models.user import ROLES
from certify.security import READ_ALL_ROLES, roles_required, scoped
from certify.services import admin, rulesets


@api.post("/companies")
@operation(body=CompanyCreate, responses={201: CompanyOut}, errors=(409,))
@roles_required("admin")
def create_company():
    """Registers a recycling company."""
    body = parse_body(CompanyCreate)
    return jsonify(company_json(admin.create_company(current_user.id, **body.model_dump()))), 201


@api.get("/companies")
@operation(query=ListQuery, responses={200: page_of(CompanyOut)})
@roles_required(*READ_ALL_ROLES)
def list_companies():
    """Every company, newest first."""
    query = parse_query(ListQuery)
    items, next_cursor = keyset_page(select(Company), Company.id, query.limit, query.cursor)
    return jsonify({"items": [company_json(c) for c in items], "next_cursor": next_cursor})


@api.post("/facilities")
@operation(body=FacilityCreate, responses={201: FacilityOut}, errors=(409,))
@roles_required("admin")
def create_facility():
    """Registers a facility of a company, with its permit and capacity."""
    body = parse_body(FacilityCreate)
    return jsonify(facility_json(admin.create_facility(current_user.id, **body.model_dump()))), 201


@api.get("/facilities")
@operation(query=ListQuery, responses={200: page_of(FacilityOut)})
@roles_required(*ROLES)
def list_facilities():
    """Facilities, newest first: an applicant sees its own company's only."""
    query = parse_query(ListQuery)
    items, next_cursor = keyset_page(scoped(select(Facility), Facility, current_user), Facility.id,
                                     query.limit, query.cursor)
    return jsonify({"items": [facility_json(f) for f in items], "next_cursor": next_cursor})


@api.post("/users")
@operation(body=UserCreate, responses={201: UserOut}, errors=(409,))
@roles_required("admin")
def create_user():
    """Creates a user with one role; applicants belong to a company."""
    body = parse_body(UserCreate)
    return jsonify(user_json(admin.create_user(current_user.id, **body.model_dump()))), 201


@api.get("/materials")
@operation(responses={200: page_of(MaterialOut)})
@roles_required(*ROLES)
def list_materials():
    """The material catalogue with each material's current thresholds and ruleset version."""
    current = rulesets.all_current_rules()
    materials = db.session.scalars(select(Material).order_by(Material.code)).all()
    return jsonify({"items": [material_json(m, current[m.code]) for m in materials if m.code in current],
                    "next_cursor": None})


@api.patch("/materials/<code>")
@operation(body=MaterialPatch, responses={200: MaterialOut})
@roles_required("admin")
def patch_material(code: str):
    """Changes thresholds of one material: a new ruleset version; the old one stays readable."""
    material = db.session.get(Material, code)
    if material is None:
        raise NotFound(f"Material {code} was not found.")
    body = parse_body(MaterialPatch)
    rules = rulesets.change_thresholds(material, body.model_dump(exclude_unset=True), current_user.id)
    return jsonify(material_json(material, rules))


@api.get("/labs")
@operation(query=ListQuery, responses={200: page_of(LabOut)})
@roles_required(*ROLES)
def list_labs():
    """The accredited laboratories."""
    query = parse_query(ListQuery)
    items, next_cursor = keyset_page(select(Lab), Lab.id, query.limit, query.cursor)
    return jsonify({"items": [lab_json(lab) for lab in items], "next_cursor": next_cursor})


@api.post("/labs")
@operation(body=LabCreate, responses={201: LabOut}, errors=(409,))
@roles_required("admin")
def create_lab():
    """Adds an accredited laboratory."""
    body = parse_body(LabCreate)
    return jsonify(lab_json(admin.create_lab(current_user.id, **body.model_dump()))), 201
