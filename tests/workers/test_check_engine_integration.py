"""The check run against real files and real rulesets: hostile documents fail their check, never the worker."""
import io
import zipfile
from decimal import Decimal

from certify.domain.checks import CHECK_CODES
from certify.extensions import db
from certify.models import MaterialRules
from certify.services import rulesets
from tests.helpers import Applicant, bearer, make_user, token_for
from tests.workers.test_check_runs import wait_for_status


def zip_bomb_xlsx() -> bytes:
    """An .xlsx-shaped zip whose one sheet inflates to 200 MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(200):
                sheet.write(chunk)
    return buffer.getvalue()


def test_a_zip_bomb_fails_doc_format_and_the_worker_survives(client, ctx, worker):
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    assert applicant.upload(batch["id"], "mass_balance", "balance.xlsx", zip_bomb_xlsx()).status_code == 201
    applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    checked = wait_for_status(applicant, batch["id"])
    doc_format = next(c for c in checked["checks"] if c["code"] == "DOC_FORMAT")
    assert checked["status"] == "checks_failed" and doc_format["outcome"] == "fail"
    assert "balance.xlsx" in doc_format["message"]
    assert worker.process.poll() is None
    # the same worker goes on checking the next batch
    other = applicant.ready_batch(tag="2")
    applicant.post(f"/api/v1/batches/{other['id']}/submit")
    assert [c["code"] for c in wait_for_status(applicant, other["id"])["checks"]] == list(CHECK_CODES)


def test_assay_template_in_csv_is_compared_with_the_declared_assay(client, ctx, worker):
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    template = b"analyte,value,unit\npurity,99.10,pct\nFe,4,ppm\nCu,2,ppm\nZn,3,ppm\n"
    applicant.upload(batch["id"], "assay_report", "assay.csv", template)
    applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    checked = wait_for_status(applicant, batch["id"])
    assay = next(c for c in checked["checks"] if c["code"] == "ASSAY_MATCH")
    assert assay["outcome"] == "fail" and "purity" in assay["message"]  # 99.3 declared vs 99.10 reported


def test_a_run_uses_and_records_the_current_ruleset_version(client, ctx, worker):
    make_user("admin")
    admin_headers = bearer(token_for(client, "admin@certify.test"))
    patched = client.patch("/api/v1/materials/NISO4", json={"min_purity_pct": 99.5}, headers=admin_headers)
    assert patched.status_code == 200 and patched.get_json()["ruleset_version"] == 2
    assert rulesets.current_rules("NISO4").version == 2
    old = db.session.scalar(db.select(MaterialRules).where(MaterialRules.material_code == "NISO4",
                                                           MaterialRules.version == 1))
    assert old.min_purity_pct == Decimal("98.5")
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    checked = wait_for_status(applicant, batch["id"])
    assert checked["check_run"]["ruleset_version"] == 2
    purity = next(c for c in checked["checks"] if c["code"] == "PURITY")
    assert purity["outcome"] == "fail"  # 99.3 % is below the new 99.5 % minimum


