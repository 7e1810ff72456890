"""Intake's internal complainant endpoint: only the registry's service account redeems a
complainant reference, anonymous complaints release nothing, every redemption is audited; and
the submitted event carries the reference, not the identity."""

from __future__ import annotations

import uuid

from slrt.auth.principal import Role
from slrt.contracts.complainants import REDEEM_PATH, complainant_reference
from slrt.contracts.events import ComplaintSubmitted
from slrt.contracts.vocabulary import LookupKind
from tests.support.intake import Intake, known_programs, walk_in

SERVICE = "service:registry"
NIK = "3204054107850003"


def _body(complaint_id: uuid.UUID | str, purpose: str = "registry_check") -> dict[str, str]:
    return {
        "reference": complainant_reference(uuid.UUID(str(complaint_id))),
        "request_id": str(uuid.uuid4()),
        "purpose": purpose,
    }


def _service(intake: Intake) -> dict[str, str]:
    return intake.auth(Role.REGISTRY_SERVICE, "", subject=SERVICE)


async def test_the_registry_redeems_a_reference_and_the_redemption_is_audited(
    intake: Intake,
) -> None:
    submitted = (await intake.submit(walk_in())).json()
    body = _body(submitted["complaint_id"], "prelist")

    got = await intake.client.post(REDEEM_PATH, json=body, headers=_service(intake))

    assert got.status_code == 200, got.text
    assert got.json() == {
        "reference": body["reference"],
        "anonymous": False,
        "complainant": {
            "nik": NIK,
            "kk_number": None,
            "name": "Siti Aminah",
            "sex": "female",
            "birth_date": None,
            "address": "Kp. Sukamaju RT 01 RW 02",
            "village_code": "3204052001",
        },
    }
    assert NIK not in str(got.headers)
    async with intake.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT * FROM contact_redemptions WHERE complaint_id = $1",
            uuid.UUID(submitted["complaint_id"]),
        )
    released = ["nik", "name", "sex", "address"]
    assert [
        (r["caller"], r["caller_roles"], str(r["request_id"]), r["purpose"], r["released"])
        for r in rows
    ] == [(SERVICE, ["registry_service"], body["request_id"], "prelist", released)]
    assert rows[0]["outcome"] == "released"
    # The disclosure is in the data manager's audit log beside staff reads: one row per call.
    log = await intake.client.get(
        "/v1/audit",
        params={"complaint_id": submitted["complaint_id"]},
        headers=intake.auth(Role.DATA_MANAGER, "3204"),
    )
    assert log.status_code == 200, log.text
    assert [
        (i["actor"], i["actor_role"], i["action"], i["fields"]) for i in log.json()["items"]
    ] == [(SERVICE, "registry_service", "complainant_redeemed", released)]


async def test_staff_strangers_and_the_notifier_may_not_redeem(intake: Intake) -> None:
    submitted = (await intake.submit(walk_in())).json()
    body = _body(submitted["complaint_id"])
    anonymous = await intake.client.post(REDEEM_PATH, json=body)
    assert anonymous.status_code == 401
    roles = (
        Role.BACK_OFFICE,
        Role.MANAGER,
        Role.FACILITATOR,
        Role.FRONT_OFFICE,
        Role.DATA_MANAGER,
        Role.NOTIFIER_SERVICE,
        Role.WORKFLOW_OPERATOR,
    )
    for role in roles:
        area = "" if role in (Role.NOTIFIER_SERVICE, Role.WORKFLOW_OPERATOR) else "3204"
        refused = await intake.client.post(REDEEM_PATH, json=body, headers=intake.auth(role, area))
        assert refused.status_code == 403, (role, refused.text)
        assert NIK not in refused.text
        assert "Siti" not in refused.text
    async with intake.pool.acquire() as conn:
        audited = await conn.fetchval(
            "SELECT count(*) FROM contact_redemptions WHERE complaint_id = $1",
            uuid.UUID(submitted["complaint_id"]),
        )
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
    assert got.json()["complainant"] is None


async def test_a_bad_reference_or_purpose_names_the_field(intake: Intake) -> None:
    body = {"reference": "household:" + str(uuid.uuid4()), "request_id": str(uuid.uuid4())}
    got = await intake.client.post(
        REDEEM_PATH, json={**body, "purpose": "prelist"}, headers=_service(intake)
    )
    assert got.status_code == 422
    assert "reference" in got.text
    good = _body(uuid.uuid4())
    got = await intake.client.post(
        REDEEM_PATH, json={**good, "purpose": "curiosity"}, headers=_service(intake)
    )
    assert got.status_code == 422
    assert "purpose" in got.text


async def test_the_submitted_event_names_the_complainant_by_reference(intake: Intake) -> None:
    submitted = (await intake.submit(walk_in())).json()
    async with intake.pool.acquire() as conn:
        data = await conn.fetchval(
            "SELECT envelope -> 'data' FROM outbox "
            "WHERE envelope ->> 'subject' = $1 AND envelope ->> 'type' = $2",
            submitted["complaint_id"],
            ComplaintSubmitted.event_type,
        )
    event = ComplaintSubmitted.model_validate(data)
    assert event.complainant is None
    assert event.complainant_ref == complainant_reference(uuid.UUID(submitted["complaint_id"]))
    assert event.lookup is LookupKind.NIK
    assert NIK not in str(data)
    assert "Siti" not in str(data)
