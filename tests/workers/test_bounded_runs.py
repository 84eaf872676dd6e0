"""A check run is bounded: a slow document fails its check, a run past the soft time limit ends, and a document
that kills its worker process again and again ends its run after the attempt cap — the pool serves on."""
import datetime as dt
import gc
import io
import os
import signal
import time

import pytest
from reportlab.pdfgen import canvas

from certify.documents import DeadlinePassed, inspect_document
from certify.documents.inspect import _OutOfTime, _time_budget
from certify.extensions import db
from certify.models import AuditEvent, CheckRun
from certify.timeutil import utcnow
from tests.helpers import Applicant, distinct_ready_batch, evidence_files, lot_held
from tests.workers.test_check_runs import wait_for_status


def slow_pdf(pages: int) -> bytes:
    """A valid PDF that is slow to read: every page sets its font anew for each of thousands of characters.

    About 50 ms a page on a fast machine, and little text: a reader stops at MAX_PDF_PAGES pages or MAX_TEXT_CHARS
    characters, so a file slow to read must be slow on each page and character, not long. Each test gives a file
    that reads in at least about three times the limit it runs into there, so a faster machine or parser still
    reaches the limit.
    """
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for _ in range(pages):
        text = pdf.beginText(10, 800)
        for index in range(2400):
            text.setFont("Helvetica", 4 + index % 3)
            text.textOut("x")
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def submitted_with_slow_assay_report(applicant: Applicant, pages: int) -> dict:
    """A new batch whose assay report is slow_pdf(pages), with the rest of its evidence, submitted."""
    batch = applicant.batch()
    files = [("assay_report", "assay.pdf", slow_pdf(pages=pages))] + evidence_files()[1:]
    for kind, filename, data in files:
        assert applicant.upload(batch["id"], kind, filename, data).status_code == 201
    assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
    return batch


def wait_until(condition, timeout=60, message="condition not met"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = condition()
        db.session.rollback()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(message)


def abandonment_of(batch_id: int) -> dict:
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "check_run.abandoned",
                                                          AuditEvent.object_id == str(batch_id)))
    assert event is not None, "no abandonment in the audit trail"
    return event.data


def test_reading_a_document_stops_at_its_time_budget(tmp_path):
    path = tmp_path / "slow.pdf"
    path.write_bytes(slow_pdf(pages=20))
    started = time.monotonic()
    # Without the collector: a ring dropped in a weakref callback goes to pytest's unraisable hook, which is slow
    # enough for the next ring to land inside it and fail the test. The repeat itself is tested below.
    gc.disable()
    try:
        inspection = inspect_document(path, "application/pdf", seconds=0.2)
    finally:
        gc.enable()
    assert time.monotonic() - started < 2
    assert inspection.problem == "reading the file took longer than 0.2 seconds; it is too complex to check"
    # The alarm is gone afterwards: a later read of the same file without a budget runs to the end.
    assert inspect_document(path, "application/pdf").problem is None
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_read_reaching_the_deadline_of_its_run_raises_rather_than_blaming_the_file(tmp_path):
    path = tmp_path / "slow.pdf"
    path.write_bytes(slow_pdf(pages=20))
    gc.disable()  # as above
    try:
        started = time.monotonic()
        with pytest.raises(DeadlinePassed):
            inspect_document(path, "application/pdf", seconds=30, deadline=started + 0.2)
        assert time.monotonic() - started < 2
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        # The file's own budget, when it ends first, still speaks of the file.
        inspection = inspect_document(path, "application/pdf", seconds=0.2, deadline=time.monotonic() + 60)
        assert inspection.problem == "reading the file took longer than 0.2 seconds; it is too complex to check"
    finally:
        gc.enable()
    # No time left: the file is not even opened.
    with pytest.raises(DeadlinePassed):
        inspect_document(tmp_path / "absent.pdf", "application/pdf", deadline=time.monotonic() - 1)
    assert inspect_document(path, "application/pdf", deadline=time.monotonic() + 60).problem is None


def test_the_alarm_rings_again_when_its_first_ring_is_dropped():
    """Python drops an exception raised in a finaliser or a weakref callback: the budget must not rely on one."""
    rings = 0
    started = time.monotonic()
    with pytest.raises(_OutOfTime):
        with _time_budget(0.05):
            try:
                time.sleep(5)
            except _OutOfTime:  # what the interpreter does with it inside a finaliser
                rings += 1
            time.sleep(5)
    assert rings == 1 and time.monotonic() - started < 1
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_document_too_slow_to_read_fails_doc_format_and_the_worker_goes_on(private_stack, ctx):
    app, start_worker = private_stack
    applicant = Applicant(app.test_client())
    start_worker("patient", CERTIFY_DOCUMENT_READ_SECONDS="1")
    batch = submitted_with_slow_assay_report(applicant, pages=60)
    checked = wait_for_status(applicant, batch["id"], timeout=90)
    doc_format = next(check for check in checked["checks"] if check["code"] == "DOC_FORMAT")
    assert checked["status"] == "checks_failed"
    assert doc_format["outcome"] == "fail"
    assert "assay.pdf (reading the file took longer than 1 seconds" in doc_format["message"]
    # The same worker checks the next batch as usual.
    healthy = distinct_ready_batch(applicant)
    assert applicant.post(f"/api/v1/batches/{healthy['id']}/submit").status_code == 202
    assert wait_for_status(applicant, healthy["id"])["status"] == "awaiting_review"


def test_a_run_past_the_soft_time_limit_ends_as_checks_failed(private_stack, ctx):
    app, start_worker = private_stack
    applicant = Applicant(app.test_client())
    worker = start_worker("hurried", CERTIFY_CHECK_RUN_SOFT_SECONDS="2")
    lot = applicant.lot()
    batch = applicant.ready_batch(lot_id=lot["id"])
    with lot_held(lot["lot_no"]):  # the run waits for the lot far beyond its 2 s
        assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
        wait_until(lambda: db.session.scalar(db.select(CheckRun.attempts)) == 1, message=worker.tail())
        time.sleep(4)
    ended = wait_for_status(applicant, batch["id"], timeout=30)
    assert ended["status"] == "checks_failed", worker.tail()
    assert ended["check_run"]["state"] == "abandoned" and ended["checks"] == []
    assert abandonment_of(batch["id"])["reason"] == "time_limit"
    assert applicant.get(f"/api/v1/feedstock-lots/{lot['id']}").get_json()["allocated_kg"] == 0
    healthy = distinct_ready_batch(applicant)
    assert applicant.post(f"/api/v1/batches/{healthy['id']}/submit").status_code == 202
    assert wait_for_status(applicant, healthy["id"])["status"] == "awaiting_review", worker.tail()


def test_a_run_out_of_time_while_reading_a_document_ends_as_out_of_time_not_as_a_bad_file(private_stack, ctx):
    """Celery's soft time limit is an Exception, which pypdf swallows (the run then went on as if the whole file had
    been read): the run's reads stop themselves just before it."""
    app, start_worker = private_stack
    applicant = Applicant(app.test_client())
    worker = start_worker("short", CERTIFY_CHECK_RUN_SOFT_SECONDS="2")
    batch = submitted_with_slow_assay_report(applicant, pages=120)
    ended = wait_for_status(applicant, batch["id"], timeout=60)
    assert ended["status"] == "checks_failed", worker.tail()
    assert ended["check_run"]["state"] == "abandoned" and ended["checks"] == [], worker.tail()
    assert abandonment_of(batch["id"])["reason"] == "time_limit"


def test_a_run_that_kills_its_pool_process_each_time_ends_after_the_attempt_cap(private_stack, ctx):
    """What a document that crashes its parser would do, done by SIGKILL: the pool replaces the process, the
    message is delivered again, and the third delivery of a run capped at two attempts ends it."""
    app, start_worker = private_stack
    applicant = Applicant(app.test_client())
    lot = applicant.lot()
    batch = applicant.ready_batch(lot_id=lot["id"])
    with lot_held(lot["lot_no"]):  # each delivery stops at the lot, where its process is killed
        assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
        # Out of reach of the session's worker, whose sweep would publish the run to itself while it is between
        # deliveries here (this database is shared); then the worker that the run keeps killing starts.
        db.session.execute(db.update(CheckRun).values(queued_at=utcnow() + dt.timedelta(hours=1)))
        db.session.commit()
        worker = start_worker("poisoned", concurrency=1, beat=False, CERTIFY_CHECK_RUN_MAX_ATTEMPTS="2")
        for attempt in (1, 2):
            wait_until(lambda: db.session.scalar(db.select(CheckRun.attempts)) == attempt, message=worker.tail())
            [pool_process] = worker.pool_processes()
            os.kill(pool_process, signal.SIGKILL)
        ended = wait_for_status(applicant, batch["id"], timeout=60)
    assert ended["status"] == "checks_failed", worker.tail()
    assert ended["check_run"]["state"] == "abandoned"
    assert abandonment_of(batch["id"]) | {"check_run_id": None} == {
        "check_run_id": None, "attempts": 3, "reason": "too_many_attempts",
        "message": "the checks stopped the worker several times (a document it could not process); "
                   "submit again or contact the ministry"}
    assert worker.process.poll() is None, "the worker itself died"
    healthy = distinct_ready_batch(applicant)
    assert applicant.post(f"/api/v1/batches/{healthy['id']}/submit").status_code == 202
    assert wait_for_status(applicant, healthy["id"])["status"] == "awaiting_review", worker.tail()
