"""Uploads: a large file through the upload endpoint against `sha256sum` on the same file, and the memory a web
worker gains while it takes a file of the size limit.

Both read the same file from the page cache. `sha256sum` is timed by the wall clock around its process; the
upload by curl's own `time_total`, which leaves out the start of the curl process itself (loading libcurl and
its libraries, about 10 ms on the bench machines: no part of the service).
Memory is read from /proc: each gunicorn worker's peak resident set (VmHWM) is reset (clear_refs 5) before the
upload and read after it; the growth is the peak minus the resident set before.
"""
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.client import Client

MIB = 1024 * 1024


def write_file(path: Path, size: int, tag: str) -> Path:
    """`size` bytes of CSV text, different for each tag (the store keeps one copy of equal contents)."""
    header = f"sample,reading,{tag}\n".encode()
    line = b"0123456789abcdef,0123456789abcdef0123456789abcdef0123456789\n"
    body = header + line * ((size - len(header)) // len(line) + 1)
    path.write_bytes(body[:size - 1] + b"\n")
    return path


def sha256sum_seconds(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)
    return time.perf_counter() - started


@dataclass(frozen=True)
class Upload:
    """One upload by `curl`: its own time for the request (`time_total`: from the start of the connection to the
    last byte of the answer, reading the file included), the wall time of the process, and the new document."""

    transfer_seconds: float
    wall_seconds: float
    document: dict


def upload(base_url: str, token: str, batch_id: int, path: Path) -> Upload:
    """`curl` posting the file as multipart (kind, file) to the API."""
    command = ["curl", "-sS", "--fail-with-body", "-H", f"Authorization: Bearer {token}", "-H", "Expect:",
               "-F", "kind=other", "-F", f"file=@{path};type=text/csv", "-w", "\n%{time_total}",
               f"{base_url}/api/v1/batches/{batch_id}/documents"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    body, _, transfer = result.stdout.rpartition(b"\n")
    if result.returncode != 0:
        raise RuntimeError(f"upload of {path.name} failed: {body[:300]!r} {result.stderr[:300]!r}")
    return Upload(float(transfer), elapsed, json.loads(body))


def delete_document(api: Client, batch_id: int, document_id: int) -> None:
    api.request("DELETE", f"/api/v1/batches/{batch_id}/documents/{document_id}", expect=204)


def web_workers(gunicorn_pid: int) -> list[int]:
    children = Path(f"/proc/{gunicorn_pid}/task/{gunicorn_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def reset_peak(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as handle:
        handle.write("5")


def peak_growth_mib(base_url: str, token: str, api: Client, batch_id: int, gunicorn_pid: int, path: Path) -> float:
    """The largest growth of any web worker's peak resident memory while one upload of `path` runs."""
    pids = web_workers(gunicorn_pid)
    before = {}
    for pid in pids:
        reset_peak(pid)
        before[pid] = memory_kib(pid, "VmRSS")
    document = upload(base_url, token, batch_id, path).document
    growth = max(memory_kib(pid, "VmHWM") - before[pid] for pid in pids)
    delete_document(api, batch_id, document["id"])
    return growth / 1024


def warm_up(base_url: str, token: str, api: Client, batch_id: int, directory: Path, gunicorn_pid: int) -> None:
    """Small uploads until every web worker has served some: first-request work is not an upload's cost."""
    for index in range(4 * len(web_workers(gunicorn_pid))):
        path = write_file(directory / f"warm-{index}.csv", MIB, f"warm-{index}-{os.getpid()}")
        delete_document(api, batch_id, upload(base_url, token, batch_id, path).document["id"])
        path.unlink()
