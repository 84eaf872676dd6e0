"""SQL statements per request, counted in the bench's own app process against the seeded database.

Each request is sent twice through Flask's test client with the headers a real client sends (Bearer token, or the
session cookie of a browser signed in through gunicorn: the same secret key signs both); the second one is counted
with SQLAlchemy's before_cursor_execute event, so one-off work of a fresh process (loading keys, the ruleset)
does not count.
"""
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event

from bench.client import Client
from bench.loadgen import USER_AGENT
from certify.extensions import db


@contextmanager
def statements_counted(engine):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


class StatementCounter:
    """Requests run outside any app context of the caller's, each in its own, as under gunicorn: nothing is
    served from a session the bench holds."""

    def __init__(self, app: Flask):
        self.app = app
        with app.app_context():
            self.engine = db.engine

    def count(self, path: str, *, token: str | None = None, browser: Client | None = None) -> int:
        headers = {"User-Agent": USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if browser:
            headers["Cookie"] = browser.cookie_header()
        client = self.app.test_client(use_cookies=False)  # the Cookie header as given
        first = client.get(path, headers=headers)
        if first.status_code != 200:
            raise RuntimeError(f"{path}: {first.status_code} {first.get_data(as_text=True)[:300]}")
        with statements_counted(self.engine) as statements:
            response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} on the counted request")
        return len(statements)
