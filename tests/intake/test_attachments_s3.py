"""Attachments in a real S3-compatible object store: versitygw (built once by
scripts/versitygw.sh, started by the harness on a free port; ``RealStack.s3``).

The store itself: a round trip, and a presigned link that works, then expires. Intake on that
store: the kept object is ciphertext; the download link is a presigned link to a delivery copy
of the opened file, which works until it expires and is then swept away."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.intake import attachments
from services.intake.app import create_app
from slrt.attachments.storage import DELIVERIES, NotStored, S3Config, S3Store
from slrt.auth.principal import Role
from slrt.auth.tokens import AuthSettings
from slrt.kafka import EventProducer
from slrt.payload_codec import PayloadKeys
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from slrt_dev.stack.objectstore import S3Endpoint
from tests.support.attachments import gps_of, jpeg_with_gps
from tests.support.harness import RealStack
from tests.support.intake import ISSUER, Intake, settings_for, walk_in
from tests.support.polling import poll


@pytest.fixture
async def bucket(real_stack: RealStack) -> tuple[S3Endpoint, S3Store]:
    endpoint = real_stack.s3
    name = f"slrt-{uuid.uuid4().hex[:12]}"
    store = S3Store(
        S3Config(endpoint.url, name, endpoint.access_key, endpoint.secret_key, endpoint.region)
    )
    await store.ensure_bucket()
    return endpoint, store


async def _expired(url: str) -> httpx.Response:
    async def probe() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.get(url)

    return await poll(probe, lambda r: r.status_code == 403, timeout=15, interval=0.25)


async def test_round_trip_and_a_presigned_link_that_expires(
    bucket: tuple[S3Endpoint, S3Store],
) -> None:
    _, store = bucket
    await store.check()
    await store.put("complaints/a/b", b"sealed bytes")
    assert await store.get("complaints/a/b") == b"sealed bytes"
    url = store.presigned_get("complaints/a/b", 2, content_type="application/octet-stream")
    assert "X-Amz-Expires=2" in url
    assert "X-Amz-Signature=" in url
    async with httpx.AsyncClient() as client:
        fetched = await client.get(url)
        assert fetched.status_code == 200
        assert fetched.content == b"sealed bytes"
        tampered = await client.get(url.replace("X-Amz-Expires=2", "X-Amz-Expires=3600"))
        assert tampered.status_code == 403
    expired = await _expired(url)
    assert b"expired" in expired.content.lower() or b"AccessDenied" in expired.content
    await store.delete("complaints/a/b")
    await store.delete("complaints/a/b")  # idempotent
    with pytest.raises(NotStored):
        await store.get("complaints/a/b")


@pytest.fixture
async def s3_intake(
    intake_topics: None,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    secrets_dir: Path,
    bucket: tuple[S3Endpoint, S3Store],
) -> AsyncIterator[Intake]:
    endpoint, store = bucket
    (secrets_dir / "attachment-keys").write_text(PayloadKeys.generate("att-s3-1"))
    (secrets_dir / "attachment-s3-credentials").write_text(
        f"{endpoint.access_key}\n{endpoint.secret_key}\n"
    )
    settings = settings_for(
        connections,
        attachment_store="s3",
        attachment_s3_endpoint=endpoint.url,
        attachment_s3_bucket=store.bucket,
        attachment_link_seconds=5,
    )
    app = create_app(
        settings, AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://intake.test"
        ) as client,
        EventProducer(connections, "/slrt/test") as producer,
    ):
        yield Intake(app, client, settings, issuer, producer)


def _keys(store: S3Store, prefix: str = "") -> list[str]:
    listed: Any = store._client.list_objects_v2(Bucket=store.bucket, Prefix=prefix)
    return sorted(str(o["Key"]) for o in listed.get("Contents", []))


async def test_intake_keeps_ciphertext_in_s3_and_hands_out_presigned_links(
    s3_intake: Intake, bucket: tuple[S3Endpoint, S3Store]
) -> None:
    endpoint, store = bucket
    accepted = await s3_intake.submit(walk_in())
    cid = accepted.json()["complaint_id"]
    up = await s3_intake.client.post(
        f"/v1/complaints/{cid}/attachments",
        content=jpeg_with_gps(),
        headers={**s3_intake.auth(Role.FRONT_OFFICE), "Content-Type": "image/jpeg"},
    )
    assert up.status_code == 201, up.text
    aid = up.json()["attachment_id"]
    name = f"complaints/{cid}/{aid}"
    assert _keys(store) == [name]
    kept = await store.get(name)
    assert kept.startswith(b"SLRTA1")
    assert b"JFIF" not in kept
    assert b"Exif" not in kept

    link = await s3_intake.client.get(
        f"/v1/complaints/{cid}/attachments/{aid}/link",
        headers=s3_intake.auth(Role.BACK_OFFICE),
    )
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    assert url.startswith(f"{endpoint.url}/{store.bucket}/{DELIVERIES}")
    assert "X-Amz-Expires=5" in url
    async with httpx.AsyncClient() as client:
        got = await client.get(url)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.content.startswith(b"\xff\xd8\xff")
    assert gps_of(got.content) == {}
    assert len(_keys(store, DELIVERIES)) == 1

    await _expired(url)
    parts = s3_intake.runtime.part(attachments.AttachmentParts)
    assert parts is not None
    swept = await poll(lambda: store.sweep_deliveries(grace_seconds=0), timeout=10)
    assert swept == 1
    assert _keys(store) == [name]

    assert await attachments.erase_for_complaint(s3_intake.pool, parts, uuid.UUID(cid)) == 1
    assert _keys(store) == []
