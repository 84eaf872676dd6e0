"""Statements compiled once and run on psycopg itself: for the hottest reads and writes, where SQLAlchemy's
execution path (matching the statement to its cached compiled form, wrapping cursor and rows) costs more than the
database's own work. Used where a statement runs thousands of times a second with nothing for the ORM to do: the
check run's pipelined statements, the public look-ups."""
from collections import namedtuple
from functools import lru_cache

from psycopg.types.json import Json
from sqlalchemy import JSON, Connection, Select
from sqlalchemy.types import TypeDecorator


class DriverStatement:
    """A statement compiled once for psycopg: its SQL, the values it binds itself, its parameters psycopg takes
    wrapped as JSON, and its columns decoded by a type of ours (DecimalMap), in order."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.fixed = {name: bind.value for bind, name in compiled.bind_names.items() if not bind.required}
        self.json = frozenset(name for bind, name in compiled.bind_names.items() if isinstance(bind.type, JSON))
        if any(isinstance(bind.type, TypeDecorator) for bind in compiled.bind_names):
            raise TypeError("a parameter of a decorated type needs its bind processing; bind it through the session")
        columns = statement.selected_columns if isinstance(statement, Select) else ()
        self.returns_rows = bool(columns)
        self.decoders = tuple((index, column.type.process_result_value) for index, column in enumerate(columns)
                              if isinstance(column.type, TypeDecorator))
        self.dialect = dialect
        self.row_type = None  # named after the columns of the first result

    def parameters(self, values: dict) -> dict:
        parameters = {**self.fixed, **values}
        for name in self.json:
            parameters[name] = Json(parameters[name])
        return parameters

    def rows(self, cursor) -> list:
        if self.row_type is None:
            self.row_type = namedtuple("Row", [column.name for column in cursor.description])
        row_type = self.row_type
        rows = cursor.fetchall()
        if self.decoders:
            rows = [list(row) for row in rows]
            for row in rows:
                for index, decode in self.decoders:
                    row[index] = decode(row[index], self.dialect)
        return [row_type._make(row) for row in rows]

    def first(self, connection: Connection, values: dict):
        """The statement's first row on a connection SQLAlchemy lent (None when there is none)."""
        cursor = connection.connection.driver_connection.execute(self.sql, self.parameters(values))
        rows = self.rows(cursor)
        return rows[0] if rows else None


@lru_cache(maxsize=64)
def driver_statement(statement, dialect) -> DriverStatement:
    """The statement, compiled for this dialect once per process (statements are module constants)."""
    return DriverStatement(statement, dialect)
