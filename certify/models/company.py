"""Companies and their facilities."""
import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.extensions import db
from certify.models.types import Mass, UtcDateTime, one_of
from certify.timeutil import utcnow

PROCESSES = ("hydrometallurgy", "pyrometallurgy", "direct_recycling", "mechanical")


class Company(db.Model):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    business_registration_no: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    facilities: Mapped[list["Facility"]] = relationship(back_populates="company", order_by="Facility.id")


class Facility(db.Model):
    __tablename__ = "facilities"
    __table_args__ = (
        CheckConstraint("annual_capacity_kg > 0", name="capacity_positive"),
        CheckConstraint(one_of("process", PROCESSES), name="process_known"),
        UniqueConstraint("company_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    permit_no: Mapped[str] = mapped_column(String(60))
    permit_valid_until: Mapped[dt.date]
    process: Mapped[str] = mapped_column(String(30))
    annual_capacity_kg: Mapped[Decimal] = mapped_column(Mass)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    company: Mapped[Company] = relationship(back_populates="facilities")
