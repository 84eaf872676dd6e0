"""The admin's HTML pages: the real forms with their CSRF tokens, errors beside the fields, 403 for other roles."""
import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from certify.extensions import db
from certify.models import AuditEvent, Company, Facility, Lab, Material, MaterialRules, User
from certify.services import rulesets
from certify.web.admin_forms import parse_impurity_lines
from tests.helpers import PASSWORD, TODAY, csrf_token_from, day, form_fields, login, make_company, make_facility, \
    make_user, submit_form

NISO4_IMPURITY_LINES = "Co = 50\nFe = 10\nCu = 10\nZn = 10\nCa = 30\nMg = 50\nNa = 50\nPb = 5"


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def errors_beside(response, field_id: str) -> list[str]:
    """The error messages the page shows under one field (the `field` macro's list)."""
    match = re.search(rf'<ul class="errors" id="{field_id}-errors">(.*?)</ul>', response.get_data(as_text=True), re.S)
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)] if match else []


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def versions_of(code):
    db.session.expire_all()
    return db.session.scalars(select(MaterialRules).where(MaterialRules.material_code == code)
                              .order_by(MaterialRules.version)).all()


def fill_in(client, url, **changes):
    """Opens a form page, keeps what it shows, changes some fields and submits it, as a person would."""
    values = form_fields(client.get(url).get_data(as_text=True))
    values.update(changes)
    return client.post(url, data=values)


@pytest.fixture()
def admin(client, ctx):
    """The signed-in admin."""
    user = make_user("admin")
    login(client, user.email)
    return user


# Creating through the forms

def test_admin_registers_a_company_and_sees_it_listed(client, admin):
    response = submit_form(client, "/admin/companies/new",
                           {"name": " Hanbit Battery Recycling ", "business_registration_no": "124-81-00001"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/companies"
    listing = page_text(client.get("/admin/companies"))
    assert "Hanbit Battery Recycling is registered." in listing
    assert "Hanbit Battery Recycling" in listing and "124-81-00001" in listing
    company = db.session.scalars(select(Company)).one()
    assert company.name == "Hanbit Battery Recycling"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "company.created")).one()
    assert event.actor_id == admin.id


def test_admin_registers_a_facility_and_sees_it_listed(client, admin):
    company = make_company()
    response = submit_form(client, "/admin/facilities/new", {
        "company_id": company.id, "name": "Gunsan Recovery Works", "permit_no": "JB-2024-0420",
        "permit_valid_until": day(700), "recycling_process": "direct_recycling",
        "annual_capacity_kg": "12,000,000.5"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/facilities"
    listing = page_text(client.get("/admin/facilities"))
    for shown in ("Gunsan Recovery Works", company.name, "JB-2024-0420", day(700), "Direct recycling",
                  "12,000,000.5"):
        assert shown in listing
    facility = db.session.scalars(select(Facility)).one()
    assert facility.annual_capacity_kg == Decimal("12000000.5") and facility.process == "direct_recycling"
    assert db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "facility.created")).one() \
        == admin.id


def test_facility_form_preselects_the_company_it_was_opened_for(client, admin):
    make_company("First", "1")
    second = make_company("Second", "2")
    values = form_fields(client.get(f"/admin/facilities/new?company_id={second.id}").get_data(as_text=True))
    assert values["company_id"] == str(second.id)


def test_facility_list_marks_expired_permits_and_filters_by_company(client, admin):
    hanbit, other = make_company("Hanbit", "1"), make_company("Other", "2")
    make_facility(hanbit, name="Old Plant", permit_valid_until=TODAY - dt.timedelta(days=1))
    make_facility(other, name="Other Plant")
    listing = page_text(client.get("/admin/facilities"))
    assert "Old Plant" in listing and "Other Plant" in listing and listing.count(">expired<") == 1
    narrowed = page_text(client.get(f"/admin/facilities?company_id={hanbit.id}"))
    assert "Facilities of Hanbit" in narrowed and "Old Plant" in narrowed and "Other Plant" not in narrowed


def test_admin_creates_an_applicant_who_can_then_sign_in(client, admin, app):
    company = make_company()
    response = submit_form(client, "/admin/users/new", {
        "email": "Kim@Hanbit.example", "password": PASSWORD, "role": "applicant", "company_id": company.id})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    listing = page_text(client.get("/admin/users"))
    assert "kim@hanbit.example" in listing and "Applicant" in listing and company.name in listing
    user = db.session.scalars(select(User).where(User.email == "kim@hanbit.example")).one()
    assert (user.role, user.company_id) == ("applicant", company.id)
    assert login(app.test_client(), "kim@hanbit.example").headers["Location"] == "/home"


def test_admin_creates_a_reviewer_without_company(client, admin):
    response = submit_form(client, "/admin/users/new",
                           {"email": "park@me.go.kr", "password": PASSWORD, "role": "reviewer", "company_id": ""})
    assert response.status_code == 302
    assert db.session.scalars(select(User).where(User.email == "park@me.go.kr")).one().company_id is None


def test_admin_adds_a_lab_and_sees_it_listed(client, admin):
    response = submit_form(client, "/admin/labs/new", {"accreditation_no": "KOLAS-T-0417", "name": "KTR Pohang"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/labs"
    listing = page_text(client.get("/admin/labs"))
    assert "KOLAS-T-0417" in listing and "KTR Pohang" in listing
    assert count(Lab) == 1


# Materials and their ruleset versions

def test_material_list_shows_current_thresholds_and_versions(client, admin):
    listing = page_text(client.get("/admin/materials"))
    for code in ("LI2CO3", "LIOH", "NISO4", "COSO4", "MNSO4", "PB"):
        assert code in listing
    assert "99.97" in listing and "Na 250" in listing and "50 / 95 / 102" in listing
    assert listing.count(">v1<") == 6


def test_edit_page_shows_the_current_thresholds_in_the_form(client, admin):
    values = form_fields(client.get("/admin/materials/NISO4").get_data(as_text=True))
    assert values["based_on_version"] == "1" and values["min_purity_pct"] == "98.5"
    assert values["max_impurities_ppm"] == NISO4_IMPURITY_LINES
    assert (values["min_recovery_pct"], values["typical_max_recovery_pct"], values["max_recovery_pct"]) == (
        "50", "99", "102")


def test_admin_edits_thresholds_as_a_new_ruleset_version(client, admin):
    response = fill_in(client, "/admin/materials/NISO4", min_purity_pct="99",
                       max_impurities_ppm="Fe = 5\r\nCu = 2.5\r\n\r\nCo = 40 ppm\r\n")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/materials"
    listing = page_text(client.get("/admin/materials"))
    assert "NISO4: the new thresholds are ruleset version 2." in listing and ">v2<" in listing

    old, new = versions_of("NISO4")
    assert old.version == 1 and old.min_purity_pct == Decimal("98.5") and len(old.max_impurities_ppm) == 8
    assert new.version == 2 and new.min_purity_pct == Decimal("99") and new.created_by == admin.id
    assert new.max_impurities_ppm == {"Fe": Decimal("5"), "Cu": Decimal("2.5"), "Co": Decimal("40")}
    assert new.max_recovery_pct == old.max_recovery_pct

    history = page_text(client.get("/admin/materials/NISO4/versions"))
    assert history.index(">2") < history.index(">1")  # newest first
    assert "98.5" in history and "99" in history and admin.email in history and "catalogue default" in history
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ruleset.changed")).one()
    assert event.actor_id == admin.id and event.data["changes"]["min_purity_pct"] == 99


def test_saving_unchanged_thresholds_adds_no_version(client, admin):
    response = fill_in(client, "/admin/materials/NISO4")
    assert response.status_code == 302
    assert "Nothing was changed" in page_text(client.get("/admin/materials"))
    assert len(versions_of("NISO4")) == 1


def test_saving_over_a_version_someone_else_saved_meanwhile_is_refused(client, admin):
    url = "/admin/materials/NISO4"
    stale_values = form_fields(client.get(url).get_data(as_text=True))
    material = db.session.get(Material, "NISO4")
    rulesets.change_thresholds(material, {"min_purity_pct": Decimal("99.5")}, None)
    response = client.post(url, data={**stale_values, "max_recovery_pct": "101"})
    assert response.status_code == 422
    assert "Someone saved version 2 while you were editing" in page_text(response)
    assert [rules.version for rules in versions_of("NISO4")] == [1, 2]
    # The page now names version 2: saving again after a look is deliberate and goes through.
    assert form_fields(response.get_data(as_text=True))["based_on_version"] == "2"


def test_bad_impurity_lines_are_each_explained_and_nothing_is_saved(client, admin):
    typed = "Fe 10\nIron = 5\nCu = lots\nZn = 3\nZn = 4\nNa = -1\nMg = 0.0000001"
    response = fill_in(client, "/admin/materials/NISO4", max_impurities_ppm=typed)
    assert response.status_code == 422
    errors = errors_beside(response, "max_impurities_ppm")
    assert [error.split(" ")[1].rstrip(":") for error in errors] == ["1", "2", "3", "5", "6", "7"]
    assert 'write it as an element, "=" and a number of ppm, e.g. "Fe = 10"' in errors[0]
    assert '"Iron" is not an element symbol' in errors[1]
    assert '"lots" is not a number of ppm for Cu' in errors[2]
    assert "Zn is listed twice" in errors[3]
    assert "between 0 and 1,000,000 ppm" in errors[4]
    assert "at most 6 decimals" in errors[5]
    assert form_fields(response.get_data(as_text=True))["max_impurities_ppm"] == typed  # kept as typed
    assert len(versions_of("NISO4")) == 1


@pytest.mark.parametrize("changes", [{"typical_max_recovery_pct": "40"}, {"min_recovery_pct": "99.5"},
                                     {"max_recovery_pct": "98"}])
def test_inconsistent_recovery_thresholds_are_refused_beside_the_typical_maximum(client, admin, changes):
    response = fill_in(client, "/admin/materials/NISO4", **changes)
    assert response.status_code == 422
    [message] = errors_beside(response, "typical_max_recovery_pct")
    assert message.startswith("Must lie between the minimum recovery (") and "and the maximum recovery (" in message
    assert len(versions_of("NISO4")) == 1


@pytest.mark.parametrize("field, value, message", [
    ("min_purity_pct", "101", "Must be at least 0 % and at most 100 %."),
    ("min_purity_pct", "", "This field is required."),
    ("max_recovery_pct", "abc", "Not a valid decimal value."),
    ("max_recovery_pct", "NaN", "Not a valid decimal value."),
])
def test_out_of_range_thresholds_are_refused_on_the_field(client, admin, field, value, message):
    response = fill_in(client, "/admin/materials/NISO4", **{field: value})
    assert response.status_code == 422
    assert message in errors_beside(response, field)
    assert len(versions_of("NISO4")) == 1


def test_unknown_material_is_404(client, admin):
    assert client.get("/admin/materials/GOLD").status_code == 404
    assert client.get("/admin/materials/GOLD/versions").status_code == 404


# Validation errors on the forms

def test_empty_company_form_shows_what_is_missing(client, admin):
    response = submit_form(client, "/admin/companies/new", {"name": "  ", "business_registration_no": ""})
    assert response.status_code == 422
    assert errors_beside(response, "name") == ["This field is required."]
    assert errors_beside(response, "business_registration_no") == ["This field is required."]
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert count(Company) == 0


def test_duplicate_registration_no_is_shown_beside_the_field(client, admin):
    make_company("Hanbit Battery Recycling", "124-81-00001")
    response = submit_form(client, "/admin/companies/new",
                           {"name": "Copycat", "business_registration_no": "124-81-00001"})
    assert response.status_code == 422
    assert errors_beside(response, "business_registration_no") == [
        "A company with business registration no. 124-81-00001 already exists."]
    assert count(Company) == 1


def test_registration_no_longer_than_the_register_allows_is_refused(client, admin):
    response = submit_form(client, "/admin/companies/new", {"name": "Long", "business_registration_no": "1" * 41})
    assert response.status_code == 422
    assert errors_beside(response, "business_registration_no")


@pytest.mark.parametrize("change, field, message", [
    ({"role": "applicant", "company_id": ""}, "company_id", "An applicant must belong to a company: choose one."),
    ({"role": "reviewer", "company_id": "COMPANY"}, "company_id",
     "Only applicants belong to a company: leave this empty for this role."),
    ({"password": "short"}, "password", "Must be at least 10 characters long."),
    ({"password": "password123"}, "password", "Is too easy to guess"),
    ({"email": "PARK@me.go.kr"}, "email", "A user with e-mail park@me.go.kr already exists."),
    ({"email": "not-an-address"}, "email", "An email address must have an @-sign."),
    ({"role": "superuser"}, "role", "Not a valid choice."),
])
def test_user_form_shows_refusals_beside_the_field(client, admin, change, field, message):
    company = make_company()
    make_user("reviewer", email="park@me.go.kr")
    data = {"email": "kim@hanbit.example", "password": PASSWORD, "role": "auditor", "company_id": "", **change}
    if data["company_id"] == "COMPANY":
        data["company_id"] = company.id
    response = submit_form(client, "/admin/users/new", data)
    assert response.status_code == 422
    assert any(error.startswith(message) for error in errors_beside(response, field))
    assert count(User) == 2


def test_service_refusal_is_shown_beside_the_field_it_names(client, admin):
    """The company's name as password passes the form's own check; the service refuses it (it knows the company)."""
    company = make_company("Hanbit Battery Recycling", "124-81-00001")
    response = submit_form(client, "/admin/users/new", {"email": "kim@hanbit.example",
                                                       "password": "hanbit battery recycling", "role": "applicant",
                                                       "company_id": company.id})
    assert response.status_code == 422
    [message] = errors_beside(response, "password")
    assert message.startswith("Is too easy to guess")
    assert count(User) == 1


def test_user_form_shows_every_problem_in_one_round(client, admin):
    response = submit_form(client, "/admin/users/new",
                           {"email": "kim@hanbit.example", "password": "short", "role": "applicant", "company_id": ""})
    assert response.status_code == 422
    assert errors_beside(response, "password") == ["Must be at least 10 characters long."]
    assert errors_beside(response, "company_id") == ["An applicant must belong to a company: choose one."]


def test_facility_form_preselects_no_company_unless_asked(client, admin):
    make_company()
    assert form_fields(client.get("/admin/facilities/new").get_data(as_text=True))["company_id"] == ""


@pytest.mark.parametrize("change, field, message", [
    ({"annual_capacity_kg": "-5"}, "annual_capacity_kg", "Must be greater than 0 and at most 1,000,000,000,000."),
    ({"annual_capacity_kg": "lots"}, "annual_capacity_kg", "Not a valid decimal value."),
    ({"permit_valid_until": "31.12.2027"}, "permit_valid_until", "Not a valid date value."),
    ({"recycling_process": "alchemy"}, "recycling_process", "Not a valid choice."),
    ({"company_id": "999999"}, "company_id", "Not a valid choice."),
    ({"company_id": ""}, "company_id", "This field is required."),
    ({"name": "Pohang Plant"}, "name", "This company already has a facility named 'Pohang Plant'."),
])
def test_facility_form_shows_refusals_beside_the_field(client, admin, change, field, message):
    company = make_company()
    make_facility(company, name="Pohang Plant")
    data = {"company_id": company.id, "name": "Ulsan Plant", "permit_no": "US-1", "permit_valid_until": day(400),
            "recycling_process": "mechanical", "annual_capacity_kg": "1000", **change}
    response = submit_form(client, "/admin/facilities/new", data)
    assert response.status_code == 422
    assert message in errors_beside(response, field)
    assert count(Facility) == 1


def test_facility_form_without_companies_says_to_register_one_first(client, admin):
    assert "Register the company first" in page_text(client.get("/admin/facilities/new"))


def test_duplicate_lab_is_shown_beside_the_accreditation_no(client, admin):
    submit_form(client, "/admin/labs/new", {"accreditation_no": "KOLAS-T-0417", "name": "KTR Pohang"})
    response = submit_form(client, "/admin/labs/new", {"accreditation_no": "KOLAS-T-0417", "name": "Other"})
    assert response.status_code == 422
    assert errors_beside(response, "accreditation_no") == ["Lab KOLAS-T-0417 is already on the list."]
    assert count(Lab) == 1


# Who may open the pages

def admin_urls(app, user_id=999999):
    """Every page of the admin blueprint, with its methods (a user's page for this user id)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            yield (rule.rule.replace("<code>", "NISO4").replace("<int:user_id>", str(user_id)),
                   rule.methods - {"HEAD", "OPTIONS"})


def test_admin_walks_every_admin_page(app, client, admin):
    urls = list(admin_urls(app, db.session.scalar(select(User.id).where(User.role == "admin"))))
    assert len(urls) == 13
    for url, _ in urls:
        response = client.get(url)
        assert response.status_code == (302 if url == "/admin/" else 200), url


@pytest.mark.parametrize("role", ["applicant", "reviewer", "auditor"])
def test_other_roles_get_403_on_every_admin_page(app, client, ctx, role):
    company = make_company()
    user = make_user(role, company=company if role == "applicant" else None)
    login(client, user.email)
    token = csrf_token_from(client.get("/home").get_data(as_text=True))
    events_before = count(AuditEvent)
    for url, methods in admin_urls(app):
        assert client.get(url).status_code == 403, url
        if "POST" in methods:
            response = client.post(url, data={"csrf_token": token, "name": "X", "business_registration_no": "9",
                                              "accreditation_no": "9", "min_purity_pct": "10"})
            assert response.status_code == 403, url
    assert count(AuditEvent) == events_before and len(versions_of("NISO4")) == 1


def test_signed_out_visitors_are_sent_to_sign_in(app, client, ctx):
    for url, _ in admin_urls(app):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_admin_nav_links_every_section(client, admin):
    page = client.get("/admin/materials").get_data(as_text=True)
    for href, label in (("/admin/companies", "Companies"), ("/admin/facilities", "Facilities"),
                        ("/admin/users", "Users"), ("/admin/labs", "Labs")):
        assert f'<a href="{href}">{label}</a>' in page
    assert '<a href="/admin/materials" aria-current="page">Materials</a>' in page


@pytest.mark.parametrize("url, data, model", [
    ("/admin/companies/new", {"name": "Hanbit", "business_registration_no": "124-81-00001"}, Company),
    ("/admin/facilities/new", {"company_id": "COMPANY", "name": "Ulsan", "permit_no": "1",
                               "permit_valid_until": "2030-01-01", "recycling_process": "mechanical",
                               "annual_capacity_kg": "10"}, Facility),
    ("/admin/users/new", {"email": "kim@hanbit.example", "password": PASSWORD, "role": "auditor"}, User),
    ("/admin/labs/new", {"accreditation_no": "KOLAS-T-0417", "name": "KTR Pohang"}, Lab),
    ("/admin/materials/NISO4", {"based_on_version": "1", "min_purity_pct": "99", "max_impurities_ppm": "Fe = 1",
                                "min_recovery_pct": "50", "typical_max_recovery_pct": "99",
                                "max_recovery_pct": "102"}, MaterialRules),
])
def test_form_post_without_csrf_token_is_400_and_creates_nothing(client, admin, url, data, model):
    company = make_company("Other", "999")
    data = {key: company.id if value == "COMPANY" else value for key, value in data.items()}
    before, events_before = count(model), count(AuditEvent)
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "reload the page and try again" in page_text(response)
    assert (count(model), count(AuditEvent)) == (before, events_before)


# The impurity lines parser on its own

def test_impurity_lines_parse_to_exact_numbers():
    limits, problems = parse_impurity_lines("  Fe = 10\n\nSO4=100.5 ppm\r\nCu =0.000001\n")
    assert problems == []
    assert limits == {"Fe": Decimal("10"), "SO4": Decimal("100.5"), "Cu": Decimal("0.000001")}
    assert all(isinstance(value, Decimal) for value in limits.values())


def test_empty_impurity_lines_limit_nothing():
    assert parse_impurity_lines("\n  \n") == ({}, [])


def test_an_older_page_cursor_beyond_any_id_is_ignored_not_an_error(client, ctx):
    admin_user = make_user("admin", email="pager-admin@certify.test")
    login(client, admin_user.email)
    assert client.get("/admin/companies?before=99999999999").status_code == 200
