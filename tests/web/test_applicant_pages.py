"""The applicant's HTML pages, driven through the real forms with their CSRF tokens."""
import io
import re
import time
from decimal import Decimal

import pytest

from certify.domain.checks import CHECK_CODES
from certify.extensions import db
from certify.models import Batch, Document, FeedstockLot
from certify.web.formatting import describe_details, kg, number, pct
from tests.helpers import (
    Applicant,
    batch_form,
    csrf_token_from,
    day,
    evidence_files,
    login,
    lot_form,
    make_facility,
    make_user,
    submit_form,
)


def signed_in(client, name="Hanbit Battery Recycling", registration_no="124-81-00001") -> Applicant:
    """An applicant of a fresh company with one facility, signed in to the HTML pages."""
    applicant = Applicant(client, name, registration_no)
    login(client, applicant.user.email)
    return applicant


def text_of(response) -> str:
    return response.get_data(as_text=True)


def errors_beside(html: str, field_id: str) -> str:
    """The error list rendered beside one input (the field macro names it `<id>-errors`)."""
    match = re.search(rf'<ul class="errors" id="{re.escape(field_id)}-errors">(.*?)</ul>', html, re.DOTALL)
    assert match, f"no errors shown beside {field_id}"
    return match.group(1)


def row_cells(html: str, containing: str) -> list[str]:
    """The text of each cell of the table row that mentions `containing`."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL):
        if containing in row:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
            return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
    raise AssertionError(f"no table row mentions {containing}")


def register_lot(client, facility, **overrides) -> FeedstockLot:
    response = submit_form(client, "/lots/new", lot_form(facility, **overrides))
    assert response.status_code == 302, errors_or_page(response)
    return db.session.scalar(db.select(FeedstockLot).order_by(FeedstockLot.id.desc()))


def create_batch(client, facility, inputs, **overrides) -> Batch:
    response = submit_form(client, "/batches/new", batch_form(facility, inputs, **overrides))
    assert response.status_code == 302, errors_or_page(response)
    batch_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    return db.session.get(Batch, batch_id)


def errors_or_page(response) -> str:
    html = text_of(response)
    return "\n".join(re.findall(r'<ul class="errors"[^>]*>(.*?)</ul>', html, re.DOTALL)) or html[-2000:]


def upload(client, batch_id, kind, filename, data, token=None):
    token = token or csrf_token_from(text_of(client.get(f"/batches/{batch_id}")))
    return client.post(f"/batches/{batch_id}/documents", content_type="multipart/form-data",
                       data={"kind": kind, "file": (io.BytesIO(data), filename), "csrf_token": token})


def post_action(client, batch_id, path):
    """Presses a button on the batch page (submit, remove a document): a form carrying the page's CSRF token."""
    token = csrf_token_from(text_of(client.get(f"/batches/{batch_id}")))
    return client.post(path, data={"csrf_token": token})


def ready_batch(client, applicant, **overrides) -> Batch:
    """A batch made through the forms, drawing 11 t of a 12 t lot, with its three kinds of evidence."""
    lot = register_lot(client, applicant.facility)
    batch = create_batch(client, applicant.facility, [(lot.id, "11,000")], **overrides)
    report_no = overrides.get("assay-report_no", "R-26-1187")
    for kind, filename, data in evidence_files(report_no, tag=str(batch.id)):
        assert upload(client, batch.id, kind, filename, data).status_code == 302
    return batch


def wait_until_checked(client, batch_id, timeout=60) -> dict:
    """Polls progress.json as the page's script does, until the check run is done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = client.get(f"/batches/{batch_id}/progress.json").get_json()
        if progress["phase"] == "done":
            return progress
        assert progress["status"] == "checking" and progress["message"]
        time.sleep(0.3)
    raise AssertionError(f"batch {batch_id} still checking after {timeout} s")


# Feedstock lots

def test_a_registered_lot_is_listed_with_its_remaining_mass(client, ctx):
    applicant = signed_in(client)
    response = submit_form(client, "/lots/new", lot_form(applicant.facility, lot_no="IN-2026-0042"))
    assert response.status_code == 302 and response.headers["Location"] == "/lots"
    page = text_of(client.get("/lots"))
    assert "Lot IN-2026-0042 is registered: 12,000 kg." in page
    assert "IN-2026-0042" in page and "Pohang Plant" in page and "Ni 21.5 %" in page
    assert row_cells(page, "IN-2026-0042")[-3:] == ["12,000 kg", "0 kg", "12,000 kg"]  # mass, reserved, remaining
    lot = db.session.scalar(db.select(FeedstockLot))
    assert lot.mass_kg == 12000 and lot.element_content_pct == {"Li": Decimal("3.4"), "Ni": Decimal("21.5"),
                                                                 "Co": Decimal("6.8"), "Mn": Decimal("6.1")}


def test_lot_form_shows_each_problem_beside_its_field(client, ctx):
    applicant = signed_in(client)
    response = submit_form(client, "/lots/new", lot_form(
        applicant.facility, mass_kg="0", received_on="", category="",
        element_content_pct="Ni = 21.5\nnickel lots\nXx = 3\nCo = 101\nMn = 6,1"))
    assert response.status_code == 422
    html = text_of(response)
    assert "greater than 0" in errors_beside(html, "mass_kg")
    assert "This is required." in errors_beside(html, "received_on")
    assert "This is required." in errors_beside(html, "category")
    content_errors = errors_beside(html, "element_content_pct")
    assert "Line 2" in content_errors and "not an element symbol" in content_errors
    assert "Co: must be at most 100" in content_errors
    assert "Line 5: Write decimals with a point (6.2)" in content_errors  # never silently read as 61 %
    assert db.session.scalar(db.select(db.func.count(FeedstockLot.id))) == 0


def test_the_same_lot_number_twice_is_refused_beside_the_lot_number(client, ctx):
    applicant = signed_in(client)
    register_lot(client, applicant.facility, lot_no="IN-1")
    response = submit_form(client, "/lots/new", lot_form(applicant.facility, lot_no="IN-1"))
    assert response.status_code == 422
    assert "already registered a lot numbered IN-1" in errors_beside(text_of(response), "lot_no")


def test_element_contents_over_100_percent_are_refused_as_by_the_api(client, ctx):
    applicant = signed_in(client)
    response = submit_form(client, "/lots/new", lot_form(applicant.facility, element_content_pct="Ni = 60\nCo = 50"))
    assert response.status_code == 422
    assert "add up to more than 100" in errors_beside(text_of(response), "element_content_pct")


def test_lot_page_shows_the_batches_drawing_on_it(client, ctx):
    applicant = signed_in(client)
    lot = register_lot(client, applicant.facility)
    batch = create_batch(client, applicant.facility, [(lot.id, 4000)])
    page = text_of(client.get(f"/lots/{lot.id}"))
    assert batch.number in page and "4,000 kg" in page and "12,000 kg" in page


# Batches

def test_a_batch_is_created_with_two_input_rows(client, ctx):
    applicant = signed_in(client)
    black_mass = register_lot(client, applicant.facility, lot_no="IN-A")
    scrap = register_lot(client, applicant.facility, lot_no="IN-B", category="pre_consumer", form="electrode_scrap")
    form_page = text_of(client.get("/batches/new"))
    assert "IN-A" in form_page and "12,000 kg free of 12,000" in form_page
    assert 'name="inputs-1-lot_id"' not in form_page
    # "Add input row" works without JavaScript: the form comes back with one more row and what was typed.
    data = batch_form(applicant.facility, [(black_mass.id, "6,000")], add_row="Add input row")
    del data["save"]
    more = client.post("/batches/new", data={**data, "csrf_token": csrf_token_from(form_page)})
    assert more.status_code == 200
    assert 'name="inputs-1-lot_id"' in text_of(more) and 'value="6,000"' in text_of(more)
    batch = create_batch(client, applicant.facility, [(black_mass.id, "6,000"), (scrap.id, "2500.5")])
    assert batch.status == "draft" and batch.quantity_kg == 10000
    assert [(a.lot_id, a.mass_kg) for a in batch.allocations] == [(black_mass.id, 6000), (scrap.id, Decimal("2500.5"))]
    page = text_of(client.get(f"/batches/{batch.id}"))
    assert batch.number in page and "IN-A" in page and "IN-B" in page and "2,500.5 kg" in page
    assert "Fe 4 ppm" in page and "still missing" in page.lower()
    listing = text_of(client.get("/batches"))
    assert batch.number in listing and "10,000 kg" in listing


def test_an_input_row_can_be_removed_without_javascript(client, ctx):
    applicant = signed_in(client)
    first = register_lot(client, applicant.facility, lot_no="IN-A")
    second = register_lot(client, applicant.facility, lot_no="IN-B")
    data = batch_form(applicant.facility, [(first.id, 100), (second.id, 200)], remove_row="0")
    del data["save"]
    page = client.post("/batches/new", data={**data, "csrf_token": csrf_token_from(text_of(client.get("/batches/new")))})
    html = text_of(page)
    assert page.status_code == 200 and 'name="inputs-1-lot_id"' not in html
    assert f'<option selected value="{second.id}">' in html and 'value="200"' in html


def test_blank_extra_rows_are_ignored_and_no_rows_at_all_is_refused(client, ctx):
    applicant = signed_in(client)
    lot = register_lot(client, applicant.facility)
    batch = create_batch(client, applicant.facility, [(lot.id, 1000), ("", "")])
    assert len(batch.allocations) == 1
    response = submit_form(client, "/batches/new", batch_form(applicant.facility, [("", "")]))
    assert response.status_code == 422
    assert "at least 1 needed" in text_of(response)


def test_batch_form_shows_each_problem_beside_its_field(client, ctx):
    applicant = signed_in(client)
    lot = register_lot(client, applicant.facility, lot_no="IN-HERE")
    second_plant = make_facility(applicant.company, name="Second Plant")
    elsewhere = register_lot(client, second_plant, lot_no="IN-THERE")
    response = submit_form(client, "/batches/new", batch_form(
        applicant.facility, [(lot.id, "0")], production_start=day(-10), production_end=day(-40)))
    assert response.status_code == 422
    html = text_of(response)
    assert "greater than 0" in errors_beside(html, "inputs-0-mass_kg")
    assert "must not be before production start" in errors_beside(html, "production_end").lower()
    response = submit_form(client, "/batches/new", batch_form(applicant.facility, [(lot.id, 100), (elsewhere.id, 100)]))
    assert response.status_code == 422
    html = text_of(response)
    assert "another facility" in errors_beside(html, "inputs-1-lot_id")
    assert "IN-THERE" in html  # the row still shows the lot it names, marked as from another facility
    assert db.session.scalar(db.select(db.func.count(Batch.id))) == 0


def test_the_facility_chosen_decides_which_lots_are_offered(client, ctx):
    applicant = signed_in(client)
    register_lot(client, applicant.facility, lot_no="IN-HERE")
    second_plant = make_facility(applicant.company, name="Second Plant")
    register_lot(client, second_plant, lot_no="IN-THERE")
    data = batch_form(second_plant, [("", "")], show_lots="Show this facility's lots")
    del data["save"]
    page = client.post("/batches/new", data={**data, "csrf_token": csrf_token_from(text_of(client.get("/batches/new")))})
    options = re.search(r'<select[^>]*name="inputs-0-lot_id".*?</select>', text_of(page), re.DOTALL).group(0)
    assert "IN-THERE" in options and "IN-HERE" not in options


@pytest.mark.parametrize("junk", [
    {"facility_id": "abc"}, {"inputs-0-lot_id": "x; drop table"}, {"inputs-0-mass_kg": "1e999999"},
    {"inputs-0-mass_kg": "NaN"}, {"production_start": "yesterday"}, {"assay-purity_pct": "-Infinity"},
    {"assay-impurities_ppm": "Fe = lots\n= 3\nFe"}, {"material_code": "GOLD"}, {"grade": "premium"},
    {"quantity_kg": "1." + "0" * 20 + "1"}, {"inputs-99999999999999999999-mass_kg": "3"},
    {"quantity_kg": "10,0"}, {"claim-recycled_content_pct": "1" * 400},
])
def test_garbage_in_the_batch_form_is_answered_with_errors_never_a_500(client, ctx, junk):
    applicant = signed_in(client)
    lot = register_lot(client, applicant.facility)
    response = submit_form(client, "/batches/new", {**batch_form(applicant.facility, [(lot.id, 100)]), **junk})
    assert response.status_code in (302, 422), errors_or_page(response)
    if response.status_code == 422:
        assert 'class="errors"' in text_of(response)


def test_a_draft_is_edited_through_the_prefilled_form(client, ctx):
    applicant = signed_in(client)
    lot = register_lot(client, applicant.facility)
    batch = create_batch(client, applicant.facility, [(lot.id, 11000)])
    form_page = text_of(client.get(f"/batches/{batch.id}/edit"))
    assert 'value="10000"' in form_page and "Fe = 4" in form_page and f'<option selected value="{lot.id}">' in form_page
    response = submit_form(client, f"/batches/{batch.id}/edit",
                           batch_form(applicant.facility, [(lot.id, 11000)], quantity_kg="9,500.25"))
    assert response.status_code == 302
    db.session.expire_all()
    assert batch.quantity_kg == Decimal("9500.25") and batch.version == 2
    unchanged = submit_form(client, f"/batches/{batch.id}/edit",
                            batch_form(applicant.facility, [(lot.id, 11000)], quantity_kg="9500.25"))
    assert unchanged.status_code == 302
    assert "Nothing was changed." in text_of(client.get(f"/batches/{batch.id}"))


def test_the_mass_taken_from_a_lot_is_edited(client, ctx):
    applicant = signed_in(client)
    lot = register_lot(client, applicant.facility)
    batch = create_batch(client, applicant.facility, [(lot.id, 11000)])
    response = submit_form(client, f"/batches/{batch.id}/edit", batch_form(applicant.facility, [(lot.id, 10500)]))
    assert response.status_code == 302
    db.session.expire_all()
    assert [a.mass_kg for a in batch.allocations] == [10500]


# Evidence

def test_three_kinds_of_evidence_are_uploaded_downloaded_and_removed(client, ctx):
    applicant = signed_in(client)
    lot = register_lot(client, applicant.facility)
    batch = create_batch(client, applicant.facility, [(lot.id, 11000)])
    files = evidence_files()
    for kind, filename, data in files:
        response = upload(client, batch.id, kind, filename, data)
        assert response.status_code == 302 and response.headers["Location"].endswith("#documents")
    page = text_of(client.get(f"/batches/{batch.id}"))
    assert "assay.pdf" in page and "ticket.png" in page and "production.csv" in page
    assert "still missing" not in page.lower()
    documents = db.session.scalars(db.select(Document).order_by(Document.id)).all()
    assert [d.kind for d in documents] == ["assay_report", "feedstock_evidence", "production_record"]
    download = client.get(f"/batches/{batch.id}/documents/{documents[0].id}")
    assert download.status_code == 200 and download.data == files[0][2]
    assert download.headers["Content-Disposition"].startswith("attachment")
    removed = post_action(client, batch.id, f"/batches/{batch.id}/documents/{documents[1].id}")
    assert removed.status_code == 302
    page = text_of(client.get(f"/batches/{batch.id}"))
    assert "ticket.png is removed from the batch." in page and "ticket.png</a>" not in page
    assert "Still missing: feedstock evidence" in page


def test_an_upload_of_a_type_not_accepted_is_explained_beside_the_file_input(client, ctx):
    applicant = signed_in(client)
    lot = register_lot(client, applicant.facility)
    batch = create_batch(client, applicant.facility, [(lot.id, 11000)])
    response = upload(client, batch.id, "assay_report", "report.pdf", b"<html><script>alert(1)</script></html>")
    assert response.status_code == 415
    assert "upload a PDF, CSV, XLSX, PNG or JPEG" in errors_beside(text_of(response), "file")
    no_kind = upload(client, batch.id, "", "a.csv", b"a,b\n1,2\n")
    assert no_kind.status_code == 422 and "Choose what kind" in errors_beside(text_of(no_kind), "kind")
    assert db.session.scalar(db.select(db.func.count(Document.id))) == 0


def test_an_upload_over_the_limit_is_refused_with_a_message(app, client, ctx):
    applicant = signed_in(client)
    lot = register_lot(client, applicant.facility)
    batch = create_batch(client, applicant.facility, [(lot.id, 11000)])
    limit = app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    response = upload(client, batch.id, "other", "big.csv", b"a" * (limit + 1))
    assert response.status_code == 413 and "too large" in text_of(response)
    far_over = upload(client, batch.id, "other", "huge.csv", b"a" * (limit + 1024 * 1024))
    assert far_over.status_code == 302
    assert "too large" in text_of(client.get(far_over.headers["Location"]))


# Submission and the check run

def test_the_page_of_a_batch_being_checked_follows_the_run(client, ctx, monkeypatch):
    # No worker takes the run here, so the batch stays "checking" for as long as the test looks at it.
    monkeypatch.setattr("certify.services.batches.enqueue_check_run", lambda run_id: True)
    applicant = signed_in(client)
    batch = ready_batch(client, applicant)
    response = post_action(client, batch.id, f"/batches/{batch.id}/submit")
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "is submitted: the checks are running" in page
    assert f'data-progress-url="/batches/{batch.id}/progress.json"' in page and 'aria-live="polite"' in page
    assert re.search(r'<script src="/static/batch-progress.js[^"]*" defer></script>', page)
    assert "<script>" not in page  # the Content-Security-Policy forbids inline scripts
    assert ">Refresh</a>" in page and all(code in page for code in CHECK_CODES)
    progress = client.get(f"/batches/{batch.id}/progress.json")
    assert progress.status_code == 200 and progress.mimetype == "application/json"
    body = progress.get_json()
    assert body["status"] == "checking" and body["phase"] == "queued" and body["checks"] == []
    assert body["check_run"]["state"] == "queued" and "Waiting" in body["message"]
    again = post_action(client, batch.id, f"/batches/{batch.id}/submit")
    assert "cannot be submitted" in text_of(client.get(again.headers["Location"]))
    assert client.get(f"/batches/{batch.id}/edit").status_code == 302


def test_a_submitted_batch_shows_every_result_and_the_computed_balance(client, ctx, worker):
    applicant = signed_in(client)
    batch = ready_batch(client, applicant)
    assert post_action(client, batch.id, f"/batches/{batch.id}/submit").status_code == 302
    progress = wait_until_checked(client, batch.id)
    assert progress["status"] == "awaiting_review"
    assert [check["code"] for check in progress["checks"]] == list(CHECK_CODES)
    page = text_of(client.get(f"/batches/{batch.id}"))
    for check in progress["checks"]:
        assert f'id="check-{check["code"]}"' in page
        assert _html(check["message"]) in page
    assert re.search(r"Recovered <strong>2,217.369 kg Ni</strong>\s*of <strong>2,365 kg</strong> in: "
                     r"<strong class=\"big\">93.76 %</strong>", page)
    assert "post-consumer <strong>100 %</strong>" in page and "pre-consumer <strong>0 %</strong>" in page
    assert "waits for a reviewer" in page and "2 approvals needed" in page
    assert "data-progress-url" not in page and "batch-progress.js" not in page
    assert row_cells(text_of(client.get("/lots")), "IN-2026-0042")[-3:] == ["12,000 kg", "11,000 kg", "1,000 kg"]


def test_a_failing_batch_says_what_to_fix(client, ctx, worker):
    applicant = signed_in(client)
    batch = ready_batch(client, applicant, **{"assay-purity_pct": "97", "assay-impurities_ppm": "Fe = 40"})
    post_action(client, batch.id, f"/batches/{batch.id}/submit")
    progress = wait_until_checked(client, batch.id)
    assert progress["status"] == "checks_failed"
    page = text_of(client.get(f"/batches/{batch.id}"))
    purity = page[page.index('id="check-PURITY"'):page.index('id="check-IMPURITIES"')]
    assert "outcome-fail" in purity and "Purity 97 %: below the battery-grade minimum (98.5 %)" in purity
    assert "What to do:" in purity and "Refine the batch to at least 98.5 %" in purity
    assert 'href="#check-PURITY"' in page and "At least one check failed" in page
    assert "Fe 40 ppm (max 10 ppm)" in page
    # A failed batch goes back to editing: the edit and submit buttons are there again.
    assert f'href="/batches/{batch.id}/edit"' in page and "Submit again" in page


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace(
        "'", "&#39;")


# Access

def test_another_companys_batch_lot_and_document_are_not_found(client, ctx):
    theirs = Applicant(client, "Other Co", "999-99-99999")
    their_batch = theirs.ready_batch()
    their_document = db.session.scalar(
        db.select(Document).where(Document.batch_id == their_batch["id"]))
    their_lot = their_batch["inputs"][0]["lot_id"]
    signed_in(client)
    token = csrf_token_from(text_of(client.get("/lots/new")))
    batch_id = their_batch["id"]
    for url in (f"/batches/{batch_id}", f"/batches/{batch_id}/edit", f"/batches/{batch_id}/progress.json",
                f"/batches/{batch_id}/documents/{their_document.id}", f"/lots/{their_lot}"):
        assert client.get(url).status_code == 404, url
    for url in (f"/batches/{batch_id}/submit", f"/batches/{batch_id}/documents/{their_document.id}",
                f"/batches/{batch_id}/edit"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    assert upload(client, batch_id, "other", "a.csv", b"a\n1\n", token=token).status_code == 404
    assert their_batch["number"] not in text_of(client.get("/batches"))
    db.session.expire_all()
    assert db.session.get(Batch, batch_id).status == "draft"


def test_a_lot_of_another_company_cannot_be_drawn_on(client, ctx):
    theirs = Applicant(client, "Other Co", "999-99-99999")
    their_lot = theirs.lot(lot_no="THEIRS-1")
    applicant = signed_in(client)
    response = submit_form(client, "/batches/new", batch_form(applicant.facility, [(their_lot["id"], 100)]))
    assert response.status_code == 422
    assert "No such lot of your company." in errors_beside(text_of(response), "inputs-0-lot_id")
    assert "THEIRS-1" not in text_of(response)


@pytest.mark.parametrize("role", ["reviewer", "auditor", "admin"])
def test_other_roles_may_not_use_the_applicant_pages(client, ctx, role):
    login(client, make_user(role).email)
    for url in ("/lots", "/lots/new", "/lots/1", "/batches", "/batches/new", "/batches/1", "/batches/1/edit",
                "/batches/1/progress.json", "/batches/1/documents/1"):
        assert client.get(url).status_code == 403, url


def test_signed_out_visitors_are_sent_to_sign_in(client, ctx):
    response = client.get("/batches/new")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/batches/new")


def test_form_posts_without_a_csrf_token_are_refused(client, ctx):
    applicant = signed_in(client)
    lot = register_lot(client, applicant.facility)
    batch = create_batch(client, applicant.facility, [(lot.id, 11000)])
    upload(client, batch.id, *evidence_files()[0])
    document = db.session.scalar(db.select(Document))
    posts = {"/lots/new": lot_form(applicant.facility, lot_no="NO-TOKEN"),
             "/batches/new": batch_form(applicant.facility, [(lot.id, 1)]),
             f"/batches/{batch.id}/edit": batch_form(applicant.facility, [(lot.id, 1)]),
             f"/batches/{batch.id}/submit": {}, f"/batches/{batch.id}/documents/{document.id}": {}}
    for url, data in posts.items():
        assert client.post(url, data=data).status_code == 400, url
    no_token_upload = client.post(f"/batches/{batch.id}/documents", content_type="multipart/form-data",
                                  data={"kind": "other", "file": (io.BytesIO(b"a\n1\n"), "a.csv")})
    assert no_token_upload.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(FeedstockLot.id))) == 1
    assert db.session.get(Batch, batch.id).status == "draft" and db.session.scalar(
        db.select(db.func.count(Document.id))) == 1


# Formatting for people

def test_numbers_are_shown_with_separators_units_and_sensible_precision():
    assert number(Decimal("2217.369000")) == "2,217.369" and number(2365) == "2,365" and number(0.00001) == "0"
    assert kg(Decimal("2217.3690")) == "2,217.369 kg" and pct(93.7577) == "93.76 %" and pct(None) == "–"


def test_check_details_become_labelled_values_and_tables():
    described = describe_details({"element": "Ni", "recovery_pct": 93.7577, "inputs": [
        {"lot_no": "IN-1", "category": "post_consumer", "mass_kg": 11000, "element_content_pct": 21.5,
         "element_kg": 2365}], "late_lots": []})
    assert [(item.label, item.text) for item in described[:2]] == [("Element", "Ni"), ("Recovery", "93.7577 %")]
    table = described[2]
    assert table.columns == ["Lot", "Category", "Mass", "Element content", "Element mass"]
    assert table.rows == [["IN-1", "post-consumer", "11,000 kg", "21.5 %", "2,365 kg"]]
    assert len(described) == 3  # an empty list of late lots says nothing the message does not
