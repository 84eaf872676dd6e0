"""Certificates: the signed record of an approved batch, and its public status."""
import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Sequence, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.domain.workflow import CERTIFICATE_STATUSES
from certify.extensions import db
from certify.models.batch import Batch
from certify.models.types import UtcDateTime, one_of
from certify.timeutil import utcnow

# Certificate serials come from this sequence on PostgreSQL: never reused, even after a rollback.
certificate_serial_seq = Sequence("certificate_serial_seq", metadata=db.metadata)


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        CheckConstraint(one_of("status", CERTIFICATE_STATUSES), name="status_known"),
        Index("ix_certificates_status_id", "status", "id"),
        Index("ix_certificates_issued_at", "issued_at"),
        # The audit search's number prefix (LIKE 'KR-RM-…%'): a plain index serves LIKE only under the C collation.
        Index("ix_certificates_number_prefix", "number", postgresql_ops={"number": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[int] = mapped_column(unique=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    # One certificate per batch, guarded by the database.
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    material_code: Mapped[str] = mapped_column(ForeignKey("materials.code"), index=True)
    content: Mapped[dict] = mapped_column(JSON)  # the signed `certificate` member, fixed at issue
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(200))
    verification_code: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(20), default="valid")
    status_reason: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    status_changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    batch: Mapped[Batch] = relationship()
