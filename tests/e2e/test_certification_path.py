"""Issue 5's whole path in a browser: lot, batch, evidence, live checks, approval, PDF, QR code, public page."""
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from certify.services import admin
from tests.e2e.browser import pdf_text, qr_codes_in
from tests.helpers import day, evidence_files, lot_held, make_company, make_facility, make_user

CHECKS_TIMEOUT_MS = 60_000
MEDIA_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".csv": "text/csv"}


@pytest.fixture()
def people(app):
    """A recycler with one facility and its applicant, two ministry reviewers, and the lab on the accredited list.

    With the lab accredited every check passes, and 10 t is under the four-eyes mass: one approval suffices.
    """
    with app.app_context():
        company = make_company()
        make_facility(company)
        applicant = make_user("applicant", company=company)
        reviewers = [make_user("reviewer", email=f"reviewer{n}@certify.test") for n in (1, 2)]
        admin.create_lab(None, "KOLAS-T-0417", "KTR Pohang")
        return SimpleNamespace(applicant=applicant.email, reviewers=[reviewer.email for reviewer in reviewers])


def test_applicant_to_public_page_by_clicking(app, people, page_for, new_page, step, live_server, live_worker):
    applicant = page_for(people.applicant)

    step("applicant registers a lot")
    applicant.locator("nav a[href$='/lots']").click()
    applicant.locator("a[href$='/lots/new']").click()
    applicant.locator("#lot_no").fill("IN-2026-0042")
    applicant.locator("#received_on").fill(day(-50))
    applicant.locator("#supplier").fill("Hanbit EV Dismantling")
    applicant.locator("#category").select_option("post_consumer")
    applicant.locator("#form").select_option("black_mass")
    applicant.locator("#chemistry").select_option("NMC")
    applicant.locator("#mass_kg").fill("12,000")
    applicant.locator("#transfer_doc_no").fill("AB-2026-118822")
    applicant.locator("#element_content_pct").fill("Li = 3.4\nNi = 21.5\nCo = 6.8\nMn = 6.1")
    applicant.locator("form [name=submit]").click()
    expect(applicant).to_have_url(re.compile(r"/lots$"))
    expect(applicant.locator("main table")).to_contain_text("IN-2026-0042")

    step("applicant creates a batch drawing on the lot")
    applicant.locator("nav a[href$='/batches/new']").click()
    applicant.locator("#material_code").select_option("NISO4")
    applicant.locator("#quantity_kg").fill("10,000")
    applicant.locator("#production_start").fill(day(-40))
    applicant.locator("#production_end").fill(day(-10))
    applicant.locator("[id='assay-purity_pct']").fill("99.3")
    applicant.locator("[id='assay-impurities_ppm']").fill("Fe = 4\nCu = 2\nZn = 3")
    applicant.locator("[id='assay-lab_name']").fill("KTR Pohang")
    applicant.locator("[id='assay-lab_accreditation_no']").fill("KOLAS-T-0417")
    applicant.locator("[id='assay-report_no']").fill("R-26-1187")
    lot_choice = applicant.locator("[id='inputs-0-lot_id'] option", has_text="IN-2026-0042")
    applicant.locator("[id='inputs-0-lot_id']").select_option(lot_choice.get_attribute("value"))
    applicant.locator("[id='inputs-0-mass_kg']").fill("11,000")
    applicant.locator("[id='claim-recycled_content_pct']").fill("100")
    applicant.locator("input#save, button#save").click()
    expect(applicant).to_have_url(re.compile(r"/batches/\d+$"))
    expect(applicant.locator(".status-draft")).to_be_visible()
    batch_number = re.search(r"B-\d{4}-\d{6}", applicant.locator("h1").inner_text()).group(0)

    step("applicant uploads the three kinds of evidence")
    for kind, filename, data in evidence_files():
        upload = applicant.locator("form.upload")
        upload.locator("#kind").select_option(kind)
        upload.locator("#file").set_input_files(
            {"name": filename, "mimeType": MEDIA_TYPES[filename[filename.rindex("."):]], "buffer": data})
        upload.locator("[name=upload]").click()
        expect(applicant.locator("#documents table")).to_contain_text(filename)
    expect(applicant.locator("#documents .required-kinds .missing")).to_have_count(0)

    step("applicant submits and watches the checks finish")
    with app.app_context(), lot_held("IN-2026-0042"):  # the check run waits for the lot while the page is watched
        applicant.locator("form[action$='/submit'] button").click()
        progress = applicant.locator("#check-progress")
        expect(progress).to_be_visible()
        expect(progress.locator("[data-progress-auto]")).to_be_visible()  # the page follows the run by itself
        expect(applicant.locator("#checks")).to_have_count(0)
        # A mark on this very document: if the page were reloaded or left, the mark would be gone.
        applicant.evaluate("document.body.dataset.watched = 'yes'")
    # The run goes on; the results appear with nobody reloading the page.
    expect(applicant.locator("#checks")).to_be_visible(timeout=CHECKS_TIMEOUT_MS)
    assert applicant.evaluate("document.body.dataset.watched") == "yes", "the page was reloaded"
    expect(applicant).to_have_url(re.compile(r"/batches/\d+$"))
    expect(applicant.locator("h1 .status-awaiting_review")).to_be_visible()
    expect(applicant.locator("#checks .check-fail")).to_have_count(0)

    step("reviewer approves from the queue")
    reviewer = page_for(people.reviewers[0])
    reviewer.locator("nav a[href$='/review/']").click()
    reviewer.get_by_role("link", name=batch_number).click()
    reviewer.locator("input[name=decision][value=approve]").check()
    reviewer.locator("#comment").fill("Evidence and mass balance are in order.")
    reviewer.locator("form[action*='/decision'] button[type=submit]").click()
    expect(reviewer.locator("h1 .status-approved")).to_be_visible()  # approvals_required was 1: no warning
    certificate_number = re.search(r"KR-RM-\d{4}-\d{6}", reviewer.locator(".page-head").inner_text()).group(0)

    step("applicant downloads the certificate PDF")
    applicant.reload()
    expect(applicant.locator("h1 .status-approved")).to_be_visible()
    certificate_pdf = applicant.locator(f"a[href$='{certificate_number}.pdf']")
    with applicant.expect_download() as download:
        certificate_pdf.click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert certificate_number in pdf_text(pdf)

    step("the QR code on the PDF opens the public page")
    (verify_url,) = qr_codes_in(pdf)
    assert re.fullmatch(rf"{re.escape(live_server.url)}/verify/{certificate_number}\?code=[0-9a-f]{{12}}", verify_url)
    visitor = new_page("visitor")
    visitor.goto(verify_url)
    banner = visitor.locator(".verify-banner")
    expect(banner).to_contain_text("VALID")
    expect(banner).to_contain_text("유효")
    expect(visitor.locator(".verify-number")).to_have_text(certificate_number)
