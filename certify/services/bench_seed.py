"""Benchmark data at national scale (`flask --app certify bench-seed`): recyclers, their lots and years of batches
in every status, with documents, check results, decisions, signed certificates and the audit trail, in bulk.

Everything is written in one transaction, in chunks of rows (COPY on PostgreSQL, multi-row inserts elsewhere), so
100,000 batches take minutes. The rows are what the services would have written: the 14 checks run on each
submission's facts, certificates are built and signed by the certificate service's own code, and the audit events
continue the hash chain, in the order of their time.
"""
from __future__ import annotations

import datetime as dt
import heapq
import io
import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import JSON, func, select, text

from certify.documents.generated import pdf_with_text
from certify.domain import workflow
from certify.domain.canonical import plain_json, sha256_hex
from certify.domain.checks import run_all
from certify.domain.facts import BatchFacts, DocumentFacts, InputFacts, LotFacts, Ruleset
from certify.extensions import db
from certify.models import (
    Allocation,
    AuditEvent,
    Batch,
    Certificate,
    CheckResult,
    CheckRun,
    Company,
    Decision,
    Document,
    Facility,
    FeedstockLot,
    Lab,
    Material,
    User,
)
from certify.models.audit import GENESIS_HASH
from certify.models.types import DecimalMap
from certify.passwords import hash_password, password_problems
from certify.services import audit, rulesets
from certify.services.catalogue import ensure_catalogue
from certify.services.certificates import certificate_content, keyring
from certify.signing import verification_code
from certify.storage import document_store
from certify.timeutil import utcnow

BENCH_DOMAIN = "bench.example"
BENCH_APPLICANT_EMAIL = f"bench-applicant@{BENCH_DOMAIN}"
BENCH_REVIEWER_EMAIL = f"bench-reviewer@{BENCH_DOMAIN}"
BENCH_AUDITOR_EMAIL = f"bench-auditor@{BENCH_DOMAIN}"
BENCH_ADMIN_EMAIL = f"bench-admin@{BENCH_DOMAIN}"
DEFAULT_PASSWORD = "bench load test passphrase 2026"
CERTIFICATES_FILE = "bench-certificates.txt"
BENCH_COMPANY_NAME = "Bench Recycling Co."

MIN_BATCHES = 30
MIN_COMPANIES = 36
BATCHES_PER_COMPANY = 1000
# The bench applicant's company makes this share of the batches that are not drafts (drafts: see ready_drafts).
BENCH_COMPANY_SHARE = 0.10
EXTRA_REVIEWERS = 5  # besides bench-reviewer: approvals by two different reviewers need more than one
HISTORY_DAYS = 3 * 365
# Batches still in the workflow (drafts, checks, the review queue) are the ones created in these last days.
RECENT_DAYS = 45
CHUNK_BATCHES = 2000
# Applicants register a receipt at most this long before creating the batch that first draws on it.
LOT_LEAD = dt.timedelta(hours=1)

OLDER_SHARES = {workflow.APPROVED: 0.86, workflow.REJECTED: 0.07, workflow.CHECKS_FAILED: 0.045,
                workflow.CHANGES_REQUESTED: 0.025}
RECENT_SHARES = {workflow.DRAFT: 0.30, workflow.AWAITING_REVIEW: 0.30, workflow.CHECKS_FAILED: 0.10,
                 workflow.CHANGES_REQUESTED: 0.08, workflow.APPROVED: 0.18, workflow.REJECTED: 0.03,
                 workflow.CHECKING: 0.01}
# Batches whose checks may still run (or be read by a reviewer): their documents' files go into the store.
OPEN_STATUSES = (workflow.DRAFT, workflow.CHECKING, workflow.CHECKS_FAILED, workflow.CHANGES_REQUESTED,
                 workflow.AWAITING_REVIEW)

FACILITY_KINDS = {
    # kind: (process, weight, {material: weight})
    "hydro": ("hydrometallurgy", 0.65, {"NISO4": 30, "LI2CO3": 22, "COSO4": 16, "LIOH": 16, "MNSO4": 16}),
    "pyro": ("pyrometallurgy", 0.10, {"NISO4": 50, "COSO4": 30, "LI2CO3": 20}),
    "direct": ("direct_recycling", 0.10, {"LI2CO3": 50, "LIOH": 50}),
    "lead": ("pyrometallurgy", 0.15, {"PB": 100}),
}
# Feedstock by facility kind ("lead" or any battery-salt kind) and category: (form, chemistry, content %, supplier).
BLACK_MASS = {"Li": Decimal("3.4"), "Ni": Decimal("21.5"), "Co": Decimal("6.8"), "Mn": Decimal("6.1")}
POST_CONSUMER_FORMS = (("black_mass", Decimal(1), 0.70), ("cell", Decimal("0.55"), 0.15),
                       ("module", Decimal("0.40"), 0.15))
PRE_CONSUMER_CONTENT = {"Li": Decimal("5.0"), "Ni": Decimal("40.0"), "Co": Decimal("5.0"), "Mn": Decimal("5.0")}
PRIMARY_FEEDS = {"Li": {"Li": Decimal("2.9")}, "Ni": {"Ni": Decimal("39.0"), "Co": Decimal("2.0")},
                 "Co": {"Co": Decimal("31.0")}, "Mn": {"Mn": Decimal("45.0")}}
LEAD_FEEDS = {"post_consumer": ("battery_pack", {"Pb": Decimal("62.0")}),
              "pre_consumer": ("other", {"Pb": Decimal("71.0")}),
              "primary": ("other", {"Pb": Decimal("97.5")})}
SUPPLIERS = {
    "post_consumer": ("Hanbit EV Dismantling", "Gyeongbuk Battery Collection", "Seoul Metro Scrap",
                      "Daejeon Used Battery Center", "Jeju EV Return Hub", "Incheon Port Recyclers",
                      "Honam Scrap Yard"),
    "pre_consumer": ("Daegu Cell Works", "Ochang Electrode Plant", "Gumi Cathode Lines", "Cheongju Cell Factory"),
    "primary": ("Global Nickel Trading", "Pacific Minerals", "Andes Lithium Export", "Korea Zinc Trading"),
}
LABS = (("KOLAS-B-0417", "KTR Pohang"), ("KOLAS-B-0233", "Korea Testing Laboratory Seoul"),
        ("KOLAS-B-0981", "KCL Gunsan"), ("KOLAS-B-0112", "KOTITI Ulsan"), ("KOLAS-B-0655", "FITI Ochang"),
        ("KOLAS-B-0720", "KTL Jinju"), ("KOLAS-B-0318", "KCL Daejeon"), ("KOLAS-B-0844", "Busan Analysis Center"))
UNLISTED_LAB = ("BENCH-LAB-0099", "Overseas Assay Services")
NAME_STEMS = ("Hanbit", "Saemangeum", "Donghae", "Pohang", "Ulsan", "Gwangyang", "Onsan", "Dangjin", "Yeosu",
              "Gunsan", "Cheongju", "Gumi", "Changwon", "Asan", "Sejong", "Jinju", "Mokpo", "Wonju", "Sokcho",
              "Andong", "Iksan", "Suncheon", "Chungju", "Gimhae", "Tongyeong", "Seosan", "Pyeongtaek", "Hwaseong")
NAME_KINDS = ("Battery Recycling", "Materials", "Metals", "Resources", "Eco Materials", "Circular Metals",
              "Recovery", "Green Chemicals")
DECISION_COMMENTS = {
    "approve": ("Evidence complete; mass balance consistent.", "Assay and feedstock records agree.",
                "Checked against the Allbaro records: in order.", ""),
    "reject": ("The feedstock evidence does not cover the production period.",
               "The assay report belongs to another production run.",
               "The weighbridge tickets do not match the allocated masses."),
    "request_changes": ("Please attach the lab's signed assay report.",
                        "Explain the recovery rate in the production record.",
                        "The production record lacks the daily output figures."),
}
CERTIFICATE_REASONS = {"suspend": "Inspection found discrepancies in the feedstock records; suspended pending review.",
                       "reinstate": "Discrepancies explained by corrected weighbridge tickets.",
                       "revoke": "The recycled-content claim was based on feedstock already claimed elsewhere."}
# What makes a check run fail: a defect in the declared data, a missing required document, a late submission.
DEFECTS = ("claim_over", "purity_low", "impurity_over", "mass_over", "doc_missing", "late")
# The defects in the declared data, which an edit corrects.
HISTORY_DEFECTS = ("claim_over", "purity_low", "impurity_over", "mass_over")

INSERT_ORDER = (Company, Facility, Lab, User, FeedstockLot, Batch, Allocation, Document, CheckRun, CheckResult,
                Decision, Certificate, AuditEvent)


class BenchDataPresent(Exception):
    """The database already holds bench data; seeding twice would mix two histories."""


@dataclass
class SeedSummary:
    counts: dict[str, int]
    statuses: dict[str, int]
    seconds: float
    certificates_file: Path
    sample_certificate: tuple[str, str] | None
    bench_applicant_batches: int
    ready_drafts: int
    files_stored: int


def bench_data_present() -> bool:
    return db.session.scalar(select(User.id).where(User.email.like(f"%@{BENCH_DOMAIN}")).limit(1)) is not None


def bench_account_emails() -> list[str]:
    return [BENCH_APPLICANT_EMAIL, BENCH_REVIEWER_EMAIL, BENCH_AUDITOR_EMAIL, BENCH_ADMIN_EMAIL]


def seed_bench(batches: int, password: str = DEFAULT_PASSWORD, documents_per_batch: int = 4,
               ready_drafts: int | None = None, all_files: bool = False, seed: int = 2026,
               progress: Callable[[str], None] = lambda message: None) -> SeedSummary:
    """Writes the bench data in one transaction; BenchDataPresent when it is there already, ValueError on bad input."""
    if batches < MIN_BATCHES:
        raise ValueError(f"--batches must be at least {MIN_BATCHES}, so that every status occurs")
    if documents_per_batch < 3:
        raise ValueError("--documents-per-batch must be at least 3: one of each required kind")
    ensure_catalogue()
    if bench_data_present():
        raise BenchDataPresent(f"bench data are already present (accounts @{BENCH_DOMAIN} exist): "
                               "nothing was changed; seed a fresh database instead")
    for email in bench_account_emails():
        problems = password_problems(password, email=email, company_name=BENCH_COMPANY_NAME)
        if problems:
            raise ValueError(f"the password {'; '.join(str(p) for p in problems)}")
    seeder = BenchSeeder(batches, password, documents_per_batch, ready_drafts, all_files, seed, progress)
    try:
        return seeder.run()
    except BaseException:
        db.session.rollback()
        raise


def apportion(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Whole counts in proportion to the shares, at least one each, adding up to total."""
    counts = {name: max(1, int(share * total)) for name, share in shares.items()}
    by_share = sorted(shares, key=shares.get, reverse=True)
    for name in itertools.cycle(by_share):
        if sum(counts.values()) >= total:
            break
        counts[name] += 1
    while sum(counts.values()) > total:
        counts[max(counts, key=counts.get)] -= 1
    return counts


def copy_rows(connection, table, rows: list[dict]) -> None:
    """Writes rows (dicts with the same keys) with PostgreSQL's COPY, in the transaction of the connection.

    JSON columns get the text SQLAlchemy would have bound, through the column type's own conversion.
    """
    names = list(rows[0])
    encoders = []
    for name in names:
        column_type = table.c[name].type
        if isinstance(column_type, DecimalMap):
            encoders.append(lambda value, convert=column_type.process_bind_param: (
                None if value is None else json.dumps(convert(value, None))))
        elif isinstance(column_type, JSON):
            encoders.append(lambda value: None if value is None else json.dumps(value))
        else:
            encoders.append(None)
    encoded = [(index, encoder) for index, encoder in enumerate(encoders) if encoder is not None]
    cursor = connection.connection.driver_connection.cursor()
    columns = ", ".join(f'"{name}"' for name in names)
    with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            values = [row[name] for name in names]
            for index, encoder in encoded:
                values[index] = encoder(values[index])
            copy.write_row(values)


def number_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass
class LotState:
    """A lot being drawn on: what is left of it and what batches that hold their allocation have reserved."""

    id: int
    lot_no: str
    category: str
    mass_kg: Decimal
    received_on: dt.date
    transfer_doc_no: str | None
    content: dict[str, Decimal]
    remaining_kg: Decimal
    reserved_kg: Decimal = Decimal(0)

    def facts(self) -> LotFacts:
        return LotFacts(lot_id=self.id, lot_no=self.lot_no, category=self.category, mass_kg=self.mass_kg,
                        received_on=self.received_on, transfer_doc_no=self.transfer_doc_no,
                        element_content_pct=self.content, reserved_by_others_kg=self.reserved_kg)


@dataclass
class FacilityState:
    id: int
    company: CompanyState
    name: str
    permit_no: str
    permit_valid_until: dt.date
    process: str
    kind: str
    annual_capacity_kg: Decimal
    materials: dict[str, int]
    # Lots with mass left, oldest first, per feed: (category, element of a primary feed or None).
    pools: dict[tuple[str, str | None], list[LotState]] = field(default_factory=dict)


@dataclass
class CompanyState:
    id: int
    index: int
    name: str
    business_registration_no: str
    applicant_id: int
    lot_prefix: str
    facilities: list[FacilityState] = field(default_factory=list)
    lots_made: int = 0


@dataclass
class DocumentPlan:
    id: int
    kind: str
    filename: str
    media_type: str
    content: bytes
    sha256: str
    text: str | None  # the PDF's text layer, as the document inspector reads it


class AuditChain:
    """Events of the seeded history, hashed onto the existing chain in the order of their time.

    Events wait in a heap until no later batch can produce an earlier one, so seq order is time order.
    """

    def __init__(self, last_seq: int, last_hash: str):
        self.seq, self.prev_hash = last_seq, last_hash
        self.pending: list = []
        self.counter = itertools.count()

    def add(self, at: dt.datetime, actor_id: int | None, action: str, object_type: str, object_id, data: dict):
        # Stored as plain JSON now, as audit.record stores it: later changes to the caller's dicts cannot leak in.
        heapq.heappush(self.pending, (at, next(self.counter), actor_id, action, object_type, str(object_id),
                                      plain_json(data)))

    def release(self, before: dt.datetime | None) -> list[dict]:
        """Chains and returns the waiting events older than `before` (all of them when None)."""
        rows = []
        while self.pending and (before is None or self.pending[0][0] < before):
            at, _, actor_id, action, object_type, object_id, data = heapq.heappop(self.pending)
            self.seq += 1
            event = SimpleNamespace(seq=self.seq, at=at, actor_id=actor_id, action=action, object_type=object_type,
                                    object_id=object_id, data=data, prev_hash=self.prev_hash)
            event.hash = audit.event_hash(audit.event_payload(event))
            self.prev_hash = event.hash
            rows.append(vars(event))
        return rows


class BenchSeeder:
    """One run of the seed: the plan, the ids handed out, the lots' balances and the rows waiting to be written."""

    def __init__(self, batches: int, password: str, documents_per_batch: int, ready_drafts: int | None,
                 all_files: bool, seed: int, progress: Callable[[str], None]):
        self.total = batches
        self.password = password
        self.documents_per_batch = documents_per_batch
        self.ready_drafts = batches // 100 if ready_drafts is None else ready_drafts
        self.all_files = all_files
        self.rng = random.Random(seed)
        self.progress = progress
        self.now = utcnow().replace(microsecond=0)
        self.today = self.now.date()
        self.rows: dict[type, list[dict]] = {model: [] for model in INSERT_ORDER}
        self.counts: dict[str, int] = {model.__tablename__: 0 for model in INSERT_ORDER}
        self.statuses: dict[str, int] = {status: 0 for status in workflow.BATCH_STATUSES}
        self.certificate_lines: list[tuple[str, str, str]] = []
        self.files_stored = 0
        self.bench_applicant_batches = 0
        self.pending_serials: list[int] = []
        self.admin_id: int | None = None

    # Setting up

    def run(self) -> SeedSummary:
        started = time.monotonic()
        session = db.session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        if self.postgres:
            # The whole seed is one append to the audit chain: nobody else may append meanwhile.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": audit.AUDIT_CHAIN_LOCK})
        self.next_ids = {model: (session.scalar(select(func.max(model.id))) or 0) + 1
                         for model in INSERT_ORDER if model is not AuditEvent}
        last = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
        self.chain = AuditChain(last.seq if last else 0, last.hash if last else GENESIS_HASH)
        self.next_serial = (session.scalar(select(func.max(Certificate.serial))) or 0) + 1
        self.keyring = keyring()
        self.store = document_store()
        self.max_file_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
        self.four_eyes_kg = Decimal(current_app.config["FOUR_EYES_KG"])
        self.rulesets = self.load_rulesets()

        plan = self.plan_batches()
        company_count = max(MIN_COMPANIES, self.total // BATCHES_PER_COMPANY)
        self.progress(f"bench-seed: {self.total:,} batches, {company_count} companies, "
                      f"{self.documents_per_batch} documents a batch, {self.ready_drafts:,} ready drafts")
        self.make_labs()
        self.make_staff()
        self.make_companies(company_count)
        self.flush()
        self.write_batches(plan, started)
        self.finish()
        summary_event = audit.record(self.admin_id, "bench.seeded", "system", "bench-seed",
                                     {"batches": self.total, "statuses": self.statuses, "rows": self.counts})
        self.counts["audit_events"] += 1
        session.commit()
        if self.postgres:
            # A bulk load leaves the planner without statistics until autovacuum comes round: without them the
            # list pages' plans are sequential scans (measured: 709 ms a page, 82 ms after ANALYZE).
            session.execute(text("ANALYZE"))
            session.commit()
        path = self.write_certificates_file()
        seconds = time.monotonic() - started
        self.progress(f"bench-seed: done in {seconds:.1f} s; audit chain now ends at seq {summary_event.seq}")
        sample = next(((number, code) for number, code, status in self.certificate_lines if status == "valid"), None)
        return SeedSummary(counts=dict(self.counts), statuses=dict(self.statuses), seconds=seconds,
                           certificates_file=path, sample_certificate=sample,
                           bench_applicant_batches=self.bench_applicant_batches, ready_drafts=self.ready_drafts,
                           files_stored=self.files_stored)

    def load_rulesets(self) -> dict[str, Ruleset]:
        materials = {material.code: material for material in db.session.scalars(select(Material))}
        current = rulesets.all_current_rules()
        return {code: rulesets.ruleset_for(materials[code], current[code]) for code in current if code in materials}

    def new_id(self, model) -> int:
        value = self.next_ids[model]
        self.next_ids[model] = value + 1
        return value

    def add(self, model, row: dict) -> None:
        self.rows[model].append(row)

    def flush(self) -> None:
        """Inserts what is buffered, parents before children: COPY on PostgreSQL, else multi-row inserts."""
        connection = db.session.connection()
        for model in INSERT_ORDER:
            rows = self.rows[model]
            if rows and self.postgres:
                copy_rows(connection, model.__table__, rows)
            elif rows:
                connection.execute(model.__table__.insert(), rows)
            self.counts[model.__tablename__] += len(rows)
            rows.clear()

    def audit(self, at, actor_id, action, object_type, object_id, data) -> None:
        self.chain.add(at, actor_id, action, object_type, object_id, data)

    def user_row(self, email: str, role: str, company_id: int | None, created_at: dt.datetime) -> int:
        user_id = self.new_id(User)
        self.add(User, {"id": user_id, "email": email, "password_hash": self.password_hash, "role": role,
                        "company_id": company_id, "is_enabled": True, "session_version": 1, "locale": None,
                        "created_at": created_at, "last_login_at": None})
        self.audit(created_at, self.admin_id if email != BENCH_ADMIN_EMAIL else None, "user.created", "user",
                   user_id, {"email": email, "role": role, "company_id": company_id})
        return user_id

    def make_staff(self) -> None:
        # One hash for every bench account: they share the password, and argon2 is slow on purpose.
        self.password_hash = hash_password(self.password)
        at = self.start_time - dt.timedelta(days=30)
        self.admin_id = self.user_row(BENCH_ADMIN_EMAIL, "admin", None, at)
        self.reviewer_ids = [self.user_row(BENCH_REVIEWER_EMAIL, "reviewer", None, at)]
        self.reviewer_ids += [self.user_row(f"reviewer-{n}@{BENCH_DOMAIN}", "reviewer", None, at)
                              for n in range(2, EXTRA_REVIEWERS + 2)]
        self.user_row(BENCH_AUDITOR_EMAIL, "auditor", None, at)

    def make_labs(self) -> None:
        at = self.start_time - dt.timedelta(days=40)
        existing = set(db.session.scalars(select(Lab.accreditation_no)))
        for accreditation_no, name in LABS:
            if accreditation_no in existing:
                continue
            lab_id = self.new_id(Lab)
            self.add(Lab, {"id": lab_id, "accreditation_no": accreditation_no, "name": name, "created_at": at})
            self.audit(at, None, "lab.added", "lab", lab_id, {"accreditation_no": accreditation_no, "name": name})

    def make_companies(self, count: int) -> None:
        rng = self.rng
        taken = set(db.session.scalars(select(Company.business_registration_no)))
        self.companies: list[CompanyState] = []
        for index in range(count):
            at = self.start_time - dt.timedelta(days=20 - index % 10, hours=index % 24)
            if index == 0:
                name, kinds = BENCH_COMPANY_NAME, ["hydro", "hydro", "lead"]
            else:
                name = f"{NAME_STEMS[index % len(NAME_STEMS)]} {NAME_KINDS[index * 7 % len(NAME_KINDS)]}"
                if index >= len(NAME_STEMS):
                    name += f" {index // len(NAME_STEMS) + 1}"
                kinds = rng.choices(list(FACILITY_KINDS), [spec[1] for spec in FACILITY_KINDS.values()],
                                    k=1 + (rng.random() < 0.5) + (rng.random() < 0.2))
            registration_no = next(number for serial in itertools.count(index)
                                   if (number := f"9{serial // 100000 % 100:02d}-88-{serial % 100000:05d}")
                                   not in taken)
            taken.add(registration_no)
            company_id = self.new_id(Company)
            self.add(Company, {"id": company_id, "name": name, "business_registration_no": registration_no,
                               "created_at": at})
            self.audit(at, self.admin_id, "company.created", "company", company_id,
                       {"name": name, "business_registration_no": registration_no})
            email = BENCH_APPLICANT_EMAIL if index == 0 else f"applicant-{index:03d}@{BENCH_DOMAIN}"
            company = CompanyState(id=company_id, index=index, name=name, business_registration_no=registration_no,
                                   applicant_id=0, lot_prefix=f"C{index:03d}")
            for number, kind in enumerate(kinds, 1):
                process, _, materials = FACILITY_KINDS[kind]
                facility_name = f"{name.split()[0]} {'Lead Smelter' if kind == 'lead' else 'Plant'} {number}"
                facility = FacilityState(
                    id=self.new_id(Facility), company=company, name=facility_name,
                    permit_no=f"PM-{company_id:04d}-{number:02d}",
                    permit_valid_until=self.today + dt.timedelta(days=rng.randint(200, 1100)), process=process,
                    kind=kind, annual_capacity_kg=Decimal(rng.randrange(15_000, 60_000) * 1000), materials=materials)
                fields = {"company_id": company_id, "name": facility.name, "permit_no": facility.permit_no,
                          "permit_valid_until": facility.permit_valid_until, "process": process,
                          "annual_capacity_kg": facility.annual_capacity_kg}
                self.add(Facility, {"id": facility.id, **fields, "created_at": at})
                self.audit(at, self.admin_id, "facility.created", "facility", facility.id, fields)
                company.facilities.append(facility)
            company.applicant_id = self.user_row(email, "applicant", company_id, at + dt.timedelta(hours=1))
            self.companies.append(company)
        self.bench_company = self.companies[0]
        others = self.companies[1:]
        # A few large recyclers and a long tail of small ones.
        self.other_weights = list(itertools.accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(others))))
        self.other_companies = others

    # Planning

    def plan_batches(self) -> list[tuple[str, bool]]:
        """(status, made by the bench company) for every batch, oldest first; fills self.times likewise."""
        rng = self.rng
        recent = max(self.total * RECENT_DAYS // HISTORY_DAYS, min(40, self.total // 3))
        older_counts = apportion(self.total - recent, OLDER_SHARES)
        recent_counts = apportion(recent, RECENT_SHARES)
        if self.ready_drafts > recent_counts[workflow.DRAFT]:
            raise ValueError(f"--ready-drafts can be at most {recent_counts[workflow.DRAFT]} for "
                             f"{self.total} batches (the drafts among the newest)")
        older = [status for status, count in older_counts.items() for _ in range(count)]
        rng.shuffle(older)
        newer = [status for status, count in recent_counts.items() for _ in range(count) if status != workflow.CHECKING]
        rng.shuffle(newer)
        # Batches still being checked are the ones submitted last.
        newer += [workflow.CHECKING] * recent_counts[workflow.CHECKING]
        draft_slots = [index for index, status in enumerate(newer) if status == workflow.DRAFT]
        bench_drafts = set(rng.sample(draft_slots, self.ready_drafts))
        plan = [(status, rng.random() < BENCH_COMPANY_SHARE) for status in older]
        plan += [(status, index in bench_drafts if status == workflow.DRAFT else rng.random() < BENCH_COMPANY_SHARE)
                 for index, status in enumerate(newer)]
        # Creation times spread evenly and ascending with the id: the older history, then the last RECENT_DAYS.
        history_start = self.now - dt.timedelta(days=HISTORY_DAYS)
        recent_start = self.now - dt.timedelta(days=RECENT_DAYS)
        self.start_time = history_start
        self.times = [self.spread(history_start, recent_start, position, len(older)) for position in range(len(older))]
        self.times += [self.spread(recent_start, self.now - dt.timedelta(hours=1), position, len(newer))
                       for position in range(len(newer))]
        return plan

    def spread(self, first: dt.datetime, last: dt.datetime, position: int, count: int) -> dt.datetime:
        return (first + (last - first) * ((position + self.rng.random()) / count)).replace(microsecond=0)

    def later(self, at: dt.datetime, low: dt.timedelta, high: dt.timedelta) -> dt.datetime:
        """A moment between low and high after `at`, but never in the future: then halfway to now."""
        moment = at + low + (high - low) * self.rng.random()
        if moment >= self.now:
            moment = at + (self.now - at) / 2
        return moment.replace(microsecond=0)

    # The batches

    def write_batches(self, plan: list[tuple[str, bool]], started: float) -> None:
        for chunk_start in range(0, len(plan), CHUNK_BATCHES):
            chunk = plan[chunk_start:chunk_start + CHUNK_BATCHES]
            self.reserve_serials(sum(status == workflow.APPROVED for status, _ in chunk))
            for offset, (status, bench) in enumerate(chunk):
                self.write_batch(self.times[chunk_start + offset], status, bench)
            following = chunk_start + len(chunk)
            # Nothing that comes later happens before the next batch's lots are registered (LOT_LEAD before it).
            horizon = self.times[following] - LOT_LEAD if following < len(plan) else None
            for row in self.chain.release(horizon):
                self.add(AuditEvent, row)
            self.flush()
            self.progress(f"  {following:>9,} / {len(plan):,} batches · {self.counts['audit_events']:,} audit events "
                          f"· {time.monotonic() - started:6.1f} s")

    def reserve_serials(self, count: int) -> None:
        """Certificate serials for the approvals ahead: from the sequence on PostgreSQL, as the service takes them."""
        if self.postgres:
            serials = sorted(db.session.scalars(
                text("SELECT nextval('certificate_serial_seq') FROM generate_series(1, :n)"), {"n": count}))
        else:
            serials = list(range(self.next_serial, self.next_serial + count))
            self.next_serial += count
        self.pending_serials = serials[::-1]

    def pick_company(self, bench: bool) -> CompanyState:
        if bench:
            return self.bench_company
        return self.rng.choices(self.other_companies, cum_weights=self.other_weights)[0]

    def write_batch(self, created: dt.datetime, status: str, bench: bool) -> None:
        """One batch and everything its history left behind, up to `status`."""
        rng = self.rng
        company = self.pick_company(bench)
        self.bench_applicant_batches += company is self.bench_company
        facility = rng.choice(company.facilities)
        material_code = rng.choices(list(facility.materials), list(facility.materials.values()))[0]
        batch_id = self.new_id(Batch)
        story = SimpleNamespace(batch_id=batch_id, number=f"B-{created.year}-{batch_id:06d}", company=company,
                                facility=facility, material_code=material_code, ruleset=self.rulesets[material_code],
                                applicant=company.applicant_id, version=1, required=None, run_id=None, computed=None)

        # The shape of its history: a defect that fails the checks, an earlier round, a warning.
        defect = rng.choice(DEFECTS) if status == workflow.CHECKS_FAILED else None
        warning = variant = None
        if status not in (workflow.DRAFT, workflow.CHECKING, workflow.CHECKS_FAILED):
            roll = rng.random()
            warning = ("lab_unlisted" if roll < 0.03 else "late" if roll < 0.06 else "recovery_high" if roll < 0.09
                       else "assay_unmatched" if roll < 0.11 else None)
            roll = rng.random()
            # A late batch has no time left for a second round: it would pass 180 days and fail.
            if status != workflow.CHANGES_REQUESTED and warning != "late":
                variant = "fixed_after_failure" if roll < 0.08 else "changes_requested_before" if roll < 0.12 else None
        submitted = self.later(created, dt.timedelta(minutes=30), dt.timedelta(hours=30))
        if status == workflow.CHECKING:
            submitted = self.later(created, dt.timedelta(minutes=5), dt.timedelta(minutes=20))
        fields = self.batch_fields(story, created, defect, warning)
        earlier = None  # the fields of an earlier submission, when there was one
        if variant == "fixed_after_failure":
            earlier = self.broken(fields, rng.choice(HISTORY_DEFECTS), story)
        elif variant == "changes_requested_before":
            earlier = {**fields, "quantity_kg": (fields["quantity_kg"] * Decimal("0.99")).quantize(Decimal(1))}
        elif defect in HISTORY_DEFECTS:
            fields = self.broken(fields, defect, story)

        # Created, documents uploaded, inputs allocated.
        self.audit(created, story.applicant, "batch.created", "batch", batch_id, {"number": story.number, **fields})
        kinds = self.document_kinds(status, company is self.bench_company, defect)
        story.documents = [self.document(kind, position, story, fields, warning == "assay_unmatched")
                           for position, kind in enumerate(kinds)]
        store_files = self.all_files or status in OPEN_STATUSES
        moment = created
        for document in story.documents:
            moment = self.later(moment, dt.timedelta(minutes=1), dt.timedelta(minutes=12))
            self.add_document(story, document, moment, store_files)
        # LOT_ALLOCATION: a batch holds its mass from the passing check run on; `checking` has not got there yet.
        reserving = status in (workflow.AWAITING_REVIEW, workflow.APPROVED)
        for position, (lot, mass) in enumerate(story.inputs):
            self.add(Allocation, {"id": self.new_id(Allocation), "batch_id": batch_id, "lot_id": lot.id,
                                  "mass_kg": mass, "position": position, "reserved": reserving})

        # Submissions, checks and the reviewers' part.
        last_change, submitted_at = moment, None
        if status != workflow.DRAFT:
            at = max(submitted, self.later(moment, dt.timedelta(minutes=1), dt.timedelta(minutes=2)))
            if earlier is not None:
                at = self.earlier_round(story, variant, earlier, fields, at)
            submitted_at = at
            if status == workflow.CHECKING:
                self.queue_run(story, at)
                last_change = at
            else:
                last_change = self.submission(story, fields, at, expect_failure=status == workflow.CHECKS_FAILED)
                if status != workflow.CHECKS_FAILED:
                    last_change = self.review(story, status, last_change, fields)
        assay = fields["assay"]
        self.add(Batch, {
            "id": batch_id, "number": story.number, "company_id": company.id, "facility_id": facility.id,
            "material_code": material_code, "grade": fields["grade"], "quantity_kg": fields["quantity_kg"],
            "production_start": fields["production_start"], "production_end": fields["production_end"],
            "purity_pct": assay["purity_pct"], "impurities_ppm": assay["impurities_ppm"],
            "lab_name": assay["lab_name"], "lab_accreditation_no": assay["lab_accreditation_no"],
            "report_no": assay["report_no"], "claimed_recycled_content_pct": fields["claim"]["recycled_content_pct"],
            "status": status, "version": story.version,
            "approvals_required": story.required if status not in (workflow.CHECKING, workflow.CHECKS_FAILED) else None,
            "created_at": created, "created_by": story.applicant, "submitted_at": submitted_at,
            "updated_at": last_change})
        self.statuses[status] += 1

    def batch_fields(self, story, created: dt.datetime, defect: str | None, warning: str | None) -> dict:
        """The batch as its applicant declared it (the API's create body), drawing on the facility's lots."""
        rng, ruleset = self.rng, story.ruleset
        grade = "technical" if rng.random() < 0.06 else "battery"
        days_back = (rng.randint(95, 170) if warning == "late" else rng.randint(185, 260) if defect == "late"
                     else rng.randint(1, 14))
        production_end = created.date() - dt.timedelta(days=days_back)
        production_start = production_end - dt.timedelta(days=rng.randint(6, 30))
        story.inputs = self.allocate(story.facility, ruleset, production_start, production_end, created)
        input_element = recycled_element = Decimal(0)
        for lot, mass in story.inputs:
            element_kg = mass * lot.content.get(ruleset.element, Decimal(0)) / 100
            input_element += element_kg
            recycled_element += element_kg if lot.category != "primary" else 0
        story.input_element, story.recycled_pct = input_element, recycled_element * 100 / input_element
        purity = self.purity(ruleset, grade)
        quantity = self.quantity(input_element, self.recovery(ruleset, warning), purity, ruleset)
        claim = max(Decimal(0), story.recycled_pct.quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
                    - rng.choice((0, 0, 0, 1, 2, 5)))
        lab_no, lab_name = UNLISTED_LAB if warning == "lab_unlisted" else rng.choice(LABS)
        return {"facility_id": story.facility.id, "material_code": story.material_code, "grade": grade,
                "quantity_kg": quantity, "production_start": production_start, "production_end": production_end,
                "assay": {"purity_pct": purity, "impurities_ppm": self.impurities(ruleset, grade), "lab_name": lab_name,
                          "lab_accreditation_no": lab_no, "report_no": f"R-{created:%y}-{story.batch_id:07d}"},
                "inputs": [{"lot_id": lot.id, "mass_kg": mass} for lot, mass in story.inputs],
                "claim": {"recycled_content_pct": claim}}

    def earlier_round(self, story, variant: str, earlier: dict, fields: dict, at: dt.datetime) -> dt.datetime:
        """A submission before the last one: failed checks, or changes requested; then the applicant's edit."""
        at = self.submission(story, earlier, at, expect_failure=variant == "fixed_after_failure")
        if variant == "changes_requested_before":
            at = self.decide(story, "request_changes", self.later(at, dt.timedelta(hours=3), dt.timedelta(days=5)),
                             self.rng.choice(self.reviewer_ids), 0, story.required, workflow.CHANGES_REQUESTED)
        at = self.later(at, dt.timedelta(hours=2), dt.timedelta(days=3))
        story.version += 1
        self.audit(at, story.applicant, "batch.updated", "batch", story.batch_id,
                   {name: value for name, value in fields.items() if earlier[name] != value})
        return self.later(at, dt.timedelta(minutes=5), dt.timedelta(hours=6))

    # The pieces of a batch

    def allocate(self, facility: FacilityState, ruleset: Ruleset, start: dt.date, end: dt.date,
                 created: dt.datetime) -> list[tuple[LotState, Decimal]]:
        """Draws the batch's feed from the facility's lots, oldest first, never more than a lot holds.

        A lot received after the production ended cannot have fed it (PERIOD): such a batch gets a lot of its own.
        """
        rng = self.rng
        feed = Decimal(round(2000 * (30 ** rng.random()), -1))  # 2 to 60 t, most batches small
        if rng.random() < 0.06:
            feed = Decimal(rng.randrange(6000, 15000) * 10)
        roll = rng.random()
        parts = [("post_consumer", None, Decimal(1))]
        if roll < 0.12:
            share = Decimal(rng.randint(20, 50)) / 100
            parts = [("post_consumer", None, 1 - share), ("pre_consumer", None, share)]
        elif roll < 0.20:
            share = Decimal(rng.randint(10, 30)) / 100
            primary = None if facility.kind == "lead" else ruleset.element
            parts = [("post_consumer", None, 1 - share), ("primary", primary, share)]
        inputs = []
        for category, element, share in parts:
            need = (feed * share).quantize(Decimal(10))
            pool = facility.pools.setdefault((category, element), [])
            while need > 0:
                lot = next((lot for lot in pool if lot.received_on <= end), None)
                if lot is None:
                    lot = self.new_lot(facility, category, element, start, created)
                    pool.append(lot)
                taken = min(need, lot.remaining_kg)
                lot.remaining_kg -= taken
                need -= taken
                inputs.append((lot, taken))
                if lot.remaining_kg < 100:  # a remainder too small to take from
                    pool.remove(lot)
        return inputs

    def new_lot(self, facility: FacilityState, category: str, element: str | None, start: dt.date,
                batch_created: dt.datetime) -> LotState:
        """A receipt before the production started, registered just before the batch that first draws on it."""
        rng, company = self.rng, facility.company
        received_on = start - dt.timedelta(days=rng.randint(1, 20))
        chemistry = None
        if facility.kind == "lead":
            form, base = LEAD_FEEDS[category]
        elif category == "post_consumer":
            form, scale, _ = rng.choices(POST_CONSUMER_FORMS, [weight for *_, weight in POST_CONSUMER_FORMS])[0]
            base = {symbol: value * scale for symbol, value in BLACK_MASS.items()}
            chemistry = rng.choice(("NMC", "NMC", "NMC", "mixed"))
        elif category == "pre_consumer":
            form, base, chemistry = "electrode_scrap", PRE_CONSUMER_CONTENT, "NMC"
        else:
            form, base = "other", PRIMARY_FEEDS[element]
        content = {symbol: (value * Decimal(rng.uniform(0.93, 1.07))).quantize(Decimal("0.01"))
                   for symbol, value in base.items()}
        low, high = {"post_consumer": (2000, 8000), "pre_consumer": (500, 3000), "primary": (1000, 4000)}[category]
        mass = Decimal(rng.randrange(low, high) * 10)
        lot_id = self.new_id(FeedstockLot)
        company.lots_made += 1
        lot_no = f"{company.lot_prefix}-{received_on:%y%m}-{company.lots_made:06d}"
        transfer_doc_no = None if category == "primary" else f"AB-{received_on.year}-{lot_id:09d}"
        fields = {"facility_id": facility.id, "lot_no": lot_no, "supplier": rng.choice(SUPPLIERS[category]),
                  "category": category, "form": form, "chemistry": chemistry, "mass_kg": mass,
                  "received_on": received_on, "transfer_doc_no": transfer_doc_no, "element_content_pct": content}
        created = (batch_created - LOT_LEAD * rng.uniform(0.1, 1)).replace(microsecond=0)
        self.add(FeedstockLot, {"id": lot_id, "company_id": company.id, **fields, "created_at": created,
                                "created_by": company.applicant_id})
        self.audit(created, company.applicant_id, "lot.created", "feedstock_lot", lot_id, fields)
        return LotState(id=lot_id, lot_no=lot_no, category=category, mass_kg=mass, received_on=received_on,
                        transfer_doc_no=transfer_doc_no, content=content, remaining_kg=mass)

    def purity(self, ruleset: Ruleset, grade: str) -> Decimal:
        headroom = 100 - ruleset.min_purity_pct
        places = Decimal("0.001") if headroom < Decimal("0.1") else Decimal("0.01")
        if grade == "technical":
            return (ruleset.min_purity_pct - headroom * Decimal(self.rng.uniform(0.5, 20))).quantize(places)
        return (ruleset.min_purity_pct + headroom * Decimal(self.rng.uniform(0.15, 0.85))).quantize(places)

    def recovery(self, ruleset: Ruleset, variant: str | None) -> Decimal:
        """Metal out per metal in, in %: the process's usual range, above it (a warning), or impossible."""
        typical = ruleset.typical_max_recovery_pct
        if variant == "mass_over":
            low, high = ruleset.max_recovery_pct + 2, ruleset.max_recovery_pct + 10
        elif variant == "recovery_high":
            low, high = typical + Decimal("0.5"), min(typical + 3, ruleset.max_recovery_pct - Decimal("0.7"))
        else:
            low, high = typical - 14, typical - Decimal("1.5")
        return low + (high - low) * Decimal(self.rng.random())

    @staticmethod
    def quantity(input_element: Decimal, recovery: Decimal, purity: Decimal, ruleset: Ruleset) -> Decimal:
        output_element = input_element * recovery / 100
        return (output_element * 10000 / (purity * ruleset.element_fraction_pct)).quantize(Decimal(1))

    def impurities(self, ruleset: Ruleset, grade: str) -> dict[str, Decimal]:
        limited = list(ruleset.max_impurities_ppm)
        chosen = self.rng.sample(limited, min(len(limited), self.rng.randint(3, 5)))
        high = 2.5 if grade == "technical" else 0.8
        values = {symbol: max(Decimal("0.1"), (ruleset.max_impurities_ppm[symbol]
                                               * Decimal(self.rng.uniform(0.05, high))).quantize(Decimal("0.1")))
                  for symbol in chosen}
        if self.rng.random() < 0.2:
            values["Al"] = Decimal(self.rng.randint(1, 40))  # not in the catalogue for any material: not limited
        return values

    def broken(self, fields: dict, defect: str, story) -> dict:
        """A copy of the batch's fields with the defect that makes one check fail.

        A claim above a share of 94 % or more could not be raised far enough, and technical grade has no purity or
        impurity limits: those batches overstate their quantity instead (more metal out than in).
        """
        ruleset = story.ruleset
        if (defect == "claim_over" and story.recycled_pct >= 94) or (
                defect in ("purity_low", "impurity_over") and fields["grade"] == "technical"):
            defect = "mass_over"
        broken = {**fields, "assay": dict(fields["assay"]), "claim": dict(fields["claim"])}
        assay = broken["assay"]
        if defect == "claim_over":
            broken["claim"]["recycled_content_pct"] = min(Decimal(100), story.recycled_pct.quantize(Decimal(1))
                                                          + self.rng.randint(2, 6))
        elif defect == "purity_low":
            assay["purity_pct"] = (ruleset.min_purity_pct - Decimal(self.rng.uniform(0.05, 0.8))).quantize(
                Decimal("0.001"))
        elif defect == "impurity_over":
            symbol = self.rng.choice(list(ruleset.max_impurities_ppm))
            assay["impurities_ppm"] = {**assay["impurities_ppm"], symbol: (
                ruleset.max_impurities_ppm[symbol] * Decimal(self.rng.uniform(1.2, 3))).quantize(Decimal("0.1"))}
        elif defect == "mass_over":
            broken["quantity_kg"] = self.quantity(story.input_element, self.recovery(ruleset, "mass_over"),
                                                  assay["purity_pct"], ruleset)
        return broken

    def document_kinds(self, status: str, bench_company: bool, defect: str | None) -> list[str]:
        kinds = ["assay_report", "feedstock_evidence", "production_record", "mass_balance"]
        kinds += ["other"] * (self.documents_per_batch - len(kinds))
        kinds = kinds[:self.documents_per_batch]
        if defect == "doc_missing":
            kinds.remove(self.rng.choice(["feedstock_evidence", "production_record"]))
        if status == workflow.DRAFT and not bench_company:
            kinds = kinds[:self.rng.randint(0, len(kinds))]  # other companies' drafts are still being put together
        return kinds

    def document(self, kind: str, position: int, story, fields: dict, unmatched_report: bool) -> DocumentPlan:
        """One evidence file, unique to its batch (a file shared across batches would trip DOC_DUPLICATE)."""
        number, assay, element = story.number, fields["assay"], story.ruleset.element
        text_layer = None
        if kind == "assay_report":
            # A lab that prints only its own reference: ASSAY_MATCH cannot find the report no. and warns.
            report_no = f"LAB-{number}" if unmatched_report else assay["report_no"]
            lines = [f"{assay['lab_name']} ({assay['lab_accreditation_no']})", f"Assay report {report_no}",
                     f"Sample: {story.material_code}, batch {number}", f"Purity {number_text(assay['purity_pct'])} %"]
            lines += [f"{symbol} {number_text(value)} ppm" for symbol, value in assay["impurities_ppm"].items()]
            filename = f"assay-{assay['report_no']}.pdf"
        elif kind == "feedstock_evidence":
            lines = [f"Weighbridge tickets for batch {number}"]
            lines += [f"Lot {lot.lot_no}: {number_text(mass)} kg, transfer record {lot.transfer_doc_no or '-'}"
                      for lot, mass in story.inputs]
            filename = f"weighbridge-{number}.pdf"
        elif kind == "production_record":
            content = (f"date,event,quantity_kg,batch\n{fields['production_start']},start,,{number}\n"
                       f"{fields['production_end']},output,{number_text(fields['quantity_kg'])},{number}\n").encode()
            filename, media_type, lines = f"production-log-{number}.csv", "text/csv", None
        elif kind == "mass_balance":
            content = (f"batch,lot_no,category,mass_kg,{element}_pct\n" + "".join(
                f"{number},{lot.lot_no},{lot.category},{number_text(mass)},{number_text(lot.content[element])}\n"
                for lot, mass in story.inputs)).encode()
            filename, media_type, lines = f"mass-balance-{number}.csv", "text/csv", None
        else:
            lines = [f"Site note {position} for batch {number}", "Sampling and storage as per procedure."]
            filename = f"site-note-{position}-{number}.pdf"
        if lines is not None:
            content, text_layer, media_type = pdf_with_text(lines), "\n".join(lines), "application/pdf"
        return DocumentPlan(id=self.new_id(Document), kind=kind, filename=filename, media_type=media_type,
                            content=content, sha256=sha256_hex(content), text=text_layer)

    def add_document(self, story, document: DocumentPlan, at: dt.datetime, store_file: bool) -> None:
        if store_file:
            staged = self.store.stage(io.BytesIO(document.content), self.max_file_bytes)
            self.store.commit(staged)
            self.files_stored += 1
        story.version += 1
        self.add(Document, {"id": document.id, "batch_id": story.batch_id, "kind": document.kind,
                            "filename": document.filename, "size": len(document.content), "sha256": document.sha256,
                            "media_type": document.media_type, "uploaded_at": at, "uploaded_by": story.applicant})
        self.audit(at, story.applicant, "document.uploaded", "batch", story.batch_id,
                   {"document_id": document.id, "kind": document.kind, "filename": document.filename,
                    "size": len(document.content), "sha256": document.sha256, "media_type": document.media_type})

    # Submissions, checks and decisions

    def queue_run(self, story, at: dt.datetime) -> tuple[int, dict]:
        """A submission whose check run has not finished: queued, as the worker will find it."""
        run_id = self.new_id(CheckRun)
        story.version += 1
        run_row = {"id": run_id, "batch_id": story.batch_id, "state": "queued", "attempts": 0,
                   "material_code": story.material_code, "ruleset_version": None, "computed": None,
                   "queued_at": at, "started_at": None, "finished_at": None}
        self.add(CheckRun, run_row)
        self.audit(at, story.applicant, "batch.submitted", "batch", story.batch_id,
                   {"check_run_id": run_id, "version": story.version})
        return run_id, run_row

    def submission(self, story, fields: dict, at: dt.datetime, expect_failure: bool) -> dt.datetime:
        """Submit, then the check run on these fields: the 14 checks run here, as the worker runs them."""
        run_id, run_row = self.queue_run(story, at)
        started = self.later(at, dt.timedelta(seconds=1), dt.timedelta(seconds=20))
        finished = self.later(started, dt.timedelta(seconds=2), dt.timedelta(seconds=40))
        facts = self.facts(story, fields, at, finished)
        report = run_all(facts, story.ruleset)
        if report.has_failure != expect_failure:
            failed = [result.code for result in report.results if result.outcome == "fail"]
            raise RuntimeError(f"bench data for {story.number} came out {'failing' if failed else 'passing'} "
                               f"({', '.join(failed)}) where the plan said otherwise")
        for position, result in enumerate(report.results):
            self.add(CheckResult, {"id": self.new_id(CheckResult), "check_run_id": run_id, "position": position,
                                   "code": result.code, "outcome": result.outcome, "message": result.message,
                                   "fix": result.fix, "message_key": result.message_key, "params": result.params,
                                   "details": result.as_json()["details"]})
        computed = report.computed.as_json()
        run_row.update({"state": "done", "attempts": 1, "ruleset_version": story.ruleset.version,
                        "computed": computed, "started_at": started, "finished_at": finished})
        status = workflow.CHECKS_FAILED if report.has_failure else workflow.AWAITING_REVIEW
        story.required = None if report.has_failure else workflow.approvals_required(
            fields["quantity_kg"], report.has_warning, self.four_eyes_kg)
        story.run_id, story.computed = run_id, computed
        story.version += 1
        self.audit(finished, None, "check_run.finished", "batch", story.batch_id, {
            "check_run_id": run_id, "ruleset_version": story.ruleset.version, "status": status,
            "outcomes": {result.code: result.outcome for result in report.results}, "computed": computed})
        return finished

    def facts(self, story, fields: dict, submitted: dt.datetime, finished: dt.datetime) -> BatchFacts:
        assay = fields["assay"]
        documents = tuple(DocumentFacts(
            document_id=document.id, kind=document.kind, filename=document.filename, sha256=document.sha256,
            media_type=document.media_type, text=document.text)
            for document in story.documents)
        return BatchFacts(
            batch_number=story.number, material_code=story.material_code, grade=fields["grade"],
            quantity_kg=fields["quantity_kg"], production_start=fields["production_start"],
            production_end=fields["production_end"], purity_pct=assay["purity_pct"],
            impurities_ppm=assay["impurities_ppm"], lab_name=assay["lab_name"],
            lab_accreditation_no=assay["lab_accreditation_no"],
            lab_accredited=assay["lab_accreditation_no"] != UNLISTED_LAB[0], report_no=assay["report_no"],
            claimed_recycled_content_pct=fields["claim"]["recycled_content_pct"],
            facility_permit_valid_until=story.facility.permit_valid_until,
            facility_annual_capacity_kg=story.facility.annual_capacity_kg, submitted_on=submitted.date(),
            today=finished.date(),
            inputs=tuple(InputFacts(lot=lot.facts(), mass_kg=mass) for lot, mass in story.inputs),
            documents=documents)

    def decide(self, story, decision: str, at: dt.datetime, reviewer_id: int, approvals: int,
               approvals_required: int | None, status_after: str) -> dt.datetime:
        comment = self.rng.choice(DECISION_COMMENTS[decision])
        self.add(Decision, {"id": self.new_id(Decision), "batch_id": story.batch_id, "check_run_id": story.run_id,
                            "reviewer_id": reviewer_id, "decision": decision, "comment": comment,
                            "batch_version": story.version, "at": at})
        self.audit(at, reviewer_id, f"batch.{decision}", "batch", story.batch_id,
                   {"comment": comment, "version": story.version, "status": status_after, "approvals": approvals,
                    "approvals_required": approvals_required})
        story.version += 1
        return at

    def review(self, story, status: str, at: dt.datetime, fields: dict) -> dt.datetime:
        """The reviewers' part after checks passed; returns the time of the batch's last change."""
        rng = self.rng
        if status in workflow.RESERVING_STATUSES:
            for lot, mass in story.inputs:
                lot.reserved_kg += mass
        reviewers = rng.sample(self.reviewer_ids, 2)
        required = story.required
        if status == workflow.AWAITING_REVIEW:
            if required == 2 and rng.random() < 0.4:
                return self.decide(story, "approve", self.later(at, dt.timedelta(hours=1), dt.timedelta(days=3)),
                                   reviewers[0], 1, required, workflow.AWAITING_REVIEW)
            return at
        if status == workflow.CHANGES_REQUESTED:
            return self.decide(story, "request_changes", self.later(at, dt.timedelta(hours=2), dt.timedelta(days=6)),
                               reviewers[0], 0, required, workflow.CHANGES_REQUESTED)
        if status == workflow.REJECTED:
            if required == 2 and rng.random() < 0.3:
                at = self.decide(story, "approve", self.later(at, dt.timedelta(hours=1), dt.timedelta(days=3)),
                                 reviewers[1], 1, required, workflow.AWAITING_REVIEW)
            return self.decide(story, "reject", self.later(at, dt.timedelta(hours=2), dt.timedelta(days=6)),
                               reviewers[0], 0, required, workflow.REJECTED)
        approved_by = []
        for approval in range(required):
            at = self.later(at, dt.timedelta(hours=1), dt.timedelta(days=4))
            approved_by.append(reviewers[approval])
            after = workflow.APPROVED if approval + 1 == required else workflow.AWAITING_REVIEW
            self.decide(story, "approve", at, reviewers[approval], approval + 1, required, after)
        return self.certify(story, fields, at, approved_by)

    def certify(self, story, fields: dict, at: dt.datetime, approved_by: list[int]) -> dt.datetime:
        """The certificate of the approving transaction: content, signature and code as the service makes them."""
        serial = self.pending_serials.pop()
        number = f"KR-RM-{at.year}-{serial:06d}"
        company, facility = story.company, story.facility
        batch = SimpleNamespace(
            number=story.number, material_code=story.material_code, grade=fields["grade"],
            quantity_kg=fields["quantity_kg"], production_start=fields["production_start"],
            production_end=fields["production_end"],
            company=SimpleNamespace(name=company.name, business_registration_no=company.business_registration_no),
            facility=SimpleNamespace(name=facility.name, permit_no=facility.permit_no, process=facility.process),
            documents=story.documents)
        run = SimpleNamespace(computed=story.computed, ruleset_version=story.ruleset.version)
        content = certificate_content(batch, run, number, approved_by, at)
        key_id, signature = self.keyring.sign(content)
        code = verification_code(signature)
        status, reason, changed = "valid", None, at
        roll = self.rng.random()
        self.audit(at, approved_by[-1], "certificate.issued", "certificate", number,
                   {"batch_id": story.batch_id, "key_id": key_id, "verification_code": code})
        if roll < 0.018:
            changed = self.later(at, dt.timedelta(days=5), dt.timedelta(days=120))
            reviewer = self.rng.choice(self.reviewer_ids)
            events = ["suspend"] if roll < 0.01 else ["suspend", "reinstate"] if roll < 0.013 else ["revoke"]
            for event in events:
                previous = status
                status = workflow.next_certificate_status(event, status)
                reason = CERTIFICATE_REASONS[event]
                self.audit(changed, reviewer, f"certificate.{event}", "certificate", number,
                           {"from": previous, "to": status, "reason": reason})
                if event != events[-1]:
                    changed = self.later(changed, dt.timedelta(days=2), dt.timedelta(days=30))
        self.add(Certificate, {"id": self.new_id(Certificate), "serial": serial, "number": number,
                               "batch_id": story.batch_id, "company_id": company.id,
                               "material_code": story.material_code, "content": content, "key_id": key_id,
                               "signature": signature, "verification_code": code, "status": status,
                               "status_reason": reason, "issued_at": at, "status_changed_at": changed})
        self.certificate_lines.append((number, code, status))
        return at

    # Finishing

    def finish(self) -> None:
        for row in self.chain.release(None):
            self.add(AuditEvent, row)
        self.flush()
        if self.postgres:
            # Ids were given here, not by the sequences: move each past the highest id, as if it had given them.
            for model in INSERT_ORDER:
                if model is AuditEvent:
                    continue
                table = model.__tablename__
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # nosec B608 - our models' tables
                    f"GREATEST((SELECT max(id) FROM {table}), 1))"))

    def write_certificates_file(self) -> Path:
        path = Path(current_app.instance_path) / CERTIFICATES_FILE
        path.write_text("".join(f"{number}\t{code}\t{status}\n" for number, code, status in self.certificate_lines))
        return path
