"""The auditor's pages, all read-only: searches, batch and certificate pages, evidence downloads, the audit trail."""
import datetime as dt
import io
import json
from typing import NamedTuple

from flask import Blueprint, Response, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from certify.api.batch_views import batch_json, batch_load_options, certificate_numbers, latest_runs
from certify.csv_export import csv_stream
from certify.domain.canonical import plain_json
from certify.domain.workflow import BATCH_STATUSES, CERTIFICATE_STATUSES
from certify.extensions import db
from certify.i18n import lazy_gettext as _l
from certify.i18n import status_label
from certify.models import AuditEvent, Batch, Certificate, Company, Material, User
from certify.security import get_batch_for, get_certificate_for, get_document_for, roles_required, scoped
from certify.services import bundles, certificates
from certify.services.audit import event_hash, event_payload, verify_chain
from certify.storage import document_store
from certify.timeutil import as_utc, isoformat_z, utcnow
from certify.web import formatting
from certify.web.admin_forms import strip
from certify.web.downloads import attachment_response, file_response
from certify.web.forms import MATERIAL_CHOICES, FilterSelectField
from certify.web.fragments import rendered_fragment
from certify.web.paging import newest_first, newest_rows, plain_rows
from certify.web.review import check_messages

audit = Blueprint("audit", __name__, url_prefix="/audit")

# The one role that reads everything and writes nothing, and the admins who may read it too (api.md, Roles).
AUDIT_ROLES = ("auditor", "admin")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
TRAIL_PAGE_SIZE = 100
# The register export reads this many certificates per query, so memory stays flat however large the register.
EXPORT_CHUNK_SIZE = 500
# What the trail page offers to filter by: every object_type that services.audit.record is called with.
AUDITED_OBJECT_TYPES = ("batch", "certificate", "company", "facility", "feedstock_lot", "lab", "material", "user")
REGISTER_COLUMNS = ("number", "status", "company", "business_registration_no", "facility", "material_code", "grade",
                    "quantity_kg", "recycled_content_pct", "post_consumer_pct", "pre_consumer_pct",
                    "production_start", "production_end", "issued_at", "status_changed_at", "key_id",
                    "verification_code")
# Audited objects as people read them on the trail page; the stored codes stay as they are.
OBJECT_TYPE_LABELS = {
    "batch": _l("batch"), "certificate": _l("certificate"), "company": _l("company"), "facility": _l("facility"),
    "feedstock_lot": _l("feedstock lot"), "lab": _l("laboratory"), "material": _l("material"), "user": _l("user"),
    "check_run": _l("check run"), "document": _l("document"),
}

# Registered for the whole app (as the applicant's blueprint does), so these pages never depend on another blueprint.
for _name, _filter in formatting.FILTERS.items():
    audit.add_app_template_filter(_filter, _name)


# Search forms: read from the query string, so a search is a link an auditor can keep or send.

# The company filter's choices, as plain rows (only the names are shown): made once, run on every search.
COMPANY_CHOICES = select(Company.id, Company.name).order_by(Company.name, Company.id)


class SearchForm(FlaskForm):
    """Filters shared by both searches; a filter changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    number = StringField(_l("Number"), filters=[strip], description=_l("or its beginning"), validators=[
        Optional(), Length(max=20, message=_l("A number has at most %(max)d characters."))])
    company = FilterSelectField(_l("Company"), validators=[Optional()])
    material = FilterSelectField(_l("Material"), validators=[Optional()])
    status = FilterSelectField(_l("Status"), validators=[Optional()])
    period_from = DateField(_l("from"), validators=[Optional()])
    period_to = DateField(_l("to"), validators=[Optional()])
    period_legend = period_hint = ""

    def __init__(self, statuses: tuple[str, ...], **kwargs):
        super().__init__(formdata=request.args, **kwargs)
        companies, materials = plain_rows(COMPANY_CHOICES), plain_rows(MATERIAL_CHOICES)
        self.company.choices = [SelectChoice("", _("all companies"))] + [
            SelectChoice(str(c.id), c.name) for c in companies]
        self.material.choices = [SelectChoice("", _("all materials"))] + [
            SelectChoice(m.code, f"{m.code} · {m.name}") for m in materials]
        self.status.choices = [SelectChoice("", _("any status"))] + [
            SelectChoice(s, status_label(s)) for s in statuses]

    def validate_period_to(self, field):
        if field.data and self.period_from.data and field.data < self.period_from.data:
            raise ValidationError(_("The end of the period is before its start."))

    def number_prefix(self) -> str | None:
        # Numbers are upper case and fixed width, so a prefix search also finds one whole number exactly.
        return self.number.data.upper() if self.number.data else None

    def company_id(self) -> int | None:
        return int(self.company.data) if self.company.data else None

    def query_args(self) -> dict:
        """The filters as given, for links to the next page and to the export."""
        return {name: request.args[name] for name in self._fields if request.args.get(name)}


class BatchSearchForm(SearchForm):
    def __init__(self):
        super().__init__(BATCH_STATUSES)
        self.number.label.text = _("Batch no.")
        self.period_legend, self.period_hint = _("Production period"), _("Batches whose period overlaps these days")


class CertificateSearchForm(SearchForm):
    def __init__(self):
        super().__init__(CERTIFICATE_STATUSES)
        self.number.label.text = _("Certificate no.")
        self.period_legend, self.period_hint = _("Issued"), _("Both days included (UTC)")


class TrailForm(FlaskForm):
    class Meta:
        csrf = False

    object_type = SelectField(_l("Object"), validators=[Optional()],
                              choices=[SelectChoice("", _l("any object"))] + [
                                  SelectChoice(t, OBJECT_TYPE_LABELS[t]) for t in AUDITED_OBJECT_TYPES])
    object_id = StringField(_l("Id or number"), filters=[strip], validators=[
        Optional(), Length(max=40, message=_l("An id or number has at most %(max)d characters."))])

    def __init__(self):
        super().__init__(formdata=request.args)

    def query_args(self) -> dict:
        return {name: value for name, value in (("object_type", self.object_type.data),
                                                ("object_id", self.object_id.data)) if value}


# Helpers: reading only. Nothing on these pages writes.

def page_size() -> int:
    return min(max(request.args.get("limit", DEFAULT_PAGE_SIZE, type=int), 1), MAX_PAGE_SIZE)



def start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)


def batch_conditions(form: BatchSearchForm) -> list:
    conditions = []
    if form.number_prefix():
        conditions.append(Batch.number.startswith(form.number_prefix(), autoescape=True))
    if form.company_id() is not None:
        conditions.append(Batch.company_id == form.company_id())
    if form.material.data:
        conditions.append(Batch.material_code == form.material.data)
    if form.status.data:
        conditions.append(Batch.status == form.status.data)
    if form.period_from.data:
        conditions.append(Batch.production_end >= form.period_from.data)
    if form.period_to.data:
        conditions.append(Batch.production_start <= form.period_to.data)
    return conditions


def certificate_conditions(form: CertificateSearchForm) -> list:
    conditions = []
    if form.number_prefix():
        conditions.append(Certificate.number.startswith(form.number_prefix(), autoescape=True))
    if form.company_id() is not None:
        conditions.append(Certificate.company_id == form.company_id())
    if form.material.data:
        conditions.append(Certificate.material_code == form.material.data)
    if form.status.data:
        conditions.append(Certificate.status == form.status.data)
    if form.period_from.data:
        conditions.append(Certificate.issued_at >= start_of_day(form.period_from.data))
    if form.period_to.data:
        conditions.append(Certificate.issued_at < start_of_day(form.period_to.data + dt.timedelta(days=1)))
    return conditions


# A certificate as the search lists it: plain rows with the signed content, of which the row shows a few members.
# The content is a `json` column: PostgreSQL parses the whole document again for every member picked out of it
# (9 a row), while one decode per row in the driver costs a quarter of that.
SEARCH_RESULT_COLUMNS = (Certificate.id, Certificate.number, Certificate.status, Certificate.batch_id,
                         Certificate.content)
SHOWN_CONTENT = ("material_code", "grade", "quantity_kg", "recycled_content_pct", "production_start",
                 "production_end", "issued_at", "batch_number")


class SearchResult(NamedTuple):
    """One certificate as a row of the search."""
    id: int
    number: str
    status: str
    batch_id: int
    company_name: str
    material_code: str
    grade: str
    quantity_kg: object
    recycled_content_pct: object
    production_start: str
    production_end: str
    issued_at: str
    batch_number: str

    @classmethod
    def of(cls, row) -> "SearchResult":
        content = row.content
        return cls(row.id, row.number, row.status, row.batch_id, content["company"]["name"],
                   *(content[name] for name in SHOWN_CONTENT))


def emails_of(user_ids) -> dict[int, str]:
    """Who the ids in decisions, certificates and events are, in one query."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())


def pretty_json(value) -> str:
    """An event's data as indented JSON; the template escapes it like any other text."""
    return json.dumps(plain_json(value), indent=2, ensure_ascii=False, sort_keys=True)


def to_the_second(value: dt.datetime) -> str:
    """UTC to the second, as events are stored (the shared date filter stops at minutes)."""
    return as_utc(value).strftime("%Y-%m-%d %H:%M:%S")


@audit.context_processor
def page_helpers():
    return {"pretty_json": pretty_json, "to_the_second": to_the_second, "object_type_label": object_type_label}


def object_type_label(object_type: str | None) -> str:
    if not object_type:
        return ""
    label = OBJECT_TYPE_LABELS.get(object_type)
    return str(label) if label is not None else formatting.words(object_type)


def certificate_document_text(certificate: Certificate) -> str:
    return json.dumps(plain_json(certificates.document_json(certificate)), ensure_ascii=False, indent=2)


def register_row(row) -> list:
    """One line of the certificate register: the facts as signed at issue, then the current status."""
    content = row.content
    return [row.number, row.status, content["company"]["name"], content["company"]["business_registration_no"],
            content["facility"]["name"], content["material_code"], content["grade"],
            formatting.plain_number(content["quantity_kg"]), formatting.plain_number(content["recycled_content_pct"]),
            formatting.plain_number(content["post_consumer_pct"]), formatting.plain_number(content["pre_consumer_pct"]),
            content["production_start"], content["production_end"], content["issued_at"],
            isoformat_z(row.status_changed_at), row.key_id, row.verification_code]


def register_statement(conditions: list) -> Select:
    # Plain columns, not entities: rows read for the export never pile up in the session's identity map.
    return scoped(select(Certificate.id, Certificate.number, Certificate.status, Certificate.content,
                         Certificate.status_changed_at, Certificate.key_id, Certificate.verification_code),
                  Certificate, current_user).where(*conditions)


def register_chunks(statement: Select):
    """The register newest first, EXPORT_CHUNK_SIZE certificates per query (keyset on id): never all at once."""
    before = None
    while True:
        page = statement if before is None else statement.where(Certificate.id < before)
        rows = db.session.execute(page.order_by(Certificate.id.desc()).limit(EXPORT_CHUNK_SIZE)).all()
        if not rows:
            return
        yield [register_row(row) for row in rows]
        if len(rows) < EXPORT_CHUNK_SIZE:
            return
        before = rows[-1].id


def ids_of(events, object_type: str) -> set[int]:
    return {int(event.object_id) for event in events if event.object_type == object_type and event.object_id.isdigit()}


def event_names(events) -> dict:
    """Who acted and which batch or user each event is about, by name instead of id: two queries for the page."""
    batch_ids = ids_of(events, "batch")
    batch_numbers = dict(db.session.execute(select(Batch.id, Batch.number).where(Batch.id.in_(batch_ids))).all()) \
        if batch_ids else {}
    return {"emails": emails_of([event.actor_id for event in events] + list(ids_of(events, "user"))),
            "batch_numbers": batch_numbers}


def trail_subject(object_type: str | None, object_id: str | None) -> dict | None:
    """The batch or certificate a filtered trail is about, for the page's heading and its way back."""
    if object_type == "batch" and object_id and object_id.isdigit():
        number = db.session.scalar(select(Batch.number).where(Batch.id == int(object_id)))
        if number:
            return {"kind": "batch", "label": _("batch %(number)s", number=number),
                    "url": url_for("audit.batch_page", batch_id=int(object_id))}
    if object_type == "certificate" and object_id:
        if db.session.scalar(select(Certificate.id).where(Certificate.number == object_id)):
            return {"kind": "certificate", "label": _("certificate %(number)s", number=object_id),
                    "url": url_for("audit.certificate_page", number=object_id)}
    return None


# Pages

@audit.get("/")
@roles_required(*AUDIT_ROLES)
def index():
    """The auditor's area opens on the batch search."""
    return redirect(url_for("audit.batch_search"))


@audit.get("/batches")
@roles_required(*AUDIT_ROLES)
def batch_search():
    """Batches of every company by number, company, material, status and production period, newest first."""
    form = BatchSearchForm()
    if not form.validate():
        return render_template("audit/batches.html", form=form, batches=[], older=None, numbers={}), 422
    statement = (scoped(select(Batch), Batch, current_user).where(*batch_conditions(form))
                 .options(joinedload(Batch.company), joinedload(Batch.facility)))
    size = page_size()
    batches, older = newest_first(statement, Batch.id, size)
    return render_template("audit/batches.html", form=form, batches=batches, older=older,
                           numbers=certificate_numbers([batch.id for batch in batches]),
                           page_args={**form.query_args(), "limit": size})


@audit.get("/batches/<int:batch_id>")
@roles_required(*AUDIT_ROLES)
def batch_page(batch_id: int):
    """One batch as it stands: facts, inputs, computed balance, checks, documents, decisions and certificate."""
    batch = get_batch_for(current_user, batch_id,
                          options=(*batch_load_options(), joinedload(Batch.company), joinedload(Batch.facility)))
    run = latest_runs([batch.id]).get(batch.id)
    certificate = db.session.scalar(select(Certificate).where(Certificate.batch_id == batch.id))
    view = batch_json(batch, run, certificate.number if certificate else None)
    return render_template("audit/batch.html", batch=batch, view=view, run=run, certificate=certificate,
                           material=db.session.get(Material, batch.material_code),
                           check_messages=check_messages(run),
                           reviewers=emails_of(decision.reviewer_id for decision in batch.decisions))


@audit.get("/batches/<int:batch_id>/documents/<int:document_id>")
@roles_required(*AUDIT_ROLES)
def download_document(batch_id: int, document_id: int):
    """One evidence file as uploaded, always as an attachment."""
    _, document = get_document_for(current_user, batch_id, document_id)
    return attachment_response(document_store().open(document.sha256), document.media_type, document.filename)


@audit.get("/batches/<int:batch_id>/bundle.zip")
@roles_required(*AUDIT_ROLES)
def evidence_bundle(batch_id: int):
    """The evidence bundle: manifest.json (batch, certificate, audit events, file hashes) and every document."""
    batch = get_batch_for(current_user, batch_id, options=batch_load_options())
    run = latest_runs([batch.id]).get(batch.id)
    bundle = bundles.build_bundle(batch, batch_json(batch, run, certificate_numbers([batch.id]).get(batch.id)))
    return file_response(bundle, "application/zip", f"{batch.number}-bundle.zip")


@audit.get("/certificates")
@roles_required(*AUDIT_ROLES)
def certificate_search():
    """Certificates of every company by number, company, material, status and issue period, newest first."""
    form = CertificateSearchForm()
    if not form.validate():
        return render_template("audit/certificates.html", form=form, table_rows=None, older=None), 422
    statement = scoped(select(*SEARCH_RESULT_COLUMNS), Certificate, current_user).where(*certificate_conditions(form))
    size = page_size()
    found, older = newest_rows(statement, Certificate.id, size)
    results = tuple(SearchResult.of(row) for row in found)
    table_rows = rendered_fragment("audit/_certificate_rows.html", certificates=results) if results else None
    return render_template("audit/certificates.html", form=form, table_rows=table_rows, older=older,
                           page_args={**form.query_args(), "limit": size})


@audit.get("/certificates.csv")
@roles_required(*AUDIT_ROLES)
def certificate_register_csv():
    """The certificate register as CSV for Excel (UTF-8 with BOM), same filters as the search, streamed."""
    form = CertificateSearchForm()
    if not form.validate():
        return render_template("audit/certificates.html", form=form, table_rows=None, older=None), 422
    lines = csv_stream(REGISTER_COLUMNS, register_chunks(register_statement(certificate_conditions(form))))
    filename = f"certificate-register-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "X-Content-Type-Options": "nosniff"})


@audit.get("/certificates/<number>.pdf")
@roles_required(*AUDIT_ROLES)
def certificate_pdf(number: str):
    """The certificate as its bilingual PDF, with the QR code to the public verification page."""
    certificate = get_certificate_for(current_user, number)
    pdf = certificates.pdf_of(certificate)
    return file_response(io.BytesIO(pdf), "application/pdf", f"{certificate.number}.pdf")


@audit.get("/certificates/<number>.json")
@roles_required(*AUDIT_ROLES)
def certificate_json(number: str):
    """The signed certificate document (api.md) as a file anyone can verify offline against the published key."""
    certificate = get_certificate_for(current_user, number)
    document = certificate_document_text(certificate).encode("utf-8")
    return file_response(io.BytesIO(document), "application/json", f"{certificate.number}.json")


@audit.get("/certificates/<number>")
@roles_required(*AUDIT_ROLES)
def certificate_page(number: str):
    """One certificate: the signed facts, its current status and why, and its downloads."""
    certificate = get_certificate_for(current_user, number)
    return render_template("audit/certificate.html", certificate=certificate, content=certificate.content,
                           approvers=emails_of(certificate.content.get("approved_by", [])),
                           verify_url=certificates.verify_url(certificate))


@audit.get("/trail")
@roles_required(*AUDIT_ROLES)
def trail():
    """Audit events: one object's oldest first (`?after=<seq>` pages on), else the whole trail newest first."""
    form = TrailForm()
    if not form.validate():
        return render_template("audit/trail.html", form=form, events=[], by_object=False, intact={}, emails={},
                               batch_numbers={}, subject=None, next_args=None), 422
    statement = select(AuditEvent)
    if form.object_type.data:
        statement = statement.where(AuditEvent.object_type == form.object_type.data)
    if form.object_id.data:
        statement = statement.where(AuditEvent.object_id == form.object_id.data)
    by_object = bool(form.object_type.data or form.object_id.data)
    if by_object:
        after = request.args.get("after", type=int)
        if after is not None:
            statement = statement.where(AuditEvent.seq > after)
        statement = statement.order_by(AuditEvent.seq.asc())
    else:
        before = request.args.get("before", type=int)
        if before is not None:
            statement = statement.where(AuditEvent.seq < before)
        statement = statement.order_by(AuditEvent.seq.desc())
    events = db.session.scalars(statement.limit(TRAIL_PAGE_SIZE + 1)).all()
    next_args = None
    if len(events) > TRAIL_PAGE_SIZE:
        events = events[:TRAIL_PAGE_SIZE]
        next_args = {**form.query_args(), ("after" if by_object else "before"): events[-1].seq}
    # Recomputed here so that a row edited behind the service's back stands out on the page itself.
    intact = {event.seq: event_hash(event_payload(event)) == event.hash for event in events}
    return render_template("audit/trail.html", form=form, events=events, by_object=by_object, intact=intact,
                           next_args=next_args, subject=trail_subject(form.object_type.data, form.object_id.data),
                           **event_names(events))


@audit.get("/verify")
@roles_required(*AUDIT_ROLES)
def verify_chain_page():
    """Recomputes the whole hash chain and says whether it holds, or at which event it first breaks."""
    result = verify_chain()
    return render_template("audit/verify.html", result=result, checked_at=utcnow())

