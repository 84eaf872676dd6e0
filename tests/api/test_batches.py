"""api.md, Batches: create, read, list, edit while editable, evidence, submit."""
import hashlib

from certify.extensions import db
from certify.models import AuditEvent, CheckRun
from certify.request_limits import LARGE_READ_BYTES
from certify.storage import document_store
from tests.helpers import (
    Applicant,
    api_headers_for,
    batch_body,
    bearer,
    evidence_files,
    lot_held,
    make_company,
    make_facility,
    make_user,
    minimal_pdf,
    seed_batch_rows,
    token_for,
)


def test_create_batch_answers_the_batch_as_a_draft(client, ctx):
    applicant = Applicant(client)
    lot = applicant.lot()
    batch = applicant.batch(lot["id"])
    assert batch["status"] == "draft" and batch["version"] == 1
    assert batch["number"] == f"B-{batch['created_at'][:4]}-{batch['id']:06d}"
    assert batch["inputs"] == [{"lot_id": lot["id"], "lot_no": "IN-2026-0042", "mass_kg": 11000}]
    assert batch["assay"]["purity_pct"] == 99.3 and batch["claim"] == {"recycled_content_pct": 100}
    assert batch["checks"] == [] and batch["computed"] is None and batch["certificate_number"] is None
    assert applicant.get(f"/api/v1/batches/{batch['id']}").get_json() == batch


def test_grade_defaults_to_battery(client, ctx):
    applicant = Applicant(client)
    body = batch_body(applicant.facility, applicant.lot()["id"])
    del body["grade"]
    assert applicant.post("/api/v1/batches", json=body).get_json()["grade"] == "battery"


def test_idempotency_key_replays_the_first_answer(client, ctx):
    applicant = Applicant(client)
    body = batch_body(applicant.facility, applicant.lot()["id"])
    first = applicant.post("/api/v1/batches", json=body, headers={"Idempotency-Key": "k-1"})
    again = applicant.post("/api/v1/batches", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert len(applicant.get("/api/v1/batches").get_json()["items"]) == 1
    other = applicant.post("/api/v1/batches", json={**body, "quantity_kg": 9000},
                           headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422


def test_invalid_batches_are_refused_field_by_field(client, ctx):
    applicant = Applicant(client)
    lot = applicant.lot()
    body = batch_body(applicant.facility, lot["id"], material_code="GOLD", quantity_kg=0, grade="premium",
                      production_start="2026-03-10", production_end="2026-03-01")
    body["inputs"] = [{"lot_id": lot["id"], "mass_kg": -1}]
    fields = applicant.post("/api/v1/batches", json=body).get_json()["error"]["fields"]
    assert set(fields) >= {"quantity_kg", "grade", "production_end", "inputs.0.mass_kg"}
    unknown_material = applicant.post("/api/v1/batches", json=batch_body(applicant.facility, lot["id"],
                                                                         material_code="GOLD"))
    assert unknown_material.status_code == 422
    assert unknown_material.get_json()["error"]["fields"] == {"material_code": ["unknown material"]}
    unknown_lot = applicant.post("/api/v1/batches", json=batch_body(applicant.facility, 999999))
    assert unknown_lot.get_json()["error"]["fields"] == {"inputs.0.lot_id": ["no such lot of your company"]}


def test_a_lot_of_another_company_or_facility_is_refused(client, ctx):
    from tests.helpers import make_facility

    mine, theirs = Applicant(client), Applicant(client, "Other Co", "999-99-99999")
    response = mine.post("/api/v1/batches", json=batch_body(mine.facility, theirs.lot()["id"]))
    assert response.status_code == 422
    second_plant = make_facility(mine.company, name="Second Plant")
    lot = mine.lot(facility_id=second_plant.id)
    response = mine.post("/api/v1/batches", json=batch_body(mine.facility, lot["id"]))
    assert response.status_code == 422
    assert "another facility" in response.get_json()["error"]["fields"]["inputs.0.lot_id"][0]


def test_mass_assignment_is_refused(client, ctx):
    applicant = Applicant(client)
    body = batch_body(applicant.facility, applicant.lot()["id"], status="approved", company_id=99, version=7)
    fields = applicant.post("/api/v1/batches", json=body).get_json()["error"]["fields"]
    assert set(fields) == {"status", "company_id", "version"}


def test_patch_edits_a_draft_and_bumps_its_version(client, ctx):
    applicant = Applicant(client)
    batch = applicant.batch()
    response = applicant.patch(f"/api/v1/batches/{batch['id']}", json={"quantity_kg": 9000.5})
    assert response.status_code == 200
    assert response.get_json()["quantity_kg"] == 9000.5 and response.get_json()["version"] == 2


def test_upload_download_and_delete_a_document(client, ctx):
    applicant = Applicant(client)
    batch = applicant.batch()
    data = minimal_pdf("Assay report R-26-1187")
    uploaded = applicant.upload(batch["id"], "assay_report", "../../etc/passwd.pdf", data)
    assert uploaded.status_code == 201
    document = uploaded.get_json()
    assert document["sha256"] == hashlib.sha256(data).hexdigest() and document["size"] == len(data)
    assert document["media_type"] == "application/pdf" and "/" not in document["filename"]
    download = applicant.get(f"/api/v1/batches/{batch['id']}/documents/{document['id']}")
    assert download.status_code == 200 and download.data == data
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert applicant.delete(f"/api/v1/batches/{batch['id']}/documents/{document['id']}").status_code == 204
    assert applicant.get(f"/api/v1/batches/{batch['id']}").get_json()["documents"] == []


def test_upload_refuses_unknown_types_and_kinds(client, ctx):
    applicant = Applicant(client)
    batch = applicant.batch()
    html = applicant.upload(batch["id"], "assay_report", "report.pdf", b"<html><script>alert(1)</script></html>")
    assert html.status_code == 415
    assert html.get_json()["error"]["code"] == "unsupported_media_type"
    kind = applicant.upload(batch["id"], "selfie", "a.pdf", minimal_pdf("x"))
    assert kind.status_code == 422 and "kind" in kind.get_json()["error"]["fields"]


def test_upload_over_the_limit_is_413(app, client, ctx):
    applicant = Applicant(client)
    batch = applicant.batch()
    limit = app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    response = applicant.upload(batch["id"], "other", "big.csv", b"a" * (limit + 1))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_an_upload_larger_than_a_read_from_the_server_arrives_whole(client, ctx):
    applicant = Applicant(client)
    batch = applicant.batch()
    data = "".join(f"{row},{row * 7919 % 100003}\n" for row in range(200_000)).encode()
    assert len(data) > 4 * LARGE_READ_BYTES
    uploaded = applicant.upload(batch["id"], "production_record", "log.csv", data)
    assert uploaded.status_code == 201, uploaded.get_json()
    document = uploaded.get_json()
    assert document["kind"] == "production_record" and document["size"] == len(data)
    assert document_store().path_for(document["sha256"]).read_bytes() == data


def test_an_upload_is_written_once_into_the_store_and_nothing_is_left_in_staging(app, client, ctx):
    applicant = Applicant(client)
    batch = applicant.batch()
    staging = document_store().staging
    before = set(staging.iterdir())
    data = minimal_pdf("Assay report R-26-1188")
    limit = app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    answers = [applicant.upload(batch["id"], "assay_report", "report.pdf", data),
               applicant.upload(batch["id"], "assay_report", "report.pdf", b"<html></html>"),
               applicant.upload(batch["id"], "selfie", "report.pdf", data),
               applicant.upload(batch["id"], "other", "big.csv", b"a" * (limit + 1))]
    assert [answer.status_code for answer in answers] == [201, 415, 422, 413]
    assert set(staging.iterdir()) == before
    assert document_store().path_for(hashlib.sha256(data).hexdigest()).read_bytes() == data


def test_submit_moves_to_checking_and_queues_one_run(client, ctx):
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    response = applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    assert response.status_code == 202 and response.get_json() == {"status": "checking"}
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(CheckRun.id))) == 1
    again = applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    assert again.status_code == 409
    edit = applicant.patch(f"/api/v1/batches/{batch['id']}", json={"quantity_kg": 1})
    assert edit.status_code == 409
    upload = applicant.upload(batch["id"], *evidence_files()[0])
    assert upload.status_code == 409


def test_every_change_is_in_the_audit_trail(client, ctx):
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    db.session.expire_all()
    actions = db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.object_type == "batch", AuditEvent.object_id == str(batch["id"])).order_by(AuditEvent.seq)).all()
    assert actions == ["batch.created", "document.uploaded", "document.uploaded", "document.uploaded",
                       "batch.submitted"]


def test_applicants_never_see_another_companys_batches(client, ctx):
    mine, theirs = Applicant(client), Applicant(client, "Other Co", "999-99-99999")
    batch = theirs.ready_batch()
    for method, path in [("get", f"/api/v1/batches/{batch['id']}"),
                         ("patch", f"/api/v1/batches/{batch['id']}"),
                         ("post", f"/api/v1/batches/{batch['id']}/submit"),
                         ("get", f"/api/v1/batches/{batch['id']}/documents/{batch['id']}")]:
        response = getattr(mine, method)(path, json={}) if method != "get" else mine.get(path)
        assert response.status_code == 404, (method, path)
    assert mine.get("/api/v1/batches").get_json()["items"] == []


def test_reviewer_lists_batches_filtered_by_status(client, ctx):
    applicant = Applicant(client)
    lot = applicant.lot()
    first = applicant.ready_batch(lot_id=lot["id"])
    applicant.batch()
    make_user("reviewer")
    headers = bearer(token_for(client, "reviewer@certify.test"))
    with lot_held(lot["lot_no"]):  # a worker left running by an earlier test cannot finish the checks meanwhile
        applicant.post(f"/api/v1/batches/{first['id']}/submit")
        checking = client.get("/api/v1/batches?status=checking", headers=headers).get_json()["items"]
    assert [b["id"] for b in checking] == [first["id"]]
    assert client.get("/api/v1/batches?status=nonsense", headers=headers).status_code == 422
    assert client.post("/api/v1/batches", json={}, headers=headers).status_code == 403


def test_patch_changes_the_mass_taken_from_a_lot_already_among_the_inputs(client, ctx):
    applicant = Applicant(client)
    first_lot, second_lot = applicant.lot(), applicant.lot()
    batch = applicant.batch(first_lot["id"])
    response = applicant.patch(f"/api/v1/batches/{batch['id']}", json={"inputs": [
        {"lot_id": second_lot["id"], "mass_kg": 500}, {"lot_id": first_lot["id"], "mass_kg": 10500}]})
    assert response.status_code == 200, response.get_json()
    assert [(i["lot_id"], i["mass_kg"]) for i in response.get_json()["inputs"]] == [
        (second_lot["id"], 500), (first_lot["id"], 10500)]


SUMMARY_KEYS = {"id", "number", "company_id", "facility_id", "material_code", "grade", "quantity_kg",
                "production_start", "production_end", "status", "version", "claim", "approvals_required",
                "certificate_number", "created_at", "submitted_at"}


def test_a_list_entry_is_the_batch_summary_and_agrees_with_the_batch(client, ctx):
    """Lists give each batch's summary (the batch itself is one GET away): 50 full batches would carry 700
    check results. Every field of the summary is the batch's own."""
    company = make_company()
    seed_batch_rows(company, make_facility(company), make_user("reviewer"), 5)
    db.session.commit()
    headers = api_headers_for(client, "auditor")
    items = client.get("/api/v1/batches", headers=headers).get_json()["items"]
    assert len(items) == 5 and all(set(item) == SUMMARY_KEYS for item in items)
    assert {item["status"] for item in items} == {"draft", "checks_failed", "awaiting_review", "changes_requested",
                                                  "approved"}
    for item in items:
        batch = client.get(f"/api/v1/batches/{item['id']}", headers=headers).get_json()
        assert item == {key: batch[key] for key in SUMMARY_KEYS}
    approved = next(item for item in items if item["status"] == "approved")
    assert approved["certificate_number"] and all(
        item["certificate_number"] is None for item in items if item is not approved)


def test_a_document_whose_file_left_the_store_is_a_clear_error(app, client, ctx, caplog):
    """Not a stack trace: the record is kept, the caller is told the file is missing, the operators are alerted."""
    applicant = Applicant(client)
    batch = applicant.batch()
    document = applicant.upload(batch["id"], "assay_report", "assay.pdf", minimal_pdf("Assay R-1")).get_json()
    document_store().path_for(document["sha256"]).unlink()
    response = applicant.get(f"/api/v1/batches/{batch['id']}/documents/{document['id']}")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "document_file_missing"
    assert "missing from the document store" in response.get_json()["error"]["message"]
    assert any(document["sha256"] in record.getMessage() for record in caplog.records if record.levelname == "ERROR")
    assert applicant.get(f"/api/v1/batches/{batch['id']}").get_json()["documents"][0]["sha256"] == document["sha256"]
