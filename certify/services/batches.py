"""The applicant's side of a batch: create, edit, attach evidence, submit for checks."""
import hashlib
import json
import logging
from typing import Callable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from certify.documents import sniff_media_type
from certify.documents.malware import ScannerUnavailable, scan_file
from certify.documents.sniff import safe_filename_label
from certify.domain import workflow
from certify.domain.canonical import plain_json
from certify.errors import ApiError, Conflict, ValidationFailed
from certify.extensions import db
from certify.i18n import status_label
from certify.models import Allocation, Batch, CheckRun, Document, Facility, FeedstockLot, IdempotencyKey, Material, User
from certify.services import audit
from certify.services.queue import enqueue_check_run
from certify.security_log import security_event
from certify.storage import DocumentStore, FileTooLarge, StagedFile, document_store
from certify.timeutil import utcnow

log = logging.getLogger(__name__)

BATCH_FIELDS = ("facility_id", "material_code", "grade", "quantity_kg", "production_start", "production_end")


def _check_facility(user: User, facility_id: int) -> Facility:
    facility = db.session.get(Facility, facility_id)
    if facility is None or facility.company_id != user.company_id:
        raise ValidationFailed({"facility_id": [_("no such facility of your company")]})
    return facility


def _check_material(code: str) -> Material:
    material = db.session.get(Material, code)
    if material is None:
        raise ValidationFailed({"material_code": [_("unknown material")]})
    return material


def _check_lots(user: User, facility_id: int, inputs: list[dict]) -> None:
    """A batch draws only on lots of its own company and facility (domain.md): anything else is 422."""
    lot_ids = [item["lot_id"] for item in inputs]
    found = dict(db.session.execute(select(FeedstockLot.id, FeedstockLot.facility_id).where(
        FeedstockLot.id.in_(lot_ids), FeedstockLot.company_id == user.company_id)).all())
    errors = {}
    for index, lot_id in enumerate(lot_ids):
        if lot_id not in found:
            errors[f"inputs.{index}.lot_id"] = [_("no such lot of your company")]
        elif found[lot_id] != facility_id:
            errors[f"inputs.{index}.lot_id"] = [_("this lot was received at another facility than the batch's")]
    if errors:
        raise ValidationFailed(errors)


def _assign(batch: Batch, fields: dict) -> None:
    for name in BATCH_FIELDS:
        if name in fields:
            setattr(batch, name, fields[name])
    if "assay" in fields:
        assay = fields["assay"]
        batch.purity_pct = assay["purity_pct"]
        batch.impurities_ppm = assay["impurities_ppm"]
        batch.lab_name = assay["lab_name"]
        batch.lab_accreditation_no = assay["lab_accreditation_no"]
        batch.report_no = assay["report_no"]
    if "claim" in fields:
        batch.claimed_recycled_content_pct = fields["claim"]["recycled_content_pct"]
    if "inputs" in fields:
        # Keep the row of a lot that stays: a new row for it would collide with the old one before the
        # old one is deleted (one allocation per batch and lot).
        existing = {allocation.lot_id: allocation for allocation in batch.allocations}
        allocations = []
        for position, item in enumerate(fields["inputs"]):
            allocation = existing.pop(item["lot_id"], None) or Allocation(lot_id=item["lot_id"])
            allocation.mass_kg, allocation.position = item["mass_kg"], position
            allocations.append(allocation)
        batch.allocations = allocations


def request_fingerprint(fields: dict) -> str:
    return hashlib.sha256(json.dumps(plain_json(fields), sort_keys=True).encode()).hexdigest()


def find_idempotent_replay(user: User, key: str, fields: dict) -> IdempotencyKey | None:
    """The stored answer for this key, or None; the same key with a different body is a conflict."""
    stored = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user.id,
                                                            IdempotencyKey.key == key))
    if stored is not None and stored.request_hash != request_fingerprint(fields):
        raise ApiError(422, "This Idempotency-Key was already used with a different request body.",
                       fields={"Idempotency-Key": ["was used for another request"]})
    return stored


def create_batch(user: User, fields: dict, idempotency_key: str | None = None,
                 response_for: Callable[[Batch], dict] | None = None) -> Batch | IdempotencyKey:
    """Creates a draft batch; with an Idempotency-Key, a repeat returns the stored first answer instead."""
    if idempotency_key:
        stored = find_idempotent_replay(user, idempotency_key, fields)
        if stored is not None:
            return stored
    _check_facility(user, fields["facility_id"])
    _check_material(fields["material_code"])
    _check_lots(user, fields["facility_id"], fields["inputs"])
    batch = Batch(company_id=user.company_id, created_by=user.id, status=workflow.DRAFT, version=1)
    _assign(batch, fields)
    db.session.add(batch)
    db.session.flush()
    batch.number = f"B-{batch.created_at.year}-{batch.id:06d}"
    audit.record(user.id, "batch.created", "batch", batch.id, {"number": batch.number, **fields})
    if idempotency_key:
        db.session.flush()
        db.session.add(IdempotencyKey(user_id=user.id, key=idempotency_key, request_hash=request_fingerprint(fields),
                                      response_status=201, response_body=plain_json(response_for(batch))))
    try:
        db.session.commit()
    except IntegrityError:
        # The same key raced in from a parallel request: that one won; answer as it did.
        db.session.rollback()
        stored = find_idempotent_replay(user, idempotency_key, fields) if idempotency_key else None
        if stored is None:
            raise
        return stored
    return batch


def _require_editable(batch: Batch, event: str = "edit") -> None:
    try:
        workflow.next_status(event, batch.status)
    except workflow.TransitionRefused:
        raise Conflict(_("Batch %(number)s is %(status)s: it can no longer be changed.", number=batch.number,
                          status=status_label(batch.status))) from None


def update_batch(user: User, batch: Batch, fields: dict) -> Batch:
    _require_editable(batch)
    facility_id = fields.get("facility_id", batch.facility_id)
    if "facility_id" in fields:
        _check_facility(user, facility_id)
    if "material_code" in fields:
        _check_material(fields["material_code"])
    start = fields.get("production_start", batch.production_start)
    end = fields.get("production_end", batch.production_end)
    if end < start:
        raise ValidationFailed({"production_end": [_("must not be before production_start")]})
    inputs = fields.get("inputs") or [{"lot_id": a.lot_id} for a in batch.allocations]
    _check_lots(user, facility_id, inputs)
    _assign(batch, fields)
    batch.version += 1
    audit.record(user.id, "batch.updated", "batch", batch.id, fields)
    db.session.commit()
    return batch


def add_document(user: User, batch: Batch, kind: str, upload: FileStorage, max_bytes: int) -> Document:
    """Streams the upload into the store while hashing it; refuses oversize (413) and unlisted types (415)."""
    _require_editable(batch)
    store = document_store()
    try:
        staged = store.stage(upload.stream, max_bytes)
    except FileTooLarge as error:
        raise ApiError(413, _("The file is too large: the limit is %(megabytes)s MB.",
                              megabytes=error.max_bytes // (1024 * 1024))) from None
    media_type = sniff_media_type(staged.path)
    if media_type is None:
        store.discard(staged)
        raise ApiError(415, _("This type of file is not accepted: upload a PDF, CSV, XLSX, PNG or JPEG file."))
    _scan_for_malware(user, batch, kind, store, staged)
    document = Document(batch_id=batch.id, kind=kind, filename=safe_filename_label(upload.filename or ""),
                        size=staged.size, sha256=staged.sha256, media_type=media_type, uploaded_by=user.id)
    db.session.add(document)
    batch.version += 1
    db.session.flush()
    audit.record(user.id, "document.uploaded", "batch", batch.id,
                 {"document_id": document.id, "kind": kind, "filename": document.filename, "size": staged.size,
                  "sha256": staged.sha256, "media_type": media_type})
    store.commit(staged)  # before the row commits: a committed row always has its file
    db.session.commit()
    return document


def _scan_for_malware(user: User, batch: Batch, kind: str, store: DocumentStore, staged: StagedFile) -> None:
    """Where a scanner is configured, a flagged file is quarantined and refused; no answer refuses it too."""
    command = current_app.config["MALWARE_SCAN_COMMAND"]
    if not command:
        return
    try:
        result = scan_file(command, staged.path)
    except ScannerUnavailable as error:
        store.discard(staged)
        log.error("malware scanner unavailable: %s", error)
        raise ApiError(503, _("The file could not be checked for malware just now: upload it again in a few "
                              "minutes.")) from None
    if not result.infected:
        return
    store.quarantine(staged)
    security_event("upload.quarantined", "refused", batch_id=batch.id, sha256=staged.sha256,
                   signature=result.signature)
    audit.record(user.id, "document.quarantined", "batch", batch.id,
                 {"kind": kind, "sha256": staged.sha256, "size": staged.size, "signature": result.signature})
    db.session.commit()
    raise ApiError(422, _("The malware scanner found %(signature)s in this file. It was not attached and has been "
                          "set aside for the ministry; upload a clean copy.", signature=result.signature),
                   fields={"file": [_("contains malware")]})


def delete_document(user: User, batch: Batch, document: Document) -> None:
    """Detaches a document; the stored file stays, since other batches may hold the same content."""
    _require_editable(batch)
    db.session.delete(document)
    batch.version += 1
    audit.record(user.id, "document.deleted", "batch", batch.id,
                 {"document_id": document.id, "kind": document.kind, "sha256": document.sha256})
    db.session.commit()


def submit(user: User, batch: Batch) -> CheckRun:
    """Moves the batch to `checking` and queues its check run: committed first, then enqueued."""
    try:
        batch.status = workflow.next_status("submit", batch.status)
    except workflow.TransitionRefused:
        raise Conflict(_("Batch %(number)s is %(status)s: it cannot be submitted now.", number=batch.number,
                          status=status_label(batch.status))) from None
    batch.submitted_at = utcnow()
    batch.approvals_required = None
    batch.version += 1
    run = CheckRun(batch_id=batch.id, material_code=batch.material_code, state="queued")
    db.session.add(run)
    db.session.flush()
    audit.record(user.id, "batch.submitted", "batch", batch.id, {"check_run_id": run.id, "version": batch.version})
    db.session.commit()
    enqueue_check_run(run.id)
    return run
