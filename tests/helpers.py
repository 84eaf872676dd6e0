"""Plain functions that build the objects tests talk about, through the same services the app uses."""
import contextlib
import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser

from certify.documents.generated import pdf_with_text
from certify.services import admin

PASSWORD = "correct horse battery staple"
TODAY = dt.date.today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def make_company(name="Hanbit Battery Recycling", registration_no="124-81-00001"):
    return admin.create_company(None, name, registration_no)


def make_facility(company, name="Pohang Plant", capacity=Decimal("5000000"), permit_valid_until=None):
    return admin.create_facility(None, company_id=company.id, name=name, permit_no=f"P-{company.id}-{name[:8]}",
                                 permit_valid_until=permit_valid_until or TODAY + dt.timedelta(days=800),
                                 process="hydrometallurgy", annual_capacity_kg=capacity)


def make_user(role, email=None, company=None, password=PASSWORD):
    email = email or f"{role}{'-' + str(company.id) if company else ''}@certify.test"
    return admin.create_user(None, email, password, role, company.id if company else None)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, email, password=PASSWORD):
    """Signs in through the real form, CSRF token and all."""
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token_from(page.get_data(as_text=True))})


def token_for(client, email, password=PASSWORD) -> str:
    response = client.post("/api/v1/auth/tokens", json={"email": email, "password": password})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def lot_body(facility, lot_no="IN-2026-0042", mass_kg=12000, **overrides):
    body = {"facility_id": facility.id if hasattr(facility, "id") else facility, "lot_no": lot_no,
            "supplier": "Hanbit EV Dismantling", "category": "post_consumer", "form": "black_mass",
            "chemistry": "NMC", "mass_kg": mass_kg, "received_on": day(-50), "transfer_doc_no": f"AB-{lot_no}",
            "element_content_pct": {"Li": 3.4, "Ni": 21.5, "Co": 6.8, "Mn": 6.1}}
    body.update(overrides)
    return body


def batch_body(facility, lot_id, mass_kg=11000, **overrides):
    """api.md's example batch: NISO4, 10 t at 99.3 %, drawing 11 t of black mass (93.7577 % recovery)."""
    body = {"facility_id": facility.id if hasattr(facility, "id") else facility, "material_code": "NISO4",
            "grade": "battery", "quantity_kg": 10000, "production_start": day(-40), "production_end": day(-10),
            "assay": {"purity_pct": 99.3, "impurities_ppm": {"Fe": 4, "Cu": 2, "Zn": 3}, "lab_name": "KTR Pohang",
                      "lab_accreditation_no": "KOLAS-T-0417", "report_no": "R-26-1187"},
            "inputs": [{"lot_id": lot_id, "mass_kg": mass_kg}], "claim": {"recycled_content_pct": 100}}
    body.update(overrides)
    return body


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF whose text layer holds `text`."""
    return pdf_with_text([text])


def png_bytes(tag: str = "") -> bytes:
    import io

    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", tag)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (128, 128, 128)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def evidence_files(report_no="R-26-1187", tag="1"):
    """The three required kinds of evidence, each a real file of an accepted type."""
    return [("assay_report", "assay.pdf", minimal_pdf(f"Assay report {report_no}")),
            ("feedstock_evidence", "ticket.png", png_bytes(tag)),
            ("production_record", "production.csv", f"date,output_kg\n{day(-10)},10000,{tag}\n".encode())]


class Applicant:
    """An applicant of a fresh company with a facility, talking to the API with its own token."""

    def __init__(self, client, name="Hanbit Battery Recycling", registration_no="124-81-00001"):
        self.client = client
        self.company = make_company(name, registration_no)
        self.facility = make_facility(self.company)
        self.user = make_user("applicant", company=self.company)
        self.headers = bearer(token_for(client, self.user.email))

    def request(self, method, path, headers=None, **kwargs):
        return self.client.open(path, method=method, headers={**self.headers, **(headers or {})}, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def lot(self, **overrides) -> dict:
        """A new lot: IN-2026-0042 first, then -0043 and on, unless lot_no is given."""
        self.lots_made = getattr(self, "lots_made", 0) + 1
        overrides.setdefault("lot_no", f"IN-2026-{41 + self.lots_made:04d}")
        response = self.post("/api/v1/feedstock-lots", json=lot_body(self.facility, **overrides))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def batch(self, lot_id=None, **overrides) -> dict:
        lot_id = lot_id or self.lot()["id"]
        response = self.post("/api/v1/batches", json=batch_body(self.facility, lot_id, **overrides))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def upload(self, batch_id, kind, filename, data):
        import io

        return self.post(f"/api/v1/batches/{batch_id}/documents",
                         data={"kind": kind, "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")

    def ready_batch(self, tag="1", **overrides) -> dict:
        """A batch with its three kinds of evidence, ready to submit."""
        batch = self.batch(**overrides)
        for kind, filename, data in evidence_files(batch.get("assay", {}).get("report_no", "R-26-1187"), tag):
            assert self.upload(batch["id"], kind, filename, data).status_code == 201
        return batch


def api_headers_for(client, role, company=None) -> dict:
    """Bearer headers of a new user of this role (applicants need their company)."""
    user = make_user(role, company=company)
    return bearer(token_for(client, user.email))


def submit_form(client, url, data, **kwargs):
    """Posts a form as a browser does: opens the page first and sends the CSRF token it carries."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={**data, "csrf_token": csrf_token_from(page.get_data(as_text=True))}, **kwargs)


class _FormFields(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._textarea = self._select = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "checkbox", "radio"):
            self.values[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea, self.values[name] = name, ""
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value") or "", "selected" in attrs))

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            # HTML drops the one newline that may follow <textarea>, and so does a browser when it submits.
            self.values[self._textarea] = re.sub(r"^\r?\n", "", self.values[self._textarea])
            self._textarea = None
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self.values[self._select] = chosen[0] if chosen else ""
            self._select = None


def form_fields(html: str) -> dict[str, str]:
    """What a browser would submit for the page's form fields as they are filled in (CSRF token included)."""
    parser = _FormFields()
    parser.feed(html)
    return parser.values


def lot_form(facility, lot_no="IN-2026-0042", mass_kg="12,000", **overrides) -> dict:
    """The applicant's "Register a lot" form filled as lot_body fills the API's (element content as lines)."""
    form = {"facility_id": str(facility.id if hasattr(facility, "id") else facility), "lot_no": lot_no,
            "supplier": "Hanbit EV Dismantling", "category": "post_consumer", "form": "black_mass", "chemistry": "NMC",
            "mass_kg": mass_kg, "received_on": day(-50), "transfer_doc_no": f"AB-{lot_no}",
            "element_content_pct": "Li = 3.4\nNi = 21.5\nCo = 6.8\nMn = 6.1"}
    form.update(overrides)
    return form


def batch_form(facility, inputs, **overrides) -> dict:
    """The applicant's batch form filled as batch_body fills the API's; `inputs` is [(lot_id, mass_kg), ...]."""
    form = {"facility_id": str(facility.id if hasattr(facility, "id") else facility), "material_code": "NISO4",
            "grade": "battery", "quantity_kg": "10,000", "production_start": day(-40), "production_end": day(-10),
            "assay-purity_pct": "99.3", "assay-impurities_ppm": "Fe = 4\nCu = 2\nZn = 3",
            "assay-lab_name": "KTR Pohang", "assay-lab_accreditation_no": "KOLAS-T-0417",
            "assay-report_no": "R-26-1187", "claim-recycled_content_pct": "100", "save": "Save batch"}
    for index, (lot_id, mass_kg) in enumerate(inputs):
        form[f"inputs-{index}-lot_id"] = str(lot_id)
        form[f"inputs-{index}-mass_kg"] = str(mass_kg)
    form.update(overrides)
    return form


_distinct_batches_made = 0


def distinct_ready_batch(applicant, **overrides) -> dict:
    """A ready batch whose lot, transfer record, report no. and evidence files no other batch shares.

    So DOC_DUPLICATE and TRANSFER_DOC_UNIQUE never trip when a test makes several batches, across companies too.
    """
    global _distinct_batches_made
    _distinct_batches_made += 1
    serial = _distinct_batches_made
    lot = applicant.lot(lot_no=f"IN-D-{serial:05d}")
    assay = {**batch_body(applicant.facility, lot["id"])["assay"], "report_no": f"R-D-{serial:05d}"}
    return applicant.ready_batch(tag=f"d{serial}", lot_id=lot["id"], **{"assay": assay, **overrides})


def tamper_with_audit_trail(statement: str, params: dict | None = None) -> None:
    """What only the database's owner can do: switch the append-only trigger off, edit, switch it on again."""
    from certify.extensions import db

    db.session.execute(db.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    db.session.execute(db.text(statement), params or {})
    db.session.execute(db.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    db.session.commit()


@contextlib.contextmanager
def lot_held(lot_no: str):
    """Holds a lot's row lock, as a check run of another batch on the same lot does: this lot's check runs wait.

    A check run locks its lots before it computes (services/checks.py), so while this is held a submitted batch
    stays `checking` for as long as the test needs to watch it. Needs an app context.
    """
    from certify.extensions import db

    with db.engine.connect() as connection:
        locked = connection.execute(db.text("SELECT id FROM feedstock_lots WHERE lot_no = :lot_no FOR UPDATE"),
                                    {"lot_no": lot_no}).all()
        assert locked, f"no lot {lot_no} to hold"
        yield
        connection.rollback()


def checked_batch(applicant, lot_overrides: dict | None = None, **overrides) -> dict:
    """A batch on a lot of its own (lot fields overridable), with its own files, submitted and checked by the worker.

    Like distinct_ready_batch, nothing is shared with another batch, so several companies' batches all pass.
    """
    from tests.workers.test_check_runs import wait_for_status

    global _distinct_batches_made
    _distinct_batches_made += 1
    serial = _distinct_batches_made
    lot = applicant.lot(**{"lot_no": f"IN-C-{serial:05d}", **(lot_overrides or {})})
    assay = {**batch_body(applicant.facility, lot["id"])["assay"], "report_no": f"R-C-{serial:05d}"}
    batch = applicant.ready_batch(tag=f"c{serial}", lot_id=lot["id"], **{"assay": assay, **overrides})
    assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
    return wait_for_status(applicant, batch["id"])


def decide(client, headers: dict, batch: dict, decision: str = "approve", comment: str = "ok") -> dict:
    """One reviewer's decision through the API, on the version of the batch given."""
    response = client.post(f"/api/v1/batches/{batch['id']}/decision", headers=headers,
                           json={"decision": decision, "comment": comment, "version": batch["version"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def seed_batch_rows(company, facility, reviewer, count: int, statuses: tuple[str, ...] | None = None) -> None:
    """`count` batches written straight to the tables, in turn in each status, with what that status implies:
    a check run with results, an approval, a certificate.

    Only for tests that measure how pages read (query counts): the rows skip the workflow, signing and the audit
    trail, so no test of behaviour may rely on them.
    """
    from certify.extensions import db
    from certify.models import Allocation, Batch, Certificate, CheckResult, CheckRun, Decision, FeedstockLot
    from certify.services.certificates import next_serial
    from certify.timeutil import utcnow

    statuses = statuses or ("draft", "checks_failed", "awaiting_review", "changes_requested", "approved")
    now = utcnow()
    base = db.session.scalar(db.select(db.func.count(Batch.id))) or 0
    for index in range(count):
        serial = base + index + 1
        status = statuses[index % len(statuses)]
        lot = FeedstockLot(company_id=company.id, facility_id=facility.id, lot_no=f"SEED-{company.id}-{serial}",
                           supplier="Seed", category="post_consumer", form="black_mass", chemistry="NMC",
                           mass_kg=Decimal(12000), received_on=TODAY - dt.timedelta(days=50),
                           transfer_doc_no=f"SEED-{company.id}-{serial}", element_content_pct={"Ni": Decimal("21.5")})
        batch = Batch(number=f"S-{company.id}-{serial:06d}", company_id=company.id, facility_id=facility.id,
                      material_code="NISO4", quantity_kg=Decimal(10000), production_start=TODAY - dt.timedelta(days=40),
                      production_end=TODAY - dt.timedelta(days=10), purity_pct=Decimal("99.3"), impurities_ppm={},
                      lab_name="KTR Pohang", lab_accreditation_no="KOLAS-T-0417", report_no=f"R-S-{serial}",
                      claimed_recycled_content_pct=Decimal(100), status=status, approvals_required=2,
                      submitted_at=None if status == "draft" else now - dt.timedelta(days=index))
        db.session.add_all([lot, batch])
        db.session.flush()
        db.session.add(Allocation(batch_id=batch.id, lot_id=lot.id, mass_kg=Decimal(11000),
                                  reserved=status in ("awaiting_review", "approved")))
        if status == "draft":
            continue
        run = CheckRun(batch_id=batch.id, state="done", material_code="NISO4", ruleset_version=1,
                       computed={"recycled_content_pct": 100, "post_consumer_pct": 100, "pre_consumer_pct": 0},
                       finished_at=now)
        db.session.add(run)
        db.session.flush()
        outcome = "fail" if status == "checks_failed" else "pass"
        db.session.add(CheckResult(check_run_id=run.id, position=0, code="DOC_REQUIRED", outcome=outcome,
                                   message="seeded", message_key="seeded", params={}, details={}))
        if status in ("awaiting_review", "approved", "changes_requested"):
            decision = {"changes_requested": "request_changes"}.get(status, "approve")
            db.session.add(Decision(batch_id=batch.id, check_run_id=run.id, reviewer_id=reviewer.id,
                                    decision=decision, comment="seeded", batch_version=1))
        if status == "approved":
            certificate_serial = next_serial()  # as issue draws it: a real certificate issued later never collides
            db.session.add(Certificate(
                serial=certificate_serial, number=f"KR-RM-SEED-{certificate_serial:06d}", batch_id=batch.id, company_id=company.id,
                material_code="NISO4", key_id="seed", signature="seed", verification_code="seed",
                content={"quantity_kg": 10000, "recycled_content_pct": 100, "post_consumer_pct": 100,
                         "pre_consumer_pct": 0}, status="valid", issued_at=now))
    db.session.commit()
