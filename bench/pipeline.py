"""The check pipeline against the Celery floor, on the same two workers.

Both phases queue all their work while the workers are told to stop consuming the queue, then let the workers
go and time until the last task is done: the figure is the workers' throughput, not the speed of queueing.
The floor is `workers/bench_tasks.py`: a task that reads its batch row, counted done in Redis.
"""
import time
import uuid

import redis
from celery import Celery
from flask import Flask
from sqlalchemy import exists, select

from certify.connections import outside_transaction
from certify.extensions import db
from certify.models import CheckRun, User
from certify.security import get_batch_for
from certify.services import batches

READ_BATCH_TASK = "certify.bench.read_batch"
# Both phases are watched as often: the end of each is seen at most this late (a floor of 250 tasks takes about
# half a second).
POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 1800


class Workers:
    def __init__(self, app: Flask, names: list[str]):
        self.celery: Celery = app.extensions["celery"]
        self.queue = app.config["TASK_QUEUE"]
        self.names = names

    def _control(self, command: str) -> None:
        replies = getattr(self.celery.control, command)(self.queue, destination=self.names, reply=True, timeout=5)
        if len(replies) != len(self.names):
            raise RuntimeError(f"{command}: only {len(replies)} of the workers {self.names} answered: {replies}")

    def pause(self) -> None:
        self._control("cancel_consumer")

    def resume(self) -> None:
        self._control("add_consumer")

    def wait_until_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = self.celery.control.ping(destination=self.names, timeout=1) or []
            if len(replies) == len(self.names):
                return
        raise RuntimeError(f"the workers {self.names} did not answer")


def floor_seconds(app: Flask, workers: Workers, batch_ids: list[int]) -> float:
    """Seconds for the two workers to run one floor task per batch."""
    broker = redis.Redis.from_url(app.config["BROKER_URL"])
    counter = f"certify-bench-floor-{uuid.uuid4().hex}"
    workers.pause()
    for batch_id in batch_ids:
        workers.celery.send_task(READ_BATCH_TASK, args=[batch_id, counter])
    broker.ping()  # connected before the clock starts
    started = time.perf_counter()
    workers.resume()
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while int(broker.get(counter) or 0) < len(batch_ids):
        if time.monotonic() > deadline:
            raise RuntimeError("the floor tasks did not finish")
        time.sleep(POLL_SECONDS)
    elapsed = time.perf_counter() - started
    broker.delete(counter)
    return elapsed


def pipeline_seconds(app: Flask, workers: Workers, batches_by_applicant: dict[int, list[int]]) -> float:
    """Seconds for the two workers to check every batch: submitted by its applicant (through the service, as the
    API does) while the workers wait, then timed from their release until no run of these batches is queued."""
    workers.pause()
    run_ids = []
    with app.app_context():
        for applicant_id, ids in batches_by_applicant.items():
            applicant = db.session.get(User, applicant_id)
            for batch_id in ids:
                run_ids.append(batches.submit(applicant, get_batch_for(applicant, batch_id, lock=True)).id)
        db.session.remove()
    # Nothing else queues runs meanwhile, so these are the runs numbered from the first to the last; the question is
    # answered from the index of queued runs, on one connection held in autocommit (no BEGIN, ROLLBACK or pool
    # checkout for each question): watching costs the machine about what the floor's Redis counter does.
    pending = select(exists().where(CheckRun.state == "queued", CheckRun.id.between(min(run_ids), max(run_ids))))
    with app.app_context(), outside_transaction() as connection:
        connection.execute(pending)  # connected before the clock starts
        started = time.perf_counter()
        workers.resume()
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while connection.execute(pending).scalar():
            if time.monotonic() > deadline:
                raise RuntimeError("the check runs did not finish")
            time.sleep(POLL_SECONDS)
        return time.perf_counter() - started
