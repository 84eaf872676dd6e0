"""Pooled database connections: checked before use only when idle long enough to be stale, and lent outside a
transaction for statements that need none."""
import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from certify.extensions import db

# A connection used this recently is handed out as it is: SQLAlchemy's pool_pre_ping would cost every request a
# round trip, the one cost a public look-up has besides its own query. One idle for longer is pinged first, so
# a database restarted while the service was quiet is noticed before a request fails; a restart under load
# fails the statements in flight, whatever the pool does.
PING_AFTER_IDLE_SECONDS = 1.0


def ping_idle_connections(engine: Engine) -> None:
    """pool_pre_ping for connections idle longer than PING_AFTER_IDLE_SECONDS, with its recovery: a dead one
    invalidates the whole pool (its neighbours died with it) and the checkout carries on with a new connection."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def count_idle_from_connect(dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def count_idle_from_checkin(dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, proxy):
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            # Any failure of a bare ping means the connection is unusable; the driver's wording of it varies
            # ("server closed the connection", "connection socket closed"...), so it is not matched.
            raise exc.InvalidatePoolError() from error


# The engine outside_transaction lends from: its connections are put in autocommit once, when they connect, and
# given back with nothing to roll back. Lent from the main engine with autocommit switched on at every checkout,
# then switched off and rolled back at checkin, a public look-up made a third more calls and five more waits on
# the driver, for the switching alone.
AUTOCOMMIT_BIND = "autocommit"


def autocommit_bind(uri: str) -> dict:
    """The SQLALCHEMY_BINDS entry of the autocommit engine: the same database and engine options as the main one."""
    return {"url": uri, "isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}


def outside_transaction() -> Connection:
    """A connection of its own in autocommit, for statements that need no transaction around them: each is one
    round trip, without BEGIN before and COMMIT or ROLLBACK after. Use it as a context manager."""
    return db.engines[AUTOCOMMIT_BIND].connect()
