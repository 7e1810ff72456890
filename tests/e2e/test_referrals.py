"""Referrals on the assembled services (intake, registry, routing, notifier, and the dashboard, each
its own process on the real stack), seen from outside:

- by signed webhook: the person who proposed a referral may not approve it (403 naming the
  rule); another manager's approval note reaches the program's system in the webhook payload;
  the program answers on the signed callback; the answered referral stays readable; a late
  callback gets 409 with the recorded answer;
- by LAPOR!: the approval note is in the report the agency reads; the agency's answer in
  LAPOR! comes back as the referral's answer; the district's staff see the complaint's
  deliveries; the dashboard's "referral answers by agency" counts the answer.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from standardwebhooks import Webhook

from slrt.settings import ConnectionSettings
from tests.support.harness import WEBHOOK_KEY, Stack, service_process, standin, start_services
from tests.support.polling import until

VILLAGE = "3204052001"
NOTE = "Disetujui; lansia tanpa penghasilan, mohon diprioritaskan."


def _complaint(program: str, description: str) -> dict[str, Any]:
    return {
        "channel": "puskesos_walk_in",
        "village_code": VILLAGE,
        "complainant": {"nik": "3204054107850003", "name": "Siti Aminah", "phone": "081234567890"},
        "category": "implementation",
        "program_code": program,
        "description": description,
    }


def _as(stack: Stack, subject: str, role: str, area: str = "3204") -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.issuer.token(subject, [role], area)}"}


async def _program(stack: Stack, dsn: str, code: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        created = await http.put(
            f"{stack.urls['registry']}/v1/programs/{code}",
            headers=stack.auth("manager"),
            json={
                "level": "district",
                "area": "3204",
                "categories": ["implementation"],
                "sla_working_days": 10,
                **body,
            },
        )
    assert created.status_code == 201, created.text

    async def copied() -> bool:
        conn = await asyncpg.connect(dsn)
        try:
            copies = await conn.fetchval(
                "SELECT (SELECT count(*) FROM routing.programs WHERE code = $1)"
                " + (SELECT count(*) FROM intake.programs WHERE code = $1)"
                " + (SELECT count(*) FROM notifier.programs WHERE code = $1)",
                code,
            )
        finally:
            await conn.close()
        return bool(copies == 3)

    await until(copied, timeout=60)


async def _complaint_at(
    client: httpx.AsyncClient, stack: Stack, complaint: str, step: str
) -> dict[str, Any]:
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


async def _submitted(client: httpx.AsyncClient, stack: Stack, program: str) -> str:
    submitted = await client.post(
        "/v1/complaints",
        headers={**stack.auth("front_office"), "Idempotency-Key": uuid.uuid4().hex},
        json=_complaint(program, "Bantuan lansia bulan ini belum diterima."),
    )
    assert submitted.status_code == 202, submitted.text
    complaint: str = submitted.json()["complaint_id"]
    await _complaint_at(client, stack, complaint, "back_office")
    return complaint


async def test_a_webhook_referral_approved_by_another_manager_keeps_its_record(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    program = "LANSIA_WEBHOOK"
    with standin("webhook_receiver", log_dir, env={"STANDIN_WEBHOOK_SECRET": WEBHOOK_KEY}) as port:
        receiver = f"http://127.0.0.1:{port}"
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_REGISTRY_PLAIN_HTTP_CALLBACK_HOSTS=json.dumps(["127.0.0.1"]),
        )
        with stack:
            async with httpx.AsyncClient(timeout=30) as http:
                control = await http.put(f"{receiver}/_control", json={"answer": "accepted"})
                assert control.status_code == 200, control.text
            await _program(
                services,
                dsn,
                program,
                {
                    "name": "Bantuan Lansia Kabupaten Bandung",
                    "owner_agency": "Dinas Sosial Kabupaten Bandung",
                    "channel": "direct",
                    "callback_url": f"{receiver}/webhooks/referrals",
                    "webhook_secret_ref": "e2e-callbacks",
                },
            )
            async with httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as client:
                complaint = await _submitted(client, services, program)
                sole = "sole-manager-3204"  # works the back office and manages
                proposed = await _act(
                    client,
                    complaint,
                    "back-office-action",
                    _as(services, sole, "back_office"),
                    {"kind": "refer", "destination_program": program, "override_reason": "lansia"},
                )
                assert proposed.status_code == 200, proposed.text
                await _complaint_at(client, services, complaint, "manager_approval")

                refused = await _act(
                    client,
                    complaint,
                    "manager-decision",
                    _as(services, sole, "manager"),
                    {"decision": "approve", "note": "saya sendiri"},
                )
                assert refused.status_code == 403, refused.text
                assert refused.headers["content-type"].startswith("application/problem+json")
                assert refused.json()["type"].endswith("/separation-of-duties")
                assert refused.json()["rule"] == "separation_of_duties"

                approved = await _act(
                    client,
                    complaint,
                    "manager-decision",
                    services.auth("manager"),
                    {"decision": "approve", "note": NOTE},
                )
                assert approved.status_code == 200, approved.text
                # The receiver answered "accepted" on the signed callback: the workflow moved on.
                answered = await _complaint_at(client, services, complaint, "feedback")
                referral_id = answered["referral_id"]

                async def the_referral() -> dict[str, Any] | None:
                    response = await client.get(
                        f"/v1/referrals/{referral_id}", headers=services.auth("back_office")
                    )
                    body: dict[str, Any] = response.json()
                    return body if body.get("status") == "accepted" else None

                record = await until(the_referral, timeout=60)
                late_body = json.dumps({"decision": "rejected"})
                msg_id = f"msg_{uuid.uuid4().hex}"
                signature = Webhook(WEBHOOK_KEY).sign(msg_id, datetime.now(UTC), late_body)
                late = await client.post(
                    f"/v1/referrals/{referral_id}/callback",
                    content=late_body,
                    headers={
                        "webhook-id": msg_id,
                        "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
                        "webhook-signature": signature,
                        "content-type": "application/json",
                    },
                )
                timeline = await client.get(
                    f"/v1/complaints/{complaint}", headers=services.auth("manager")
                )
            async with httpx.AsyncClient(timeout=30) as http:
                received = (await http.get(f"{receiver}/_received")).json()

    # The note reached the program's system with the referral.
    (delivery,) = [r for r in received if r["payload"].get("referral_id") == referral_id]
    assert delivery["verified"]
    assert delivery["payload"]["approval_note"] == NOTE
    # The answered referral: its destination, the note and the answer stay.
    assert (record["program"], record["approval_note"]) == (program, NOTE)
    assert record["answer"]["decision"] == "accepted"
    assert record["step"] == "feedback"
    # A late callback: 409 naming the recorded answer.
    assert late.status_code == 409, late.text
    assert late.json()["recorded_answer"]["decision"] == "accepted"
    assert late.json()["referral_status"] == "accepted"
    assert timeline.status_code == 200


@contextmanager
def _dashboard(stack: Stack, log_dir: Path) -> Iterator[str]:
    env = {
        **stack.env,
        "SLRT_DASHBOARD_REGISTRY_URL": stack.urls["registry"],
        "SLRT_DASHBOARD_INTAKE_PUBLIC_URL": stack.urls["intake"],
    }
    with service_process("dashboard", env, log_dir) as url:
        yield url


async def test_a_lapor_referral_carries_the_note_and_its_answer_reaches_the_dashboard(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    program = "RASTRA_E2E"
    agency = "Perum BULOG Divre Jawa Barat"
    with standin("lapor", log_dir) as lapor_port:
        lapor = f"http://127.0.0.1:{lapor_port}"
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_NOTIFIER_LAPOR_URL=lapor,
            SLRT_NOTIFIER_LAPOR_POLL_SECONDS="1",
        )
        with stack, _dashboard(services, log_dir) as dashboard:
            await _program(
                services,
                dsn,
                program,
                {"name": "Beras Sejahtera", "owner_agency": agency, "channel": "lapor"},
            )
            async with (
                httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as client,
                httpx.AsyncClient(timeout=30) as http,
            ):
                complaint = await _submitted(client, services, program)
                proposed = await _act(
                    client,
                    complaint,
                    "back-office-action",
                    services.auth("back_office"),
                    {"kind": "refer", "destination_program": program, "override_reason": "beras"},
                )
                assert proposed.status_code == 200, proposed.text
                await _complaint_at(client, services, complaint, "manager_approval")
                approved = await _act(
                    client,
                    complaint,
                    "manager-decision",
                    services.auth("manager"),
                    {"decision": "approve", "note": NOTE},
                )
                assert approved.status_code == 200, approved.text
                referral_id = (await _complaint_at(client, services, complaint, "referred"))[
                    "referral_id"
                ]

                async def filed() -> str | None:
                    response = await http.get(
                        f"{services.urls['notifier']}/v1/deliveries",
                        params={"referral_id": referral_id},
                        headers=services.auth("manager"),
                    )
                    if response.status_code != 200:
                        return None
                    (item,) = response.json()["items"]
                    ref: str | None = item["external_ref"]
                    return ref

                tracking_id = await until(filed, timeout=90)
                report = (await http.get(f"{lapor}/_control/reports/{tracking_id}")).json()
                moved = await http.put(
                    f"{lapor}/_control/reports/{tracking_id}",
                    json={"status": "selesai", "tanggapan": "Beras diganti"},
                )
                assert moved.status_code == 200, moved.text
                await _complaint_at(client, services, complaint, "feedback")
                deliveries = await http.get(
                    f"{services.urls['notifier']}/v1/deliveries",
                    params={"complaint_id": complaint},
                    headers=services.auth("back_office"),
                )

                async def answered_by_agency() -> dict[str, str] | None:
                    response = await http.get(
                        f"{dashboard}/dashboard/agencies.csv",
                        params={"area": "3204", "lang": "en"},
                        headers=services.auth("manager"),
                    )
                    if response.status_code != 200:
                        return None
                    rows = list(csv.DictReader(io.StringIO(response.text)))
                    row = next((r for r in rows if r["Referral destination"] == program), None)
                    return row if row and row.get("Answered") == "1" else None

                figure = await until(answered_by_agency, timeout=90)

    assert NOTE in report["report"]["isi"]
    assert report["report"]["referensi_eksternal"] == referral_id
    assert "Siti Aminah" not in json.dumps(report)
    # The district's back office sees the complaint's deliveries, wherever they went.
    assert deliveries.status_code == 200, deliveries.text
    assert program in {d["destination"] for d in deliveries.json()["items"]}
    assert figure["Agency"] == agency
    assert (figure["Referrals"], figure["Answered"], figure["Accepted"]) == ("1", "1", "1")
