"""Messages to persons (issue 19): a staff request addressed to ``<role>:<area>`` (a reminder,
an escalation, a facilitator's task) goes to the person of the staff directory who holds that
role's task for the complaint's village — the village's facilitator, the supervisor of that
facilitator, the single back office / manager covering the village — or, when nobody in
particular holds it, to each of the area's role holders; by the person's preferred channel
(email or SMS). The rule is ``slrt.task_holders`` (intake records the same holder as the
step's assignee). A request about an area rather than a complaint's village (the dashboard's
monitoring reminders to ``manager:<district or province>``, ``place_code`` the area itself) goes
to each active person holding that role for that very area (``area_holders``: the district's
managers, not the province's nor a sub-district's). Nobody in the directory (or nobody with a
contact): the request stays as it came and the static contacts file
(``SLRT_NOTIFIER_CONTACTS_FILE``) answers, as before.

Resolved when the request is recorded, and again for a reminder still waiting for its digest
when the directory changes (``readdress_waiting``: a person who left, a village handed over),
so a digest never goes to someone who is gone: the delivery's ``destination`` becomes
``person:<person id>`` (so a person's digest gathers their reminders from every complaint and
area) and its ``recipient`` the person's work contact; ``params.addressed_to`` keeps the
workflow's address. A request for several role holders becomes one delivery each (the first
keeps the request id, the others a request id derived from it and the person).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from slrt import staff_copy, task_holders
from slrt.auth.principal import Role
from slrt.contracts.events import NotificationRequested, Recipient
from slrt.contracts.staff import ContactChannel, StaffPerson
from slrt.contracts.vocabulary import NotificationKind
from slrt.db import Connection

STAFF_KINDS = frozenset(
    {NotificationKind.REMINDER, NotificationKind.ESCALATION, NotificationKind.FACILITATOR_TASK}
)


def person_destination(person_id: uuid.UUID) -> str:
    return f"person:{person_id}"


def contact_of(person: StaffPerson) -> Recipient | None:
    """The person's work contact on their preferred channel (the other when it is missing)."""
    email = Recipient(email=person.email) if person.email else None
    phone = Recipient(phone=person.phone) if person.phone else None
    if person.preferred_channel is ContactChannel.SMS:
        return phone or email
    return email or phone


def addressed(
    request: NotificationRequested, holders: list[StaffPerson]
) -> list[NotificationRequested]:
    """``request`` once per holder with a contact (pure)."""
    out: list[NotificationRequested] = []
    for person in holders:
        contact = contact_of(person)
        if contact is None:
            continue
        request_id = (
            request.request_id
            if not out
            else uuid.uuid5(request.request_id, person_destination(person.person_id))
        )
        out.append(
            request.model_copy(
                update={
                    "request_id": request_id,
                    "destination": person_destination(person.person_id),
                    "recipient": contact,
                    "params": {**request.params, "addressed_to": request.destination},
                }
            )
        )
    return out


def area_holders(
    persons: list[StaffPerson], role: Role, area: str, at: datetime
) -> list[StaffPerson]:
    """The persons active at ``at`` holding ``role`` for ``area`` itself (pure; by id)."""
    return sorted(
        (p for p in persons if role in p.roles and area in p.areas and p.active_at(at)),
        key=lambda p: str(p.person_id),
    )


async def resolve(
    conn: Connection, request: NotificationRequested, now: datetime
) -> list[NotificationRequested]:
    """The deliveries to record for ``request`` (itself, unchanged, when no person applies)."""
    if request.kind not in STAFF_KINDS or request.recipient is not None:
        return [request]
    parsed = task_holders.role_of_destination(request.destination)
    if parsed is None:
        return [request]
    role, area = parsed
    village = request.place_code or ""
    if len(village) != 10:
        if not area or village != area or role not in task_holders.PERSON_ROLES:
            return [request]
        found = await staff_copy.persons_of_area(conn, role.value, area)
        return addressed(request, area_holders(found, role, area, now)) or [request]
    snapshot = await staff_copy.snapshot_for(conn, [village])
    holder = task_holders.holder_for_role(role, task_holders.candidates(snapshot, village, now))
    if holder is None:
        return [request]
    ids = [holder.person_id] if holder.person_id is not None else list(holder.holders)
    persons = [p for i in ids if (p := snapshot.persons.get(i)) is not None and p.active_at(now)]
    return addressed(request, persons) or [request]


async def readdress_waiting(conn: Connection, now: datetime) -> int:
    """Resolve again every reminder waiting for its digest (after a directory change): one
    addressed to a person, and one still addressed to a role and area (nobody in the directory
    held it when it came: a manager added since gets it); how many changed addressee. One
    waiting delivery stays one delivery: it goes to the first person the rule names now (or back
    to the workflow's address, for the contacts file, when nobody in the directory holds it)."""
    changed = 0
    rows = await conn.fetch(
        "SELECT id, destination, request FROM deliveries WHERE status = 'digest' "
        "AND destination LIKE '%:%' FOR UPDATE SKIP LOCKED"
    )
    for row in rows:
        stored = NotificationRequested.model_validate(row["request"])
        if not str(row["destination"]).startswith("person:"):
            asked = stored  # still the workflow's (or the dashboard's) address
        else:
            original = stored.params.get("addressed_to")
            if not original:
                continue
            params = {k: v for k, v in stored.params.items() if k != "addressed_to"}
            asked = stored.model_copy(
                update={"destination": str(original), "recipient": None, "params": params}
            )
        now_for = (await resolve(conn, asked, now))[0].model_copy(
            update={"request_id": stored.request_id}
        )
        if now_for.destination == row["destination"]:
            continue
        await conn.execute(
            "UPDATE deliveries SET destination = $2, request = $3 WHERE id = $1",
            row["id"],
            now_for.destination,
            now_for.model_dump(mode="json"),
        )
        changed += 1
    return changed
