"""The evidence bundle of domain.md: manifest.json and the documents, every hash matching its file."""
import hashlib
import json
import tempfile
import zipfile

from sqlalchemy import or_, select

from certify.domain.canonical import plain_json
from certify.extensions import db
from certify.models import AuditEvent, Batch, Certificate
from certify.services.audit import event_payload
from certify.services.certificates import document_json
from certify.storage import CHUNK_SIZE, document_store


def audit_events_of(batch: Batch, certificate: Certificate | None) -> list[dict]:
    conditions = [(AuditEvent.object_type == "batch") & (AuditEvent.object_id == str(batch.id))]
    if certificate is not None:
        conditions.append((AuditEvent.object_type == "certificate") & (AuditEvent.object_id == certificate.number))
    events = db.session.scalars(select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.seq)).all()
    return [{**event_payload(event), "hash": event.hash} for event in events]


def build_bundle(batch: Batch, batch_json: dict) -> tempfile.SpooledTemporaryFile:
    """Writes bundle.zip to a spooled file (disk past 8 MB): documents are copied in chunks, never held whole."""
    certificate = db.session.scalar(select(Certificate).where(Certificate.batch_id == batch.id))
    store = document_store()
    output = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    files = []
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for document in batch.documents:
            path = f"documents/{document.id}-{document.filename}"
            digest = hashlib.sha256()
            with store.open(document.sha256) as source, bundle.open(path, "w", force_zip64=True) as target:
                while chunk := source.read(CHUNK_SIZE):
                    digest.update(chunk)
                    target.write(chunk)
            files.append({"path": path, "kind": document.kind, "filename": document.filename,
                          "size": document.size, "sha256": digest.hexdigest()})
        manifest = {"batch": batch_json, "certificate": document_json(certificate) if certificate else None,
                    "audit_events": audit_events_of(batch, certificate), "files": files}
        bundle.writestr("manifest.json", json.dumps(plain_json(manifest), ensure_ascii=False, indent=2))
    output.seek(0)
    return output
