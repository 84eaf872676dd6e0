"""A worker killed with SIGKILL while check runs are in flight: a new worker finishes every run, once."""
import signal
import time

from certify.domain.checks import CHECK_CODES
from certify.extensions import db
from certify.models import CheckResult, CheckRun
from tests.helpers import Applicant, lot_held


def test_runs_in_flight_when_the_worker_is_killed_all_finish_exactly_once(private_stack, ctx):
    app, start_worker = private_stack
    client = app.test_client()
    applicant = Applicant(client)
    lot = applicant.lot(mass_kg=100000)
    batches = [applicant.ready_batch(lot_id=lot["id"], mass_kg=11000, tag=str(n)) for n in range(3)]
    first = start_worker("doomed")
    with app.app_context(), lot_held(lot["lot_no"]):
        for batch in batches:
            assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
        # Wait until both pool processes have claimed a run and are blocked on the lot's row lock, inside
        # their transactions: each has counted its attempt already.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            db.session.expire_all()
            started = db.session.scalar(db.select(db.func.count(CheckRun.id)).where(CheckRun.attempts >= 1))
            db.session.rollback()
            if started >= 2:
                break
            time.sleep(0.2)
        assert started >= 2, first.tail()
        first.kill(signal.SIGKILL)
    start_worker("rescuer")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        statuses = [applicant.get(f"/api/v1/batches/{b['id']}").get_json()["status"] for b in batches]
        if "checking" not in statuses:
            break
        time.sleep(0.5)
    assert statuses == ["awaiting_review"] * 3
    db.session.expire_all()
    runs = db.session.scalars(db.select(CheckRun).order_by(CheckRun.id)).all()
    assert [run.state for run in runs] == ["done"] * 3
    assert any(run.attempts >= 2 for run in runs), "no run was in flight in the killed worker"
    assert db.session.scalar(db.select(db.func.count(CheckResult.id))) == 3 * len(CHECK_CODES)
