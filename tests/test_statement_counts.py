"""SQL statements per request, counted with SQLAlchemy's cursor events: constant in the data, never N+1.

A list page sends the same few statements (at most ten) for a few rows as for a full page of a full database, and
its next page as many as its first. A batch's pages send as many for a batch with one input, one document and one
decision as for one with three inputs, five documents and two decisions (a check run always has its fourteen
results). The session user's load and the Bearer token's look-up are part of each request and are counted with it.
"""
import html
import re
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select, update

from certify.extensions import db
from certify.models import Batch, Certificate, CheckResult, CheckRun
from certify.services.certificates import certificate_content
from tests.helpers import (
    Applicant,
    batch_body,
    bearer,
    evidence_files,
    login,
    make_user,
    png_bytes,
    seed_batch_rows,
    token_for,
)
from tests.workers.test_check_runs import wait_for_status

LIST_PAGE_STATEMENT_LIMIT = 10
# More rows than one page of any list holds (50), so the larger database fills every first page.
SEEDED_PER_STATUS = 55


@contextmanager
def statements_counted():
    """The SQL statements the app sends while the block runs, in order."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def measured(client, path: str, headers: dict | None = None):
    """The response to a GET of `path` and the statements it took."""
    with statements_counted() as statements:
        response = client.get(path, headers=headers or {})
    assert response.status_code == 200, f"{path}: {response.status_code}"
    return response, statements


def next_page(response) -> str | None:
    """The path of the next page a list offers: the API's next_cursor, or the HTML page's rel="next" link."""
    if response.is_json:
        cursor = response.get_json()["next_cursor"]
        return f"{response.request.path}?cursor={cursor}" if cursor else None
    link = re.search(r'href="([^"]+)" rel="next"', response.get_data(as_text=True))
    return html.unescape(link.group(1)) if link else None


def signed_in(app, user):
    browser = app.test_client()
    login(browser, user.email)
    return browser


@pytest.fixture()
def people(app, client, ctx):
    """An applicant company (API and browser), a second company, two reviewers and an auditor, each signed in."""
    hanbit = Applicant(client)
    daewon = Applicant(client, "Daewon Metals", "124-81-00002")
    reviewers = [make_user("reviewer", email=f"reviewer{n}@certify.test") for n in range(2)]
    auditor = make_user("auditor")
    return SimpleNamespace(
        hanbit=hanbit, daewon=daewon, reviewers=reviewers,
        applicant_browser=signed_in(app, hanbit.user), reviewer_browser=signed_in(app, reviewers[0]),
        auditor_browser=signed_in(app, auditor),
        reviewer_tokens=[bearer(token_for(client, reviewer.email)) for reviewer in reviewers],
        auditor_api=bearer(token_for(client, auditor.email)))


def list_pages(people) -> dict[str, tuple]:
    """Every list page, by name: who asks (a test client), the path, and the headers it sends."""
    api, hanbit = people.hanbit.client, people.hanbit.company.id
    return {
        "API batch list, applicant": (api, "/api/v1/batches", people.hanbit.headers),
        "API batch list, auditor": (api, "/api/v1/batches", people.auditor_api),
        "API lot list, applicant": (api, "/api/v1/feedstock-lots", people.hanbit.headers),
        "API lot list, auditor": (api, "/api/v1/feedstock-lots", people.auditor_api),
        "API certificate list, auditor": (api, "/api/v1/certificates", people.auditor_api),
        "applicant batch list": (people.applicant_browser, "/batches", None),
        "applicant lot list": (people.applicant_browser, "/lots", None),
        "reviewer queue": (people.reviewer_browser, "/review/", None),
        "reviewer queue, with warnings only": (people.reviewer_browser, "/review/?warnings=y", None),
        "reviewer certificate list": (people.reviewer_browser, "/review/certificates", None),
        "auditor batch search": (people.auditor_browser, "/audit/batches", None),
        "auditor batch search, filtered": (
            people.auditor_browser, f"/audit/batches?company={hanbit}&material=NISO4", None),
        "auditor certificate search": (people.auditor_browser, "/audit/certificates", None),
        "auditor certificate search, filtered": (
            people.auditor_browser, f"/audit/certificates?company={hanbit}&status=valid", None),
    }


def measure(pages: dict[str, tuple]) -> tuple[dict[str, list[str]], dict[str, object]]:
    """The statements each page took, and its response."""
    statements, responses = {}, {}
    for name, (client, path, headers) in pages.items():
        responses[name], statements[name] = measured(client, path, headers)
    return statements, responses


def counts(statements: dict[str, list[str]]) -> dict[str, int]:
    return {name: len(sent) for name, sent in statements.items()}


def differences(few: dict[str, list[str]], many: dict[str, list[str]]) -> str:
    """The statements of each page whose count changed, for the failure message."""
    return "\n".join(f"{name}: {len(few[name])} then {len(many[name])}\n  " + "\n  ".join(
        " ".join(statement.split())[:160] for statement in many[name])
        for name in many if len(few[name]) != len(many[name]))


def seed(people, applicant: Applicant, count: int, statuses: tuple[str, ...]) -> None:
    """seed_batch_rows, with what the pages read from such rows: the certificate's signed content, as issue writes
    it, and a warning on each batch awaiting review (as LAB_ACCREDITED gives while no lab is listed)."""
    seed_batch_rows(applicant.company, applicant.facility, people.reviewers[0], count, statuses)
    for certificate in db.session.scalars(select(Certificate).where(Certificate.key_id == "seed")):
        if "company" not in certificate.content:
            run = db.session.scalar(select(CheckRun).where(CheckRun.batch_id == certificate.batch_id))
            certificate.content = certificate_content(certificate.batch, run, certificate.number,
                                                      [people.reviewers[0].id], certificate.issued_at)
    db.session.execute(update(CheckResult).where(CheckResult.message_key == "seeded", CheckResult.check_run_id.in_(
        select(CheckRun.id).join(Batch).where(Batch.status == "awaiting_review"))).values(outcome="warn"))
    db.session.commit()


def decided(applicant: Applicant, batch: dict, headers: dict, decision: str, comment: str) -> dict:
    response = applicant.client.post(f"/api/v1/batches/{batch['id']}/decision", headers=headers, json={
        "decision": decision, "comment": comment, "version": batch["version"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def checked(applicant: Applicant, batch: dict) -> dict:
    """The batch after its real check run on the worker, awaiting review."""
    assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
    batch = wait_for_status(applicant, batch["id"])
    assert batch["status"] == "awaiting_review", batch["checks"]
    return batch


def small_batch(applicant: Applicant, reviewer_tokens: list[dict]) -> dict:
    """One input, one document, one decision: checked, changes requested, then two of its three files removed."""
    lot = applicant.lot(lot_no="IN-SMALL-1")
    batch = checked(applicant, applicant.ready_batch(tag="small", lot_id=lot["id"], assay={
        **batch_body(applicant.facility, lot["id"])["assay"], "report_no": "R-SMALL-1"}))
    batch = decided(applicant, batch, reviewer_tokens[0], "request_changes", "Name the supplier's site.")
    for document in batch["documents"][1:]:
        assert applicant.delete(f"/api/v1/batches/{batch['id']}/documents/{document['id']}").status_code == 204
    batch = applicant.get(f"/api/v1/batches/{batch['id']}").get_json()
    assert (len(batch["inputs"]), len(batch["documents"]), len(batch["checks"]), len(batch["decisions"])) == (
        1, 1, 14, 1)
    return batch


def large_batch(applicant: Applicant, reviewer_tokens: list[dict]) -> dict:
    """Three inputs from three lots, five documents, two approvals (LAB_ACCREDITED warns) and the certificate."""
    lots = [applicant.lot(lot_no=f"IN-LARGE-{n}") for n in range(3)]
    assay = {**batch_body(applicant.facility, lots[0]["id"])["assay"], "report_no": "R-LARGE-1"}
    batch = applicant.batch(lot_id=lots[0]["id"], assay=assay, inputs=[
        {"lot_id": lot["id"], "mass_kg": mass_kg} for lot, mass_kg in zip(lots, (4000, 4000, 3000), strict=True)])
    files = [*evidence_files("R-LARGE-1", tag="large"),
             ("mass_balance", "balance.csv", b"lot,mass_kg\nIN-LARGE-0,4000\nIN-LARGE-1,4000\nIN-LARGE-2,3000\n"),
             ("other", "site.png", png_bytes("large"))]
    for kind, filename, data in files:
        assert applicant.upload(batch["id"], kind, filename, data).status_code == 201
    batch = checked(applicant, batch)
    assert batch["approvals_required"] == 2
    for headers in reviewer_tokens:
        batch = decided(applicant, batch, headers, "approve", "Evidence complete.")
    assert batch["status"] == "approved" and batch["certificate_number"]
    assert (len(batch["inputs"]), len(batch["documents"]), len(batch["checks"]), len(batch["decisions"])) == (
        3, 5, 14, 2)
    return batch


def test_list_pages_send_the_same_few_statements_for_a_few_rows_as_for_a_full_database(people, worker):
    # A batch with one input, one document and one decision; one awaiting review; one approved with its certificate.
    seed(people, people.hanbit, 2, ("awaiting_review", "approved"))
    small_batch(people.hanbit, people.reviewer_tokens)
    few, _ = measure(list_pages(people))

    # Every first page full, with a next one; a second company's batches in every status; then the newest batch
    # with three inputs, five documents, two decisions and its certificate.
    seed(people, people.hanbit, 2 * SEEDED_PER_STATUS, ("awaiting_review", "approved"))
    seed(people, people.daewon, 10, ("draft", "checks_failed", "awaiting_review", "changes_requested", "approved"))
    large_batch(people.hanbit, people.reviewer_tokens)
    many, responses = measure(list_pages(people))
    assert counts(many) == counts(few), differences(few, many)
    assert all(count <= LIST_PAGE_STATEMENT_LIMIT for count in counts(many).values()), counts(many)

    older_pages = {name: (client, next_page(responses[name]), headers)
                   for name, (client, _path, headers) in list_pages(people).items()}
    assert all(path for _client, path, _headers in older_pages.values()), older_pages
    older, _ = measure(older_pages)
    assert counts(older) == counts(many), differences(many, older)


def batch_pages(people, batch: dict) -> dict[str, tuple]:
    """Every page about one batch, by name: who asks, the path, and the headers it sends.

    The API has no separate list of a batch's checks or documents: GET /batches/<id> carries both.
    """
    api, batch_id, document_id = people.hanbit.client, batch["id"], batch["documents"][0]["id"]
    return {
        "applicant batch page": (people.applicant_browser, f"/batches/{batch_id}", None),
        "applicant batch progress": (people.applicant_browser, f"/batches/{batch_id}/progress.json", None),
        "review page": (people.reviewer_browser, f"/review/batches/{batch_id}", None),
        "auditor batch page": (people.auditor_browser, f"/audit/batches/{batch_id}", None),
        "auditor evidence bundle": (people.auditor_browser, f"/audit/batches/{batch_id}/bundle.zip", None),
        "API batch, applicant": (api, f"/api/v1/batches/{batch_id}", people.hanbit.headers),
        "API batch, reviewer": (api, f"/api/v1/batches/{batch_id}", people.reviewer_tokens[0]),
        "API document, applicant": (api, f"/api/v1/batches/{batch_id}/documents/{document_id}",
                                    people.hanbit.headers),
        "API evidence bundle, auditor": (api, f"/api/v1/batches/{batch_id}/bundle.zip", people.auditor_api),
    }


def test_batch_pages_send_the_same_statements_for_one_input_document_and_decision_as_for_many(people, worker):
    few, _ = measure(batch_pages(people, small_batch(people.hanbit, people.reviewer_tokens)))
    many, _ = measure(batch_pages(people, large_batch(people.hanbit, people.reviewer_tokens)))
    assert counts(many) == counts(few), differences(few, many)
