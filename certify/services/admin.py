"""Administration: companies, facilities, users and accredited labs."""
from flask_babel import gettext as _
from sqlalchemy import select

from certify.errors import Conflict, ValidationFailed
from certify.extensions import db
from certify.models import Company, Facility, Lab, User
from certify.models.user import ROLES
from certify.passwords import hash_password, password_problems
from certify.services import audit


def create_company(actor_id: int | None, name: str, business_registration_no: str) -> Company:
    if db.session.scalar(select(Company.id).where(Company.business_registration_no == business_registration_no)):
        raise Conflict(_("A company with business registration no. %(number)s already exists.",
                         number=business_registration_no))
    company = Company(name=name, business_registration_no=business_registration_no)
    db.session.add(company)
    db.session.flush()
    audit.record(actor_id, "company.created", "company", company.id,
                 {"name": name, "business_registration_no": business_registration_no})
    db.session.commit()
    return company


def create_facility(actor_id: int | None, **fields) -> Facility:
    if db.session.get(Company, fields["company_id"]) is None:
        raise ValidationFailed({"company_id": [_("no such company")]})
    if db.session.scalar(select(Facility.id).where(Facility.company_id == fields["company_id"],
                                                   Facility.name == fields["name"])):
        raise Conflict(_("This company already has a facility named '%(name)s'.", name=fields["name"]))
    facility = Facility(**fields)
    db.session.add(facility)
    db.session.flush()
    audit.record(actor_id, "facility.created", "facility", facility.id, fields)
    db.session.commit()
    return facility


def create_user(actor_id: int | None, email: str, password: str, role: str, company_id: int | None = None) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise ValidationFailed({"role": [_("must be one of %(roles)s", roles=", ".join(ROLES))]})
    if (role == "applicant") != (company_id is not None):
        raise ValidationFailed({"company_id": [_("an applicant belongs to exactly one company; other roles to none")]})
    company = db.session.get(Company, company_id) if company_id is not None else None
    if company_id is not None and company is None:
        raise ValidationFailed({"company_id": [_("no such company")]})
    problems = password_problems(password, email=email, company_name=company.name if company else "")
    if problems:
        raise ValidationFailed({"password": problems})
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(_("A user with e-mail %(email)s already exists.", email=email))
    user = User(email=email, password_hash=hash_password(password), role=role, company_id=company_id)
    db.session.add(user)
    db.session.flush()
    audit.record(actor_id, "user.created", "user", user.id, {"email": email, "role": role, "company_id": company_id})
    db.session.commit()
    return user


def create_lab(actor_id: int | None, accreditation_no: str, name: str) -> Lab:
    if db.session.scalar(select(Lab.id).where(Lab.accreditation_no == accreditation_no)):
        raise Conflict(_("Lab %(number)s is already on the list.", number=accreditation_no))
    lab = Lab(accreditation_no=accreditation_no, name=name)
    db.session.add(lab)
    db.session.flush()
    audit.record(actor_id, "lab.added", "lab", lab.id, {"accreditation_no": accreditation_no, "name": name})
    db.session.commit()
    return lab
