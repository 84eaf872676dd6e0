"""Review and certificate endpoints (api.md, Review and Certificates), the evidence bundle and public verification."""
import io

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select

from certify.api import api
from certify.api.batch_views import batch_load_options, one_batch_json
from certify.api.openapi import operation
from certify.api.parsing import json_body, keyset_page, parse_body, parse_query
from certify.api.responses import (
    BatchOut,
    CertificateDocument,
    PublicCertificate,
    VerifyResult,
    page_of,
)
from certify.api.schemas import (
    CertificateListQuery,
    DecisionRequest,
    PublicLookupQuery,
    ReasonRequest,
)
from certify.errors import NotFound, ValidationFailed
from certify.models import Certificate
from certify.security import (
    READ_ALL_ROLES,
    get_batch_for,
    get_certificate_for,
    roles_required,
    scoped,
)
from certify.services import bundles, certificates, review
from certify.signing import verify_certificate_document
from certify.web.downloads import file_response


@api.post("/batches/<int:batch_id>/decision")
@operation(body=DecisionRequest, responses={200: BatchOut}, errors=(409,))
@roles_required("reviewer")
def decide(batch_id: int):
    """Approves, rejects or requests changes, on the version of the batch the reviewer saw."""
    body = parse_body(DecisionRequest)
    batch = get_batch_for(current_user, batch_id, lock=True)
    review.decide(current_user, batch, body.decision, body.comment, body.version)
    return jsonify(one_batch_json(get_batch_for(current_user, batch_id, options=batch_load_options())))


@api.get("/batches/<int:batch_id>/bundle.zip")
@operation(responses={200: "application/zip"})
@roles_required("applicant", *READ_ALL_ROLES)
def evidence_bundle(batch_id: int):
    """manifest.json and every document of the batch, in one zip."""
    batch = get_batch_for(current_user, batch_id, options=batch_load_options())
    bundle = bundles.build_bundle(batch, one_batch_json(batch))
    return file_response(bundle, "application/zip", f"{batch.number}-bundle.zip")


@api.get("/certificates")
@operation(query=CertificateListQuery, responses={200: page_of(CertificateDocument)})
@roles_required("applicant", *READ_ALL_ROLES)
def list_certificates():
    """Certificate documents, newest first; an applicant sees its company's only."""
    query = parse_query(CertificateListQuery)
    statement = scoped(select(Certificate), Certificate, current_user)
    if query.status is not None:
        statement = statement.where(Certificate.status == query.status)
    if query.material_code is not None:
        statement = statement.where(Certificate.material_code == query.material_code)
    items, next_cursor = keyset_page(statement, Certificate.id, query.limit, query.cursor)
    return jsonify({"items": [certificates.document_json(c) for c in items], "next_cursor": next_cursor})


@api.get("/certificates/<number>.pdf")
@operation(responses={200: "application/pdf"})
@roles_required("applicant", *READ_ALL_ROLES)
def certificate_pdf(number: str):
    """The certificate as a one-page bilingual PDF with a QR code to the public verification page."""
    certificate = get_certificate_for(current_user, number)
    return file_response(io.BytesIO(certificates.pdf_of(certificate)), "application/pdf", f"{certificate.number}.pdf")


@api.get("/certificates/<number>")
@operation(responses={200: CertificateDocument})
@roles_required("applicant", *READ_ALL_ROLES)
def get_certificate(number: str):
    """The signed certificate document."""
    certificate = get_certificate_for(current_user, number)
    certificates.record_download(certificate, "json")
    return jsonify(certificates.document_json(certificate))


def _change_status(number: str, event: str):
    body = parse_body(ReasonRequest)
    certificate = get_certificate_for(current_user, number)
    return jsonify(certificates.document_json(certificates.change_status(current_user, certificate, event,
                                                                         body.reason)))


@api.post("/certificates/<number>/suspend")
@operation(body=ReasonRequest, responses={200: CertificateDocument}, errors=(409,))
@roles_required("reviewer")
def suspend_certificate(number: str):
    """valid → suspended, with a reason."""
    return _change_status(number, "suspend")


@api.post("/certificates/<number>/reinstate")
@operation(body=ReasonRequest, responses={200: CertificateDocument}, errors=(409,))
@roles_required("reviewer")
def reinstate_certificate(number: str):
    """suspended → valid, with a reason."""
    return _change_status(number, "reinstate")


@api.post("/certificates/<number>/revoke")
@operation(body=ReasonRequest, responses={200: CertificateDocument}, errors=(409,))
@roles_required("reviewer", "admin")
def revoke_certificate(number: str):
    """valid or suspended → revoked, for good."""
    return _change_status(number, "revoke")


@api.get("/public/certificates/<number>")
@operation(query=PublicLookupQuery, responses={200: PublicCertificate}, public=True)
def public_certificate(number: str):
    """Anyone holding the number and its verification code sees the certificate's public facts and status."""
    certificate = certificates.find_public(number, request.args.get("code"))
    if certificate is None:
        raise NotFound("No certificate with this number and verification code.")
    return jsonify(certificates.public_json(certificate))


@api.post("/public/verify")
@operation(body=None, responses={200: VerifyResult}, public=True, errors=(400, 422))
def public_verify():
    """Checks a certificate document's signature against the published keys and tells its current status."""
    document = json_body()
    if not isinstance(document, dict):
        raise ValidationFailed({"body": ["must be a certificate document (a JSON object)"]})
    result = verify_certificate_document(document, certificates.keyring().published_keys())
    content = document.get("certificate") if isinstance(document.get("certificate"), dict) else {}
    number = content.get("number") if isinstance(content.get("number"), str) else None
    status = None
    if result.valid_signature and number:
        status = certificates.public_status(number)
    return jsonify({"valid_signature": result.valid_signature, "status": status, "number": number,
                    "key_id": result.key_id, "reason": result.reason})
