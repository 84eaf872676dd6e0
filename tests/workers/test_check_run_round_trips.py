"""A check run on PostgreSQL sends its statements a few at a time (psycopg's pipeline mode): three round trips a run,
none of them through the session, and what it stores is what the statements sent one by one store. The audit
event it appends is hashed by the database, exactly as the chain's own hash says. Runs execute in this process."""
import pytest
import sqlalchemy as sa

from certify.extensions import db
from certify.models import AuditEvent, Batch, CheckResult, CheckRun
from certify.models.audit import GENESIS_HASH
from certify.services import audit, checks
from certify.services.audit import event_hash, event_payload, verify_chain
from tests.helpers import Applicant, distinct_ready_batch


@pytest.fixture(autouse=True)
def runs_stay_queued(monkeypatch):
    """Submitting queues the run without publishing it: the test executes it."""
    monkeypatch.setattr("certify.services.batches.enqueue_check_run", lambda run_id: False)


def submitted_run(applicant, batch) -> int:
    assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
    run_id = db.session.scalar(db.select(CheckRun.id).where(CheckRun.batch_id == batch["id"]))
    db.session.rollback()
    return run_id


def stored(run_id: int) -> dict:
    """What a run stored, without what differs between two runs of twin batches."""
    run = db.session.get(CheckRun, run_id)
    batch = db.session.get(Batch, run.batch_id)
    results = db.session.scalars(db.select(CheckResult).where(CheckResult.check_run_id == run_id)
                                 .order_by(CheckResult.position)).all()
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "check_run.finished",
                                                          AuditEvent.object_id == str(run.batch_id)))
    return {"state": run.state, "attempts": run.attempts, "ruleset_version": run.ruleset_version,
            "computed": run.computed, "batch_status": batch.status, "batch_version": batch.version,
            "approvals_required": batch.approvals_required,
            "reserved": [allocation.reserved for allocation in batch.allocations],
            "results": [(r.position, r.code, r.outcome, r.message_key, sorted(r.params), sorted(r.details))
                        for r in results],
            "event": {key: value for key, value in event.data.items() if key != "check_run_id"}}


def test_a_run_is_three_round_trips_and_no_statement_of_the_session(app, client, ctx, monkeypatch):
    applicant = Applicant(client)
    warm, batch = distinct_ready_batch(applicant), distinct_ready_batch(applicant)
    warm_run, run_id = submitted_run(applicant, warm), submitted_run(applicant, batch)
    with app.app_context():  # the first run of a process reads the ruleset, once
        assert checks.execute_run(warm_run) == "awaiting_review"
        db.session.remove()
    pipelines, session_statements = [], []
    send = checks._PipelinedStatements._send
    monkeypatch.setattr(checks._PipelinedStatements, "_send",
                        lambda self, *steps: pipelines.append(len(steps)) or send(self, *steps))

    def count(connection, cursor, statement, *args):
        session_statements.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert checks.execute_run(run_id) == "awaiting_review"
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
            db.session.remove()
    assert len(pipelines) == 3 and session_statements == []


def test_a_session_already_in_a_transaction_sends_the_statements_one_by_one_and_stores_the_same(app, client,
                                                                                                 ctx):
    applicant = Applicant(client)
    first, second = distinct_ready_batch(applicant), distinct_ready_batch(applicant)
    pipelined, one_by_one = submitted_run(applicant, first), submitted_run(applicant, second)
    with app.app_context():
        assert checks.execute_run(pipelined) == "awaiting_review"
        db.session.remove()
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))  # the caller's transaction: the run keeps to it
        assert isinstance(checks._statements(), checks._SessionStatements)
        assert checks.execute_run(one_by_one) == "awaiting_review"
        db.session.remove()
    assert stored(pipelined) == stored(one_by_one)
    assert stored(pipelined)["attempts"] == 1 and stored(pipelined)["state"] == "done"
    assert verify_chain().ok


def test_a_statement_failing_in_a_pipeline_raises_as_sqlalchemy_would_and_the_session_goes_on(app, ctx):
    with app.app_context():
        statements = checks._statements()
        assert isinstance(statements, checks._PipelinedStatements)
        with pytest.raises(sa.exc.DataError):
            statements._send(("BEGIN", None), ("SELECT 1 / 0", None))
        db.session.rollback()
        assert db.session.execute(sa.text("SELECT 2")).scalar() == 2
        db.session.remove()


def test_the_database_hashes_an_appended_event_as_the_chain_does(app, ctx):
    data = {"note": "재활용 니켈 — réception", "mass_kg": 10000, "lots": ["L-1", "L-2"]}
    for number in (1, 2):  # the first from the genesis hash, the second from the first
        with app.app_context():
            connection = db.session.connection()
            connection.execute(audit.LOCK_CHAIN)
            connection.execute(audit.APPEND_EVENT_ON_POSTGRESQL,
                               audit.appended_event_parameters(None, "test.appended", "batch", number, data))
            db.session.commit()
            db.session.remove()
    first, second = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert (first.seq, first.prev_hash, second.seq, second.prev_hash) == (1, GENESIS_HASH, 2, first.hash)
    assert first.data == data and first.object_id == "1" and first.actor_id is None
    assert [event.hash for event in (first, second)] == [event_hash(event_payload(e)) for e in (first, second)]
    assert verify_chain().ok


def test_appended_event_parameters_leave_prev_hash_and_seq_to_the_database():
    parameters = audit.appended_event_parameters(7, "test.appended", "batch", 3, {"b": 1, "a": "x"})
    assert parameters["hashed_head"].endswith('"object_type":"batch","prev_hash":"')
    assert parameters["hashed_head"].startswith('{"action":"test.appended","actor_id":7,"at":"')
    assert '"data":{"a":"x","b":1}' in parameters["hashed_head"]
