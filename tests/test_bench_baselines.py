"""The benchmark's baselines: endpoints absent unless CERTIFY_BENCH_BASELINES is set, correct when it is; the
no-op task of the pipeline floor."""
import importlib.util
import uuid
from pathlib import Path

import pytest
import redis

from certify import create_app
from certify.extensions import db
from certify.models import Batch
from config import TestConfig
from tests.helpers import make_company, make_facility, make_user, seed_batch_rows

BASELINE_PATHS = ("/bench/baseline/select50", "/bench/baseline/constant")


@pytest.fixture()
def bench_app(app):
    """The test app's settings with the baselines switched on (a second app on the same database)."""
    overrides = {name: app.config[name] for name in ("SQLALCHEMY_DATABASE_URI", "BROKER_URL", "TASK_QUEUE",
                                                     "STORAGE_DIR", "SIGNING_KEY_FILE", "RETIRED_KEYS_FILE",
                                                     "INSTANCE_DIR")}
    bench_app = create_app(TestConfig, BENCH_BASELINES=True, **overrides)
    yield bench_app
    with bench_app.app_context():
        db.engine.dispose()


def test_the_baselines_do_not_exist_without_the_flag(app, client):
    assert app.config["BENCH_BASELINES"] is False
    assert not any(rule.rule.startswith("/bench/") for rule in app.url_map.iter_rules())
    for path in BASELINE_PATHS:
        assert client.get(path).status_code == 404


def test_select50_returns_the_newest_fifty_batches_in_one_statement(bench_app, ctx):
    company = make_company()
    seed_batch_rows(company, make_facility(company), make_user("reviewer"), 60, statuses=("draft",))
    newest = db.session.scalars(db.select(Batch.id).order_by(Batch.id.desc()).limit(50)).all()
    statements = []
    with bench_app.app_context():
        db.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        response = bench_app.test_client().get("/bench/baseline/select50")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["id"] for item in items] == newest
    assert items[0]["status"] == "draft" and items[0]["quantity_kg"] == 10000
    assert len(statements) == 1


def test_constant_answers_the_same_json_every_time(bench_app):
    client = bench_app.test_client()
    answers = [client.get("/bench/baseline/constant") for _ in range(2)]
    assert all(answer.status_code == 200 for answer in answers)
    assert answers[0].get_json() == answers[1].get_json() == {"status": "ok"}


def test_the_baselines_answer_loopback_callers_only(bench_app):
    client = bench_app.test_client()
    for path in BASELINE_PATHS:
        assert client.get(path, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 404


def load_bench_tasks():
    """workers/bench_tasks.py on its own: importing the `workers` package would build a second app from the
    environment and make its Celery app the default one."""
    path = Path(__file__).resolve().parent.parent / "workers" / "bench_tasks.py"
    spec = importlib.util.spec_from_file_location("bench_tasks_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_floor_task_reads_its_batch_and_counts_itself_done(app, ctx):
    read_batch = load_bench_tasks().read_batch
    company = make_company()
    seed_batch_rows(company, make_facility(company), make_user("reviewer"), 1, statuses=("draft",))
    batch_id = db.session.scalar(db.select(Batch.id))
    counter = f"bench-test-{uuid.uuid4().hex}"
    broker = redis.Redis.from_url(app.config["BROKER_URL"])
    try:
        read_batch.run(batch_id, counter)
        read_batch.run(batch_id, counter)
        assert int(broker.get(counter)) == 2
    finally:
        broker.delete(counter)
