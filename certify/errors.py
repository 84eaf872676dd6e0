"""One error shape for the API (api.md, Conventions) and friendly pages for people."""
import logging

from flask import Flask, jsonify, make_response, render_template, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError as DatabaseUnavailable
from werkzeug.exceptions import HTTPException, InternalServerError

from certify.extensions import db
from certify.i18n import lazy_gettext as _l
from certify.storage import StoredFileMissing

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error",
    429: "too_many_requests", 500: "internal_error", 503: "service_unavailable",
}
MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Authentication is required: send a valid Bearer token."),
    403: _l("Your role may not do this."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    409: _l("This conflicts with the current state."),
    413: _l("The request is too large."),
    415: _l("This type of content is not accepted."),
    422: _l("The data is not valid."),
    429: _l("Too many requests: try again later."),
    500: _l("Something went wrong on our side; it has been logged."),
    503: _l("The service is briefly unavailable; try again in a moment."),
}


class ApiError(Exception):
    """An error answered in the API's error shape (and as a friendly page on HTML routes)."""

    def __init__(self, status: int, message: str | None = None, *, code: str | None = None,
                 fields: dict[str, list[str]] | None = None, headers: dict | None = None):
        super().__init__(status, message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message or MESSAGES.get(status, "")
        self.fields = fields
        self.headers = headers or {}


class ValidationFailed(ApiError):
    def __init__(self, fields: dict[str, list[str]], message: str | None = None):
        super().__init__(422, message, fields=fields)


class NotFound(ApiError):
    def __init__(self, message: str | None = None):
        super().__init__(404, message)


class Conflict(ApiError):
    def __init__(self, message: str):
        super().__init__(409, message)


class Forbidden(ApiError):
    def __init__(self, message: str | None = None):
        super().__init__(403, message)


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/.well-known/", "/healthz"))


def error_body(status: int, code: str, message, fields=None) -> dict:
    body = {"code": code, "message": str(message)}
    if status == 422:
        body["fields"] = {name: [str(m) for m in messages] for name, messages in (fields or {}).items()}
    return {"error": body}


def render_error(status: int, code: str, message: str, fields=None, headers=None):
    if wants_json():
        response = jsonify(error_body(status, code, message, fields))
    else:
        response = make_response(render_template("error.html", status=status, message=message))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return render_error(error.status, error.code, error.message, error.fields, error.headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        status = error.code or 500
        message = MESSAGES.get(status) or error.description
        if status == 400 and error.description and "CSRF" in error.description:
            message = _l("The form expired or was not sent from this site; reload the page and try again.")
        headers = {}
        if status == 429:
            retry_after = getattr(error, "retry_after", None) or 60
            headers["Retry-After"] = str(int(retry_after))
        if status == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return render_error(status, CODES.get(status, "error"), message, headers=headers)

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error):
        # Two requests raced past the same uniqueness check; the database kept the first.
        db.session.rollback()
        log.info("integrity error answered 409: %s", getattr(error, "orig", error))
        return render_error(409, CODES[409], _l("This conflicts with data saved at the same moment; reload and retry."))

    @app.errorhandler(StoredFileMissing)
    def handle_missing_file(error: StoredFileMissing):
        # The record says the file exists: the store lost it or was never given it. Nothing the caller can fix.
        log.error("document file missing from the store: %s (%s %s)", error.sha256, request.method, request.path)
        return render_error(500, "document_file_missing", _l(
            "The file of this document is missing from the document store. The service's operators have been "
            "alerted; the document's record and checksum are unchanged."))

    @app.errorhandler(DatabaseUnavailable)
    def handle_database_down(error):
        db.session.rollback()
        log.warning("database unavailable: %s", error.orig if hasattr(error, "orig") else error)
        return render_error(503, CODES[503], MESSAGES[503], headers={"Retry-After": "5"})

    @app.errorhandler(InternalServerError)
    def handle_internal_error(error):
        db.session.rollback()  # the failed transaction must not break the rest of the response
        log.error("unhandled error on %s %s", request.method, request.path,
                  exc_info=getattr(error, "original_exception", None))
        return render_error(500, CODES[500], MESSAGES[500])
