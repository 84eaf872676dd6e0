"""What a check run reads besides the batch itself, each in the statement it shares with others: other batches
holding the same files, other companies' lots with the same transfer document, other batches' reservations on the
lots, the accredited labs and the current ruleset version; and what it writes. The runs execute in this process,
on the real PostgreSQL, so that each test sees exactly one run."""
from decimal import Decimal

import pytest

from certify.extensions import db
from certify.models import Allocation, AuditEvent, Batch, CheckRun, Material
from certify.services import admin, checks, rulesets
from certify.services.audit import verify_chain
from tests.helpers import Applicant, distinct_ready_batch


@pytest.fixture(autouse=True)
def runs_stay_queued(monkeypatch):
    """Submitting queues the run without publishing it: the test executes it."""
    monkeypatch.setattr("certify.services.batches.enqueue_check_run", lambda run_id: False)


def submit(applicant, batch) -> int:
    assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
    run_id = db.session.scalar(db.select(CheckRun.id).where(CheckRun.batch_id == batch["id"],
                                                            CheckRun.state == "queued"))
    db.session.rollback()
    return run_id


def execute(app, run_id) -> str:
    with app.app_context():
        try:
            return checks.execute_run(run_id)
        finally:
            db.session.remove()


def checked(app, applicant, batch) -> dict:
    """Submits the batch, runs its checks here and returns the batch as the API shows it afterwards."""
    execute(app, submit(applicant, batch))
    return applicant.get(f"/api/v1/batches/{batch['id']}").get_json()


def result(batch: dict, code: str) -> dict:
    return next(check for check in batch["checks"] if check["code"] == code)


def other_company(client) -> Applicant:
    return Applicant(client, name="Saehan Metals", registration_no="124-81-00002")


def test_a_batch_without_documents_is_checked_as_having_none(app, client, ctx):
    applicant = Applicant(client)
    batch = checked(app, applicant, applicant.batch())
    assert batch["status"] == "checks_failed"
    assert result(batch, "DOC_REQUIRED")["outcome"] == "fail"
    assert result(batch, "DOC_FORMAT")["message"] == "No files are attached, so there is nothing to inspect."
    assert result(batch, "DOC_DUPLICATE")["outcome"] == "pass"


def test_files_attached_to_other_batches_of_the_company_name_those_batches(app, client, ctx):
    applicant = Applicant(client)
    first, second = applicant.ready_batch(), applicant.ready_batch()  # the same three files each
    third = checked(app, applicant, applicant.ready_batch())
    duplicate = result(third, "DOC_DUPLICATE")
    assert duplicate["outcome"] == "warn"
    assert duplicate["details"]["same_company_files"] == [
        {"filename": filename, "batch_numbers": sorted([first["number"], second["number"]])}
        for filename in ("assay.pdf", "ticket.png", "production.csv")]
    assert duplicate["details"]["other_company_files"] == []


def test_a_file_attached_to_another_companys_batch_fails_without_naming_that_batch(app, client, ctx):
    theirs = other_company(client).ready_batch()
    applicant = Applicant(client)
    mine = checked(app, applicant, applicant.ready_batch())  # the same files as theirs
    duplicate = result(mine, "DOC_DUPLICATE")
    assert duplicate["outcome"] == "fail"
    assert duplicate["details"]["other_company_files"] == ["assay.pdf", "ticket.png", "production.csv"]
    assert theirs["number"] not in duplicate["message"] + str(duplicate["details"])


def test_unique_files_pass_doc_duplicate(app, client, ctx):
    applicant = Applicant(client)
    distinct_ready_batch(applicant)
    batch = checked(app, applicant, distinct_ready_batch(applicant))
    assert result(batch, "DOC_DUPLICATE")["outcome"] == "pass"


def test_only_lots_whose_transfer_document_another_company_registered_conflict(app, client, ctx):
    other = other_company(client)
    other.lot(lot_no="SH-1", transfer_doc_no="AB-SHARED")
    other.lot(lot_no="SH-2", transfer_doc_no="AB-SHARED")  # two of theirs: still one conflict of ours
    applicant = Applicant(client)
    applicant.lot(lot_no="HB-0", transfer_doc_no="AB-OWN")  # the company's own reuse is not this check's business
    shared = applicant.lot(lot_no="HB-1", transfer_doc_no="AB-SHARED", mass_kg=6000)
    own = applicant.lot(lot_no="HB-2", transfer_doc_no="AB-OWN", mass_kg=6000)
    batch = checked(app, applicant, applicant.ready_batch(
        lot_id=own["id"], inputs=[{"lot_id": own["id"], "mass_kg": 5500}, {"lot_id": shared["id"], "mass_kg": 5500}]))
    transfer = result(batch, "TRANSFER_DOC_UNIQUE")
    assert transfer["outcome"] == "fail"
    assert transfer["details"]["lots"] == [{"lot_no": "HB-1", "transfer_doc_no": "AB-SHARED"}]
    assert "SH-" not in transfer["message"]


def test_lots_without_a_transfer_document_never_conflict(app, client, ctx):
    other_company(client).lot(lot_no="SH-1", transfer_doc_no=None)
    applicant = Applicant(client)
    lot = applicant.lot(lot_no="HB-1", transfer_doc_no=None)
    batch = checked(app, applicant, applicant.ready_batch(lot_id=lot["id"]))
    assert result(batch, "TRANSFER_DOC_UNIQUE")["outcome"] == "pass"


def test_mass_reserved_by_another_batch_counts_and_inputs_keep_their_order(app, client, ctx):
    applicant = Applicant(client)
    earlier_lot, later_lot = applicant.lot(mass_kg=12000), applicant.lot(mass_kg=12000)
    first = distinct_ready_batch(applicant, inputs=[{"lot_id": earlier_lot["id"], "mass_kg": 8000}],
                                 quantity_kg=7000)
    assert checked(app, applicant, first)["status"] == "awaiting_review"
    # Listed later lot first: the results follow the batch's order of inputs, not the lots' ids.
    second = checked(app, applicant, distinct_ready_batch(applicant, quantity_kg=14000, inputs=[
        {"lot_id": later_lot["id"], "mass_kg": 8000}, {"lot_id": earlier_lot["id"], "mass_kg": 8000}]))
    allocation = result(second, "LOT_ALLOCATION")
    assert second["status"] == "checks_failed" and allocation["outcome"] == "fail"
    assert [(lot["lot_no"], lot["reserved_by_others_kg"], lot["excess_kg"]) for lot in allocation["details"]["lots"]] \
        == [(later_lot["lot_no"], 0, 0), (earlier_lot["lot_no"], 8000, 4000)]
    db.session.expire_all()
    reserved = dict(db.session.execute(db.select(Allocation.batch_id, db.func.bool_or(Allocation.reserved))
                                       .group_by(Allocation.batch_id)).all())
    assert reserved == {first["id"]: True, second["id"]: False}


def test_a_listed_laboratory_is_accredited(app, client, ctx):
    admin.create_lab(None, "KOLAS-T-0417", "KTR Pohang")
    applicant = Applicant(client)
    batch = checked(app, applicant, distinct_ready_batch(applicant))
    assert result(batch, "LAB_ACCREDITED")["outcome"] == "pass"
    assert batch["status"] == "awaiting_review" and batch["approvals_required"] == 1


def test_a_new_ruleset_version_applies_to_the_next_run_in_the_same_process(app, client, ctx):
    applicant = Applicant(client)
    before = checked(app, applicant, distinct_ready_batch(applicant))
    assert before["check_run"]["ruleset_version"] == 1 and result(before, "PURITY")["outcome"] == "pass"
    rulesets.change_thresholds(db.session.get(Material, "NISO4"), {"min_purity_pct": Decimal("99.5")}, None)
    after = checked(app, applicant, distinct_ready_batch(applicant))
    assert after["check_run"]["ruleset_version"] == 2 and result(after, "PURITY")["outcome"] == "fail"


def test_the_finished_run_is_the_last_event_of_an_intact_chain(app, client, ctx):
    applicant = Applicant(client)
    batch = distinct_ready_batch(applicant)
    run_id = submit(applicant, batch)
    assert execute(app, run_id) == "awaiting_review"
    last = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    shown = applicant.get(f"/api/v1/batches/{batch['id']}").get_json()
    assert (last.action, last.object_id) == ("check_run.finished", str(batch["id"]))
    assert last.data["check_run_id"] == run_id and last.data["status"] == "awaiting_review"
    assert last.data["outcomes"] == {check["code"]: check["outcome"] for check in shown["checks"]}
    assert last.data["computed"] == shown["computed"]
    assert verify_chain().ok


def test_a_run_whose_batch_left_checking_is_abandoned_without_results(app, client, ctx):
    applicant = Applicant(client)
    batch = distinct_ready_batch(applicant)
    run_id = submit(applicant, batch)
    db.session.get(Batch, batch["id"]).status = "changes_requested"  # as if the run came too late
    db.session.commit()
    assert execute(app, run_id) == "batch no longer checking"
    db.session.expire_all()
    run = db.session.get(CheckRun, run_id)
    assert run.state == "abandoned" and run.finished_at is not None and run.results == []


def test_a_run_past_its_attempts_ends_the_checking(app, client, ctx):
    applicant = Applicant(client)
    batch = distinct_ready_batch(applicant)
    run_id = submit(applicant, batch)
    db.session.get(CheckRun, run_id).attempts = app.config["CHECK_RUN_MAX_ATTEMPTS"]
    db.session.commit()
    assert execute(app, run_id) == "abandoned"
    shown = applicant.get(f"/api/v1/batches/{batch['id']}").get_json()
    assert shown["status"] == "checks_failed" and shown["check_run"]["state"] == "abandoned"
    assert execute(app, run_id) == "not queued"
