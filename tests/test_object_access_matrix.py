"""Object-level access (checklist 13, 14, 16), generated from app.url_map so a new route cannot slip through.

Two companies, each with a lot, an approved batch, its documents and certificate, made through the real API and
worker with their ids side by side. For every route that takes an object: the other company's applicant gets 404,
answered exactly as for an id that does not exist (nothing tells a foreign object from a missing one); a role the
route is not for gets 403; the owner and the ministry roles get through. Then every list, filter and bundle an
applicant can open is read for any trace of the other company.
"""
import io
import re
import subprocess
import zipfile

import pytest
from flask import url_for
from sqlalchemy import select

from certify.extensions import db
from certify.models import Batch, Certificate, Document, FeedstockLot, User
from certify.services import admin
from tests.helpers import (
    Applicant,
    batch_body,
    bearer,
    decide,
    login,
    make_company,
    make_facility,
    make_user,
    token_for,
)
from tests.workers.test_check_runs import wait_for_status

# Route parameters that name an object, and what they name. A route with any other parameter fails the test.
OBJECT_PARAMETERS = {"batch_id": "batch", "document_id": "document", "lot_id": "lot", "number": "certificate",
                     "user_id": "user", "code": "material"}
# Public by design: a certificate's facts open to anyone holding its verification code, to nobody without it.
CODE_GATED_ENDPOINTS = {"public.verify_page", "api.public_certificate"}
# Ids and numbers no object has: what "missing" looks like (test_access_matrix uses the same).
MISSING = {"batch_id": 999999, "document_id": 999998, "lot_id": 999997, "user_id": 999996,
           "number": "KR-RM-2000-999999", "code": "NOSUCH"}
# A session's CSRF token and a response's CSP nonce change from one answer to the next; nothing else may.
VOLATILE = (re.compile(r'(name="csrf_token"[^>]*value=")[^"]*'), re.compile(r'(nonce=")[^"]*'))


def routes_with_objects(app):
    for rule in app.url_map.iter_rules():
        if rule.arguments and rule.endpoint != "static":
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def neighbour_number(number: str, step: int) -> str:
    """KR-RM-2026-000007 → KR-RM-2026-000008 for step 1: the certificate issued just after."""
    prefix, serial = number.rsplit("-", 1)
    return f"{prefix}-{int(serial) + step:0{len(serial)}d}"


class Tenant:
    """One applicant company's objects, made through the API and the worker, with its callers."""

    def __init__(self, applicant: Applicant, lot: dict, batch: dict, browser):
        self.applicant, self.lot, self.batch, self.browser = applicant, lot, batch, browser
        self.company = applicant.company
        self.number = batch.get("certificate_number")
        self.spare_user = make_user("applicant", email=f"spare-{self.company.id}@certify.test", company=self.company)

    @property
    def documents(self) -> list[int]:
        return [document["id"] for document in self.batch["documents"]]

    def values(self) -> dict:
        """Its own object for each route parameter (the material is the catalogue's: no company owns it)."""
        # The last document: the next id along is the other company's first.
        return {"batch_id": self.batch["id"], "document_id": self.documents[-1], "lot_id": self.lot["id"],
                "number": self.number, "user_id": self.spare_user.id, "code": "NISO4"}

    def markers(self) -> list[str]:
        """Text that belongs to this company alone: none of it may reach the other company's applicant."""
        sha256s = [document["sha256"] for document in self.batch["documents"]]
        return [self.company.name, self.company.business_registration_no, self.applicant.facility.name,
                self.lot["lot_no"], self.lot["transfer_doc_no"], self.batch["number"], self.number,
                self.batch["assay"]["report_no"], *sha256s]


class NamedApplicant(Applicant):
    """tests.helpers.Applicant with a facility name of its own, so each company's names are its alone."""

    def __init__(self, client, name: str, registration_no: str, facility_name: str):
        self.client = client
        self.company = make_company(name, registration_no)
        self.facility = make_facility(self.company, name=facility_name)
        self.user = make_user("applicant", company=self.company)
        self.headers = bearer(token_for(client, self.user.email))


def company_with_submitted_batch(client, app, name: str, registration_no: str, facility_name: str,
                                 tag: str) -> Tenant:
    applicant = NamedApplicant(client, name, registration_no, facility_name)
    lot = applicant.lot(lot_no=f"IN-{tag}-0001", supplier=f"Supplier {tag}")
    assay = {**batch_body(applicant.facility, lot["id"])["assay"], "report_no": f"R-{tag}-0001"}
    batch = applicant.ready_batch(tag=tag, lot_id=lot["id"], assay=assay)
    assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
    browser = app.test_client()
    login(browser, applicant.user.email)
    return Tenant(applicant, lot, batch, browser)


def approve(client, company: Tenant, reviewer: dict) -> None:
    checked = wait_for_status(company.applicant, company.batch["id"])
    assert checked["status"] == "awaiting_review", checked["checks"]
    company.batch = decide(client, reviewer, checked)
    assert company.batch["status"] == "approved" and company.batch["certificate_number"]
    company.number = company.batch["certificate_number"]


@pytest.fixture()
def world(app, client, ctx, worker):
    """Companies A and B, made in turns so that each one's ids and certificate numbers sit next to the other's."""
    admin.create_lab(None, "KOLAS-T-0417", "KTR Pohang")  # an accredited lab: one approval issues the certificate
    reviewer_user = make_user("reviewer")
    reviewer = bearer(token_for(client, reviewer_user.email))
    first = company_with_submitted_batch(client, app, "Alpha Cathode Recycling", "124-81-10001",
                                         "Ulsan Alpha Works", "ALPHA")
    second = company_with_submitted_batch(client, app, "Borealis Battery Materials", "124-81-20002",
                                          "Gumi Borealis Plant", "BOREAL")
    for company in (first, second):
        approve(client, company, reviewer)
    browsers, tokens = {}, {"reviewer": reviewer}
    for role in ("reviewer", "auditor", "admin"):
        user = reviewer_user if role == "reviewer" else make_user(role)
        browsers[role] = app.test_client()
        login(browsers[role], user.email)
        if role != "reviewer":
            tokens[role] = bearer(token_for(client, user.email))
    app.config["WTF_CSRF_ENABLED"] = False  # this is about who reaches which object; CSRF has tests of its own
    yield {"A": first, "B": second, "browsers": browsers, "tokens": tokens}
    app.config["WTF_CSRF_ENABLED"] = True


class Caller:
    """One caller of both doors: its signed-in browser for pages, its Bearer token for the API."""

    def __init__(self, client, browser, headers, label):
        self.client, self.browser, self.headers, self.label = client, browser, headers, label

    def open(self, method, path):
        if path.startswith("/api/"):
            return self.client.open(path, method=method, headers=self.headers)
        return self.browser.open(path, method=method)

    def open_get(self, path, query):
        if path.startswith("/api/"):
            return self.client.get(path, query_string=query, headers=self.headers)
        return self.browser.get(path, query_string=query)


def path_for(app, rule, values: dict) -> str:
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})


def normalised(response, values: list[dict]) -> tuple:
    """Status, type and body with the ids and numbers asked for (and the per-answer tokens) blanked out."""
    body = response.get_data().decode("utf-8", "replace")
    for pattern in VOLATILE:
        body = pattern.sub(r"\1", body)
    for value in sorted({str(v) for item in values for v in item.values()}, key=len, reverse=True):
        body = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", "<id>", body)
    return response.status_code, response.mimetype, body


def owner_of(kind: str, value) -> int | None:
    """The company an object belongs to (None: no such object, or no company owns it)."""
    if kind == "batch":
        return db.session.scalar(select(Batch.company_id).where(Batch.id == value))
    if kind == "lot":
        return db.session.scalar(select(FeedstockLot.company_id).where(FeedstockLot.id == value))
    if kind == "certificate":
        return db.session.scalar(select(Certificate.company_id).where(Certificate.number == value))
    if kind == "user":
        return db.session.scalar(select(User.company_id).where(User.id == value))
    return None


def visible_to(company_id: int, values: dict) -> bool:
    """Whether every object the values name is the company's (a document must also be of the batch named)."""
    for name, value in values.items():
        kind = OBJECT_PARAMETERS[name]
        if kind == "document":
            batch_of_document = db.session.scalar(select(Document.batch_id).where(Document.id == value))
            if batch_of_document is None or batch_of_document != values.get("batch_id"):
                return False
        elif kind != "material" and owner_of(kind, value) != company_id:
            return False
    return True


def neighbours(values: dict, rule) -> list[dict]:
    """The values with each id (or certificate number) one below and one above: the next objects along."""
    variants = []
    for name in rule.arguments:
        for step in (-1, 1):
            value = values[name]
            if name == "number":
                variants.append({**values, name: neighbour_number(value, step)})
            elif isinstance(value, int) and value + step >= 1:  # 0 is no id: no route matches it
                variants.append({**values, name: value + step})
    return variants


def test_every_route_with_an_object_keeps_each_company_to_its_own(app, client, world):
    """Every route × method with an object in its address, as B's applicant, A's applicant and each ministry role."""
    first, second = world["A"], world["B"]
    callers = {role: Caller(client, world["browsers"][role], world["tokens"][role], role)
               for role in ("reviewer", "auditor", "admin")}
    owner = Caller(client, first.browser, first.applicant.headers, "applicant of A")
    outsider = Caller(client, second.browser, second.applicant.headers, "applicant of B")
    own_values = first.values()
    problems, checked = [], 0

    def expect(caller, method, path, statuses=None, refused=None):
        response = caller.open(method, path)
        if statuses is not None and response.status_code not in statuses:
            problems.append(f"{caller.label} {method} {path}: {response.status_code}, not {statuses}")
        if refused is not None and response.status_code in refused:
            problems.append(f"{caller.label} {method} {path}: {response.status_code}, should get through")
        return response

    for rule, method in routes_with_objects(app):
        unknown = set(rule.arguments) - set(OBJECT_PARAMETERS)
        if unknown:
            problems.append(f"{rule.endpoint}: parameters {sorted(unknown)} name no object this test makes")
            continue
        checked += 1
        allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", None) or ()
        path = path_for(app, rule, own_values)
        missing_values = {name: MISSING[name] for name in rule.arguments}
        if rule.endpoint in CODE_GATED_ENDPOINTS:
            # Without its code a certificate is as unknown as a missing one, to anyone.
            foreign = expect(outsider, method, path, statuses=(404,))
            baseline = outsider.open(method, path_for(app, rule, missing_values))
            if normalised(foreign, [own_values, missing_values]) != normalised(baseline, [own_values,
                                                                                         missing_values]):
                problems.append(f"{rule.endpoint}: a certificate without its code differs from a missing one")
            continue

        for role in ("reviewer", "auditor", "admin"):
            expect(callers[role], method, path, statuses=None if role in allowed else (403,),
                   refused=(403, 404) if role in allowed else None)

        if "applicant" not in allowed:
            expect(outsider, method, path, statuses=(403,))
            expect(owner, method, path, statuses=(403,))
            continue

        # The other company's applicant: A's objects, and the objects just before and after them.
        probes = [{name: own_values[name] for name in rule.arguments}]
        probes += neighbours(probes[0], rule)
        if "document_id" in rule.arguments:
            probes.append({"batch_id": second.batch["id"], "document_id": own_values["document_id"]})
        for values in probes:
            probe_path = path_for(app, rule, values)
            if visible_to(second.company.id, values):
                expect(outsider, method, probe_path, refused=(403, 404))
                outsider.browser.get("/lots")  # shows (and so clears) any message the call left for the next page
                continue
            response = expect(outsider, method, probe_path, statuses=(404,))
            # As for a missing id: the same ids kept where the object is the caller's, missing ones elsewhere.
            missing_at = {name: (value if owner_of(OBJECT_PARAMETERS[name], value) == second.company.id
                                 and name != "document_id" else MISSING[name]) for name, value in values.items()}
            baseline = outsider.open(method, path_for(app, rule, missing_at))
            if normalised(response, [values, missing_at]) != normalised(baseline, [values, missing_at]):
                problems.append(f"applicant of B {method} {probe_path}: answered unlike a missing id "
                                f"({response.status_code} vs {baseline.status_code})")

        # The owner gets through to its own objects.
        expect(owner, method, path, refused=(403, 404))

    assert not problems, "\n".join(problems)
    assert checked >= 30, f"only {checked} routes with objects were found"


def pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def readable(response) -> str:
    """All the text an answer carries: a page, JSON, a PDF's text, or every file inside a zip."""
    if response.mimetype == "application/pdf":
        return pdf_text(response.data)
    if response.mimetype == "application/zip":
        bundle = zipfile.ZipFile(io.BytesIO(response.data))
        return "\n".join(bundle.read(name).decode("utf-8", "replace") for name in bundle.namelist())
    return response.get_data(as_text=True)


def test_lists_filters_and_bundles_show_an_applicant_its_own_company_only(app, client, world):
    """Every page, list, filter and download an applicant may open, read for anything of the other company."""
    problems, opened = [], 0
    for me, other in ((world["A"], world["B"]), (world["B"], world["A"])):
        caller = Caller(client, me.browser, me.applicant.headers, f"applicant of {me.company.name}")
        # Filters that name the other company's objects must narrow to nothing, never widen the view.
        queries = [{}, {"company_id": other.company.id, "facility_id": other.applicant.facility.id, "limit": 200},
                   {"status": "approved"}, {"cursor": str(other.batch["id"] + 1)}]
        own_seen = dict.fromkeys((me.company.name, me.lot["lot_no"], me.batch["number"], me.number), False)
        for rule in app.url_map.iter_rules():
            allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", None) or ()
            if "GET" not in rule.methods or "applicant" not in allowed:
                continue
            path = path_for(app, rule, me.values())
            for query in queries:
                response = caller.open_get(path, query)
                if response.status_code != 200:
                    if not query and response.status_code != 302:
                        problems.append(f"{caller.label} GET {path}: {response.status_code}")
                    continue
                opened += 1
                text = readable(response)
                leaked = [marker for marker in other.markers() if marker in text]
                if leaked:
                    problems.append(f"{caller.label} GET {path} {query}: shows {leaked}")
                own_seen |= {marker: True for marker in own_seen if marker in text}
        # The reading saw the company's own data: the absence of the other's means something.
        assert all(own_seen.values()), own_seen
    assert not problems, "\n".join(problems)
    assert opened > 40, f"only {opened} applicant answers were read"
