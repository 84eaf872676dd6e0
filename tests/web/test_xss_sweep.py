"""Script and markup in every free-text field, then every page that shows them: escaped everywhere (checklist 18).

The fields come from the app itself, the API's pydantic schemas and the WTForms forms, and the pages from
app.url_map, so a new field or page is swept without anyone remembering to add it: a free-text field that the
sweep does not fill, or a route parameter it cannot fill, fails the test.
"""
import csv
import html
import importlib
import inspect
import io
import pkgutil
import re
import subprocess
import sys
import types
import typing
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pyotp
import pytest
from pydantic import BaseModel
from sqlalchemy import select, update
from wtforms import Form, StringField
from wtforms.fields.core import UnboundField

import certify
import certify.web
from certify.api import schemas
from certify.csv_export import FORMULA_TRIGGERS
from certify.extensions import db
from certify.models import Batch, Certificate, Company, Document, FeedstockLot, Material, User
from certify.services import accounts, mfa
from certify.web import admin_forms, applicant_forms, auth_forms, forms, review_forms
from tests.helpers import (
    PASSWORD,
    bearer,
    csrf_token_from,
    day,
    evidence_files,
    form_fields,
    login,
    make_user,
)
from tests.workers.test_check_runs import wait_for_status

PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{7*7}}", "javascript:alert(1)",
            "x' onfocus='alert(1)'</textarea><b>p5</b>")
# What a payload turns into when a page fails to escape it (compared case-blind: searches upper-case numbers).
UNESCAPED = ("<script>alert(1)</script>", "<img src=x onerror", "</textarea><b>p5</b>", "<b>p5</b>")
# Every stored value ends in a serial "~n~": "{{7*7}} ~12~" rendered as "49 ~12~" would be a template built from it.
EVALUATED_TEMPLATE = re.compile(r"49 ~\d+~")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "ping"}
# E-mail addresses take only what their syntax allows: quotes and braces get through, markup does not.
EMAIL_SAFE = "o'hara{{7*7}}"


def hostile(value) -> bool:
    return isinstance(value, str) and (any(p in value for p in PAYLOADS) or EMAIL_SAFE in value)


# The free-text fields, found in the app's own code.


def _text_kinds(annotation) -> set[str]:
    """"" for a str, "[key]" for a mapping keyed by str, inside Optional/Annotated/Union wrappers."""
    origin = typing.get_origin(annotation)
    if annotation is str:
        return {""}
    if origin is typing.Annotated:
        return _text_kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_text_kinds(arg) for arg in typing.get_args(annotation)))
    if origin is dict:
        key = typing.get_args(annotation)[0]
        return {"[key]"} if "" in _text_kinds(key) else set()
    return set()


def schema_owner(model, name: str) -> str:
    """The model that declares the member (list queries inherit `cursor` from ListQuery)."""
    return next(klass for klass in model.__mro__ if name in vars(klass).get("__annotations__", {})).__name__


def schema_text_fields() -> set[str]:
    """"Model.member" for every str member of the API's request models ("Model.member[key]" for str-keyed maps)."""
    found = set()
    for model in vars(schemas).values():
        if inspect.isclass(model) and issubclass(model, BaseModel) and model.__module__ == schemas.__name__:
            for name, field in model.model_fields.items():
                found |= {f"{schema_owner(model, name)}.{name}{kind}" for kind in _text_kinds(field.annotation)}
    return found


def web_form_classes() -> list[type[Form]]:
    for module in pkgutil.iter_modules(certify.web.__path__):
        importlib.import_module(f"certify.web.{module.name}")
    classes = []
    for name in sorted(n for n in list(sys.modules) if n.startswith("certify.web.")):
        for cls in vars(sys.modules[name]).values():
            if inspect.isclass(cls) and issubclass(cls, Form) and cls.__module__ == name:
                classes.append(cls)
    return classes


def own_fields(cls) -> dict[str, UnboundField]:
    return {name: value for name, value in vars(cls).items() if isinstance(value, UnboundField)}


def form_text_fields() -> set[str]:
    """"Form.field" for every field a person types text into (StringField and its kinds: text areas, e-mail...)."""
    return {f"{cls.__name__}.{name}" for cls in web_form_classes()
            for name, unbound in own_fields(cls).items() if issubclass(unbound.field_class, StringField)}


def query_forms() -> list[type[Form]]:
    """Forms read from the query string (filters and searches): they have no CSRF token."""
    return [cls for cls in web_form_classes() if getattr(getattr(cls, "Meta", None), "csrf", None) is False]


def query_names() -> set[str]:
    """Every query parameter a page reads: the search forms' fields and each `request.args.get("...")`."""
    names = {name for cls in query_forms() for klass in cls.__mro__ for name in own_fields(klass)}
    for path in Path(certify.__file__).parent.rglob("*.py"):
        names |= set(re.findall(r"request\.args\.get\(\s*[\"'](\w+)[\"']", path.read_text()))
    return names


# What a page must never contain.


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>: an event handler attribute")
            if name in URL_ATTRIBUTES and value and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(
                    ("javascript:", "vbscript:", "data:text/html")):
                self.problems.append(f"<{tag} {name}={value!r}>: a script URL")
        self._script = tag == "script" and not dict(attrs).get("src")

    def handle_data(self, data):
        if self._script and "alert(" in data:
            self.problems.append(f"inline <script> running {data.strip()[:60]!r}")

    def handle_endtag(self, tag):
        self._script = False


def html_problems(body: str) -> list[str]:
    problems = [f"unescaped {raw!r}" for raw in UNESCAPED if raw.lower() in body.lower()]
    if EVALUATED_TEMPLATE.search(html.unescape(body)):
        problems.append(f"template evaluated: {EVALUATED_TEMPLATE.search(html.unescape(body)).group()!r}")
    parser = _Tags()
    parser.feed(body)
    return problems + parser.problems


class Sweep:
    """Fills fields with payloads, records which, and checks every answer it gets."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.filled: set[str] = set()
        self.problems: list[str] = []
        self.pages: dict[str, str] = {}  # "role GET /path" -> HTML
        self.pdfs: dict[str, str] = {}  # "role GET /path" -> the PDF's text
        self.csvs: dict[str, list[list[str]]] = {}
        self.serial = 0

    def value(self, payload: str, limit: int = 60) -> str:
        """The payload and a serial, cut to fit a field of `limit` characters (the serial always stays)."""
        self.serial += 1
        tag = f" ~{self.serial}~"
        return payload[: limit - len(tag)] + tag

    def email(self, role: str) -> str:
        self.serial += 1
        return f"{EMAIL_SAFE}-{role}~{self.serial}~@certify.test"

    # Answers

    def check(self, where: str, response) -> None:
        """Every answer: no server error; HTML escaped; JSON as JSON; files as attachments, never as a page."""
        if response.status_code >= 500:
            self.problems.append(f"{where}: {response.status_code}")
        media_type = response.mimetype
        if media_type == "text/html":
            body = response.get_data(as_text=True)
            self.pages[where] = body
            self.problems += [f"{where}: {problem}" for problem in html_problems(body)]
        elif media_type == "application/pdf":
            self.pdfs[where] = pdf_text(response.data)
        elif media_type == "text/csv":
            rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
            self.csvs[where] = rows
            self.problems += [f"{where}: CSV cell {cell!r} starts a formula" for row in rows for cell in row
                              if cell.startswith(FORMULA_TRIGGERS)]
        elif where.split()[-1].startswith("/api/") and response.data and media_type != "application/json":
            self.problems.append(f"{where}: an API answer as {media_type}")

    def answer(self, where: str, response, expected: tuple[int, ...]):
        self.check(where, response)
        for earlier in response.history:
            self.check(f"{where} (before redirect)", earlier)
        status = response.history[0].status_code if response.history else response.status_code
        assert status in expected, f"{where}: {status} {said(response)}"
        return response

    # The API

    def record_model(self, model: type[BaseModel], body: dict) -> None:
        for name, value in body.items():
            field = model.model_fields.get(name)
            if field is None:
                continue
            nested = _nested_model(field.annotation)
            if hostile(value):
                self.filled.add(f"{schema_owner(model, name)}.{name}")
            elif isinstance(value, dict) and nested:
                self.record_model(nested, value)
            elif isinstance(value, dict) and any(hostile(key) for key in value):
                self.filled.add(f"{schema_owner(model, name)}.{name}[key]")
            elif isinstance(value, list) and nested:
                for item in value:
                    self.record_model(nested, item)

    def api(self, method, path, model, body, headers, expected=(200, 201, 202)):
        """An API call with `body` as JSON (as the query string for GET), checked and recorded against `model`."""
        self.record_model(model, body)
        if method == "GET":
            response = self.client.get(path, query_string=body, headers=headers)
        else:
            response = self.client.open(path, method=method, json=body, headers=headers)
        self.answer(f"{method} {path}", response, expected)
        return response.get_json()

    # The HTML forms

    def record_form(self, form_class, data: dict, prefix: str = "") -> None:
        for key, value in data.items():
            if hostile(value) or (isinstance(value, tuple) and hostile(value[1])):
                resolved = _resolve_form_field(form_class, key.removeprefix(f"{prefix}-") if prefix else key)
                if resolved:
                    self.filled.add(resolved)

    def post_form(self, browser, page_url, form_class, data, *, post_url=None, prefix="", expected=(200, 302, 422),
                  multipart=False):
        """Sends a form as a browser does: what the page holds (CSRF token included), with `data` typed over it."""
        page = browser.get(page_url)
        self.answer(f"form GET {page_url}", page, (200,))
        sent = {**form_fields(page.get_data(as_text=True)), **data}
        self.record_form(form_class, data, prefix)
        response = browser.post(post_url or page_url, data=sent, follow_redirects=True,
                                content_type="multipart/form-data" if multipart else None)
        return self.answer(f"form POST {post_url or page_url}", response, expected)


def said(response) -> str:
    """What an answer says went wrong: the error body of the API, the error messages of a page."""
    text = response.get_data(as_text=True)
    if response.mimetype != "text/html":
        return text[:400]
    return " | ".join(html.unescape(m) for m in re.findall(r'class="[^"]*(?:error|flash)[^"]*"[^>]*>([^<]+)<', text))


def _nested_model(annotation):
    origin = typing.get_origin(annotation)
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation) if origin is not None else ():
        found = _nested_model(arg)
        if found:
            return found
    return None


def _resolve_form_field(form_class, key: str) -> str | None:
    """"Form.field" for a posted name ("assay-lab_name" → "AssayForm.lab_name"; list rows skip their index)."""
    name, _, rest = key.partition("-")
    owner = next((klass for klass in form_class.__mro__ if name in vars(klass)
                  and isinstance(vars(klass)[name], UnboundField)), None)
    if owner is None:
        return None
    unbound = vars(owner)[name]
    if not rest:
        return f"{owner.__name__}.{name}"
    inner = unbound.args[0]
    if isinstance(inner, UnboundField):  # a FieldList of FormFields: "inputs-0-lot_id"
        rest = rest.partition("-")[2]
        inner = inner.args[0]
    return _resolve_form_field(inner, rest)


# Filling everything, round after round, one payload per round.


def api_token(app, email: str) -> dict:
    """Bearer headers for the user, issued by the service (the token endpoint's password check costs 0.4 s)."""
    user = db.session.scalar(select(User).where(User.email == email))
    return bearer(accounts.issue_api_token(user, app.config["TOKEN_TTL"])[0])


def signed_in(app, email, password=PASSWORD):
    browser = app.test_client()
    response = login(browser, email, password)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return browser


def created_id(response) -> int:
    """The id in the address a create form sends the browser to, or None."""
    match = re.search(r"/(\d+)(?:/|$)", response.request.path)
    return int(match.group(1)) if match else None


def fill_round(sweep: Sweep, people: dict, payload: str, round_no: int) -> dict:
    """One company's worth of objects with `payload` in every text, through the API and the forms, refusals too.

    Two batches are submitted: one made through the API, one through the forms; review_round decides them.
    """
    app, client, v = sweep.app, sweep.client, sweep.value
    admin_api, admin = people["admin_api"], people["admin"]

    # The administrator: company, facility, applicant and lab through the API...
    company = sweep.api("POST", "/api/v1/companies", schemas.CompanyCreate,
                        {"name": v(payload),
                         "business_registration_no": FORMULA_TRIGGERS[round_no % 4] + v(payload, 39)}, admin_api)
    facility = sweep.api("POST", "/api/v1/facilities", schemas.FacilityCreate,
                         {"company_id": company["id"], "name": v(payload), "permit_no": v(payload),
                          "permit_valid_until": day(800), "process": "hydrometallurgy",
                          "annual_capacity_kg": 5000000}, admin_api)
    applicant_email, applicant_password = sweep.email("applicant"), v(payload) + " correct horse battery"
    sweep.api("POST", "/api/v1/users", schemas.UserCreate,
              {"email": applicant_email, "password": applicant_password, "role": "applicant",
               "company_id": company["id"]}, admin_api, expected=(201,))
    sweep.api("POST", "/api/v1/users", schemas.UserCreate,
              {"email": payload, "password": v(payload), "role": "auditor"}, admin_api, expected=(422,))
    sweep.api("POST", "/api/v1/labs", schemas.LabCreate, {"accreditation_no": v(payload), "name": v(payload)},
              admin_api)
    sweep.api("PATCH", "/api/v1/materials/NISO4", schemas.MaterialPatch, {"max_impurities_ppm": {payload: 1}},
              admin_api, expected=(422,))

    # ...and the same through the administrator's forms, with refusals shown back on the form.
    sweep.post_form(admin, "/admin/companies/new", admin_forms.CompanyForm,
                    {"name": v(payload), "business_registration_no": v(payload, 40)}, expected=(302,))
    form_company_id = db.session.scalar(select(Company.id).order_by(Company.id.desc()).limit(1))
    sweep.post_form(admin, f"/admin/facilities/new?company_id={form_company_id}", admin_forms.FacilityForm,
                    {"company_id": str(form_company_id), "name": v(payload), "permit_no": v(payload),
                     "permit_valid_until": day(800), "recycling_process": "hydrometallurgy",
                     "annual_capacity_kg": "5,000,000"}, post_url="/admin/facilities/new", expected=(302,))
    sweep.post_form(admin, "/admin/labs/new", admin_forms.LabForm,
                    {"accreditation_no": v(payload), "name": v(payload)}, expected=(302,))
    sweep.post_form(admin, "/admin/users/new", admin_forms.UserForm,
                    {"email": payload, "password": v(payload), "role": "auditor", "company_id": ""},
                    expected=(422,))
    sweep.post_form(admin, "/admin/materials/NISO4", admin_forms.MaterialThresholdsForm,
                    {"max_impurities_ppm": f"{payload}\nFe = 5", "min_purity_pct": payload}, expected=(422,))

    # The applicant: lots and a batch through the API, a lot and a batch through the forms.
    applicant_api = api_token(app, applicant_email)
    applicant = signed_in(app, applicant_email, applicant_password)
    api_lot = sweep.api("POST", "/api/v1/feedstock-lots", schemas.LotCreate, lot(facility["id"], payload, v),
                        applicant_api, expected=(201,))
    sweep.api("POST", "/api/v1/feedstock-lots", schemas.LotCreate,
              {**lot(facility["id"], payload, v), "element_content_pct": {payload: 1}}, applicant_api,
              expected=(422,))
    batch_a = sweep.api("POST", "/api/v1/batches", schemas.BatchCreate,
                        batch(facility["id"], api_lot["id"], payload, v), applicant_api, expected=(201,))
    sweep.api("POST", "/api/v1/batches", schemas.BatchCreate,
              {**batch(facility["id"], api_lot["id"], payload, v), "material_code": payload}, applicant_api,
              expected=(422,))
    bad_assay = {**batch(facility["id"], api_lot["id"], payload, v)["assay"], "impurities_ppm": {payload: 1}}
    sweep.api("POST", "/api/v1/batches", schemas.BatchCreate,
              {**batch(facility["id"], api_lot["id"], payload, v), "assay": bad_assay}, applicant_api,
              expected=(422,))
    sweep.api("PATCH", f"/api/v1/batches/{batch_a['id']}", schemas.BatchPatch, {"material_code": payload},
              applicant_api, expected=(422,))
    report_no = v(payload)
    batch_a = sweep.api("PATCH", f"/api/v1/batches/{batch_a['id']}", schemas.BatchPatch,
                        {"assay": {**batch(facility["id"], api_lot["id"], payload, v)["assay"],
                                   "report_no": report_no}}, applicant_api)
    for kind, filename, data in evidence_files(report_no, tag=f"xss-a{round_no}"):
        response = client.post(f"/api/v1/batches/{batch_a['id']}/documents", headers=applicant_api,
                               data={"kind": kind, "file": (io.BytesIO(data), hostile_filename(payload, filename))},
                               content_type="multipart/form-data")
        sweep.answer(f"POST /api/v1/batches/{batch_a['id']}/documents", response, (201,))
    sweep.answer(f"POST /api/v1/batches/{batch_a['id']}/submit",
                 client.post(f"/api/v1/batches/{batch_a['id']}/submit", headers=applicant_api), (202,))

    sweep.post_form(applicant, "/lots/new", applicant_forms.LotForm,
                    {**lot_fields(facility["id"], payload, v), "element_content_pct": payload}, expected=(422,))
    sweep.post_form(applicant, "/lots/new", applicant_forms.LotForm, lot_fields(facility["id"], payload, v),
                    expected=(302,))
    form_lot_id = db.session.scalar(select(FeedstockLot.id).where(FeedstockLot.company_id == company["id"])
                                    .order_by(FeedstockLot.id.desc()).limit(1))
    batch_fields = batch_form_fields(facility["id"], form_lot_id, payload, v)
    sweep.post_form(applicant, "/batches/new", applicant_forms.BatchForm,
                    {**batch_fields, "assay-impurities_ppm": payload, "material_code": payload}, expected=(422,))
    created = sweep.post_form(applicant, "/batches/new", applicant_forms.BatchForm, batch_fields, expected=(302,))
    batch_b_id = created_id(created)
    form_report_no = db.session.scalar(select(Batch.report_no).where(Batch.id == batch_b_id))
    for kind, filename, data in evidence_files(form_report_no, tag=f"xss-b{round_no}"):
        sweep.post_form(applicant, f"/batches/{batch_b_id}", applicant_forms.DocumentForm,
                        {"kind": kind, "file": (io.BytesIO(data), hostile_filename(payload, filename))},
                        post_url=f"/batches/{batch_b_id}/documents", multipart=True, expected=(302,))
    page = applicant.get(f"/batches/{batch_b_id}").get_data(as_text=True)
    sweep.answer("POST /batches/submit", applicant.post(f"/batches/{batch_b_id}/submit",
                                                          data={"csrf_token": csrf_token_from(page)}), (302,))
    return {"company_id": company["id"], "company_name": company["name"], "applicant": applicant,
            "applicant_api": applicant_api, "batch_ids": (batch_a["id"], batch_b_id), "payload": payload}


def lot(facility_id, payload, v) -> dict:
    return {"facility_id": facility_id, "lot_no": v(payload), "supplier": v(payload), "category": "post_consumer",
            "form": "black_mass", "chemistry": "NMC", "mass_kg": 12000, "received_on": day(-50),
            "transfer_doc_no": v(payload), "element_content_pct": {"Li": 3.4, "Ni": 21.5, "Co": 6.8, "Mn": 6.1}}


def lot_fields(facility_id, payload, v) -> dict:
    return {"facility_id": str(facility_id), "lot_no": v(payload), "supplier": v(payload),
            "category": "post_consumer", "form": "black_mass", "chemistry": "NMC", "mass_kg": "12,000",
            "received_on": day(-50), "transfer_doc_no": v(payload),
            "element_content_pct": "Li = 3.4\nNi = 21.5\nCo = 6.8\nMn = 6.1"}


def batch(facility_id, lot_id, payload, v) -> dict:
    return {"facility_id": facility_id, "material_code": "NISO4", "grade": "battery", "quantity_kg": 10000,
            "production_start": day(-40), "production_end": day(-10),
            "assay": {"purity_pct": 99.3, "impurities_ppm": {"Fe": 4, "Cu": 2, "Zn": 3}, "lab_name": v(payload),
                      "lab_accreditation_no": v(payload), "report_no": v(payload)},
            "inputs": [{"lot_id": lot_id, "mass_kg": 11000}], "claim": {"recycled_content_pct": 100}}


def batch_form_fields(facility_id, lot_id, payload, v) -> dict:
    return {"facility_id": str(facility_id), "material_code": "NISO4", "grade": "battery", "quantity_kg": "10,000",
            "production_start": day(-40), "production_end": day(-10), "assay-purity_pct": "99.3",
            "assay-impurities_ppm": "Fe = 4\nCu = 2\nZn = 3", "assay-lab_name": v(payload),
            "assay-lab_accreditation_no": v(payload), "assay-report_no": v(payload),
            "inputs-0-lot_id": str(lot_id), "inputs-0-mass_kg": "11,000", "claim-recycled_content_pct": "100",
            "save": "Save batch"}


def over_long(text: str) -> str:
    """The text repeated past the 4,000 characters a comment or reason may have: refused, and shown back."""
    return " ".join([text] * (4001 // len(text) + 1))


def hostile_filename(payload: str, filename: str) -> str:
    # A browser sends a double quote in a file name as %22 (HTML's multipart encoding); the test client would
    # send it raw and end the name there.
    return f"{payload}{filename}".replace('"', "%22")


def review_round(sweep: Sweep, people: dict, filled: dict) -> str:
    """Decisions with hostile comments (both doors), a certificate, status changes with hostile reasons."""
    client, v, payload = sweep.client, sweep.value, filled["payload"]
    batch_a, batch_b = filled["batch_ids"]
    for batch_id in filled["batch_ids"]:
        checked = wait_for_status(TokenHolder(client, filled["applicant_api"]), batch_id)
        assert checked["status"] == "awaiting_review", checked["checks"]
    version = client.get(f"/api/v1/batches/{batch_a}", headers=people["reviewer_api"]).get_json()["version"]
    sweep.api("POST", f"/api/v1/batches/{batch_a}/decision", schemas.DecisionRequest,
              {"decision": "approve", "comment": v(payload), "version": version}, people["reviewer_api"])
    sweep.post_form(people["second_reviewer"], f"/review/batches/{batch_a}", review_forms.DecisionForm,
                    {"decision": "approve", "comment": v(payload)}, post_url=f"/review/batches/{batch_a}/decision",
                    expected=(302,))
    sweep.post_form(people["reviewer"], f"/review/batches/{batch_b}", review_forms.DecisionForm,
                    {"decision": "", "comment": v(payload)}, post_url=f"/review/batches/{batch_b}/decision",
                    expected=(422,))
    sweep.post_form(people["reviewer"], f"/review/batches/{batch_b}", review_forms.DecisionForm,
                    {"decision": "request_changes", "comment": v(payload)},
                    post_url=f"/review/batches/{batch_b}/decision", expected=(302,))
    sweep.post_form(filled["applicant"], f"/batches/{batch_b}/edit", applicant_forms.BatchForm,
                    {"assay-lab_name": v(payload), "save": "Save batch"}, expected=(302,))

    number = db.session.scalar(select(Certificate.number).where(Certificate.batch_id == batch_a))
    assert number, "the batch was approved: it has a certificate"
    sweep.api("POST", f"/api/v1/certificates/{number}/suspend", schemas.ReasonRequest, {"reason": v(payload)},
              people["reviewer_api"])
    page = f"/review/certificates/{number}"
    sweep.post_form(people["reviewer"], page, review_forms.ReasonForm, {"reinstate-reason": over_long(v(payload))},
                    post_url=f"{page}/reinstate", prefix="reinstate", expected=(422,))
    sweep.post_form(people["reviewer"], page, review_forms.ReasonForm, {"reinstate-reason": v(payload)},
                    post_url=f"{page}/reinstate", prefix="reinstate", expected=(302,))
    if filled["round"] % 2 == 0:
        sweep.post_form(people["admin"], f"{page}/revoke", review_forms.ReasonForm, {"revoke-reason": v(payload)},
                        prefix="revoke", expected=(302,))
    return number


class TokenHolder:
    """Just enough of tests.helpers.Applicant for wait_for_status: a GET with the applicant's token."""

    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def get(self, path):
        return self.client.get(path, headers=self.headers)


def two_step_codes(sweep: Sweep, signed_in_browser) -> None:
    """The code boxes of two-step sign-in: enrolling (a signed-in user) and signing in (a user who has a key)."""
    for payload in PAYLOADS:
        sweep.post_form(signed_in_browser, "/account/two-step", auth_forms.EnrolForm, {"code": payload},
                        expected=(422,))
    user = make_user("auditor", email="two-step@certify.test")
    enrolment = mfa.begin_enrolment(user)
    assert mfa.confirm_enrolment(user, pyotp.TOTP(enrolment.secret).now())
    browser = sweep.app.test_client()
    assert login(browser, user.email).status_code == 302  # the password is right: the code step comes next
    for payload in PAYLOADS:
        sweep.post_form(browser, "/login", auth_forms.CodeForm, {"code": payload}, expected=(200, 422))


# Walking every page.


def expand(sweep: Sweep, rule, ids: dict, hostile_values: bool) -> list[tuple[str, dict]]:
    """The rule with each id or number the role can see, as (path, query) pairs; or, with `hostile_values`,
    with the payloads in place of the numbers and codes it takes (a not-found page names what was asked for)."""
    names = set(rule.arguments)
    unknown = names - {"batch_id", "document_id", "lot_id", "user_id", "number", "code"}
    if unknown:
        sweep.problems.append(f"{rule.endpoint}: no objects to fill its parameters {sorted(unknown)}")
        return []
    if hostile_values:
        values = [{"number": p} for p in PAYLOADS] if "number" in names else (
            [{"code": p} for p in PAYLOADS] if "code" in names else [])
    elif "document_id" in names:
        values = [{"batch_id": b, "document_id": d} for b, d in ids["documents"]]
    elif "batch_id" in names:
        values = [{"batch_id": b} for b in ids["batches"]]
    elif "lot_id" in names:
        values = [{"lot_id": lot_id} for lot_id in ids["lots"]]
    elif "user_id" in names:
        values = [{"user_id": user_id} for user_id in ids["users"]]
    elif "number" in names:
        values = [{"number": n} for n in ids["certificates"]]
    elif "code" in names:
        values = [{"code": code} for code in ids["materials"]]
    else:
        values = [{}]
    paths = []
    for value in values:
        path = rule.rule
        for name, item in value.items():
            path = re.sub(rf"<(?:\w+:)?{name}>", quote(str(item), safe=""), path)
        query = {"code": ids["codes"][value["number"]]} if value.get("number") in ids["codes"] else {}
        paths.append((path, query))
    return paths


def visible_ids(company_id: int | None) -> dict:
    def scoped(statement, model):
        return statement.where(model.company_id == company_id) if company_id else statement

    certificates = db.session.execute(scoped(select(Certificate.number, Certificate.verification_code),
                                             Certificate)).all()
    return {"batches": db.session.scalars(scoped(select(Batch.id), Batch)).all(),
            "documents": db.session.execute(scoped(select(Document.batch_id, Document.id).join(Batch), Batch)).all(),
            "lots": db.session.scalars(scoped(select(FeedstockLot.id), FeedstockLot)).all(),
            "users": db.session.scalars(scoped(select(User.id), User)).all(),
            "certificates": [number for number, _ in certificates], "codes": dict(certificates),
            "materials": db.session.scalars(select(Material.code)).all()}


def walk(sweep: Sweep, browser, who: str, company_id: int | None, walked: set) -> None:
    """Every GET page the role may open, with every object it can see.

    Each page is also opened once (for the first role that can) with every query parameter and every number or
    code in its address set to each payload. Downloads other than certificates and exports are sampled: their
    type is what is checked, and it does not depend on which object is asked for. The ministry's roles all see
    every company, so a page of objects that one of them walked is not walked again by the next.
    """
    ids = visible_ids(company_id)
    role = who.partition("-")[0]  # "applicant-2": the applicant of the third company
    hostile_queries = [{name: payload for name in query_names()} for payload in PAYLOADS]
    for rule in sweep.app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.startswith("api.") or rule.endpoint == "static":
            continue
        allowed = getattr(sweep.app.view_functions[rule.endpoint], "allowed_roles", None)
        if (role == "anonymous") != (not allowed) or (allowed and role not in allowed):
            continue
        paths = expand(sweep, rule, ids, hostile_values=False)
        if company_id is None and rule.arguments and rule.endpoint in walked:
            paths = paths[:1]
        for path, query in paths:
            response = browser.get(path, query_string=query)
            sweep.answer(f"{who} GET {path}", response, (200, 302, 404))
            if response.mimetype not in ("text/html", "application/pdf", "text/csv"):
                break
        if rule.endpoint in walked or not paths:
            continue
        walked.add(rule.endpoint)
        for path, query in expand(sweep, rule, ids, hostile_values=True):
            sweep.answer(f"{who} GET {path}", browser.get(path, query_string=query), (200, 302, 404))
        path, own = paths[0]
        for query in hostile_queries:
            sweep.answer(f"{who} GET {path} (hostile query)", browser.get(path, query_string={**query, **own}),
                         (200, 302, 400, 404, 422))
            for form in query_forms():
                sweep.record_form(form, query)


def pdf_text(data: bytes) -> str:
    result = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    return result.stdout.decode()


@pytest.fixture()
def sweep(app, client, ctx, worker):
    return Sweep(app, client)


def test_free_text_is_escaped_on_every_page(app, client, sweep):
    make_user("admin")
    admin_api = api_token(app, "admin@certify.test")
    people = {"admin_api": admin_api, "admin": signed_in(app, "admin@certify.test")}
    reviewer_email = sweep.email("reviewer")
    sweep.api("POST", "/api/v1/users", schemas.UserCreate,
              {"email": reviewer_email, "password": PASSWORD, "role": "reviewer"}, admin_api, expected=(201,))
    second_email = sweep.email("reviewer")
    sweep.post_form(people["admin"], "/admin/users/new", admin_forms.UserForm,
                    {"email": second_email, "password": PASSWORD, "role": "reviewer", "company_id": ""},
                    expected=(302,))
    auditor = make_user("auditor")
    people |= {"reviewer_api": api_token(app, reviewer_email),
               "reviewer": signed_in(app, reviewer_email), "second_reviewer": signed_in(app, second_email),
               "auditor": signed_in(app, auditor.email)}
    # Catalogue names are data too: the materials' names show in every material list and choice.
    db.session.execute(update(Material).where(Material.code == "PB").values(name=sweep.value(PAYLOADS[0])))
    db.session.commit()

    # Signing in with hostile text: the form and the API answer it back safely.
    anonymous = app.test_client()
    for payload in PAYLOADS:
        sweep.post_form(anonymous, "/login", forms.LoginForm, {"email": payload, "password": payload})
    sweep.api("POST", "/api/v1/auth/tokens", schemas.TokenRequest,
              {"email": PAYLOADS[0], "password": PAYLOADS[1], "otp": PAYLOADS[2]}, {}, expected=(401, 422))
    two_step_codes(sweep, people["auditor"])

    rounds = []
    for round_no, payload in enumerate(PAYLOADS):
        rounds.append({**fill_round(sweep, people, payload, round_no), "round": round_no})
    certificates = [review_round(sweep, people, filled) for filled in rounds]

    # The API's lists with hostile filters.
    for query_model, path in ((schemas.BatchListQuery, "/api/v1/batches"),
                              (schemas.CertificateListQuery, "/api/v1/certificates"),
                              (schemas.LotListQuery, "/api/v1/feedstock-lots"),
                              (schemas.AuditQuery, "/api/v1/audit-events")):
        for payload in PAYLOADS:
            body = {name: payload for name in query_model.model_fields if "" in _text_kinds(
                query_model.model_fields[name].annotation)}
            sweep.api("GET", path, query_model, body, admin_api, expected=(200, 400, 422))
    for payload in PAYLOADS:
        sweep.api("GET", f"/api/v1/public/certificates/{certificates[0]}", schemas.PublicLookupQuery,
                  {"code": payload}, {}, expected=(404,))

    # Every page of every role.
    walked: set[str] = set()
    walk(sweep, people["auditor"], "auditor", None, walked)
    walk(sweep, people["reviewer"], "reviewer", None, walked)
    walk(sweep, people["admin"], "admin", None, walked)
    for filled in rounds:
        walk(sweep, filled["applicant"], f"applicant-{filled['round']}", filled["company_id"], walked)
    walk(sweep, app.test_client(), "anonymous", None, walked)

    assert sweep.problems == []

    # The certificate PDFs show the names as text (never read as markup), and the register export neutralises
    # the registration numbers that start with a formula character.
    assert sweep.pdfs, "no certificate PDF was opened"
    for filled, number in zip(rounds, certificates):
        name = "".join(filled["company_name"].split())
        texts = ["".join(text.split()) for where, text in sweep.pdfs.items() if number in where]
        assert texts and all(name in text for text in texts), (number, filled["company_name"])
    register = [cell for rows in sweep.csvs.values() for row in rows for cell in row]
    assert register, "the certificate register was not exported"
    for trigger in FORMULA_TRIGGERS[:4]:
        assert any(cell.startswith("'" + trigger) for cell in register), f"no neutralised cell starting {trigger}"

    # Nothing slipped through: every free-text field found in the app was filled with a payload.
    missing = (schema_text_fields() | form_text_fields()) - sweep.filled
    assert missing == set(), f"free-text fields the sweep does not fill: {sorted(missing)}"

    # And the payloads did reach the pages, escaped: the sweep saw what it was looking for.
    for payload in PAYLOADS:
        escaped = str(html.escape(payload, quote=True)).replace("&#x27;", "&#39;").replace("&quot;", "&#34;")
        for role in ("admin", "reviewer", "auditor", "applicant", "anonymous"):
            assert any(where.startswith(role) and escaped in body for where, body in sweep.pages.items()), (
                f"{payload!r} never shown escaped to {role}")
