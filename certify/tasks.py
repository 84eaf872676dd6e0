"""Celery bound to the Flask app, as Flask's Celery pattern does it: every task runs in an app context."""
import os

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask, has_app_context

from certify.extensions import db

CHECK_RUN_TASK = "certify.run_checks"
SWEEP_TASK = "certify.sweep_check_runs"


def celery_config(app: Flask) -> dict:
    broker_url = app.config["BROKER_URL"]
    config = {
        "broker_url": broker_url or "filesystem://",
        "task_default_queue": app.config["TASK_QUEUE"],
        "task_ignore_result": True,
        "result_backend": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        # A task is acknowledged only when it ends, and requeued if its worker process dies under it.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": app.config["CHECK_RUN_SOFT_SECONDS"],
        "task_time_limit": app.config["CHECK_RUN_SOFT_SECONDS"] + 60,
        "broker_connection_retry_on_startup": True,
        # Publishing while the broker is down fails fast; the sweep publishes later (notes.md).
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                                      "interval_max": 0.5},
        "include": ["workers.tasks"],
        "beat_schedule": {"sweep-check-runs": {"task": SWEEP_TASK,
                                               "schedule": float(app.config["SWEEP_INTERVAL_SECONDS"])}},
    }
    if broker_url.startswith("redis"):
        config["broker_transport_options"] = {"visibility_timeout": 600, "socket_connect_timeout": 2,
                                              "socket_timeout": 5}
    elif not broker_url:
        # The embedded broker for a newcomer's machine: messages are files under instance/broker.
        queue_dir = f"{app.config['BROKER_DIR']}/queue"
        os.makedirs(queue_dir, exist_ok=True)
        config["broker_transport_options"] = {"data_folder_in": queue_dir, "data_folder_out": queue_dir,
                                              "control_folder": f"{app.config['BROKER_DIR']}/control",
                                              "store_processed": False}
        config["beat_schedule_filename"] = f"{app.config['BROKER_DIR']}/celerybeat-schedule"
    return config


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            if has_app_context():  # eager calls inside a request reuse its context
                return self.run(*args, **kwargs)
            with app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_config(app))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


@worker_process_init.connect
def dispose_engine_after_fork(**_):
    """A forked pool process must not share the parent's database connections."""
    from workers import flask_app

    with flask_app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
