"""certify: production certification of recycled battery materials. `create_app` builds the service."""
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config as config_module
from certify.connections import AUTOCOMMIT_BIND, autocommit_bind, ping_idle_connections
from certify.extensions import babel, csrf, db, limiter, login_manager, migrate
from certify.jsonio import CertifyJSONProvider

PROJECT_DIR = Path(__file__).resolve().parent.parent
WEAK_SECRETS = {"dev", "secret", "changeme", "change-me", "development", "test"}


def create_app(config: object | None = None, **overrides) -> Flask:
    app = Flask(__name__, template_folder=str(PROJECT_DIR / "templates"),
                instance_relative_config=True)
    configure(app, config, overrides)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_commands(app)
    register_celery(app)
    return app


def configure(app: Flask, config: object | None, overrides: dict) -> None:
    app.config.from_object(config or config_module.Config)
    app.config.update(overrides)
    app.instance_path = app.config["INSTANCE_DIR"]
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes(app.config["MAX_UPLOAD_MB"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"],
                                                             app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    app.config["SQLALCHEMY_BINDS"] = {**app.config.get("SQLALCHEMY_BINDS", {}),
                                      AUTOCOMMIT_BIND: autocommit_bind(app.config["SQLALCHEMY_DATABASE_URI"])}
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.json = CertifyJSONProvider(app)
    app.config["SECRET_KEY"] = checked_secret_key(app)
    if app.config["PROXY_HOPS"]:
        # Behind N trusted proxies, the client address (login throttling, security log) is the forwarded one.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def engine_options(uri: str, options: dict) -> dict:
    if uri.startswith("postgresql"):
        # A database that does not answer gives a clear 503 within seconds, never a hang. And a server process
        # whose client died while it waited for a lock (a worker process killed mid-run) notices within 2 s and
        # frees the run's row locks, instead of holding them until the lock it waits for is released.
        connect_args = {"connect_timeout": 3, "options": "-c client_connection_check_interval=2000"}
    elif uri.startswith("sqlite"):
        # The web process and the worker share the file: wait for the writer's lock instead of failing.
        connect_args = {"timeout": 30}
    else:
        connect_args = {}
    return {**options, "connect_args": {**connect_args, **options.get("connect_args", {})}}


def max_request_bytes(max_upload_mb: int) -> int:
    # The file plus a little room for the multipart envelope and the `kind` field.
    return max_upload_mb * 1024 * 1024 + 64 * 1024


def checked_secret_key(app: Flask) -> str:
    """Refuses to run outside development without a strong CERTIFY_SECRET_KEY (never a default)."""
    key = app.config.get("SECRET_KEY")
    if app.config["ENV"] == "development" and not key:
        key_file = Path(app.instance_path) / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        return key_file.read_text().strip()
    if not key or key.lower() in WEAK_SECRETS or len(key) < 32:
        raise RuntimeError(
            "CERTIFY_SECRET_KEY must be set to at least 32 random characters "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))'). "
            "Set CERTIFY_ENV=development to run locally with a generated key.")
    return key


def register_extensions(app: Flask) -> None:
    from certify import models  # noqa: F401 - registers every table on the metadata

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_idle_connections(engine)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    from certify.i18n import init_i18n

    init_i18n(app, babel)


def register_blueprints(app: Flask) -> None:
    from certify.api import api
    from certify.routing import DatabaseIdConverter, id_links

    app.url_map.converters["int"] = DatabaseIdConverter
    app.add_template_global(id_links)
    from certify.web import register_web_blueprints

    csrf.exempt(api)  # the API authenticates by Bearer token only, never by cookie
    app.register_blueprint(api)
    register_web_blueprints(app)
    if app.config["BENCH_BASELINES"]:
        from certify.bench_baselines import bench_baselines

        app.register_blueprint(bench_baselines)


def register_errorhandlers(app: Flask) -> None:
    from certify.errors import init_error_handlers

    init_error_handlers(app)


def register_request_hooks(app: Flask) -> None:
    from certify.auth import init_auth
    from certify.headers import init_security_headers
    from certify.request_limits import init_request_limits

    init_request_limits(app)
    init_auth(app)
    init_security_headers(app)


def register_commands(app: Flask) -> None:
    from certify.cli import init_commands

    init_commands(app)


def register_celery(app: Flask) -> None:
    from certify.tasks import celery_init_app

    celery_init_app(app)
