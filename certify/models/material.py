"""The material catalogue, its versioned thresholds (rulesets) and the accredited labs."""
import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from certify.extensions import db
from certify.models.types import DecimalMap, Percent, UtcDateTime
from certify.timeutil import utcnow


class Material(db.Model):
    __tablename__ = "materials"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    element: Mapped[str] = mapped_column(String(3))
    element_fraction_pct: Mapped[Decimal] = mapped_column(Percent)


class MaterialRules(db.Model):
    """One version of one material's thresholds. Rows are never updated: a change adds a version."""

    __tablename__ = "material_rules"
    __table_args__ = (UniqueConstraint("material_code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    material_code: Mapped[str] = mapped_column(ForeignKey("materials.code"))
    version: Mapped[int]
    min_purity_pct: Mapped[Decimal] = mapped_column(Percent)
    max_impurities_ppm: Mapped[dict] = mapped_column(DecimalMap)
    max_recovery_pct: Mapped[Decimal] = mapped_column(Percent)
    typical_max_recovery_pct: Mapped[Decimal] = mapped_column(Percent)
    min_recovery_pct: Mapped[Decimal] = mapped_column(Percent)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Lab(db.Model):
    """A laboratory accredited to ISO/IEC 17025 (e.g. KOLAS), kept by admins."""

    __tablename__ = "labs"

    id: Mapped[int] = mapped_column(primary_key=True)
    accreditation_no: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
