"""The load generator: wrk in a process of its own, driven through bench/report.lua."""
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPORT_SCRIPT = Path(__file__).resolve().parent / "report.lua"
USER_AGENT = "certify-bench"


class LoadError(RuntimeError):
    """A run whose answers were not what the subject should answer: its figure would mean nothing."""


@dataclass(frozen=True)
class Target:
    """One URL under load, with the headers (token, cookie) and body its requests carry."""

    name: str
    url: str
    headers: dict
    method: str = "GET"
    body: bytes | None = None
    expect_status: int = 200


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    latency_p50_ms: float
    latency_mean_ms: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


def wrk(target: Target, seconds: float, threads: int = 2, connections: int = 8) -> Run:
    """Loads the target for `seconds`; refuses the run when any answer had another status or the socket failed."""
    env = {**os.environ, "BENCH_EXPECT_STATUS": str(target.expect_status)}
    env.pop("BENCH_METHOD", None)
    env.pop("BENCH_BODY_FILE", None)
    body_file = None
    if target.method != "GET":
        env["BENCH_METHOD"] = target.method
    if target.body is not None:
        body_file = tempfile.NamedTemporaryFile(prefix="bench-body-", suffix=".json", delete=False)
        body_file.write(target.body)
        body_file.close()
        env["BENCH_BODY_FILE"] = body_file.name
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
               "-s", str(REPORT_SCRIPT), "-H", f"User-Agent: {USER_AGENT}"]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(target.url)
    try:
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    finally:
        if body_file is not None:
            os.unlink(body_file.name)
    line = next((line for line in output.splitlines() if line.startswith("BENCH_JSON ")), None)
    if line is None:
        raise LoadError(f"{target.name}: wrk printed no summary:\n{output}")
    summary = json.loads(line.removeprefix("BENCH_JSON "))
    failures = {name: summary[name] for name in ("unexpected", "connect_errors", "write_errors", "timeouts")
                if summary[name]}
    if failures or not summary["requests"]:
        raise LoadError(f"{target.name}: {failures or 'no requests completed'} (expected status "
                        f"{target.expect_status}) in {summary['requests']} requests")
    return Run(requests=summary["requests"], seconds=summary["duration_us"] / 1e6,
               latency_p50_ms=summary["latency_p50_us"] / 1000, latency_mean_ms=summary["latency_mean_us"] / 1000)
