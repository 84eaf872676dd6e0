"""Keyset pages for the HTML lists: newest first, `?before=<id>` walks to older rows, stable under inserts."""
from flask import request
from sqlalchemy import Select

from certify.extensions import db
from certify.routing import DatabaseIdConverter


def newest_first(statement: Select, id_column, size: int) -> tuple[list, int | None]:
    """One bounded page and the id to continue from (None on the last page)."""
    before = request.args.get("before", type=int)
    if before is not None and 1 <= before <= DatabaseIdConverter.max:  # no id lies outside; ignore the rest
        statement = statement.where(id_column < before)
    rows = db.session.scalars(statement.order_by(id_column.desc()).limit(size + 1)).unique().all()
    older = rows[size - 1].id if len(rows) > size else None
    return rows[:size], older
