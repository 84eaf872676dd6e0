"""Thin Celery tasks: claim the work, call the service, done."""
import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError

from certify.services import checks
from certify.tasks import CHECK_RUN_TASK, SWEEP_TASK

log = logging.getLogger(__name__)


@shared_task(name=CHECK_RUN_TASK, bind=True, max_retries=10)
def run_checks(self, run_id: int) -> str:
    """Runs the checks of one check run; a duplicate or late delivery finds nothing to do."""
    try:
        outcome = checks.execute_run(run_id)
    except SoftTimeLimitExceeded:
        outcome = checks.end_run_out_of_time(run_id)
    except OperationalError as error:  # the database is away: try again shortly; the sweep is the backstop
        raise self.retry(exc=error, countdown=min(2 ** self.request.retries, 30))
    log.info("check run %s: %s", run_id, outcome)
    return outcome


@shared_task(name=SWEEP_TASK)
def sweep_check_runs() -> int:
    """Re-publishes check runs whose message was lost (broker restart, dead worker)."""
    return checks.requeue_stale_runs()
