"""Pooled connections are pinged only after being idle: a busy pool costs no extra round trips, and a connection
that died while idle is replaced before anyone sees it."""
import pytest
import sqlalchemy as sa
from psycopg import pq

from certify import connections, create_app
from certify.extensions import db
from config import TestConfig, database_url


@pytest.fixture()
def engine(database_url_for_tests):
    engine = sa.create_engine(database_url(database_url_for_tests), pool_size=1, max_overflow=0)
    connections.ping_idle_connections(engine)
    yield engine
    engine.dispose()


@pytest.fixture()
def pings(engine, monkeypatch):
    sent = []
    original = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: sent.append(1) or original(dbapi_connection))
    return sent


def backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.text("SELECT pg_backend_pid()"))


def terminate(engine, pid: int) -> None:
    other = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    with other.connect() as connection:
        assert connection.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def test_a_connection_in_steady_use_is_not_pinged(engine, pings):
    first = backend_pid(engine)
    for _ in range(20):
        assert backend_pid(engine) == first
    assert pings == []


def test_an_idle_connection_is_pinged_and_replaced_when_it_died(engine, pings, monkeypatch):
    monkeypatch.setattr(connections, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout counts as idle
    dead = backend_pid(engine)
    terminate(engine, dead)
    replacement = backend_pid(engine)  # no error: the ping found it dead and the pool connected anew
    assert replacement != dead and len(pings) >= 1


def test_without_the_ping_a_dead_connection_fails_once_and_the_pool_recovers(engine, pings, monkeypatch):
    """What the idle threshold trades: a connection that dies within it fails the statement that uses it."""
    monkeypatch.setattr(connections, "PING_AFTER_IDLE_SECONDS", 3600.0)
    dead = backend_pid(engine)
    terminate(engine, dead)
    with pytest.raises(sa.exc.OperationalError):
        backend_pid(engine)
    assert backend_pid(engine) != dead and pings == []


def test_a_connection_lent_outside_a_transaction_is_put_in_autocommit_once_not_at_every_loan(app, monkeypatch):
    with app.app_context():
        with connections.outside_transaction() as connection:  # the pool's connection is made
            connection.exec_driver_sql("SELECT 1")
        dialect = db.engines[connections.AUTOCOMMIT_BIND].dialect
        switches = []
        for name in ("set_isolation_level", "reset_isolation_level"):
            original = getattr(dialect, name)
            monkeypatch.setattr(dialect, name, lambda *args, name=name, original=original:
                                switches.append(name) or original(*args))
        for _ in range(3):
            with connections.outside_transaction() as connection:
                driver = connection.connection.driver_connection
                assert connection.exec_driver_sql("SELECT 1").scalar() == 1
                # The statement left no transaction open behind it.
                assert driver.autocommit and driver.info.transaction_status == pq.TransactionStatus.IDLE
    assert switches == []


def test_on_sqlite_too_a_statement_outside_a_transaction_is_committed_by_itself(tmp_path):
    """The development default (`make run`): the autocommit engine is a second engine on the same file."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'dev.sqlite'}",
                     INSTANCE_DIR=str(tmp_path))
    with app.app_context():
        try:
            with connections.outside_transaction() as connection:
                connection.exec_driver_sql("CREATE TABLE noted (value INTEGER)")
                connection.exec_driver_sql("INSERT INTO noted VALUES (7)")
                assert not connection.connection.driver_connection.in_transaction
            # no commit was asked for, and the main engine's session sees the row
            assert db.session.execute(sa.text("SELECT value FROM noted")).scalar() == 7
        finally:
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
