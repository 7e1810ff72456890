"""Attachments end to end with real processes: intake as its own process (``python -m
services.intake``) on PostgreSQL and Kafka, keeping attachments in versitygw (a real
S3-compatible store) and scanning them with the clamd stand-in process. What a person sees:
the photo downloaded from the store's presigned link has no GPS position; EICAR is refused; a
Kota Bandung attachment is not found for a Kabupaten Bandung token."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from slrt.attachments.storage import S3Config, S3Store
from slrt.auth.principal import Role
from slrt.settings import ConnectionSettings
from tests.support.attachments import EICAR, gps_of, jpeg_with_gps
from tests.support.harness import RealStack, dev_issuer, service_env, service_process, standin
from tests.support.intake import OTHER_DISTRICT_VILLAGE, walk_in


async def test_attachments_through_the_intake_process(
    real_stack: RealStack, connections: ConnectionSettings, tmp_path: Path
) -> None:
    s3 = real_stack.s3
    bucket = f"slrt-e2e-{uuid.uuid4().hex[:10]}"
    await S3Store(S3Config(s3.url, bucket, s3.access_key, s3.secret_key)).ensure_bucket()
    await real_stack.create_topics("slrt.complaint.submitted", "slrt.complaint.submitted.dlq")
    issuer = dev_issuer(tmp_path)

    def auth(role: Role, area: str) -> dict[str, str]:
        token = issuer.token(f"{role.value}-{area}", [role], area, None)
        return {"Authorization": f"Bearer {token}"}

    with standin("clamd", tmp_path) as clamd_port:
        env = service_env(
            connections,
            SLRT_INTAKE_ATTACHMENT_STORE="s3",
            SLRT_INTAKE_ATTACHMENT_S3_ENDPOINT=s3.url,
            SLRT_INTAKE_ATTACHMENT_S3_BUCKET=bucket,
            SLRT_SECRET_ATTACHMENT_S3_CREDENTIALS=f"{s3.access_key} {s3.secret_key}",
            SLRT_INTAKE_CLAMD_ADDRESS=f"127.0.0.1:{clamd_port}",
        )
        with service_process("intake", env, tmp_path) as url:
            async with httpx.AsyncClient(base_url=url) as client:
                kab = await client.post(
                    "/v1/complaints", json=walk_in(), headers=auth(Role.FRONT_OFFICE, "3204")
                )
                assert kab.status_code == 202, kab.text
                kota = await client.post(
                    "/v1/complaints",
                    json=walk_in(village_code=OTHER_DISTRICT_VILLAGE),
                    headers=auth(Role.FRONT_OFFICE, "3273"),
                )
                assert kota.status_code == 202, kota.text

                eicar = await client.post(
                    f"/v1/complaints/{kab.json()['complaint_id']}/attachments",
                    content=EICAR,
                    headers=auth(Role.FRONT_OFFICE, "3204"),
                )
                assert eicar.status_code == 422, eicar.text
                assert eicar.json()["errors"][0]["rule"] == "virus_free"

                kota_id = kota.json()["complaint_id"]
                up = await client.post(
                    f"/v1/complaints/{kota_id}/attachments",
                    content=jpeg_with_gps(),
                    headers={**auth(Role.FRONT_OFFICE, "3273"), "Content-Type": "image/jpeg"},
                )
                assert up.status_code == 201, up.text
                aid = up.json()["attachment_id"]
                link_path = f"/v1/complaints/{kota_id}/attachments/{aid}/link"

                other = await client.get(link_path, headers=auth(Role.BACK_OFFICE, "3204"))
                assert other.status_code == 404, other.text

                link = await client.get(link_path, headers=auth(Role.BACK_OFFICE, "3273"))
                assert link.status_code == 200, link.text
                presigned = link.json()["url"]
                assert presigned.startswith(f"{s3.url}/{bucket}/deliveries/")
            async with httpx.AsyncClient() as browser:
                photo = await browser.get(presigned)
            assert photo.status_code == 200
            assert photo.content.startswith(b"\xff\xd8\xff")
            assert gps_of(photo.content) == {}
