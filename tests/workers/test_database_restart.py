"""PostgreSQL restarted under the web app and the worker: a clear 503 meanwhile, then both carry on by themselves."""
import os
import subprocess
import time

import pytest

from certify.extensions import db
from tests.helpers import Applicant
from tests.workers.test_check_runs import wait_for_status


def postgres(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, *(
        ["-m", "fast"] if action == "stop" else [])], check=True, capture_output=True)


def wait_for_postgres(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not come back")
        time.sleep(0.3)


@pytest.fixture()
def restartable_postgres():
    """Makes sure the machine's PostgreSQL is running again whatever the test does."""
    yield
    if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        postgres("start")
        wait_for_postgres()


def test_the_app_answers_503_while_the_database_is_down_and_recovers_after(client, ctx, worker,
                                                                            restartable_postgres):
    applicant = Applicant(client)
    batch = applicant.ready_batch()
    assert applicant.get("/api/v1/me").status_code == 200
    db.session.close()  # the test's own session holds no connection across the restart
    postgres("stop")
    try:
        started = time.monotonic()
        down = applicant.get("/api/v1/me")
        assert down.status_code == 503 and down.get_json()["error"]["code"] == "service_unavailable"
        assert time.monotonic() - started < 10, "a request during the outage must not hang"
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["database"] == "down"
    finally:
        postgres("start")
        wait_for_postgres()
    # Neither the web app nor the worker is restarted: stale connections are replaced on first use.
    assert applicant.get("/api/v1/me").status_code == 200
    assert applicant.post(f"/api/v1/batches/{batch['id']}/submit").status_code == 202
    assert wait_for_status(applicant, batch["id"])["status"] == "awaiting_review"
