"""Thin Celery tasks: claim the work, call the service, done."""
import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError

from certify.documents import DeadlinePassed
from certify.services import checks
from certify.tasks import CHECK_RUN_TASK, SWEEP_TASK

log = logging.getLogger(__name__)

# How long before the soft time limit a run's document reads stop themselves (at most; a tenth of a short limit).
READING_MARGIN_SECONDS = 5.0


@shared_task(name=CHECK_RUN_TASK, bind=True, max_retries=10)
def run_checks(self, run_id: int) -> str:
    """Runs the checks of one check run; a duplicate or late delivery finds nothing to do."""
    try:
        outcome = checks.execute_run(run_id, deadline=_reading_deadline(self))
    except (SoftTimeLimitExceeded, DeadlinePassed):
        outcome = checks.end_run_out_of_time(run_id)
    except OperationalError as error:  # the database is away: try again shortly; the sweep is the backstop
        raise self.retry(exc=error, countdown=min(2 ** self.request.retries, 30))
    log.info("check run %s: %s", run_id, outcome)
    return outcome


def _reading_deadline(task) -> float | None:
    """When the run's document reads stop themselves: a little before the soft time limit, whose exception a
    parser's `except Exception` can swallow (the run then goes on as if the file had been read to its end)."""
    soft_seconds = task.soft_time_limit or task.app.conf.task_soft_time_limit
    if not soft_seconds:
        return None
    return time.monotonic() + soft_seconds - min(READING_MARGIN_SECONDS, soft_seconds / 10)


@shared_task(name=SWEEP_TASK)
def sweep_check_runs() -> int:
    """Re-publishes check runs whose message was lost (broker restart, dead worker)."""
    return checks.requeue_stale_runs()
