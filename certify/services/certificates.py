"""Certificates: issued and signed in the approving transaction; suspended, reinstated or revoked with reasons."""
import datetime as dt
import hmac
from dataclasses import dataclass, fields

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, text

from certify.certificate_pdf import render_certificate_pdf
from certify.connections import outside_transaction
from certify.driver_statements import driver_statement
from certify.domain import workflow
from certify.domain.canonical import plain_json
from certify.errors import Conflict, ValidationFailed
from certify.extensions import db
from certify.i18n import status_label
from certify.models import Batch, Certificate, CheckRun, User
from certify.security_log import security_event
from certify.services import audit
from certify.signing import Keyring, verification_code
from certify.timeutil import isoformat_z, utcnow


def keyring() -> Keyring:
    """The service's signing keys, loaded once per process (the private key is created on first start)."""
    ring = current_app.extensions.get("keyring")
    if ring is None:
        ring = current_app.extensions["keyring"] = Keyring.load(
            current_app.config["SIGNING_KEY_FILE"], current_app.config["RETIRED_KEYS_FILE"])
    return ring


def next_serial() -> int:
    """A serial never handed out before: a PostgreSQL sequence (gaps allowed, reuse never)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.scalar(text("SELECT nextval('certificate_serial_seq')"))
    # SQLite (development) has one writer at a time, so the next number after the highest is safe.
    return (db.session.scalar(select(func.max(Certificate.serial))) or 0) + 1


def certificate_content(batch: Batch, run: CheckRun, number: str, approved_by: list[int], issued_at) -> dict:
    """The signed `certificate` member of api.md: fixed at issue, never changed by a status change."""
    computed = run.computed
    return plain_json({
        "number": number, "batch_number": batch.number,
        "company": {"name": batch.company.name, "business_registration_no": batch.company.business_registration_no},
        "facility": {"name": batch.facility.name, "permit_no": batch.facility.permit_no,
                     "process": batch.facility.process},
        "material_code": batch.material_code, "grade": batch.grade, "quantity_kg": batch.quantity_kg,
        "production_start": batch.production_start, "production_end": batch.production_end,
        "recycled_content_pct": computed["recycled_content_pct"], "post_consumer_pct": computed["post_consumer_pct"],
        "pre_consumer_pct": computed["pre_consumer_pct"], "chain_of_custody": "mass_balance",
        "ruleset_version": run.ruleset_version,
        "documents": [{"kind": document.kind, "sha256": document.sha256} for document in batch.documents],
        "approved_by": approved_by, "issued_at": isoformat_z(issued_at),
    })


def issue(batch: Batch, run: CheckRun, approved_by: list[int]) -> Certificate:
    """Signs and stores the batch's certificate in the caller's transaction (the approving one)."""
    issued_at = utcnow().replace(microsecond=0)
    serial = next_serial()
    number = f"KR-RM-{issued_at.year}-{serial:06d}"
    content = certificate_content(batch, run, number, approved_by, issued_at)
    key_id, signature = keyring().sign(content)
    certificate = Certificate(serial=serial, number=number, batch_id=batch.id, company_id=batch.company_id,
                              material_code=batch.material_code, content=content, key_id=key_id, signature=signature,
                              verification_code=verification_code(signature), status="valid", issued_at=issued_at,
                              status_changed_at=issued_at)
    db.session.add(certificate)
    db.session.flush()
    security_event("certificate_issue", "success", number=number, batch_id=batch.id, key_id=key_id)
    audit.record(approved_by[-1], "certificate.issued", "certificate", number,
                 {"batch_id": batch.id, "key_id": key_id, "verification_code": certificate.verification_code})
    return certificate


def change_status(actor: User, certificate: Certificate, event: str, reason: str) -> Certificate:
    """suspend / reinstate / revoke: valid ⇄ suspended, either → revoked (final); always with a reason."""
    if not reason or not reason.strip():
        raise ValidationFailed({"reason": [_("a reason is required")]})
    db.session.refresh(certificate, with_for_update=True)
    try:
        new_status = workflow.next_certificate_status(event, certificate.status)
    except workflow.TransitionRefused:
        raise Conflict(_("Certificate %(number)s is %(status)s: this change is not possible.",
                         number=certificate.number, status=status_label(certificate.status))) from None
    security_event(f"certificate_{event}", "success", number=certificate.number)
    previous = certificate.status
    certificate.status, certificate.status_reason, certificate.status_changed_at = new_status, reason, utcnow()
    audit.record(actor.id, f"certificate.{event}", "certificate", certificate.number,
                 {"from": previous, "to": new_status, "reason": reason})
    db.session.commit()
    return certificate


@dataclass(frozen=True)
class VerifiableCertificate:
    """What a public look-up reads of a certificate: its signed member, status and how it is verified."""
    number: str
    status: str
    content: dict
    key_id: str
    verification_code: str
    issued_at: dt.datetime
    status_changed_at: dt.datetime


# Built once with a bound parameter: a statement built per request costs more to match to its cached compiled
# form than the look-up itself.
PUBLIC_LOOKUP = (select(*(getattr(Certificate, field.name) for field in fields(VerifiableCertificate)))
                 .where(Certificate.number == bindparam("number")))
STATUS_LOOKUP = select(Certificate.status).where(Certificate.number == bindparam("number"))


def read_outside_transaction(statement, **parameters):
    """Runs one read on a connection of its own in autocommit: a single statement sees one consistent snapshot
    anyway, and skipping BEGIN and ROLLBACK halves the round trips of the public look-ups anyone may flood."""
    with outside_transaction() as connection:
        if connection.dialect.name == "postgresql":  # on psycopg itself: a third of a look-up's cost went to SQLAlchemy
            return driver_statement(statement, connection.dialect).first(connection, parameters)
        return connection.execute(statement, parameters).first()


def document_json(certificate: Certificate) -> dict:
    """The certificate document of api.md: the signed member plus status, key id, signature and code."""
    return {"certificate": certificate.content, "status": certificate.status, "key_id": certificate.key_id,
            "signature": certificate.signature, "verification_code": certificate.verification_code}


def public_json(certificate: VerifiableCertificate) -> dict:
    content = certificate.content
    return {"number": certificate.number, "status": certificate.status, "material_code": content["material_code"],
            "grade": content["grade"], "quantity_kg": content["quantity_kg"],
            "company_name": content["company"]["name"], "facility_name": content["facility"]["name"],
            "production_start": content["production_start"], "production_end": content["production_end"],
            "recycled_content_pct": content["recycled_content_pct"],
            "post_consumer_pct": content["post_consumer_pct"], "pre_consumer_pct": content["pre_consumer_pct"],
            "issued_at": content["issued_at"], "status_changed_at": isoformat_z(certificate.status_changed_at)}


def find_public(number: str, code: str | None) -> VerifiableCertificate | None:
    """The certificate for a public look-up, or None: an unknown number and a wrong code look alike."""
    if not code:
        return None
    row = read_outside_transaction(PUBLIC_LOOKUP, number=number)
    if row is None or not hmac.compare_digest(row.verification_code.encode(), code.strip().lower().encode("utf-8")):
        return None
    return VerifiableCertificate(*row)  # the look-up selects its fields in order


def public_status(number: str) -> str | None:
    """The current status of a certificate by number, for a document whose signature has been checked."""
    row = read_outside_transaction(STATUS_LOOKUP, number=number)
    return row.status if row else None


def verify_url(certificate: Certificate) -> str:
    return f"{current_app.config['PUBLIC_URL']}/verify/{certificate.number}?code={certificate.verification_code}"


def pdf_of(certificate: Certificate) -> bytes:
    """The certificate as its one-page PDF with the current status, recorded as a download."""
    record_download(certificate, "pdf")
    return render_certificate_pdf(document_json(certificate), certificate.status, verify_url(certificate))


def record_download(certificate: Certificate, form: str) -> None:
    """Certificate downloads are security events (who took which certificate, in which form)."""
    security_event("certificate_download", "success", number=certificate.number, form=form)
