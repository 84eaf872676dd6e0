"""Feedstock lots: receipts of input material, the left side of the mass balance."""
import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.domain.facts import LOT_CATEGORIES
from certify.extensions import db
from certify.models.company import Facility
from certify.models.types import DecimalMap, Mass, UtcDateTime, one_of
from certify.timeutil import utcnow

LOT_FORMS = ("battery_pack", "module", "cell", "black_mass", "electrode_scrap", "other")
CHEMISTRIES = ("NMC", "NCA", "LFP", "LCO", "LMO", "mixed")


class FeedstockLot(db.Model):
    __tablename__ = "feedstock_lots"
    __table_args__ = (
        UniqueConstraint("company_id", "lot_no"),
        CheckConstraint("mass_kg > 0", name="mass_positive"),
        CheckConstraint(one_of("category", LOT_CATEGORIES), name="category_known"),
        CheckConstraint(one_of("form", LOT_FORMS), name="form_known"),
        Index("ix_feedstock_lots_company_id_id", "company_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    lot_no: Mapped[str] = mapped_column(String(60))
    supplier: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    form: Mapped[str] = mapped_column(String(20))
    chemistry: Mapped[str | None] = mapped_column(String(10))
    mass_kg: Mapped[Decimal] = mapped_column(Mass)
    received_on: Mapped[dt.date]
    transfer_doc_no: Mapped[str | None] = mapped_column(String(60), index=True)
    element_content_pct: Mapped[dict] = mapped_column(DecimalMap)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    facility: Mapped[Facility] = relationship()
