"""The Celery floor `make bench` measures the check pipeline against: a task that only reads its batch row.

Loaded only by workers started with `--include workers.bench_tasks` (the bench starts its workers so), so
production workers never know this task. It reports each completion by incrementing a Redis counter named
by the caller: the bench counts finished tasks there, since tasks keep no results.
"""
import redis
from celery import shared_task
from flask import current_app
from sqlalchemy import select

from certify.extensions import db
from certify.models import Batch

READ_BATCH_TASK = "certify.bench.read_batch"


@shared_task(name=READ_BATCH_TASK)
def read_batch(batch_id: int, counter_key: str) -> None:
    """Reads the batch row by id, as the check run's claim does, and counts itself done."""
    db.session.execute(select(Batch).where(Batch.id == batch_id)).first()
    db.session.rollback()
    broker = current_app.extensions.get("bench_redis")
    if broker is None:
        broker = current_app.extensions["bench_redis"] = redis.Redis.from_url(current_app.config["BROKER_URL"])
    broker.incr(counter_key)
