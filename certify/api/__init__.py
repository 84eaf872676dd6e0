"""The /api/v1 blueprint: Bearer-token authentication, JSON in and out, api.md's error shape."""
from flask import Blueprint

from certify.auth import authenticate_api_request

api = Blueprint("api", __name__, url_prefix="/api/v1")
api.before_request(authenticate_api_request)

from certify.api import admin, audit, auth, batches, certificates, docs, lots  # noqa: E402,F401
