"""Publishing work to the workers, after the transaction that created it has committed."""
import logging

from flask import current_app

from certify.tasks import CHECK_RUN_TASK

log = logging.getLogger(__name__)


def enqueue_check_run(run_id: int) -> bool:
    """Publishes the run; when the broker is down the run stays queued in the database and the sweep publishes it."""
    try:
        current_app.extensions["celery"].send_task(CHECK_RUN_TASK, args=[run_id])
        return True
    except Exception as error:  # kombu and redis raise several connection errors; the sweep is the remedy
        log.warning("broker unavailable, check run %s left for the sweep: %s", run_id, error)
        return False
