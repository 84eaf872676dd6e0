"""Races run fifty times over, because a race that is lost once in twenty runs is still a race: two reviewers
deciding one batch at once, and two batches checked at once on the mass of one lot."""
import threading

from certify.extensions import db
from certify.models import Allocation, CheckRun, Decision
from certify.services import checks
from tests.helpers import Applicant, distinct_ready_batch
from tests.workers.test_certification_path import reviewers
from tests.workers.test_check_runs import wait_for_status

TRIALS = 50


def at_once(*calls) -> list:
    """Runs the calls in threads released together by a barrier; returns their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_fifty_times_two_reviewers_deciding_one_batch_at_once_exactly_one_wins(app, client, ctx, worker):
    applicant = Applicant(client)
    submitted = []
    for _ in range(TRIALS):
        batch = distinct_ready_batch(applicant)
        assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
        submitted.append(batch["id"])
    batches = [wait_for_status(applicant, batch_id, timeout=120) for batch_id in submitted]
    assert {batch["status"] for batch in batches} == {"awaiting_review"}
    first, second = reviewers(client)
    # Every pairing of decisions, in turn: an approval racing a rejection must not leave both on record.
    pairings = [("approve", "reject"), ("reject", "request_changes"), ("request_changes", "approve")]

    def decision_by(headers, batch, decision):
        def call():
            response = app.test_client().post(f"/api/v1/batches/{batch['id']}/decision", headers=headers, json={
                "decision": decision, "comment": "race", "version": batch["version"]})
            return response.status_code, decision
        return call

    outcomes = []
    for trial, batch in enumerate(batches):
        mine, theirs = pairings[trial % len(pairings)]
        outcomes.append(at_once(decision_by(first, batch, mine), decision_by(second, batch, theirs)))
    assert [sorted(status for status, _ in pair) for pair in outcomes] == [[200, 409]] * TRIALS
    db.session.expire_all()
    for batch, pair in zip(batches, outcomes):
        [winner] = [decision for status, decision in pair if status == 200]
        recorded = db.session.scalars(db.select(Decision.decision).where(Decision.batch_id == batch["id"])).all()
        assert recorded == [winner], f"batch {batch['number']}: {recorded} on record, {winner} won"


def test_fifty_times_two_batches_checked_at_once_on_one_lots_mass_exactly_one_passes(app, client, ctx, monkeypatch):
    """Each trial: a 12 t lot, two batches drawing 8 t each, their runs started together in two transactions."""
    monkeypatch.setattr("certify.services.batches.enqueue_check_run", lambda run_id: False)
    applicant = Applicant(client)

    def check(run_id):
        def call():
            with app.app_context():
                try:
                    checks.execute_run(run_id)
                finally:
                    db.session.remove()
            with app.app_context():
                return db.session.scalar(db.select(Allocation.reserved).join(CheckRun, CheckRun.batch_id ==
                                                                             Allocation.batch_id)
                                         .where(CheckRun.id == run_id))
        return call

    for trial in range(TRIALS):
        lot = applicant.lot(lot_no=f"RACE-{trial:03d}")
        ids = [applicant.ready_batch(lot_id=lot["id"], mass_kg=8000, quantity_kg=7000, tag=f"race{trial}-{n}")["id"]
               for n in range(2)]
        for batch_id in ids:
            assert applicant.post(f"/api/v1/batches/{batch_id}/submit").status_code == 202
        runs = db.session.scalars(db.select(CheckRun.id).where(CheckRun.batch_id.in_(ids))).all()
        db.session.rollback()
        reserved = at_once(*(check(run_id) for run_id in runs))
        outcomes = sorted(c["outcome"] for batch_id in ids
                          for c in applicant.get(f"/api/v1/batches/{batch_id}").get_json()["checks"]
                          if c["code"] == "LOT_ALLOCATION")
        assert outcomes == ["fail", "pass"], f"trial {trial}: {outcomes}"
        assert sorted(reserved) == [False, True], f"trial {trial}: reservations {reserved}"
        assert applicant.get(f"/api/v1/feedstock-lots/{lot['id']}").get_json()["allocated_kg"] == 8000, \
            f"trial {trial}"
