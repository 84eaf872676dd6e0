"""Canonical JSON bytes: the one encoding that certificate signatures and the audit hash chain are computed over."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from decimal import Decimal
from typing import Any

from certify.domain.numbers import json_number


def canonical_json(value: Any) -> bytes:
    """Encodes value as sorted-key, whitespace-free UTF-8 JSON (api.md, Certificates).

    Decimals become integers when whole, else decimals of at most 4 places, and whole floats are
    written as integers, so a verifier in another language reproduces the bytes (RFC 8785 for the
    numbers the service emits). Raises ValueError for NaN or infinity and TypeError for anything
    that is not plain JSON data: dates must arrive as the ISO strings that were signed or hashed.
    """
    return json.dumps(
        _plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """The lowercase hex SHA-256 of data."""
    return hashlib.sha256(data).hexdigest()


def _plain(value: Any) -> Any:
    """Reduces value to the JSON types whose encoding is unambiguous."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"canonical JSON has no form for {value}")
        return json_number(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"canonical JSON has no form for {value}")
        # 10000.0 and 10000 are the same JSON number; only the integer spelling is canonical.
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        plain = {}
        for key, item in value.items():
            # json.dumps would turn 2 and 10 into "2" and "10" but sort them as numbers: not canonical.
            if not isinstance(key, str):
                raise TypeError(f"canonical JSON keys must be strings, not {type(key).__name__}")
            plain[key] = _plain(item)
        return plain
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (dt.date, dt.time)):
        raise TypeError(f"pass {type(value).__name__} values as the ISO strings that are meant, not as objects")
    raise TypeError(f"{type(value).__name__} is not JSON data")


def plain_json(value: Any) -> Any:
    """Turns exact numbers, dates and times (UTC, with Z) into plain JSON values, for storing as JSON."""
    if isinstance(value, dict):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(item) for item in value]
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value.tzinfo else (
            value.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
