"""Nothing is lost between web and worker: a submission while the broker is down completes once it is back."""
import time

import pytest

from certify import create_app
from certify.extensions import db
from certify.models import Batch
from config import TestConfig, database_url
from tests.helpers import Applicant
from tests.services import RedisServer, WorkerProcess


@pytest.fixture()
def private_broker(app_settings):
    redis = RedisServer()
    redis.start()
    settings = {**app_settings, "CERTIFY_BROKER_URL": redis.url}
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url(settings["CERTIFY_DATABASE_URL"]),
                     BROKER_URL=redis.url, TASK_QUEUE=settings["CERTIFY_TASK_QUEUE"], STORAGE_DIR=settings["CERTIFY_STORAGE_DIR"],
                     SIGNING_KEY_FILE=settings["CERTIFY_SIGNING_KEY_FILE"],
                     INSTANCE_DIR=settings["CERTIFY_INSTANCE_DIR"], CHECK_RUN_GRACE=TestConfig.CHECK_RUN_GRACE)
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    worker = WorkerProcess(settings, name="outage")
    worker.start()
    yield app, redis, worker
    worker.stop()
    redis.stop()
    with app.app_context():
        db.engine.dispose()


def test_submit_while_the_broker_is_down_completes_after_it_returns(private_broker, ctx):
    app, redis, worker = private_broker
    client = app.test_client()
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    redis.stop()
    started = time.monotonic()
    response = applicant.post(f"/api/v1/batches/{batch['id']}/submit")
    assert response.status_code == 202 and response.get_json() == {"status": "checking"}
    assert time.monotonic() - started < 10, "submit must not hang while the broker is down"
    db.session.expire_all()
    assert db.session.get(Batch, batch["id"]).status == "checking"
    redis.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = applicant.get(f"/api/v1/batches/{batch['id']}").get_json()["status"]
        if status != "checking":
            break
        time.sleep(0.5)
    assert status == "awaiting_review", worker.tail()
