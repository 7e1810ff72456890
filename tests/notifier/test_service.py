"""The notifier as its own process, the way it is deployed: request in, SMS out, status API."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from slrt.auth import Role
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import NotificationDelivered, NotificationRequested, Recipient
from slrt.contracts.topics import Topic, dead_letter_topic
from slrt.contracts.vocabulary import NotificationKind
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from slrt_dev.sandbox.groups import PREFIX_ENV, SERVICE_GROUPS, own_groups
from tests.support.harness import RealStack, service_process
from tests.support.notifier import StandIns, outcomes_for

ISSUER = "https://auth.slrt.local/dev"


async def test_the_service_delivers_a_request_and_reports_its_status(
    real_stack: RealStack,
    fresh_db: str,
    kafka_bootstrap: str,
    standins: StandIns,
    tmp_path: Path,
) -> None:
    await real_stack.create_topics(
        Topic.NOTIFICATION_REQUESTS,
        dead_letter_topic(Topic.NOTIFICATION_REQUESTS),
        Topic.PROGRAM_CATALOG,
        dead_letter_topic(Topic.PROGRAM_CATALOG),
        Topic.NOTIFICATION_OUTCOMES,
        partitions=2,
    )
    issuer = DevIssuer(tmp_path / "issuer", ISSUER, "slrt")
    issuer.ensure_keys()
    env = {
        "SLRT_POSTGRES_DSN": fresh_db,
        "SLRT_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "SLRT_AUTH_ISSUER": ISSUER,
        "SLRT_AUTH_JWKS_FILE": str(issuer.jwks_file),
        "SLRT_SECRETS_DIR": str(tmp_path / "secrets"),
        "SLRT_NOTIFIER_SMS_GATEWAY_URL": standins.sms_url,
        "SLRT_NOTIFIER_DISPATCH_POLL_SECONDS": "0.1",
        "SLRT_NOTIFIER_RETRY_SCHEDULE_SECONDS": "[0.2, 0.4]",
        # groups of its own from now on: other tests' requests are not this notifier's to send
        PREFIX_ENV: own_groups(
            ConnectionSettings(kafka_bootstrap=kafka_bootstrap), SERVICE_GROUPS["notifier"]
        ).kafka_consumer_group_prefix,
    }
    request = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=uuid.uuid4(),
        kind=NotificationKind.HOUSEHOLD_MESSAGE,
        destination="household-7",
        template="complaint_registered",
        place_code="3204052001",
        params={"ticket_number": "SLRT-3204-000777"},
        recipient=Recipient(phone="+62 812 3456 7890"),
    )
    with service_process("notifier", env, tmp_path) as url:
        settings = ConnectionSettings(kafka_bootstrap=kafka_bootstrap)
        async with EventProducer(settings, "/slrt/routing") as producer:
            envelope = Envelope.wrap(request, source="/test", subject=str(request.complaint_id))
            await (await producer.send(Topic.NOTIFICATION_REQUESTS, envelope))
        outcomes = await outcomes_for(kafka_bootstrap, request.request_id, expect=1)
        assert len(outcomes) == 1
        assert outcomes[0][1].parse(NotificationDelivered).channel == "sms"
        (sms,) = standins.sms.messages
        assert sms["to"] == "+6281234567890"
        assert "SLRT-3204-000777" in sms["text"]

        token = issuer.token("manager-1", [Role.MANAGER], "3204")
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200
            exposed = (await client.get("/metrics")).text
            response = await client.get(
                "/v1/deliveries",
                params={"complaint_id": str(request.complaint_id)},
                headers={"authorization": f"Bearer {token}"},
            )
        assert response.status_code == 200
        (item,) = response.json()["items"]
        assert item["status"] == "delivered"
        assert item["channel"] == "sms"
        assert "81234567890" not in response.text, "no phone number in the status API"
        assert 'slrt_notifier_attempts_total{channel="sms",outcome="delivered"} 1.0' in exposed
        assert 'slrt_notifier_deliveries_settled_total{channel="sms",status="delivered"} 1.0' in (
            exposed
        )
