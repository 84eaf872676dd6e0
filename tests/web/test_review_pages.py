"""The reviewer's HTML pages against a real worker: the queue, one batch, decisions by form, certificate status."""
import datetime as dt
import html
import json
import re

import pytest
from sqlalchemy import event, select, update

from certify.extensions import db
from certify.models import AuditEvent, Batch, Certificate, Decision
from certify.services import admin
from certify.timeutil import utcnow
from tests.helpers import Applicant, csrf_token_from, distinct_ready_batch, login, make_user
from tests.workers.test_check_runs import wait_for_status


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def submitted(applicant, **overrides) -> dict:
    """A batch with its own evidence, submitted and checked by the worker: awaiting review."""
    batch = distinct_ready_batch(applicant, **overrides)
    assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
    batch = wait_for_status(applicant, batch["id"])
    assert batch["status"] == "awaiting_review", batch["checks"]
    return batch


def accredit_the_lab():
    """Puts the batches' lab on the accredited list, so LAB_ACCREDITED passes and one approval suffices."""
    admin.create_lab(None, "KOLAS-T-0417", "KTR Pohang")


def backdate_submission(batch_id: int, days: int) -> None:
    db.session.execute(update(Batch).where(Batch.id == batch_id)
                       .values(submitted_at=utcnow() - dt.timedelta(days=days)))
    db.session.commit()


def current(batch_id: int) -> Batch:
    db.session.expire_all()
    return db.session.get(Batch, batch_id)


def signed_in(app, role, email=None):
    """A browser of its own, signed in through the real login form."""
    browser = app.test_client()
    user = make_user(role, email=email)
    login(browser, user.email)
    return browser


def queue_numbers(response) -> list[str]:
    return re.findall(r'href="/review/batches/\d+">(B-\d{4}-\d{6})</a>', response.get_data(as_text=True))


def decide(browser, batch_id, decision, comment="", version=None):
    """Sends the decision form as the batch page offers it: its CSRF token and the version it shows."""
    page = browser.get(f"/review/batches/{batch_id}").get_data(as_text=True)
    shown_version = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', page).group(1)
    return browser.post(f"/review/batches/{batch_id}/decision", data={
        "csrf_token": csrf_token_from(page), "decision": decision, "comment": comment,
        "version": shown_version if version is None else version})


@pytest.fixture()
def reviewer(app, ctx):
    return signed_in(app, "reviewer", "reviewer0@certify.test")


@pytest.fixture()
def certificate_number(client, reviewer, worker):
    """A certificate issued through the review page by one reviewer (the lab is accredited: one approval)."""
    accredit_the_lab()
    batch = submitted(Applicant(client))
    assert decide(reviewer, batch["id"], "approve").status_code == 302
    return db.session.scalar(select(Certificate.number).where(Certificate.batch_id == batch["id"]))


# The queue

def test_queue_lists_only_batches_awaiting_review_oldest_submitted_first(client, reviewer, worker):
    hanbit = Applicant(client)
    saemangeum = Applicant(client, "Saemangeum Materials", "451-86-00002")
    old = submitted(hanbit)
    middle = submitted(saemangeum, material_code="COSO4", quantity_kg=3000)
    accredit_the_lab()  # the newest batch passes LAB_ACCREDITED: no warnings
    new = submitted(hanbit)
    draft = distinct_ready_batch(hanbit)
    backdate_submission(old["id"], 20)
    backdate_submission(middle["id"], 5)

    response = reviewer.get("/review/")
    assert response.status_code == 200
    assert queue_numbers(response) == [old["number"], middle["number"], new["number"]]
    assert draft["number"] not in page_text(response)
    text = page_text(response)
    assert "3 batches awaiting review" in text
    assert "Saemangeum Materials" in text and "10,000 kg" in text and "20 days" in text
    rows = {number: row for number, row in re.findall(
        r'>(B-\d{4}-\d{6})</a></td>(.*?)</tr>', response.get_data(as_text=True), re.DOTALL)}
    assert "0 / 2" in rows[old["number"]] and "0 / 1" in rows[new["number"]]
    assert 'outcome-warn">1<' in rows[old["number"]] and "outcome-warn" not in rows[new["number"]]


def test_queue_filters_by_material_company_age_and_warnings(client, reviewer, worker):
    hanbit = Applicant(client)
    saemangeum = Applicant(client, "Saemangeum Materials", "451-86-00002")
    old = submitted(hanbit)
    cobalt = submitted(saemangeum, material_code="COSO4", quantity_kg=3000)
    accredit_the_lab()
    clean = submitted(hanbit)
    backdate_submission(old["id"], 20)

    assert queue_numbers(reviewer.get("/review/?material=COSO4")) == [cobalt["number"]]
    assert queue_numbers(reviewer.get(f"/review/?company={saemangeum.company.id}")) == [cobalt["number"]]
    assert queue_numbers(reviewer.get(f"/review/?company={hanbit.company.id}")) == [old["number"], clean["number"]]
    assert queue_numbers(reviewer.get("/review/?older_than_days=10")) == [old["number"]]
    assert queue_numbers(reviewer.get("/review/?warnings=y")) == [old["number"], cobalt["number"]]
    assert queue_numbers(reviewer.get("/review/?warnings=y&material=NISO4")) == [old["number"]]
    # The count is of what the filters let through, not of the whole queue.
    assert "2 batches awaiting review match the filters" in page_text(reviewer.get("/review/?warnings=y"))
    assert "1 batch awaiting review matches the filters" in page_text(reviewer.get("/review/?older_than_days=10"))
    nothing = reviewer.get("/review/?material=PB")
    assert queue_numbers(nothing) == [] and "No batch awaiting review matches these filters" in page_text(nothing)


def test_queue_survives_junk_in_its_filters(reviewer):
    response = reviewer.get("/review/?older_than_days=abc&company=x&material=%27%20OR%201%3D1--&after=zz")
    assert response.status_code == 200
    assert "Not a valid integer value" in page_text(response)


def test_queue_pages_in_queue_order(app, client, reviewer, worker, monkeypatch):
    monkeypatch.setattr("certify.web.review.PAGE_SIZE", 2)
    applicant = Applicant(client)
    batches = [submitted(applicant) for _ in range(3)]
    for days, batch in zip((30, 20, 10), batches, strict=True):
        backdate_submission(batch["id"], days)
    first = reviewer.get("/review/")
    assert queue_numbers(first) == [batches[0]["number"], batches[1]["number"]]
    next_link = html.unescape(re.search(r'href="([^"]+)" rel="next"', first.get_data(as_text=True)).group(1))
    second = reviewer.get(next_link)
    assert queue_numbers(second) == [batches[2]["number"]]
    # The count is of the whole queue on every page, and on a page past its end too.
    assert "3 batches awaiting review" in page_text(first) and "3 batches awaiting review" in page_text(second)
    past_the_end = reviewer.get(f"/review/?after={batches[2]['id']}")
    assert queue_numbers(past_the_end) == [] and "3 batches awaiting review" in page_text(past_the_end)


def test_queue_runs_the_same_number_of_queries_for_one_batch_or_many(app, client, reviewer, worker):
    applicant = Applicant(client)
    submitted(applicant)

    def statements_for_queue() -> int:
        count = 0

        def counter(*args):
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert reviewer.get("/review/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        return count

    with_one = statements_for_queue()
    for _ in range(3):
        submitted(applicant)
    assert statements_for_queue() == with_one


# One batch

def test_review_page_shows_facts_inputs_balance_checks_documents(client, reviewer, worker):
    batch = submitted(Applicant(client))
    response = reviewer.get(f"/review/batches/{batch['id']}")
    assert response.status_code == 200
    text = page_text(response)
    for shown in (batch["number"], "Hanbit Battery Recycling", "Pohang Plant", "NISO4", "10,000 kg",
                  "KOLAS-T-0417", "R-D-", batch["inputs"][0]["lot_no"], "post-consumer", "11,000 kg",
                  "Ni 21.5 %", "2,365 kg",  # the lot's nickel, and what 11 t of it brings
                  "Recovery", "93.76 %", "Recycled content", "100 %", "Post-consumer", "Pre-consumer", "0 %",
                  "assay.pdf", "ticket.png", "production.csv", "No decision yet."):
        assert shown in text, shown
    for check in batch["checks"]:
        assert check["code"] in text and check["message"] in text
    assert 'outcome-warn">warning<' in response.get_data(as_text=True)  # LAB_ACCREDITED: no labs listed
    assert f'name="version" type="hidden" value="{batch["version"]}"' in response.get_data(as_text=True)


def test_a_pdf_opens_in_the_browser_sandboxed_and_other_files_download(client, reviewer, worker):
    batch = submitted(Applicant(client))
    documents = {document["filename"]: document for document in batch["documents"]}
    page = reviewer.get(f"/review/batches/{batch['id']}").get_data(as_text=True)

    pdf_url = f"/review/batches/{batch['id']}/documents/{documents['assay.pdf']['id']}"
    assert f'href="{pdf_url}" target="_blank"' in page
    pdf = reviewer.get(pdf_url)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline")
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in pdf.headers["Content-Security-Policy"]

    image = reviewer.get(f"/review/batches/{batch['id']}/documents/{documents['ticket.png']['id']}")
    assert image.headers["Content-Type"] == "image/png" and image.headers["Content-Disposition"].startswith("inline")
    csv = reviewer.get(f"/review/batches/{batch['id']}/documents/{documents['production.csv']['id']}")
    assert csv.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in csv.headers["Content-Security-Policy"]
    other_batch = reviewer.get(f"/review/batches/{batch['id'] + 1000}/documents/{documents['assay.pdf']['id']}")
    assert other_batch.status_code == 404


def test_approving_through_the_form_issues_a_certificate(client, reviewer, worker):
    accredit_the_lab()
    batch = submitted(Applicant(client))
    assert batch["approvals_required"] == 1
    response = decide(reviewer, batch["id"], "approve")
    assert response.status_code == 302 and response.headers["Location"] == f"/review/batches/{batch['id']}"
    assert current(batch["id"]).status == "approved"
    number = db.session.scalar(select(Certificate.number).where(Certificate.batch_id == batch["id"]))
    assert re.fullmatch(r"KR-RM-\d{4}-\d{6}", number)
    page = page_text(reviewer.get(response.headers["Location"]))
    assert f"Batch {batch['number']} is approved: certificate {number} is issued." in page
    assert f'/review/certificates/{number}' in page and "Your decision" not in page


def test_two_reviewers_must_both_approve_when_a_check_warns(app, client, reviewer, worker):
    batch = submitted(Applicant(client))  # LAB_ACCREDITED warns: four eyes
    assert batch["approvals_required"] == 2
    decide(reviewer, batch["id"], "approve", "numbers agree with the assay")
    assert current(batch["id"]).status == "awaiting_review"
    page = page_text(reviewer.get(f"/review/batches/{batch['id']}"))
    assert "Your approval of batch" in page and "a second reviewer must approve" in page
    assert "You have approved this batch" in page and "1 of 2 received" in page

    again = decide(reviewer, batch["id"], "approve")
    assert "the second approval must come from a different reviewer" in page_text(
        reviewer.get(again.headers["Location"]))
    assert current(batch["id"]).status == "awaiting_review"

    second = signed_in(app, "reviewer", "reviewer1@certify.test")
    decide(second, batch["id"], "approve")
    assert current(batch["id"]).status == "approved"
    assert db.session.scalar(select(Certificate.id).where(Certificate.batch_id == batch["id"])) is not None
    history = page_text(second.get(f"/review/batches/{batch['id']}"))
    assert "reviewer0@certify.test" in history and "reviewer1@certify.test" in history
    assert "numbers agree with the assay" in history


@pytest.mark.parametrize("decision", ["reject", "request_changes"])
def test_rejecting_or_requesting_changes_needs_a_comment(client, reviewer, worker, decision):
    batch = submitted(Applicant(client))
    response = decide(reviewer, batch["id"], decision, comment="   ")
    assert response.status_code == 422
    assert re.search(r'id="comment-errors"><li>Write a comment to', response.get_data(as_text=True))
    assert current(batch["id"]).status == "awaiting_review"
    assert db.session.scalar(select(Decision.id).where(Decision.batch_id == batch["id"])) is None

    decide(reviewer, batch["id"], decision, comment="The assay report is for another batch.")
    assert current(batch["id"]).status == {"reject": "rejected", "request_changes": "changes_requested"}[decision]


def test_a_decision_needs_a_choice_and_a_csrf_token(client, reviewer, worker):
    batch = submitted(Applicant(client))
    page = reviewer.get(f"/review/batches/{batch['id']}").get_data(as_text=True)
    no_choice = reviewer.post(f"/review/batches/{batch['id']}/decision",
                              data={"csrf_token": csrf_token_from(page), "version": batch["version"]})
    assert no_choice.status_code == 422 and "Choose a decision." in page_text(no_choice)
    no_token = reviewer.post(f"/review/batches/{batch['id']}/decision",
                             data={"decision": "approve", "version": batch["version"]})
    assert no_token.status_code in (400, 422)
    assert current(batch["id"]).status == "awaiting_review"


def test_a_stale_form_says_someone_else_decided_and_records_nothing(app, client, reviewer, worker):
    batch = submitted(Applicant(client))
    stale_page = reviewer.get(f"/review/batches/{batch['id']}").get_data(as_text=True)
    other = signed_in(app, "reviewer", "reviewer1@certify.test")
    decide(other, batch["id"], "request_changes", "Attach the weighing tickets.")
    assert current(batch["id"]).status == "changes_requested"

    response = reviewer.post(f"/review/batches/{batch['id']}/decision", data={
        "csrf_token": csrf_token_from(stale_page), "decision": "reject", "comment": "fraud",
        "version": batch["version"]})
    assert response.status_code == 302
    page = page_text(reviewer.get(response.headers["Location"]))
    assert "Someone else decided on batch" in page and "meanwhile" in page
    assert current(batch["id"]).status == "changes_requested"
    assert db.session.scalars(select(Decision.decision).where(Decision.batch_id == batch["id"])).all() == [
        "request_changes"]


# Certificates

def status_form(browser, number, event, reason):
    """Sends one of the certificate page's status forms (each prefixed with its event)."""
    page = browser.get(f"/review/certificates/{number}").get_data(as_text=True)
    action = f"/review/certificates/{number}/{event}"
    data = {f"{event}-csrf_token": csrf_token_from(page), f"{event}-reason": reason}
    if event == "revoke":
        data["from"] = "certificate"
    return browser.post(action, data=data)


def status_of(number) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Certificate.status).where(Certificate.number == number))


def test_certificate_page_shows_facts_downloads_and_history(reviewer, certificate_number):
    response = reviewer.get(f"/review/certificates/{certificate_number}")
    assert response.status_code == 200
    text = page_text(response)
    for shown in (certificate_number, "Hanbit Battery Recycling", "NISO4", "10,000 kg", "100 %", "mass balance",
                  "reviewer0@certify.test", "issued", "Suspend certificate", "Revoke certificate"):
        assert shown in text, shown
    assert "Reinstate certificate" not in text

    pdf = reviewer.get(f"/review/certificates/{certificate_number}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.headers["Content-Disposition"].startswith(
        "attachment")
    document = reviewer.get(f"/review/certificates/{certificate_number}.json")
    assert document.headers["Content-Disposition"] == f'attachment; filename="{certificate_number}.json"'
    signed = json.loads(document.data)
    assert signed["certificate"]["number"] == certificate_number and signed["status"] == "valid"
    verified = reviewer.post("/api/v1/public/verify", json=signed).get_json()
    assert verified["valid_signature"] is True


def test_suspend_reinstate_and_revoke_through_the_forms(reviewer, certificate_number):
    refused = status_form(reviewer, certificate_number, "suspend", "  ")
    assert refused.status_code == 422 and "Give the reason" in page_text(refused)
    assert status_of(certificate_number) == "valid"

    assert status_form(reviewer, certificate_number, "suspend", "On-site inspection pending").status_code == 302
    assert status_of(certificate_number) == "suspended"
    page = page_text(reviewer.get(f"/review/certificates/{certificate_number}"))
    assert f"Certificate {certificate_number} is suspended." in page and "Reinstate certificate" in page
    assert "Suspend certificate" not in page

    status_form(reviewer, certificate_number, "reinstate", "Inspection passed")
    assert status_of(certificate_number) == "valid"
    status_form(reviewer, certificate_number, "revoke", "Feedstock records were forged")
    assert status_of(certificate_number) == "revoked"

    page = page_text(reviewer.get(f"/review/certificates/{certificate_number}"))
    assert "A revoked certificate cannot change any more." in page
    for reason in ("On-site inspection pending", "Inspection passed", "Feedstock records were forged"):
        assert reason in page
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "certificate", AuditEvent.object_id == certificate_number)
        .order_by(AuditEvent.seq)).all()
    assert actions == ["certificate.issued", "certificate.suspend", "certificate.reinstate", "certificate.revoke"]


def test_a_change_the_status_no_longer_allows_is_refused_kindly(reviewer, certificate_number):
    page = reviewer.get(f"/review/certificates/{certificate_number}").get_data(as_text=True)
    response = reviewer.post(f"/review/certificates/{certificate_number}/reinstate",
                             data={"reinstate-csrf_token": csrf_token_from(page), "reinstate-reason": "why not"})
    assert response.status_code == 302
    assert "this change is not possible" in page_text(reviewer.get(response.headers["Location"]))
    assert status_of(certificate_number) == "valid"


def test_an_admin_revokes_from_the_revoke_page(app, reviewer, certificate_number):
    admin_browser = signed_in(app, "admin")
    assert admin_browser.get(f"/review/certificates/{certificate_number}").status_code == 403
    page = admin_browser.get(f"/review/certificates/{certificate_number}/revoke")
    assert page.status_code == 200 and "Revoking is final" in page_text(page)
    response = admin_browser.post(f"/review/certificates/{certificate_number}/revoke", data={
        "revoke-csrf_token": csrf_token_from(page.get_data(as_text=True)), "revoke-reason": "Company lost its permit"})
    assert response.status_code == 302
    assert status_of(certificate_number) == "revoked"
    page = page_text(admin_browser.get(response.headers["Location"]))
    assert "was revoked on" in page and "Company lost its permit" in page


def test_a_certificate_list_finds_by_number_and_status(reviewer, certificate_number):
    link = f'href="/review/certificates/{certificate_number}"'
    assert link in reviewer.get("/review/certificates").get_data(as_text=True)
    assert link in reviewer.get(f"/review/certificates?number={certificate_number}").get_data(as_text=True)
    batch_number = db.session.scalar(select(Batch.number).join(Certificate, Certificate.batch_id == Batch.id))
    assert link in reviewer.get(f"/review/certificates?number={batch_number.lower()}").get_data(as_text=True)
    assert link not in reviewer.get("/review/certificates?status=revoked").get_data(as_text=True)
    assert link not in reviewer.get("/review/certificates?number=KR-RM-2000-999999").get_data(as_text=True)


# Who may see these pages

@pytest.mark.parametrize("role", ["applicant", "auditor"])
def test_applicants_and_auditors_get_403_on_review_pages(app, client, ctx, role, worker):
    accredit_the_lab()
    applicant = Applicant(client)
    batch = submitted(applicant)
    reviewer = signed_in(app, "reviewer", "reviewer0@certify.test")
    decide(reviewer, batch["id"], "approve")
    number = db.session.scalar(select(Certificate.number).where(Certificate.batch_id == batch["id"]))
    if role == "applicant":
        browser = app.test_client()
        login(browser, applicant.user.email)
    else:
        browser = signed_in(app, "auditor")
    document_id = batch["documents"][0]["id"]
    for path in ("/review/", f"/review/batches/{batch['id']}",
                 f"/review/batches/{batch['id']}/documents/{document_id}", "/review/certificates",
                 f"/review/certificates/{number}", f"/review/certificates/{number}.pdf",
                 f"/review/certificates/{number}.json", f"/review/certificates/{number}/revoke"):
        assert browser.get(path).status_code == 403, path
    page = browser.get("/home").get_data(as_text=True)
    for path, data in ((f"/review/batches/{batch['id']}/decision", {"decision": "reject", "comment": "x",
                                                                     "version": 1}),
                       (f"/review/certificates/{number}/suspend", {"suspend-reason": "x"}),
                       (f"/review/certificates/{number}/revoke", {"revoke-reason": "x"})):
        response = browser.post(path, data={**data, "csrf_token": csrf_token_from(page),
                                            "suspend-csrf_token": csrf_token_from(page),
                                            "revoke-csrf_token": csrf_token_from(page)})
        assert response.status_code == 403, path
    assert status_of(number) == "valid"


def test_signed_out_visitors_are_sent_to_sign_in(client, ctx):
    response = client.get("/review/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
