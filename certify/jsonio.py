"""JSON out: exact numbers as JSON numbers (at most 4 decimals), dates ISO 8601, times in UTC with Z."""
import datetime as dt
from decimal import Decimal

from flask.json.provider import DefaultJSONProvider

from certify.domain.numbers import json_number
from certify.timeutil import isoformat_z


class CertifyJSONProvider(DefaultJSONProvider):
    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(value):
        if isinstance(value, Decimal):
            return json_number(value)
        if isinstance(value, dt.datetime):
            return isoformat_z(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        return DefaultJSONProvider.default(value)
