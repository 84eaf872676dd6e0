"""bench-seed: benchmark data the service takes for its own — every status, sound lot masses, certificates
that verify, lists that render for the bench accounts, an intact audit trail — written once only."""
import time
from collections import Counter
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from certify import create_app
from certify.domain import workflow
from certify.domain.checks import CHECK_CODES
from certify.extensions import db
from certify.models import (
    Allocation,
    AuditEvent,
    Batch,
    Certificate,
    CheckRun,
    Company,
    Decision,
    Document,
    FeedstockLot,
    User,
)
from certify.services import certificates
from certify.services.audit import verify_chain
from certify.services.bench_seed import (
    BENCH_ADMIN_EMAIL,
    BENCH_APPLICANT_EMAIL,
    BENCH_AUDITOR_EMAIL,
    BENCH_REVIEWER_EMAIL,
    CERTIFICATES_FILE,
    DEFAULT_PASSWORD,
    MIN_COMPANIES,
    seed_bench,
)
from certify.signing import verify_certificate_document
from certify.storage import document_store
from config import TestConfig
from tests.helpers import bearer, login, token_for

BATCHES = 300


@pytest.fixture()
def seeded(runner, ctx):
    """300 batches through the command itself; the output it printed."""
    result = runner.invoke(args=["bench-seed", "--batches", str(BATCHES)])
    assert result.exit_code == 0, result.output
    return result.output


def certificate_lines(app) -> list[list[str]]:
    path = Path(app.instance_path) / CERTIFICATES_FILE
    return [line.split("\t") for line in path.read_text().splitlines()]


def test_every_status_of_the_workflow_is_seeded_with_the_history_it_implies(seeded, ctx):
    # One snapshot: a worker left running by another test may take the seed's queued runs meanwhile.
    db.session.commit()
    db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    statuses = dict(db.session.execute(select(Batch.status, func.count()).group_by(Batch.status)).all())
    assert set(statuses) == set(workflow.BATCH_STATUSES)
    assert sum(statuses.values()) == BATCHES
    assert statuses[workflow.APPROVED] > BATCHES / 2  # mostly history
    assert db.session.scalar(select(func.count(Company.id))) >= MIN_COMPANIES

    latest_runs = {batch_id: run for batch_id, run in db.session.execute(
        select(CheckRun.batch_id, CheckRun).order_by(CheckRun.batch_id, CheckRun.id)).all()}
    outcomes = Counter()
    for batch in db.session.scalars(select(Batch)):
        run = latest_runs.get(batch.id)
        if batch.status == workflow.DRAFT:
            assert run is None and batch.submitted_at is None
            continue
        if batch.status == workflow.CHECKING:
            assert run.state == "queued" and not run.results
            continue
        assert run.state == "done" and [result.code for result in run.results] == list(CHECK_CODES)
        failed = any(result.outcome == "fail" for result in run.results)
        assert failed == (batch.status == workflow.CHECKS_FAILED), batch.number
        outcomes.update(result.outcome for result in run.results)
        kinds = {document.kind for document in batch.documents}
        if not failed:
            assert {"assay_report", "feedstock_evidence", "production_record"} <= kinds
            warned = any(result.outcome == "warn" for result in run.results)
            assert batch.approvals_required == (2 if warned or batch.quantity_kg >= 50000 else 1)
        approvals = [d for d in batch.decisions if d.check_run_id == run.id and d.decision == "approve"]
        certificate = db.session.scalar(select(Certificate).where(Certificate.batch_id == batch.id))
        if batch.status == workflow.APPROVED:
            assert len({d.reviewer_id for d in approvals}) == len(approvals) == batch.approvals_required
            assert certificate.content["approved_by"] == [d.reviewer_id for d in approvals]
        else:
            assert certificate is None
        if batch.status in (workflow.REJECTED, workflow.CHANGES_REQUESTED):
            decision = {"rejected": "reject", "changes_requested": "request_changes"}[batch.status]
            assert batch.decisions[-1].decision == decision
    assert outcomes["warn"] > 0 and outcomes["fail"] > 0
    assert db.session.scalar(select(func.count(Document.id))) > 3 * BATCHES


def test_allocations_never_exceed_the_mass_of_their_lots(seeded, ctx):
    allocated = db.session.execute(
        select(FeedstockLot.mass_kg, func.sum(Allocation.mass_kg))
        .join(Allocation, Allocation.lot_id == FeedstockLot.id).group_by(FeedstockLot.id)).all()
    assert allocated
    assert all(total <= mass for mass, total in allocated)
    reserving = db.session.execute(select(Batch.status, Allocation.reserved).join(Allocation)).all()
    assert all(reserved == (status in (workflow.AWAITING_REVIEW, workflow.APPROVED)) for status, reserved in reserving)
    own_lots = db.session.execute(
        select(Batch.company_id, FeedstockLot.company_id, Batch.facility_id, FeedstockLot.facility_id)
        .join(Allocation, Allocation.batch_id == Batch.id).join(FeedstockLot, FeedstockLot.id == Allocation.lot_id))
    assert all(batch_company == lot_company and batch_facility == lot_facility
               for batch_company, lot_company, batch_facility, lot_facility in own_lots)


def test_certificates_verify_with_the_published_keys_and_publicly_with_their_codes(seeded, app, client, ctx):
    published = certificates.keyring().published_keys()
    issued = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert issued
    for certificate in issued:
        assert verify_certificate_document(certificates.document_json(certificate), published).valid_signature
    lines = certificate_lines(app)
    assert sorted(lines) == sorted([c.number, c.verification_code, c.status] for c in issued)

    number, code, _ = next(line for line in lines if line[2] == "valid")
    answer = client.get(f"/api/v1/public/certificates/{number}?code={code}")
    assert answer.status_code == 200 and answer.get_json()["status"] == "valid"
    assert client.get(f"/api/v1/public/certificates/{number}?code=000000000000").status_code == 404
    assert client.get(f"/verify/{number}?code={code}").status_code == 200
    document = client.get(f"/api/v1/certificates/{number}",
                          headers=bearer(token_for(client, BENCH_AUDITOR_EMAIL, DEFAULT_PASSWORD))).get_json()
    assert client.post("/api/v1/public/verify", json=document).get_json()["valid_signature"] is True


def test_the_bench_accounts_sign_in_and_their_lists_render(seeded, app, client, ctx):
    bench_company = db.session.scalar(select(User.company_id).where(User.email == BENCH_APPLICANT_EMAIL))
    tokens = {email: token_for(client, email, DEFAULT_PASSWORD)
              for email in (BENCH_APPLICANT_EMAIL, BENCH_REVIEWER_EMAIL, BENCH_AUDITOR_EMAIL, BENCH_ADMIN_EMAIL)}

    # The reviewer's list holds every batch, 50 to a page, newest first.
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/batches?limit=50" + (f"&cursor={cursor}" if cursor else ""),
                          headers=bearer(tokens[BENCH_REVIEWER_EMAIL]))
        assert page.status_code == 200
        body = page.get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == BATCHES == len(set(seen)) and seen == sorted(seen, reverse=True)

    own = client.get("/api/v1/batches?limit=200", headers=bearer(tokens[BENCH_APPLICANT_EMAIL])).get_json()["items"]
    owned = db.session.scalar(select(func.count(Batch.id)).where(Batch.company_id == bench_company))
    assert len(own) == min(owned, 200) and {item["company_id"] for item in own} == {bench_company}
    drafts = client.get("/api/v1/batches?status=draft", headers=bearer(tokens[BENCH_APPLICANT_EMAIL])).get_json()
    assert len(drafts["items"]) == BATCHES // 100
    assert client.get("/api/v1/certificates", headers=bearer(tokens[BENCH_AUDITOR_EMAIL])).status_code == 200
    assert client.get("/api/v1/companies", headers=bearer(tokens[BENCH_ADMIN_EMAIL])).status_code == 200

    for email, page in ((BENCH_APPLICANT_EMAIL, "/batches"), (BENCH_REVIEWER_EMAIL, "/review/"),
                        (BENCH_AUDITOR_EMAIL, "/audit/certificates")):
        browser = app.test_client()
        login(browser, email, DEFAULT_PASSWORD)
        answer = browser.get(page)
        assert answer.status_code == 200, (email, page)


def test_the_audit_trail_of_the_seed_chains_in_time_order(seeded, runner, ctx):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "audit trail intact" in result.output
    times = db.session.scalars(select(AuditEvent.at).order_by(AuditEvent.seq)).all()
    assert len(times) > 5 * BATCHES and times == sorted(times)
    issued = db.session.scalar(select(func.count()).where(AuditEvent.action == "certificate.issued"))
    assert issued == db.session.scalar(select(func.count(Certificate.id)))


def seed_written_counts() -> list[int]:
    """Rows of what the seed writes, leaving out what a check run adds: a worker left running by another test
    may finish the seed's queued runs at any moment, adding their results and a check_run.* audit event."""
    counts = [db.session.scalar(select(func.count()).select_from(model))
              for model in (Company, User, FeedstockLot, Batch, Allocation, Document, Decision, Certificate)]
    counts.append(db.session.scalar(select(func.count(AuditEvent.seq)).where(~AuditEvent.action.like("check_run.%"))))
    db.session.rollback()
    return counts


def test_a_second_run_refuses_and_changes_nothing(seeded, runner, ctx):
    counts = seed_written_counts()
    result = runner.invoke(args=["bench-seed", "--batches", str(BATCHES)])
    assert result.exit_code == 1
    assert "bench data are already present" in result.output
    assert counts == seed_written_counts()


def status_after_checks(batch_id: int, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        status = db.session.scalar(select(Batch.status).where(Batch.id == batch_id))
        db.session.rollback()
        if status != workflow.CHECKING:
            return status
        time.sleep(0.2)
    return workflow.CHECKING


def test_seeded_open_batches_pass_the_real_check_run(seeded, client, ctx, worker):
    """The stored files and declared data hold up when the worker's own check run reads them: the seed's queued
    runs (published by the worker's sweep) and a ready draft submitted now."""
    queued = db.session.scalar(select(CheckRun).where(CheckRun.state == "queued"))
    assert status_after_checks(queued.batch_id) == workflow.AWAITING_REVIEW

    token = token_for(client, BENCH_APPLICANT_EMAIL, DEFAULT_PASSWORD)
    draft = client.get("/api/v1/batches?status=draft&limit=1", headers=bearer(token)).get_json()["items"][0]
    assert client.post(f"/api/v1/batches/{draft['id']}/submit", headers=bearer(token)).status_code == 202
    assert status_after_checks(draft["id"]) == workflow.AWAITING_REVIEW

    store = document_store()
    awaiting = db.session.scalar(select(Batch).where(Batch.status == workflow.AWAITING_REVIEW))
    for document in awaiting.documents:
        with store.open(document.sha256) as stored:
            assert len(stored.read()) == document.size


def test_sqlite_takes_a_small_seed_too(tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'bench.sqlite'}",
                     INSTANCE_DIR=str(tmp_path), STORAGE_DIR=str(tmp_path / "documents"),
                     SIGNING_KEY_FILE=str(tmp_path / "signing-key.pem"),
                     RETIRED_KEYS_FILE=str(tmp_path / "signing-key.pem.retired.json"))
    with app.app_context():
        upgrade()
        summary = seed_bench(60)
        assert set(summary.statuses) == set(workflow.BATCH_STATUSES) and all(summary.statuses.values())
        assert verify_chain().ok
        serials = db.session.scalars(select(Certificate.serial).order_by(Certificate.serial)).all()
        assert serials == list(range(1, len(serials) + 1))
        db.session.remove()
        db.engine.dispose()
