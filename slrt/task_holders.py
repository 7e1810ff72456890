"""Who holds a complaint's task: the one rule intake (the assignee on the complaint's current
step, the task feed, handover) and the notifier (reminders, escalations, digests to persons)
both apply, each to its own copy of the staff directory (``slrt.contracts.staff``).

Pure: the caller gathers the :class:`Candidates` of one village from its copy (who holds the
village now, who held it last, their supervisor, the role holders whose areas cover it) and
asks :func:`holder_for_role`. The role comes from the step (``workflows.rules.HOLDER``) or from
the ``<role>:<area>`` a notification is addressed to.

- facilitator's tasks (feedback visit, information request, correction): the village's
  assigned facilitator; none (the assignment ended with no successor, or the person left) →
  the supervisor's queue: the supervisor of the village's last facilitator, else the single
  supervisor covering the village; else nobody (the role holders of the area, as before
  persons existed).
- supervisor review: the supervisor of the village's facilitator (current, else last), else
  the single supervisor covering the village.
- back office, manager, front office: the assigned person where there is one (the single role
  holder at the most specific level covering the village, e.g. a Puskesos' back office);
  several at that level → nobody in particular: the area's role holders share the queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from slrt import staff_directory as sd
from slrt.auth.principal import Role


class Basis(StrEnum):
    """Why a person holds the task (kept with a handover's timeline entry)."""

    VILLAGE_ASSIGNMENT = "village_assignment"
    SUPERVISOR_QUEUE = "supervisor_queue"
    SUPERVISION = "supervision"
    SOLE_ROLE_HOLDER = "sole_role_holder"
    ROLE_HOLDERS = "role_holders"
    """Nobody in particular: the area's role holders (``holders``) share it."""


@dataclass(frozen=True)
class RoleHolder:
    """A person holding ``role`` whose areas cover the village; ``depth`` is the length of the
    most specific of their areas covering it (10 village … 0 national)."""

    person_id: UUID
    depth: int


@dataclass(frozen=True)
class Candidates:
    """What the directory says about one village (only active persons are named)."""

    village_code: str
    facilitator: UUID | None = None
    """The village's facilitator now (an open spell of an active person)."""
    last_facilitator: UUID | None = None
    """The person of the village's latest spell, when none is open (or its person left)."""
    supervisor: UUID | None = None
    """The active supervisor of ``facilitator`` (else of ``last_facilitator``)."""
    role_holders: Mapping[Role, Sequence[RoleHolder]] = field(default_factory=dict)


@dataclass(frozen=True)
class Holder:
    person_id: UUID | None
    basis: Basis
    holders: tuple[UUID, ...] = ()
    """Everyone the task's messages go to: the person, or the area's role holders."""


def nearest(holders: Iterable[RoleHolder]) -> tuple[UUID, ...]:
    """The role holders at the most specific level covering the village (sorted, stable)."""
    listed = list(holders)
    if not listed:
        return ()
    depth = max(h.depth for h in listed)
    return tuple(sorted({h.person_id for h in listed if h.depth == depth}, key=str))


def _sole_or_queue(candidates: Candidates, role: Role) -> Holder:
    near = nearest(candidates.role_holders.get(role, ()))
    if len(near) == 1:
        return Holder(near[0], Basis.SOLE_ROLE_HOLDER, near)
    return Holder(None, Basis.ROLE_HOLDERS, near)


def holder_for_role(role: Role | None, candidates: Candidates) -> Holder | None:
    """Who holds the village's task of ``role`` (None: no person's task, e.g. a program's)."""
    if role is None or role is Role.PROGRAM_MANAGER:
        return None
    if role is Role.FACILITATOR:
        if candidates.facilitator is not None:
            return Holder(
                candidates.facilitator, Basis.VILLAGE_ASSIGNMENT, (candidates.facilitator,)
            )
        if candidates.supervisor is not None:
            return Holder(candidates.supervisor, Basis.SUPERVISOR_QUEUE, (candidates.supervisor,))
        queue = _sole_or_queue(candidates, Role.SUPERVISOR)
        if queue.person_id is not None:
            return Holder(queue.person_id, Basis.SUPERVISOR_QUEUE, queue.holders)
        return _sole_or_queue(candidates, Role.FACILITATOR)
    if role is Role.SUPERVISOR and candidates.supervisor is not None:
        return Holder(candidates.supervisor, Basis.SUPERVISION, (candidates.supervisor,))
    return _sole_or_queue(candidates, role)


PERSON_ROLES: tuple[Role, ...] = (
    Role.FACILITATOR,
    Role.SUPERVISOR,
    Role.FRONT_OFFICE,
    Role.BACK_OFFICE,
    Role.MANAGER,
)
"""Roles whose steps a person of the directory holds."""


def candidates(snapshot: sd.DirectorySnapshot, village_code: str, at: datetime) -> Candidates:
    """What ``snapshot`` says about ``village_code`` at ``at`` (``slrt.staff_directory``)."""
    current = sd.village_facilitator(snapshot, village_code, at)
    last: UUID | None = None
    if current is None and (record := snapshot.villages.get(village_code)) is not None:
        last = record.spells[-1].person_id if record.spells else None
    facilitator = current.person_id if current is not None else last
    supervisor = sd.supervisor_of(snapshot, facilitator, at) if facilitator is not None else None
    holders: dict[Role, list[RoleHolder]] = {}
    for role in PERSON_ROLES:
        holders[role] = [
            RoleHolder(p.person_id, max(len(a) for a in p.areas if village_code.startswith(a)))
            for p in sd.role_holders(snapshot, role, village_code, at)
        ]
    return Candidates(
        village_code=village_code,
        facilitator=current.person_id if current is not None else None,
        last_facilitator=last,
        supervisor=supervisor.person_id if supervisor is not None else None,
        role_holders=holders,
    )


def role_of_destination(destination: str) -> tuple[Role, str] | None:
    """``<role>:<area>`` as the workflow addresses staff → (role, area); None for anything
    else (a program code, a user id, a household reference) or a role of no person
    (``district_coordination``, ``province``: mailboxes of the contacts file)."""
    role, sep, area = destination.partition(":")
    if not sep or not (area.isdigit() or area == ""):
        return None
    try:
        return Role(role), area
    except ValueError:
        return None
