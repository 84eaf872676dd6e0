"""Fixtures as in Flask's tutorial, on the machine's real services: a fresh PostgreSQL database and Redis."""
import contextvars
import os
import secrets
import time
import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from certify import create_app
from certify.extensions import db, limiter
from certify.services.catalogue import ensure_catalogue
from config import TestConfig, database_url
from tests.services import WorkerProcess, admin_url_for, create_database, drop_database


@pytest.fixture(scope="session")
def database_url_for_tests():
    """A fresh PostgreSQL database for this test session, upgraded through the migration chain."""
    name = f"certify_test_{uuid.uuid4().hex[:10]}"
    base = os.environ.get("CERTIFY_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    create_database(base, name)
    url = admin_url_for(base, name)
    yield url
    drop_database(base, name)


@pytest.fixture(scope="session")
def app_settings(database_url_for_tests, tmp_path_factory):
    """Settings shared by the test app and the worker processes it talks to (they read the environment)."""
    instance = tmp_path_factory.mktemp("instance")
    redis_db = os.environ.get("CERTIFY_TEST_REDIS_DB", "14")
    return {
        "CERTIFY_ENV": "test",
        "CERTIFY_SECRET_KEY": TestConfig.SECRET_KEY,
        "CERTIFY_DATABASE_URL": database_url_for_tests,
        "CERTIFY_BROKER_URL": os.environ.get("CERTIFY_TEST_BROKER_URL", f"redis://127.0.0.1:6379/{redis_db}"),
        "CERTIFY_INSTANCE_DIR": str(instance),
        "CERTIFY_STORAGE_DIR": str(instance / "documents"),
        "CERTIFY_SIGNING_KEY_FILE": str(instance / "signing-key.pem"),
        "CERTIFY_PUBLIC_URL": TestConfig.PUBLIC_URL,
        "CERTIFY_SWEEP_INTERVAL_SECONDS": "2",
        # A queue of this session's own: test runs sharing the machine's Redis never take each other's tasks.
        "CERTIFY_TASK_QUEUE": f"certify-test-{uuid.uuid4().hex[:8]}",
        "CERTIFY_CHECK_RUN_GRACE_SECONDS": "3",
        "CERTIFY_MFA_REQUIRED_ROLES": "",  # as TestConfig: tests sign in with the password; MFA tests turn it on
    }


class IsolatedClient(FlaskClient):
    """Runs each request in a context of its own, as a real server does.

    Without this, a request made while the test holds an app context would share the test's `g` and
    database session instead of getting fresh ones. It asks for English unless a test asks otherwise
    (the service answers in Korean by default; tests of the Korean pages say so).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")

    def open(self, *args, **kwargs):
        # Buffered, so a streamed body is produced inside the request's own context, not the test's.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app(app_settings):
    app = create_app(TestConfig,
                     SQLALCHEMY_DATABASE_URI=database_url(app_settings["CERTIFY_DATABASE_URL"]),
                     BROKER_URL=app_settings["CERTIFY_BROKER_URL"], TASK_QUEUE=app_settings["CERTIFY_TASK_QUEUE"],
                     STORAGE_DIR=app_settings["CERTIFY_STORAGE_DIR"],
                     SIGNING_KEY_FILE=app_settings["CERTIFY_SIGNING_KEY_FILE"],
                     RETIRED_KEYS_FILE=app_settings["CERTIFY_SIGNING_KEY_FILE"] + ".retired.json",
                     INSTANCE_DIR=app_settings["CERTIFY_INSTANCE_DIR"])
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
        app.extensions["celery"].control.purge()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def clean_database(request):
    """Every test that uses the app starts from an empty database holding only the material catalogue.

    Ids are not restarted, so a message left in the broker by an earlier test can never name a new row.
    Pure tests (domain rules, document parsing) need no database and skip this.
    """
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        truncate_all_tables()
        ensure_catalogue()
    limiter.reset()
    yield
    with app.app_context():
        db.session.remove()


def truncate_all_tables(attempts: int = 20) -> None:
    """Empties every table; a worker may still be finishing an earlier test's run, so retry on lock conflicts."""
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    for attempt in range(attempts):
        try:
            db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            db.session.execute(sa.text(f"TRUNCATE {tables} CASCADE"))
            db.session.commit()
            return
        except sa.exc.OperationalError:
            db.session.rollback()
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()


@pytest.fixture()
def ctx(app):
    """An app context for tests that use services and models directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture(scope="session")
def worker(app, app_settings):
    """A real `celery --app workers worker` process (with the beat sweep) on the real Redis and database."""
    process = WorkerProcess(app_settings, name=f"test-{secrets.token_hex(3)}")
    process.start()
    yield process
    process.stop()
