"""The audit trail (api.md, Audit trail): events by object and the chain's verification."""
from flask import jsonify
from sqlalchemy import select

from certify.api import api
from certify.api.openapi import operation
from certify.api.parsing import decode_cursor, encode_cursor, parse_query
from certify.api.responses import AuditEventOut, ChainVerificationOut, page_of
from certify.api.schemas import AuditQuery
from certify.extensions import db
from certify.models import AuditEvent
from certify.security import roles_required
from certify.services.audit import event_payload, verify_chain


def audit_event_json(event: AuditEvent) -> dict:
    return {**event_payload(event), "hash": event.hash}


@api.get("/audit-events")
@operation(query=AuditQuery, responses={200: page_of(AuditEventOut)})
@roles_required("auditor", "admin")
def list_audit_events():
    """Events: oldest first when filtered by object, newest first otherwise; keyset cursors on seq."""
    query = parse_query(AuditQuery)
    statement = select(AuditEvent)
    by_object = query.object_type is not None or query.object_id is not None
    if query.object_type is not None:
        statement = statement.where(AuditEvent.object_type == query.object_type)
    if query.object_id is not None:
        statement = statement.where(AuditEvent.object_id == query.object_id)
    position = decode_cursor(query.cursor)
    if position is not None:
        statement = statement.where(AuditEvent.seq > position if by_object else AuditEvent.seq < position)
    order = AuditEvent.seq.asc() if by_object else AuditEvent.seq.desc()
    events = db.session.scalars(statement.order_by(order).limit(query.limit + 1)).all()
    next_cursor = encode_cursor(events[query.limit - 1].seq) if len(events) > query.limit else None
    return jsonify({"items": [audit_event_json(e) for e in events[:query.limit]], "next_cursor": next_cursor})


@api.get("/audit-events/verify")
@operation(responses={200: ChainVerificationOut})
@roles_required("auditor", "admin")
def verify_audit_chain():
    """Recomputes the whole chain: any edited, inserted or deleted row is found."""
    return jsonify(verify_chain().as_json())
