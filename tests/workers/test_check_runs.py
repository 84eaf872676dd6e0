"""The check run end to end: the web commits and enqueues, a real worker on Redis runs the checks, rows change."""
import time

from certify.domain.checks import CHECK_CODES
from certify.extensions import db
from certify.models import Allocation, CheckResult, CheckRun
from certify.services import checks
from tests.helpers import Applicant


def wait_for_status(applicant, batch_id, statuses=("awaiting_review", "checks_failed"), timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = applicant.get(f"/api/v1/batches/{batch_id}").get_json()
        if batch["status"] in statuses:
            return batch
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} still {batch['status']} after {timeout} s")


def test_submitted_batch_is_checked_by_the_worker(client, ctx, worker):
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
    checked = wait_for_status(applicant, batch["id"])
    outcomes = {check["code"]: check["outcome"] for check in checked["checks"]}
    assert list(outcomes) == list(CHECK_CODES)
    assert checked["status"] == "awaiting_review", outcomes
    assert outcomes["LAB_ACCREDITED"] == "warn"  # no accredited labs are listed in this test
    assert checked["approvals_required"] == 2
    assert checked["computed"] == {"output_element_kg": 2217.369, "input_element_kg": 2365,
                                   "recovery_pct": 93.7577, "recycled_content_pct": 100,
                                   "post_consumer_pct": 100, "pre_consumer_pct": 0}
    assert checked["check_run"]["ruleset_version"] == 1 and checked["check_run"]["finished_at"]
    lot = applicant.get(f"/api/v1/feedstock-lots/{batch['inputs'][0]['lot_id']}").get_json()
    assert lot["allocated_kg"] == 11000 and lot["remaining_kg"] == 1000


def test_a_failing_batch_releases_its_reservation(client, ctx, worker):
    applicant = Applicant(client)
    batch = applicant.ready_batch(claim={"recycled_content_pct": 100}, quantity_kg=12000,
                                  assay={"purity_pct": 97.0, "impurities_ppm": {"Fe": 40}, "lab_name": "KTR",
                                         "lab_accreditation_no": "KOLAS-T-0417", "report_no": "R-26-1187"})
    applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    checked = wait_for_status(applicant, batch["id"])
    outcomes = {check["code"]: check["outcome"] for check in checked["checks"]}
    assert checked["status"] == "checks_failed"
    assert outcomes["PURITY"] == "fail" and outcomes["IMPURITIES"] == "fail"
    failed = next(check for check in checked["checks"] if check["code"] == "PURITY")
    assert failed["fix"] and "97" in failed["message"]
    db.session.expire_all()
    assert db.session.scalars(db.select(Allocation.reserved)).all() == [False]
    resubmit = applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    assert resubmit.status_code == 202


def test_a_run_delivered_twice_is_recorded_once(app, client, ctx, monkeypatch):
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    # Deliver by hand, twice, instead of through the broker (a session worker may be running).
    monkeypatch.setattr("certify.services.batches.enqueue_check_run", lambda run_id: False)
    applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    run_id = db.session.scalar(db.select(CheckRun.id))
    with app.app_context():
        first = checks.execute_run(run_id)
        db.session.remove()
    with app.app_context():
        second = checks.execute_run(run_id)
        db.session.remove()
    assert first == "awaiting_review" and second == "not queued"
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(CheckResult.id))) == len(CHECK_CODES)
    assert applicant.get(f"/api/v1/batches/{batch['id']}").get_json()["version"] == 6
