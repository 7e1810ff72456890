"""Households hear back, end to end: intake, routing, the registry and the notifier as their own
processes, the SMS gateway stand-in as its own. A complaint with a phone gets its registration
SMS and, once back office resolves it, its outcome SMS, in Bahasa Indonesia with its ticket; an
anonymous complaint driven the same way gets nothing; and the phone number never travels
through Kafka (the topic ``slrt.notification.requests`` is read to prove it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import httpx

from slrt.contracts.contacts import household_reference
from slrt.contracts.envelope import from_kafka
from slrt.contracts.topics import Topic
from slrt.settings import ConnectionSettings
from tests.support.harness import Stack, standin, start_services
from tests.support.intake import back_office_resolves
from tests.support.kafka_tools import read_topic_to_end
from tests.support.polling import until

PHONE = "081234567890"
E164 = "+6281234567890"
PHONE_FORMS = (PHONE, E164, PHONE[1:])


def _complaint(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "puskesos_walk_in",
        "village_code": "3204052001",
        "complainant": {"nik": "3204054107850003", "name": "Siti Aminah", "phone": PHONE},
        "category": "implementation",
        "program_code": "PKH",
        "description": "Bantuan PKH tahap 3 belum diterima.",
    }
    body.update(overrides)
    return body


async def _submit(client: httpx.AsyncClient, stack: Stack, body: dict[str, Any], key: str) -> Any:
    response = await client.post(
        "/v1/complaints",
        json=body,
        headers={**stack.auth("front_office"), "Idempotency-Key": key},
    )
    assert response.status_code == 202, response.text
    return response.json()


async def test_a_household_hears_its_ticket_and_its_outcome_and_an_anonymous_one_nothing(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    with standin("sms_gateway", log_dir) as sms_port:
        gateway = f"http://127.0.0.1:{sms_port}"
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_NOTIFIER_SMS_GATEWAY_URL=gateway,
            SLRT_NOTIFIER_DISPATCH_POLL_SECONDS="0.2",
        )
        with stack:
            async with httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as client:
                named = await _submit(client, services, _complaint(), "household-named")
                anonymous = await _submit(
                    client,
                    services,
                    _complaint(anonymous=True, complainant=None),
                    "household-anonymous",
                )
                await back_office_resolves(client, services, named["complaint_id"])
                await back_office_resolves(client, services, anonymous["complaint_id"])

            ticket = named["ticket_number"]

            async def both_sms() -> list[dict[str, Any]] | None:
                async with httpx.AsyncClient(timeout=10) as http:
                    received: list[dict[str, Any]] = (await http.get(f"{gateway}/_received")).json()
                mine = [m for m in received if ticket in m["text"]]
                return mine if len(mine) >= 2 else None

            sms = await until(both_sms, timeout=180)

            # The anonymous complaint's feedback task was recorded after anything the workflow
            # asked for it before (its requests are in order on one partition): by then any
            # household message for it would have been recorded too.
            async def anonymous_task_recorded() -> bool:
                conn = await asyncpg.connect(dsn)
                try:
                    count = await conn.fetchval(
                        "SELECT count(*) FROM notifier.deliveries "
                        "WHERE complaint_id = $1 AND template = 'tell_household'",
                        anonymous["complaint_id"],
                    )
                finally:
                    await conn.close()
                return bool(count)

            await until(anonymous_task_recorded, timeout=120)
            conn = await asyncpg.connect(dsn)
            try:
                anonymous_household = await conn.fetchval(
                    "SELECT count(*) FROM notifier.deliveries "
                    "WHERE complaint_id = $1 AND kind = 'household_message'",
                    anonymous["complaint_id"],
                )
                audited = await conn.fetch(
                    "SELECT caller, purpose FROM intake.contact_redemptions "
                    "WHERE complaint_id = $1 ORDER BY id",
                    named["complaint_id"],
                )
            finally:
                await conn.close()
            async with httpx.AsyncClient(timeout=10) as http:
                received = (await http.get(f"{gateway}/_received")).json()

    assert [m["to"] for m in sms] == [E164, E164]
    texts = sorted(m["text"] for m in sms)
    registered = f"SLRT: pengaduan Anda tercatat, nomor {ticket}. Cek status di "
    outcome = f"SLRT: pengaduan {ticket} telah diselesaikan oleh SLRT. Dibayar susulan. "
    assert [t for t in texts if t.startswith(registered)], texts
    assert [t for t in texts if t.startswith(outcome)], texts
    assert all(len(t) <= 160 and t.isascii() for t in texts)
    assert anonymous_household == 0
    assert not [m for m in received if anonymous["ticket_number"] in m["text"]]
    # The notifier redeemed the contact once per message; the registry redeemed the identity
    # for its check (the same audit table, another caller and purpose).
    assert [(r["caller"], r["purpose"]) for r in audited if r["caller"] == "service:notifier"] == [
        ("service:notifier", "household_registered"),
        ("service:notifier", "household_outcome"),
    ]
    assert {r["purpose"] for r in audited if r["caller"] == "service:registry"} <= {
        "registry_check",
        "prelist",
    }
    assert ("service:registry", "registry_check") in [(r["caller"], r["purpose"]) for r in audited]

    # Kafka: the household messages name the contact by reference; no form of the phone
    # number is in any request about these complaints (keys, headers or values).
    records = await read_topic_to_end(connections.kafka_bootstrap, Topic.NOTIFICATION_REQUESTS)
    ours = {named["complaint_id"], anonymous["complaint_id"]}
    mine = [r for r in records if r.key is not None and r.key.decode() in ours]
    household = [
        from_kafka(r.key, r.headers, r.value).data
        for r in mine
        if from_kafka(r.key, r.headers, r.value).data["kind"] == "household_message"
    ]
    assert sorted(d["template"] for d in household) == ["household_outcome", "household_registered"]
    assert {d["destination"] for d in household} == {household_reference(named["complaint_id"])}
    assert all(d.get("recipient") is None for d in household)
    for record in mine:
        raw = (record.value or b"") + b"".join(v for _, v in record.headers) + (record.key or b"")
        assert not any(form.encode() in raw for form in PHONE_FORMS)
