"""Browser tests' fixtures: a live gunicorn on the session's database and broker, Chromium, signed-in pages."""
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from tests.e2e.browser import CHROMIUM, LAUNCH_ARGS, sign_in, slug
from tests.services import PROJECT_DIR, die_with_parent, free_port

ARTIFACTS_DIR = PROJECT_DIR / "test-artifacts" / "e2e"
STEP = pytest.StashKey[str]()
OPEN_PAGES = pytest.StashKey[list]()


class LiveServer:
    """`gunicorn "certify:create_app()"` as a child process, as production runs it, with its log kept."""

    def __init__(self, settings: dict, port: int, workers: int = 2):
        self.settings, self.port, self.workers = settings, port, workers
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.log_path = Path(settings["CERTIFY_INSTANCE_DIR"]) / f"gunicorn-{port}.log"

    def start(self, timeout: float = 60) -> None:
        command = [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", "certify:create_app()"]
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, cwd=PROJECT_DIR, env={**os.environ, **self.settings},
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.tail()}")
            if self.healthy():
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not healthy after {timeout} s:\n{self.tail()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # gunicorn's arbiter stops its own workers on SIGTERM
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if getattr(self, "log", None):
            self.log.close()

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def live_port():
    return free_port()


@pytest.fixture(scope="session")
def live_settings(app_settings, live_port):
    """The session's settings, with the public URL (the one the certificate's QR code opens) at the live server."""
    return {**app_settings, "CERTIFY_PUBLIC_URL": f"http://127.0.0.1:{live_port}",
            # Login counters of this server's own: repeated runs against the shared Redis never add up to a 429.
            "CERTIFY_RATELIMIT_STORAGE_URL": "memory://"}


@pytest.fixture(scope="session")
def live_server(app, live_settings, live_port):
    """The service on a free port, on the session's database (migrated by `app`), broker and task queue."""
    server = LiveServer(live_settings, live_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_worker(worker, app_settings, live_settings):
    """The session's worker serves the live server too: same database, broker, queue and storage.

    The settings differ only in CERTIFY_PUBLIC_URL, which the web process alone reads (the certificate's URL is
    made when a page or the API renders it), so a second worker process would buy nothing on two cores.
    """
    differing = {name for name in live_settings if live_settings[name] != app_settings.get(name)}
    assert differing <= {"CERTIFY_PUBLIC_URL", "CERTIFY_RATELIMIT_STORAGE_URL"}, differing
    return worker


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def step(request):
    """Records the step a test is at, so that a failure's screenshots say where it broke."""
    request.node.stash[STEP] = "start"

    def at(name: str) -> None:
        request.node.stash[STEP] = name

    return at


@pytest.fixture()
def new_page(request, browser, live_server):
    """A fresh browser context (its own cookies) and page on the live server; `label` names it in screenshots."""
    contexts = []
    request.node.stash[OPEN_PAGES] = []

    def open_page(label: str, locale: str = "en-US"):
        context = browser.new_context(base_url=live_server.url, locale=locale, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        request.node.stash[OPEN_PAGES].append((label, page))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture()
def page_for(new_page):
    """`page_for(email)`: a page of its own for that user, signed in through the real login form (in English)."""

    def signed_in(email: str, locale: str = "en-US"):
        page = new_page(email.split("@")[0], locale)
        sign_in(page, email)
        return page

    return signed_in


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, a screenshot of every open page, named after the test and the step it was at."""
    report = yield
    if report.failed and report.when in ("call", "setup"):
        pages = item.stash.get(OPEN_PAGES, [])
        where = f"{slug(item.name)}-{slug(item.stash.get(STEP, report.when))}"
        for label, page in pages:
            name = f"{where}.png" if len(pages) == 1 else f"{where}-{slug(label)}.png"
            try:
                ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS_DIR / name), full_page=True)
                report.sections.append(("e2e screenshot", f"{ARTIFACTS_DIR / name}  ({page.url})"))
            except (PlaywrightError, OSError) as error:  # a crashed page must not hide the test's own failure
                report.sections.append(("e2e screenshot", f"{name}: not taken: {error}"))
        for name in ("live_server", "live_worker"):
            if name in item.funcargs:
                report.sections.append((f"{name} log", item.funcargs[name].tail()))
    return report
