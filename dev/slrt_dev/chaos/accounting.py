"""The accounting of a chaos run: what each complaint must show after its fault, and the rows
of the table. Plain functions over what was observed (no I/O), so they are unit tested."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

CLOSED = "closed"


@dataclass
class Calls:
    """What the clients saw from intake during a fault."""

    ok: int = 0
    """2xx, and the 4xx an action asked too early gets (409, 422): answers, not failures."""
    unavailable: int = 0
    """503 with ``Retry-After``: the documented answer while a dependency is down."""
    unreachable: int = 0
    """Connection refused while intake itself was killed (a client retries)."""
    bad: Counter[str] = field(default_factory=Counter)
    """Everything else: 500s, other 5xx, a 503 without Retry-After, a request that hung."""
    where: Counter[str] = field(default_factory=Counter)
    """Which requests got the bad answers (method and route, no ids)."""

    def record(
        self,
        status: int | None,
        *,
        retry_after: bool = False,
        hung: bool = False,
        request: str = "",
    ) -> None:
        if hung:
            what = "hang"
        elif status is None:
            self.unreachable += 1
            return
        elif status == 503 and retry_after:
            self.unavailable += 1
            return
        elif status < 500:
            self.ok += 1
            return
        else:
            what = f"{status}" if status != 503 else "503 without Retry-After"
        self.bad[what] += 1
        self.where[f"{what} {request}".strip()] += 1

    def __str__(self) -> str:
        parts = [f"{self.ok} ok", f"{self.unavailable}×503"]
        if self.unreachable:
            parts.append(f"{self.unreachable} refused")
        parts += [f"{n}×{what}" for what, n in sorted(self.bad.items())]
        return ", ".join(parts)


@dataclass
class Seen:
    """One complaint after its fault, as the system shows it."""

    key: str
    """The client's idempotency key or tablet client id (one per complaint meant)."""
    expected_outcome: str
    complaint_ids: set[str]
    """Every complaint id intake answered for this key (more than one: doubled)."""
    step: str | None = None
    outcome: str | None = None
    closings: int = 0
    """Timeline entries that moved it to ``closed``."""
    workflows: int = 0
    """Temporal executions with its workflow id."""
    referrals_delivered: list[str] = field(default_factory=list)
    referrals_not_delivered: list[str] = field(default_factory=list)
    """Referral deliveries that failed, were cancelled or still wait: none may be at LAPOR!."""
    unreadable: str | None = None
    """Why part of it could not be read (a service not answering after the fault)."""
    referral_statuses: Counter[str] = field(default_factory=Counter)
    """Its referral deliveries by status (delivered, failed, cancelled …): what the fault did."""
    reasons: Counter[str] = field(default_factory=Counter)
    """Its timeline's transition reasons (``no_response``, ``delivery_failed`` …)."""


def problems(seen: Seen, reports: Counter[str]) -> list[str]:
    """What is wrong with one complaint: ``lost``, ``doubled`` or ``stuck`` with the reason;
    ``reports`` counts LAPOR! reports by the referral they name."""
    found: list[str] = []
    if seen.unreadable:
        return [f"stuck: could not be read ({seen.unreadable})"]
    if not seen.complaint_ids or seen.step is None:
        return ["lost: intake does not know it"]
    if len(seen.complaint_ids) > 1:
        found.append(f"doubled: {len(seen.complaint_ids)} complaints for one submission")
    if seen.workflows == 0:
        found.append("lost: no workflow")
    elif seen.workflows > 1:
        found.append(f"doubled: {seen.workflows} workflows")
    if seen.closings > 1:
        found.append(f"doubled: closed {seen.closings} times")
    for referral in seen.referrals_delivered:
        if reports[referral] == 0:
            found.append("lost: a delivered referral is not at LAPOR!")
        elif reports[referral] > 1:
            found.append(f"doubled: {reports[referral]} LAPOR! reports for one referral")
    for referral in seen.referrals_not_delivered:
        if reports[referral]:
            found.append("doubled: a referral that no longer waits was filed at LAPOR!")
    if seen.step != CLOSED or seen.outcome != seen.expected_outcome:
        found.append(f"stuck: at {seen.step} ({seen.outcome}), expected closed")
    elif seen.closings == 0:
        found.append("stuck: closed without a closing in its timeline")
    return found


@dataclass
class Row:
    fault: str
    complaints: int
    as_expected: int
    lost: int
    doubled: int
    stuck: int
    new_dead_letters: int
    calls: Calls
    seconds: float
    notes: list[str] = field(default_factory=list)
    referrals: Counter[str] = field(default_factory=Counter)
    """The batch's referral deliveries by status, and its expiries and failed deliveries:
    evidence of what the fault made the system go through."""
    stopped: list[str] = field(default_factory=list)
    """Parts of the stack that were found stopped after the fault healed (a service that
    stopped itself): a failure even when every complaint made it."""

    @property
    def failing_calls(self) -> Counter[str]:
        return Counter(self.calls.bad)

    @property
    def passed(self) -> bool:
        return (
            self.as_expected == self.complaints
            and self.new_dead_letters == 0
            and not self.failing_calls
            and not self.stopped
            and self.complaints > 0
        )


def row(
    fault: str,
    seen: list[Seen],
    reports: Counter[str],
    new_dead_letters: int,
    calls: Calls,
    seconds: float,
) -> Row:
    lost = doubled = stuck = fine = 0
    notes: list[str] = []
    for one in seen:
        found = problems(one, reports)
        if not found:
            fine += 1
            continue
        kinds = {p.split(":")[0] for p in found}
        lost += "lost" in kinds
        doubled += "doubled" in kinds
        stuck += "stuck" in kinds and "lost" not in kinds
        ids = ",".join(sorted(one.complaint_ids)) or one.key
        notes.append(f"{ids}: {'; '.join(found)}")
    notes += [f"{n}× {what}" for what, n in sorted(calls.where.items())]
    result = Row(
        fault, len(seen), fine, lost, doubled, stuck, new_dead_letters, calls, seconds, notes
    )
    for one in seen:
        result.referrals.update(one.referral_statuses)
        result.referrals.update(
            {label: one.reasons[r] for r, label in EVIDENCE.items() if one.reasons[r]}
        )
    return result


EVIDENCE = {"no_response": "expired", "delivery_failed": "escalated"}
"""Timeline reasons counted as evidence (and their label): a referral expired unanswered, a
referral whose delivery failed escalated back to the back office."""
STATUS_ORDER = ("delivered", "failed", "cancelled")


def referral_summary(referrals: Counter[str]) -> str:
    """``4 delivered, 7 failed; 7 escalated``: the deliveries by status, then the timelines'
    evidence."""
    statuses = [s for s in STATUS_ORDER if referrals[s]] + sorted(
        s for s in referrals if s not in STATUS_ORDER and s not in EVIDENCE.values()
    )
    shown = ", ".join(f"{referrals[s]} {s}" for s in statuses)
    evidence = ", ".join(f"{referrals[e]} {e}" for e in EVIDENCE.values() if referrals[e])
    return "; ".join(part for part in (shown, evidence) if part) or "-"


def stray_reports(reports: Counter[str], referrals: set[str]) -> int:
    """LAPOR! reports naming a referral that no complaint of the run made."""
    return sum(n for referral, n in reports.items() if referral not in referrals)
