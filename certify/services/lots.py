"""Feedstock lots: registering receipts of input and knowing how much of each is still free."""
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from certify.errors import Conflict, ValidationFailed
from certify.extensions import db
from certify.models import Allocation, Facility, FeedstockLot, User
from certify.services import audit


def allocated_kg(lot_ids: list[int]) -> dict[int, Decimal]:
    """Mass reserved on each lot by batches (domain.md, LOT_ALLOCATION), in one query."""
    if not lot_ids:
        return {}
    rows = db.session.execute(select(Allocation.lot_id, func.sum(Allocation.mass_kg))
                              .where(Allocation.lot_id.in_(lot_ids), Allocation.reserved.is_(True))
                              .group_by(Allocation.lot_id)).all()
    reserved = {lot_id: Decimal(total) for lot_id, total in rows}
    return {lot_id: reserved.get(lot_id, Decimal(0)) for lot_id in lot_ids}


def create_lot(user: User, fields: dict) -> FeedstockLot:
    facility = db.session.get(Facility, fields["facility_id"])
    if facility is None or facility.company_id != user.company_id:
        raise ValidationFailed({"facility_id": [_("no such facility of your company")]})
    if db.session.scalar(select(FeedstockLot.id).where(FeedstockLot.company_id == user.company_id,
                                                       FeedstockLot.lot_no == fields["lot_no"])):
        raise Conflict(_("Your company already registered a lot numbered %(lot_no)s.", lot_no=fields["lot_no"]))
    lot = FeedstockLot(company_id=user.company_id, created_by=user.id, **fields)
    db.session.add(lot)
    db.session.flush()
    audit.record(user.id, "lot.created", "feedstock_lot", lot.id, fields)
    db.session.commit()
    return lot
