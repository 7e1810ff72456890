"""One table of every benchmark's ratios against its goal (issue 17), from the result files.

    .venv/bin/python -m bench.summary      # the table of the results already in bench/results

Each benchmark writes its own ``bench/results/<name>.json``; a small adapter per benchmark
below turns that document into rows (measure, now, goal, met?). When a benchmark changes what
it writes, only its adapter changes. ``python -m bench`` (``make bench``) runs the benchmarks,
then writes ``bench/results/summary.json`` and prints this table.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Row:
    benchmark: str
    measure: str
    now: float | None
    goal: str
    """"≥ 0.8", "≤ 1.5", "< 1000": the comparison and its bound."""
    met: bool | None
    """None when the figure is missing (the benchmark failed or did not write it)."""
    unit: str = "×"


def _check(value: float | None, goal: str) -> bool | None:
    if value is None:
        return None
    op, bound = goal.split()
    limit = float(bound)
    return {
        "≥": value >= limit,
        "≤": value <= limit,
        "<": value < limit,
        ">": value > limit,
    }[op]


def _row(benchmark: str, measure: str, value: Any, goal: str, unit: str = "×") -> Row:
    number = None if value is None else float(value)
    return Row(benchmark, measure, number, goal, _check(number, goal), unit)


def _get(document: dict[str, Any], *path: str) -> Any:
    found: Any = document
    for key in path:
        if not isinstance(found, dict) or key not in found:
            return None
        found = found[key]
    return found


# --- One adapter per benchmark: its result document → rows ----------------------------------


def intake_acceptance(d: dict[str, Any]) -> list[Row]:
    rows = []
    for level in d.get("levels", []):
        clients = level.get("clients")
        rows.append(
            _row(
                "intake_acceptance",
                f"intake accepted/s vs bare FastAPI+asyncpg, {clients} clients",
                level.get("throughput_ratio"),
                "≥ 0.8",
            )
        )
    return rows or [_row("intake_acceptance", "intake accepted/s vs bare", None, "≥ 0.8")]


def routing_e2e(d: dict[str, Any]) -> list[Row]:
    return [
        _row(
            "routing_e2e",
            "complaint path throughput vs empty workflow",
            d.get("throughput_ratio"),
            "≥ 0.7",
        ),
        _row("routing_e2e", "complaint path p50 vs empty workflow", d.get("p50_ratio"), "≤ 1.5"),
    ]


def registry_import(d: dict[str, Any]) -> list[Row]:
    copy = d.get("plain_copy_seconds")
    reimport = d.get("reimport_seconds")
    rows = d.get("rows")
    size = f" ({rows:,} rows)" if isinstance(rows, int) else ""
    return [
        _row(
            "registry_import",
            f"import time vs plain COPY{size}",
            d.get("import_time_ratio_to_plain_copy"),
            "≤ 5",
        ),
        _row(
            "registry_import",
            f"no-op re-import time vs plain COPY{size}",
            d.get("reimport_time_ratio_to_plain_copy")
            or (round(reimport / copy, 2) if reimport and copy else None),
            "≤ 2",
        ),
    ]


def registry_lookup(d: dict[str, Any]) -> list[Row]:
    # The goal's baseline is a bare FastAPI endpoint doing the same query over HTTP; results
    # from before it existed (no ``bare_fastapi_http``) compared with the raw query.
    against = "bare FastAPI" if "bare_fastapi_http" in d else "raw query"
    return [
        _row("registry_lookup", f"NIK lookup p50 vs {against}", d.get("p50_ratio"), "≤ 1.5"),
        _row("registry_lookup", f"NIK lookup p99 vs {against}", d.get("p99_ratio"), "≤ 2"),
    ]


def dashboard_national(d: dict[str, Any]) -> list[Row]:
    complaints = d.get("complaints")
    size = f" ({complaints:,} complaints)" if isinstance(complaints, int) else ""
    return [
        _row(
            "dashboard_national",
            f"national page p95{size}",
            _get(d, "national_page", "p95_ms"),
            "< 1000",
            "ms",
        ),
        _row(
            "dashboard_national",
            f"district drill-down p95{size}",
            _get(d, "district_page", "p95_ms"),
            "< 300",
            "ms",
        ),
    ]


ADAPTERS: dict[str, tuple[str, Callable[[dict[str, Any]], list[Row]]]] = {
    # benchmark: (result file pattern in bench/results, adapter)
    "intake_acceptance": ("intake_acceptance.json", intake_acceptance),
    "routing_e2e": ("routing_e2e.json", routing_e2e),
    "registry_import": ("registry_import_*.json", registry_import),
    "registry_lookup": ("registry_lookup_*.json", registry_lookup),
    "dashboard_national": ("dashboard_national.json", dashboard_national),
}


def latest(pattern: str, results: Path = RESULTS) -> dict[str, Any] | None:
    """The newest result matching ``pattern`` (by its ``measured_at``)."""
    found = []
    for path in results.glob(pattern):
        try:
            document = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        document["_file"] = path.name
        found.append(document)
    return max(found, key=lambda d: str(d.get("measured_at", "")), default=None)


def build(
    documents: dict[str, dict[str, Any] | None], since: str | None = None
) -> tuple[list[Row], dict[str, dict[str, Any]]]:
    """Rows of every benchmark and, per benchmark, where its figures came from. A document
    measured before ``since`` (an ISO time: this run's start) is stale: its rows are not met."""
    rows: list[Row] = []
    sources: dict[str, dict[str, Any]] = {}
    for name, (_, adapter) in ADAPTERS.items():
        document = documents.get(name)
        stale = (
            document is not None
            and since is not None
            and (str(document.get("measured_at", "")) < since)
        )
        sources[name] = {
            "file": document.get("_file") if document else None,
            "measured_at": document.get("measured_at") if document else None,
            "stale": stale,
        }
        produced = adapter(document or {})
        if stale or document is None:
            produced = [Row(r.benchmark, r.measure, None, r.goal, None, r.unit) for r in produced]
        rows.extend(produced)
    return rows, sources


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:,.0f} ms"
    return f"{value:.2f}×"


def table(rows: list[Row]) -> str:
    header = ("measure", "now", "goal", "met?")
    lines = [
        (
            r.measure,
            _format(r.now, r.unit),
            f"{r.goal} ms" if r.unit == "ms" else f"{r.goal}×",
            "—" if r.met is None else "yes" if r.met else "no",
        )
        for r in rows
    ]
    widths = [max(len(x[i]) for x in [header, *lines]) for i in range(4)]

    def fmt(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join(
        [fmt(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(fmt, lines)]
    )


def write(
    rows: list[Row],
    sources: dict[str, dict[str, Any]],
    runs: dict[str, dict[str, Any]] | None = None,
    results: Path = RESULTS,
    total_seconds: float | None = None,
) -> Path:
    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "total_seconds": total_seconds,
        "load_average_1_5_15": list(os.getloadavg()),
        "cpus": os.cpu_count(),
        "runs": runs or {},
        "sources": sources,
        "rows": [asdict(r) for r in rows],
        "met": sum(1 for r in rows if r.met),
        "measures": len(rows),
    }
    results.mkdir(exist_ok=True)
    out = results / "summary.json"
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return out


def main() -> int:
    documents = {name: latest(pattern) for name, (pattern, _) in ADAPTERS.items()}
    rows, _ = build(documents)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
