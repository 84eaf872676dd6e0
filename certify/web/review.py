"""The reviewer's pages: the queue, one batch with its evidence and a decision, certificates and their status."""
import datetime as dt
import functools
import io
from typing import NamedTuple

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import joinedload

from certify.api.batch_views import batch_json, batch_load_options, certificate_numbers, latest_runs
from certify.domain import workflow
from certify.domain.checks import MESSAGES as CHECK_MESSAGES
from certify.errors import ApiError
from certify.extensions import db
from certify.i18n import translated as _
from certify.models import (
    AuditEvent,
    Batch,
    Certificate,
    CheckResult,
    CheckRun,
    Company,
    Decision,
    Facility,
    Material,
    User,
)
from certify.routing import DatabaseIdConverter
from certify.security import (
    company_scope,
    get_batch_for,
    get_certificate_for,
    get_document_for,
    roles_required,
    scoped,
)
from certify.services import certificates
from certify.services import review as review_service
from certify.storage import document_store
from certify.timeutil import as_utc, utcnow
from certify.web.downloads import file_response
from certify.web.forms import MATERIAL_CHOICES
from certify.web.fragments import rendered_fragment
from certify.web.paging import plain_rows
from certify.web.review_forms import DecisionForm, NumberSearchForm, QueueFilterForm, ReasonForm, value_label

review = Blueprint("review", __name__, url_prefix="/review")

PAGE_SIZE = 50
MAX_HISTORY_EVENTS = 200
# Types a browser shows with its own viewer and never runs; anything else is always a download.
INLINE_MEDIA_TYPES = ("application/pdf", "image/png", "image/jpeg")
STATUS_EVENTS = {"suspend": "suspended", "reinstate": "reinstated", "revoke": "revoked"}


# A global, not a context processor of the blueprint: rows kept once rendered (certify/web/fragments.py) use it too.
review.add_app_template_global(value_label)


def check_messages(run: CheckRun | None) -> dict[str, str]:
    """Each check's message in the reader's language, by check code: its template translated, then filled in.

    A template that no longer matches the stored parameters falls back to the message as the check wrote it.
    """
    if run is None:
        return {}
    messages = {}
    for result in run.results:
        template = CHECK_MESSAGES.get(result.message_key)
        try:
            messages[result.code] = _(template).format(**(result.params or {})) if template else result.message
        except (KeyError, IndexError, ValueError):
            messages[result.code] = result.message
    return messages


# Queue

def latest_run_id():
    """The id of each batch's newest check run, as a subquery correlated to the batch of the outer query."""
    return select(func.max(CheckRun.id)).where(CheckRun.batch_id == Batch.id).correlate(Batch).scalar_subquery()


def warnings_in_latest_run():
    # count(*), not count(id): the partial index of warnings answers it alone.
    return (select(func.count()).select_from(CheckResult)
            .where(CheckResult.check_run_id == latest_run_id(), CheckResult.outcome == "warn")
            .correlate(Batch).scalar_subquery())


def approvals_in_latest_run():
    # Approvals count towards the run they were made on (services/review.py): a resubmission starts over.
    return (select(func.count(Decision.id))
            .where(Decision.batch_id == Batch.id, Decision.check_run_id == latest_run_id(),
                   Decision.decision == "approve")
            .correlate(Batch).scalar_subquery())


class QueueFilters(NamedTuple):
    """The queue's filters as its statements take them: which are given decides the statements' shape (built once
    for each shape, queue_statements), the values are bound at execution."""
    material: str | None
    company_id: int | None
    submitted_before: dt.datetime | None
    only_with_warnings: bool
    after_id: int | None
    scope_company_id: int | None

    @classmethod
    def of(cls, form: QueueFilterForm, after_id: int | None, scope_company_id: int | None) -> "QueueFilters":
        """Each filter only when validly given; a cursor outside the ids a batch can have is no cursor."""
        older_than_days = form.older_than_days.data if not form.older_than_days.errors else None
        if after_id is not None and not 1 <= after_id <= DatabaseIdConverter.max:
            after_id = None
        return cls(form.material.data or None, form.company_id(),
                   utcnow() - dt.timedelta(days=older_than_days) if older_than_days is not None else None,
                   bool(form.warnings.data), after_id, scope_company_id)

    def shape(self) -> tuple[bool, ...]:
        return tuple(value is not None and value is not False for value in self)

    def parameters(self) -> dict:
        """The values the statements bind (only_with_warnings is in their shape alone)."""
        return {name: value for name, value in self._asdict().items()
                if value is not None and not isinstance(value, bool)}


# A queue entry: what a reviewer weighs to pick the next batch, read as plain rows (a page is 50 of them).
QUEUE_COLUMNS = (Batch.id, Batch.number, Batch.material_code, Batch.grade, Batch.quantity_kg, Batch.submitted_at,
                 Batch.approvals_required, Company.name.label("company_name"), Facility.name.label("facility_name"))
QUEUE_ENTRY_COLUMNS = len(QUEUE_COLUMNS) + 2  # and the counts of warnings and approvals; not the queue's total


@functools.lru_cache(maxsize=64)  # 2**6 shapes at most, of one page size
def queue_statements(shape: tuple[bool, ...], page_size: int) -> tuple[Select, Select]:
    """The page of the queue (oldest submitted first, with its total riding along) and its count alone, for filters
    of this shape (QueueFilters.shape), their values as bound parameters: building them anew for each request cost
    as much as running them."""
    material, company, submitted_before, only_with_warnings, after, scope_company = shape
    conditions = [Batch.status == workflow.AWAITING_REVIEW]
    if material:
        conditions.append(Batch.material_code == bindparam("material"))
    if company:
        conditions.append(Batch.company_id == bindparam("company_id"))
    if submitted_before:
        conditions.append(Batch.submitted_at <= bindparam("submitted_before"))
    if only_with_warnings:
        conditions.append(warnings_in_latest_run() > 0)
    if scope_company:  # the tenant filter of certify.security.scoped, for a reader confined to one company
        conditions.append(Batch.company_id == bindparam("scope_company_id"))
    count = select(func.count(Batch.id)).where(*conditions)
    # The count is computed once, in its own FROM: never correlated to the page's rows.
    page = (select(*QUEUE_COLUMNS, warnings_in_latest_run().label("warnings"),
                   approvals_in_latest_run().label("approvals"), count.correlate(None).scalar_subquery().label("total"))
            .join_from(Batch, Company, Company.id == Batch.company_id)
            .join_from(Batch, Facility, Facility.id == Batch.facility_id)
            .where(*conditions))
    if after:  # keyset paging in queue order: rows after the batch that ended the last page
        anchor = select(Batch.submitted_at).where(Batch.id == bindparam("after_id")).scalar_subquery()
        page = page.where(or_(Batch.submitted_at > anchor,
                              and_(Batch.submitted_at == anchor, Batch.id > bindparam("after_id"))))
    return page.order_by(Batch.submitted_at, Batch.id).limit(page_size + 1), count


# The company filter offers only companies with something in the queue: never an empty choice.
COMPANIES_IN_QUEUE = (select(Company.id, Company.name).where(Company.id.in_(
    select(Batch.company_id).where(Batch.status == workflow.AWAITING_REVIEW))).order_by(Company.name))


def waiting_days(submitted_at: dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole days since a batch was submitted."""
    return None if submitted_at is None else (now - as_utc(submitted_at)).days


class QueueEntry(NamedTuple):
    """One row of the queue as shown: its values decide its HTML (certify/web/fragments.py), so the days it has
    waited are one of them, not worked out while rendering."""
    id: int
    number: str
    material_code: str
    grade: str
    quantity_kg: object
    submitted_at: dt.datetime | None
    approvals_required: int | None
    company_name: str
    facility_name: str
    warnings: int
    approvals: int
    days: int | None

    @classmethod
    def of(cls, row, now: dt.datetime) -> "QueueEntry":
        return cls(*row[:QUEUE_ENTRY_COLUMNS], waiting_days(row.submitted_at, now))


@review.app_template_filter("waiting")
def waiting(days: int | None) -> str:
    """How long a batch has waited, as the queue shows it (a filter, not a macro: it is on every row)."""
    if days is None:
        return "–"
    if days < 1:
        return _("today")
    return _("1 day") if days == 1 else _("%(num)s days", num=days)


@review.get("/")
@roles_required("reviewer")
def queue():
    """Batches awaiting review, oldest submitted first, with filters; one page is a fixed number of queries."""
    materials = plain_rows(MATERIAL_CHOICES)
    form = QueueFilterForm(materials, plain_rows(COMPANIES_IN_QUEUE), formdata=request.args)
    form.validate()
    filters = QueueFilters.of(form, request.args.get("after", type=int), company_scope(current_user))
    page, count = queue_statements(filters.shape(), PAGE_SIZE)
    rows = plain_rows(page, filters.parameters())
    if rows:
        total = rows[0].total
    else:  # an empty first page counts nothing; a page past the end still tells the size of the queue
        total = 0 if filters.after_id is None else db.session.connection().scalar(count, filters.parameters())
    next_after = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    now = utcnow()
    entries = tuple(QueueEntry.of(row, now) for row in rows[:PAGE_SIZE])
    table_rows = (rendered_fragment("review/_queue_rows.html", entries=entries, materials=tuple(materials))
                  if entries else None)
    given = {name: value for name, value in request.args.items() if name != "after" and value}
    return render_template("review/queue.html", form=form, table_rows=table_rows, total=total,
                           next_after=next_after, filters=given)


# One batch

def inline_document_ids(batch: Batch, run: CheckRun | None) -> set[int]:
    """Documents safe to show in the browser: PDF or image, and found well-formed by DOC_FORMAT in the latest run.

    A file uploaded after that run (possible while the batch is editable) has not been inspected: download only.
    """
    if run is None or run.state != "done":
        return set()
    doc_format = next((result for result in run.results if result.code == "DOC_FORMAT"), None)
    if doc_format is None or doc_format.outcome != "pass":
        return set()
    return {document.id for document in batch.documents
            if document.media_type in INLINE_MEDIA_TYPES and as_utc(document.uploaded_at) <= as_utc(run.queued_at)}


def input_element_kg(run: CheckRun | None) -> dict[str, object]:
    """Each input's element mass as the latest MASS_BALANCE check computed it, by lot number."""
    if run is None:
        return {}
    mass_balance = next((result for result in run.results if result.code == "MASS_BALANCE"), None)
    inputs = (mass_balance.details or {}).get("inputs", []) if mass_balance else []
    return {item.get("lot_no"): item.get("element_kg") for item in inputs if isinstance(item, dict)}


def render_batch_page(batch: Batch, form: DecisionForm | None = None, status: int = 200):
    run = latest_runs([batch.id]).get(batch.id)
    view = batch_json(batch, run, certificate_numbers([batch.id]).get(batch.id))
    reviewer_ids = {decision.reviewer_id for decision in batch.decisions}
    reviewers = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(reviewer_ids)))}
    approvers = [d.reviewer_id for d in batch.decisions
                 if run is not None and d.check_run_id == run.id and d.decision == "approve"]
    if form is None:
        form = DecisionForm(formdata=None, data={"version": batch.version})
    return render_template(
        "review/batch.html", batch=batch, view=view, run=run, material=db.session.get(Material, batch.material_code),
        reviewers=reviewers, approvers=approvers, form=form, inline_ids=inline_document_ids(batch, run),
        element_kg=input_element_kg(run), check_messages=check_messages(run),
        decidable=batch.status == workflow.AWAITING_REVIEW), status


def batch_page_options():
    return (*batch_load_options(), joinedload(Batch.company), joinedload(Batch.facility))


def show_refusal(form, refusal: ApiError) -> None:
    """A service's field errors beside the fields they name, or above the form."""
    for name, messages in refusal.fields.items():
        field = form._fields.get(name)
        (field.errors if field is not None else form.form_errors).extend(messages)


@review.get("/batches/<int:batch_id>")
@roles_required("reviewer")
def batch_page(batch_id: int):
    """One batch: facts, inputs, computed balance, every check, the evidence, past decisions and the decision form."""
    return render_batch_page(get_batch_for(current_user, batch_id, options=batch_page_options()))


@review.post("/batches/<int:batch_id>/decision")
@roles_required("reviewer")
def decide(batch_id: int):
    """Records approve, reject or request changes on the version of the batch the reviewer saw."""
    form = DecisionForm()
    if not form.validate_on_submit():
        return render_batch_page(get_batch_for(current_user, batch_id, options=batch_page_options()), form,
                                 status=422)
    # Locked before the version is compared, as the API does: of two reviewers at once, exactly one wins.
    batch = get_batch_for(current_user, batch_id, lock=True)
    try:
        review_service.decide(current_user, batch, form.decision.data, form.comment.data, form.version.data)
    except ApiError as refusal:
        stale, number = batch.version != form.version.data, batch.number
        db.session.rollback()
        if stale:
            flash(_("Someone else decided on batch %(number)s meanwhile, so your decision was not recorded. "
                    "The page now shows its current state: decide again if it still needs you.", number=number),
                  "error")
        elif refusal.fields:
            show_refusal(form, refusal)
            return render_batch_page(get_batch_for(current_user, batch_id, options=batch_page_options()), form,
                                     status=422)
        else:
            flash(refusal.message, "error")
        return redirect(url_for("review.batch_page", batch_id=batch_id))
    flash(decision_message(batch), "info")
    return redirect(url_for("review.batch_page", batch_id=batch_id))


def decision_message(batch: Batch) -> str:
    if batch.status == workflow.APPROVED:
        number = certificate_numbers([batch.id]).get(batch.id)
        return _("Batch %(batch)s is approved: certificate %(certificate)s is issued.", batch=batch.number,
                 certificate=number)
    if batch.status == workflow.AWAITING_REVIEW:
        return _("Your approval of batch %(batch)s is recorded; it needs %(required)s approvals, so a second "
                 "reviewer must approve it too.", batch=batch.number, required=batch.approvals_required)
    if batch.status == workflow.REJECTED:
        return _("Batch %(batch)s is rejected.", batch=batch.number)
    return _("Changes are requested on batch %(batch)s: the applicant can edit and resubmit it.", batch=batch.number)


@review.get("/batches/<int:batch_id>/documents/<int:document_id>")
@roles_required("reviewer")
def document(batch_id: int, document_id: int):
    """An evidence file: PDFs and images that passed DOC_FORMAT open in the browser (sandboxed); others download."""
    batch, document = get_document_for(current_user, batch_id, document_id)
    run = latest_runs([batch.id]).get(batch.id)
    inline = document.id in inline_document_ids(batch, run)
    return file_response(document_store().open(document.sha256), document.media_type, document.filename,
                         inline=inline)


# Certificates

@review.get("/certificates")
@roles_required("reviewer")
def certificate_list():
    """Certificates, newest first; by status, or found by certificate or batch number."""
    form = NumberSearchForm(formdata=request.args)
    form.validate()
    statement = scoped(select(Certificate), Certificate, current_user)
    if form.status.data in workflow.CERTIFICATE_STATUSES:
        statement = statement.where(Certificate.status == form.status.data)
    if form.number.data and not form.number.errors:
        wanted = form.number.data.upper()
        statement = statement.where(or_(Certificate.number == wanted,
                                        Certificate.batch_id.in_(select(Batch.id).where(Batch.number == wanted))))
    before = request.args.get("before", type=int)
    if before is not None:
        statement = statement.where(Certificate.id < before)
    rows = db.session.scalars(statement.order_by(Certificate.id.desc()).limit(PAGE_SIZE + 1)).all()
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    filters = {name: value for name, value in request.args.items() if name != "before" and value}
    return render_template("review/certificates.html", certificates=rows[:PAGE_SIZE], older=older, form=form,
                           filters=filters)


def status_history(certificate: Certificate) -> list[dict]:
    """Issue and every status change of the certificate, oldest first, from the audit trail."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "certificate", AuditEvent.object_id == certificate.number)
        .order_by(AuditEvent.seq).limit(MAX_HISTORY_EVENTS)).all()
    actor_ids = {event.actor_id for event in events if event.actor_id is not None}
    actors = {user.id: user.email for user in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
    return [{"at": event.at, "action": event.action.removeprefix("certificate."),
             "actor": actors.get(event.actor_id, _("the service") if event.actor_id is None
                                 else _("user %(id)s", id=event.actor_id)),
             "from": (event.data or {}).get("from"), "to": (event.data or {}).get("to", "valid"),
             "reason": (event.data or {}).get("reason")} for event in events]


def status_forms(certificate: Certificate, submitted: dict | None = None) -> dict[str, ReasonForm]:
    """The status changes the certificate allows now, each with its own form (prefixed: one page, three forms)."""
    submitted = submitted or {}
    allowed = [event for event in STATUS_EVENTS
               if (event, certificate.status) in workflow.CERTIFICATE_TRANSITIONS]
    return {event: submitted.get(event) or ReasonForm(formdata=None, prefix=event) for event in allowed}


def render_certificate_page(certificate: Certificate, submitted: dict | None = None, status: int = 200):
    approver_ids = [user_id for user_id in certificate.content.get("approved_by", []) if isinstance(user_id, int)]
    approvers = {user.id: user.email for user in db.session.scalars(select(User).where(User.id.in_(approver_ids)))}
    return render_template(
        "review/certificate.html", certificate=certificate, content=certificate.content, approvers=approvers,
        history=status_history(certificate), forms=status_forms(certificate, submitted),
        verify_url=certificates.verify_url(certificate)), status


@review.get("/certificates/<number>")
@roles_required("reviewer")
def certificate_page(number: str):
    """One certificate: its signed facts, current status, status history and the status-change forms."""
    return render_certificate_page(get_certificate_for(current_user, number))


@review.get("/certificates/<number>.pdf")
@roles_required("reviewer")
def certificate_pdf(number: str):
    """The certificate as PDF with its current status, as the applicant and the API get it."""
    certificate = get_certificate_for(current_user, number)
    pdf = certificates.pdf_of(certificate)
    return file_response(io.BytesIO(pdf), "application/pdf", f"{certificate.number}.pdf")


@review.get("/certificates/<number>.json")
@roles_required("reviewer")
def certificate_json(number: str):
    """The signed certificate document (api.md), to check offline or post to /api/v1/public/verify."""
    certificate = get_certificate_for(current_user, number)
    response = jsonify(certificates.document_json(certificate))
    response.headers["Content-Disposition"] = f'attachment; filename="{certificate.number}.json"'
    return response


def change_status(number: str, event: str, *, page: str = "certificate"):
    """Applies one status change from its form; a refusal is shown on the page the form came from."""
    certificate = get_certificate_for(current_user, number)
    form = ReasonForm(prefix=event)
    if not form.validate_on_submit():
        return render_status_page(certificate, page, {event: form}, status=422)
    try:
        certificates.change_status(current_user, certificate, event, form.reason.data)
    except ApiError as refusal:
        db.session.rollback()
        if refusal.fields:
            show_refusal(form, refusal)
            return render_status_page(get_certificate_for(current_user, number), page, {event: form}, status=422)
        flash(refusal.message, "error")
    else:
        flash(status_changed_message(event, certificate.number), "info")
    if page == "revoke":
        return redirect(url_for("review.revoke_page", number=number))
    return redirect(url_for("review.certificate_page", number=number))


def status_changed_message(event: str, number: str) -> str:
    if event == "suspend":
        return _("Certificate %(number)s is suspended.", number=number)
    if event == "reinstate":
        return _("Certificate %(number)s is reinstated: it is valid again.", number=number)
    return _("Certificate %(number)s is revoked.", number=number)


def render_status_page(certificate: Certificate, page: str, submitted: dict, status: int):
    if page == "revoke":
        return render_template("review/revoke.html", certificate=certificate, content=certificate.content,
                               form=submitted.get("revoke")), status
    return render_certificate_page(certificate, submitted, status)


@review.post("/certificates/<number>/suspend")
@roles_required("reviewer")
def suspend_certificate(number: str):
    """valid → suspended, with a reason."""
    return change_status(number, "suspend")


@review.post("/certificates/<number>/reinstate")
@roles_required("reviewer")
def reinstate_certificate(number: str):
    """suspended → valid, with a reason."""
    return change_status(number, "reinstate")


@review.route("/certificates/<number>/revoke", methods=["GET", "POST"])
@roles_required("reviewer", "admin")
def revoke_page(number: str):
    """Revokes a certificate for good (valid or suspended → revoked); admins reach it from here, reviewers too."""
    if request.method == "POST":
        # The reviewer's certificate page posts here too; it gets its answer back on that page.
        page = "certificate" if current_user.role == "reviewer" and request.form.get("from") == "certificate" \
            else "revoke"
        return change_status(number, "revoke", page=page)
    certificate = get_certificate_for(current_user, number)
    return render_template("review/revoke.html", certificate=certificate, content=certificate.content,
                           form=ReasonForm(formdata=None, prefix="revoke"))
