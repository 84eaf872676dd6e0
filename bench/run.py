"""The measurements of `make bench` (BENCHMARKS.md), against gunicorn and two Celery workers started by
bench/run.sh; every figure is a ratio against a baseline measured in this same run.

    python -m bench.run --output bench/results.json

Reads the service's CERTIFY_* settings (the bench's own app process uses them too) and BENCH_BASE_URL,
BENCH_GUNICORN_PID, BENCH_WORKER_NAMES; BENCH_DURATION (seconds per load run, default 5), BENCH_ROUNDS
(default 4) and BENCH_PIPELINE_BATCHES (default 1000) tune it.
"""
import argparse
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import exists, func, select

from bench import fixtures, issue, pipeline, uploads
from bench.client import Client
from bench.loadgen import Target, wrk
from bench.results import Measurement, at_least, at_most, constant_count, median, table, write
from bench.statements import StatementCounter
from certify import create_app
from certify.api.parsing import encode_cursor
from certify.domain.facts import REQUIRED_DOCUMENT_KINDS
from certify.extensions import db
from certify.models import Batch, Certificate, Document, User
from certify.services.certificates import document_json
from certify.storage import document_store

STARTED = time.monotonic()
KEYSET_PAGE = 2000
# Past the seed's recent weeks (about 4,000 batches at 100,000): old batches, like those of page 2,000.
CONTROL_PAGE = 100
LIST_PAGE = 50
# Keyset pages: runs of a second (wrk takes whole seconds) in BENCH_ROUNDS times this many rounds.
KEYSET_SECONDS = 1
KEYSET_ROUNDS_PER_ROUND = 4
UPLOAD_MIB, MEMORY_UPLOAD_MIB = 20, 25
UPLOAD_PAIRS = 9
# The pipeline's batches in this many parts, each between two floor runs.
PIPELINE_ROUNDS = 4
# Check runs of the bench's own batches before any is timed, as the floor is warmed by floor tasks: a worker's first
# runs prepare the run's statements on its connections (psycopg prepares a statement at its fifth execution) and fill
# its caches; in a fresh process the first ten runs took about half as long again as the ninety after them.
PIPELINE_WARM_UP_RUNS = 20


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages: other work on these 2 cores shows in every figure."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self):
        self.base_url = os.environ["BENCH_BASE_URL"]
        self.duration = float(os.environ.get("BENCH_DURATION", "5"))
        self.rounds = int(os.environ.get("BENCH_ROUNDS", "4"))
        self.pipeline_batches = int(os.environ.get("BENCH_PIPELINE_BATCHES", 1000))
        self.gunicorn_pid = int(os.environ["BENCH_GUNICORN_PID"])
        self.app = create_app()
        self.workers = pipeline.Workers(self.app, os.environ["BENCH_WORKER_NAMES"].split(","))
        self.measurements: list[Measurement] = []
        self.scratch = Path(tempfile.mkdtemp(prefix="certify-bench-"))

    def add(self, measurement: Measurement) -> None:
        self.measurements.append(measurement)
        log(f"{measurement.name}: {measurement.value:g} vs {measurement.baseline:g} -> ratio {measurement.ratio:g} "
            f"({measurement.target}: {'meets' if measurement.meets else 'MISSES'})")

    # Set-up

    def prepare(self) -> None:
        with self.app.app_context():
            self.batch_count = db.session.scalar(select(func.count()).select_from(Batch))
            self.sessions = fixtures.sign_in_seeded_accounts(self.base_url)
            self.company, applicant, self.own_password = fixtures.bench_company(self.base_url)
            self.own_applicant_id, self.own_email = applicant.id, applicant.email
            self.seeded_applicant_id = fixtures.seeded_user(fixtures.SEED_EMAILS["applicant"]).id
            certificate = db.session.scalar(select(Certificate).where(Certificate.status == "valid")
                                            .order_by(Certificate.id.desc()).limit(1))
            if certificate is None:
                raise SystemExit("the seeded database holds no valid certificate to verify")
            self.certificate = (certificate.number, certificate.verification_code)
            self.certificate_document = document_json(certificate)
            ready = self.seeded_ready_drafts(self.seeded_applicant_id, self.pipeline_batches)
            db.session.remove()
        log(f"{self.batch_count:,} batches in the database; {len(ready)} seeded drafts ready for the pipeline")
        self.pipeline_ids = [(self.seeded_applicant_id, batch_id) for batch_id in ready]
        missing = self.pipeline_batches - len(ready)
        if missing > 0:
            log(f"creating {missing} more ready batches through the API")
            self.pipeline_ids += [(self.own_applicant_id, batch_id)
                                  for batch_id in self.company.ready_batches(missing, "P")]
        self.upload_batch = self.company.ready_batch("upload")
        self.small_batch = self.company.ready_batch("small", inputs=1)
        self.large_batch = self.company.ready_batch("large", inputs=6, extra_documents=9)
        log("set-up done")

    def seeded_ready_drafts(self, applicant_id: int, limit: int) -> list[int]:
        """The seeded applicant's drafts holding every required kind of document, with their files in the store."""
        company_id = db.session.get(User, applicant_id).company_id
        statement = select(Batch.id).where(Batch.company_id == company_id, Batch.status == "draft")
        for kind in REQUIRED_DOCUMENT_KINDS:
            statement = statement.where(exists().where(Document.batch_id == Batch.id, Document.kind == kind))
        candidates = db.session.scalars(statement.order_by(Batch.id).limit(limit)).all()
        store = document_store()
        missing_files = {batch_id for batch_id, sha256 in db.session.execute(
            select(Document.batch_id, Document.sha256).where(Document.batch_id.in_(candidates)))
            if not store.path_for(sha256).exists()}
        return [batch_id for batch_id in candidates if batch_id not in missing_files]

    # Throughput under load: list pages against select50, public verification against constant JSON

    def throughput(self) -> None:
        number, code = self.certificate
        bearer = {"Authorization": f"Bearer {self.sessions.reviewer_token}"}

        def page(name, path, browser):
            return Target(name, self.base_url + path, {"Cookie": browser.cookie_header()})

        select50 = Target("select50", self.base_url + "/bench/baseline/select50", {})
        constant = Target("constant", self.base_url + "/bench/baseline/constant", {})
        lists = [
            (Target("api_batch_list", self.base_url + "/api/v1/batches", bearer), 0.5,
             "GET /api/v1/batches (reviewer token, first page of 50, every batch visible)"),
            (page("html_applicant_batch_list", "/batches", self.sessions.applicant_browser), 0.33,
             "GET /batches (the seeded applicant's batch list, first page)"),
            (page("html_review_queue", "/review/", self.sessions.reviewer_browser), 0.33,
             "GET /review/ (the reviewer's queue, first page)"),
            (page("html_audit_certificate_search", "/audit/certificates", self.sessions.auditor_browser), 0.33,
             "GET /audit/certificates (the auditor's certificate search, no filter, first page)"),
        ]
        public = [
            (Target("public_certificate_lookup", f"{self.base_url}/api/v1/public/certificates/{number}?code={code}",
                    {}), 0.5, "GET /api/v1/public/certificates/<number>?code=<code>"),
            (Target("public_verify_page", f"{self.base_url}/verify/{number}?code={code}", {}), 0.5,
             "GET /verify/<number>?code=<code> (the page the QR code opens)"),
            (Target("public_signature_verify", self.base_url + "/api/v1/public/verify", {}, method="POST",
                    body=json.dumps(self.certificate_document).encode()), 0.5,
             "POST /api/v1/public/verify with a seeded certificate document (Ed25519 check + status)"),
        ]
        targets = [select50, constant] + [target for target, _, _ in lists + public]
        self.check_answers(targets)
        for target in targets:
            wrk(target, 2)  # warm every worker on every page
        runs: dict[str, list[list[float]]] = defaultdict(list)
        for round_number in range(self.rounds):
            log(f"load round {round_number + 1} of {self.rounds}")
            for baseline, subjects in ((select50, lists), (constant, public)):
                # B S1 B S2 B ... B: the machine's pace drifts within seconds, so each subject is set against the
                # baseline runs just before and just after it.
                before = wrk(baseline, self.duration).throughput
                for target, _, _ in subjects:
                    subject = wrk(target, self.duration).throughput
                    after = wrk(baseline, self.duration).throughput
                    runs[target.name].append([subject, (before + after) / 2])
                    before = after
        load = (f"wrk -t2 -c8, {self.duration:g} s a run, {self.rounds} rounds; each round loads the baseline, then "
                f"each subject followed by the baseline again; ratio = median over rounds of subject / mean of the "
                f"baseline runs just before and after it; value and baseline in requests/s (medians)")
        for subjects, baseline in ((lists, "GET /bench/baseline/select50 (one indexed SELECT of 50 batch rows as "
                                           "JSON)"),
                                   (public, "GET /bench/baseline/constant (constant JSON)")):
            for target, minimum, what in subjects:
                pairs = runs[target.name]
                self.add(at_least(
                    f"throughput.{target.name}", median([s for s, _ in pairs]), median([b for _, b in pairs]),
                    median([s / b for s, b in pairs]), minimum, "requests/s",
                    f"{what} against {baseline}, the same gunicorn (2 sync workers); {load}; "
                    f"ratios by round {', '.join(f'{s / b:.3f}' for s, b in pairs)}; "
                    f"{self.batch_count:,} batches in the database"))

    def check_answers(self, targets: list[Target]) -> None:
        """One request to each target before loading it: the right status and a body, not a sign-in page."""
        for target in targets:
            client = Client(self.base_url, target.headers)
            path = target.url[len(self.base_url):]
            response = client.request(target.method, path, body=target.body,
                                      headers={"Content-Type": "application/json"} if target.body else None)
            if response.status != target.expect_status or not response.body:
                raise SystemExit(f"{target.name}: {response.status} {response.text[:300]}")
            if target.name == "public_signature_verify" and not response.json().get("valid_signature"):
                raise SystemExit(f"the seeded certificate does not verify: {response.text[:300]}")

    # Keyset pagination: the 2,000th page against the first

    def keyset(self) -> None:
        """Page 2,000 against page 1, and against page 100 (old batches too: the same kind of rows, near the top)."""
        pages = min(KEYSET_PAGE, self.batch_count // LIST_PAGE)
        control_page = max(2, min(CONTROL_PAGE, pages // 20))
        bearer = {"Authorization": f"Bearer {self.sessions.reviewer_token}"}
        api = Client(self.base_url, bearer)
        targets, sizes = {}, {}
        for page in (1, control_page, pages):
            path = f"/api/v1/batches?limit={LIST_PAGE}"
            if page > 1:
                with self.app.app_context():
                    last_of_previous = db.session.scalar(select(Batch.id).order_by(Batch.id.desc())
                                                         .offset((page - 1) * LIST_PAGE - 1).limit(1))
                    db.session.remove()
                path += f"&cursor={encode_cursor(last_of_previous)}"
            answer = api.get(path, expect=200)
            if len(answer.json()["items"]) != LIST_PAGE:
                raise SystemExit(f"page {page} holds {len(answer.json()['items'])} batches, not {LIST_PAGE}")
            sizes[page] = len(answer.body) / 1024
            targets[page] = Target(f"keyset_page_{page}", self.base_url + path, bearer)
            wrk(targets[page], 2, threads=1, connections=1)
        # The pages are loaded one after another in short runs, many rounds, and each round's pages are compared
        # with each other: the machine's pace drifts within seconds (two 4 s runs of one page in a row were seen
        # 20 % apart), so only latencies measured seconds apart are set against each other.
        latencies = defaultdict(list)
        rounds = KEYSET_ROUNDS_PER_ROUND * self.rounds
        order = list(targets)
        for round_number in range(rounds):
            for page in order[round_number % len(order):] + order[:round_number % len(order)]:
                latencies[page].append(wrk(targets[page], KEYSET_SECONDS, threads=1, connections=1).latency_p50_ms)
        method = (f"GET /api/v1/batches?limit=50 (reviewer token), the cursor built as the API builds it (from the "
                  f"id ending the page before) and each page checked to hold 50 batches; wrk -t1 -c1, "
                  f"{KEYSET_SECONDS:g} s a run, {rounds} rounds, each loading the three pages one after another in "
                  f"an order rotating by round; ratio = median over rounds of the round's ratio of median latencies; "
                  f"{self.batch_count:,} batches in the database; bodies: page 1 {sizes[1]:.0f} KiB, page "
                  f"{control_page} {sizes[control_page]:.0f} KiB, page {pages} {sizes[pages]:.0f} KiB")

        def by_round(page, against):
            ratios = [deep / other for deep, other in zip(latencies[page], latencies[against])]
            return median(ratios), f"ratios by round {', '.join(f'{ratio:.3f}' for ratio in ratios)}"

        deep, first, control = (median(latencies[page]) for page in (pages, 1, control_page))
        ratio, rounds_line = by_round(pages, 1)
        self.add(at_most(
            f"latency.keyset_page_{pages}_vs_first", deep, first, ratio, 1.2, "ms (median latency)",
            f"page {pages} against page 1 (the newest batches: drafts and batches in review, lighter than old "
            f"approved ones, so content differs as well as depth); {method}; {rounds_line}"))
        ratio, rounds_line = by_round(pages, control_page)
        self.add(at_most(
            f"latency.keyset_page_{pages}_vs_page_{control_page}", deep, control, ratio, 1.2,
            "ms (median latency)",
            f"a control for depth alone: page {pages} against page {control_page}, both of batches older than the "
            f"seed's recent weeks (mostly approved, with their checks, decisions and certificate); {method}; "
            f"{rounds_line}"))

    # Uploads

    def uploads(self) -> None:
        token = self.company.api.headers["Authorization"].removeprefix("Bearer ")
        api, batch_id = self.company.api, self.upload_batch
        uploads.warm_up(self.base_url, token, api, batch_id, self.scratch, self.gunicorn_pid)
        size = UPLOAD_MIB * uploads.MIB
        upload_times, hash_times, upload_wall_times = [], [], []
        for index in range(max(self.rounds, UPLOAD_PAIRS)):
            path = uploads.write_file(self.scratch / f"upload-{index}.csv", size, f"upload-{index}-{os.getpid()}")
            uploads.sha256sum_seconds(path)  # into the page cache, for both
            pair = [(hash_times, lambda: uploads.sha256sum_seconds(path)),
                    (upload_times, lambda: self.timed_upload(token, batch_id, path, upload_wall_times))]
            for times, measure in (pair if index % 2 == 0 else reversed(pair)):
                times.append(measure())
            path.unlink()
        upload_rate, hash_rate = UPLOAD_MIB / median(upload_times), UPLOAD_MIB / median(hash_times)
        # Each upload against the sha256sum of its own pair, measured a moment apart (rate ratio = time ratio).
        pair_ratios = [hashed / uploaded for hashed, uploaded in zip(hash_times, upload_times)]
        self.add(at_least(
            "throughput.upload_20mb_vs_sha256sum", upload_rate, hash_rate, median(pair_ratios), 0.5, "MiB/s",
            f"a {UPLOAD_MIB} MiB CSV file posted with curl (multipart, Bearer token) to POST "
            f"/api/v1/batches/<id>/documents against `sha256sum` of the same file, both from the page cache; "
            f"curl's own time_total (connection to the last byte of the answer; the wall time of the curl process, "
            f"its start included, was {median(upload_wall_times) * 1000:.0f} ms against "
            f"{median(upload_times) * 1000:.0f}) against the wall time of the sha256sum process; "
            f"{len(upload_times)} pairs, in alternating order, a new file each pair; value and baseline are medians, "
            f"ratio = median over pairs of the pair's ratio (ratios by pair "
            f"{', '.join(f'{ratio:.3f}' for ratio in pair_ratios)})"))
        growths = []
        for index in range(3):
            path = uploads.write_file(self.scratch / f"memory-{index}.csv", MEMORY_UPLOAD_MIB * uploads.MIB,
                                      f"memory-{index}-{os.getpid()}")
            growths.append(uploads.peak_growth_mib(self.base_url, token, api, batch_id, self.gunicorn_pid, path))
            path.unlink()
        self.add(Measurement(
            "memory.upload_25mb_peak_rss_growth", round(max(growths), 2), 0.0, round(max(growths), 2), "<= 10 MiB",
            max(growths) <= 10, f"peak resident memory (VmHWM, reset with clear_refs before each upload) minus "
                                f"resident memory before, of the gunicorn worker that took a {MEMORY_UPLOAD_MIB} MiB "
                                f"upload; largest of 3 uploads (each: {', '.join(f'{g:.2f}' for g in growths)} MiB); "
                                f"baseline 0 = no growth, ratio = the growth itself", "MiB"))

    def timed_upload(self, token: str, batch_id: int, path: Path, wall_times: list[float]) -> float:
        upload = uploads.upload(self.base_url, token, batch_id, path)
        uploads.delete_document(self.company.api, batch_id, upload.document["id"])
        wall_times.append(upload.wall_seconds)
        return upload.transfer_seconds

    # The check pipeline against the Celery floor

    def pipeline(self) -> None:
        """The ready batches in PIPELINE_ROUNDS parts, each checked between two floor runs over as many tasks (F P F
        P … F): the machine's pace drifts during a run, and each part is compared with the floors on either side."""
        self.workers.wait_until_ready()
        batch_ids = [batch_id for _, batch_id in self.pipeline_ids]
        pipeline.floor_seconds(self.app, self.workers, batch_ids[:100])  # warm both workers
        warm_up = self.company.ready_batches(PIPELINE_WARM_UP_RUNS, "W")
        pipeline.pipeline_seconds(self.app, self.workers, {self.own_applicant_id: warm_up})
        size = len(self.pipeline_ids) // PIPELINE_ROUNDS
        parts = [self.pipeline_ids[index * size:(index + 1) * size] for index in range(PIPELINE_ROUNDS)]
        floors = [pipeline.floor_seconds(self.app, self.workers, batch_ids[:size])]
        log(f"floor: {floors[-1]:.2f} s for {size} tasks")
        runs = []
        for part in parts:
            by_applicant = defaultdict(list)
            for applicant_id, batch_id in part:
                by_applicant[applicant_id].append(batch_id)
            runs.append(pipeline.pipeline_seconds(self.app, self.workers, by_applicant))
            log(f"pipeline: {runs[-1]:.2f} s for {size} check runs")
            floors.append(pipeline.floor_seconds(self.app, self.workers, [batch_id for _, batch_id in part]))
            log(f"floor: {floors[-1]:.2f} s for {size} tasks")
        count = size * PIPELINE_ROUNDS
        floor_seconds = sum((before + after) / 2 for before, after in itertools.pairwise(floors))
        rate, floor_rate = count / sum(runs), count / floor_seconds
        # As for the pages under load: each part against the floors just before and after it, and the median of
        # these, so that a slow stretch of the machine during one part or one floor does not decide the figure.
        round_ratios = [(before + after) / 2 / seconds
                        for (before, after), seconds in zip(itertools.pairwise(floors), runs)]
        checked = [batch_id for part in parts for _, batch_id in part]
        with self.app.app_context():
            outcomes = dict(db.session.execute(select(Batch.status, func.count()).where(Batch.id.in_(checked))
                                               .group_by(Batch.status)).all())
            db.session.remove()
        self.add(at_least(
            "throughput.check_pipeline_vs_celery_floor", rate, floor_rate, median(round_ratios), 0.25, "batches/s",
            f"{count} ready drafts in {PIPELINE_ROUNDS} parts of {size}, each submitted (through the submit service, "
            f"as the API does) while both workers (2 processes, concurrency 1 each) held off the queue, then timed "
            f"from their release until none of its runs was queued; every part between two floor runs of {size} "
            f"tasks on the same workers (workers/bench_tasks.py: read the batch row, count done in Redis), queued and "
            f"released the same way; both workers first warmed with 100 floor tasks and {PIPELINE_WARM_UP_RUNS} check "
            f"runs of the bench's own batches; ratio = median over parts of the floors' mean on either side / the "
            f"part; value and baseline are the rates over all parts (the baseline from each part's mean of the floors "
            f"on either side, summed) (floors {', '.join(f'{f:.2f}' for f in floors)} s; parts "
            f"{', '.join(f'{r:.2f}' for r in runs)} s; ratios by part {', '.join(f'{r:.3f}' for r in round_ratios)}); "
            f"both watched every "
            f"{pipeline.POLL_SECONDS * 1000:.0f} ms; outcomes {dict(sorted(outcomes.items()))}"))

    # SQL statements per request

    def statements(self) -> None:
        self.submit_probe_batches()
        counter = StatementCounter(self.app)
        token = self.sessions.reviewer_token
        own_token = self.company.api.headers["Authorization"].removeprefix("Bearer ")
        with self.app.app_context():
            applicant_company = db.session.get(User, self.seeded_applicant_id).company_id
            applicant_ids = db.session.scalars(select(Batch.id).where(Batch.company_id == applicant_company)
                                               .order_by(Batch.id).limit(3)).all()
            queue_ids = db.session.scalars(select(Batch.id).where(Batch.status == "awaiting_review")
                                           .order_by(Batch.submitted_at.desc(), Batch.id.desc()).limit(4)).all()
            db.session.remove()
        lists = [
            ("api_batch_list", "/api/v1/batches?limit=50", "/api/v1/batches?limit=5", {"token": token},
             "limit=50 against limit=5"),
            ("html_applicant_batch_list", "/batches", f"/batches?before={applicant_ids[-1]}",
             {"browser": self.sessions.applicant_browser}, "the first page (50) against the last (2 rows)"),
            ("html_review_queue", "/review/", f"/review/?after={queue_ids[-1]}",
             {"browser": self.sessions.reviewer_browser}, "the first page (50) against the last (3 rows)"),
            ("html_audit_certificate_search", "/audit/certificates?limit=50", "/audit/certificates?limit=5",
             {"browser": self.sessions.auditor_browser}, "limit=50 against limit=5"),
        ]
        for name, larger, smaller, auth, what in lists:
            self.add(constant_count(
                f"statements.{name}", counter.count(larger, **auth), counter.count(smaller, **auth), 10,
                f"GET {larger.split('?')[0]}: {what}; statements counted with SQLAlchemy's before_cursor_execute "
                f"in the bench's process (Flask test client, the same database, the caller's real token or "
                f"session cookie), second of two identical requests; {self.batch_count:,} batches in the database"))
        small, large = self.small_batch, self.large_batch
        pages = [
            ("api_batch", "/api/v1/batches/{}", {"token": own_token}),
            ("html_applicant_batch", "/batches/{}", {"browser": self.applicant_browser_of_own_company()}),
            ("html_review_batch", "/review/batches/{}", {"browser": self.sessions.reviewer_browser}),
            ("html_audit_batch", "/audit/batches/{}", {"browser": self.sessions.auditor_browser}),
        ]
        for name, path, auth in pages:
            self.add(constant_count(
                f"statements.{name}", counter.count(path.format(large), **auth),
                counter.count(path.format(small), **auth), None,
                f"GET {path.format('<id>')}: a checked batch with 6 inputs and 12 documents against one with 1 input "
                f"and 3 documents (both with their 14 check results); counted as above"))

    def applicant_browser_of_own_company(self) -> Client:
        if not hasattr(self, "own_browser"):
            self.own_browser = fixtures.browser_session(self.base_url, self.own_email, self.own_password)
        return self.own_browser

    def submit_probe_batches(self) -> None:
        for batch_id in (self.small_batch, self.large_batch):
            self.company.api.request("POST", f"/api/v1/batches/{batch_id}/submit", expect=202)
        deadline = time.monotonic() + 300
        for batch_id in (self.small_batch, self.large_batch):
            while self.company.api.get(f"/api/v1/batches/{batch_id}", expect=200).json()["status"] == "checking":
                if time.monotonic() > deadline:
                    raise SystemExit(f"batch {batch_id} was not checked in 5 minutes")
                time.sleep(0.2)

    # Certificate issue against a minimal PDF with a QR code

    def certificate_issue(self) -> None:
        repeats = max(10 * self.rounds, 20)
        number, code = self.certificate
        url = f"{self.app.config['PUBLIC_URL']}/verify/{number}?code={code}"
        with self.app.app_context():
            from certify.certificate_pdf import _korean_font

            font = _korean_font()
            subject, baseline = issue.median_seconds(self.certificate_document["certificate"], url, repeats)
            db.session.remove()
        self.add(at_most(
            "time.certificate_issue_vs_minimal_pdf", subject * 1000, baseline * 1000, subject / baseline, 2.0, "ms",
            f"in one process: sign the certificate member of a seeded certificate (Ed25519, the service's keyring), "
            f"its verification code, and render its PDF with the QR code (certify/certificate_pdf.py; font "
            f"{font.regular}{', embedded' if font.embedded else ', not embedded'}) against a one-page reportlab "
            f"canvas with three lines of Helvetica and a segno QR code of the same URL (bench/issue.py); "
            f"{repeats} alternating runs after a warm-up, medians"))

    def run(self, output: Path, only: set[str]) -> int:
        log(f"bench against {self.base_url}; load average {load_average()}")
        try:
            self.prepare()
            for name in SECTIONS:
                if not only or name in only:
                    getattr(self, name)()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)  # the upload files, deleted one by one, and their folder
        log(f"done; load average {load_average()}")
        print(table(self.measurements))
        write(self.measurements, output)
        misses = [m.name for m in self.measurements if not m.meets]
        print(f"\n{len(self.measurements) - len(misses)} of {len(self.measurements)} targets met"
              + (f"; missed: {', '.join(misses)}" if misses else ""))
        print(f"written to {output}")
        return 0


# The parts of the bench in the order they run; BENCH_ONLY names some of them for a quicker look at one figure.
SECTIONS = ("throughput", "keyset", "uploads", "pipeline", "statements", "certificate_issue")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("bench/results.json"))
    args = parser.parse_args()
    only = {name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip()}
    if unknown := only - set(SECTIONS):
        parser.error(f"BENCH_ONLY names unknown parts {sorted(unknown)}; the parts are {', '.join(SECTIONS)}")
    return Bench().run(args.output, only)


if __name__ == "__main__":
    sys.exit(main())
