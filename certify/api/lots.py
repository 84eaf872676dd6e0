"""Feedstock lot endpoints (api.md, Feedstock lots)."""
from flask import jsonify
from flask_login import current_user
from sqlalchemy import select

from certify.api import api
from certify.api.openapi import operation
from certify.api.parsing import keyset_page, parse_body, parse_query
from certify.api.responses import LotOut, page_of
from certify.api.schemas import LotCreate, LotListQuery
from certify.api.serializers import lot_json
from certify.models import FeedstockLot
from certify.security import READ_ALL_ROLES, get_lot_for, roles_required, scoped
from certify.services import lots


@api.post("/feedstock-lots")
@operation(body=LotCreate, responses={201: LotOut}, errors=(409,))
@roles_required("applicant")
def create_lot():
    """Registers one receipt of input material at one of the applicant's facilities."""
    body = parse_body(LotCreate)
    lot = lots.create_lot(current_user, body.model_dump())
    return jsonify(lot_json(lot, lots.allocated_kg([lot.id])[lot.id])), 201


@api.get("/feedstock-lots")
@operation(query=LotListQuery, responses={200: page_of(LotOut)})
@roles_required("applicant", *READ_ALL_ROLES)
def list_lots():
    """Lots, newest first, with what is allocated and what remains; an applicant sees its company's only."""
    query = parse_query(LotListQuery)
    statement = scoped(select(FeedstockLot), FeedstockLot, current_user)
    if query.facility_id is not None:
        statement = statement.where(FeedstockLot.facility_id == query.facility_id)
    if query.category is not None:
        statement = statement.where(FeedstockLot.category == query.category)
    items, next_cursor = keyset_page(statement, FeedstockLot.id, query.limit, query.cursor)
    allocated = lots.allocated_kg([lot.id for lot in items])
    return jsonify({"items": [lot_json(lot, allocated[lot.id]) for lot in items], "next_cursor": next_cursor})


@api.get("/feedstock-lots/<int:lot_id>")
@operation(responses={200: LotOut})
@roles_required("applicant", *READ_ALL_ROLES)
def get_lot(lot_id: int):
    """One lot."""
    lot = get_lot_for(current_user, lot_id)
    return jsonify(lot_json(lot, lots.allocated_kg([lot.id])[lot.id]))
