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

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def field_errors(error: PydanticValidationError) -> dict[str, list[str]]:
    """Pydantic's errors as api.md's `fields`: dotted paths to lists of short messages."""
    fields: dict[str, list[str]] = {}
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "body"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "is not a field that can be set"
        elif item["type"] == "missing":
            message = "is required"
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        elif message.startswith("Input should be "):
            message = "must be " + message[len("Input should be "):]
        else:
            message = message[0].lower() + message[1:]
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
    """One page, newest first, stable under inserts: rows with id below the cursor, limit + 1 to see if more."""
    before = decode_cursor(cursor)
    if before is not None:
        statement = statement.where(id_column < before)
    rows = db.session.scalars(statement.order_by(id_column.desc()).limit(limit + 1)).unique().all()
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor
