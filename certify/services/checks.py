"""The check run: gather a batch's facts, run the 14 checks, record results and move the status, in one transaction."""
import datetime as dt
import logging
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from certify.documents import inspect_document
from certify.domain import workflow
from certify.domain.checks import CheckReport, run_all
from certify.domain.facts import BatchFacts, DocumentFacts, InputFacts, LotFacts
from certify.extensions import db
from certify.models import Allocation, Batch, CheckResult, CheckRun, Document, FeedstockLot, Lab, Material
from certify.services import audit, rulesets
from certify.services.queue import enqueue_check_run
from certify.storage import document_store
from certify.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)


def execute_run(run_id: int) -> str:
    """Runs one queued check run; returns what happened. Safe to call twice: only one call does the work.

    The run row is claimed with FOR UPDATE SKIP LOCKED and stays locked until the results commit, so a
    duplicate delivery skips it, and a worker that dies mid-run rolls back and leaves the run queued.
    """
    if not _count_attempt(run_id):
        return "not queued"
    run = db.session.scalar(select(CheckRun).where(CheckRun.id == run_id, CheckRun.state == "queued")
                            .with_for_update(skip_locked=True))
    if run is None:
        db.session.rollback()
        return "claimed elsewhere"
    batch = db.session.scalar(select(Batch).where(Batch.id == run.batch_id).with_for_update()
                              .options(selectinload(Batch.documents)))
    if batch.status != workflow.CHECKING:
        run.state, run.finished_at = "abandoned", utcnow()
        db.session.commit()
        return "batch no longer checking"
    if run.attempts > current_app.config["CHECK_RUN_MAX_ATTEMPTS"]:
        _abandon(run, batch, "too_many_attempts")
        return "abandoned"
    run.started_at = utcnow()
    documents = _document_facts(batch)  # file parsing before any lot lock: it is the slow part
    lots = _lock_lots(batch)
    material = db.session.get(Material, batch.material_code)
    rules = rulesets.current_rules(batch.material_code)
    ruleset = rulesets.ruleset_for(material, rules)
    report = run_all(_batch_facts(batch, documents, lots), ruleset)
    _record(run, batch, report, ruleset.version)
    db.session.commit()
    return batch.status


def _count_attempt(run_id: int) -> bool:
    """Counts the delivery in its own committed transaction, so a run that kills its worker is noticed."""
    counted = db.session.execute(update(CheckRun).where(CheckRun.id == run_id, CheckRun.state == "queued")
                                 .values(attempts=CheckRun.attempts + 1)).rowcount
    db.session.commit()
    return counted == 1


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


def _document_facts(batch: Batch) -> list[DocumentFacts]:
    store = document_store()
    read_seconds = current_app.config["DOCUMENT_READ_SECONDS"]
    hashes = {document.sha256 for document in batch.documents}
    twins = db.session.execute(
        select(Document.sha256, Batch.company_id, Batch.number).join(Batch, Document.batch_id == Batch.id)
        .where(Document.sha256.in_(hashes), Document.batch_id != batch.id)).all() if hashes else []
    facts = []
    for document in batch.documents:
        with store.local_copy(document.sha256) as path:
            inspection = inspect_document(path, document.media_type, seconds=read_seconds)
        same = tuple(sorted({n for sha, company, n in twins if sha == document.sha256 and company == batch.company_id}))
        other = tuple(sorted({n for sha, company, n in twins if sha == document.sha256 and company != batch.company_id}))
        facts.append(DocumentFacts(
            document_id=document.id, kind=document.kind, filename=document.filename, sha256=document.sha256,
            media_type=document.media_type, format_problem=inspection.problem, text=inspection.text,
            assay_rows=inspection.assay_rows, duplicate_in_other_company=other, duplicate_in_same_company=same))
    return facts


def _lock_lots(batch: Batch) -> dict[int, LotFacts]:
    """Locks the batch's lots (in id order, so two runs never deadlock) and reads what others reserved on them.

    Holding these row locks until commit serialises LOT_ALLOCATION per lot: of two batches checked at the
    same moment on the same mass, the second sees the first one's reservation.
    """
    lot_ids = sorted({allocation.lot_id for allocation in batch.allocations})
    lots = db.session.scalars(select(FeedstockLot).where(FeedstockLot.id.in_(lot_ids))
                              .order_by(FeedstockLot.id).with_for_update()).all()
    reserved = dict(db.session.execute(
        select(Allocation.lot_id, func.sum(Allocation.mass_kg))
        .where(Allocation.lot_id.in_(lot_ids), Allocation.reserved.is_(True), Allocation.batch_id != batch.id)
        .group_by(Allocation.lot_id)).all())
    doc_nos = {lot.transfer_doc_no for lot in lots if lot.transfer_doc_no}
    conflicts = db.session.execute(
        select(FeedstockLot.transfer_doc_no, FeedstockLot.lot_no)
        .where(FeedstockLot.transfer_doc_no.in_(doc_nos), FeedstockLot.company_id != batch.company_id)
    ).all() if doc_nos else []
    return {lot.id: LotFacts(
        lot_id=lot.id, lot_no=lot.lot_no, category=lot.category, mass_kg=lot.mass_kg, received_on=lot.received_on,
        transfer_doc_no=lot.transfer_doc_no, element_content_pct=dict(lot.element_content_pct),
        reserved_by_others_kg=Decimal(reserved.get(lot.id, 0)),
        transfer_doc_conflicts=tuple(no for doc, no in conflicts if doc == lot.transfer_doc_no)) for lot in lots}


def _batch_facts(batch: Batch, documents: list[DocumentFacts], lots: dict[int, LotFacts]) -> BatchFacts:
    lab_accredited = db.session.scalar(select(Lab.id).where(Lab.accreditation_no == batch.lab_accreditation_no))
    return BatchFacts(
        batch_number=batch.number, material_code=batch.material_code, grade=batch.grade,
        quantity_kg=batch.quantity_kg, production_start=batch.production_start, production_end=batch.production_end,
        purity_pct=batch.purity_pct, impurities_ppm=dict(batch.impurities_ppm), lab_name=batch.lab_name,
        lab_accreditation_no=batch.lab_accreditation_no, lab_accredited=lab_accredited is not None,
        report_no=batch.report_no, claimed_recycled_content_pct=batch.claimed_recycled_content_pct,
        facility_permit_valid_until=batch.facility.permit_valid_until,
        facility_annual_capacity_kg=batch.facility.annual_capacity_kg,
        submitted_on=as_utc(batch.submitted_at).date(), today=dt.datetime.now(dt.timezone.utc).date(),
        inputs=tuple(InputFacts(lot=lots[a.lot_id], mass_kg=a.mass_kg) for a in batch.allocations),
        documents=tuple(documents))


def _release_reservations(batch: Batch) -> None:
    for allocation in batch.allocations:
        allocation.reserved = False


def _record(run: CheckRun, batch: Batch, report: CheckReport, ruleset_version: int) -> None:
    for position, result in enumerate(report.results):
        db.session.add(CheckResult(check_run_id=run.id, position=position, code=result.code, outcome=result.outcome,
                                   message=result.message, fix=result.fix, message_key=result.message_key,
                                   params=result.params, details=result.as_json()["details"]))
    run.computed = report.computed.as_json()
    run.ruleset_version = ruleset_version
    run.state, run.finished_at = "done", utcnow()
    if report.has_failure:
        batch.status = workflow.next_status("checks_failed", batch.status)
        _release_reservations(batch)
    else:
        batch.status = workflow.next_status("checks_passed", batch.status)
        batch.approvals_required = workflow.approvals_required(
            batch.quantity_kg, report.has_warning, current_app.config["FOUR_EYES_KG"])
        for allocation in batch.allocations:  # LOT_ALLOCATION passed: this batch now holds its mass
            allocation.reserved = True
    batch.version += 1
    audit.record(None, "check_run.finished", "batch", batch.id, {
        "check_run_id": run.id, "ruleset_version": ruleset_version, "status": batch.status,
        "outcomes": {result.code: result.outcome for result in report.results}, "computed": run.computed})


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
