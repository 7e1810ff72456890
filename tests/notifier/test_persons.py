"""Messages to persons against the notifier's real schema: a reminder addressed
``facilitator:<village>`` is recorded for the village's facilitator (their contact, their
destination), a supervisor's escalation for that facilitator's supervisor, a role without a
person stays as it came (the contacts file answers), and a reminder waiting for the digest
follows a handover of its village before the digest goes out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from services.notifier import persons, store
from services.notifier.domain import DeliveryStatus
from slrt import staff_copy
from slrt.auth.principal import Role
from slrt.contracts.events import NotificationRequested
from slrt.contracts.staff import ContactChannel, StaffPerson
from slrt.contracts.vocabulary import NotificationKind
from slrt.db import Connection
from tests.support import staff

V1 = "3204052001"
SINCE = datetime.now(UTC) - timedelta(days=30)


def _person(name: str, role: Role, channel: ContactChannel = ContactChannel.EMAIL) -> StaffPerson:
    return staff.person(
        [role],
        ["320405"],
        since=SINCE,
        subject=name,
        display_name=name,
        email=f"{name}@example.go.id",
        phone="+6281234500077",
        channel=channel,
    )


def _request(kind: NotificationKind, destination: str) -> NotificationRequested:
    return NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=uuid.uuid4(),
        place_code=V1,
        kind=kind,
        destination=destination,
        template="step_at_risk",
        params={"ticket": "3204-26-000009", "due_on": "2026-12-01"},
    )


async def _record(conn: Connection, request: NotificationRequested) -> None:
    for addressed in await persons.resolve(conn, request, datetime.now(UTC)):
        await store.insert_request(
            conn,
            addressed,
            status=DeliveryStatus.DIGEST,
            next_attempt_at=datetime.now(UTC) + timedelta(hours=1),
            digest=True,
        )


async def test_staff_requests_go_to_the_person_holding_the_step_and_follow_a_handover(
    pool: asyncpg.Pool,
) -> None:
    leaving = _person("fasilitator-a", Role.FACILITATOR)
    successor = _person("fasilitator-b", Role.FACILITATOR)
    supervisor = _person("supervisor", Role.SUPERVISOR, ContactChannel.SMS)
    village = staff.village(V1, staff.spell(leaving, SINCE), at=SINCE)
    async with pool.acquire() as conn:
        for record in (
            leaving,
            successor,
            supervisor,
            village,
            staff.supervision(leaving, staff.spell(supervisor, SINCE), at=SINCE),
        ):
            assert await staff_copy.keep_record(conn, record, contacts=True)
        reminder = _request(NotificationKind.REMINDER, f"facilitator:{V1}")
        escalation = _request(NotificationKind.ESCALATION, "supervisor:320405")
        coordination = _request(NotificationKind.ESCALATION, "district_coordination:3204")
        for request in (reminder, escalation, coordination):
            await _record(conn, request)

        async def stored(request: NotificationRequested) -> NotificationRequested:
            row = await conn.fetchrow(
                "SELECT destination, request FROM deliveries WHERE request_id = $1",
                request.request_id,
            )
            assert row is not None
            kept = NotificationRequested.model_validate(row["request"])
            assert kept.destination == row["destination"]
            return kept

        kept = await stored(reminder)
        assert kept.destination == f"person:{leaving.person_id}"
        assert kept.recipient is not None
        assert kept.recipient.email == leaving.email
        assert kept.params["addressed_to"] == f"facilitator:{V1}"
        sms = (await stored(escalation)).recipient
        assert sms is not None
        assert (sms.phone, sms.email) == (supervisor.phone, None)
        unchanged = await stored(coordination)
        assert unchanged.destination == "district_coordination:3204"
        assert unchanged.recipient is None

        # The village is handed over before the digest hour: the waiting reminder follows.
        now = datetime.now(UTC)
        handed = village.model_copy(
            update={
                "spells": [staff.spell(leaving, SINCE, now), staff.spell(successor, now)],
                "version": 2,
                "updated_at": now,
            }
        )
        assert await staff_copy.keep_record(conn, handed, contacts=True)
        assert await persons.readdress_waiting(conn, now + timedelta(seconds=1)) == 1
        moved = await stored(reminder)
        assert moved.destination == f"person:{successor.person_id}"
        assert moved.recipient is not None
        assert moved.recipient.email == successor.email
        assert moved.request_id == reminder.request_id


async def test_an_area_reminder_goes_to_the_persons_holding_the_role_for_that_area(
    pool: asyncpg.Pool,
) -> None:
    """The dashboard's monitoring reminders are about an area (``manager:3204``, its
    ``place_code`` the district): the district's managers of the directory get them; not the
    province's nor a sub-district's, not one who left; nobody there → the contacts file."""

    def manager(name: str, area: str, **more: object) -> StaffPerson:
        return _person(name, Role.MANAGER).model_copy(update={"areas": [area], **more})

    district = manager("manajer-3204", "3204")
    province = manager("manajer-32", "32")
    sub_district = manager("manajer-320405", "320405")
    left = manager("manajer-lama", "3204", active_until=datetime.now(UTC) - timedelta(days=1))

    def reminder(area: str) -> NotificationRequested:
        return NotificationRequested(
            request_id=uuid.uuid4(),
            complaint_id=None,
            place_code=area,
            kind=NotificationKind.REMINDER,
            destination=f"manager:{area}",
            template="me_due_reminder",
            params={"ticket": "Kuesioner pemantauan 2026-Q3", "area": area},
        )

    async with pool.acquire() as conn:
        for record in (district, province, sub_district, left):
            assert await staff_copy.keep_record(conn, record, contacts=True)
        ours, nobodys = reminder("3204"), reminder("3273")
        now = datetime.now(UTC)
        await _record(conn, nobodys)  # waits for the digest, addressed to the contacts file
        (to_district,) = await persons.resolve(conn, ours, now)
        assert to_district.destination == f"person:{district.person_id}"
        assert to_district.recipient is not None
        assert to_district.recipient.email == district.email
        assert to_district.params["addressed_to"] == "manager:3204"
        assert to_district.request_id == ours.request_id
        assert await persons.resolve(conn, nobodys, now) == [nobodys]
        # The province's round reaches the province's manager.
        (to_province,) = await persons.resolve(conn, reminder("32"), now)
        assert to_province.destination == f"person:{province.person_id}"

        # Kota Bandung's manager joins the directory before the digest hour: the reminder that
        # was waiting for the contacts file goes to them.
        newcomer = manager("manajer-3273", "3273")
        assert await staff_copy.keep_record(conn, newcomer, contacts=True)
        assert await persons.readdress_waiting(conn, datetime.now(UTC)) == 1
        row = await conn.fetchrow(
            "SELECT destination, request FROM deliveries WHERE request_id = $1",
            nobodys.request_id,
        )
        assert row is not None
        assert row["destination"] == f"person:{newcomer.person_id}"
        moved = NotificationRequested.model_validate(row["request"])
        assert moved.recipient is not None
        assert moved.recipient.email == newcomer.email
        assert moved.params["addressed_to"] == "manager:3273"
