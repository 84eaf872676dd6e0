"""Appending to and verifying the hash-chained audit trail (api.md, Audit trail)."""
from dataclasses import dataclass

from sqlalchemy import String, bindparam, insert, literal_column, select, text
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
# Taken by every append on PostgreSQL, and held until the appender commits.
LOCK_CHAIN = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=AUDIT_CHAIN_LOCK)
# LIMIT 1 written into the statement: given as a parameter, PostgreSQL plans the prepared statement anew at every
# append (the generic plan's estimate cannot know the limit), while the chain is locked.
_LAST_EVENT = (select(_audit_events.c.seq, _audit_events.c.hash).order_by(_audit_events.c.seq.desc())
               .limit(literal_column("1")))
_INSERT_EVENT = insert(_audit_events)
# PostgreSQL, for a caller that sends its statements together (the check run's pipeline): _LAST_EVENT and
# _INSERT_EVENT as one statement, the hash computed by the database from the two members known only under the lock
# (prev_hash and seq, the last two of the canonical JSON, which sorts its keys) and the rest of the payload's
# canonical JSON (appended_event_parameters). Sent after LOCK_CHAIN as a statement of its own (so that it reads the
# chain as the lock left it) and before the commit, it keeps the chain locked for no round trip at all.
APPEND_EVENT_ON_POSTGRESQL = text("""
WITH last_event AS (SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1),
     next_event AS (SELECT coalesce((SELECT seq FROM last_event), 0) + 1 AS seq,
                           coalesce((SELECT hash FROM last_event), :genesis_hash) AS prev_hash)
INSERT INTO audit_events (seq, at, actor_id, action, object_type, object_id, data, prev_hash, hash)
SELECT seq, :at, :actor_id, :action, :object_type, :object_id, :data, prev_hash,
       encode(sha256(convert_to(prev_hash || :hashed_head || prev_hash || '","seq":' || seq || '}', 'UTF8')), 'hex')
FROM next_event
""").bindparams(*(bindparam(name, type_=_audit_events.c[name].type)
                  for name in ("at", "actor_id", "action", "object_type", "object_id", "data")),
                bindparam("hashed_head", type_=String), bindparam("genesis_hash", GENESIS_HASH, type_=String))
_HASHED_TAIL = '"prev_hash":"","seq":0}'


def event_payload(event: AuditEvent) -> dict:
    """The event as hashed and as served, without its own hash."""
    return {"seq": event.seq, "at": isoformat_z(event.at), "actor_id": event.actor_id, "action": event.action,
            "object_type": event.object_type, "object_id": event.object_id, "data": event.data,
            "prev_hash": event.prev_hash}


def event_hash(payload: dict) -> str:
    return sha256_hex(payload["prev_hash"].encode("ascii") + canonical_json(payload))


def appended_event_parameters(actor_id: int | None, action: str, object_type: str, object_id,
                              data: dict | None = None) -> dict:
    """The parameters of APPEND_EVENT_ON_POSTGRESQL: the event's own columns, and the canonical JSON of its payload
    up to the value of prev_hash, which the database completes with prev_hash and seq before hashing."""
    values = {"at": utcnow().replace(microsecond=0), "actor_id": actor_id, "action": action,
              "object_type": object_type, "object_id": str(object_id), "data": plain_json(data or {})}
    encoded = canonical_json({**values, "at": isoformat_z(values["at"]), "prev_hash": "", "seq": 0}).decode("utf-8")
    if not encoded.endswith(_HASHED_TAIL):
        raise ValueError("prev_hash and seq are no longer the last members of the hashed payload")
    return {**values, "hashed_head": encoded[:-len(_HASHED_TAIL)] + '"prev_hash":"'}


def record(actor_id: int | None, action: str, object_type: str, object_id, data: dict | None = None) -> AuditEvent:
    """Appends one event in the caller's transaction. Appends are serialised so the chain never forks.

    The chain stays locked from the append until the caller's commit, and every other appender waits that long:
    make it the last statement before the commit. Here, only the chain's own three statements run under the lock.
    """
    session = db.session
    data = plain_json(data or {})
    session.flush()  # the caller's pending changes go out before the chain is locked, not while it is
    if session.get_bind().dialect.name == "postgresql":
        session.execute(LOCK_CHAIN)
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
