"""Submitting complaints: 202 with a ticket, idempotent replay, the rules as named 4xx, and the
complaint row with its complaint.submitted event in one transaction."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import pytest

from services.intake import submissions
from services.intake.schemas import SubmissionIn
from services.intake.submissions import Accepted
from slrt.auth.principal import Principal, Role
from slrt.contracts.events import ComplaintSubmitted, ProgramCatalogEntry
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import Category, ProgramChannel
from slrt.db import create_pool
from slrt.errors import Invalid
from slrt.places import directory
from slrt.settings import ConnectionSettings
from tests.support.intake import Intake, known_programs, walk_in
from tests.support.kafka_tools import read_topic
from tests.support.polling import until

NIK = "3204054107850003"
PERSONAL = ("Siti Aminah", NIK, "081234567890", "Sukamaju")


async def test_a_walk_in_is_accepted_with_a_ticket_and_published_once(
    intake: Intake, kafka_bootstrap: str
) -> None:
    response = await intake.submit(walk_in(), key="walk-in-1")
    assert response.status_code == 202, response.text
    body = response.json()
    assert re.fullmatch(r"3204-\d{2}-000001", body["ticket_number"])
    assert body["status"] == "open"
    assert body["step"] == "received"
    assert re.fullmatch(r"[A-Z2-9]{8}", body["tracking_code"])
    assert response.headers["Location"] == body["links"]["self"]
    assert body["links"]["self"].endswith(f"/v1/complaints/{body['complaint_id']}")

    async def published() -> bool:
        return bool(
            await intake.pool.fetchval(
                "SELECT published_at IS NOT NULL FROM outbox WHERE envelope->>'subject' = $1",
                body["complaint_id"],
            )
        )

    await until(published)
    records = await read_topic(kafka_bootstrap, Topic.COMPLAINT_SUBMITTED, expect=1)
    mine = [r for r in records if r.key == body["complaint_id"].encode()]
    assert len(mine) == 1
    event = ComplaintSubmitted.model_validate(json.loads(mine[0].value))
    assert event.ticket_number == body["ticket_number"]
    assert event.village_code == "3204052001"
    # The identity stays at intake: the event names the complainant by reference.
    assert event.complainant is None
    assert event.complainant_ref == f"complainant:{body['complaint_id']}"
    assert event.lookup == "nik"
    assert event.submitted_by == "front_office-3204"
    assert NIK.encode() not in mine[0].value
    for header, value in mine[0].headers:
        assert NIK.encode() not in value, header


async def test_replaying_the_same_key_returns_the_original_and_creates_nothing(
    intake: Intake,
) -> None:
    first = await intake.submit(walk_in(), key="same-key")
    again = await intake.submit(walk_in(), key="same-key")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await intake.pool.fetchval("SELECT count(*) FROM complaints") == 1
    assert await intake.pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_concurrent_replays_create_one_complaint(intake: Intake) -> None:
    responses = await asyncio.gather(
        *(intake.submit(walk_in(), key="racing-key") for _ in range(5))
    )
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["complaint_id"] for r in responses}) == 1
    assert await intake.pool.fetchval("SELECT count(*) FROM complaints") == 1
    # The losers' ticket numbers were rolled back: the next complaint gets serial 2.
    second = await intake.submit(walk_in(), key="another-key")
    assert second.json()["ticket_number"].endswith("-000002")


async def test_a_key_reused_for_another_body_is_a_conflict(intake: Intake) -> None:
    await intake.submit(walk_in(), key="reused")
    response = await intake.submit(walk_in(description="Sesuatu yang lain"), key="reused")
    assert response.status_code == 409
    assert response.json()["type"].endswith("/idempotency-key-reused")
    assert await intake.pool.fetchval("SELECT count(*) FROM complaints") == 1


async def test_ticket_numbers_count_per_district(intake: Intake) -> None:
    a = await intake.submit(walk_in())
    b = await intake.submit(walk_in())
    other = await intake.submit(
        walk_in(village_code="3273011001", complainant={"name": "Budi", "phone": "0812999988"}),
        area="3273",
    )
    assert a.json()["ticket_number"].endswith("-000001")
    assert b.json()["ticket_number"].endswith("-000002")
    assert other.json()["ticket_number"].startswith("3273-")
    assert other.json()["ticket_number"].endswith("-000001")


async def test_an_anonymous_implementation_report_keeps_no_personal_data(intake: Intake) -> None:
    await known_programs(intake, "PKH")
    response = await intake.submit(
        walk_in(
            anonymous=True,
            complainant=None,
            category="implementation",
            program_code="PKH",
            description="Dana bantuan dipotong oleh oknum pendamping.",
        )
    )
    assert response.status_code == 202, response.text
    row = await intake.pool.fetchrow(
        "SELECT complainant, phone, phone_last4 FROM complaints WHERE id = $1",
        uuid.UUID(response.json()["complaint_id"]),
    )
    assert row is not None
    assert (row["complainant"], row["phone"], row["phone_last4"]) == (None, None, None)
    envelope = await intake.pool.fetchval("SELECT envelope FROM outbox")
    assert envelope["data"]["anonymous"] is True
    assert envelope["data"]["complainant"] is None
    assert envelope["data"]["complainant_ref"] is None


def _rules(response_json: dict[str, object]) -> set[tuple[str, str]]:
    errors = response_json["errors"]
    assert isinstance(errors, list)
    return {(e["field"], e["rule"]) for e in errors}


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"village_code": "3204059999"}, "village_code", "known_village"),
        ({"village_code": "3204"}, "village_code", "string_pattern_mismatch"),
        ({"village_code": "32-04-05-2001"}, "village_code", "string_pattern_mismatch"),
        ({"village_code": "3273011001"}, "village_code", "inside_your_area"),
        ({"category": "implementation"}, "program_code", "required_for_implementation"),
        (
            {"anonymous": True, "complainant": None},
            "anonymous",
            "anonymous_only_for_implementation",
        ),
        (
            {"anonymous": True, "category": "implementation", "program_code": "PKH"},
            "complainant",
            "absent_when_anonymous",
        ),
        ({"complainant": None}, "complainant", "required"),
        ({"occurred_on": "2999-01-01"}, "occurred_on", "not_in_future"),
        (
            {"complainant": {"name": "Siti Aminah", "nik": "32040541078500"}},
            "complainant.nik",
            "nik_format",
        ),
        (
            {"complainant": {"name": "Siti Aminah", "nik": "3204059913850003"}},
            "complainant.nik",
            "nik_valid",
        ),
        ({"channel": "facilitator_visit"}, "channel", "facilitator_only"),
        ({"description": "x" * 5001}, "description", "string_too_long"),
        (
            {"complainant": {"name": "Siti Aminah", "phone": "12ab"}},
            "complainant.phone",
            "string_pattern_mismatch",
        ),
    ],
)
async def test_rules_are_refused_with_the_field_and_rule_named(
    intake: Intake, overrides: dict[str, object], field: str, rule: str
) -> None:
    response = await intake.submit(walk_in(**overrides))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (field, rule) in _rules(response.json())
    for value in (*PERSONAL, "32040541078500", "3204059913850003"):
        assert value not in response.text
    assert await intake.pool.fetchval("SELECT count(*) FROM complaints") == 0
    assert await intake.pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_a_nik_that_disagrees_is_kept_with_warnings(intake: Intake) -> None:
    person = {"name": "Siti Aminah", "nik": NIK, "sex": "male", "birth_date": "1990-01-01"}
    response = await intake.submit(walk_in(complainant=person))
    assert response.status_code == 202
    assert set(response.json()["warnings"]) == {"nik_sex_mismatch", "nik_birth_date_mismatch"}


async def test_who_may_submit(intake: Intake) -> None:
    anonymous = await intake.client.post("/v1/complaints", json=walk_in())
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    forged = await intake.client.post(
        "/v1/complaints", json=walk_in(), headers={"Authorization": "Bearer not.a.token"}
    )
    assert forged.status_code == 401
    expired = intake.issuer.token("fo", [Role.FRONT_OFFICE], "3204", ttl_seconds=-3600)
    late = await intake.client.post(
        "/v1/complaints", json=walk_in(), headers={"Authorization": f"Bearer {expired}"}
    )
    assert late.status_code == 401
    viewer = await intake.submit(walk_in(), role=Role.VIEWER)
    assert viewer.status_code == 403
    back_office = await intake.submit(walk_in(), role=Role.BACK_OFFICE)
    assert back_office.status_code == 403
    facilitator = await intake.submit(walk_in(channel="facilitator_visit"), role=Role.FACILITATOR)
    assert facilitator.status_code == 202
    assert await intake.pool.fetchval("SELECT count(*) FROM complaints") == 1


async def test_a_body_beyond_the_limit_is_413(intake: Intake) -> None:
    response = await intake.client.post(
        "/v1/complaints",
        content=b"{" + b" " * 70000 + b"}",
        headers={**intake.auth(Role.FRONT_OFFICE), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["type"].endswith("/too-large")


async def test_a_bad_idempotency_key_is_named(intake: Intake) -> None:
    response = await intake.submit(walk_in(), key="x" * 101)
    assert response.status_code == 422
    assert ("header.Idempotency-Key", "string_pattern_mismatch") in _rules(response.json())


async def test_a_named_program_must_be_in_the_catalog(intake: Intake) -> None:
    # Codes of this test's own: the catalog topic is shared by the whole session, and another
    # test's entry for a real code (a newer version, other categories) would replace ours.
    no_needs = f"NONEED{uuid.uuid4().hex[:8].upper()}"
    await intake.publish(
        ProgramCatalogEntry(
            code=no_needs,
            name="Rehabilitasi Rumah Tidak Layak Huni",
            level="district",
            owner_agency="Dinas Sosial",
            channel=ProgramChannel.DIRECT,
            categories=[Category.IMPLEMENTATION],
            sla_working_days=10,
            version=1,
        ),
        no_needs,
    )

    async def copied() -> bool:
        return bool(
            await intake.pool.fetchval("SELECT true FROM programs WHERE code = $1", no_needs)
        )

    await until(copied)
    unknown = f"NOPE{uuid.uuid4().hex[:8].upper()}"
    cases = [
        ({"category": "implementation", "program_code": unknown}, "known_program"),
        ({"category": "program_need", "program_code": unknown}, "known_program"),
        ({"category": "program_need", "program_code": no_needs}, "program_takes_needs"),
    ]
    for overrides, rule in cases:
        response = await intake.submit(walk_in(**overrides))
        assert response.status_code == 422, response.text
        named = [(e["field"], e["rule"]) for e in response.json()["errors"]]
        assert named == [("program_code", rule)]
    accepted = await intake.submit(walk_in(category="implementation", program_code=no_needs))
    assert accepted.status_code == 202, accepted.text
    assert await intake.pool.fetchval("SELECT count(*) FROM complaints") == 1
    # The refused submissions used no ticket serial.
    assert accepted.json()["ticket_number"].endswith("-000001")


async def test_a_new_complaint_is_one_statement_a_replay_or_a_refusal_reads_first(
    intake: Intake,
) -> None:
    """The usual submission is one round trip; a replay, and a program the catalog copy does
    not show fit, fall back to the read (and the rule names the field)."""
    await known_programs(intake, "PKH")
    settings = ConnectionSettings(
        postgres_dsn=intake.settings.connections.postgres_dsn, postgres_pool_max=1
    )
    pool = await create_pool(settings, "intake")
    statements: list[str] = []
    try:
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda record: statements.append(record.query))
        principal = Principal(
            subject="front_office-3204", roles=frozenset({Role.FRONT_OFFICE}), area="3204"
        )

        async def submit(key: str, **overrides: object) -> Accepted:
            statements.clear()
            body = SubmissionIn.model_validate(walk_in(**overrides))
            return await submissions.submit(pool, body, principal, key, directory(), "http://t")

        first = await submit("one-trip", category="implementation", program_code="PKH")
        assert not first.replayed
        assert len(statements) == 1
        assert statements[0].lstrip().startswith("WITH guard")

        again = await submit("one-trip", category="implementation", program_code="PKH")
        assert again.replayed
        assert again.complaint == first.complaint
        assert len(statements) == 2  # the statement that found the key taken, then the read

        with pytest.raises(Invalid) as refused:
            await submit("unknown", category="implementation", program_code="NOPE_ONE_TRIP")
        assert [(e["field"], e["rule"]) for e in refused.value.errors] == [
            ("program_code", "known_program")
        ]
    finally:
        await pool.close()
    assert await intake.pool.fetchval("SELECT count(*) FROM complaints") == 1
