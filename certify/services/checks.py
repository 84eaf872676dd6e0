"""The check run: gather a batch's facts, run the 14 checks, record results and move the status, in one transaction."""
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from flask import current_app
from sqlalchemy import JSON, Connection, Row, bindparam, func, insert, literal_column, select, update
from sqlalchemy.exc import DBAPIError

from certify.connections import outside_transaction
from certify.driver_statements import DriverStatement
from certify.documents import inspect_document, read_ahead
from certify.domain import workflow
from certify.domain.checks import TEXT_READ_FROM_KIND, CheckReport, jsonable, run_all
from certify.domain.facts import BatchFacts, DocumentFacts, InputFacts, LotFacts
from certify.extensions import db
from certify.models import (
    Allocation, Batch, CheckResult, CheckRun, Document, Facility, FeedstockLot, Lab, MaterialRules)
from certify.services import audit, rulesets
from certify.services.queue import enqueue_check_run
from certify.storage import document_store
from certify.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

# The run's own statements work on the tables: plain rows cost a fraction of ORM objects to load and write.
allocations, batches, check_results, check_runs = (
    Allocation.__table__, Batch.__table__, CheckResult.__table__, CheckRun.__table__)
documents, facilities, feedstock_lots, labs, material_rules = (
    Document.__table__, Facility.__table__, FeedstockLot.__table__, Lab.__table__, MaterialRules.__table__)
# The statements are built once: building one of a few joins costs more than running it.

# Counting the delivery returns the run's batch; the batch's documents come with it on PostgreSQL (a WITH query),
# each with every other batch that holds the same file (none: one row of NULLs).
_COUNT_ATTEMPT = (update(check_runs).where(check_runs.c.id == bindparam("run_id"), check_runs.c.state == "queued")
                  .values(attempts=check_runs.c.attempts + 1).returning(check_runs.c.batch_id))
_twin = documents.alias("twin")
_twin_batch = batches.alias("twin_batch")
_DOCUMENT_COLUMNS = (documents.c.id, documents.c.kind, documents.c.filename, documents.c.sha256, documents.c.media_type,
                     _twin_batch.c.company_id.label("twin_company_id"), _twin_batch.c.number.label("twin_number"))


def _with_twins(batch_documents):
    return (batch_documents.outerjoin(_twin, (_twin.c.sha256 == documents.c.sha256)
                                      & (_twin.c.batch_id != documents.c.batch_id))
            .outerjoin(_twin_batch, _twin_batch.c.id == _twin.c.batch_id))


_DOCUMENTS_WITH_TWINS = (select(*_DOCUMENT_COLUMNS).select_from(_with_twins(documents))
                         .where(documents.c.batch_id == bindparam("batch_id")).order_by(documents.c.id))
_counted = _COUNT_ATTEMPT.cte("counted")
_COUNT_ATTEMPT_WITH_DOCUMENTS = (
    select(_counted.c.batch_id, *_DOCUMENT_COLUMNS)
    .select_from(_with_twins(_counted.outerjoin(documents, documents.c.batch_id == _counted.c.batch_id)))
    .order_by(documents.c.id))
_ABANDON_RUN = (update(check_runs).where(check_runs.c.id == bindparam("run_id"))
                .values(state="abandoned", finished_at=bindparam("finished_at")))
# The run claimed (skipped when another delivery holds it), and its batch locked, with what the checks need
# besides the batch row: its facility, whether its lab is accredited and the current version of its material's
# rules. No row: the run is claimed elsewhere.
_claimed_run = (select(check_runs.c.batch_id, check_runs.c.attempts)
                .where(check_runs.c.id == bindparam("run_id"), check_runs.c.state == "queued")
                .with_for_update(skip_locked=True).cte("claimed_run"))
_CLAIM_RUN_LOCK_BATCH = (
    select(_claimed_run.c.attempts, batches, facilities.c.permit_valid_until, facilities.c.annual_capacity_kg,
           select(material_rules.c.id).where(material_rules.c.material_code == batches.c.material_code)
           .order_by(material_rules.c.version.desc()).limit(1).scalar_subquery().label("rules_id"),
           select(labs.c.id).where(labs.c.accreditation_no == batches.c.lab_accreditation_no)
           .scalar_subquery().label("accredited_lab_id"))
    .select_from(_claimed_run.join(batches, batches.c.id == _claimed_run.c.batch_id)
                 .join(facilities, facilities.c.id == batches.c.facility_id))
    .with_for_update(of=batches))
# The batch's inputs, locking their lots in id order; other companies' lots carrying the same transfer document
# ride along (one row each, or one row of NULLs).
_other_lot = feedstock_lots.alias("other_lot")
_LOCK_INPUT_LOTS = (
    select(allocations.c.mass_kg.label("allocated_kg"), allocations.c.position, feedstock_lots.c.id,
           feedstock_lots.c.lot_no, feedstock_lots.c.category, feedstock_lots.c.mass_kg, feedstock_lots.c.received_on,
           feedstock_lots.c.transfer_doc_no, feedstock_lots.c.element_content_pct,
           _other_lot.c.lot_no.label("conflict"))
    .select_from(allocations.join(feedstock_lots, feedstock_lots.c.id == allocations.c.lot_id)
                 .outerjoin(_other_lot, (_other_lot.c.transfer_doc_no == feedstock_lots.c.transfer_doc_no)
                            & (feedstock_lots.c.transfer_doc_no != "")
                            & (_other_lot.c.company_id != bindparam("company_id"))))
    .where(allocations.c.batch_id == bindparam("batch_id"))
    .order_by(feedstock_lots.c.id, _other_lot.c.id).with_for_update(of=feedstock_lots))
# What others reserved on the batch's lots, read after _LOCK_INPUT_LOTS by a statement of its own: the lot row locks,
# held until commit, serialise LOT_ALLOCATION per lot (of two batches checked at the same moment on the same mass,
# the second sees the first one's reservation), and a statement that waited for a lock still reads with the snapshot
# it started with, from before the other run committed. The lots are locked in id order, so two runs never deadlock.
# They are named by a subquery rather than a list of ids, so that this statement goes out with the lock, before its
# rows are back (a list would also recompile it at every run).
_mine = allocations.alias("mine")
_RESERVED_BY_OTHERS = (
    select(allocations.c.lot_id, func.sum(allocations.c.mass_kg))
    .where(allocations.c.lot_id.in_(select(_mine.c.lot_id).where(_mine.c.batch_id == bindparam("batch_id"))),
           allocations.c.reserved.is_(True), allocations.c.batch_id != bindparam("batch_id"))
    .group_by(allocations.c.lot_id))
# The writes of a finished run. Every value they write is a parameter, updated_at too: inside a WITH query (below)
# SQLAlchemy applies a column's onupdate and literal values unreliably. And the parameters are named unlike any
# column: SQLAlchemy takes a parameter named as a column of the table for a value to set.
_INSERT_RESULTS = insert(check_results)
_FINISH_RUN = (update(check_runs).where(check_runs.c.id == bindparam("run_id"))
               .values(state=bindparam("run_state"), ruleset_version=bindparam("run_ruleset_version"),
                       computed=bindparam("run_computed"), started_at=bindparam("run_started_at"),
                       finished_at=bindparam("run_finished_at")))
_MOVE_BATCH = (update(batches).where(batches.c.id == bindparam("checked_batch_id"))
               .values(status=bindparam("batch_status"), version=batches.c.version + literal_column("1"),
                       approvals_required=bindparam("batch_approvals_required"),
                       updated_at=bindparam("batch_updated_at")))
# Every allocation of the batch ends reserved (the checks passed) or released (they failed).
_SET_RESERVED = (update(allocations)
                 .where(allocations.c.batch_id == bindparam("checked_batch_id"),
                        allocations.c.reserved != bindparam("allocations_reserved"))
                 .values(reserved=bindparam("allocations_reserved")))
_RESULT_COLUMNS = ("position", "code", "outcome", "message", "fix", "message_key", "params", "details")
# PostgreSQL: all four as one statement, the updates as data-modifying WITH queries and the results read from one
# JSON array (json_populate_recordset): a fraction of their CPU on both sides.
_results_given = func.json_populate_recordset(literal_column("NULL::check_results"),
                                              bindparam("results", type_=JSON)).table_valued(*_RESULT_COLUMNS)
_RECORD_ON_POSTGRESQL = (
    insert(check_results)
    .from_select(("check_run_id", *_RESULT_COLUMNS),
                 select(bindparam("run_id"), *(_results_given.c[column] for column in _RESULT_COLUMNS)))
    .add_cte(_FINISH_RUN.cte("finished_run"), _MOVE_BATCH.cte("moved_batch"), _SET_RESERVED.cte("set_reserved")))


def execute_run(run_id: int, deadline: float | None = None) -> str:
    """Runs one queued check run; returns what happened. Safe to call twice: only one call does the work.
    Reading the documents raises DeadlinePassed once `deadline` (time.monotonic()) has come.

    The run row is claimed with FOR UPDATE SKIP LOCKED and stays locked until the results commit, so a
    duplicate delivery skips it, and a worker that dies mid-run rolls back and leaves the run queued.
    A round trip costs a run more than its statements: under two workers, the database and the other worker hold
    the CPUs it waits for, and the locks it holds meanwhile. On PostgreSQL the statements go out a few at a time
    (_PipelinedStatements: three round trips a run), and the rows are read as plain rows, not ORM objects.
    """
    statements = _statements()
    claim = statements.count_attempt_and_claim(run_id)
    if claim is None:
        db.session.rollback()
        return "not queued"
    document_rows, batch = claim
    if batch is None:
        db.session.rollback()
        return "claimed elsewhere"
    if batch.status != workflow.CHECKING:
        db.session.execute(_ABANDON_RUN, {"run_id": run_id, "finished_at": utcnow()})
        db.session.commit()
        return "batch no longer checking"
    if batch.attempts > current_app.config["CHECK_RUN_MAX_ATTEMPTS"]:
        _abandon(db.session.get(CheckRun, run_id), db.session.get(Batch, batch.id), "too_many_attempts")
        return "abandoned"
    started_at = utcnow()
    document_facts = _document_facts(batch, document_rows, deadline)  # files before any lot lock: the slow part
    ruleset = rulesets.ruleset_by_rules_id(batch.rules_id)
    inputs = _inputs(*statements.lock_lots(batch))
    report = run_all(_batch_facts(batch, document_facts, inputs), ruleset)
    outcome = _outcome(run_id, batch, report, ruleset.version, started_at)
    statements.record_and_commit(outcome)
    return outcome.status


def _statements() -> "_PipelinedStatements | _SessionStatements":
    """Pipelined on PostgreSQL, on the session's connection switched to autocommit (the transactions are the
    pipelines' own statements). A session already in a transaction keeps it: its statements go one by one."""
    session = db.session()
    if session.get_bind().dialect.name != "postgresql" or session.in_transaction():
        return _SessionStatements()
    return _PipelinedStatements(session.connection(execution_options={"isolation_level": "AUTOCOMMIT"}))


@dataclass(frozen=True)
class _Outcome:
    """What a finished run writes: the status it moves the batch to, the parameters of the writes (_FINISH_RUN,
    _MOVE_BATCH, _SET_RESERVED), the results' rows and the audit event's data."""

    status: str
    changes: dict
    results: list[dict]
    audit_data: dict


class _SessionStatements:
    """The run's statements one at a time through the session: any database, and a session mid-transaction."""

    def count_attempt_and_claim(self, run_id: int) -> tuple[list[Row], Row | None] | None:
        """The batch's documents and the claimed batch row (None: claimed elsewhere); None when not queued."""
        document_rows = _count_attempt_and_read_documents(run_id)
        if document_rows is None:
            return None
        return document_rows, db.session.execute(_CLAIM_RUN_LOCK_BATCH, {"run_id": run_id}).first()

    def lock_lots(self, batch: Row) -> tuple[list[Row], dict[int, Decimal]]:
        rows = db.session.execute(_LOCK_INPUT_LOTS, {"batch_id": batch.id, "company_id": batch.company_id}).all()
        if not rows:
            return rows, {}
        return rows, dict(db.session.execute(_RESERVED_BY_OTHERS, {"batch_id": batch.id}).all())

    def record_and_commit(self, outcome: _Outcome) -> None:
        session = db.session
        session.execute(_INSERT_RESULTS, [{"check_run_id": outcome.changes["run_id"], **result}
                                          for result in outcome.results])
        for statement in (_FINISH_RUN, _MOVE_BATCH, _SET_RESERVED):
            session.execute(statement, outcome.changes)
        # Last before the commit: the audit chain is locked from here until the commit.
        audit.record(None, "check_run.finished", "batch", outcome.changes["checked_batch_id"], outcome.audit_data)
        session.commit()


# PostgreSQL: the run in three round trips, each a pipeline of statements sent together. The statements of one
# pipeline run one after the other on the server, each with a snapshot of its own, so a read that must see what a
# lock waited for can still follow the lock in the same round trip.
_BEGIN, _COMMIT = "BEGIN", "COMMIT"
# For the attempt count only: it must outlive the worker process, which an asynchronous commit does (the database
# has it); what it would not outlive is a crash of the database server itself, which rolls back every run in flight
# anyway. It saves every run a wait for the disk, and the run's own commit flushes the count with it.
_COMMIT_WITHOUT_WAITING_FOR_DISK = "SET LOCAL synchronous_commit TO OFF"


class _PipelinedStatements:
    """The run's statements on psycopg's pipeline mode, on a connection in autocommit:

    1. BEGIN, count the attempt, COMMIT (the count survives a worker the run kills), BEGIN, claim the run and lock
       its batch;
    2. lock the lots, read what others reserved on them;
    3. record the results, lock the audit chain, append the event (hashed by the database), COMMIT: the chain is
       locked only while the database appends and commits.
    """

    def __init__(self, connection: Connection):
        self.connection = connection
        self.driver = connection.connection.driver_connection
        self.compiled = _compiled_for(connection.dialect)

    def count_attempt_and_claim(self, run_id: int) -> tuple[list[Row], Row | None] | None:
        compiled = self.compiled
        _, _, rows, _, _, claimed = self._send(
            (_BEGIN, None), (_COMMIT_WITHOUT_WAITING_FOR_DISK, None),
            (compiled[_COUNT_ATTEMPT_WITH_DOCUMENTS], {"run_id": run_id}), (_COMMIT, None),
            (_BEGIN, None), (compiled[_CLAIM_RUN_LOCK_BATCH], {"run_id": run_id}))
        if not rows:
            return None
        return [row for row in rows if row.id is not None], claimed[0] if claimed else None

    def lock_lots(self, batch: Row) -> tuple[list[Row], dict[int, Decimal]]:
        compiled = self.compiled
        rows, reserved = self._send(
            (compiled[_LOCK_INPUT_LOTS], {"batch_id": batch.id, "company_id": batch.company_id}),
            (compiled[_RESERVED_BY_OTHERS], {"batch_id": batch.id}))
        return rows, dict(reserved)

    def record_and_commit(self, outcome: _Outcome) -> None:
        compiled = self.compiled
        event = audit.appended_event_parameters(None, "check_run.finished", "batch",
                                                outcome.changes["checked_batch_id"], outcome.audit_data)
        self._send((compiled[_RECORD_ON_POSTGRESQL], {**outcome.changes, "results": outcome.results}),
                   (compiled[audit.LOCK_CHAIN], {}), (compiled[audit.APPEND_EVENT_ON_POSTGRESQL], event),
                   (_COMMIT, None))
        db.session.commit()  # the session's side of it: the transaction is over, so no round trip

    def _send(self, *steps: tuple["DriverStatement | str", dict | None]) -> list[list | None]:
        """Sends the statements in one round trip; returns the rows of each (None for those that return none)."""
        cursors = []
        try:
            with self.driver.pipeline():
                for statement, values in steps:
                    cursor = self.driver.cursor()
                    if isinstance(statement, str):
                        cursor.execute(statement)
                    else:
                        cursor.execute(statement.sql, statement.parameters(values))
                    cursors.append((statement, cursor))
        except BaseException as error:
            # Cut short (a statement failed, the soft time limit struck while the database worked...): what the
            # connection still has in flight is unknown, so it goes, and the server rolls its transaction back.
            self.connection.invalidate()
            dbapi_error = self.connection.dialect.loaded_dbapi.Error
            if not isinstance(error, dbapi_error):
                raise
            interruption = _interruption(error, dbapi_error)
            if interruption is not None:
                # psycopg, leaving the pipeline, reports the state the interruption left it in: raise the cause.
                raise interruption from None
            raise DBAPIError.instance(None, None, error, dbapi_error, connection_invalidated=True) from error
        return [statement.rows(cursor) if isinstance(statement, DriverStatement) and statement.returns_rows else None
                for statement, cursor in cursors]


def _interruption(error: BaseException, dbapi_error: type) -> BaseException | None:
    """What interrupted the driver before it raised `error`, if anything did (the soft time limit, say): an exception
    in its context that is neither the driver's nor the socket's."""
    seen = set()
    current = error.__context__
    while current is not None and id(current) not in seen:
        if not isinstance(current, (dbapi_error, OSError)):
            return current
        seen.add(id(current))
        current = current.__context__
    return None


@lru_cache(maxsize=4)
def _compiled_for(dialect) -> dict:
    return {statement: DriverStatement(statement, dialect)
            for statement in (_COUNT_ATTEMPT_WITH_DOCUMENTS, _CLAIM_RUN_LOCK_BATCH, _LOCK_INPUT_LOTS,
                              _RESERVED_BY_OTHERS, _RECORD_ON_POSTGRESQL, audit.LOCK_CHAIN,
                              audit.APPEND_EVENT_ON_POSTGRESQL)}


def _count_attempt_and_read_documents(run_id: int) -> list[Row] | None:
    """Counts the delivery in its own committed transaction, so a run that kills its worker is noticed; returns the
    batch's documents, each with its twins in other batches, or None when the run is not queued.

    One autocommitted statement on a connection of its own, and it reads the documents too: they cannot change
    while the batch is checking (when it is not, they go unused).
    """
    with outside_transaction() as connection:
        if connection.dialect.name == "postgresql":
            rows = connection.execute(_COUNT_ATTEMPT_WITH_DOCUMENTS, {"run_id": run_id}).all()
            return [row for row in rows if row.id is not None] if rows else None
        batch_id = connection.execute(_COUNT_ATTEMPT, {"run_id": run_id}).scalar()
        return None if batch_id is None else connection.execute(_DOCUMENTS_WITH_TWINS, {"batch_id": batch_id}).all()


def end_run_out_of_time(run_id: int) -> str:
    """Called when a run outlives the soft time limit: its unfinished work is rolled back and the batch leaves
    `checking` as checks failed, rather than being tried again with the same outcome."""
    # The limit can strike mid-statement and leave the connection busy: close it (the server then rolls back
    # and frees the run's locks) instead of rolling back on it.
    db.session.connection().invalidate()
    db.session.rollback()
    run = db.session.scalar(select(CheckRun).where(CheckRun.id == run_id, CheckRun.state == "queued")
                            .with_for_update())
    batch = run and db.session.scalar(select(Batch).where(Batch.id == run.batch_id).with_for_update())
    if batch is None or batch.status != workflow.CHECKING:
        db.session.rollback()
        return "not queued"
    _abandon(run, batch, "time_limit")
    return "abandoned"


# Why a run ended without results, as the audit trail and the batch pages say it.
ABANDON_REASONS = {
    "too_many_attempts": "the checks stopped the worker several times (a document it could not process); "
                         "submit again or contact the ministry",
    "time_limit": "the checks took longer than the time limit; submit again or contact the ministry",
}


def _abandon(run: CheckRun, batch: Batch, reason: str) -> None:
    """A run that cannot finish (a document that crashes or stalls the worker, say) ends the batch's checking."""
    run.state, run.finished_at = "abandoned", utcnow()
    batch.status = workflow.next_status("checks_failed", batch.status)
    batch.version += 1
    _release_reservations(batch)
    audit.record(None, "check_run.abandoned", "batch", batch.id,
                 {"check_run_id": run.id, "attempts": run.attempts, "reason": reason,
                  "message": ABANDON_REASONS[reason]})
    db.session.commit()


def _document_facts(batch: Row, rows: list[Row], deadline: float | None) -> list[DocumentFacts]:
    store = document_store()
    read_seconds = current_app.config["DOCUMENT_READ_SECONDS"]
    twins: dict[int, list[Row]] = {}
    for row in rows:
        twins.setdefault(row.id, []).append(row)
    facts = []
    with contextlib.ExitStack() as copies:
        paths = [copies.enter_context(store.local_copy(document_rows[0].sha256)) for document_rows in twins.values()]
        read_ahead(paths)
        inspections = [inspect_document(path, document_rows[0].media_type, seconds=read_seconds,
                                        deadline=deadline, with_text=document_rows[0].kind == TEXT_READ_FROM_KIND)
                       for path, document_rows in zip(paths, twins.values())]
    for document_rows, inspection in zip(twins.values(), inspections):
        document = document_rows[0]
        same = tuple(sorted({row.twin_number for row in document_rows
                             if row.twin_company_id is not None and row.twin_company_id == batch.company_id}))
        other = tuple(sorted({row.twin_number for row in document_rows
                              if row.twin_company_id is not None and row.twin_company_id != batch.company_id}))
        facts.append(DocumentFacts(
            document_id=document.id, kind=document.kind, filename=document.filename, sha256=document.sha256,
            media_type=document.media_type, format_problem=inspection.problem, text=inspection.text,
            assay_rows=inspection.assay_rows, duplicate_in_other_company=other, duplicate_in_same_company=same))
    return facts


def _inputs(rows: list[Row], reserved: dict[int, Decimal]) -> list[InputFacts]:
    """The batch's inputs in their order, from its locked lots (_LOCK_INPUT_LOTS) and what others reserved on them
    (_RESERVED_BY_OTHERS)."""
    rows_by_lot: dict[int, list[Row]] = {}  # a batch draws on a lot once; more rows are its conflicts
    for row in rows:
        rows_by_lot.setdefault(row.id, []).append(row)
    inputs = []
    for lot_rows in sorted(rows_by_lot.values(), key=lambda lot_rows: (lot_rows[0].position, lot_rows[0].id)):
        lot = lot_rows[0]
        facts = LotFacts(
            lot_id=lot.id, lot_no=lot.lot_no, category=lot.category, mass_kg=lot.mass_kg,
            received_on=lot.received_on, transfer_doc_no=lot.transfer_doc_no,
            element_content_pct=dict(lot.element_content_pct), reserved_by_others_kg=Decimal(reserved.get(lot.id, 0)),
            transfer_doc_conflicts=tuple(row.conflict for row in lot_rows if row.conflict is not None))
        inputs.append(InputFacts(lot=facts, mass_kg=lot.allocated_kg))
    return inputs


def _batch_facts(batch: Row, documents: list[DocumentFacts], inputs: list[InputFacts]) -> BatchFacts:
    return BatchFacts(
        batch_number=batch.number, material_code=batch.material_code, grade=batch.grade,
        quantity_kg=batch.quantity_kg, production_start=batch.production_start, production_end=batch.production_end,
        purity_pct=batch.purity_pct, impurities_ppm=dict(batch.impurities_ppm), lab_name=batch.lab_name,
        lab_accreditation_no=batch.lab_accreditation_no, lab_accredited=batch.accredited_lab_id is not None,
        report_no=batch.report_no, claimed_recycled_content_pct=batch.claimed_recycled_content_pct,
        facility_permit_valid_until=batch.permit_valid_until,
        facility_annual_capacity_kg=batch.annual_capacity_kg,
        submitted_on=as_utc(batch.submitted_at).date(), today=dt.datetime.now(dt.timezone.utc).date(),
        inputs=tuple(inputs),
        documents=tuple(documents))


def _release_reservations(batch: Batch) -> None:
    for allocation in batch.allocations:
        allocation.reserved = False


def _outcome(run_id: int, batch: Row, report: CheckReport, ruleset_version: int,
             started_at: dt.datetime) -> _Outcome:
    """What the run writes: its results, its end, the batch's new status and its reservations."""
    if report.has_failure:
        status = workflow.next_status("checks_failed", batch.status)
        approvals_required = batch.approvals_required
        reserve = False
    else:
        status = workflow.next_status("checks_passed", batch.status)
        approvals_required = workflow.approvals_required(
            batch.quantity_kg, report.has_warning, current_app.config["FOUR_EYES_KG"])
        reserve = True  # LOT_ALLOCATION passed: this batch now holds its mass
    computed = report.computed.as_json()
    now = utcnow()
    changes = {"run_id": run_id, "run_state": "done", "run_ruleset_version": ruleset_version,
               "run_computed": computed, "run_started_at": started_at, "run_finished_at": now,
               "checked_batch_id": batch.id, "batch_status": status, "batch_approvals_required": approvals_required,
               "batch_updated_at": now, "allocations_reserved": reserve}
    results = [{"position": position, "code": result.code, "outcome": result.outcome, "message": result.message,
                "fix": result.fix, "message_key": result.message_key, "params": result.params,
                "details": jsonable(result.details)} for position, result in enumerate(report.results)]
    audit_data = {"check_run_id": run_id, "ruleset_version": ruleset_version, "status": status,
                  "outcomes": {result.code: result.outcome for result in report.results}, "computed": computed}
    return _Outcome(status, changes, results, audit_data)


def requeue_stale_runs() -> int:
    """The sweep: publishes again every run still queued after the grace time (its message was lost)."""
    cutoff = utcnow() - current_app.config["CHECK_RUN_GRACE"]
    # Runs being worked on are locked by their worker: skip them rather than wait.
    stale = db.session.scalars(select(CheckRun.id).where(CheckRun.state == "queued", CheckRun.queued_at < cutoff)
                               .order_by(CheckRun.id).limit(500).with_for_update(skip_locked=True)).all()
    if not stale:
        db.session.rollback()
        return 0
    # Restart the grace period first, so a slow run is not published again on every sweep.
    db.session.execute(update(CheckRun).where(CheckRun.id.in_(stale)).values(queued_at=utcnow()))
    db.session.commit()
    published = sum(enqueue_check_run(run_id) for run_id in stale)
    log.info("sweep: %d stale check runs, %d published", len(stale), published)
    return published
