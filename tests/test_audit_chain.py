"""The audit trail's hash chain: concurrent writers never fork it, and any edit, insert or delete is found."""
import threading

import pytest
import sqlalchemy as sa

from certify.extensions import db
from certify.models import AuditEvent
from certify.models.audit import GENESIS_HASH
from certify.services import audit
from certify.services.audit import event_hash, event_payload, verify_chain
from tests.helpers import tamper_with_audit_trail


def test_the_first_event_chains_from_64_zeros_and_hashes_as_api_md_says(ctx):
    event = audit.record(None, "test.event", "batch", 1, {"mass_kg": 10000})
    db.session.commit()
    assert event.seq == 1 and event.prev_hash == GENESIS_HASH
    payload = event_payload(event)
    assert set(payload) == {"seq", "at", "actor_id", "action", "object_type", "object_id", "data", "prev_hash"}
    assert event.hash == event_hash(payload) and len(event.hash) == 64


def test_concurrent_appends_never_fork_the_chain(app, ctx):
    writers, per_writer = 8, 15
    barrier = threading.Barrier(writers)

    def write(number):
        with app.app_context():
            barrier.wait()
            for index in range(per_writer):
                audit.record(None, "test.concurrent", "writer", number, {"index": index})
                db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.session.expire_all()
    events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == list(range(1, writers * per_writer + 1))
    assert len({e.prev_hash for e in events}) == len(events)  # no two events share a predecessor: no fork
    assert verify_chain().as_json() == {"ok": True, "events": writers * per_writer, "first_bad_seq": None}


def make_chain(length=5):
    for index in range(length):
        audit.record(None, "test.event", "batch", 1, {"index": index})
    db.session.commit()


def test_an_edited_row_is_found(ctx):
    make_chain()
    tamper_with_audit_trail("UPDATE audit_events SET actor_id = NULL, action = 'forged' WHERE seq = 3")
    assert verify_chain().as_json() == {"ok": False, "events": 2, "first_bad_seq": 3}


def test_a_deleted_row_is_found(ctx):
    make_chain()
    tamper_with_audit_trail("DELETE FROM audit_events WHERE seq = 2")
    assert verify_chain().first_bad_seq == 3


def test_a_rewritten_hash_is_found_at_the_next_row(ctx):
    make_chain()
    tamper_with_audit_trail("UPDATE audit_events SET data = '{\"index\": 99}' WHERE seq = 4")
    forged = db.session.get(AuditEvent, 4)
    db.session.refresh(forged)
    tamper_with_audit_trail("UPDATE audit_events SET hash = :h WHERE seq = 4", {"h": event_hash(event_payload(forged))})
    assert verify_chain().first_bad_seq == 5


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'forged' WHERE seq = 1",
                                       "DELETE FROM audit_events WHERE seq = 1"])
def test_the_database_refuses_to_edit_or_delete_an_event(ctx, statement):
    make_chain(1)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(db.text(statement))
    db.session.rollback()
    assert verify_chain().ok
