"""Personal data in free text stays at intake, end to end: intake, routing, the registry and
the notifier as their own processes, the SMS gateway stand-in as its own. A complaint whose
description names a NIK and a phone number, resolved with an answer naming another phone:

- the household's outcome SMS (at the gateway) carries the answer with the number masked;
- no Kafka record about the complaint — submitted, lifecycle, notification requests, registry
  requests — holds the numbers typed into free text, nor the complainant's own NIK or name: the
  submitted event and the registry requests name the complainant by reference
  (``complainant:<complaint id>``), which the registry redeems at intake (audited) and answers;
- Temporal never sees the identity (not even decoded: the workflow input holds the reference);
- the Temporal server holds the complaint's history as ciphertext (read raw, without the codec);
- a national workflow operator reads the history through intake's codec endpoint with
  Temporal's CLI (the codec protocol the UI uses), audited; without it, ciphertext;
- intake keeps the full texts: the description in ``complaints``, the answer in
  ``action_texts``."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client

from slrt.contracts.envelope import Envelope, from_kafka
from slrt.contracts.events import ComplaintSubmitted, RegistryCheckCompleted, RegistryCheckRequested
from slrt.contracts.temporal import complaint_workflow_id
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import LookupKind
from slrt.settings import ConnectionSettings
from tests.support.harness import TEST_NAMESPACE, standin, start_services
from tests.support.kafka_tools import read_topic_to_end
from tests.support.polling import until

OWN_NIK = "3204054107850003"
NAME = "Siti Aminah"
TYPED_NIK = "3204 0541 0785 0009"
TYPED_PHONE = "0813-9999-8888"
ANSWER_PHONE = "081377778888"
DESCRIPTION = f"Bantuan PKH suami (NIK {TYPED_NIK}) belum cair, hubungi {TYPED_PHONE}."
ANSWER = f"Cair, HP {ANSWER_PHONE}"
"""Short: the outcome SMS keeps it whole (a long answer is shortened to fit 160 characters)."""
VENV_BIN = Path(sys.executable).parent
TYPED = [TYPED_NIK, TYPED_NIK.replace(" ", ""), TYPED_PHONE, ANSWER_PHONE]


def payload_texts(shown: str) -> str:
    """The payloads' data in the CLI's JSON output (base64 there), decoded and joined."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("metadata"), dict) and isinstance(node.get("data"), str):
                found.append(base64.b64decode(node["data"]).decode(errors="replace"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(shown))
    assert found
    return "\n".join(found)


async def test_free_text_leaves_intake_masked_and_temporal_holds_ciphertext(
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
                submitted = await client.post(
                    "/v1/complaints",
                    json={
                        "channel": "puskesos_walk_in",
                        "village_code": "3204052001",
                        "complainant": {"nik": OWN_NIK, "name": NAME, "phone": "081234567890"},
                        "category": "implementation",
                        "program_code": "PKH",
                        "description": DESCRIPTION,
                    },
                    headers={**services.auth("front_office"), "Idempotency-Key": "pii-e2e"},
                )
                assert submitted.status_code == 202, submitted.text
                complaint = submitted.json()
                cid, ticket = complaint["complaint_id"], complaint["ticket_number"]
                attempt = 0

                async def resolved() -> bool:
                    nonlocal attempt
                    attempt += 1
                    response = await client.post(
                        f"/v1/complaints/{cid}/back-office-action",
                        json={"kind": "resolve", "answer": ANSWER, "decision_code": "paid_late"},
                        headers={**services.auth("back_office"), "Idempotency-Key": f"r-{attempt}"},
                    )
                    assert response.status_code in (200, 409, 422, 503), response.text
                    return response.status_code == 200

                await until(resolved, timeout=180)

            async def outcome_sms() -> dict[str, Any] | None:
                async with httpx.AsyncClient(timeout=10) as http:
                    received: list[dict[str, Any]] = (await http.get(f"{gateway}/_received")).json()
                mine = [m for m in received if ticket in m["text"] and "Cair, HP" in m["text"]]
                return mine[0] if mine else None

            sms = await until(outcome_sms, timeout=180)

            # An operator reads the history through intake's codec endpoint with Temporal's own
            # client (the CLI speaks the codec protocol the UI speaks); without it, ciphertext.
            def show(*codec: str) -> str:
                shown = subprocess.run(
                    [
                        str(VENV_BIN / "temporal"),
                        "workflow",
                        "show",
                        "--workflow-id",
                        complaint_workflow_id(cid),
                        "--address",
                        connections.temporal_address,
                        "--namespace",
                        TEST_NAMESPACE,
                        "--output",
                        "json",
                        *codec,
                    ],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=True,
                )
                return shown.stdout

            operator = services.issuer.token("ops-7", ["workflow_operator"], "")
            decoded = show(
                "--codec-endpoint",
                f"{services.urls['intake']}/codec",
                "--codec-auth",
                f"Bearer {operator}",
            )
            assert f"complainant:{cid}" in payload_texts(decoded)
            assert "Bantuan PKH suami" in payload_texts(decoded)
            assert "Bantuan PKH suami" not in payload_texts(show())
            # The identity never reached Temporal: not even the decoded history holds it.
            assert OWN_NIK not in payload_texts(decoded)
            assert NAME not in payload_texts(decoded)

    assert "Cair, HP [telepon]" in sms["text"], sms["text"]
    assert ANSWER_PHONE not in sms["text"]

    for topic in (
        Topic.COMPLAINT_SUBMITTED,
        Topic.COMPLAINT_LIFECYCLE,
        Topic.NOTIFICATION_REQUESTS,
        Topic.REGISTRY_REQUESTS,
    ):
        records = [
            r
            for r in await read_topic_to_end(connections.kafka_bootstrap, topic)
            if r.key == cid.encode()
        ]
        assert records, topic
        for record in records:
            raw = (record.value or b"") + b"".join(v for _, v in record.headers) + record.key
            assert not [t for t in TYPED if t.encode() in raw], (topic, raw[:400])
            assert OWN_NIK.encode() not in raw, topic
            assert NAME.encode() not in raw, topic

    # The submitted event and the registry check name the complainant by reference...
    async def mine(topic: Topic) -> list[Envelope]:
        records = await read_topic_to_end(connections.kafka_bootstrap, topic)
        return [from_kafka(r.key, r.headers, r.value) for r in records if r.key == cid.encode()]

    (submitted_event,) = [
        e.parse(ComplaintSubmitted) for e in await mine(Topic.COMPLAINT_SUBMITTED)
    ]
    assert submitted_event.complainant is None
    assert submitted_event.complainant_ref == f"complainant:{cid}"
    checks = [
        e.parse(RegistryCheckRequested)
        for e in await mine(Topic.REGISTRY_REQUESTS)
        if e.type == RegistryCheckRequested.event_type
    ]
    assert [(c.lookup, c.complainant_ref, c.nik) for c in checks] == [
        (LookupKind.NIK, f"complainant:{cid}", None)
    ]
    # ...which the registry redeemed at intake and answered.
    answers = [
        e.parse(RegistryCheckCompleted)
        for e in await mine(Topic.REGISTRY_RESULTS)
        if e.type == RegistryCheckCompleted.event_type
    ]
    assert [a.request_id for a in answers] == [checks[0].request_id]

    raw_client = await Client.connect(connections.temporal_address, namespace=TEST_NAMESPACE)
    history = await raw_client.workflow_service.get_workflow_execution_history(
        GetWorkflowExecutionHistoryRequest(
            namespace=TEST_NAMESPACE,
            execution=WorkflowExecution(workflow_id=complaint_workflow_id(cid)),
        )
    )
    stored = history.history.SerializeToString()
    assert len(history.history.events) > 5
    for secret in [OWN_NIK, NAME, "Bantuan PKH suami", "Cair, HP", *TYPED]:
        assert secret.encode() not in stored, f"{secret!r} readable in Temporal"

    conn = await asyncpg.connect(dsn)
    try:
        description = await conn.fetchval(
            "SELECT description FROM intake.complaints WHERE id = $1", cid
        )
        codec_audit = await conn.fetch(
            "SELECT actor, action, detail FROM intake.audit_log "
            "WHERE action = 'workflow_history_decode'"
        )
        redeemed = await conn.fetch(
            "SELECT caller, purpose, outcome FROM intake.contact_redemptions "
            "WHERE complaint_id = $1 AND 'registry_service' = ANY(caller_roles) ORDER BY id",
            cid,
        )
        redeemed_audit = await conn.fetchval(
            "SELECT count(*) FROM intake.audit_log "
            "WHERE action = 'complainant_redeemed' AND complaint_id = $1",
            cid,
        )
        kept = await conn.fetch(
            "SELECT action, field, text FROM intake.action_texts WHERE complaint_id = $1", cid
        )
    finally:
        await conn.close()
    assert description == DESCRIPTION
    # Each redemption by the registry is audited (one per request it needed the identity for).
    assert ("service:registry", "registry_check", "released") in [tuple(r) for r in redeemed]
    assert redeemed_audit == len(redeemed)
    assert codec_audit
    assert {(r["actor"], r["action"]) for r in codec_audit} == {
        ("ops-7", "workflow_history_decode")
    }
    assert all(r["detail"].endswith("outcome=served") for r in codec_audit)
    assert [(r["action"], r["field"], r["text"]) for r in kept] == [
        ("back_office_action", "answer", ANSWER)
    ]
