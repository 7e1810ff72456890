"""Delivery rules as plain functions: the state machine, how an answer is classified, when
the next attempt is due, and when the daily staff digest goes out."""

from __future__ import annotations

import contextlib
import random
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from slrt.contracts.events import NotificationRequested
from slrt.contracts.vocabulary import NotificationKind


class DeliveryStatus(StrEnum):
    DIGEST = "digest"
    """A staff reminder waiting for its person's daily digest."""
    PENDING = "pending"
    """Due for its first attempt (or re-sent by a manager)."""
    RETRYING = "retrying"
    """An attempt failed and another is scheduled."""
    DELIVERED = "delivered"
    FAILED = "failed"
    """Final: the horizon ran out, the destination refused it, or it was disabled (dead letter)."""
    HANDED_TO_FACILITATOR = "handed_to_facilitator"
    """Final: a household message for a household with no phone and no email, handed to the
    village facilitator's task (not a failure: the facilitator tells the household)."""
    CANCELLED = "cancelled"
    """Final: a referral that no longer waits (expired as no_response, withdrawn, closed)
    before it could be delivered; never sent afterwards (not a failure, no dead letter)."""


S = DeliveryStatus
TRANSITIONS: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    S.DIGEST: frozenset({S.DELIVERED, S.RETRYING, S.FAILED}),
    S.PENDING: frozenset({S.DELIVERED, S.RETRYING, S.FAILED, S.HANDED_TO_FACILITATOR, S.CANCELLED}),
    S.RETRYING: frozenset(
        {S.DELIVERED, S.RETRYING, S.FAILED, S.HANDED_TO_FACILITATOR, S.CANCELLED}
    ),
    S.DELIVERED: frozenset(),
    S.HANDED_TO_FACILITATOR: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset({S.PENDING}),
}


def may_move(current: DeliveryStatus, target: DeliveryStatus) -> bool:
    return target in TRANSITIONS[current]


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FINAL = "final"


@dataclass(frozen=True)
class SendResult:
    """What one attempt came to. ``error`` never holds personal data."""

    verdict: Verdict
    error: str | None = None
    status_code: int | None = None
    external_ref: str | None = None
    retry_after: float | None = None
    """Seconds the destination asked us to wait (408/429/503 Retry-After)."""
    disable_endpoint: bool = False
    """410 Gone: the destination retired this endpoint; stop sending until the catalog changes."""

    @classmethod
    def delivered(
        cls, external_ref: str | None = None, status_code: int | None = None
    ) -> SendResult:
        return cls(Verdict.DELIVERED, external_ref=external_ref, status_code=status_code)

    @classmethod
    def retry(cls, error: str, status_code: int | None = None) -> SendResult:
        return cls(Verdict.RETRY, error=error, status_code=status_code)

    @classmethod
    def final(cls, error: str, status_code: int | None = None) -> SendResult:
        return cls(Verdict.FINAL, error=error, status_code=status_code)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def classify_http(status: int, retry_after: str | None = None, *, now: datetime) -> SendResult:
    """2xx delivered; 408/429 retried honouring Retry-After; 410 final and disables the
    endpoint; other 4xx final (our request is wrong, repeating it will not help); 5xx retried."""
    if 200 <= status < 300:
        return SendResult.delivered(status_code=status)
    if status in (408, 429):
        return SendResult(
            Verdict.RETRY,
            error=f"HTTP {status}",
            status_code=status,
            retry_after=parse_retry_after(retry_after, now),
        )
    if status == 410:
        return SendResult(
            Verdict.FINAL, error="HTTP 410 Gone", status_code=status, disable_endpoint=True
        )
    if 400 <= status < 500:
        return SendResult.final(f"HTTP {status}", status)
    return SendResult(
        Verdict.RETRY,
        error=f"HTTP {status}",
        status_code=status,
        retry_after=parse_retry_after(retry_after, now) if status == 503 else None,
    )


def next_attempt_at(
    attempts_made: int,
    now: datetime,
    schedule: Sequence[float],
    *,
    jitter: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after ``attempts_made`` attempts, or None when the schedule is spent.

    The n-th retry waits ``schedule[n-1]`` seconds, drawn within ± ``jitter`` of it so that many
    deliveries failing together do not retry together; a destination's Retry-After is a floor.
    """
    if attempts_made > len(schedule):
        return None
    base = schedule[attempts_made - 1]
    draw = (rng or random).uniform(1 - jitter, 1 + jitter)
    delay = base * draw
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)


def horizon(schedule: Sequence[float]) -> timedelta:
    """How long a delivery is tried at most (without jitter or Retry-After)."""
    return timedelta(seconds=sum(schedule))


def normalise_request(request: NotificationRequested) -> NotificationRequested:
    """Take ``referral_id`` and ``place_code`` from the params when the fields are not set (the
    workflow may pass them there), so status look-ups and area scoping find them."""
    updates: dict[str, object] = {}
    raw_referral = request.params.get("referral_id")
    if request.referral_id is None and raw_referral:
        with contextlib.suppress(ValueError):
            updates["referral_id"] = uuid.UUID(str(raw_referral))
    raw_place = request.params.get("place_code") or request.params.get("village_code")
    if request.place_code is None and raw_place and re.fullmatch(r"\d{2,10}", str(raw_place)):
        updates["place_code"] = str(raw_place)
    return request.model_copy(update=updates) if updates else request


def digest_groups(
    requests: list[NotificationRequested], today: date
) -> tuple[list[str], list[str]]:
    """A person's digest: the tickets of their steps overdue (the reminder's ``due_on`` /
    ``due_date`` before ``today``) and at risk (the rest), each sorted, each ticket once."""
    overdue: set[str] = set()
    at_risk: set[str] = set()
    for r in requests:
        ticket = str(r.params.get("ticket") or r.params.get("ticket_number") or "-")
        due = r.params.get("due_on") or r.params.get("due_date")
        try:
            late = r.breached or (due is not None and date.fromisoformat(str(due)) < today)
        except ValueError:
            late = r.breached
        (overdue if late else at_risk).add(ticket)
    return sorted(overdue), sorted(at_risk - overdue)


def is_digest(request: NotificationRequested) -> bool:
    """Staff reminders wait for the daily digest (rekap harian); breaches go out at once."""
    return request.kind is NotificationKind.REMINDER and not request.breached


def next_digest_time(now: datetime, hour: int, timezone: str, minute: int = 0) -> datetime:
    """The next daily digest moment (``hour:minute`` local time) strictly after ``now``."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    at = time(hour, minute)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate.astimezone(UTC)


@dataclass(frozen=True)
class Cancellation:
    """Referral deliveries of a complaint that no longer have anyone waiting for them."""

    complaint_id: uuid.UUID
    referral_id: uuid.UUID | None
    """Only this referral's deliveries; None: every referral delivery of the complaint."""
    reason: str
    """Kept as the delivery's ``last_error`` (no personal data)."""


REFERRAL_KINDS = frozenset({NotificationKind.REFERRAL, NotificationKind.ANSWER_LINK})
"""The kinds a referral goes out as (to the program's system, LAPOR!, SIKS-NG or an answer
link): the deliveries a cancellation ends."""
ENDS = {"withdrawn": "complaint withdrawn", "closed": "complaint closed"}


def cancellation(
    complaint_id: uuid.UUID,
    to_step: str,
    reason: str | None,
    details: Mapping[str, object],
) -> Cancellation | None:
    """Which referral deliveries a complaint's transition makes pointless: the referral's, when
    it expired unanswered (``no_response``: the workflow has given up on it and escalated);
    all of the complaint's, when it is withdrawn or closed. Anything else cancels nothing (a
    referral being delivered, answered or still under review keeps its delivery)."""
    if reason == "no_response":
        referral = details.get("referral_id")
        referral_id = None
        if isinstance(referral, str):
            with contextlib.suppress(ValueError):
                referral_id = uuid.UUID(referral)
        return Cancellation(complaint_id, referral_id, "referral expired (no_response)")
    if to_step in ENDS:
        return Cancellation(complaint_id, None, ENDS[to_step])
    return None


class RouteState(StrEnum):
    """How a destination (a route: a program's webhook, LAPOR!, SIKS-NG, the SMS gateway, the
    SMTP relay) last answered, as one worker saw it."""

    ANSWERING = "answering"
    """Its last attempt got an answer that was not worth retrying (delivered, or refused)."""
    FAILING = "failing"
    """It answers, but with errors worth retrying (5xx, 429 …)."""
    UNREACHABLE = "unreachable"
    """Its last attempt got no answer at all (refused connection, timeout)."""
    REACHABLE = "reachable"
    """A probe reached it after it was unreachable; no attempt has told more since."""


def route_state_after(result: SendResult) -> RouteState:
    if result.verdict is not Verdict.RETRY:
        return RouteState.ANSWERING
    return RouteState.FAILING if result.status_code is not None else RouteState.UNREACHABLE


def came_back(before: RouteState | None, after: RouteState) -> bool:
    """Whether the retries waiting for a route should be due now: it answers (an attempt got
    through) after it had not, or a probe reached it after it was unreachable (or unknown, as
    after a restart). A destination that answers but keeps failing is left to its backoff."""
    if after is RouteState.ANSWERING:
        return before is not RouteState.ANSWERING
    if after is RouteState.REACHABLE:
        return before in (None, RouteState.UNREACHABLE)
    return False


def worth_probing(state: RouteState | None) -> bool:
    """Probe only routes that gave no answer (or are unknown): one that answers with errors
    would only be hammered by retries brought forward."""
    return state in (None, RouteState.UNREACHABLE)
