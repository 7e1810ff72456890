"""Delivery status and re-send over HTTP: staff only, area-scoped, no personal data."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from services.notifier import store
from services.notifier.app import create_app
from services.notifier.domain import DeliveryStatus, SendResult
from services.notifier.settings import NotifierSettings
from slrt.auth import Role
from slrt.auth.tokens import AuthSettings, TokenVerifier
from slrt.contracts.events import NotificationRequested, Recipient
from slrt.contracts.vocabulary import NotificationKind
from slrt.deps import runtime_of
from slrt_dev.issuer import DevIssuer

ISSUER = "https://auth.slrt.local/dev"
PHONE = "081234567890"


@pytest.fixture
def issuer(tmp_path: Path) -> DevIssuer:
    issuer = DevIssuer(tmp_path / "issuer", ISSUER, "slrt")
    issuer.ensure_keys()
    return issuer


@pytest.fixture
async def client(pool: asyncpg.Pool, issuer: DevIssuer) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(NotifierSettings())
    runtime = runtime_of(app)
    runtime._pool = pool
    runtime.verifier = TokenVerifier(
        AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        yield client


def bearer(issuer: DevIssuer, role: Role, area: str) -> dict[str, str]:
    return {"authorization": f"Bearer {issuer.token('user-1', [role], area)}"}


async def failed_delivery(pool: asyncpg.Pool) -> NotificationRequested:
    request = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=uuid.uuid4(),
        kind=NotificationKind.HOUSEHOLD_MESSAGE,
        destination="household-42",
        template="complaint_outcome",
        place_code="3204052001",
        recipient=Recipient(phone=PHONE),
    )
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        await store.insert_request(
            conn, request, status=DeliveryStatus.PENDING, next_attempt_at=now, digest=False
        )
        delivery = store.Delivery.from_row(
            await conn.fetchrow(
                "SELECT * FROM deliveries WHERE request_id = $1", request.request_id
            )
        )

        result = SendResult.final("HTTP 400", 400)
        await store.record_attempt(
            conn, delivery, channel="sms", started_at=now, finished_at=now, result=result
        )
        await store.mark(
            conn,
            delivery,
            DeliveryStatus.FAILED,
            attempts=1,
            channel="sms",
            at=now,
            error="HTTP 400",
        )
    return request


async def test_staff_read_delivery_status_of_complaints_in_their_area_only(
    client: httpx.AsyncClient, pool: asyncpg.Pool, issuer: DevIssuer
) -> None:
    request = await failed_delivery(pool)
    url = f"/v1/deliveries?complaint_id={request.complaint_id}"

    response = await client.get(url, headers=bearer(issuer, Role.BACK_OFFICE, "3204"))
    assert response.status_code == 200
    (item,) = response.json()["items"]
    assert item["status"] == "failed"
    assert item["last_error"] == "HTTP 400"
    assert [a["outcome"] for a in item["attempt_log"]] == ["final"]
    assert PHONE not in response.text

    other_area = await client.get(url, headers=bearer(issuer, Role.BACK_OFFICE, "3171"))
    assert other_area.status_code == 404
    assert (await client.get(url)).status_code == 401
    facilitator = await client.get(url, headers=bearer(issuer, Role.FACILITATOR, "3204"))
    assert facilitator.status_code == 403
    neither = await client.get("/v1/deliveries", headers=bearer(issuer, Role.MANAGER, "3204"))
    assert neither.status_code == 422


async def test_a_manager_resends_a_failed_delivery_once(
    client: httpx.AsyncClient, pool: asyncpg.Pool, issuer: DevIssuer
) -> None:
    request = await failed_delivery(pool)
    delivery_id = await pool.fetchval(
        "SELECT id FROM deliveries WHERE request_id = $1", request.request_id
    )
    url = f"/v1/deliveries/{delivery_id}/resend"

    back_office = await client.post(url, headers=bearer(issuer, Role.BACK_OFFICE, "3204"))
    assert back_office.status_code == 403
    response = await client.post(url, headers=bearer(issuer, Role.MANAGER, "3204"))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert body["round"] == 2
    assert body["resent_by"] == "user-1"
    again = await client.post(url, headers=bearer(issuer, Role.MANAGER, "3204"))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_staff_see_every_delivery_of_a_complaint_in_their_area_wherever_it_went(
    client: httpx.AsyncClient, pool: asyncpg.Pool, issuer: DevIssuer
) -> None:
    """A complaint in Kabupaten Bandung whose referral went to a ministry and whose escalations
    went to the province: the district's staff see all of them (scoped by the complaint's
    place, not by the destination's). One request carries the province's code, one (recorded
    before the workflow put the complaint's place on every request) none."""
    complaint_id = uuid.uuid4()
    referral = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint_id,
        referral_id=uuid.uuid4(),
        kind=NotificationKind.REFERRAL,
        destination="PKH",
        template="referral",
        place_code="3204052001",
    )
    to_province = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint_id,
        kind=NotificationKind.ESCALATION,
        destination="province:32",
        template="referral_no_response",
        place_code="32",
        breached=True,
    )
    unplaced = to_province.model_copy(
        update={"request_id": uuid.uuid4(), "destination": "tkpk:3204", "place_code": None}
    )
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        for request in (referral, to_province, unplaced):
            await store.insert_request(
                conn, request, status=DeliveryStatus.PENDING, next_attempt_at=now, digest=False
            )
    url = f"/v1/deliveries?complaint_id={complaint_id}"

    district = await client.get(url, headers=bearer(issuer, Role.BACK_OFFICE, "3204"))
    assert district.status_code == 200, district.text
    assert {i["destination"] for i in district.json()["items"]} == {
        "PKH",
        "province:32",
        "tkpk:3204",
    }
    one = await pool.fetchval(
        "SELECT id FROM deliveries WHERE request_id = $1", to_province.request_id
    )
    single = await client.get(f"/v1/deliveries/{one}", headers=bearer(issuer, Role.MANAGER, "3204"))
    assert single.status_code == 200
    by_referral = await client.get(
        f"/v1/deliveries?referral_id={referral.referral_id}",
        headers=bearer(issuer, Role.MANAGER, "320405"),
    )
    assert by_referral.status_code == 200
    other_district = await client.get(url, headers=bearer(issuer, Role.BACK_OFFICE, "3273"))
    assert other_district.status_code == 404
    province = await client.get(url, headers=bearer(issuer, Role.MANAGER, "32"))
    assert province.status_code == 200
