"""The applicant's pages: feedstock lots, batches with their inputs and evidence, submission and check results."""
import io

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import RequestEntityTooLarge

from certify.api.batch_views import (
    batch_json,
    batch_load_options,
    certificate_numbers,
    latest_runs,
)
from certify.domain import workflow
from certify.domain.checks import CHECK_CODES
from certify.domain.facts import REQUIRED_DOCUMENT_KINDS
from certify.errors import CODES, ApiError, Conflict, ValidationFailed, render_error
from certify.extensions import db
from certify.i18n import status_label
from certify.models import Allocation, Batch, CheckRun, Facility, FeedstockLot, Material
from certify.security import (
    get_batch_for,
    get_certificate_for,
    get_document_for,
    get_lot_for,
    roles_required,
    scoped,
)
from certify.services import batches, certificates, lots
from certify.storage import document_store
from certify.web import formatting
from certify.web.applicant_forms import (
    CATEGORY_LABELS,
    DECISION_LABELS,
    FORM_LABELS,
    GRADE_LABELS,
    KIND_LABELS,
    BatchForm,
    DocumentForm,
    LotForm,
    batch_form_data,
    changed_members,
)
from certify.web.downloads import attachment_response, file_response
from certify.web.paging import newest_first, newest_rows

applicant = Blueprint("applicant", __name__)

PAGE_SIZE = 50

# Registered for the whole app: the filters live in one module so that localising them later is one change.
for _name, _filter in formatting.FILTERS.items():
    applicant.add_app_template_filter(_filter, _name)


@applicant.context_processor
def value_labels():
    """The applicant's templates show stored values (category, form, grade, kind, decision) by these labels."""
    return {"category_labels": CATEGORY_LABELS, "form_labels": FORM_LABELS, "grade_labels": GRADE_LABELS,
            "kind_labels": KIND_LABELS, "decision_labels": DECISION_LABELS}


# Helpers: what the views read. Writing is the services' job.


def own_facilities() -> list[Facility]:
    return db.session.scalars(scoped(select(Facility), Facility, current_user).order_by(Facility.name)).all()


def materials() -> list[Material]:
    return db.session.scalars(select(Material).order_by(Material.code)).all()


def render_form(template: str, form, **context):
    # A refused submission answers 422, so that scripts and tests can tell it from the empty form.
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, refused=status == 422, **context), status


def batch_form(**kwargs) -> BatchForm:
    """The batch form; its rows offer the chosen facility's lots that still have mass free, and keep the lots they name."""
    form = BatchForm(own_facilities(), materials(), **kwargs)
    facility_id = form.chosen_facility_id()
    named = {entry.form.lot_id.data for entry in form.inputs} - {None}
    candidates = db.session.scalars(
        scoped(select(FeedstockLot), FeedstockLot, current_user)
        .where(or_(FeedstockLot.facility_id == facility_id, FeedstockLot.id.in_(named)))
        .order_by(FeedstockLot.id.desc())).all()
    allocated = lots.allocated_kg([lot.id for lot in candidates])
    remaining_kg = {lot.id: lot.mass_kg - allocated[lot.id] for lot in candidates}
    offered = [lot for lot in candidates
               if lot.facility_id == facility_id and (remaining_kg[lot.id] > 0 or lot.id in named)]
    form.offer_lots(offered, {lot.id: lot for lot in candidates}, remaining_kg)
    return form


def render_batch_form(form: BatchForm, batch: Batch | None = None, status: int | None = None):
    has_lots = db.session.scalar(scoped(select(FeedstockLot.id), FeedstockLot, current_user).limit(1)) is not None
    if status is None:
        # A refused submission answers 422, so that scripts and tests can tell it from the empty form.
        status = 422 if request.method == "POST" else 200
    return render_template("applicant/batch_form.html", form=form, batch=batch, has_lots=has_lots,
                           refused=status == 422), status


def check_progress(batch: Batch, run: CheckRun | None) -> dict:
    """Where the batch's check run stands, in words a person follows: waiting, running, done."""
    if batch.status != workflow.CHECKING:
        phase, message = "done", _("The checks are done.")
    elif run is None or run.attempts == 0:
        phase, message = "queued", _("Waiting for a check worker to take the batch…")
    elif run.attempts == 1:
        phase, message = "running", _("The %(count)s checks are running: the documents are being "
                                      "inspected and the mass balance computed…", count=len(CHECK_CODES))
    else:
        phase, message = (f"retry-{run.attempts}",
                          _("The checks are running again (attempt %(attempt)s)…", attempt=run.attempts))
    return {"phase": phase, "message": message}


def batch_page_options():
    """What the batch page shows beyond the API's view of the batch: the facility's name, in the same query."""
    return (*batch_load_options(), joinedload(Batch.facility))


def render_batch_page(batch: Batch, upload_form: DocumentForm | None = None, status: int = 200):
    run = latest_runs([batch.id]).get(batch.id)
    batch_view = batch_json(batch, run, certificate_numbers([batch.id]).get(batch.id))
    kinds_present = {document.kind for document in batch.documents}
    missing_kinds = [kind for kind in REQUIRED_DOCUMENT_KINDS if kind not in kinds_present]
    return render_template(
        "applicant/batch.html", batch=batch, view=batch_view, progress=check_progress(batch, run),
        material=db.session.get(Material, batch.material_code),
        editable=batch.status in workflow.EDITABLE_STATUSES, check_codes=CHECK_CODES,
        missing_kinds=missing_kinds,
        missing_text=", ".join(str(KIND_LABELS[kind]).lower() for kind in missing_kinds),
        upload_form=upload_form or DocumentForm(formdata=None)), status


# Feedstock lots

@applicant.get("/lots")
@roles_required("applicant")
def lot_list():
    """The company's feedstock lots, newest first, with the mass still free on each."""
    page, older = newest_first(scoped(select(FeedstockLot), FeedstockLot, current_user)
                               .options(joinedload(FeedstockLot.facility)), FeedstockLot.id, PAGE_SIZE)
    allocated = lots.allocated_kg([lot.id for lot in page])
    return render_template("applicant/lots.html", lots=page, older=older, allocated=allocated)


@applicant.route("/lots/new", methods=["GET", "POST"])
@roles_required("applicant")
def new_lot():
    """Registers one receipt of input material at one of the company's facilities."""
    form = LotForm(own_facilities())
    if form.validate_on_submit():
        try:
            lot = lots.create_lot(current_user, form.payload)
        except (ValidationFailed, Conflict) as refusal:
            form.show_refusal(refusal, conflict_field="lot_no")
        else:
            flash(_("Lot %(lot_no)s is registered: %(mass)s.", lot_no=lot.lot_no, mass=formatting.kg(lot.mass_kg)),
                  "info")
            return redirect(url_for("applicant.lot_list"))
    return render_form("applicant/lot_form.html", form)


@applicant.get("/lots/<int:lot_id>")
@roles_required("applicant")
def lot_page(lot_id: int):
    """One lot: what it is, and which batches draw on it and how much."""
    lot = get_lot_for(current_user, lot_id)
    uses = db.session.execute(select(Allocation, Batch).join(Batch, Allocation.batch_id == Batch.id)
                              .where(Allocation.lot_id == lot.id).order_by(Batch.id.desc())).all()
    return render_template("applicant/lot.html", lot=lot, uses=uses, allocated=lots.allocated_kg([lot.id])[lot.id])


# Batches

# What the batch list shows, read as plain rows: a page is 50 of them.
BATCH_LIST_COLUMNS = (Batch.id, Batch.number, Batch.material_code, Batch.grade, Batch.production_start,
                      Batch.production_end, Batch.quantity_kg, Batch.status, Facility.name.label("facility_name"))


@applicant.get("/batches")
@roles_required("applicant")
def batch_list():
    """The company's batches, newest first; `?status=` narrows to one status."""
    statement = scoped(select(*BATCH_LIST_COLUMNS).join_from(Batch, Facility, Facility.id == Batch.facility_id),
                       Batch, current_user)
    status = request.args.get("status")
    if status in workflow.BATCH_STATUSES:
        statement = statement.where(Batch.status == status)
    page, older = newest_rows(statement, Batch.id, PAGE_SIZE)
    return render_template("applicant/batches.html", batches=page, older=older, status=status,
                           statuses=workflow.BATCH_STATUSES)


@applicant.route("/batches/new", methods=["GET", "POST"])
@roles_required("applicant")
def new_batch():
    """Creates a draft batch: what was produced, its assay, the lots it draws on and the recycled claim."""
    form = batch_form()
    if form.is_submitted() and form.edit_rows():
        return render_batch_form(form, status=200)
    if form.validate_on_submit():
        try:
            batch = batches.create_batch(current_user, form.payload)
        except (ValidationFailed, Conflict) as refusal:
            form.show_refusal(refusal)
        else:
            flash(_("Batch %(number)s is saved as a draft. Upload its evidence, then submit it.",
                    number=batch.number), "info")
            return redirect(url_for("applicant.batch_page", batch_id=batch.id))
    return render_batch_form(form)


@applicant.get("/batches/<int:batch_id>")
@roles_required("applicant")
def batch_page(batch_id: int):
    """One batch: its data and evidence, the check run while it runs, then every result and what to fix."""
    return render_batch_page(get_batch_for(current_user, batch_id, options=batch_page_options()))


@applicant.route("/batches/<int:batch_id>/edit", methods=["GET", "POST"])
@roles_required("applicant")
def edit_batch(batch_id: int):
    """Edits a batch while it is a draft, failed its checks or had changes requested."""
    batch = get_batch_for(current_user, batch_id, options=batch_load_options())
    if batch.status not in workflow.EDITABLE_STATUSES:
        flash(_("Batch %(number)s is %(status)s and cannot be edited now.", number=batch.number,
                status=status_label(batch.status)), "error")
        return redirect(url_for("applicant.batch_page", batch_id=batch.id))
    form = batch_form(data=batch_form_data(batch))
    if form.is_submitted() and form.edit_rows():
        return render_batch_form(form, batch, status=200)
    if form.validate_on_submit():
        changes = changed_members(batch, form.payload)
        if not changes:
            flash(_("Nothing was changed."), "info")
            return redirect(url_for("applicant.batch_page", batch_id=batch.id))
        try:
            batches.update_batch(current_user, batch, changes)
        except (ValidationFailed, Conflict) as refusal:
            form.show_refusal(refusal)
        else:
            flash(_("Batch %(number)s is saved.", number=batch.number), "info")
            return redirect(url_for("applicant.batch_page", batch_id=batch.id))
    return render_batch_form(form, batch)


@applicant.post("/batches/<int:batch_id>/documents")
@roles_required("applicant")
def upload_document(batch_id: int):
    """Attaches one evidence file of the chosen kind."""
    batch = get_batch_for(current_user, batch_id, options=batch_page_options())
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            document = batches.add_document(current_user, batch, form.kind.data, form.file.data,
                                            current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024)
        except Conflict as refusal:
            flash(refusal.message, "error")
        except ApiError as refusal:  # too large, a type not accepted, malware, no scanner: said beside the file
            form.file.errors = [*form.file.errors, refusal.message]
            return render_batch_page(batch, form, status=refusal.status)
        else:
            flash(_("%(filename)s is attached as %(kind)s.", filename=document.filename,
                    kind=str(KIND_LABELS[document.kind]).lower()), "info")
        return redirect(url_for("applicant.batch_page", batch_id=batch.id, _anchor="documents"))
    return render_batch_page(batch, form, status=422)


@applicant.get("/batches/<int:batch_id>/documents/<int:document_id>")
@roles_required("applicant")
def download_document(batch_id: int, document_id: int):
    """The file as uploaded, always as an attachment."""
    _, document = get_document_for(current_user, batch_id, document_id)
    return attachment_response(document_store().open(document.sha256), document.media_type, document.filename)


@applicant.post("/batches/<int:batch_id>/documents/<int:document_id>")
@roles_required("applicant")
def delete_document(batch_id: int, document_id: int):
    """Detaches a document while the batch is editable."""
    batch, document = get_document_for(current_user, batch_id, document_id)
    try:
        batches.delete_document(current_user, batch, document)
    except Conflict as refusal:
        flash(refusal.message, "error")
    else:
        flash(_("%(filename)s is removed from the batch.", filename=document.filename), "info")
    return redirect(url_for("applicant.batch_page", batch_id=batch.id, _anchor="documents"))


@applicant.post("/batches/<int:batch_id>/submit")
@roles_required("applicant")
def submit_batch(batch_id: int):
    """Submits the batch for its automatic checks; the batch page then follows the check run."""
    batch = get_batch_for(current_user, batch_id, lock=True)
    try:
        batches.submit(current_user, batch)
    except Conflict as refusal:
        flash(refusal.message, "error")
    else:
        flash(_("Batch %(number)s is submitted: the checks are running.", number=batch.number), "info")
    return redirect(url_for("applicant.batch_page", batch_id=batch.id))


@applicant.get("/batches/<int:batch_id>/progress.json")
@roles_required("applicant")
def batch_progress(batch_id: int):
    """For the live batch page: the status, the check run's state in words, and the results once there."""
    batch = get_batch_for(current_user, batch_id, options=batch_load_options())
    run = latest_runs([batch.id]).get(batch.id)
    view = batch_json(batch, run, None)
    return jsonify({"status": batch.status, "version": batch.version, **check_progress(batch, run),
                    "submitted_at": view["submitted_at"], "check_run": view["check_run"],
                    "checks": view["checks"], "computed": view["computed"]})


@applicant.errorhandler(RequestEntityTooLarge)
def upload_too_large(error):
    """A file far over the limit is cut off before any view runs: say so on the batch page instead of a bare 413."""
    batch_id = (request.view_args or {}).get("batch_id")
    message = _("The file is too large: the limit is %(limit)s MB.", limit=current_app.config["MAX_UPLOAD_MB"])
    if batch_id is None or request.endpoint != "applicant.upload_document":
        return render_error(413, CODES[413], message)
    flash(message, "error")
    return redirect(url_for("applicant.batch_page", batch_id=batch_id, _anchor="documents"))


@applicant.get("/certificates/<number>.pdf")
@roles_required("applicant")
def certificate_pdf(number: str):
    """The company's certificate as its bilingual PDF, with the QR code to the public verification page."""
    certificate = get_certificate_for(current_user, number)
    return file_response(io.BytesIO(certificates.pdf_of(certificate)), "application/pdf", f"{certificate.number}.pdf")
