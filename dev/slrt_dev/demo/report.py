"""What the demo prints: one row per complaint (its timeline, where it ended, what the outside
world shows of it), then the totals."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from rich.table import Table

from slrt_dev.demo.played import EFFECTS, Played


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


def _effect(played: Played, effect: str) -> str:
    seen = played.seen.get(effect, "—")
    wrong = played.wrong.get(effect)
    return f"[red]{seen}[/]" if wrong else seen


def _why_not(played: Played) -> str:
    reasons = [played.problem or _missed(played)] if not played.ended_as_expected else []
    if not played.ended_as_expected and not reasons[0]:
        reasons = [f"ended {played.step} ({played.outcome})"]
    for effect in EFFECTS:
        if effect == "dashboard" and played.wrong.get(effect):
            reasons.append("dashboard differs (figures in the totals)")
            continue
        reasons.extend(f"{effect}: {w}" for w in played.wrong.get(effect, []))
    return "; ".join(r for r in reasons if r)


def timeline_table(played: list[Played]) -> Table:
    table = Table(title="The week at the district, complaint by complaint")
    for column in (
        "ticket",
        "path",
        "timeline",
        "end",
        "messages",
        "answers",
        "dashboard",
        "as expected",
    ):
        table.add_column(column, overflow="fold")
    for p in played:
        end = f"{p.step}" + (f" ({p.outcome})" if p.outcome else "")
        table.add_row(
            p.ticket or "—",
            p.path.title,
            _steps(p),
            end,
            _effect(p, "messages"),
            _effect(p, "answers"),
            _effect(p, "dashboard"),
            "[green]yes[/]" if p.as_expected else f"[red]no[/] {_why_not(p)}",
        )
    return table


def totals(played: list[Played]) -> Counter[str]:
    """Submitted, and where each submitted complaint ended (every one is counted once); how
    many went past an SLA deadline on the way (escalated); how many ended where their path
    ends; for each outward effect, how many show it as their path says."""
    counts: Counter[str] = Counter()
    for p in played:
        counts["submitted"] += p.complaint_id is not None
        counts["not submitted"] += p.complaint_id is None
        counts[f"ended {p.step}" + (f" ({p.outcome})" if p.outcome else "")] += 1
        counts["reached its path's end"] += p.ended_as_expected
        for effect in EFFECTS:
            counts[f"{effect} as expected"] += p.complaint_id is not None and not p.wrong.get(
                effect
            )
        counts["as expected"] += p.as_expected
        counts["past an SLA deadline on the way"] += any(r.endswith("_breached") for r in p.reasons)
    return counts


TOTAL_ROWS = (
    "submitted",
    "not submitted",
    "reached its path's end",
    *(f"{effect} as expected" for effect in EFFECTS),
    "as expected",
    "past an SLA deadline on the way",
)


def totals_table(counts: Counter[str], figures_wrong: list[str] | None = None) -> Table:
    table = Table(title="Totals")
    table.add_column("")
    table.add_column("complaints", justify="right")
    for key in TOTAL_ROWS:
        table.add_row(key, str(counts[key]))
    for key in sorted(k for k in counts if k.startswith("ended ") and k not in TOTAL_ROWS):
        table.add_row(key, str(counts[key]))
    for wrong in figures_wrong or []:
        table.add_row(f"[red]dashboard differs[/] {wrong}", "")
    return table
