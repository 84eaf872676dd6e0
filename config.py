"""Configuration read from CERTIFY_* environment variables (api.md, Operations)."""
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("CERTIFY_INSTANCE_DIR", BASE_DIR / "instance"))


def database_url(url: str) -> str:
    """Lets a plain postgresql:// URL work as given by naming the psycopg 3 driver for SQLAlchemy."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_list(name: str, default: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, default).split(",") if item.strip())


class Config:
    # "development" allows the generated instance secret and plain-HTTP cookies; anything else is production.
    ENV = os.environ.get("CERTIFY_ENV", "production")
    INSTANCE_DIR = str(INSTANCE_PATH)

    SECRET_KEY = os.environ.get("CERTIFY_SECRET_KEY")
    SECRET_KEY_FALLBACKS = [k for k in os.environ.get("CERTIFY_SECRET_KEY_FALLBACKS", "").split(",") if k]

    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("CERTIFY_DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'certify.sqlite'}"))
    # Connections are pinged before use only after being idle (certify/connections.py), not on every checkout.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    # Unset means the embedded broker: kombu's filesystem transport under instance/, no server needed.
    BROKER_URL = os.environ.get("CERTIFY_BROKER_URL", "")
    BROKER_DIR = str(INSTANCE_PATH / "broker")
    # The queue tasks go to; separate deployments (or test runs) sharing one Redis use different names.
    TASK_QUEUE = os.environ.get("CERTIFY_TASK_QUEUE", "certify")
    # Rate-limit counters must be shared by every web process: Redis when there is one.
    RATELIMIT_STORAGE_URI = os.environ.get(
        "CERTIFY_RATELIMIT_STORAGE_URL",
        BROKER_URL if BROKER_URL.startswith("redis") else "memory://")

    STORAGE_DIR = os.environ.get("CERTIFY_STORAGE_DIR", str(INSTANCE_PATH / "documents"))
    SIGNING_KEY_FILE = os.environ.get("CERTIFY_SIGNING_KEY_FILE", str(INSTANCE_PATH / "signing-key.pem"))
    RETIRED_KEYS_FILE = os.environ.get("CERTIFY_RETIRED_KEYS_FILE", SIGNING_KEY_FILE + ".retired.json")
    MAX_UPLOAD_MB = _env_int("CERTIFY_MAX_UPLOAD_MB", 25)
    # A malware scanner's command line, run on every upload before it is stored (certify/documents/malware.py);
    # empty: no scanner. E.g. "clamdscan --fdpass --no-summary" beside a clamd daemon.
    MALWARE_SCAN_COMMAND = os.environ.get("CERTIFY_MALWARE_SCAN_COMMAND", "")
    FOUR_EYES_KG = _env_int("CERTIFY_FOUR_EYES_KG", 50000)
    PUBLIC_URL = os.environ.get("CERTIFY_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")

    # How many reverse proxies in front of the app set X-Forwarded-For (0: the peer is the client).
    PROXY_HOPS = _env_int("CERTIFY_PROXY_HOPS", 0)
    TOKEN_TTL = timedelta(hours=_env_int("CERTIFY_TOKEN_TTL_HOURS", 12))
    # A check run still queued or running after this long is re-enqueued by the sweep.
    CHECK_RUN_GRACE = timedelta(seconds=_env_int("CERTIFY_CHECK_RUN_GRACE_SECONDS", 120))
    CHECK_RUN_MAX_ATTEMPTS = _env_int("CERTIFY_CHECK_RUN_MAX_ATTEMPTS", 5)
    SWEEP_INTERVAL_SECONDS = _env_int("CERTIFY_SWEEP_INTERVAL_SECONDS", 30)
    # Bounds on one check run: reading one document, and the whole run (Celery's soft limit; the hard one,
    # a minute later, kills the pool process and the attempt cap above ends the run).
    DOCUMENT_READ_SECONDS = _env_int("CERTIFY_DOCUMENT_READ_SECONDS", 30)
    CHECK_RUN_SOFT_SECONDS = _env_int("CERTIFY_CHECK_RUN_SOFT_SECONDS", 120)

    # Sessions: server-checked (session_version), short idle and absolute lifetimes.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = ENV != "development"
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=30)
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_DURATION = timedelta(days=1)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # bound to the session instead, which already expires

    # Bounds on what a request may make the server parse.
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    MAX_FORM_PARTS = 100

    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("CERTIFY_LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("CERTIFY_LOGIN_LIMIT_PER_ADDRESS", "50 per 15 minutes")
    # Roles that must sign in with a TOTP code as well (security checklist 11): unenrolled users of them are sent
    # to enrol before any other page. A comma list; empty turns the requirement off.
    MFA_REQUIRED_ROLES = _env_list("CERTIFY_MFA_REQUIRED_ROLES", "reviewer,auditor,admin")

    # The baseline endpoints `make bench` compares against (certify/bench_baselines.py); never in production.
    BENCH_BASELINES = os.environ.get("CERTIFY_BENCH_BASELINES", "") == "1"


class DevelopmentConfig(Config):
    ENV = "development"
    # The demo accounts of `make run` sign in with their password alone, unless asked otherwise.
    MFA_REQUIRED_ROLES = _env_list("CERTIFY_MFA_REQUIRED_ROLES", "")
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False


class TestConfig(Config):
    """The suite runs against the real services of the machine: PostgreSQL and Redis."""

    ENV = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-for-hmac-0123456789"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("CERTIFY_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/certify_test"))
    BROKER_URL = os.environ.get("CERTIFY_TEST_BROKER_URL", "redis://127.0.0.1:6379/14")
    RATELIMIT_STORAGE_URI = "memory://"
    PUBLIC_URL = "http://certify.test"
    # Most tests sign ministry users in with a password alone; the MFA tests turn the requirement on.
    MFA_REQUIRED_ROLES = ()
