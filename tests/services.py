"""The real services the suite runs against: PostgreSQL databases made per session and Celery worker processes."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from config import database_url

PROJECT_DIR = Path(__file__).resolve().parent.parent


def admin_url_for(base_url: str, name: str) -> str:
    """The URL of database `name` on the server of `base_url`."""
    return sa.engine.make_url(database_url(base_url)).set(database=name).render_as_string(hide_password=False)


def _server_engine(base_url: str):
    return sa.create_engine(admin_url_for(base_url, "postgres"), isolation_level="AUTOCOMMIT")


def create_database(base_url: str, name: str) -> None:
    engine = _server_engine(base_url)
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def drop_database(base_url: str, name: str) -> None:
    engine = _server_engine(base_url)
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def die_with_parent() -> None:
    """In the child before exec: ask Linux to stop it when the test run that started it dies, however it dies."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class WorkerProcess:
    """`celery --app workers worker --beat` as a child process, with its log kept for failing tests."""

    def __init__(self, settings: dict, name: str, concurrency: int = 2, beat: bool = True):
        self.settings, self.name, self.concurrency, self.beat = settings, name, concurrency, beat
        self.process: subprocess.Popen | None = None
        self.log_path = Path(settings["CERTIFY_INSTANCE_DIR"]) / f"worker-{name}.log"

    def start(self, timeout: float = 60) -> None:
        env = {**os.environ, **self.settings}
        command = [sys.executable, "-m", "celery", "--app", "workers", "worker", "--loglevel", "INFO",
                   "--concurrency", str(self.concurrency), "--hostname", f"{self.name}@%h",
                   "--without-gossip", "--without-mingle"]
        if self.beat:
            schedule = Path(self.settings["CERTIFY_INSTANCE_DIR"]) / f"beat-{self.name}"
            command += ["--beat", "--schedule", str(schedule)]
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited at start:\n{self.tail()}")
            if b" ready." in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready after {timeout} s:\n{self.tail()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Sends `sig` to the worker and its pool children at once, as a crashed machine would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()

    def pool_processes(self) -> list[int]:
        """The pids of the worker's pool processes (its children; started without beat, nothing else)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server of the tests' own, so stopping it harms nobody else; it keeps nothing on disk."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                                         "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL,
                                        preexec_fn=die_with_parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
