"""The figures behind each role's home page: one aggregate query per figure, confined to the user's company."""
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, case, extract, func, literal_column, select

from certify.domain import workflow
from certify.domain.catalogue import EU_MINIMUM_RECYCLED_PCT
from certify.extensions import db
from certify.models import (
    Allocation,
    Batch,
    Certificate,
    CheckResult,
    CheckRun,
    Company,
    Decision,
    FeedstockLot,
    Material,
    User,
)
from certify.models.batch import DECISIONS
from certify.security import scoped
from certify.timeutil import as_utc

# The statuses in which the next move is the applicant's (domain.md, Workflow), most urgent first:
# a reviewer asked for changes, the checks found a problem, the batch was never submitted.
NEEDS_ACTION_STATUSES = (workflow.CHANGES_REQUESTED, workflow.CHECKS_FAILED, workflow.DRAFT)
# A lot with at most this share of its mass still free is about to run out.
LOW_REMAINING_SHARE = Decimal("0.10")
LIST_LIMIT = 10
# Waiting time of the review queue: (key, at least days, less than days); None is open-ended.
AGE_BUCKETS = (("under_1_day", 0, 1), ("1_to_7_days", 1, 7), ("7_to_30_days", 7, 30), ("over_30_days", 30, None))
TONNAGE_MONTHS = 12
FAILURE_WINDOW_DAYS = 90
# Revoked certificates certify nothing any more; suspended ones may be reinstated, so they still count.
COUNTED_CERTIFICATE_STATUSES = ("valid", "suspended")


def _month_start(moment: dt.datetime) -> dt.date:
    return as_utc(moment).date().replace(day=1)


def _months_back(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - count
    return dt.date(index // 12, index % 12 + 1, 1)


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _utc(column):
    """The column as UTC wall time: PostgreSQL would otherwise read a timestamptz in the session's time zone.

    SQLite keeps the UTC wall time the service wrote (timeutil: every stored datetime is UTC).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        # A literal, not a bound parameter: the expression must read the same in SELECT and GROUP BY.
        return func.timezone(literal_column("'UTC'"), column)
    return column


# Applicant


@dataclass(frozen=True)
class ActionItem:
    batch_id: int
    number: str | None
    status: str
    material_code: str
    updated_at: dt.datetime


@dataclass(frozen=True)
class LowLot:
    lot_id: int
    lot_no: str
    mass_kg: Decimal
    remaining_kg: Decimal

    @property
    def remaining_share_pct(self) -> Decimal:
        return self.remaining_kg / self.mass_kg * 100 if self.mass_kg else Decimal(0)


@dataclass(frozen=True)
class Listing:
    """A bounded list of rows and how many there are in all."""

    items: list
    total: int


def batch_counts_by_status(user: User) -> dict[str, int]:
    """How many of the user's visible batches are in each status, in workflow order (zeros included)."""
    rows = db.session.execute(scoped(select(Batch.status, func.count()), Batch, user).group_by(Batch.status)).all()
    counts = dict.fromkeys(workflow.BATCH_STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def batches_needing_action(user: User, limit: int = LIST_LIMIT) -> Listing:
    """The batches whose next move is the applicant's: changes requested first, then failed checks, then drafts."""
    urgency = case({status: rank for rank, status in enumerate(NEEDS_ACTION_STATUSES)}, value=Batch.status)
    statement = (scoped(select(Batch.id, Batch.number, Batch.status, Batch.material_code, Batch.updated_at,
                               func.count().over().label("total")), Batch, user)
                 .where(Batch.status.in_(NEEDS_ACTION_STATUSES))
                 .order_by(urgency, Batch.updated_at.desc(), Batch.id.desc()).limit(limit))
    rows = db.session.execute(statement).all()
    return Listing([ActionItem(row.id, row.number, row.status, row.material_code, row.updated_at) for row in rows],
                   rows[0].total if rows else 0)


def lots_running_low(user: User, limit: int = LIST_LIMIT) -> Listing:
    """Lots with some mass still free but at most LOW_REMAINING_SHARE of it (reserved allocations subtracted)."""
    reserved_kg = func.coalesce(func.sum(Allocation.mass_kg), 0)
    remaining_kg = FeedstockLot.mass_kg - reserved_kg
    statement = (scoped(select(FeedstockLot.id, FeedstockLot.lot_no, FeedstockLot.mass_kg,
                               remaining_kg.label("remaining_kg"), func.count().over().label("total")),
                        FeedstockLot, user)
                 .outerjoin(Allocation, and_(Allocation.lot_id == FeedstockLot.id, Allocation.reserved.is_(True)))
                 .group_by(FeedstockLot.id, FeedstockLot.lot_no, FeedstockLot.mass_kg)
                 .having(remaining_kg > 0, remaining_kg <= FeedstockLot.mass_kg * LOW_REMAINING_SHARE)
                 .order_by(remaining_kg / FeedstockLot.mass_kg, FeedstockLot.id).limit(limit))
    rows = db.session.execute(statement).all()
    return Listing([LowLot(row.id, row.lot_no, Decimal(row.mass_kg), Decimal(row.remaining_kg)) for row in rows],
                   rows[0].total if rows else 0)


def record_counts(user: User) -> dict[str, int]:
    """How many lots and certificates the user can see (applicants: their company's), in one query."""
    lots = scoped(select(func.count(FeedstockLot.id)), FeedstockLot, user).scalar_subquery()
    certificates = scoped(select(func.count(Certificate.id)), Certificate, user).scalar_subquery()
    row = db.session.execute(select(lots.label("lots"), certificates.label("certificates"))).one()
    return {"lots": row.lots, "certificates": row.certificates}


# Reviewer


@dataclass(frozen=True)
class QueueAge:
    total: int
    buckets: dict[str, int]
    oldest_submitted_at: dt.datetime | None


@dataclass(frozen=True)
class WaitingBatch:
    batch_id: int
    number: str | None
    material_code: str
    company_name: str
    submitted_at: dt.datetime | None
    approvals: int = 0
    approvals_required: int = 1
    approved_by_me: bool = False


def review_queue_age(user: User, now: dt.datetime) -> QueueAge:
    """The batches awaiting review, counted by how long ago they were submitted, with the oldest submission."""
    bucket_columns = []
    for key, at_least_days, less_than_days in AGE_BUCKETS:
        conditions = [Batch.submitted_at <= now - dt.timedelta(days=at_least_days)]
        if less_than_days is not None:
            conditions.append(Batch.submitted_at > now - dt.timedelta(days=less_than_days))
        bucket_columns.append(func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0).label(key))
    statement = (scoped(select(func.count().label("total"), func.min(Batch.submitted_at).label("oldest"),
                               *bucket_columns), Batch, user)
                 .where(Batch.status == workflow.AWAITING_REVIEW))
    row = db.session.execute(statement).one()
    return QueueAge(row.total, {key: int(getattr(row, key)) for key, _, _ in AGE_BUCKETS}, row.oldest)


def oldest_waiting_batch(user: User) -> WaitingBatch | None:
    """The batch that has waited longest for review (first in the queue's order)."""
    row = db.session.execute(
        scoped(select(Batch.id, Batch.number, Batch.material_code, Company.name, Batch.submitted_at), Batch, user)
        .join(Company, Company.id == Batch.company_id)
        .where(Batch.status == workflow.AWAITING_REVIEW)
        .order_by(Batch.submitted_at, Batch.id).limit(1)).first()
    return WaitingBatch(row.id, row.number, row.material_code, row.name, row.submitted_at) if row else None


def decisions_this_month(user: User, now: dt.datetime) -> dict[str, dict[str, int]]:
    """Decisions since the first of this month (UTC), by decision, split into the user's own and other reviewers'."""
    whose = case((Decision.reviewer_id == user.id, "me"), else_="others").label("whose")
    since = _utc_midnight(_month_start(now))
    rows = db.session.execute(
        scoped(select(Decision.decision, whose, func.count()), Batch, user)
        .join(Batch, Batch.id == Decision.batch_id)
        .where(Decision.at >= since)
        # By the label: a repeated CASE would carry parameters of its own, which PostgreSQL will not match.
        .group_by(Decision.decision, whose)).all()
    counts = {decision: {"me": 0, "others": 0} for decision in DECISIONS}
    for decision, who, count in rows:
        counts[decision][who] = count
    return counts


def awaiting_second_approval(user: User, limit: int = LIST_LIMIT) -> Listing:
    """Four-eyes batches that have some but not all of their approvals on their current check run."""
    # Approvals count towards the run they were made on (services/review.py): a resubmission starts over.
    latest_run_id = (select(func.max(CheckRun.id)).where(CheckRun.batch_id == Batch.id)
                     .correlate(Batch).scalar_subquery())
    approved_by_me = func.max(case((Decision.reviewer_id == user.id, 1), else_=0))
    statement = (scoped(select(Batch.id, Batch.number, Batch.material_code, Company.name.label("company_name"),
                               Batch.submitted_at, Batch.approvals_required, func.count(Decision.id).label("approvals"),
                               approved_by_me.label("approved_by_me"), func.count().over().label("total")),
                        Batch, user)
                 .join(Company, Company.id == Batch.company_id)
                 .join(Decision, and_(Decision.batch_id == Batch.id, Decision.decision == "approve",
                                      Decision.check_run_id == latest_run_id))
                 .where(Batch.status == workflow.AWAITING_REVIEW, Batch.approvals_required > 1)
                 .group_by(Batch.id, Batch.number, Batch.material_code, Company.name, Batch.submitted_at,
                           Batch.approvals_required)
                 .order_by(Batch.submitted_at, Batch.id).limit(limit))
    rows = db.session.execute(statement).all()
    items = [WaitingBatch(row.id, row.number, row.material_code, row.company_name, row.submitted_at, row.approvals,
                          row.approvals_required, bool(row.approved_by_me)) for row in rows]
    return Listing(items, rows[0].total if rows else 0)


# Auditor and admin


@dataclass(frozen=True)
class MonthlyTonnage:
    """Certified quantity by month (first day of each, oldest first) and material, in kg."""

    months: list[dt.date]
    material_codes: list[str]
    kg: dict[tuple[dt.date, str], Decimal] = field(default_factory=dict)

    def month_total_kg(self, month: dt.date) -> Decimal:
        return sum((self.kg.get((month, code), Decimal(0)) for code in self.material_codes), Decimal(0))

    @property
    def total_kg(self) -> Decimal:
        return sum(self.kg.values(), Decimal(0))


@dataclass(frozen=True)
class RecycledShare:
    """A material's certified recycled content over a period, weighted by quantity, beside the EU minimums."""

    material_code: str
    element: str
    quantity_kg: Decimal
    post_consumer_pct: Decimal
    pre_consumer_pct: Decimal
    eu_minimum_2031_pct: Decimal | None
    eu_minimum_2036_pct: Decimal | None

    @property
    def recycled_pct(self) -> Decimal:
        return self.post_consumer_pct + self.pre_consumer_pct

    @property
    def has_eu_minimum(self) -> bool:
        return self.eu_minimum_2031_pct is not None or self.eu_minimum_2036_pct is not None

    @property
    def meets(self) -> str | None:
        """The latest EU deadline whose minimum the share reaches ("2036", "2031"), "none", or None without one."""
        if not self.has_eu_minimum:
            return None
        if self.eu_minimum_2036_pct is not None and self.recycled_pct >= self.eu_minimum_2036_pct:
            return "2036"
        if self.eu_minimum_2031_pct is not None and self.recycled_pct >= self.eu_minimum_2031_pct:
            return "2031"
        return "none"


@dataclass(frozen=True)
class CheckFailures:
    """How often each check code failed in the latest check run of the batches checked in a window."""

    counts: list[tuple[str, int]]
    batches_checked: int
    since: dt.datetime


def tonnage_window_start(now: dt.datetime, months: int = TONNAGE_MONTHS) -> dt.date:
    """The first day of the oldest month shown: this month and the `months - 1` before it."""
    return _months_back(_month_start(now), months - 1)


def certified_tonnage_by_month(user: User, now: dt.datetime, months: int = TONNAGE_MONTHS) -> MonthlyTonnage:
    """Certified quantity by material for each of the last `months` months (UTC), from the signed content."""
    first_month = tonnage_window_start(now, months)
    issued_at = _utc(Certificate.issued_at)
    year, month = extract("year", issued_at), extract("month", issued_at)
    quantity_kg = Certificate.content["quantity_kg"].as_numeric(18, 6)
    rows = db.session.execute(
        scoped(select(year.label("year"), month.label("month"), Certificate.material_code,
                      func.sum(quantity_kg).label("kg")), Certificate, user)
        .where(Certificate.issued_at >= _utc_midnight(first_month),
               Certificate.status.in_(COUNTED_CERTIFICATE_STATUSES))
        .group_by(year, month, Certificate.material_code)).all()
    kg = {(dt.date(int(row.year), int(row.month), 1), row.material_code): Decimal(row.kg or 0) for row in rows}
    return MonthlyTonnage(months=[_months_back(_month_start(now), back) for back in range(months - 1, -1, -1)],
                          material_codes=sorted({code for _, code in kg}), kg=kg)


def recycled_shares(user: User, since: dt.date) -> list[RecycledShare]:
    """Each material's post- and pre-consumer shares, weighted by certified quantity, with its element's EU minimums."""
    content = Certificate.content
    quantity_kg = content["quantity_kg"].as_numeric(18, 6)
    post_consumer_pct = content["post_consumer_pct"].as_numeric(12, 6)
    pre_consumer_pct = content["pre_consumer_pct"].as_numeric(12, 6)
    rows = db.session.execute(
        scoped(select(Certificate.material_code, Material.element, func.sum(quantity_kg).label("kg"),
                      func.sum(quantity_kg * post_consumer_pct).label("post_weighted"),
                      func.sum(quantity_kg * pre_consumer_pct).label("pre_weighted")), Certificate, user)
        .join(Material, Material.code == Certificate.material_code)
        .where(Certificate.issued_at >= _utc_midnight(since),
               Certificate.status.in_(COUNTED_CERTIFICATE_STATUSES),
               # Shares are null only when no input carried the element, and such a batch is never certified.
               post_consumer_pct.is_not(None), pre_consumer_pct.is_not(None))
        .group_by(Certificate.material_code, Material.element)
        .order_by(Certificate.material_code)).all()
    shares = []
    for row in rows:
        total_kg = Decimal(row.kg or 0)
        if total_kg <= 0:
            continue
        shares.append(RecycledShare(
            row.material_code, row.element, total_kg,
            Decimal(row.post_weighted) / total_kg, Decimal(row.pre_weighted) / total_kg,
            EU_MINIMUM_RECYCLED_PCT[2031].get(row.element), EU_MINIMUM_RECYCLED_PCT[2036].get(row.element)))
    return shares


def frequent_check_failures(user: User, now: dt.datetime, days: int = FAILURE_WINDOW_DAYS,
                            limit: int = LIST_LIMIT) -> CheckFailures:
    """The check codes failed most often in each batch's latest check run, among runs finished in the last `days`."""
    since = now - dt.timedelta(days=days)
    latest_runs = (scoped(select(func.max(CheckRun.id).label("run_id")), Batch, user)
                   .join(Batch, Batch.id == CheckRun.batch_id)
                   .where(CheckRun.state == "done", CheckRun.finished_at >= since)
                   .group_by(CheckRun.batch_id).subquery())
    failures = func.count(CheckResult.id)
    rows = db.session.execute(
        select(CheckResult.code, failures.label("failures"))
        .join(latest_runs, latest_runs.c.run_id == CheckResult.check_run_id)
        .where(CheckResult.outcome == "fail")
        .group_by(CheckResult.code).order_by(failures.desc(), CheckResult.code).limit(limit)).all()
    checked = db.session.scalar(select(func.count()).select_from(latest_runs))
    return CheckFailures([(row.code, row.failures) for row in rows], checked, since)


def certificate_counts_by_status(user: User) -> dict[str, int]:
    """How many certificates are valid, suspended and revoked (zeros included)."""
    rows = db.session.execute(scoped(select(Certificate.status, func.count()), Certificate, user)
                              .group_by(Certificate.status)).all()
    counts = dict.fromkeys(workflow.CERTIFICATE_STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def account_counts() -> dict[str, int]:
    """How many companies and users the service has (for admins), in one query."""
    companies = select(func.count(Company.id)).scalar_subquery()
    users = select(func.count(User.id)).scalar_subquery()
    row = db.session.execute(select(companies.label("companies"), users.label("users"))).one()
    return {"companies": row.companies, "users": row.users}


@dataclass(frozen=True)
class MaterialInfo:
    code: str
    name: str
    element: str

    @property
    def has_eu_minimum(self) -> bool:
        return any(self.element in minimums for minimums in EU_MINIMUM_RECYCLED_PCT.values())


def catalogue_materials() -> dict[str, MaterialInfo]:
    """Every material of the catalogue by code, in code order (a handful of rows)."""
    rows = db.session.execute(select(Material.code, Material.name, Material.element).order_by(Material.code)).all()
    return {row.code: MaterialInfo(row.code, row.name, row.element) for row in rows}


def tonnage_by_material(tonnage: MonthlyTonnage) -> dict[str, Decimal]:
    """The period's certified quantity per material, from the monthly figures (no second query)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for (_, code), kg in tonnage.kg.items():
        totals[code] += kg
    return dict(totals)
