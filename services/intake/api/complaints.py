"""Complaints: submit (walk-in and tablets' batch sync), read, list, and the tablets' task feed."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from services.intake import assignees, attachments, casefile, casefile_store, store
from services.intake.api.deps import (
    CurrentPrincipal,
    IdempotencyHeader,
    Pool,
    Settings,
    key_or_new,
)
from services.intake.api.problems import BODY, problems
from services.intake.domain import FACILITATOR_TASK_STEPS, acting_role, status_of
from services.intake.schemas import (
    BatchIn,
    BatchItemOut,
    BatchOut,
    CaseTimelineEntry,
    ComplaintDetailOut,
    ComplaintOut,
    ComplaintPage,
    FieldProblem,
    Flags,
    Status,
    SubmissionIn,
    SubmissionOut,
    TaskOut,
    TaskPage,
    TimelineEntry,
)
from services.intake.settings import IntakeSettings
from services.intake.submissions import submit
from slrt import deps
from slrt.auth.api import authorize
from slrt.auth.policy import Action
from slrt.auth.principal import Principal, Role
from slrt.contracts.complaints import OPEN_STEPS, ComplaintStep, RegistrySummary
from slrt.contracts.vocabulary import Category
from slrt.errors import DomainError, Invalid, field_error
from slrt.places import directory
from slrt.problems import Problem

router = APIRouter(prefix="/v1", tags=["complaints"])
intake_settings = deps.settings_of(IntakeSettings)

PROBLEMS = problems(401, 403, 404, 422)
LINKS = {
    operation: {
        "operationId": operation,
        "parameters": {"complaint_id": "$response.body#/complaint_id"},
    }
    for operation in (
        "readComplaint",
        "readComplaintDetail",
        "supervisorReview",
        "correction",
        "backOfficeAction",
        "informationReceived",
        "managerDecision",
        "facilitatorFeedback",
        "withdraw",
    )
}
"""Where a new complaint's id leads (OpenAPI links; schemathesis follows them)."""


@router.post(
    "/complaints",
    status_code=202,
    operation_id="submitComplaint",
    response_model=SubmissionOut,
    summary="Submit a complaint, program need or information request",
    responses={
        202: {"description": "Accepted (or the original answer, replayed)", "links": LINKS},
        **problems(*BODY, 401, 403, 409),
    },
)
async def submit_complaint(
    body: SubmissionIn,
    principal: CurrentPrincipal,
    request: Request,
    # The header as a parameter of the route's own, not the ``IdempotencyKey`` dependency:
    # the same header, rule and 422, one dependency fewer for FastAPI to resolve per call.
    key: IdempotencyHeader = None,
) -> Response:
    authorize(principal, Action.COMPLAINT_SUBMIT)
    # The pool and the settings straight from the app's runtime: as route dependencies they
    # cost FastAPI's dependency resolution twice per submission (issue 17's profile).
    settings = intake_settings(request)
    accepted = await submit(
        deps.pool(request),
        body,
        principal,
        key_or_new(key),
        directory(),
        settings.public_base_url,
    )
    headers = {"Location": accepted.complaint.links.self}
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    # Serialised once here (the response model documents it): FastAPI would validate the
    # model it was given again before serialising it.
    return Response(
        accepted.complaint.model_dump_json(by_alias=True),
        status_code=202,
        media_type="application/json",
        headers=headers,
    )


@router.post(
    "/sync/complaints",
    response_model=BatchOut,
    summary="Offline tablets: submit what was captured offline, item by item",
    description="Each item carries the tablet's `client_id`; items succeed or fail on their own "
    "(`created`, `replayed`, `rejected` with the fields named). Resending the whole batch is "
    "safe: items already accepted come back as `replayed` with their original ticket.",
    responses=problems(*BODY, 401, 403, s413="Too many items or too large a body"),
)
async def sync_complaints(
    body: BatchIn, principal: CurrentPrincipal, pool: Pool, settings: Settings
) -> BatchOut:
    authorize(principal, Action.COMPLAINT_SUBMIT)
    if len(body.items) > settings.max_batch_items:
        raise Problem(
            413,
            "too-large",
            "Too many items",
            f"send at most {settings.max_batch_items} items per batch",
        )
    results: list[BatchItemOut] = []
    for item in body.items:
        submission = SubmissionIn.model_validate(
            item.model_dump(exclude={"client_id", "attachments"})
        )
        try:
            accepted = await submit(
                pool,
                submission,
                principal,
                f"client:{item.client_id}",
                directory(),
                settings.public_base_url,
            )
        except DomainError as refused:
            if refused.status >= 500:
                raise
            errors = refused.errors if isinstance(refused, Invalid) else []
            errors = errors or [field_error("client_id", refused.kind, refused.title)]
            results.append(
                BatchItemOut(
                    client_id=item.client_id,
                    result="rejected",
                    errors=[FieldProblem(**e) for e in errors],
                )
            )
            continue
        complaint_id = accepted.complaint.complaint_id
        missing = (
            await attachments.missing(pool, complaint_id, item.attachments)
            if item.attachments
            else []
        )
        results.append(
            BatchItemOut(
                client_id=item.client_id,
                result="replayed" if accepted.replayed else "created",
                complaint=accepted.complaint,
                attachments_missing=missing,
                attachments_upload=f"/v1/complaints/{complaint_id}/attachments"
                if item.attachments
                else None,
            )
        )
    return BatchOut(
        items=results,
        created=sum(r.result == "created" for r in results),
        replayed=sum(r.result == "replayed" for r in results),
        rejected=sum(r.result == "rejected" for r in results),
    )


def complaint_out(row: asyncpg.Record, timeline: list[asyncpg.Record] | None) -> ComplaintOut:
    snapshot = row["snapshot"]
    registry = snapshot.get("registry")
    return ComplaintOut(
        complaint_id=row["complaint_id"],
        ticket_number=row["ticket_number"],
        status=status_of(row["step"]),
        step=row["step"],
        holder_role=row["holder_role"],
        place_code=row["place_code"],
        category=row["category"],
        channel=row["channel"],
        program_code=row["program_code"],
        referral_destination=row["referral_destination"],
        referral_id=row["referral_id"],
        step_due=row["step_due"],
        resolve_due=row["resolve_due"],
        flags=Flags(repeat=row["repeat"], escalated=row["escalated"], overdue=row["overdue"]),
        registry=None if registry is None else RegistrySummary.model_validate(registry),
        outcome=row["outcome"],
        submitted_at=row["submitted_at"],
        updated_at=row["updated_at"],
        assignee=row["assignee"],
        assignee_basis=row["assignee_basis"],
        timeline=None
        if timeline is None
        else [
            TimelineEntry(
                sequence=t["sequence"],
                from_step=t["from_step"],
                to_step=t["to_step"],
                actor=t["actor"],
                actor_role=t["actor_role"],
                at=t["at"],
                reason=t["reason"],
                decision_code=t["decision_code"],
            )
            for t in timeline
        ],
    )


async def visible_complaint(
    pool: asyncpg.Pool, principal: Principal, complaint_id: UUID, action: Action
) -> asyncpg.Record:
    """The complaint's status row if ``principal`` may take ``action`` on it (else 404/403)."""
    async with pool.acquire() as conn:
        return allowed(await store.status(conn, complaint_id), principal, action)


def allowed(row: asyncpg.Record | None, principal: Principal, action: Action) -> asyncpg.Record:
    """``row`` (a status row) if it exists and ``principal`` may take ``action`` on it."""
    if row is None:
        raise Problem(404, "not-found", "No such complaint")
    authorize(
        principal,
        action,
        place_code=row["place_code"],
        program=row["referral_destination"],
        what="complaint",
    )
    return row


@router.get(
    "/complaints/{complaint_id}",
    operation_id="readComplaint",
    response_model=ComplaintOut,
    summary="A complaint: status, step, holder, due dates, flags, registry summary, timeline",
    responses=PROBLEMS,
)
async def read_complaint(
    complaint_id: UUID, principal: CurrentPrincipal, pool: Pool
) -> ComplaintOut:
    row = await visible_complaint(pool, principal, complaint_id, Action.COMPLAINT_READ)
    async with pool.acquire() as conn:
        timeline = await store.timeline(conn, complaint_id)
    return complaint_out(row, timeline)


@router.get(
    "/complaints/{complaint_id}/detail",
    operation_id="readComplaintDetail",
    response_model=ComplaintDetailOut,
    summary="A complaint's case file for the staff who act on it: description, complainant, "
    "timeline with details, referral history (personal data: every read is audited)",
    description="Everything `GET /v1/complaints/{id}` answers, plus the description as "
    "submitted, the complainant as recorded (none for an anonymous report), each timeline "
    "entry's details and every referral with its destination's answers and notes. Each read "
    "writes an audit row (who, role, what, when, and the complaint's step: why) in the read's "
    "own transaction. Attachments have their own routes (`/v1/complaints/{id}/attachments`).",
    responses=PROBLEMS,
)
async def read_complaint_detail(
    complaint_id: UUID, principal: CurrentPrincipal, pool: Pool
) -> ComplaintDetailOut:
    action = Action.COMPLAINT_READ_PERSONAL
    async with pool.acquire() as conn, conn.transaction():
        row = allowed(await store.status(conn, complaint_id), principal, action)
        submitted = await casefile_store.submitted(conn, complaint_id)
        if submitted is None:  # every status row comes with its complaint; never expected
            raise Problem(404, "not-found", "No such complaint")
        timeline = await casefile_store.case_timeline(conn, complaint_id)
        await casefile_store.audit(
            conn,
            actor=principal.subject,
            actor_role=acting_role(principal, action).value,
            action="complaint_detail",
            reads=[
                (
                    complaint_id,
                    row["place_code"],
                    row["step"],
                    casefile.detail_fields(submitted["anonymous"]),
                )
            ],
        )
    status = complaint_out(row, None).model_dump(exclude={"timeline"})
    return ComplaintDetailOut(
        **status,
        description=submitted["description"],
        submitted_description=submitted["submitted_description"],
        corrected_at=submitted["corrected_at"],
        sub_type=submitted["sub_type"],
        occurred_on=submitted["occurred_on"],
        anonymous=submitted["anonymous"],
        complainant=casefile.complainant(submitted),
        submission_warnings=list(submitted["warnings"]),
        timeline=[
            CaseTimelineEntry(
                sequence=t["sequence"],
                from_step=t["from_step"],
                to_step=t["to_step"],
                actor=t["actor"],
                actor_role=t["actor_role"],
                at=t["at"],
                reason=t["reason"],
                decision_code=t["decision_code"],
                details=t["details"] or {},
            )
            for t in timeline
        ],
        referrals=casefile.referral_history(timeline),
        information_answer=submitted["information_answer"],
    )


def encode_cursor(row: asyncpg.Record) -> str:
    raw = f"{row['submitted_at'].isoformat()}|{row['complaint_id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, complaint_id = raw.partition("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive cursor time")
        return parsed, UUID(complaint_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem(
            422,
            "invalid-request",
            "The request is not valid",
            errors=[field_error("cursor", "cursor", "not a cursor this API returned")],
        ) from None


STATUS_STEPS: dict[str, list[str]] = {
    "open": sorted(s.value for s in OPEN_STEPS),
    "closed": [ComplaintStep.CLOSED.value],
    "withdrawn": [ComplaintStep.WITHDRAWN.value],
}


@router.get(
    "/complaints",
    response_model=ComplaintPage,
    summary="Complaints in your area, newest first, with filters and cursor pagination",
    responses=PROBLEMS,
)
async def list_complaints(
    principal: CurrentPrincipal,
    pool: Pool,
    area: Annotated[
        str | None,
        Query(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{10})$", description="place-code prefix"),
    ] = None,
    status: Status | None = None,
    step: ComplaintStep | None = None,
    category: Category | None = None,
    program: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool | None = None,
    submitted_from: date | None = None,
    submitted_to: date | None = None,
    assigned: Annotated[
        Literal["me"] | None,
        Query(description="`me`: only complaints whose current step is assigned to you"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ComplaintPage:
    authorize(principal, Action.COMPLAINT_READ)
    scope = area if area is not None else principal.area
    if not scope.startswith(principal.area):
        # An area beyond the caller's sees nothing of it (no leak: same as an empty area).
        return ComplaintPage(items=[], next_cursor=None)
    person: UUID | None = None
    if assigned == "me":
        async with pool.acquire() as conn:
            person = await assignees.person_of_subject(conn, principal.subject)
        if person is None:  # not a person of the directory: nothing is assigned to you
            return ComplaintPage(items=[], next_cursor=None)
    steps: list[str] | None = None
    if status is not None:
        steps = STATUS_STEPS[status]
    if step is not None:
        steps = [s for s in (steps or [step.value]) if s == step.value]
    async with pool.acquire() as conn:
        rows = await store.list_status(
            conn,
            area=scope,
            steps=steps,
            category=category.value if category else None,
            program=program,
            overdue=overdue,
            submitted_from=submitted_from,
            submitted_to=submitted_to,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
            assignee=person,
            within=principal.scopes if principal.areas else None,
        )
    page = rows[:limit]
    return ComplaintPage(
        items=[complaint_out(r, None) for r in page],
        next_cursor=encode_cursor(page[-1]) if len(rows) > limit else None,
    )


@router.get(
    "/tasks",
    response_model=TaskPage,
    summary="Facilitator tablets: whom to visit in my villages and why (personal data: audited)",
    description="Feedback visits (tell the outcome, with the back office's answer or the "
    "program's note) and information requests (ask back office's question) assigned to the "
    "calling facilitator (the staff directory's person their token's subject names: the "
    "villages assigned to them, wherever they lie); a caller who is no person of the directory "
    "sees those of their token's area. Each with the household's name and address as "
    "recorded. Each item listed writes an audit row, in the read's own transaction.",
    responses=PROBLEMS,
)
async def facilitator_tasks(
    principal: CurrentPrincipal,
    pool: Pool,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> TaskPage:
    if Role.FACILITATOR not in principal.roles:
        raise Problem(403, "forbidden", "Not allowed", "the task feed is for facilitators")
    places = directory()
    async with pool.acquire() as conn, conn.transaction():
        me = await assignees.person_of_subject(conn, principal.subject)
        rows = await store.list_status(
            conn,
            # A person of the directory sees what is assigned to them (their villages, in any
            # sub-district) and nothing else; anyone else their token's area, as before.
            area="" if me is not None else principal.area,
            assignee=me,
            steps=list(FACILITATOR_TASK_STEPS),
            category=None,
            program=None,
            overdue=None,
            submitted_from=None,
            submitted_to=None,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
            within=None if me is not None or not principal.areas else principal.scopes,
        )
        page = rows[:limit]
        ids = [r["complaint_id"] for r in page]
        complaints = await casefile_store.submitted_many(conn, ids)
        timelines = await casefile_store.case_timelines(conn, ids)
        items: list[TaskOut] = []
        for r in page:
            person = casefile.visit_person(complaints[r["complaint_id"]])
            place = places.get(r["place_code"])
            items.append(
                TaskOut(
                    complaint_id=r["complaint_id"],
                    ticket_number=r["ticket_number"],
                    kind=FACILITATOR_TASK_STEPS[r["step"]],
                    place_code=r["place_code"],
                    village_name=place.name if place else None,
                    category=r["category"],
                    step_due=r["step_due"],
                    overdue=r["overdue"],
                    household=person,
                    task=casefile.visit_task(r["step"], timelines[r["complaint_id"]]),
                    assignee=r["assignee"],
                )
            )
        await casefile_store.audit(
            conn,
            actor=principal.subject,
            actor_role=Role.FACILITATOR.value,
            action="task_feed",
            reads=[
                (t.complaint_id, t.place_code, r["step"], casefile.task_fields(t.household))
                for t, r in zip(items, page, strict=True)
            ],
        )
    return TaskPage(
        items=items,
        next_cursor=encode_cursor(page[-1]) if len(rows) > limit else None,
    )


class StrandedTask(BaseModel):
    complaint_id: UUID
    ticket_number: str
    step: str
    place_code: str
    assignee: UUID
    """The person holding the step who is no longer active in the staff directory."""


class StrandedPage(BaseModel):
    items: list[StrandedTask]
    count: int


STRANDED_READERS = frozenset({Role.ADMINISTRATOR, Role.MANAGER, Role.SUPERVISOR})


@router.get(
    "/tasks/stranded",
    response_model=StrandedPage,
    summary="Open complaints in your area held by a person who is gone (should be none)",
    description="The check behind the gauge `slrt_intake_tasks_with_inactive_holder`: every "
    "open complaint whose current step is assigned to a person the staff directory no longer "
    "has active. A handover moves them when the directory changes; anything listed here "
    "was missed. Administrators, managers and supervisors, in their area.",
    responses=PROBLEMS,
)
async def stranded_tasks(principal: CurrentPrincipal, pool: Pool) -> StrandedPage:
    if not principal.roles & STRANDED_READERS:
        raise Problem(
            403, "forbidden", "Not allowed", "administrators, managers and supervisors only"
        )
    async with pool.acquire() as conn:
        rows = await assignees.stranded(conn, principal.area)
    items = [
        StrandedTask(
            complaint_id=r["complaint_id"],
            ticket_number=r["ticket_number"],
            step=r["step"],
            place_code=r["place_code"],
            assignee=r["assignee"],
        )
        for r in rows
    ]
    return StrandedPage(items=items, count=len(items))
