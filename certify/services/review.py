"""Reviewers' decisions (api.md, Review): optimistic concurrency on version, four-eyes, certificate at approval."""
from flask_babel import gettext as _
from sqlalchemy import select

from certify.domain import workflow
from certify.errors import Conflict
from certify.extensions import db
from certify.i18n import status_label
from certify.models import Batch, CheckRun, Decision, User
from certify.security_log import security_event
from certify.services import audit, certificates


def decide(reviewer: User, batch: Batch, decision: str, comment: str, version: int) -> Batch:
    """Records one decision on a batch locked for the purpose; of two reviewers at once, one wins, one gets 409."""
    if batch.version != version:
        raise Conflict(_("Batch %(number)s has changed since you opened it: reload it and decide again.",
                         number=batch.number))
    event = decision
    run = db.session.scalar(select(CheckRun).where(CheckRun.batch_id == batch.id).order_by(CheckRun.id.desc()))
    if run is None:  # never checked: nothing to decide on
        raise not_decidable(batch)
    approvals = []
    if decision == "approve":
        approvals = db.session.scalars(select(Decision.reviewer_id).where(
            Decision.check_run_id == run.id, Decision.decision == "approve").order_by(Decision.id)).all() if run else []
        if reviewer.id in approvals:
            raise Conflict(_("You have already approved this batch: the second approval must come from a "
                             "different reviewer."))
        approvals = [*approvals, reviewer.id]
        if len(approvals) < (batch.approvals_required or 1):
            event = "approve_partial"
    try:
        batch.status = workflow.next_status(event, batch.status)
    except workflow.TransitionRefused:
        raise not_decidable(batch) from None
    db.session.add(Decision(batch_id=batch.id, check_run_id=run.id, reviewer_id=reviewer.id, decision=decision,
                            comment=comment, batch_version=version))
    batch.version += 1
    if batch.status in (workflow.REJECTED, workflow.CHANGES_REQUESTED):
        for allocation in batch.allocations:  # domain.md: the reservation ends with the batch
            allocation.reserved = False
    audit.record(reviewer.id, f"batch.{decision}", "batch", batch.id,
                 {"comment": comment, "version": version, "status": batch.status,
                  "approvals": len(approvals), "approvals_required": batch.approvals_required})
    security_event("decision", decision, batch_id=batch.id, status=batch.status)
    if batch.status == workflow.APPROVED:
        db.session.flush()
        certificates.issue(batch, run, approvals)
    db.session.commit()
    return batch


def not_decidable(batch: Batch) -> Conflict:
    return Conflict(_("Batch %(number)s is %(status)s: only a batch awaiting review can be decided.",
                      number=batch.number, status=status_label(batch.status)))
