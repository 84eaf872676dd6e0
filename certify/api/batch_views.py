"""The batch as api.md returns it, loaded for one batch or a page of them in a constant number of queries, and
the shorter entry a list of batches gives for each."""

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from certify.check_text import check_fix, check_message
from certify.extensions import db
from certify.models import Allocation, Batch, Certificate, CheckResult, CheckRun
from certify.timeutil import isoformat_z


def batch_load_options():
    return (selectinload(Batch.allocations).joinedload(Allocation.lot), selectinload(Batch.documents),
            selectinload(Batch.decisions))


def document_json(document) -> dict:
    return {"id": document.id, "kind": document.kind, "filename": document.filename, "size": document.size,
            "sha256": document.sha256, "media_type": document.media_type,
            "uploaded_at": isoformat_z(document.uploaded_at)}


def check_result_json(result: CheckResult) -> dict:
    return {"code": result.code, "outcome": result.outcome, "message": check_message(result),
            "fix": check_fix(result), "details": result.details}


def latest_runs(batch_ids: list[int]) -> dict[int, CheckRun]:
    """The newest check run of each batch, with its results, in two queries."""
    if not batch_ids:
        return {}
    newest = (select(func.max(CheckRun.id)).where(CheckRun.batch_id.in_(batch_ids))
              .group_by(CheckRun.batch_id).scalar_subquery())
    runs = db.session.scalars(select(CheckRun).where(CheckRun.id.in_(newest))
                              .options(selectinload(CheckRun.results))).all()
    return {run.batch_id: run for run in runs}


def certificate_numbers(batch_ids: list[int]) -> dict[int, str]:
    if not batch_ids:
        return {}
    return dict(db.session.execute(select(Certificate.batch_id, Certificate.number)
                                   .where(Certificate.batch_id.in_(batch_ids))).all())


def one_batch_json(batch: Batch) -> dict:
    return batch_json(batch, latest_runs([batch.id]).get(batch.id), certificate_numbers([batch.id]).get(batch.id))


def batch_json(batch: Batch, run: CheckRun | None, certificate_number: str | None) -> dict:
    """The whole batch: its summary (what a list shows) and its assay, inputs, documents, latest checks and
    decisions."""
    finished = run is not None and run.state != "queued"
    return {
        **summary_json(batch, certificate_number),
        "assay": {"purity_pct": batch.purity_pct, "impurities_ppm": dict(batch.impurities_ppm),
                  "lab_name": batch.lab_name, "lab_accreditation_no": batch.lab_accreditation_no,
                  "report_no": batch.report_no},
        "inputs": [{"lot_id": a.lot_id, "lot_no": a.lot.lot_no, "mass_kg": a.mass_kg} for a in batch.allocations],
        "computed": run.computed if finished else None,
        "documents": [document_json(d) for d in batch.documents],
        "checks": [check_result_json(r) for r in run.results] if finished else [],
        "check_run": None if run is None else {
            "state": run.state, "ruleset_version": run.ruleset_version,
            "started_at": isoformat_z(run.started_at), "finished_at": isoformat_z(run.finished_at)},
        "decisions": [{"reviewer_id": d.reviewer_id, "decision": d.decision, "comment": d.comment,
                       "at": isoformat_z(d.at)} for d in batch.decisions],
    }


# A list entry: what tells batches apart and where each one stands. The inputs, documents, checks and decisions
# are the batch's own page (GET /batches/{id}); a list of 50 full batches would carry 700 check results.
SUMMARY_COLUMNS = (Batch.id, Batch.number, Batch.company_id, Batch.facility_id, Batch.material_code, Batch.grade,
                   Batch.quantity_kg, Batch.production_start, Batch.production_end, Batch.status, Batch.version,
                   Batch.claimed_recycled_content_pct, Batch.approvals_required, Batch.created_at,
                   Batch.submitted_at)


# One SELECT of the list entries' columns, each with its certificate's number (a batch has at most one); built
# once, as callers only add to it (statements are immutable).
BATCH_SUMMARIES: Select = (select(*SUMMARY_COLUMNS, Certificate.number.label("certificate_number"))
                           .outerjoin(Certificate, Certificate.batch_id == Batch.id))


def summary_json(batch, certificate_number: str | None) -> dict:
    """A list entry, from a row of BATCH_SUMMARIES or from the Batch itself (the same attribute names)."""
    return {
        "id": batch.id, "number": batch.number, "company_id": batch.company_id, "facility_id": batch.facility_id,
        "material_code": batch.material_code, "grade": batch.grade, "quantity_kg": batch.quantity_kg,
        "production_start": batch.production_start, "production_end": batch.production_end,
        "status": batch.status, "version": batch.version,
        "claim": {"recycled_content_pct": batch.claimed_recycled_content_pct},
        "approvals_required": batch.approvals_required, "certificate_number": certificate_number,
        "created_at": isoformat_z(batch.created_at), "submitted_at": isoformat_z(batch.submitted_at),
    }
