"""Batches: production runs to certify, with their inputs (allocations), documents and decisions."""
import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.domain.facts import DOCUMENT_KINDS, GRADES
from certify.domain.workflow import BATCH_STATUSES
from certify.extensions import db
from certify.models.company import Company, Facility
from certify.models.lot import FeedstockLot
from certify.models.types import DecimalMap, Mass, Percent, UtcDateTime, one_of
from certify.timeutil import utcnow

DECISIONS = ("approve", "reject", "request_changes")


class Batch(db.Model):
    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("quantity_kg > 0", name="quantity_positive"),
        CheckConstraint("production_end >= production_start", name="period_ordered"),
        CheckConstraint(one_of("status", BATCH_STATUSES), name="status_known"),
        CheckConstraint(one_of("grade", GRADES), name="grade_known"),
        Index("ix_batches_company_id_id", "company_id", "id"),
        Index("ix_batches_status_id", "status", "id"),
        # The review queue: one status, oldest submitted first, and the companies with something in it.
        Index("ix_batches_status_submitted_at_id", "status", "submitted_at", "id"),
        Index("ix_batches_status_company_id", "status", "company_id"),
        Index("ix_batches_material_code_id", "material_code", "id"),
        Index("ix_batches_created_at", "created_at"),
        # The audit search's number prefix (LIKE 'KR-…%'): a plain index serves LIKE only under the C collation.
        Index("ix_batches_number_prefix", "number", postgresql_ops={"number": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    material_code: Mapped[str] = mapped_column(ForeignKey("materials.code"))
    grade: Mapped[str] = mapped_column(String(20), default="battery")
    quantity_kg: Mapped[Decimal] = mapped_column(Mass)
    production_start: Mapped[dt.date]
    production_end: Mapped[dt.date]
    purity_pct: Mapped[Decimal] = mapped_column(Percent)
    impurities_ppm: Mapped[dict] = mapped_column(DecimalMap)
    lab_name: Mapped[str] = mapped_column(String(200))
    lab_accreditation_no: Mapped[str] = mapped_column(String(60))
    report_no: Mapped[str] = mapped_column(String(60))
    claimed_recycled_content_pct: Mapped[Decimal] = mapped_column(Percent)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # Grows by one with every change; decisions name the version they saw (optimistic concurrency).
    version: Mapped[int] = mapped_column(default=1)
    approvals_required: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    company: Mapped[Company] = relationship()
    facility: Mapped[Facility] = relationship()
    allocations: Mapped[list["Allocation"]] = relationship(
        back_populates="batch", order_by="Allocation.position", cascade="all, delete-orphan")
    documents: Mapped[list["Document"]] = relationship(
        back_populates="batch", order_by="Document.id", cascade="all, delete-orphan")
    decisions: Mapped[list["Decision"]] = relationship(back_populates="batch", order_by="Decision.id")


class Allocation(db.Model):
    """Mass taken from one feedstock lot by one batch; `reserved` while LOT_ALLOCATION holds it."""

    __tablename__ = "allocations"
    __table_args__ = (
        UniqueConstraint("batch_id", "lot_id"),
        CheckConstraint("mass_kg > 0", name="mass_positive"),
        Index("ix_allocations_lot_id_reserved", "lot_id", "reserved"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("feedstock_lots.id"))
    mass_kg: Mapped[Decimal] = mapped_column(Mass)
    position: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[bool] = mapped_column(default=False)

    batch: Mapped[Batch] = relationship(back_populates="allocations")
    lot: Mapped[FeedstockLot] = relationship()


class Document(db.Model):
    """An evidence file: stored once under its SHA-256; the client's filename is only a label."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(one_of("kind", DOCUMENT_KINDS), name="kind_known"),
        Index("ix_documents_batch_id_id", "batch_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    batch: Mapped[Batch] = relationship(back_populates="documents")


class Decision(db.Model):
    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(one_of("decision", DECISIONS), name="decision_known"),
        Index("ix_decisions_batch_id_id", "batch_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    # Decisions count towards the approvals of the check run they were made on.
    check_run_id: Mapped[int] = mapped_column(ForeignKey("check_runs.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    batch_version: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    batch: Mapped[Batch] = relationship(back_populates="decisions")


class IdempotencyKey(db.Model):
    """The stored answer to a POST carrying an Idempotency-Key, replayed on a repeat by the same user."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int]
    response_body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
