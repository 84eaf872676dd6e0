"""Probes of the services the app depends on, each with a short timeout."""
import logging

from flask import current_app
from sqlalchemy import text

from certify.extensions import db

log = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as error:  # any failure to reach or use the database means it is down
        log.warning("health: database unreachable: %s", error)
        db.session.rollback()
        return False


def broker_ok() -> bool:
    celery = current_app.extensions["celery"]
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=1)
        return True
    except Exception as error:  # kombu raises several transport-specific errors; all mean "down"
        log.warning("health: broker unreachable: %s", error)
        return False


def health_report() -> tuple[dict, int]:
    """api.md, Operations: 200 when the database answers, 503 "degraded" when it does not."""
    database = database_ok()
    body = {"status": "ok" if database else "degraded", "database": "ok" if database else "down",
            "broker": "ok" if broker_ok() else "down"}
    return body, 200 if database else 503
