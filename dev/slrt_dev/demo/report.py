"""What the demo prints: one timeline row per complaint, then the totals."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from rich.table import Table

from slrt_dev.demo.played import Played


def _steps(played: Played) -> str:
    if not played.timeline:
        return played.step or "—"
    start = datetime.fromisoformat(played.timeline[0]["at"])
    parts = []
    for entry in played.timeline:
        if entry["from_step"] == entry["to_step"]:
            continue  # events within a step (referral delivered, breaches)
        seconds = (datetime.fromisoformat(entry["at"]) - start).total_seconds()
        parts.append(f"{entry['to_step']} +{seconds:.0f}s")
    return " → ".join(parts)


def _missed(played: Played) -> str:
    missed = [r for r in played.path.passes_through if r not in played.reasons]
    return f"never passed {', '.join(missed)}" if missed else ""


def timeline_table(played: list[Played]) -> Table:
    table = Table(title="The week at the district, complaint by complaint")
    for column in ("ticket", "path", "timeline", "end", "as expected"):
        table.add_column(column, overflow="fold")
    for p in played:
        end = f"{p.step}" + (f" ({p.outcome})" if p.outcome else "")
        table.add_row(
            p.ticket or "—",
            p.path.title,
            _steps(p),
            end,
            "[green]yes[/]" if p.as_expected else f"[red]no[/] {p.problem or _missed(p)}",
        )
    return table


def totals(played: list[Played]) -> Counter[str]:
    """Submitted, and where each submitted complaint ended (every one is counted once); how
    many went past an SLA deadline on the way (escalated)."""
    counts: Counter[str] = Counter()
    for p in played:
        counts["submitted"] += p.complaint_id is not None
        counts["not submitted"] += p.complaint_id is None
        counts[f"ended {p.step}" + (f" ({p.outcome})" if p.outcome else "")] += 1
        counts["as expected"] += p.as_expected
        counts["past an SLA deadline on the way"] += any(r.endswith("_breached") for r in p.reasons)
    return counts


def totals_table(counts: Counter[str]) -> Table:
    table = Table(title="Totals")
    table.add_column("")
    table.add_column("complaints", justify="right")
    for key in ("submitted", "not submitted", "as expected", "past an SLA deadline on the way"):
        table.add_row(key, str(counts[key]))
    for key in sorted(k for k in counts if k.startswith("ended ")):
        table.add_row(key, str(counts[key]))
    return table
