"""What the measurements need besides the seeded database: the seeded accounts signed in, API tokens, and a
company of the bench's own whose batches go through the check pipeline, the uploads and the page probes.

Accounts and tokens are made in the bench's own app process (the same configuration as gunicorn); the batches,
lots and evidence go through the HTTP API, as an applicant's ERP would send them.
"""
import datetime as dt
import secrets
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from bench.client import Client, browser_session
from certify.documents.generated import pdf_with_text
from certify.extensions import db
from certify.models import User
from certify.services import accounts, admin

SEED_PASSWORD = "bench load test passphrase 2026"
SEED_EMAILS = {role: f"bench-{role}@bench.example" for role in ("applicant", "reviewer", "auditor", "admin")}
TODAY = dt.date.today()
# Set-up calls in flight at once: enough to keep both web workers busy.
SETUP_THREADS = 4


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def seeded_user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        raise SystemExit(f"{email} is not in the database: was it seeded with `flask bench-seed`?")
    return user


def api_token(user: User) -> str:
    """A Bearer token issued by the service itself, so no sign-in (and no second step) is spent on it."""
    from flask import current_app

    secret, _ = accounts.issue_api_token(user, current_app.config["TOKEN_TTL"])
    return secret


# Two-step sign-in, where the service has it: the bench enrols the seeded ministry accounts as a person would,
# with the key the service shows, and computes each code from that key.

def two_step_codes(user: User):
    """A function giving a fresh code for the user's next sign-in, or None when the user signs in without one."""
    try:
        from certify.services import mfa
    except ImportError:
        return None
    import pyotp

    if not user.has_totp:
        if not mfa.required_for(user):
            return None
        enrolment = mfa.begin_enrolment(user)
        if not mfa.confirm_enrolment(user, pyotp.TOTP(enrolment.secret).now()):
            raise SystemExit(f"{user.email}: two-step enrolment refused the code")
    user_id = user.id

    def next_code() -> str:
        # A code is used once per 30-second step: take the step after the last one used, waiting if needed.
        fresh = db.session.get(User, user_id, populate_existing=True)
        totp = mfa._totp(fresh)
        step = totp.timecode(time.time())
        last = fresh.totp_last_step or 0
        while last >= step + mfa.VALID_WINDOW:
            time.sleep(1)
            step = totp.timecode(time.time())
        db.session.rollback()
        return totp.generate_otp(max(step, last + 1))

    return next_code


@dataclass
class Sessions:
    """The seeded accounts, signed in: Bearer tokens for the API, browser sessions for the HTML pages."""

    reviewer_token: str
    applicant_browser: Client
    reviewer_browser: Client
    auditor_browser: Client


def sign_in_seeded_accounts(base_url: str) -> Sessions:
    users = {role: seeded_user(email) for role, email in SEED_EMAILS.items()}
    codes = {role: two_step_codes(users[role]) for role in ("reviewer", "auditor")}
    reviewer_token = api_token(users["reviewer"])  # after enrolment, which ends the tokens issued before it
    return Sessions(
        reviewer_token=reviewer_token,
        applicant_browser=browser_session(base_url, SEED_EMAILS["applicant"], SEED_PASSWORD),
        reviewer_browser=browser_session(base_url, SEED_EMAILS["reviewer"], SEED_PASSWORD, codes["reviewer"]),
        auditor_browser=browser_session(base_url, SEED_EMAILS["auditor"], SEED_PASSWORD, codes["auditor"]))


# Evidence files: real files of accepted types, distinct per batch so DOC_DUPLICATE never trips.

def png(tag: str) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (len(body).to_bytes(4, "big") + kind + body
                + (zlib.crc32(kind + body) & 0xFFFFFFFF).to_bytes(4, "big"))

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", (4).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00")
            + chunk(b"tEXt", b"Comment\x00" + tag.encode()) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def evidence(report_no: str, tag: str, extra: int = 0) -> list[tuple[str, str, bytes]]:
    files = [("assay_report", "assay.pdf", pdf_with_text([f"Assay report {report_no}"])),
             ("feedstock_evidence", "ticket.png", png(tag)),
             ("production_record", "production.csv", f"date,output_kg,tag\n{day(-10)},10000,{tag}\n".encode())]
    files += [("other", f"photo-{index}.png", png(f"{tag}-{index}")) for index in range(extra)]
    return files


@dataclass
class BenchCompany:
    """A recycler of the bench's own: its applicant's API client, facility and accredited lab."""

    api: Client
    facility_id: int
    lab_no: str
    lab_name: str
    tag: str

    def lot(self, serial: str, mass_kg: int = 12000) -> int:
        body = {"facility_id": self.facility_id, "lot_no": f"BENCH-{self.tag}-{serial}", "supplier": "Bench Dismantling",
                "category": "post_consumer", "form": "black_mass", "chemistry": "NMC", "mass_kg": mass_kg,
                "received_on": day(-50), "transfer_doc_no": f"BT-{self.tag}-{serial}",
                "element_content_pct": {"Li": 3.4, "Ni": 21.5, "Co": 6.8, "Mn": 6.1}}
        return self.api.post_json("/api/v1/feedstock-lots", body, expect=201).json()["id"]

    def ready_batch(self, serial: str, inputs: int = 1, extra_documents: int = 0) -> int:
        """A draft batch with its required evidence (and `extra_documents` more), ready to submit."""
        lot_ids = [self.lot(f"{serial}-{index}") for index in range(inputs)]
        report_no = f"R-{self.tag}-{serial}"
        body = {"facility_id": self.facility_id, "material_code": "NISO4", "grade": "battery", "quantity_kg": 10000,
                "production_start": day(-40), "production_end": day(-10),
                "assay": {"purity_pct": 99.3, "impurities_ppm": {"Fe": 4, "Cu": 2, "Zn": 3}, "lab_name": self.lab_name,
                          "lab_accreditation_no": self.lab_no, "report_no": report_no},
                "inputs": [{"lot_id": lot_id, "mass_kg": 11000 // inputs} for lot_id in lot_ids],
                "claim": {"recycled_content_pct": 100}}
        batch_id = self.api.post_json("/api/v1/batches", body, expect=201).json()["id"]
        for kind, filename, content in evidence(report_no, f"{self.tag}-{serial}", extra_documents):
            self.api.post_file(f"/api/v1/batches/{batch_id}/documents", {"kind": kind}, filename, content, expect=201)
        return batch_id

    def ready_batches(self, count: int, prefix: str) -> list[int]:
        with ThreadPoolExecutor(SETUP_THREADS) as pool:
            return list(pool.map(lambda index: self.ready_batch(f"{prefix}{index:05d}"), range(count)))


def bench_company(base_url: str) -> tuple[BenchCompany, User, str]:
    """A fresh company with a facility, a lab and an applicant (in-process), talking to the API with a token;
    returns the applicant and its password too."""
    tag = secrets.token_hex(3)
    company = admin.create_company(None, f"Bench Recycling {tag}", f"BENCH-{tag}")
    facility = admin.create_facility(None, company_id=company.id, name="Bench Plant", permit_no=f"BP-{tag}",
                                     permit_valid_until=TODAY + dt.timedelta(days=800), process="hydrometallurgy",
                                     annual_capacity_kg=Decimal("1000000000"))
    lab = admin.create_lab(None, f"KOLAS-BENCH-{tag}", f"Bench Lab {tag}")
    password = secrets.token_urlsafe(24)
    user = admin.create_user(None, f"bench-run-{tag}@bench.example", password, "applicant", company.id)
    api = Client(base_url, {"Authorization": f"Bearer {api_token(user)}"})
    company = BenchCompany(api=api, facility_id=facility.id, lab_no=lab.accreditation_no, lab_name=lab.name, tag=tag)
    return company, user, password

