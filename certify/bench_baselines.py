"""The floors `make bench` measures the service against, served by the same app and the same gunicorn.

Registered only when CERTIFY_BENCH_BASELINES=1 (config BENCH_BASELINES): a benchmark setting, never a
production one. Even then the endpoints answer loopback callers only, since select50 shows batch rows to
anyone who asks.
"""
from flask import Blueprint, abort, jsonify, request
from sqlalchemy import select

from certify.extensions import db
from certify.models import Batch

bench_baselines = Blueprint("bench_baselines", __name__, url_prefix="/bench/baseline")

LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1"})
BASELINE_ROWS = 50
# The batch columns a list shows; one indexed SELECT (the primary key, newest first) reads them.
LISTED_COLUMNS = ("id", "number", "company_id", "facility_id", "material_code", "grade", "quantity_kg",
                  "production_start", "production_end", "status", "version", "created_at", "submitted_at")


@bench_baselines.before_request
def loopback_only():
    if request.remote_addr not in LOOPBACK_ADDRESSES:
        abort(404)


@bench_baselines.get("/select50")
def select50():
    """One indexed SELECT of 50 batch rows, returned as JSON: the floor for the list pages."""
    columns = [Batch.__table__.c[name] for name in LISTED_COLUMNS]
    rows = db.session.execute(select(*columns).order_by(Batch.id.desc()).limit(BASELINE_ROWS)).mappings().all()
    return jsonify({"items": [dict(row) for row in rows]})


@bench_baselines.get("/constant")
def constant():
    """Constant JSON: the floor for public verification (the app's request hooks, no database work)."""
    return jsonify({"status": "ok"})
