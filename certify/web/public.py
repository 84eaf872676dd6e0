"""Pages and documents anyone may open without signing in."""
from flask import Blueprint, jsonify

from certify.health import health_report

public = Blueprint("public", __name__)


@public.get("/healthz")
def healthz():
    """Liveness and dependencies: the database and the broker, each probed with a short timeout."""
    body, status = health_report()
    return jsonify(body), status
