"""api.md, Administration: companies, facilities, users, the material catalogue with its rulesets, labs."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from certify.extensions import db
from certify.models import AuditEvent, Company, Facility, Lab, MaterialRules, User
from tests.helpers import PASSWORD, api_headers_for, bearer, day, make_company, make_facility, make_user, token_for

MATERIAL_KEYS = {"code", "name", "element", "element_fraction_pct", "min_purity_pct", "max_impurities_ppm",
                 "max_recovery_pct", "typical_max_recovery_pct", "min_recovery_pct", "ruleset_version"}
FACILITY_KEYS = {"id", "company_id", "name", "permit_no", "permit_valid_until", "process", "annual_capacity_kg"}


def facility_body(company_id, **overrides):
    return {"company_id": company_id, "name": "Ulsan Plant", "permit_no": "US-2026-0001",
            "permit_valid_until": day(800), "process": "hydrometallurgy", "annual_capacity_kg": 5000000,
            **overrides}


def assert_error(response, status, code):
    """api.md's error shape: `fields` only on 422."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and isinstance(error["message"], str) and error["message"]
    assert set(error) == ({"code", "message", "fields"} if status == 422 else {"code", "message"})
    return error


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def rules_of(code):
    db.session.expire_all()
    return db.session.scalars(select(MaterialRules).where(MaterialRules.material_code == code)
                              .order_by(MaterialRules.version)).all()


@pytest.fixture()
def admin_headers(client, ctx):
    return api_headers_for(client, "admin")


# Companies

def test_admin_registers_a_company(client, admin_headers):
    response = client.post("/api/v1/companies", headers=admin_headers,
                           json={"name": "Hanbit Battery Recycling", "business_registration_no": "124-81-00001"})
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "name": "Hanbit Battery Recycling", "business_registration_no": "124-81-00001"}
    assert db.session.get(Company, body["id"]).name == "Hanbit Battery Recycling"


def test_companies_are_listed_newest_first_for_ministry_roles(client, admin_headers):
    older, newer = make_company("Older Co", "111-11-11111"), make_company("Newer Co", "222-22-22222")
    for headers in (admin_headers, api_headers_for(client, "reviewer"), api_headers_for(client, "auditor")):
        response = client.get("/api/v1/companies", headers=headers)
        assert response.status_code == 200
        assert response.get_json() == {"items": [
            {"id": newer.id, "name": "Newer Co", "business_registration_no": "222-22-22222"},
            {"id": older.id, "name": "Older Co", "business_registration_no": "111-11-11111"}], "next_cursor": None}


def test_company_list_is_not_for_applicants(client, ctx):
    headers = api_headers_for(client, "applicant", company=make_company())
    assert_error(client.get("/api/v1/companies", headers=headers), 403, "forbidden")


def test_company_list_pages_with_a_cursor(client, admin_headers):
    made = [make_company(f"Co {n}", f"100-00-0000{n}") for n in range(3)]
    first = client.get("/api/v1/companies?limit=2", headers=admin_headers).get_json()
    assert [c["id"] for c in first["items"]] == [made[2].id, made[1].id] and first["next_cursor"]
    second = client.get(f"/api/v1/companies?limit=2&cursor={first['next_cursor']}", headers=admin_headers).get_json()
    assert [c["id"] for c in second["items"]] == [made[0].id] and second["next_cursor"] is None


def test_duplicate_business_registration_no_is_409(client, admin_headers):
    make_company("Hanbit Battery Recycling", "124-81-00001")
    response = client.post("/api/v1/companies", headers=admin_headers,
                           json={"name": "Another name", "business_registration_no": "124-81-00001"})
    assert_error(response, 409, "conflict")
    assert count(Company) == 1


def test_company_without_name_is_422(client, admin_headers):
    response = client.post("/api/v1/companies", headers=admin_headers, json={"business_registration_no": "1"})
    assert assert_error(response, 422, "validation_error")["fields"] == {"name": ["is required"]}


def test_malformed_json_is_400(client, admin_headers):
    response = client.post("/api/v1/companies", headers=admin_headers, data="{nope",
                           content_type="application/json")
    assert_error(response, 400, "bad_request")


# Facilities

def test_admin_registers_a_facility(client, admin_headers):
    company = make_company()
    response = client.post("/api/v1/facilities", headers=admin_headers, json=facility_body(company.id))
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "company_id": company.id, "name": "Ulsan Plant", "permit_no": "US-2026-0001",
                    "permit_valid_until": day(800), "process": "hydrometallurgy", "annual_capacity_kg": 5000000}
    assert db.session.get(Facility, body["id"]).annual_capacity_kg == Decimal("5000000")


def test_facility_capacity_is_stored_exactly(client, admin_headers):
    company = make_company()
    response = client.post("/api/v1/facilities", headers=admin_headers,
                           json=facility_body(company.id, annual_capacity_kg=1234567.1234))
    assert response.get_json()["annual_capacity_kg"] == 1234567.1234
    assert db.session.get(Facility, response.get_json()["id"]).annual_capacity_kg == Decimal("1234567.1234")


@pytest.mark.parametrize("change, field", [
    ({"process": "alchemy"}, "process"),
    ({"annual_capacity_kg": 0}, "annual_capacity_kg"),
    ({"permit_valid_until": "31.12.2027"}, "permit_valid_until"),
    ({"company_id": 999999}, "company_id"),
])
def test_invalid_facility_is_422_naming_the_field(client, admin_headers, change, field):
    company = make_company()
    response = client.post("/api/v1/facilities", headers=admin_headers, json={**facility_body(company.id), **change})
    assert field in assert_error(response, 422, "validation_error")["fields"]
    assert count(Facility) == 0


def test_facility_with_a_name_its_company_already_uses_is_409(client, admin_headers):
    company = make_company()
    make_facility(company, name="Ulsan Plant")
    response = client.post("/api/v1/facilities", headers=admin_headers, json=facility_body(company.id))
    assert_error(response, 409, "conflict")


def test_facilities_list_every_company_for_ministry_roles(client, admin_headers):
    first = make_facility(make_company("A", "1"), name="A plant")
    second = make_facility(make_company("B", "2"), name="B plant")
    for headers in (admin_headers, api_headers_for(client, "reviewer"), api_headers_for(client, "auditor")):
        body = client.get("/api/v1/facilities", headers=headers).get_json()
        assert [f["id"] for f in body["items"]] == [second.id, first.id]
        assert all(set(item) == FACILITY_KEYS for item in body["items"])


def test_applicant_sees_only_its_own_companys_facilities(client, ctx):
    own_company, other_company = make_company("Own", "1"), make_company("Other", "2")
    own = make_facility(own_company, name="Own plant")
    make_facility(other_company, name="Other plant")
    response = client.get("/api/v1/facilities", headers=api_headers_for(client, "applicant", company=own_company))
    assert response.status_code == 200
    assert [f["id"] for f in response.get_json()["items"]] == [own.id]


# Users

def test_admin_creates_an_applicant_who_can_then_sign_in(client, admin_headers):
    company = make_company()
    response = client.post("/api/v1/users", headers=admin_headers, json={
        "email": "Kim@Hanbit.example", "password": PASSWORD, "role": "applicant", "company_id": company.id})
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "email": "kim@hanbit.example", "role": "applicant", "company_id": company.id}
    me = client.get("/api/v1/me", headers=bearer(token_for(client, "kim@hanbit.example")))
    assert me.get_json()["company_id"] == company.id


def test_admin_creates_a_reviewer_without_company(client, admin_headers):
    response = client.post("/api/v1/users", headers=admin_headers,
                           json={"email": "park@me.go.kr", "password": PASSWORD, "role": "reviewer"})
    assert response.status_code == 201
    assert response.get_json()["company_id"] is None


def test_duplicate_email_is_409_whatever_its_case(client, admin_headers):
    make_user("reviewer", email="park@me.go.kr")
    response = client.post("/api/v1/users", headers=admin_headers,
                           json={"email": "PARK@me.go.kr", "password": PASSWORD, "role": "auditor"})
    assert_error(response, 409, "conflict")
    assert count(User) == 2


def test_applicant_without_company_is_422(client, admin_headers):
    response = client.post("/api/v1/users", headers=admin_headers,
                           json={"email": "kim@hanbit.example", "password": PASSWORD, "role": "applicant"})
    assert "company_id" in assert_error(response, 422, "validation_error")["fields"]


@pytest.mark.parametrize("role", ["reviewer", "auditor", "admin"])
def test_non_applicant_with_company_is_422(client, admin_headers, role):
    company = make_company()
    response = client.post("/api/v1/users", headers=admin_headers, json={
        "email": "someone@me.go.kr", "password": PASSWORD, "role": role, "company_id": company.id})
    assert "company_id" in assert_error(response, 422, "validation_error")["fields"]
    assert count(User) == 1


@pytest.mark.parametrize("password", ["short", "password123", "aaaaaaaaaaaa", "kim@hanbit.example"])
def test_weak_password_is_422(client, admin_headers, password):
    response = client.post("/api/v1/users", headers=admin_headers,
                           json={"email": "kim@hanbit.example", "password": password, "role": "auditor"})
    assert "password" in assert_error(response, 422, "validation_error")["fields"]


@pytest.mark.parametrize("change, field", [({"role": "superuser"}, "role"), ({"email": "not-an-address"}, "email")])
def test_unknown_role_or_bad_email_is_422(client, admin_headers, change, field):
    response = client.post("/api/v1/users", headers=admin_headers,
                           json={"email": "kim@hanbit.example", "password": PASSWORD, "role": "auditor", **change})
    assert field in assert_error(response, 422, "validation_error")["fields"]


# Materials and rulesets

@pytest.mark.parametrize("role", ["applicant", "reviewer", "auditor", "admin"])
def test_material_catalogue_is_readable_by_every_role(client, ctx, role):
    company = make_company() if role == "applicant" else None
    response = client.get("/api/v1/materials", headers=api_headers_for(client, role, company=company))
    assert response.status_code == 200
    assert [m["code"] for m in response.get_json()["items"]] == ["COSO4", "LI2CO3", "LIOH", "MNSO4", "NISO4", "PB"]


def test_material_items_have_exactly_the_shape_of_api_md(client, admin_headers):
    body = client.get("/api/v1/materials", headers=admin_headers).get_json()
    assert all(set(item) == MATERIAL_KEYS for item in body["items"])
    nickel = next(item for item in body["items"] if item["code"] == "NISO4")
    assert nickel == {
        "code": "NISO4", "name": "Nickel sulfate hexahydrate NiSO4·6H2O", "element": "Ni",
        "element_fraction_pct": 22.33, "min_purity_pct": 98.5,
        "max_impurities_ppm": {"Co": 50, "Fe": 10, "Cu": 10, "Zn": 10, "Ca": 30, "Mg": 50, "Na": 50, "Pb": 5},
        "max_recovery_pct": 102, "typical_max_recovery_pct": 99, "min_recovery_pct": 50, "ruleset_version": 1}


def test_patch_makes_a_new_ruleset_version_and_keeps_the_old_one_unchanged(client, admin_headers):
    before = rules_of("NISO4")[0]
    kept = {name: getattr(before, name) for name in ("min_purity_pct", "max_impurities_ppm", "max_recovery_pct",
                                                     "typical_max_recovery_pct", "min_recovery_pct", "created_at")}
    response = client.patch("/api/v1/materials/NISO4", headers=admin_headers,
                            json={"min_purity_pct": 99.1, "max_impurities_ppm": {"Fe": 5, "Cu": 2.5}})
    assert response.status_code == 200
    body = response.get_json()
    assert body["ruleset_version"] == 2 and body["min_purity_pct"] == 99.1
    assert body["max_impurities_ppm"] == {"Fe": 5, "Cu": 2.5}
    assert (body["max_recovery_pct"], body["typical_max_recovery_pct"], body["min_recovery_pct"]) == (102, 99, 50)

    old, new = rules_of("NISO4")
    assert old.version == 1 and {name: getattr(old, name) for name in kept} == kept
    assert new.version == 2 and new.min_purity_pct == Decimal("99.1")
    assert new.max_impurities_ppm == {"Fe": Decimal("5"), "Cu": Decimal("2.5")}
    admin_id = db.session.scalar(select(User.id).where(User.role == "admin"))
    assert new.created_by == admin_id

    listed = {m["code"]: m for m in client.get("/api/v1/materials", headers=admin_headers).get_json()["items"]}
    assert listed["NISO4"]["ruleset_version"] == 2 and listed["NISO4"]["min_purity_pct"] == 99.1
    assert listed["COSO4"]["ruleset_version"] == 1


def test_each_patch_adds_one_more_version(client, admin_headers):
    for expected_version, purity in ((2, 99), (3, 99.2)):
        response = client.patch("/api/v1/materials/PB", headers=admin_headers, json={"min_purity_pct": purity})
        assert response.get_json()["ruleset_version"] == expected_version
    assert [rules.version for rules in rules_of("PB")] == [1, 2, 3]


@pytest.mark.parametrize("body, field", [
    ({"element": "Co"}, "element"),
    ({"ruleset_version": 7}, "ruleset_version"),
    ({"min_purity_pct": 99, "colour": "green"}, "colour"),
])
def test_patch_with_a_field_that_cannot_be_set_is_422(client, admin_headers, body, field):
    response = client.patch("/api/v1/materials/NISO4", headers=admin_headers, json=body)
    error = assert_error(response, 422, "validation_error")
    assert error["fields"][field] == ["is not a field that can be set"]
    assert len(rules_of("NISO4")) == 1


@pytest.mark.parametrize("body", [
    {},
    {"min_purity_pct": 101},
    {"min_purity_pct": None},
    {"max_impurities_ppm": {"iron": 10}},
    {"max_impurities_ppm": {"Fe": -1}},
])
def test_patch_with_invalid_thresholds_is_422(client, admin_headers, body):
    response = client.patch("/api/v1/materials/NISO4", headers=admin_headers, json=body)
    assert_error(response, 422, "validation_error")
    assert len(rules_of("NISO4")) == 1


def test_patch_on_unknown_material_is_404(client, admin_headers):
    response = client.patch("/api/v1/materials/GOLD", headers=admin_headers, json={"min_purity_pct": 99})
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("body", [
    {"typical_max_recovery_pct": 40},  # below min_recovery_pct 50
    {"typical_max_recovery_pct": 105},  # above max_recovery_pct 102
    {"min_recovery_pct": 100},  # above typical_max_recovery_pct 99
    {"max_recovery_pct": 90},  # below typical_max_recovery_pct 99
])
def test_patch_with_inconsistent_recovery_thresholds_is_422(client, admin_headers, body):
    response = client.patch("/api/v1/materials/NISO4", headers=admin_headers, json=body)
    assert "typical_max_recovery_pct" in assert_error(response, 422, "validation_error")["fields"]
    assert len(rules_of("NISO4")) == 1


def test_consistent_change_of_all_recovery_thresholds_is_accepted(client, admin_headers):
    response = client.patch("/api/v1/materials/NISO4", headers=admin_headers,
                            json={"min_recovery_pct": 60, "typical_max_recovery_pct": 97, "max_recovery_pct": 101})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["min_recovery_pct"], body["typical_max_recovery_pct"], body["max_recovery_pct"]) == (60, 97, 101)


# Labs

def test_admin_adds_a_lab_and_every_role_sees_the_list(client, admin_headers):
    response = client.post("/api/v1/labs", headers=admin_headers,
                           json={"accreditation_no": "KOLAS-T-0417", "name": "KTR Pohang"})
    assert response.status_code == 201
    assert {"accreditation_no": "KOLAS-T-0417", "name": "KTR Pohang"}.items() <= response.get_json().items()
    applicant = api_headers_for(client, "applicant", company=make_company())
    listed = client.get("/api/v1/labs", headers=applicant)
    assert listed.status_code == 200
    assert [(lab["accreditation_no"], lab["name"]) for lab in listed.get_json()["items"]] == [
        ("KOLAS-T-0417", "KTR Pohang")]


def test_duplicate_lab_is_409(client, admin_headers):
    body = {"accreditation_no": "KOLAS-T-0417", "name": "KTR Pohang"}
    assert client.post("/api/v1/labs", headers=admin_headers, json=body).status_code == 201
    assert_error(client.post("/api/v1/labs", headers=admin_headers, json={**body, "name": "Other"}), 409, "conflict")
    assert count(Lab) == 1


# Who may write, and the audit trail

def admin_writes(company_id):
    """Every state-changing admin call of api.md, each with a valid body."""
    return [
        ("post", "/api/v1/companies", {"name": "New Co", "business_registration_no": "555-55-55555"}),
        ("post", "/api/v1/facilities", facility_body(company_id)),
        ("post", "/api/v1/users", {"email": "new@me.go.kr", "password": PASSWORD, "role": "auditor"}),
        ("patch", "/api/v1/materials/NISO4", {"min_purity_pct": 99}),
        ("post", "/api/v1/labs", {"accreditation_no": "KOLAS-T-0001", "name": "New Lab"}),
    ]


@pytest.mark.parametrize("role", ["reviewer", "auditor", "applicant"])
def test_every_admin_write_is_403_for_other_roles(client, ctx, role):
    company = make_company()
    headers = api_headers_for(client, role, company=company if role == "applicant" else None)
    events_before = count(AuditEvent)
    for method, path, body in admin_writes(company.id):
        response = getattr(client, method)(path, headers=headers, json=body)
        assert_error(response, 403, "forbidden")
    assert count(AuditEvent) == events_before
    assert (count(Company), count(Facility), count(Lab), len(rules_of("NISO4"))) == (1, 0, 0, 1)


def test_every_admin_write_is_401_without_a_token(client, ctx):
    company = make_company()
    for method, path, body in admin_writes(company.id):
        response = getattr(client, method)(path, json=body)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    for path in ("/api/v1/companies", "/api/v1/facilities", "/api/v1/materials", "/api/v1/labs"):
        assert_error(client.get(path), 401, "unauthorized")


def test_every_admin_write_leaves_an_audit_event_naming_the_admin(client, ctx):
    company = make_company()
    admin = make_user("admin")
    headers = bearer(token_for(client, admin.email))
    expected = [("company.created", "company"), ("facility.created", "facility"), ("user.created", "user"),
                ("ruleset.changed", "material"), ("lab.added", "lab")]
    for (method, path, body), (action, object_type) in zip(admin_writes(company.id), expected):
        response = getattr(client, method)(path, headers=headers, json=body)
        assert response.status_code in (200, 201), response.get_json()
        object_id = str(response.get_json().get("id") or response.get_json().get("code"))
        db.session.expire_all()
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == object_type,
                                                            AuditEvent.object_id == object_id)).one()
        assert (event.action, event.actor_id) == (action, admin.id)
    ruleset_event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ruleset.changed")).one()
    assert ruleset_event.data["version"] == 2 and ruleset_event.data["previous_version"] == 1
    assert ruleset_event.data["changes"] == {"min_purity_pct": 99}
    user_event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.created",
                                                             AuditEvent.actor_id == admin.id)).one()
    assert PASSWORD not in str(user_event.data)


def test_overlong_fields_are_422_not_a_server_error(client, ctx):
    from tests.helpers import bearer, make_user, token_for

    make_user("admin", email="admin-long@certify.test")
    headers = bearer(token_for(client, "admin-long@certify.test"))
    response = client.post("/api/v1/companies", headers=headers,
                           json={"name": "0", "business_registration_no": "0" * 59})
    assert response.status_code == 422
    assert "business_registration_no" in response.get_json()["error"]["fields"]
