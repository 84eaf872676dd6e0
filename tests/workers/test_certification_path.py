"""api.md's whole path, against PostgreSQL, Redis and a real worker: lot to verified certificate, and after."""
import base64
import hashlib
import io
import json
import re
import zipfile

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pypdf import PdfReader

from certify.services import admin
from tests.helpers import (
    Applicant,
    bearer,
    make_user,
    tamper_with_audit_trail,
    token_for,
)
from tests.workers.test_check_runs import wait_for_status


def reviewers(client, count=2):
    return [bearer(token_for(client, make_user("reviewer", email=f"reviewer{n}@certify.test").email))
            for n in range(count)]


def approved_batch(client, applicant, **overrides):
    batch = applicant.ready_batch(**overrides)
    applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    batch = wait_for_status(applicant, batch["id"])
    assert batch["status"] == "awaiting_review", batch["checks"]
    for headers in reviewers(client, batch["approvals_required"]):
        response = client.post(f"/api/v1/batches/{batch['id']}/decision", headers=headers,
                               json={"decision": "approve", "comment": "ok", "version": batch["version"]})
        assert response.status_code == 200, response.get_json()
        batch = response.get_json()
    return batch


def test_lot_to_verified_certificate(client, ctx, worker):
    applicant = Applicant(client)
    batch = approved_batch(client, applicant)
    number = batch["certificate_number"]
    assert batch["status"] == "approved"
    assert re.fullmatch(r"KR-RM-\d{4}-\d{6}", number)
    document = applicant.get(f"/api/v1/certificates/{number}").get_json()
    certificate = document["certificate"]
    assert certificate["number"] == number and certificate["batch_number"] == batch["number"]
    assert certificate["quantity_kg"] == 10000 and certificate["recycled_content_pct"] == 100
    assert certificate["chain_of_custody"] == "mass_balance" and certificate["ruleset_version"] == 1
    assert len(certificate["approved_by"]) == 2 and len(certificate["documents"]) == 3

    keys = client.get("/.well-known/certify-keys.json").get_json()["keys"]
    key = next(k for k in keys if k["key_id"] == document["key_id"])
    signed = json.dumps(certificate, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    signature = base64.b64decode(document["signature"])
    Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"])).verify(signature, signed)
    assert document["verification_code"] == hashlib.sha256(signature).hexdigest()[:12]

    code = document["verification_code"]
    public = client.get(f"/api/v1/public/certificates/{number}?code={code}")
    assert public.status_code == 200 and public.get_json()["status"] == "valid"
    assert public.get_json()["company_name"] == "Hanbit Battery Recycling"
    for wrong in (f"/api/v1/public/certificates/{number}", f"/api/v1/public/certificates/{number}?code=000000000000",
                  f"/api/v1/public/certificates/KR-RM-2000-999999?code={code}"):
        assert client.get(wrong).status_code == 404
    verified = client.post("/api/v1/public/verify", json=document).get_json()
    assert verified["valid_signature"] is True and verified["status"] == "valid" and verified["number"] == number
    tampered = {**document, "certificate": {**certificate, "quantity_kg": 20000}}
    assert client.post("/api/v1/public/verify", json=tampered).get_json()["valid_signature"] is False

    pdf = applicant.get(f"/api/v1/certificates/{number}.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert number in text and code in text


def test_certificate_status_changes_and_revocation_is_final(client, ctx, worker):
    applicant = Applicant(client)
    number = approved_batch(client, applicant)["certificate_number"]
    reviewer = bearer(token_for(client, "reviewer0@certify.test"))
    base = f"/api/v1/certificates/{number}"
    assert client.post(f"{base}/suspend", json={}, headers=reviewer).status_code == 422
    assert client.post(f"{base}/suspend", json={"reason": "inspection"}, headers=reviewer).get_json()[
        "status"] == "suspended"
    assert client.post(f"{base}/suspend", json={"reason": "again"}, headers=reviewer).status_code == 409
    assert client.post(f"{base}/reinstate", json={"reason": "cleared"}, headers=reviewer).get_json()[
        "status"] == "valid"
    assert applicant.post(f"{base}/revoke", json={"reason": "mine"}).status_code == 403
    make_user("admin")
    admin_headers = bearer(token_for(client, "admin@certify.test"))
    revoked = client.post(f"{base}/revoke", json={"reason": "fraud"}, headers=admin_headers)
    assert revoked.get_json()["status"] == "revoked"
    for event in ("suspend", "reinstate", "revoke"):
        assert client.post(f"{base}/{event}", json={"reason": "x"}, headers=reviewer).status_code == 409
    # the signed content never changes with the status
    assert applicant.get(base).get_json()["signature"] == revoked.get_json()["signature"]


def test_evidence_bundle_matches_its_files(client, ctx, worker):
    applicant = Applicant(client)
    batch = approved_batch(client, applicant)
    response = applicant.get(f"/api/v1/batches/{batch['id']}/bundle.zip")
    assert response.status_code == 200
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["batch"]["id"] == batch["id"]
    assert manifest["certificate"]["certificate"]["number"] == batch["certificate_number"]
    assert [e["seq"] for e in manifest["audit_events"]] == sorted(e["seq"] for e in manifest["audit_events"])
    assert len(manifest["files"]) == 3
    for item in manifest["files"]:
        assert hashlib.sha256(bundle.read(item["path"])).hexdigest() == item["sha256"]


def test_a_single_approval_suffices_without_warnings_or_four_eyes(client, ctx, worker):
    admin.create_lab(None, "KOLAS-T-0417", "KTR Pohang")
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    batch = wait_for_status(applicant, batch["id"])
    assert batch["approvals_required"] == 1, batch["checks"]
    [reviewer] = reviewers(client, 1)
    approved = client.post(f"/api/v1/batches/{batch['id']}/decision", headers=reviewer,
                           json={"decision": "approve", "version": batch["version"]}).get_json()
    assert approved["status"] == "approved" and approved["certificate_number"]


def test_four_eyes_needs_a_second_reviewer(client, ctx, worker):
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    batch = wait_for_status(applicant, batch["id"])
    first, second = reviewers(client)
    once = client.post(f"/api/v1/batches/{batch['id']}/decision", headers=first,
                       json={"decision": "approve", "version": batch["version"]}).get_json()
    assert once["status"] == "awaiting_review" and once["certificate_number"] is None
    same = client.post(f"/api/v1/batches/{batch['id']}/decision", headers=first,
                       json={"decision": "approve", "version": once["version"]})
    assert same.status_code == 409
    twice = client.post(f"/api/v1/batches/{batch['id']}/decision", headers=second,
                        json={"decision": "approve", "version": once["version"]}).get_json()
    assert twice["status"] == "approved" and twice["certificate_number"]


def test_decisions_are_refused_outside_awaiting_review_and_need_comments(client, ctx):
    applicant = Applicant(client)
    batch = applicant.batch()
    [reviewer] = reviewers(client, 1)
    draft = client.post(f"/api/v1/batches/{batch['id']}/decision", headers=reviewer,
                        json={"decision": "approve", "version": batch["version"]})
    assert draft.status_code == 409
    no_comment = client.post(f"/api/v1/batches/{batch['id']}/decision", headers=reviewer,
                             json={"decision": "reject", "version": batch["version"]})
    assert no_comment.status_code == 422 and "comment" in no_comment.get_json()["error"]["fields"]
    assert applicant.post(f"/api/v1/batches/{batch['id']}/decision",
                          json={"decision": "approve", "version": 1}).status_code == 403


def test_audit_trail_verifies_and_points_at_an_edited_row(client, ctx, worker):
    applicant = Applicant(client)
    approved_batch(client, applicant)
    make_user("auditor")
    auditor = bearer(token_for(client, "auditor@certify.test"))
    assert client.get("/api/v1/audit-events/verify", headers=auditor).get_json()["ok"] is True
    events = client.get("/api/v1/audit-events?limit=200", headers=auditor).get_json()["items"]
    target = events[len(events) // 2]["seq"]
    tamper_with_audit_trail("UPDATE audit_events SET data = '{\"forged\": true}' WHERE seq = :seq", {"seq": target})
    result = client.get("/api/v1/audit-events/verify", headers=auditor).get_json()
    assert result == {"ok": False, "events": target - 1, "first_bad_seq": target}
    assert client.get("/api/v1/audit-events/verify", headers=bearer(applicant.headers["Authorization"][7:])
                      ).status_code == 403


