"""Accepting a complaint: the rules, a ticket number, the complaint row, its first status and
its ``complaint.submitted`` event — all in one transaction, idempotent on the client's key."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from services.intake import store
from services.intake.domain import (
    check_answer,
    check_program,
    check_submission,
    new_tracking_code,
    normal_nik,
    phone_last4,
    status_of,
    ticket_number,
)
from services.intake.schemas import Links, SubmissionIn, SubmissionOut
from slrt import outbox
from slrt.auth.principal import Principal, Role
from slrt.contracts.complainants import complainant_reference, lookup_kind
from slrt.contracts.complaints import ComplaintSnapshot, ComplaintStep, InformationAnswer
from slrt.contracts.events import Complainant, ComplaintSubmitted, ProgramCatalogEntry
from slrt.contracts.vocabulary import Category, Channel
from slrt.db import Connection
from slrt.errors import Conflict, Invalid
from slrt.masking import mask_free_text
from slrt.places import PlaceDirectory

SOURCE = "/slrt/intake"
WIB = timedelta(hours=7)
"""Ticket years follow Western Indonesia Time (the districts' calendar year)."""


@dataclass(frozen=True)
class Accepted:
    complaint: SubmissionOut
    replayed: bool


def request_hash(submission: SubmissionIn) -> str:
    canonical = json.dumps(submission.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def links(base_url: str, complaint_id: uuid.UUID) -> Links:
    return Links(self=f"{base_url}/v1/complaints/{complaint_id}", tracking=f"{base_url}/track")


async def submit(
    pool: asyncpg.Pool,
    submission: SubmissionIn,
    principal: Principal,
    key: str,
    places: PlaceDirectory,
    base_url: str,
    now: datetime | None = None,
) -> Accepted:
    """Accept ``submission`` once per (caller, key); a replay returns the original answer.

    Raises ``Invalid`` (rules broken, fields named) or ``Conflict`` (the key was used for a
    different submission).
    """
    now = now or datetime.now(UTC)
    checked = check_submission(submission, places, principal, (now + WIB).date())
    if checked.errors:
        raise Invalid(
            "One or more fields break a rule; see errors.",
            errors=checked.errors,
            kind="invalid-complaint",
            title="The complaint breaks intake rules",
        )
    fingerprint = request_hash(submission)
    args = (submission, checked.village_code, checked.warnings, principal, key, fingerprint)
    async with pool.acquire() as conn:
        if submission.answer is None:
            # The usual case in ONE round trip: the statement writes the counter, complaint,
            # status and outbox row unless the key already has a complaint or the named program
            # is not one the catalog copy shows fit (``store.accept``); then nothing is written
            # and the read below decides (a replay, or the rule's 422 naming the field).
            created = await _create(
                conn, *args, now, base_url, program_known=_program_guard(submission)
            )
            if created is not None:
                return Accepted(created, replayed=False)
        # Otherwise two: one read (a prior answer under this key, the named program), then the
        # statement again, without the program guard once the rule has passed.
        for _ in range(2):
            prior = await store.prior_submission(
                conn, principal.subject, key, submission.program_code
            )
            if prior["id"] is not None:
                return Accepted(_replay(prior, fingerprint, base_url), replayed=True)
            # Against the catalog as it is now: a replay keeps its first answer.
            _check_program(submission, prior)
            answer = await _information_answer(conn, submission, checked.village_code)
            created = await _create(conn, *args, now, base_url, answer)
            if created is not None:
                return Accepted(created, replayed=False)
            # A concurrent request with this key won: the next read finds its answer.
    raise RuntimeError("idempotency key raced twice")  # a unique key cannot race twice


def _program_guard(submission: SubmissionIn) -> store.ProgramGuard | None:
    """What the one-statement path checks of the named program (``store.accept``): what
    :func:`check_program` lets through (the test of that path shows both agree)."""
    if not submission.program_code:
        return None
    return store.ProgramGuard(
        code=submission.program_code,
        takes_needs=submission.category is Category.PROGRAM_NEED,
    )


def _check_program(submission: SubmissionIn, prior: asyncpg.Record) -> None:
    """Refuse a program the catalog does not know, or that cannot be needed (422)."""
    if not submission.program_code:
        return
    entry = prior["program_entry"]
    error = check_program(
        submission.category,
        submission.program_code,
        None if entry is None else ProgramCatalogEntry.model_validate(entry),
        entry is not None or bool(prior["catalog_known"]),
    )
    if error is not None:
        raise Invalid(
            "One or more fields break a rule; see errors.",
            errors=[error],
            kind="invalid-complaint",
            title="The complaint breaks intake rules",
        )


async def _information_answer(
    conn: Connection, submission: SubmissionIn, village_code: str
) -> InformationAnswer | None:
    """The answer an information request names, with its entry's topic (422 when intake does
    not know the entry, or it is another district's)."""
    given = submission.answer
    if given is None:
        return None
    found = await store.program_info(conn, given.entry_id)
    entry = None if found is None else dict(found)
    error = check_answer(entry, given.entry_version, village_code)
    if error is not None or entry is None:
        raise Invalid(
            "One or more fields break a rule; see errors.",
            errors=[error] if error else [],
            kind="invalid-complaint",
            title="The complaint breaks intake rules",
        )
    return InformationAnswer(
        entry_id=given.entry_id,
        entry_version=given.entry_version,
        topic=entry["topic"],
        answer=given.answer,
    )


def _replay(existing: asyncpg.Record, fingerprint: str, base_url: str) -> SubmissionOut:
    if existing["request_hash"] != fingerprint:
        raise Conflict(
            "this key was used for a different submission; use a new key",
            kind="idempotency-key-reused",
            title="Idempotency key already used",
        )
    return SubmissionOut(
        complaint_id=existing["id"],
        ticket_number=existing["ticket_number"],
        status=status_of(existing["step"]),
        step=ComplaintStep(existing["step"]),
        tracking_code=existing["tracking_code"],
        warnings=list(existing["warnings"]),
        links=links(base_url, existing["id"]),
    )


async def _create(
    conn: Connection,
    submission: SubmissionIn,
    village_code: str,
    warnings: list[str],
    principal: Principal,
    key: str,
    fingerprint: str,
    now: datetime,
    base_url: str,
    answer: InformationAnswer | None = None,
    program_known: store.ProgramGuard | None = None,
) -> SubmissionOut | None:
    """The new complaint, accepted in one statement; ``None`` when a request with the same key
    committed first, or ``program_known`` did not hold (nothing of this one stays)."""
    complaint_id = uuid.uuid4()
    district = village_code[:4]
    year = (now + WIB).year
    # A stand-in of the right shape: ``store.accept`` draws the serial and writes the number
    # into the rows and the event.
    ticket = ticket_number(district, year, 0)
    person = submission.complainant
    complainant = (
        None
        if person is None
        else Complainant(
            nik=normal_nik(person.nik),
            kk_number=person.kk_number,
            name=person.name,
            sex=person.sex,
            birth_date=person.birth_date,
            address=person.address,
            village_code=village_code,
        )
    )
    tracking_code = new_tracking_code()
    row = {
        "id": complaint_id,
        "submitted_by": principal.subject,
        "idempotency_key": key,
        "request_hash": fingerprint,
        "channel": submission.channel.value,
        "category": submission.category.value,
        "village_code": village_code,
        "program_code": submission.program_code,
        "sub_type": submission.sub_type,
        "anonymous": submission.anonymous,
        # JSON text for ``store.JSON_TEXT_COLUMNS``.
        "complainant": None if complainant is None else complainant.model_dump_json(),
        "phone": person.phone if person else None,
        "email": person.email if person else None,
        "phone_last4": phone_last4(person.phone) if person else None,
        "tracking_code": tracking_code,
        "description": submission.description,
        "occurred_on": submission.occurred_on,
        "warnings": warnings,
        "submitted_at": now,
        "information_answer": None if answer is None else answer.model_dump_json(),
    }
    facilitator_captured = submission.channel is Channel.FACILITATOR_VISIT
    snapshot = ComplaintSnapshot(
        complaint_id=complaint_id,
        ticket_number=ticket,
        step=ComplaintStep.RECEIVED,
        holder_role=Role.SUPERVISOR if facilitator_captured else None,
        place_code=village_code,
        category=submission.category,
        channel=submission.channel,
        program_code=submission.program_code,
    )
    event = ComplaintSubmitted(
        complaint_id=complaint_id,
        ticket_number=ticket,
        channel=submission.channel,
        category=submission.category,
        village_code=village_code,
        program_code=submission.program_code,
        sub_type=submission.sub_type,
        anonymous=submission.anonymous,
        # The identity stays here: the registry redeems the reference (``complainant.py``).
        complainant_ref=None if complainant is None else complainant_reference(complaint_id),
        lookup=None if complainant is None else lookup_kind(complainant),
        # Masked for everything downstream (Kafka, Temporal, referrals, dashboards); the full
        # text is the complaints row's.
        description=mask_free_text(submission.description),
        occurred_on=submission.occurred_on,
        submitted_at=now,
        submitted_by=principal.subject,
        information_answer=None
        if answer is None
        else answer.model_copy(update={"answer": mask_free_text(answer.answer)}),
    )
    outbox_row = outbox.row(event, source=SOURCE, subject=str(complaint_id))
    accepted = await store.accept(
        conn, row, snapshot, outbox_row, year, program_known=program_known
    )
    if accepted is None:
        return None
    return SubmissionOut(
        complaint_id=complaint_id,
        ticket_number=accepted,
        status="open",
        step=ComplaintStep.RECEIVED,
        tracking_code=tracking_code,
        warnings=warnings,
        links=links(base_url, complaint_id),
    )
