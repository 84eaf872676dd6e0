"""Security events as one structured record each (who, what, outcome, when in UTC), for the log pipeline."""
import json
import logging

from flask import has_request_context, request
from flask_login import current_user

from certify.timeutil import isoformat_z, utcnow

log = logging.getLogger("certify.security")


def security_event(event: str, outcome: str, **facts) -> None:
    """Writes one JSON line; JSON encoding escapes CR/LF, so user-supplied text cannot forge extra lines."""
    record = {"at": isoformat_z(utcnow()), "event": event, "outcome": outcome}
    if has_request_context():
        record["address"] = request.remote_addr
        record["method"], record["path"] = request.method, request.path
        if current_user and current_user.is_authenticated:
            record["user_id"], record["role"] = current_user.id, current_user.role
    record.update(facts)
    log.info(json.dumps(record, ensure_ascii=True, default=str, sort_keys=True))
