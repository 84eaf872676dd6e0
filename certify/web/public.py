"""Pages and documents anyone may open without signing in."""
from flask import Blueprint, jsonify

from certify.health import health_report
from certify.services.certificates import keyring

public = Blueprint("public", __name__)


@public.get("/.well-known/certify-keys.json")
def published_keys():
    """The Ed25519 public keys, current and retired, that certificates are signed with."""
    return jsonify({"keys": keyring().published_keys()})


@public.get("/healthz")
def healthz():
    """Liveness and dependencies: the database and the broker, each probed with a short timeout."""
    body, status = health_report()
    return jsonify(body), status
