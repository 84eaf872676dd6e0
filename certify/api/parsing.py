"""Reading API requests: JSON bodies through pydantic models, query parameters, keyset cursors."""
import base64
import binascii
import json
from decimal import Decimal

from flask import request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Select

from certify.errors import ApiError, ValidationFailed
from certify.extensions import db
from certify.i18n import lazy_gettext as _l

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


# The validation errors people meet most, in words of ours (translated); any other keeps pydantic's wording.
FIELD_MESSAGES = {
    "missing": _l("is required"),
    "extra_forbidden": _l("is not a field that can be set"),
    "greater_than": _l("must be greater than %(gt)s"),
    "greater_than_equal": _l("must be at least %(ge)s"),
    "less_than": _l("must be less than %(lt)s"),
    "less_than_equal": _l("must be at most %(le)s"),
    "string_too_short": _l("must not be empty"),
    "string_too_long": _l("must be at most %(max_length)s characters"),
    "decimal_max_places": _l("must have at most %(decimal_places)s decimal places"),
    "decimal_parsing": _l("must be a number"),
    "decimal_type": _l("must be a number"),
    "int_parsing": _l("must be a whole number"),
    "int_type": _l("must be a whole number"),
    "date_from_datetime_parsing": _l("must be a date (YYYY-MM-DD)"),
    "date_parsing": _l("must be a date (YYYY-MM-DD)"),
    "date_type": _l("must be a date (YYYY-MM-DD)"),
    "literal_error": _l("must be one of %(expected)s"),
    "string_pattern_mismatch": _l("is not in the expected form"),
    "dict_type": _l("must be an object of names and values"),
    "list_type": _l("must be a list"),
    "too_short": _l("is too short: at least %(min_length)s needed"),
    "too_long": _l("is too long: at most %(max_length)s allowed"),
}


def field_errors(error: PydanticValidationError) -> dict[str, list[str]]:
    """Pydantic's errors as api.md's `fields`: dotted paths to lists of short messages."""
    fields: dict[str, list[str]] = {}
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "body"
        template = FIELD_MESSAGES.get(item["type"])
        if template is not None:
            context = {key: str(value) for key, value in (item.get("ctx") or {}).items()}
            message = str(template) % context if "%(" in str(template) else str(template)
        elif item["msg"].startswith("Value error, "):
            message = item["msg"][len("Value error, "):]
        else:
            message = item["msg"][0].lower() + item["msg"][1:]
        fields.setdefault(path, []).append(message)
    return fields


def json_body() -> object:
    """The request body parsed as JSON with exact decimals; 400 when it is not JSON at all."""
    raw = request.get_data(cache=True)
    if not raw:
        raise ApiError(400, "The request body must be a JSON object.")
    try:
        return json.loads(raw, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, f"The request body is not valid JSON: {error}.") from None


def parse_body(model: type[BaseModel]) -> BaseModel:
    data = json_body()
    if not isinstance(data, dict):
        raise ValidationFailed({"body": ["must be a JSON object"]})
    try:
        return model.model_validate(data)
    except PydanticValidationError as error:
        raise ValidationFailed(field_errors(error)) from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(request.args.to_dict())
    except PydanticValidationError as error:
        raise ValidationFailed(field_errors(error)) from None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["before"]
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    raise ValidationFailed({"cursor": ["is not a cursor this service gave out"]})


def keyset_page(statement: Select, id_column, limit: int, cursor: str | None):
    """One page of entities, newest first, stable under inserts: rows with id below the cursor."""
    return _keyset(lambda page: db.session.scalars(page).unique().all(), statement, id_column, limit, cursor)


def keyset_rows(statement: Select, id_column, limit: int, cursor: str | None):
    """One page of plain rows (a select of columns, one of them the id), as keyset_page pages entities."""
    return _keyset(lambda page: db.session.execute(page).all(), statement, id_column, limit, cursor)


def _keyset(fetch, statement: Select, id_column, limit: int, cursor: str | None):
    before = decode_cursor(cursor)
    if before is not None:
        statement = statement.where(id_column < before)
    rows = fetch(statement.order_by(id_column.desc()).limit(limit + 1))  # one more, to see if there are more
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor
