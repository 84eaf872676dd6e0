"""Keyset pages for the HTML lists: newest first, `?before=<id>` walks to older rows, stable under inserts."""
from flask import request
from sqlalchemy import Select

from certify.extensions import db
from certify.routing import DatabaseIdConverter


def newest_first(statement: Select, id_column, size: int) -> tuple[list, int | None]:
    """One bounded page of entities and the id to continue from (None on the last page)."""
    return _page(lambda page: db.session.scalars(page).unique().all(), statement, id_column, size)


def newest_rows(statement: Select, id_column, size: int) -> tuple[list, int | None]:
    """Like newest_first, for a select of columns (one of them the id): plain rows cost less than entities."""
    return _page(lambda page: db.session.execute(page).all(), statement, id_column, size)


def _page(fetch, statement: Select, id_column, size: int) -> tuple[list, int | None]:
    before = request.args.get("before", type=int)
    if before is not None and 1 <= before <= DatabaseIdConverter.max:  # no id lies outside; ignore the rest
        statement = statement.where(id_column < before)
    rows = fetch(statement.order_by(id_column.desc()).limit(size + 1))
    older = rows[size - 1].id if len(rows) > size else None
    return rows[:size], older
