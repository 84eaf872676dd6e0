"""Access decisions in one place: which role may call what, and which objects a user may see (404 across companies)."""
from functools import wraps

from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, select

from certify.errors import ApiError, Forbidden, NotFound, wants_json
from certify.extensions import db
from certify.models import Batch, Certificate, Document, Facility, FeedstockLot, User
from certify.security_log import security_event

READ_ALL_ROLES = ("reviewer", "auditor", "admin")


def roles_required(*roles: str):
    """Lets only signed-in users of these roles through: 401 (API) or the login page when signed out, else 403."""

    def decorator(view):
        view.allowed_roles = roles

        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if wants_json():
                    raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in roles:
                security_event("access", "denied", endpoint=request.endpoint, allowed_roles=list(roles))
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def company_scope(user: User) -> int | None:
    """The company a user is confined to, or None for ministry roles that read every company."""
    return user.company_id if user.role == "applicant" else None


def scoped(statement: Select, model, user: User) -> Select:
    """Adds the tenant filter to a query over a company-owned model: the one place lists are confined."""
    company_id = company_scope(user)
    if company_id is not None:
        statement = statement.where(model.company_id == company_id)
    return statement


def _get_scoped(model, user: User, object_id: int, what: str):
    obj = db.session.scalar(scoped(select(model).where(model.id == object_id), model, user))
    if obj is None:
        raise NotFound(_("%(what)s %(id)s was not found.", what=what, id=object_id))
    return obj


def get_batch_for(user: User, batch_id: int, *, lock: bool = False, options=()) -> Batch:
    statement = scoped(select(Batch).where(Batch.id == batch_id), Batch, user).options(*options)
    if lock:
        statement = statement.with_for_update()
    batch = db.session.scalar(statement)
    if batch is None:
        raise NotFound(_("Batch %(id)s was not found.", id=batch_id))
    return batch


def get_lot_for(user: User, lot_id: int) -> FeedstockLot:
    return _get_scoped(FeedstockLot, user, lot_id, _("Feedstock lot"))


def get_facility_for(user: User, facility_id: int) -> Facility:
    return _get_scoped(Facility, user, facility_id, _("Facility"))


def get_document_for(user: User, batch_id: int, document_id: int) -> tuple[Batch, Document]:
    batch = get_batch_for(user, batch_id)
    document = db.session.scalar(
        select(Document).where(Document.id == document_id, Document.batch_id == batch.id))
    if document is None:
        raise NotFound(_("Document %(id)s was not found.", id=document_id))
    return batch, document


def get_certificate_for(user: User, number: str) -> Certificate:
    statement = scoped(select(Certificate).where(Certificate.number == number), Certificate, user)
    certificate = db.session.scalar(statement)
    if certificate is None:
        raise NotFound(_("Certificate %(number)s was not found.", number=number))
    return certificate
