"""Appending to and verifying the hash-chained audit trail (api.md, Audit trail)."""
from dataclasses import dataclass

from sqlalchemy import insert, literal_column, select, text
from sqlalchemy.orm import make_transient_to_detached

from certify.domain.canonical import canonical_json, plain_json, sha256_hex
from certify.extensions import db
from certify.models import AuditEvent
from certify.models.audit import GENESIS_HASH
from certify.timeutil import isoformat_z, utcnow

# Any constant works: it names the one advisory lock that serialises appends on PostgreSQL.
AUDIT_CHAIN_LOCK = 0x63657274

_audit_events = AuditEvent.__table__
_EVENT_COLUMNS = ("seq", "at", "actor_id", "action", "object_type", "object_id", "data", "prev_hash", "hash")
_LOCK_CHAIN = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=AUDIT_CHAIN_LOCK)
# LIMIT 1 written into the statement: given as a parameter, PostgreSQL plans the prepared statement anew at every
# append (the generic plan's estimate cannot know the limit), while the chain is locked.
_LAST_EVENT = (select(_audit_events.c.seq, _audit_events.c.hash).order_by(_audit_events.c.seq.desc())
               .limit(literal_column("1")))
_INSERT_EVENT = insert(_audit_events)


def event_payload(event: AuditEvent) -> dict:
    """The event as hashed and as served, without its own hash."""
    return {"seq": event.seq, "at": isoformat_z(event.at), "actor_id": event.actor_id, "action": event.action,
            "object_type": event.object_type, "object_id": event.object_id, "data": event.data,
            "prev_hash": event.prev_hash}


def event_hash(payload: dict) -> str:
    return sha256_hex(payload["prev_hash"].encode("ascii") + canonical_json(payload))


def record(actor_id: int | None, action: str, object_type: str, object_id, data: dict | None = None) -> AuditEvent:
    """Appends one event in the caller's transaction. Appends are serialised so the chain never forks.

    The chain stays locked from the append until the caller's commit, and every other appender waits that long:
    make it the last statement before the commit. Here, only the chain's own three statements run under the lock.
    """
    session = db.session
    data = plain_json(data or {})
    session.flush()  # the caller's pending changes go out before the chain is locked, not while it is
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_CHAIN)
    last = session.execute(_LAST_EVENT).first()
    event = AuditEvent(seq=(last.seq + 1) if last else 1, at=utcnow().replace(microsecond=0), actor_id=actor_id,
                       action=action, object_type=object_type, object_id=str(object_id),
                       data=data, prev_hash=last.hash if last else GENESIS_HASH)
    event.hash = event_hash(event_payload(event))
    # Written as one plain INSERT (an ORM flush costs more than the statement), then handed to the session as
    # the persistent row it now is.
    session.execute(_INSERT_EVENT, {column: getattr(event, column) for column in _EVENT_COLUMNS})
    make_transient_to_detached(event)
    session.add(event)
    return event


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    events: int
    first_bad_seq: int | None

    def as_json(self) -> dict:
        return {"ok": self.ok, "events": self.events, "first_bad_seq": self.first_bad_seq}


def verify_chain(batch_size: int = 1000) -> ChainVerification:
    """Recomputes the chain in seq order; an edited, inserted, deleted or reordered row breaks it there."""
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    last_seq = 0
    while True:
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.seq > last_seq)
                                  .order_by(AuditEvent.seq).limit(batch_size)).all()
        if not rows:
            return ChainVerification(True, count, None)
        for event in rows:
            payload = event_payload(event)
            if (event.seq != expected_seq or event.prev_hash != expected_prev
                    or event_hash(payload) != event.hash):
                return ChainVerification(False, count, event.seq)
            expected_prev, expected_seq, count = event.hash, event.seq + 1, count + 1
            last_seq = event.seq
        db.session.expire_all()
