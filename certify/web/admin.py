"""The administrator's pages: companies, facilities, users, accredited labs and the material catalogue."""
import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from certify.errors import ApiError, Conflict, NotFound, ValidationFailed
from certify.extensions import db
from certify.models import Company, Facility, Lab, Material, MaterialRules, User
from certify.security import roles_required
from certify.services import admin as administration
from certify.services import mfa, rulesets
from certify.web import formatting
from certify.web.admin_forms import (
    PROCESS_LABELS,
    ROLE_LABELS,
    CompanyForm,
    FacilityForm,
    LabForm,
    MaterialThresholdsForm,
    ResetTwoStepForm,
    UserForm,
    sentence,
)
from certify.web.paging import newest_first

admin = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 100
MAX_VERSIONS_SHOWN = 200


@admin.context_processor
def page_helpers():
    # Numbers and dates come from the one formatting module, so all pages read alike.
    return {"number": formatting.number, "date": formatting.date, "label": label, "today": dt.date.today()}


def label(value: str) -> str:
    """An enumerated value (process, role) as people read it: "direct_recycling" → "Direct recycling" (직접 재활용)."""
    known = PROCESS_LABELS.get(value) or ROLE_LABELS.get(value)
    return str(known) if known is not None else formatting.words(value).capitalize()



def companies_by_name() -> list[Company]:
    return db.session.scalars(select(Company).order_by(Company.name, Company.id)).all()


def show_refusal(form: FlaskForm, refusal: ApiError, conflict_field: str | None = None) -> None:
    """Puts a service's refusal beside the fields it concerns, as the form's own validation errors are."""
    if refusal.fields:
        for name, messages in refusal.fields.items():
            errors = form[name].errors if name in form else form.form_errors
            errors.extend(sentence(message) for message in messages)
    elif isinstance(refusal, Conflict) and conflict_field:
        form[conflict_field].errors.append(refusal.message)
    else:
        form.form_errors.append(refusal.message)


def render_form(template: str, form: FlaskForm, **context):
    # A refused submission answers 422, so that scripts and tests can tell it from the empty form.
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


def material_or_404(code: str) -> Material:
    material = db.session.get(Material, code)
    if material is None:
        raise NotFound(_("Material %(code)s was not found.", code=code))
    return material


@admin.get("/")
@roles_required("admin")
def index():
    """The administration opens on the company register."""
    return redirect(url_for("admin.companies"))


@admin.get("/companies")
@roles_required("admin")
def companies():
    """Registered companies, newest first."""
    page, older = newest_first(select(Company).options(selectinload(Company.facilities)), Company.id, PAGE_SIZE)
    return render_template("admin/companies.html", companies=page, older=older)


@admin.route("/companies/new", methods=["GET", "POST"])
@roles_required("admin")
def new_company():
    """Registers a recycling company under its business registration number."""
    form = CompanyForm()
    if form.validate_on_submit():
        try:
            company = administration.create_company(current_user.id, form.name.data,
                                                    form.business_registration_no.data)
        except (ValidationFailed, Conflict) as refusal:
            show_refusal(form, refusal, conflict_field="business_registration_no")
        else:
            flash(_("%(company)s is registered.", company=company.name), "info")
            return redirect(url_for("admin.companies"))
    return render_form("admin/company_form.html", form)


@admin.get("/facilities")
@roles_required("admin")
def facilities():
    """Facilities with their company, permit, process and capacity, newest first; `?company_id=` shows one company's."""
    statement = select(Facility).options(joinedload(Facility.company))
    company = None
    company_id = request.args.get("company_id", type=int)
    if company_id is not None:
        company = db.session.get(Company, company_id)
        statement = statement.where(Facility.company_id == company_id)
    page, older = newest_first(statement, Facility.id, PAGE_SIZE)
    return render_template("admin/facilities.html", facilities=page, older=older, company=company)


@admin.route("/facilities/new", methods=["GET", "POST"])
@roles_required("admin")
def new_facility():
    """Registers a facility of a company with its operating permit, process and annual capacity."""
    form = FacilityForm(companies_by_name(), data={"company_id": request.args.get("company_id", type=int)})
    if form.validate_on_submit():
        try:
            facility = administration.create_facility(
                current_user.id, company_id=form.company_id.data, name=form.name.data,
                permit_no=form.permit_no.data, permit_valid_until=form.permit_valid_until.data,
                process=form.recycling_process.data, annual_capacity_kg=form.annual_capacity_kg.data)
        except (ValidationFailed, Conflict) as refusal:
            show_refusal(form, refusal, conflict_field="name")
        else:
            flash(_("%(facility)s is registered for %(company)s.", facility=facility.name,
                    company=facility.company.name), "info")
            return redirect(url_for("admin.facilities"))
    return render_form("admin/facility_form.html", form)


@admin.get("/users")
@roles_required("admin")
def users():
    """User accounts with their role and company, newest first."""
    page, older = newest_first(select(User).options(joinedload(User.company)), User.id, PAGE_SIZE)
    return render_template("admin/users.html", users=page, older=older)


@admin.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    """Creates an account with one role; applicants belong to one company, other roles to none."""
    form = UserForm(companies_by_name())
    if form.validate_on_submit():
        try:
            user = administration.create_user(current_user.id, form.email.data, form.password.data,
                                              form.role.data, form.company_id.data)
        except (ValidationFailed, Conflict) as refusal:
            show_refusal(form, refusal, conflict_field="email")
        else:
            flash(_("The %(role)s account %(email)s is created.", role=label(user.role).lower(), email=user.email),
                  "info")
            return redirect(url_for("admin.users"))
    return render_form("admin/user_form.html", form)


@admin.route("/users/<int:user_id>/two-step", methods=["GET", "POST"])
@roles_required("admin")
def user_two_step(user_id: int):
    """A user's two-step sign-in, and its reset when the phone is lost: the user then enrols again."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("User %(id)s was not found.", id=user_id))
    form = ResetTwoStepForm()
    if form.validate_on_submit():
        mfa.reset(current_user.id, user)
        flash(_("Two-step sign-in of %(email)s is reset; their sessions and tokens have ended.", email=user.email),
              "info")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_two_step.html", user=user, form=form, required=mfa.required_for(user))


@admin.get("/labs")
@roles_required("admin")
def labs():
    """The accredited laboratories whose assay reports are accepted, newest first."""
    page, older = newest_first(select(Lab), Lab.id, PAGE_SIZE)
    return render_template("admin/labs.html", labs=page, older=older)


@admin.route("/labs/new", methods=["GET", "POST"])
@roles_required("admin")
def new_lab():
    """Adds an accredited laboratory to the list."""
    form = LabForm()
    if form.validate_on_submit():
        try:
            lab = administration.create_lab(current_user.id, form.accreditation_no.data, form.name.data)
        except (ValidationFailed, Conflict) as refusal:
            show_refusal(form, refusal, conflict_field="accreditation_no")
        else:
            flash(_("%(lab)s (%(number)s) is on the list.", lab=lab.name, number=lab.accreditation_no), "info")
            return redirect(url_for("admin.labs"))
    return render_form("admin/lab_form.html", form)


@admin.get("/materials")
@roles_required("admin")
def materials():
    """The material catalogue with each material's current thresholds and ruleset version."""
    current = rulesets.all_current_rules()
    catalogue = db.session.scalars(select(Material).order_by(Material.code)).all()
    return render_template("admin/materials.html",
                           rows=[(material, current[material.code]) for material in catalogue
                                 if material.code in current])


@admin.route("/materials/<code>", methods=["GET", "POST"])
@roles_required("admin")
def edit_material(code: str):
    """Changes a material's thresholds: saving adds a new ruleset version and leaves the old one as it was."""
    material = material_or_404(code)
    current = rulesets.current_rules(material.code)
    form = MaterialThresholdsForm(data={"based_on_version": current.version,
                                        **{name: getattr(current, name) for name in rulesets.THRESHOLDS}})
    if form.validate_on_submit():
        changes = form.changes_from(current)
        if form.based_on_version.data != current.version:
            # Another admin saved in the meantime: saving now would quietly undo their change.
            form.form_errors.append(_(
                "Someone saved version %(version)s while you were editing. Its values are shown beside the form; "
                "check yours against them and save again.", version=current.version))
        elif not changes:
            flash(_("Nothing was changed: %(code)s stays at ruleset version %(version)s.", code=material.code,
                    version=current.version), "info")
            return redirect(url_for("admin.materials"))
        else:
            try:
                rules = rulesets.change_thresholds(material, changes, current_user.id)
            except ValidationFailed as refusal:
                show_refusal(form, refusal)
            else:
                flash(_("%(code)s: the new thresholds are ruleset version %(version)s.", code=material.code,
                        version=rules.version), "info")
                return redirect(url_for("admin.materials"))
    return render_form("admin/material_form.html", form, material=material, current=current)


@admin.get("/materials/<code>/versions")
@roles_required("admin")
def material_versions(code: str):
    """Every ruleset version of one material, newest first, read-only: what each batch was checked against."""
    material = material_or_404(code)
    versions = db.session.execute(
        select(MaterialRules, User.email).outerjoin(User, User.id == MaterialRules.created_by)
        .where(MaterialRules.material_code == material.code)
        .order_by(MaterialRules.version.desc()).limit(MAX_VERSIONS_SHOWN)).all()
    return render_template("admin/material_versions.html", material=material, versions=versions)
