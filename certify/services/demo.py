"""Demo data for a newcomer's first look: two recyclers, their plants and lots, labs, and one user per role."""
import datetime as dt
import secrets
from decimal import Decimal as D
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from certify.extensions import db
from certify.models import User
from certify.services import admin, lots
from certify.services.catalogue import ensure_catalogue

COMPANIES = [
    {"name": "Hanbit Battery Recycling", "business_registration_no": "124-81-00001",
     "facility": {"name": "Pohang Hydromet Plant", "permit_no": "GB-2025-0117", "process": "hydrometallurgy",
                  "annual_capacity_kg": D("12000000")},
     "lots": [("IN-2026-0001", "Hanbit EV Dismantling", "post_consumer", "black_mass", "NMC", D("12000"),
               {"Li": D("3.4"), "Ni": D("21.5"), "Co": D("6.8"), "Mn": D("6.1")}),
              ("IN-2026-0002", "Daegu Cell Works", "pre_consumer", "electrode_scrap", "NCA", D("4000"),
               {"Li": D("5.1"), "Ni": D("38.2"), "Co": D("7.0")}),
              ("IN-2026-0003", "Global Nickel Trading", "primary", "other", None, D("2500"),
               {"Ni": D("24.0")})]},
    {"name": "Saemangeum Materials", "business_registration_no": "451-86-00002",
     "facility": {"name": "Gunsan Recovery Works", "permit_no": "JB-2024-0420", "process": "pyrometallurgy",
                  "annual_capacity_kg": D("6000000")},
     "lots": [("SM-IN-0101", "Honam Scrap Yard", "post_consumer", "battery_pack", "LFP", D("20000"),
               {"Li": D("1.1")}),
              ("SM-IN-0102", "Jeonju Lead Batteries", "post_consumer", "battery_pack", None, D("30000"),
               {"Pb": D("62.0")})]},
]
LABS = [("KOLAS-T-0417", "KTR Pohang"), ("KOLAS-T-0233", "Korea Testing Laboratory Seoul"),
        ("KOLAS-T-0981", "KCL Gunsan")]
ROLE_USERS = [("admin", "admin@certify.example", None), ("reviewer", "reviewer@certify.example", None),
              ("reviewer", "reviewer2@certify.example", None), ("auditor", "auditor@certify.example", None),
              ("applicant", "applicant@hanbit.example", 0), ("applicant", "applicant@saemangeum.example", 1)]


def demo_accounts_file() -> Path:
    return Path(current_app.instance_path) / "demo-accounts.txt"


def seed_demo() -> list[tuple[str, str, str]]:
    """Adds the demo data once; returns (role, e-mail, password) of the accounts made, [] when already there."""
    ensure_catalogue()
    if db.session.scalar(select(User.id).where(User.email == ROLE_USERS[0][1])):
        return []
    today = dt.date.today()
    companies, facilities = [], []
    for spec in COMPANIES:
        company = admin.create_company(None, spec["name"], spec["business_registration_no"])
        facilities.append(admin.create_facility(None, company_id=company.id,
                                                permit_valid_until=today + dt.timedelta(days=730), **spec["facility"]))
        companies.append(company)
    for accreditation_no, name in LABS:
        admin.create_lab(None, accreditation_no, name)
    logins, applicants = [], {}
    for role, email, company_index in ROLE_USERS:
        password = f"demo-{role}-{secrets.token_hex(4)}"
        company_id = companies[company_index].id if company_index is not None else None
        user = admin.create_user(None, email, password, role, company_id)
        if company_index is not None:
            applicants[company_index] = user
        logins.append((role, email, password))
    for index, spec in enumerate(COMPANIES):
        for number, (lot_no, supplier, category, form, chemistry, mass, content) in enumerate(spec["lots"]):
            lots.create_lot(applicants[index], {
                "facility_id": facilities[index].id, "lot_no": lot_no, "supplier": supplier, "category": category,
                "form": form, "chemistry": chemistry, "mass_kg": mass, "element_content_pct": content,
                "received_on": today - dt.timedelta(days=60 - number),
                "transfer_doc_no": f"AB-{today.year}-{companies[index].id:03d}{number:03d}"})
    path = demo_accounts_file()
    path.write_text("".join(f"{role:<10} {email:<32} {password}\n" for role, email, password in logins))
    path.chmod(0o600)
    return logins
