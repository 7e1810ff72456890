"""Intake's internal contact endpoint: only the notifier's service account redeems a household
contact reference, anonymous complaints release nothing, and every redemption is audited."""

from __future__ import annotations

import uuid

from slrt.auth.principal import Role
from slrt.contracts.contacts import REDEEM_PATH, household_reference
from tests.support.intake import Intake, known_programs, walk_in

SERVICE = "service:notifier"


def _body(complaint_id: uuid.UUID | str, purpose: str = "household_registered") -> dict[str, str]:
    return {
        "reference": household_reference(uuid.UUID(str(complaint_id))),
        "request_id": str(uuid.uuid4()),
        "purpose": purpose,
    }


def _service(intake: Intake) -> dict[str, str]:
    return intake.auth(Role.NOTIFIER_SERVICE, "", subject=SERVICE)


async def test_the_notifier_redeems_a_reference_and_the_redemption_is_audited(
    intake: Intake,
) -> None:
    complainant = {**walk_in()["complainant"], "email": "siti@example.id"}
    submitted = (await intake.submit(walk_in(complainant=complainant))).json()
    body = _body(submitted["complaint_id"], "household_outcome")

    got = await intake.client.post(REDEEM_PATH, json=body, headers=_service(intake))

    assert got.status_code == 200, got.text
    assert got.json() == {
        "reference": body["reference"],
        "ticket_number": submitted["ticket_number"],
        "place_code": "3204052001",
        "anonymous": False,
        "phone": "081234567890",
        "email": "siti@example.id",
        "language": "id",
    }
    async with intake.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT * FROM contact_redemptions WHERE complaint_id = $1",
            uuid.UUID(submitted["complaint_id"]),
        )
    assert [
        (r["caller"], r["caller_roles"], str(r["request_id"]), r["purpose"], r["released"])
        for r in rows
    ] == [
        (SERVICE, ["notifier_service"], body["request_id"], "household_outcome", ["phone", "email"])
    ]
    assert rows[0]["outcome"] == "released"
    assert rows[0]["at"] is not None
    # The disclosure is in the data manager's audit log beside staff reads.
    log = await intake.client.get(
        "/v1/audit",
        params={"complaint_id": submitted["complaint_id"]},
        headers=intake.auth(Role.DATA_MANAGER, "3204"),
    )
    assert log.status_code == 200, log.text
    assert [
        (i["actor"], i["actor_role"], i["action"], i["fields"]) for i in log.json()["items"]
    ] == [(SERVICE, "notifier_service", "contact_redeemed", ["phone", "email"])]


async def test_staff_and_strangers_may_not_redeem(intake: Intake) -> None:
    submitted = (await intake.submit(walk_in())).json()
    body = _body(submitted["complaint_id"])
    anonymous = await intake.client.post(REDEEM_PATH, json=body)
    assert anonymous.status_code == 401
    for role in (Role.BACK_OFFICE, Role.MANAGER, Role.FACILITATOR, Role.FRONT_OFFICE):
        staff = await intake.client.post(REDEEM_PATH, json=body, headers=intake.auth(role, "3204"))
        assert staff.status_code == 403, (role, staff.text)
        assert "081234567890" not in staff.text
    async with intake.pool.acquire() as conn:
        audited = await conn.fetchval("SELECT count(*) FROM contact_redemptions")
    assert audited == 0


async def test_an_unknown_reference_is_404_and_audited(intake: Intake) -> None:
    unknown = uuid.uuid4()
    got = await intake.client.post(REDEEM_PATH, json=_body(unknown), headers=_service(intake))
    assert got.status_code == 404
    async with intake.pool.acquire() as conn:
        outcome = await conn.fetchval(
            "SELECT outcome FROM contact_redemptions WHERE complaint_id = $1", unknown
        )
    assert outcome == "unknown"


async def test_an_anonymous_complaint_releases_nothing(intake: Intake) -> None:
    await known_programs(intake, "PKH")
    body = walk_in(anonymous=True, complainant=None, category="implementation", program_code="PKH")
    submitted = (await intake.submit(body)).json()
    got = await intake.client.post(
        REDEEM_PATH, json=_body(submitted["complaint_id"]), headers=_service(intake)
    )
    assert got.status_code == 200
    assert got.json()["anonymous"] is True
    assert got.json()["phone"] is None
    assert got.json()["email"] is None


async def test_a_bad_reference_names_the_field(intake: Intake) -> None:
    body = {"reference": "household:SLRT-3204-1", "request_id": str(uuid.uuid4()), "purpose": "x"}
    got = await intake.client.post(REDEEM_PATH, json=body, headers=_service(intake))
    assert got.status_code == 422
    assert "reference" in got.text


async def test_a_bad_email_is_refused_naming_the_field(intake: Intake) -> None:
    complainant = {**walk_in()["complainant"], "email": "not-an-address"}
    got = await intake.submit(walk_in(complainant=complainant))
    assert got.status_code == 422
    assert "email" in got.text
    assert "not-an-address" not in got.text
