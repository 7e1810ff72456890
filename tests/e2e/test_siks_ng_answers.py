"""SIKS-NG answers back, end to end: intake, registry, routing and the notifier as their own
processes, the SIKS-NG and SMS gateway stand-ins as their own. A membership complaint is
referred to the registry's keepers (Pokja Data Terpadu, through SIKS-NG), Pokja verifies it
and then approves it in SIKS-NG; the notifier's poller turns each status into the referral's
answer, the complaint moves to feedback with the referral accepted, the household gets its
outcome SMS naming the verdict, and the facilitator closes it."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from slrt.settings import ConnectionSettings
from tests.support.harness import Stack, standin, start_services
from tests.support.polling import until

VILLAGE = "3204052001"
PHONE = "081234567891"
E164 = "+6281234567891"
NIK = "3204054107850004"
PROGRAM = "MEMBERSHIP_DTKS"
VERDICT_NOTE = "Keluarga masuk DTKS mulai periode berikutnya."


def _membership_complaint() -> dict[str, Any]:
    return {
        "channel": "puskesos_walk_in",
        "village_code": VILLAGE,
        "complainant": {"nik": NIK, "name": "Dewi Lestari", "phone": PHONE},
        "category": "membership",
        "description": "Keluarga kami miskin tetapi tidak terdaftar sebagai penerima bantuan.",
    }


async def _at_step(client: httpx.AsyncClient, stack: Stack, complaint: str, step: str) -> Any:
    async def read() -> dict[str, Any] | None:
        response = await client.get(f"/v1/complaints/{complaint}", headers=stack.auth("manager"))
        body: dict[str, Any] | None = response.json() if response.status_code == 200 else None
        return body if body and body["step"] == step else None

    return await until(read, timeout=180)


async def _act(
    client: httpx.AsyncClient,
    complaint: str,
    action: str,
    headers: dict[str, str],
    body: dict[str, Any],
) -> httpx.Response:
    """Post a staff action; again while the workflow is still preparing (409/422/503)."""
    key = f"e2e-{action}-{uuid.uuid4().hex[:8]}"

    async def post() -> httpx.Response | None:
        response = await client.post(
            f"/v1/complaints/{complaint}/{action}",
            json=body,
            headers={**headers, "Idempotency-Key": key},
        )
        if response.status_code in (409, 422, 503) and "still being prepared" in response.text:
            return None
        return response

    return await until(post, timeout=120)


async def test_a_membership_referral_ends_answered_by_siks_ngs_verdict(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    with standin("siks_ng", log_dir) as siks_port, standin("sms_gateway", log_dir) as sms_port:
        siks, gateway = f"http://127.0.0.1:{siks_port}", f"http://127.0.0.1:{sms_port}"
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_NOTIFIER_SIKS_NG_URL=siks,
            SLRT_NOTIFIER_SIKS_NG_POLL_SECONDS="1",
            SLRT_NOTIFIER_SMS_GATEWAY_URL=gateway,
            SLRT_NOTIFIER_DISPATCH_POLL_SECONDS="0.2",
        )
        with stack:
            async with (
                httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as client,
                httpx.AsyncClient(timeout=30) as http,
            ):
                submitted = await client.post(
                    "/v1/complaints",
                    headers={**services.auth("front_office"), "Idempotency-Key": uuid.uuid4().hex},
                    json=_membership_complaint(),
                )
                assert submitted.status_code == 202, submitted.text
                complaint, ticket = (submitted.json()[k] for k in ("complaint_id", "ticket_number"))
                at_back_office = await _at_step(client, services, complaint, "back_office")
                # Membership goes to whoever keeps the registry: SIKS-NG, no override needed.
                proposed = await _act(
                    client,
                    complaint,
                    "back-office-action",
                    services.auth("back_office"),
                    {"kind": "refer", "destination_program": PROGRAM},
                )
                assert proposed.status_code == 200, proposed.text
                await _at_step(client, services, complaint, "manager_approval")
                approved = await _act(
                    client,
                    complaint,
                    "manager-decision",
                    services.auth("manager"),
                    {"decision": "approve", "note": "Usulkan ke Pokja Data Terpadu"},
                )
                assert approved.status_code == 200, approved.text
                referral_id = (await _at_step(client, services, complaint, "referred"))[
                    "referral_id"
                ]

                async def filed() -> str | None:
                    received = (await http.get(f"{siks}/_received")).json()
                    ours = [s for s in received if s["referensi"] == referral_id]
                    return ours[0]["submission_id"] if ours else None

                submission_id = await until(filed, timeout=90)
                as_filed = (await http.get(f"{siks}/_control/submissions/{submission_id}")).json()

                # Pokja Data Terpadu verifies (under review), then approves.
                verifying = await http.put(
                    f"{siks}/_control/submissions/{submission_id}",
                    json={"status": "diverifikasi", "keterangan": "Verifikasi lapangan"},
                )
                assert verifying.status_code == 200, verifying.text
                await _at_step(client, services, complaint, "under_review")
                decided = await http.put(
                    f"{siks}/_control/submissions/{submission_id}",
                    json={"status": "disetujui", "keterangan": VERDICT_NOTE},
                )
                assert decided.status_code == 200, decided.text
                await _at_step(client, services, complaint, "feedback")
                referral = (
                    await client.get(
                        f"/v1/referrals/{referral_id}", headers=services.auth("back_office")
                    )
                ).json()

                async def outcome_sms() -> list[dict[str, Any]] | None:
                    received: list[dict[str, Any]] = (await http.get(f"{gateway}/_received")).json()
                    mine = [m for m in received if ticket in m["text"]]
                    return mine if len(mine) >= 2 else None

                sms = await until(outcome_sms, timeout=120)
                told = await _act(
                    client,
                    complaint,
                    "feedback",
                    services.auth("facilitator", VILLAGE),
                    {
                        "household_told": True,
                        "household_response": "satisfied",
                        "visited_on": date.today().isoformat(),
                    },
                )
                assert told.status_code == 200, told.text
                closed = await _at_step(client, services, complaint, "closed")

            conn = await asyncpg.connect(dsn)
            try:
                audit = await conn.fetch(
                    "SELECT status, answer_id, decision FROM notifier.siks_ng_verdicts"
                    " WHERE submission_id = $1 ORDER BY seen_at",
                    submission_id,
                )
            finally:
                await conn.close()

    assert at_back_office["category"] == "membership"
    # SIKS-NG got the membership complaint, naming the referral and the ticket.
    sent = as_filed["submission"]
    assert (sent["jenis"], sent["referensi"]) == ("keluhan_kepesertaan", referral_id)
    assert (sent["nomor_tiket"], sent["kode_wilayah"]) == (ticket, VILLAGE)
    # Its verdict is the referral's answer, recorded once per status and audited.
    assert referral["answer"]["decision"] == "accepted"
    assert referral["answer"]["note"] == VERDICT_NOTE
    assert [tuple(r) for r in audit] == [
        ("diverifikasi", f"siks_ng:{submission_id}:diverifikasi", "under_review"),
        ("disetujui", f"siks_ng:{submission_id}:disetujui", "accepted"),
    ]
    assert (closed["step"], closed["outcome"]) == ("closed", "referral_accepted")
    # The household heard the verdict by SMS, in Bahasa Indonesia with its ticket.
    assert {m["to"] for m in sms} == {E164}
    outcome = f"SLRT: pengaduan {ticket} diterima oleh program {PROGRAM}. "
    assert [m for m in sms if m["text"].startswith(outcome)], [m["text"] for m in sms]
    assert all(len(m["text"]) <= 160 and m["text"].isascii() for m in sms)
