"""The auditor's pages: searches over every company, batch and certificate pages, downloads, trail, register CSV."""
import csv
import datetime as dt
import hashlib
import html
import io
import itertools
import json
import re
import zipfile
from contextlib import contextmanager

import pytest
from flask import url_for
from pypdf import PdfReader
from sqlalchemy import event

from certify.extensions import db
from certify.services import admin
from tests.helpers import (
    Applicant,
    batch_body,
    bearer,
    day,
    login,
    make_user,
    tamper_with_audit_trail,
    token_for,
)
from tests.workers.test_check_runs import wait_for_status

UTC_TODAY = dt.datetime.now(dt.timezone.utc).date()
# Each batch gets its own lot, transfer document and evidence, so no check sees it as another's duplicate.
SERIALS = itertools.count(1)
REGISTER_HEADER = ["number", "status", "company", "business_registration_no", "facility", "material_code", "grade",
                   "quantity_kg", "recycled_content_pct", "post_consumer_pct", "pre_consumer_pct", "production_start",
                   "production_end", "issued_at", "status_changed_at", "key_id", "verification_code"]


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def visible_text(response) -> str:
    """What a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def links_in(response, prefix: str) -> list[str]:
    """The numbers the result table links to, in page order (batch or certificate numbers starting with prefix)."""
    return re.findall(rf">({prefix}[0-9-]+)</a>", response.get_data(as_text=True))


def new_batch(applicant: Applicant, evidence: bool = True, lot_overrides: dict | None = None, **overrides) -> dict:
    """A batch on a lot of its own, with its own assay report number and, unless told not to, its evidence."""
    serial = next(SERIALS)
    lot = applicant.lot(lot_no=f"IN-{serial:05d}", **(lot_overrides or {}))
    assay = {**batch_body(applicant.facility, lot["id"])["assay"], "report_no": f"R-{serial:05d}"}
    overrides = {"assay": assay, "lot_id": lot["id"], **overrides}
    return applicant.ready_batch(tag=str(serial), **overrides) if evidence else applicant.batch(**overrides)


def submitted(applicant: Applicant, batch: dict) -> dict:
    """The batch after its real check run on the worker."""
    assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
    return wait_for_status(applicant, batch["id"])


def certified(client, applicant: Applicant, reviewers: list[dict], **overrides) -> dict:
    """An approved batch with its certificate, through the API, the worker and as many reviewers as it needs."""
    batch = submitted(applicant, new_batch(applicant, **overrides))
    assert batch["status"] == "awaiting_review", batch["checks"]
    for headers in reviewers[:batch["approvals_required"]]:
        response = client.post(f"/api/v1/batches/{batch['id']}/decision", headers=headers,
                               json={"decision": "approve", "comment": "Evidence complete.",
                                     "version": batch["version"]})
        assert response.status_code == 200, response.get_json()
        batch = response.get_json()
    assert batch["certificate_number"], batch
    return batch


def cobalt(quantity_kg=3000) -> dict:
    """Cobalt sulfate instead of nickel: 3 t keeps the recovery from the default lot under 100 %."""
    return {"material_code": "COSO4", "quantity_kg": quantity_kg}


@contextmanager
def statements_counted():
    """Counts the SQL statements the app sends while the block runs."""
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture()
def auditor(app, ctx):
    """A browser signed in as an auditor."""
    browser = app.test_client()
    login(browser, make_user("auditor").email)
    return browser


@pytest.fixture()
def reviewers(client, ctx):
    """Two reviewers' API tokens; the lab is accredited, so a batch without warnings needs one approval."""
    admin.create_lab(None, "KOLAS-T-0417", "KTR Pohang")
    return [bearer(token_for(client, make_user("reviewer", email=f"reviewer{n}@certify.test").email))
            for n in range(2)]


# Searching batches

def test_batch_search_filters_by_company_material_status_number_and_period(client, auditor, worker):
    hanbit = Applicant(client, "Hanbit Battery Recycling", "124-81-00001")
    daewon = Applicant(client, "Daewon Metals", "124-81-00002")
    nickel = new_batch(hanbit, evidence=False)
    cobalt_batch = new_batch(hanbit, evidence=False, **cobalt())
    old = new_batch(daewon, evidence=False, lot_overrides={"received_on": day(-300)},
                    production_start=day(-250), production_end=day(-200))
    failed = submitted(daewon, new_batch(daewon, evidence=False))  # no evidence: DOC_REQUIRED fails
    assert failed["status"] == "checks_failed"

    def found(**filters):
        response = auditor.get("/audit/batches", query_string=filters)
        assert response.status_code == 200
        return links_in(response, "B-")

    assert found() == [failed["number"], old["number"], cobalt_batch["number"], nickel["number"]]
    assert found(company=hanbit.company.id) == [cobalt_batch["number"], nickel["number"]]
    assert found(material="COSO4") == [cobalt_batch["number"]]
    assert found(status="checks_failed") == [failed["number"]]
    assert found(status="draft", company=daewon.company.id) == [old["number"]]
    assert found(number=nickel["number"]) == [nickel["number"]]
    assert found(number=nickel["number"].lower()) == [nickel["number"]]
    assert nickel["number"] in found(number=nickel["number"][:-1])  # the beginning of a number
    assert found(number="B-%") == []  # a LIKE wildcard is a character like any other
    assert found(period_from=day(-260), period_to=day(-210)) == [old["number"]]
    assert old["number"] not in found(period_from=day(-30))
    assert found(period_from=day(-30), material="NISO4", company=daewon.company.id) == [failed["number"]]


def test_batch_search_shows_company_facility_status_and_certificate(client, auditor, reviewers, worker):
    applicant = Applicant(client, "한빛 배터리 리사이클링", "124-81-00001")
    batch = certified(client, applicant, reviewers)
    text = page_text(auditor.get("/audit/batches"))
    for shown in (batch["number"], "한빛 배터리 리사이클링", "Pohang Plant", "NISO4", "10,000 kg", "approved",
                  batch["certificate_number"]):
        assert shown in text


def test_batch_search_pages_newest_first_by_keyset_and_keeps_the_filters(client, auditor):
    applicant = Applicant(client)
    numbers = [new_batch(applicant, evidence=False)["number"] for _ in range(5)][::-1]
    first = auditor.get("/audit/batches?limit=2&material=NISO4")
    assert links_in(first, "B-") == numbers[:2]
    older = re.search(r'href="([^"]+)" rel="next"', first.get_data(as_text=True)).group(1)
    assert "material=NISO4" in older and "limit=2" in older
    second = auditor.get(html.unescape(older))
    assert links_in(second, "B-") == numbers[2:4]
    assert links_in(auditor.get("/audit/batches?limit=100000"), "B-") == numbers  # capped, not refused


def test_batch_search_runs_the_same_statements_for_two_rows_as_for_seven(client, auditor):
    hanbit, daewon = Applicant(client), Applicant(client, "Daewon Metals", "124-81-00002")
    new_batch(hanbit, evidence=False)
    new_batch(daewon, evidence=False)
    with statements_counted() as few:
        assert len(links_in(auditor.get("/audit/batches"), "B-")) == 2
    for applicant in (hanbit, daewon, hanbit, daewon, hanbit):
        new_batch(applicant, evidence=False)
    with statements_counted() as many:
        assert len(links_in(auditor.get("/audit/batches"), "B-")) == 7
    assert len(many) == len(few)


def test_a_search_with_an_impossible_period_is_refused_beside_the_field(auditor):
    response = auditor.get("/audit/batches", query_string={"period_from": day(0), "period_to": day(-5)})
    assert response.status_code == 422
    assert "The end of the period is before its start." in page_text(response)
    assert auditor.get("/audit/certificates?period_from=yesterday").status_code == 422


def test_text_from_companies_is_escaped_on_the_pages(client, auditor):
    applicant = Applicant(client, '<script>alert(1)</script>', "124-81-00001")
    new_batch(applicant, evidence=False)
    for path in ("/audit/batches", "/audit/trail?object_type=company"):
        body = auditor.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# Searching certificates

def test_certificate_search_filters_by_company_material_status_number_and_issue_day(client, auditor, reviewers,
                                                                                    worker):
    hanbit = Applicant(client, "Hanbit Battery Recycling", "124-81-00001")
    daewon = Applicant(client, "Daewon Metals", "124-81-00002")
    nickel = certified(client, hanbit, reviewers)["certificate_number"]
    cobalt_certificate = certified(client, hanbit, reviewers, **cobalt())["certificate_number"]
    suspended = certified(client, daewon, reviewers)["certificate_number"]
    assert client.post(f"/api/v1/certificates/{suspended}/suspend", headers=reviewers[0],
                       json={"reason": "site inspection"}).status_code == 200

    def found(**filters):
        response = auditor.get("/audit/certificates", query_string=filters)
        assert response.status_code == 200
        return links_in(response, "KR-RM-")

    assert found() == [suspended, cobalt_certificate, nickel]
    assert found(company=hanbit.company.id) == [cobalt_certificate, nickel]
    assert found(material="COSO4") == [cobalt_certificate]
    assert found(status="suspended") == [suspended]
    assert found(status="valid", material="NISO4") == [nickel]
    assert found(number=nickel) == [nickel]
    assert found(number=f"KR-RM-{UTC_TODAY.year}-") == [suspended, cobalt_certificate, nickel]
    today, tomorrow, yesterday = (str(UTC_TODAY + dt.timedelta(days=n)) for n in (0, 1, -1))
    assert found(period_from=today, period_to=today) == [suspended, cobalt_certificate, nickel]
    assert found(period_from=tomorrow) == [] and found(period_to=yesterday) == []


def test_certificate_search_rows_link_to_the_certificate_and_its_batch(client, auditor, reviewers, worker):
    batch = certified(client, Applicant(client), reviewers)
    body = auditor.get("/audit/certificates").get_data(as_text=True)
    assert f'href="/audit/certificates/{batch["certificate_number"]}"' in body
    assert f'href="/audit/batches/{batch["id"]}"' in body
    # The row's facts are the signed content's, as the certificate states them.
    row = html.unescape(re.search(rf'{batch["certificate_number"]}</a></td>(.*?)</tr>', body, re.DOTALL).group(1))
    content = auditor.get(f"/audit/certificates/{batch['certificate_number']}.json").get_json()["certificate"]
    period = f'{content["production_start"]} – {content["production_end"]}'
    for shown in (content["company"]["name"], content["material_code"], "10,000 kg",
                  f'{content["recycled_content_pct"]} %', period, content["issued_at"][:10], batch["number"], "valid"):
        assert shown in row, shown


def test_certificate_search_runs_the_same_statements_for_one_row_as_for_three(client, auditor, reviewers, worker):
    hanbit, daewon = Applicant(client), Applicant(client, "Daewon Metals", "124-81-00002")
    certified(client, hanbit, reviewers)
    certified(client, daewon, reviewers)
    certified(client, daewon, reviewers, **cobalt())
    only_hanbit = f"/audit/certificates?company={hanbit.company.id}"  # read before counting: the test's own query
    with statements_counted() as one:
        assert len(links_in(auditor.get(only_hanbit), "KR-RM-")) == 1
    with statements_counted() as three:
        assert len(links_in(auditor.get("/audit/certificates"), "KR-RM-")) == 3
    assert len(three) == len(one)


# The batch page and its downloads

def test_batch_page_shows_facts_inputs_computed_checks_documents_decisions_and_certificate(client, auditor,
                                                                                           reviewers, worker):
    applicant = Applicant(client)
    batch = certified(client, applicant, reviewers)
    response = auditor.get(f"/audit/batches/{batch['id']}")
    assert response.status_code == 200
    text = page_text(response)
    for shown in (batch["number"], "Hanbit Battery Recycling", "Pohang Plant", "NISO4", "10,000 kg", "99.3 %",
                  "KTR Pohang", batch["assay"]["report_no"], batch["inputs"][0]["lot_no"], "11,000 kg",
                  "93.76 %", "100 %", "Mass balance", "MASS_BALANCE", "LOT_ALLOCATION", "passed",
                  "assay.pdf", "ticket.png", "production.csv", batch["documents"][0]["sha256"],
                  "reviewer0@certify.test", "Evidence complete.", batch["certificate_number"]):
        assert shown in text, shown
    body = response.get_data(as_text=True)
    assert f'href="/audit/batches/{batch["id"]}/bundle.zip"' in body
    assert f'href="/audit/trail?object_type=batch&amp;object_id={batch["id"]}"' in body
    assert f'href="/audit/certificates/{batch["certificate_number"]}"' in body
    assert "<form" not in body.split("</header>", 1)[1].replace('<form method="get"', "")  # nothing to submit


def test_a_document_downloads_as_the_uploaded_bytes_and_as_an_attachment(client, auditor):
    applicant = Applicant(client)
    batch = new_batch(applicant)
    document = applicant.get(f"/api/v1/batches/{batch['id']}").get_json()["documents"][0]
    response = auditor.get(f"/audit/batches/{batch['id']}/documents/{document['id']}")
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == document["sha256"]
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert auditor.get(f"/audit/batches/{batch['id']}/documents/{document['id'] + 1000}").status_code == 404


def test_evidence_bundle_downloads_as_a_zip_whose_manifest_hashes_match_its_files(client, auditor, reviewers,
                                                                                  worker):
    batch = certified(client, Applicant(client), reviewers)
    response = auditor.get(f"/audit/batches/{batch['id']}/bundle.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert f"{batch['number']}-bundle.zip" in response.headers["Content-Disposition"]
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["batch"]["number"] == batch["number"]
    assert manifest["certificate"]["certificate"]["number"] == batch["certificate_number"]
    assert len(manifest["files"]) == 3
    for item in manifest["files"]:
        content = bundle.read(item["path"])
        assert hashlib.sha256(content).hexdigest() == item["sha256"] and len(content) == item["size"]
    seqs = [item["seq"] for item in manifest["audit_events"]]
    assert seqs == sorted(seqs) and len(seqs) > 5


def test_an_unknown_batch_is_404(auditor):
    assert auditor.get("/audit/batches/999999").status_code == 404
    assert auditor.get("/audit/batches/999999/bundle.zip").status_code == 404


# The certificate page and its downloads

def test_certificate_page_shows_facts_status_and_links(client, auditor, reviewers, worker):
    batch = certified(client, Applicant(client), reviewers)
    number = batch["certificate_number"]
    assert client.post(f"/api/v1/certificates/{number}/suspend", headers=reviewers[0],
                       json={"reason": "site inspection pending"}).status_code == 200
    response = auditor.get(f"/audit/certificates/{number}")
    assert response.status_code == 200
    text = page_text(response)
    for shown in (number, batch["number"], "Hanbit Battery Recycling", "124-81-00001", "NISO4", "10,000 kg",
                  "100 %", "suspended", "site inspection pending", "mass balance", "reviewer0@certify.test"):
        assert shown in text, shown
    body = response.get_data(as_text=True)
    for link in (f"/audit/certificates/{number}.pdf", f"/audit/certificates/{number}.json",
                 f"/audit/trail?object_type=certificate&amp;object_id={number}", f"/audit/batches/{batch['id']}"):
        assert f'href="{link}"' in body, link


def test_certificate_pdf_downloads_as_an_attachment(client, auditor, reviewers, worker):
    number = certified(client, Applicant(client), reviewers)["certificate_number"]
    response = auditor.get(f"/audit/certificates/{number}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert number in "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def test_certificate_json_downloads_the_signed_document_that_verifies(client, auditor, reviewers, worker):
    number = certified(client, Applicant(client), reviewers)["certificate_number"]
    response = auditor.get(f"/audit/certificates/{number}.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment") and f"{number}.json" in response.headers[
        "Content-Disposition"]
    document = json.loads(response.data)
    assert document["certificate"]["number"] == number and document["status"] == "valid"
    verified = client.post("/api/v1/public/verify", json=document).get_json()
    assert verified["valid_signature"] is True and verified["number"] == number


def test_an_unknown_certificate_is_404(auditor):
    for suffix in ("", ".pdf", ".json"):
        assert auditor.get(f"/audit/certificates/KR-RM-2000-999999{suffix}").status_code == 404


# The audit trail

def test_trail_of_a_batch_lists_its_events_oldest_first(client, auditor, reviewers, worker):
    batch = certified(client, Applicant(client), reviewers)
    response = auditor.get(f"/audit/trail?object_type=batch&object_id={batch['id']}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    seqs = [int(seq) for seq in re.findall(r'<tr id="seq-(\d+)"', body)]
    assert seqs == sorted(seqs) and len(seqs) >= 7
    actions = re.findall(r'<td class="action"><code>([a-z_.]+)</code>', body)
    assert actions[0] == "batch.created" and actions[-1] == "batch.approve"
    assert actions.count("document.uploaded") == 3 and "check_run.finished" in actions
    text = html.unescape(body)
    assert f"Audit trail of batch {batch['number']}" in text
    assert "applicant-" in text and "reviewer0@certify.test" in text and "system" in text  # the worker is no one
    assert '"report_no"' in text  # the data, pretty-printed
    first_hash = db.session.scalar(db.text("SELECT hash FROM audit_events WHERE object_type = 'batch' "
                                           "AND object_id = :id ORDER BY seq LIMIT 1"), {"id": str(batch["id"])})
    assert f'title="{first_hash}">{first_hash[:10]}…</code>' in body  # abbreviated, whole on hover


def test_the_whole_trail_is_newest_first_and_pages_to_earlier_events(client, auditor, app):
    applicant = Applicant(client)
    for _ in range(55):  # a lot and a batch each: more than one page of 100 events
        new_batch(applicant, evidence=False)
    first = auditor.get("/audit/trail").get_data(as_text=True)
    seqs = [int(seq) for seq in re.findall(r'<tr id="seq-(\d+)"', first)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 100
    earlier = html.unescape(re.search(r'href="([^"]+)" rel="next"', first).group(1))
    assert f"before={seqs[-1]}" in earlier
    rest = [int(seq) for seq in re.findall(r'<tr id="seq-(\d+)"', auditor.get(earlier).get_data(as_text=True))]
    assert rest and max(rest) == seqs[-1] - 1


def test_chain_verification_page_reports_ok_then_the_first_edited_row(client, auditor, reviewers, worker):
    certified(client, Applicant(client), reviewers)
    page = visible_text(auditor.get("/audit/verify"))
    assert "The chain holds" in page and "ok true" in page and "first_bad_seq null" in page
    target = db.session.scalar(db.text("SELECT seq FROM audit_events WHERE action = 'document.uploaded' "
                                       "ORDER BY seq LIMIT 1"))
    tamper_with_audit_trail("UPDATE audit_events SET data = '{\"filename\": \"forged.pdf\"}' WHERE seq = :seq", {"seq": target})
    response = auditor.get("/audit/verify")
    assert response.status_code == 200
    page = visible_text(response)
    assert f"The chain is broken at event {target}" in page
    assert "ok false" in page and f"first_bad_seq {target}" in page and f"events verified {target - 1}" in page
    assert f'href="/audit/trail?before={target + 1}"' in response.get_data(as_text=True)
    trail = auditor.get(f"/audit/trail?before={target + 1}").get_data(as_text=True)
    assert f'<tr id="seq-{target}" class="tampered">' in trail and "hash does not match" in trail


# The certificate register as CSV

def csv_download(browser, path):
    """A streamed download, read while the request is still open (the test client's isolated context ends with it)."""
    return browser.get(path, buffered=True)


def register(response) -> list[list[str]]:
    assert response.data.startswith("\ufeff".encode())  # UTF-8 with BOM, for Excel
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_register_csv_lists_the_certificates_and_neutralises_formulas(client, auditor, reviewers, worker):
    formula = Applicant(client, '=HYPERLINK("http://x")', "+1")
    formula.facility = admin.create_facility(None, **{**{c: getattr(formula.facility, c) for c in (
        "company_id", "permit_no", "permit_valid_until", "process", "annual_capacity_kg")}, "name": "@SUM(1)"})
    minus = Applicant(client, "-1", "124-81-00002")
    korean = Applicant(client, "한빛 배터리 리사이클링", "124-81-00003")
    first = certified(client, formula, reviewers)
    second = certified(client, minus, reviewers, **cobalt())
    third = certified(client, korean, reviewers)
    response = csv_download(auditor, "/audit/certificates.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="certificate-register-')
    header, *rows = register(response)
    assert header == REGISTER_HEADER
    by_number = {row[0]: dict(zip(header, row)) for row in rows}
    assert list(by_number) == [third["certificate_number"], second["certificate_number"],
                               first["certificate_number"]]
    forged = by_number[first["certificate_number"]]
    assert forged["company"] == '\'=HYPERLINK("http://x")'
    assert forged["business_registration_no"] == "'+1" and forged["facility"] == "'@SUM(1)"
    assert by_number[second["certificate_number"]]["company"] == "'-1"
    hangul = by_number[third["certificate_number"]]
    assert hangul["company"] == "한빛 배터리 리사이클링" and hangul["status"] == "valid"
    assert hangul["material_code"] == "NISO4" and hangul["grade"] == "battery"
    assert hangul["quantity_kg"] == "10000" and hangul["recycled_content_pct"] == "100"
    assert hangul["production_start"] == day(-40) and hangul["issued_at"].endswith("Z")
    document = client.get(f"/api/v1/certificates/{third['certificate_number']}", headers=korean.headers).get_json()
    assert hangul["key_id"] == document["key_id"] and hangul["verification_code"] == document["verification_code"]
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row


def test_register_csv_takes_the_search_filters(client, auditor, reviewers, worker):
    hanbit, daewon = Applicant(client), Applicant(client, "Daewon Metals", "124-81-00002")
    certified(client, hanbit, reviewers)
    kept = certified(client, daewon, reviewers, **cobalt())["certificate_number"]
    only_daewon_cobalt = f"/audit/certificates.csv?company={daewon.company.id}&material=COSO4"
    rows = register(csv_download(auditor, only_daewon_cobalt))[1:]
    assert [row[0] for row in rows] == [kept]
    search = auditor.get(f"/audit/certificates?company={daewon.company.id}&material=COSO4").get_data(as_text=True)
    assert f'href="/audit/certificates.csv?company={daewon.company.id}&amp;material=COSO4"' in search


def test_register_csv_reads_the_register_in_chunks(client, auditor, reviewers, worker, monkeypatch):
    import certify.web.audit as audit_pages

    monkeypatch.setattr(audit_pages, "EXPORT_CHUNK_SIZE", 1)
    applicant = Applicant(client)
    numbers = [certified(client, applicant, reviewers)["certificate_number"] for _ in range(3)]
    with statements_counted() as statements:
        rows = register(csv_download(auditor, "/audit/certificates.csv"))[1:]
    assert [row[0] for row in rows] == numbers[::-1]
    register_queries = [s for s in statements if "FROM certificates" in s]
    assert len(register_queries) == 4  # three chunks of one, then one that finds nothing more


# Who may see these pages, and that they only read

def audit_paths(app, batch_id=999999, number="KR-RM-2000-999999") -> list[str]:
    with app.test_request_context():
        return [url_for(rule.endpoint, **{name: batch_id if name != "number" else number
                                          for name in rule.arguments})
                for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")]


def test_every_audit_page_is_for_auditors_and_admins_only(app, client, ctx):
    paths = audit_paths(app)
    assert len(paths) == 12
    for role, company in (("applicant", Applicant(client).company), ("reviewer", None)):
        browser = app.test_client()
        login(browser, make_user(role, email=f"{role}-x@certify.test", company=company).email)
        for path in paths:
            assert browser.get(path).status_code == 403, (role, path)
    for path in paths:
        response = app.test_client().get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_admins_read_the_audit_pages_too(app, client, ctx):
    browser = app.test_client()
    login(browser, make_user("admin").email)
    for path in ("/audit/batches", "/audit/certificates", "/audit/trail", "/audit/verify"):
        assert browser.get(path).status_code == 200, path
    assert csv_download(browser, "/audit/certificates.csv").status_code == 200


def test_every_audit_page_answers_only_get(app, auditor):
    for path in audit_paths(app):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            assert auditor.open(path, method=method).status_code == 405, (method, path)


def test_the_auditor_menu_leads_to_the_four_sections(auditor):
    body = auditor.get("/audit/batches").get_data(as_text=True)
    nav = body.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'<a href="(/audit/[^"]*)"', nav) == ["/audit/batches", "/audit/certificates", "/audit/trail",
                                                            "/audit/verify"]
    assert '<a href="/audit/batches" aria-current="page">' in nav
