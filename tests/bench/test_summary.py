"""The `make bench` table, built from recorded result documents (no benchmark is run here, and
no time is asserted: only how figures become rows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import summary

pytestmark = pytest.mark.unit

RECORDED: dict[str, dict[str, Any]] = {
    "intake_acceptance": {
        "benchmark": "intake_acceptance",
        "measured_at": "2026-11-28T01:15:30+00:00",
        "levels": [
            {"clients": 16, "throughput_ratio": 0.522, "p50_ratio": 3.14},
            {"clients": 64, "throughput_ratio": 0.85, "p50_ratio": 2.41},
        ],
    },
    "routing_e2e": {
        "benchmark": "routing_e2e",
        "measured_at": "2026-11-28T01:13:49+00:00",
        "throughput_ratio": 0.41,
        "p50_ratio": 2.31,
    },
    "registry_import": {
        "benchmark": "registry_import_1m",
        "measured_at": "2026-11-28T01:03:42+00:00",
        "rows": 1000003,
        "plain_copy_seconds": 3.95,
        "import_time_ratio_to_plain_copy": 82.85,
        "reimport_seconds": 188.89,
    },
    "registry_lookup": {
        "benchmark": "registry_lookup_1m",
        "measured_at": "2026-11-28T01:07:15+00:00",
        "p50_ratio": 53.7,
        "p99_ratio": 86.3,
    },
    "dashboard_national": {
        "benchmark": "dashboard_national",
        "measured_at": "2026-11-30T04:15:19+00:00",
        "complaints": 1000000,
        "national_page": {"p50_ms": 541.1, "p95_ms": 737.3},
        "district_page": {"p50_ms": 27.8, "p95_ms": 349.0},
    },
}


def test_every_benchmark_becomes_rows_against_its_goal() -> None:
    rows, sources = summary.build({**RECORDED})
    found = {(r.benchmark, r.measure): r for r in rows}
    assert len(rows) == 10
    intake16 = found[("intake_acceptance", "intake accepted/s vs bare FastAPI+asyncpg, 16 clients")]
    assert (intake16.now, intake16.goal, intake16.met) == (0.522, "≥ 0.8", False)
    intake64 = found[("intake_acceptance", "intake accepted/s vs bare FastAPI+asyncpg, 64 clients")]
    assert intake64.met is True
    reimport = found[("registry_import", "no-op re-import time vs plain COPY (1,000,003 rows)")]
    assert reimport.now == pytest.approx(47.82)
    assert reimport.met is False
    national = found[("dashboard_national", "national page p95 (1,000,000 complaints)")]
    assert (national.now, national.unit, national.met) == (737.3, "ms", True)
    district = found[("dashboard_national", "district drill-down p95 (1,000,000 complaints)")]
    assert district.met is False
    assert not any(s["stale"] for s in sources.values())


def test_a_result_older_than_the_run_or_missing_shows_no_figure() -> None:
    documents: dict[str, dict[str, Any] | None] = {**RECORDED}
    documents["routing_e2e"] = None
    rows, sources = summary.build(documents, since="2026-11-29T00:00:00+00:00")
    by_benchmark = {r.benchmark: r for r in rows}
    assert by_benchmark["routing_e2e"].now is None
    assert by_benchmark["routing_e2e"].met is None
    assert by_benchmark["registry_lookup"].now is None  # measured before the run: stale
    assert sources["registry_lookup"]["stale"] is True
    assert by_benchmark["dashboard_national"].now is not None


def test_the_table_and_the_summary_file(tmp_path: Path) -> None:
    for name, document in RECORDED.items():
        file = f"{name}_1m.json" if name.startswith("registry") else f"{name}.json"
        (tmp_path / file).write_text(json.dumps(document))
    documents = {
        name: summary.latest(pattern, tmp_path) for name, (pattern, _) in summary.ADAPTERS.items()
    }
    rows, sources = summary.build(documents)
    text = summary.table(rows)
    lines = text.splitlines()
    assert [c.strip() for c in lines[0].strip("|").split("|")] == [
        "measure",
        "now",
        "goal",
        "met?",
    ]
    assert len(lines) == 2 + len(rows)
    assert "| 737 ms" in text
    assert "0.52×" in text
    out = summary.write(rows, sources, {"routing_e2e": {"seconds": 1.0}}, tmp_path, 2.0)
    written = json.loads(out.read_text())
    assert written["measures"] == len(rows)
    assert written["met"] == sum(1 for r in rows if r.met)
    assert written["sources"]["registry_import"]["file"] == "registry_import_1m.json"
    assert written["rows"][0]["goal"] == "≥ 0.8"


def test_a_lookup_measured_against_the_bare_endpoint_says_so() -> None:
    recorded = {
        "benchmark": "registry_lookup_20k",
        "measured_at": "2026-11-30T04:40:00+00:00",
        "bare_fastapi_http": {"p50_ms": 2.1, "p99_ms": 6.0},
        "p50_ratio": 1.43,
        "p99_ratio": 1.9,
    }
    rows, _ = summary.build({"registry_lookup": recorded})
    lookup = {r.measure: r for r in rows if r.benchmark == "registry_lookup"}
    assert (
        lookup["NIK lookup p50 vs bare FastAPI"].now,
        lookup["NIK lookup p50 vs bare FastAPI"].met,
    ) == (1.43, True)
    assert lookup["NIK lookup p99 vs bare FastAPI"].met is True
    old = {(r.benchmark, r.measure) for r in summary.build({**RECORDED})[0]}
    assert ("registry_lookup", "NIK lookup p50 vs raw query") in old
