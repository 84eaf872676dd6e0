"""Keyset pages for the HTML lists: newest first, `?before=<id>` walks to older rows, stable under inserts."""
from flask import request
from sqlalchemy import Row, Select

from certify.extensions import db
from certify.routing import DatabaseIdConverter


def newest_first(statement: Select, id_column, size: int) -> tuple[list, int | None]:
    """One bounded page of entities and the id to continue from (None on the last page)."""
    return _page(lambda page: db.session.scalars(page).unique().all(), statement, id_column, size)


def newest_rows(statement: Select, id_column, size: int) -> tuple[list, int | None]:
    """Like newest_first, for a select of columns (one of them the id): plain rows cost less than entities."""
    return _page(plain_rows, statement, id_column, size)


def plain_rows(statement: Select, parameters: dict | None = None) -> list[Row]:
    """The rows of a select of columns, run on the session's connection as a Core statement: the ORM's execution
    path costs a 50-row page a third more and gives nothing to rows that are not entities."""
    return db.session.connection().execute(statement, parameters).all()


def _page(fetch, statement: Select, id_column, size: int) -> tuple[list, int | None]:
    before = request.args.get("before", type=int)
    if before is not None and 1 <= before <= DatabaseIdConverter.max:  # no id lies outside; ignore the rest
        statement = statement.where(id_column < before)
    rows = fetch(statement.order_by(id_column.desc()).limit(size + 1))
    older = rows[size - 1].id if len(rows) > size else None
    return rows[:size], older
