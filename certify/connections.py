"""Pooled database connections: checked before use only when idle long enough to be stale, and lent outside a
transaction for statements that need none."""
import functools
import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

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


def outside_transaction(engine: Engine) -> Connection:
    """A connection of its own in autocommit, for statements that need no transaction around them: each is one
    round trip, without BEGIN before and COMMIT or ROLLBACK after. Use it as a context manager."""
    return _autocommit(engine).connect()


@functools.lru_cache(maxsize=8)  # one engine per process in service; a few more in a test run
def _autocommit(engine: Engine) -> Engine:
    # The engine's pool, with autocommit set as a connection is lent: made once, it costs a public look-up a fifth
    # less than switching each lent connection over with execution_options.
    return engine.execution_options(isolation_level="AUTOCOMMIT")
