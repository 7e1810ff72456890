"""The complaint's journal: every transition recorded in the history and queued as a lifecycle
event, notifications queued, the revision the main loop waits on, the search attributes kept
current, the answers of updates already applied (the replay guard), and the queue drained, in
order, through activities. The workflow itself does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final, TypeVar
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy

from slrt.contracts.complaints import Actor, ComplaintSnapshot, ComplaintStep, HistoryEntry
from slrt.contracts.contacts import HouseholdMessage, household_reference
from slrt.contracts.events import (
    ComplaintTransitioned,
    NotificationRequested,
    PrelistEntryRequested,
    RegistryCheckRequested,
    RegistryCorrectionRequested,
)
from slrt.contracts.temporal import OVERDUE_KEY, STEP_KEY, TICKET_KEY
from slrt.contracts.vocabulary import NotificationKind
from workflows import household
from workflows.complaint.clock_rules import restart_step_clocks
from workflows.complaint.state import Complaint, snapshot
from workflows.model import (
    ACTIVITY_EMIT_TRANSITION,
    ACTIVITY_PUBLISH_EFFECTS,
    ACTIVITY_REQUEST_NOTIFICATION,
    ACTIVITY_REQUEST_PRELIST_ENTRY,
    ACTIVITY_REQUEST_REGISTRY_CHECK,
    ACTIVITY_REQUEST_REGISTRY_CORRECTION,
    Effect,
    EffectBatch,
    EffectItem,
    SentNotification,
)

PATCH_INDEX_STEP: Final = "index-step-and-overdue"
"""Since this patch the workflow keeps its ``SlrtStep`` and ``SlrtOverdue`` search attributes
current (before it, only what was known at start was indexed)."""

PATCH_REFERRAL_RECORD: Final = "referral-record"
"""Since this patch the manager's approval note travels with the referral (history details
``note`` and the notification's ``approval_note``), an approval made with separation of duties
off says so (``separation_of_duties: false``), and every transition about a referral names it
(``referral_id`` in the details)."""

PATCH_BATCH_EFFECTS: Final = "perf-batch-effects"
"""Since this patch effects queued together (a transition, the household's message, a registry
request...) are published by one ``publish_effects`` activity, in order, instead of one activity
each: fewer workflow tasks and activity round trips between a complaint's state change and the
requests it sends. A single queued effect still goes through its own activity."""

PATCH_BATCH_LATE_EFFECTS: Final = "perf-path-batch-late-effects"
"""Since this patch effects queued while a single effect's activity was running (an update or a
signal handled meanwhile: the manager's approval queues the ``referred`` transition and the
referral request while the registry's news is being published) go out together in one
``publish_effects`` too; before it, the drain went on publishing them one activity each (a
workflow task and an activity more on the path to the referral per extra effect)."""

PATCH_LOCAL_READS: Final = "perf-local-reads"
"""Since this patch the routing options (a read of routing's catalog copy before back office)
are loaded by a local activity: in the worker, recorded as a marker, without the round trips
through the Temporal server (schedule, poll, complete, a new workflow task) that cost more than
the read itself. (The SLA policy at start stays a regular activity: as the run's first command,
a local activity there did not replay — the patch markers that follow it in the next workflow
task were met before the activity's result.)"""

PATCH_HOUSEHOLD_MESSAGES: Final = "household-messages"
"""Since this patch the household hears, through a contact reference, at registration, when
information is needed, at each outcome, on reopening and when the reopen window closes
(``workflows/household.py``); before it, only the registration message of
``PATCH_ACKNOWLEDGE_HOUSEHOLD`` went out, addressed to ``household:<ticket>``."""

PATCH_DISTRICT_POLICY: Final = "people-dir-district-policy"
"""Since this patch the complaint's policy is asked for with the complaint's district, so that
separation of duties is the district's (its setting in the staff directory, else the
deployment's default); before it, the deployment's setting alone."""

ACTIVITY_TIMEOUT: Final = timedelta(seconds=30)
RETRY: Final = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
SYSTEM: Final = "system"
T = TypeVar("T")

_ACTIVITY_FOR: Final[dict[type[Effect], str]] = {
    ComplaintTransitioned: ACTIVITY_EMIT_TRANSITION,
    NotificationRequested: ACTIVITY_REQUEST_NOTIFICATION,
    RegistryCheckRequested: ACTIVITY_REQUEST_REGISTRY_CHECK,
    PrelistEntryRequested: ACTIVITY_REQUEST_PRELIST_ENTRY,
    RegistryCorrectionRequested: ACTIVITY_REQUEST_REGISTRY_CORRECTION,
}


def move(
    c: Complaint,
    to: ComplaintStep,
    actor: Actor | None,
    *,
    reason: str | None = None,
    decision_code: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record a transition (or, with ``to`` the current step, an event within the step)."""
    history = c.journal.history
    from_step = c.step if history else None
    if to is not c.step or not history:
        c.step = to
        c.clocks.running = restart_step_clocks(
            c.clocks.running,
            c.clocks.calendar,
            c.clocks.policy,
            c.clocks.today(workflow.now()),
            from_step,
            to,
        )
    entry = HistoryEntry(
        sequence=len(history) + 1,
        from_step=from_step,
        to_step=to,
        actor=actor.user_id if actor else SYSTEM,
        actor_role=actor.role.value if actor else SYSTEM,
        at=workflow.now(),
        reason=reason,
        decision_code=decision_code,
        details={k: v for k, v in (details or {}).items() if v is not None},
    )
    history.append(entry)
    c.journal.effects.append(
        ComplaintTransitioned(
            complaint_id=c.submitted.complaint_id,
            sequence=entry.sequence,
            from_step=from_step.value if from_step else None,
            to_step=to.value,
            actor=entry.actor,
            actor_role=entry.actor_role,
            at=entry.at,
            reason=reason,
            decision_code=decision_code,
            details=entry.details,
            snapshot=snapshot(c),
        )
    )
    c.journal.revision += 1
    _index(c)
    message = household.message_for(from_step, to, reason)
    if message is not None:
        _tell_household(c, message, entry.details)


async def read(c: Complaint, name: str, *args: Any, result_type: type[T]) -> T:
    """A read-only activity: local since ``PATCH_LOCAL_READS`` (the check asked once per run,
    memoised by Temporal), else a regular activity (the histories recorded before it)."""
    check = c.local_reads_patch
    local = check() if check else workflow.patched(PATCH_LOCAL_READS)
    if local:
        result: T = await workflow.execute_local_activity(
            name,
            args=args,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
            result_type=result_type,
        )
    else:
        result = await workflow.execute_activity(
            name,
            args=args,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
            result_type=result_type,
        )
    return result


def records_referral() -> bool:
    """Whether this run records the referral's note and id (``PATCH_REFERRAL_RECORD``)."""
    return workflow.patched(PATCH_REFERRAL_RECORD)


def _index(c: Complaint) -> None:
    """Keep the step and the overdue flag searchable (Temporal UI, ``temporal workflow
    list --query "SlrtStep='referred' AND SlrtOverdue=true"``) on complaints started with
    search attributes (routing's ``search_attributes`` setting)."""
    if workflow.info().typed_search_attributes.get(TICKET_KEY) is None:
        return
    now = (c.step, any(clock.breached for clock in c.clocks.running.values()))
    if now == c.journal.indexed or not workflow.patched(PATCH_INDEX_STEP):
        return
    c.journal.indexed = now
    workflow.upsert_search_attributes(
        [STEP_KEY.value_set(now[0].value), OVERDUE_KEY.value_set(now[1])]
    )


def tells_household(c: Complaint) -> bool:
    """Whether this run sends household messages (the versioning check, memoised by Temporal:
    the first call decides for the whole run)."""
    return c.household_patch() if c.household_patch else workflow.patched(PATCH_HOUSEHOLD_MESSAGES)


def _tell_household(c: Complaint, message: HouseholdMessage, details: dict[str, Any]) -> None:
    params: dict[str, Any] = {}
    if message is HouseholdMessage.INFORMATION_NEEDED:
        params["question"] = details.get("question")
    elif message is HouseholdMessage.OUTCOME:
        outcome = c.outcome.pending if c.step is ComplaintStep.FEEDBACK else c.outcome.final
        if outcome is None:
            return
        params = household.outcome_params(
            outcome, details, reopened=c.outcome.reopened, program=c.program
        )
    elif message is HouseholdMessage.REGISTERED:
        params["category"] = c.category.value
    elif message is HouseholdMessage.REGISTRY_RESULT:
        params = household.registry_result_params(details)
    tell_household(c, message, params)


def tell_household(c: Complaint, message: HouseholdMessage, params: dict[str, Any]) -> None:
    """Queue a household message, addressed to its contact reference (no personal data); an
    anonymous complainant is told nothing."""
    if not tells_household(c) or c.submitted.anonymous or not c.submitted.names_complainant:
        return
    notify(
        c,
        NotificationKind.HOUSEHOLD_MESSAGE,
        household_reference(c.submitted.complaint_id),
        message.value,
        {
            "ticket": c.submitted.ticket_number,
            "place_code": c.submitted.village_code,
            **params,
        },
    )


def notify(
    c: Complaint,
    kind: NotificationKind,
    destination: str,
    template: str,
    params: dict[str, Any],
    *,
    breached: bool = False,
    request_id: UUID | None = None,
) -> None:
    """Queue a notification request (and remember it for the query)."""
    request = NotificationRequested(
        request_id=request_id or workflow.uuid4(),
        complaint_id=c.submitted.complaint_id,
        place_code=c.submitted.village_code,
        kind=kind,
        destination=destination,
        template=template,
        params={k: v for k, v in params.items() if v is not None},
        breached=breached,
    )
    c.journal.effects.append(request)
    c.journal.sent.append(
        SentNotification(
            request_id=request.request_id,
            kind=kind.value,
            destination=destination,
            template=template,
            breached=breached,
            at=workflow.now(),
        )
    )
    c.journal.revision += 1


def queue(c: Complaint, effect: Effect) -> None:
    """Queue an event to publish (registry lookups, pre-list entries)."""
    c.journal.effects.append(effect)


def changed(c: Complaint) -> None:
    """Wake the main loop: something it looks at changed."""
    c.journal.revision += 1


def replayed(c: Complaint, request_id: str) -> ComplaintSnapshot | None:
    """The first answer to ``request_id`` if that update was applied already."""
    return c.journal.done.get(request_id)


def remember(c: Complaint, request_id: str) -> ComplaintSnapshot:
    """Answer an applied update with the snapshot, and keep it for a repeat of the request."""
    answer = snapshot(c)
    c.journal.done[request_id] = answer
    return answer


async def drain(
    c: Complaint, batches: Callable[[], bool], batches_late: Callable[[], bool] | None = None
) -> None:
    """Publish queued effects in order (the lifecycle stays in sequence order): several at once
    in one activity when ``batches()`` (the ``PATCH_BATCH_EFFECTS`` check, asked only then),
    else one activity each. Effects that queued up while a single one was being published are
    batched as well when ``batches_late()`` (``PATCH_BATCH_LATE_EFFECTS``, asked only then,
    before ``batches()``, so that a history recorded without it replays the same commands)."""
    effects = c.journal.effects
    if len(effects) > 1 and batches():
        await _publish_batch(effects)
    while effects:
        if len(effects) > 1 and batches_late is not None and batches_late() and batches():
            await _publish_batch(effects)
            continue
        effect = effects[0]
        name = _ACTIVITY_FOR[type(effect)]
        await workflow.execute_activity(
            name, effect, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY
        )
        effects.pop(0)


async def _publish_batch(effects: list[Effect]) -> None:
    """The queued effects in one ``publish_effects`` activity; those queued meanwhile stay."""
    batch = EffectBatch(items=[EffectItem.of(e) for e in effects])
    await workflow.execute_activity(
        ACTIVITY_PUBLISH_EFFECTS,
        batch,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=RETRY,
    )
    del effects[: len(batch.items)]
