"""Batch endpoints (api.md, Batches): create, read, list, edit, evidence, submit."""
from flask import current_app, jsonify, request
from flask_login import current_user

from certify.api import api
from certify.api.batch_views import (
    BATCH_SUMMARIES,
    batch_load_options,
    document_json,
    one_batch_json,
    summary_json,
)
from certify.api.openapi import operation
from certify.api.parsing import keyset_rows, parse_body, parse_query
from certify.api.responses import BatchOut, BatchSummaryOut, DocumentOut, SubmitOut, page_of
from certify.api.schemas import BatchCreate, BatchListQuery, BatchPatch, DocumentUpload
from certify.documents import ACCEPTED_MEDIA_TYPES
from certify.domain.facts import DOCUMENT_KINDS
from certify.errors import ValidationFailed
from certify.models import Batch, IdempotencyKey
from certify.security import (
    READ_ALL_ROLES,
    get_batch_for,
    get_document_for,
    roles_required,
    scoped,
)
from certify.services import batches
from certify.storage import document_store
from certify.web.downloads import attachment_response

MAX_IDEMPOTENCY_KEY = 255


@api.post("/batches")
@operation(body=BatchCreate, responses={201: BatchOut}, headers={"Idempotency-Key": "repeat-safe creation: a repeat returns the first answer"})
@roles_required("applicant")
def create_batch():
    """Creates a draft batch; a repeat with the same Idempotency-Key answers as the first time."""
    body = parse_body(BatchCreate)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed({"Idempotency-Key": [f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters"]})
    result = batches.create_batch(current_user, body.model_dump(), key, response_for=one_batch_json)
    if isinstance(result, IdempotencyKey):
        return jsonify(result.response_body), result.response_status
    return jsonify(one_batch_json(result)), 201


@api.get("/batches")
@operation(query=BatchListQuery, responses={200: page_of(BatchSummaryOut)})
@roles_required("applicant", *READ_ALL_ROLES)
def list_batches():
    """Batches, newest first, filtered by status, material or facility; an applicant sees its own only. Each entry
    is the batch's summary: its inputs, documents, checks and decisions are on `GET /api/v1/batches/{id}`."""
    query = parse_query(BatchListQuery)
    statement = scoped(BATCH_SUMMARIES, Batch, current_user)
    for name in ("status", "material_code", "facility_id", "company_id"):
        value = getattr(query, name)
        if value is not None:
            statement = statement.where(getattr(Batch, name) == value)
    rows, next_cursor = keyset_rows(statement, Batch.id, query.limit, query.cursor)
    return jsonify({"items": [summary_json(row, row.certificate_number) for row in rows], "next_cursor": next_cursor})


@api.get("/batches/<int:batch_id>")
@operation(responses={200: BatchOut})
@roles_required("applicant", *READ_ALL_ROLES)
def get_batch(batch_id: int):
    """One batch with its inputs, documents, latest checks and decisions."""
    return jsonify(one_batch_json(get_batch_for(current_user, batch_id, options=batch_load_options())))


@api.patch("/batches/<int:batch_id>")
@operation(body=BatchPatch, responses={200: BatchOut}, errors=(409,))
@roles_required("applicant")
def patch_batch(batch_id: int):
    """Edits a batch while it is draft, checks_failed or changes_requested."""
    batch = get_batch_for(current_user, batch_id)
    body = parse_body(BatchPatch)
    return jsonify(one_batch_json(batches.update_batch(current_user, batch, body.model_dump(exclude_unset=True))))


@api.post("/batches/<int:batch_id>/documents")
@operation(multipart={"kind": "|".join(DOCUMENT_KINDS), "file": "binary"}, responses={201: DocumentOut}, errors=(409, 413, 415))
@roles_required("applicant")
def upload_document(batch_id: int):
    """Attaches one evidence file (multipart: kind, file)."""
    batch = get_batch_for(current_user, batch_id)
    errors = {}
    kind = request.form.get("kind")
    try:
        kind = DocumentUpload(kind=kind).kind
    except ValueError:
        errors["kind"] = ["must be one of assay_report, feedstock_evidence, production_record, mass_balance, other"]
    upload = request.files.get("file")
    if upload is None:
        errors["file"] = ["is required (multipart/form-data)"]
    if errors:
        raise ValidationFailed(errors)
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    document = batches.add_document(current_user, batch, kind, upload, max_bytes)
    return jsonify(document_json(document)), 201


@api.get("/batches/<int:batch_id>/documents/<int:document_id>")
@operation(responses={200: tuple(sorted(ACCEPTED_MEDIA_TYPES))})
@roles_required("applicant", *READ_ALL_ROLES)
def download_document(batch_id: int, document_id: int):
    """The file as uploaded, always as an attachment."""
    _, document = get_document_for(current_user, batch_id, document_id)
    return attachment_response(document_store().open(document.sha256), document.media_type, document.filename)


@api.delete("/batches/<int:batch_id>/documents/<int:document_id>")
@operation(responses={204: None}, errors=(409,))
@roles_required("applicant")
def delete_document(batch_id: int, document_id: int):
    """Detaches a document while the batch is editable."""
    batch, document = get_document_for(current_user, batch_id, document_id)
    batches.delete_document(current_user, batch, document)
    return "", 204


@api.post("/batches/<int:batch_id>/submit")
@operation(responses={202: SubmitOut}, errors=(409,))
@roles_required("applicant")
def submit_batch(batch_id: int):
    """Submits the batch for its background checks."""
    batch = get_batch_for(current_user, batch_id, lock=True)
    batches.submit(current_user, batch)
    return jsonify({"status": batch.status}), 202


