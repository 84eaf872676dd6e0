"""The shapes of API responses, as JSON Schema for the OpenAPI document (tests hold real responses to them)."""
import functools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from certify.domain.facts import DOCUMENT_KINDS, GRADES, LOT_CATEGORIES
from certify.domain.workflow import BATCH_STATUSES, CERTIFICATE_STATUSES
from certify.models.company import PROCESSES
from certify.models.lot import CHEMISTRIES, LOT_FORMS
from certify.models.user import ROLES

Number = float  # exact decimals are served as JSON numbers of at most 4 places
Date = str
Timestamp = str


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Out):
    code: str
    message: str
    fields: dict[str, list[str]] | None = None


class Error(Out):
    error: ErrorBody


class Token(Out):
    token: str
    expires_at: Timestamp


class UserOut(Out):
    id: int
    email: str
    role: Literal[ROLES]
    company_id: int | None


class CompanyOut(Out):
    id: int
    name: str
    business_registration_no: str


class FacilityOut(Out):
    id: int
    company_id: int
    name: str
    permit_no: str
    permit_valid_until: Date
    process: Literal[PROCESSES]
    annual_capacity_kg: Number


class MaterialOut(Out):
    code: str
    name: str
    element: str
    element_fraction_pct: Number
    min_purity_pct: Number
    max_impurities_ppm: dict[str, Number]
    max_recovery_pct: Number
    typical_max_recovery_pct: Number
    min_recovery_pct: Number
    ruleset_version: int


class LabOut(Out):
    id: int
    accreditation_no: str
    name: str


class LotOut(Out):
    id: int
    company_id: int
    facility_id: int
    lot_no: str
    supplier: str
    category: Literal[LOT_CATEGORIES]
    form: Literal[LOT_FORMS]
    chemistry: Literal[CHEMISTRIES] | None
    mass_kg: Number
    received_on: Date
    transfer_doc_no: str | None
    element_content_pct: dict[str, Number]
    allocated_kg: Number
    remaining_kg: Number
    created_at: Timestamp


class AssayOut(Out):
    purity_pct: Number
    impurities_ppm: dict[str, Number]
    lab_name: str
    lab_accreditation_no: str
    report_no: str


class InputOut(Out):
    lot_id: int
    lot_no: str
    mass_kg: Number


class ClaimOut(Out):
    recycled_content_pct: Number


class ComputedOut(Out):
    output_element_kg: Number
    input_element_kg: Number
    recovery_pct: Number | None
    recycled_content_pct: Number | None
    post_consumer_pct: Number | None
    pre_consumer_pct: Number | None


class DocumentOut(Out):
    id: int
    kind: Literal[DOCUMENT_KINDS]
    filename: str
    size: int
    sha256: str
    media_type: str
    uploaded_at: Timestamp


class CheckOut(Out):
    code: str
    outcome: Literal["pass", "warn", "fail"]
    message: str
    fix: str | None
    details: dict[str, Any]


class CheckRunOut(Out):
    state: Literal["queued", "done", "abandoned"]
    ruleset_version: int | None
    started_at: Timestamp | None
    finished_at: Timestamp | None


class DecisionOut(Out):
    reviewer_id: int
    decision: Literal["approve", "reject", "request_changes"]
    comment: str
    at: Timestamp


class BatchSummaryOut(Out):
    """A batch in a list; the whole batch (inputs, documents, checks, decisions) is GET /api/v1/batches/{id}."""
    id: int
    number: str
    company_id: int
    facility_id: int
    material_code: str
    grade: Literal[GRADES]
    quantity_kg: Number
    production_start: Date
    production_end: Date
    status: Literal[BATCH_STATUSES]
    version: int
    claim: ClaimOut
    approvals_required: int | None
    certificate_number: str | None
    created_at: Timestamp
    submitted_at: Timestamp | None


class BatchOut(BatchSummaryOut):
    assay: AssayOut
    inputs: list[InputOut]
    computed: ComputedOut | None
    documents: list[DocumentOut]
    checks: list[CheckOut]
    check_run: CheckRunOut | None
    decisions: list[DecisionOut]


class SubmitOut(Out):
    status: Literal["checking"]


class CertificateCompany(Out):
    name: str
    business_registration_no: str


class CertificateFacility(Out):
    name: str
    permit_no: str
    process: str


class CertificateDocumentRef(Out):
    kind: str
    sha256: str


class SignedCertificate(Out):
    number: str
    batch_number: str
    company: CertificateCompany
    facility: CertificateFacility
    material_code: str
    grade: Literal[GRADES]
    quantity_kg: Number
    production_start: Date
    production_end: Date
    recycled_content_pct: Number
    post_consumer_pct: Number
    pre_consumer_pct: Number
    chain_of_custody: Literal["mass_balance"]
    ruleset_version: int
    documents: list[CertificateDocumentRef]
    approved_by: list[int]
    issued_at: Timestamp


class CertificateDocument(Out):
    certificate: SignedCertificate
    status: Literal[CERTIFICATE_STATUSES]
    key_id: str
    signature: str = Field(description="base64 Ed25519 signature of the canonical JSON of `certificate`")
    verification_code: str = Field(description="first 12 hex characters of SHA-256 of the raw signature")


class PublicCertificate(Out):
    number: str
    status: Literal[CERTIFICATE_STATUSES]
    material_code: str
    grade: Literal[GRADES]
    quantity_kg: Number
    company_name: str
    facility_name: str
    production_start: Date
    production_end: Date
    recycled_content_pct: Number
    post_consumer_pct: Number
    pre_consumer_pct: Number
    issued_at: Timestamp
    status_changed_at: Timestamp


class VerifyResult(Out):
    valid_signature: bool
    status: Literal[CERTIFICATE_STATUSES] | None
    number: str | None
    key_id: str | None
    reason: str | None


class AuditEventOut(Out):
    seq: int
    at: Timestamp
    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


class ChainVerificationOut(Out):
    ok: bool
    events: int
    first_bad_seq: int | None


class PublishedKey(Out):
    key_id: str
    alg: Literal["Ed25519"]
    public_key: str
    status: str | None = None


class PublishedKeys(Out):
    keys: list[PublishedKey]


class Health(Out):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "down"]
    broker: Literal["ok", "down"]


@functools.cache
def page_of(item: type[BaseModel]) -> type[BaseModel]:
    """The list envelope of api.md around one item type."""
    return type(f"{item.__name__}Page", (Out,), {"__annotations__": {"items": list[item], "next_cursor": str | None}})
