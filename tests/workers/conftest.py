"""A stack of a test's own for the tests that kill or starve workers: a private redis-server and its workers."""
import pytest

from certify import create_app
from certify.extensions import db
from config import TestConfig, database_url
from tests.conftest import IsolatedClient
from tests.services import RedisServer, WorkerProcess


@pytest.fixture()
def private_stack(app_settings):
    """An app on a redis-server of this test's own, and `start_worker(name, **env)` for workers on it, so that
    killing them, or giving them tighter limits through CERTIFY_* settings, harms no other test."""
    redis = RedisServer()
    redis.start()
    settings = {**app_settings, "CERTIFY_BROKER_URL": redis.url}
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url(settings["CERTIFY_DATABASE_URL"]),
                     BROKER_URL=redis.url, TASK_QUEUE=settings["CERTIFY_TASK_QUEUE"],
                     STORAGE_DIR=settings["CERTIFY_STORAGE_DIR"], SIGNING_KEY_FILE=settings["CERTIFY_SIGNING_KEY_FILE"],
                     INSTANCE_DIR=settings["CERTIFY_INSTANCE_DIR"])
    app.test_client_class = IsolatedClient
    workers = []

    def start_worker(name, concurrency=2, beat=True, **env):
        worker = WorkerProcess({**settings, **env}, name=name, concurrency=concurrency, beat=beat)
        worker.start()
        workers.append(worker)
        return worker

    yield app, start_worker
    for worker in workers:
        worker.stop()
    redis.stop()
    with app.app_context():
        db.engine.dispose()
