"""The Celery app for `celery --app workers worker`, built once per process by the Flask factory."""
from certify import create_app

flask_app = create_app()
app = flask_app.extensions["celery"]
