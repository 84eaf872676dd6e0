"""Measurements as bench/results.json holds them, and the table `make bench` prints."""
import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Measurement:
    name: str
    value: float
    baseline: float
    ratio: float
    target: str
    meets: bool
    method: str
    unit: str


def median(values) -> float:
    return statistics.median(values)


def at_least(name: str, value: float, baseline: float, ratio: float, minimum: float, unit: str,
             method: str) -> Measurement:
    return Measurement(name, round(value, 4), round(baseline, 4), round(ratio, 4), f"ratio >= {minimum:g}",
                       ratio >= minimum, method, unit)


def at_most(name: str, value: float, baseline: float, ratio: float, maximum: float, unit: str,
            method: str) -> Measurement:
    return Measurement(name, round(value, 4), round(baseline, 4), round(ratio, 4), f"ratio <= {maximum:g}",
                       ratio <= maximum, method, unit)


def constant_count(name: str, larger: int, smaller: int, limit: int | None, method: str) -> Measurement:
    """Statements per request: the same for the larger case as for the smaller, and within `limit` if any."""
    target = "equal to baseline" + (f" and <= {limit}" if limit is not None else "")
    meets = larger == smaller and (limit is None or larger <= limit)
    return Measurement(name, larger, smaller, round(larger / smaller, 4) if smaller else float("inf"), target, meets,
                       method, "statements per request")


def write(measurements: list[Measurement], path: Path) -> None:
    path.write_text(json.dumps([asdict(m) for m in measurements], indent=2, ensure_ascii=False) + "\n")


def table(measurements: list[Measurement]) -> str:
    rows = [("measurement", "value", "baseline", "ratio", "target", "meets", "unit")]
    for m in measurements:
        rows.append((m.name, f"{m.value:g}", f"{m.baseline:g}", f"{m.ratio:g}", m.target,
                     "yes" if m.meets else "NO", m.unit))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
