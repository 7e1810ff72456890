"""The codec endpoint the Temporal UI calls: a national workflow operator decodes a complaint's
encrypted payloads (and encodes, for the UI's signal form); nobody else may; every call by a
verified caller is audited; the browser may call it only from the configured UI origin."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from slrt.auth.principal import Role
from slrt.payload_codec import EncryptionCodec, is_encrypted
from tests.support.harness import sandbox_converter
from tests.support.intake import Intake

NIK = "3204054107850001"
PLAIN = Payload(
    metadata={"encoding": b"json/plain"},
    data=json.dumps({"complainant": {"nik": NIK, "name": "Siti Aminah"}}).encode(),
)
UI = "https://temporal-ui.slrt.test"


def codec() -> EncryptionCodec:
    found = sandbox_converter().payload_codec
    assert isinstance(found, EncryptionCodec)
    return found


def body(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=list(payloads)))


def parsed(response: httpx.Response) -> list[Payload]:
    return list(json_format.Parse(response.text, Payloads()).payloads)


async def post(intake: Intake, operation: str, content: str, **headers: str) -> httpx.Response:
    return await intake.client.post(
        f"/codec/{operation}",
        content=content,
        headers={"Content-Type": "application/json", **headers},
    )


async def audit(intake: Intake) -> list[dict[str, Any]]:
    rows = await intake.pool.fetch(
        "SELECT actor, actor_role, action, complaint_id, fields, detail FROM audit_log "
        "WHERE action LIKE 'workflow_history_%' ORDER BY id"
    )
    return [dict(r) for r in rows]


async def test_a_national_workflow_operator_decodes_and_the_call_is_audited(
    intake: Intake,
) -> None:
    sealed = await codec().encode([PLAIN])
    assert NIK.encode() not in sealed[0].SerializeToString()
    operator = intake.auth(Role.WORKFLOW_OPERATOR, "", subject="ops-1")
    decoded = await post(intake, "decode", body(*sealed), **operator, **{"X-Namespace": "slrt"})
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["cache-control"] == "no-store"
    assert parsed(decoded) == [PLAIN]
    # What a history recorded before encryption holds passes through as it is.
    assert parsed(await post(intake, "decode", body(PLAIN), **operator)) == [PLAIN]
    encoded = await post(intake, "encode", body(PLAIN), **operator)
    (again,) = parsed(encoded)
    assert is_encrypted(again)
    assert await codec().decode([again]) == [PLAIN]
    rows = await audit(intake)
    assert [(r["actor"], r["action"], r["detail"]) for r in rows] == [
        ("ops-1", "workflow_history_decode", "namespace=slrt payloads=1 outcome=served"),
        ("ops-1", "workflow_history_decode", "namespace=slrt payloads=1 outcome=served"),
        ("ops-1", "workflow_history_encode", "namespace=slrt payloads=1 outcome=served"),
    ]
    assert all(r["actor_role"] == "workflow_operator" for r in rows)
    assert all(NIK not in (r["detail"] or "") for r in rows)


async def test_no_token_no_role_or_a_district_operator_gets_nothing(intake: Intake) -> None:
    sealed = body(*await codec().encode([PLAIN]))
    anonymous = await post(intake, "decode", sealed)
    assert anonymous.status_code == 401
    for role, area in [
        (Role.MANAGER, "3204"),
        (Role.DATA_MANAGER, ""),
        (Role.BACK_OFFICE, "3204"),
        (Role.WORKFLOW_OPERATOR, "3204"),
    ]:
        refused = await post(intake, "decode", sealed, **intake.auth(role, area))
        assert refused.status_code == 403, (role, refused.text)
        assert NIK not in refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    rows = await audit(intake)
    assert len(rows) == 4
    assert all(r["detail"].endswith("payloads=0 outcome=refused") for r in rows)


async def test_bad_bodies_an_unknown_key_and_other_namespaces_are_4xx(intake: Intake) -> None:
    operator = intake.auth(Role.WORKFLOW_OPERATOR, "")
    assert (await post(intake, "decode", "{not json", **operator)).status_code == 400
    assert (await post(intake, "rot13", body(PLAIN), **operator)).status_code == 404
    other_ns = await post(intake, "decode", body(PLAIN), **operator, **{"X-Namespace": "other"})
    assert other_ns.status_code == 404
    foreign = Payload(
        metadata={"encoding": b"binary/encrypted", "encryption-key-id": b"somebody-else"},
        data=base64.b64decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    unknown = await post(intake, "decode", body(foreign), **operator)
    assert unknown.status_code == 400
    assert "somebody-else" in unknown.json()["detail"]


async def test_the_browser_may_call_only_from_the_configured_temporal_ui(
    intake: Intake,
) -> None:
    intake.settings.codec_cors_origins = [UI]
    preflight = await intake.client.options(
        "/codec/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == UI
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    elsewhere = await intake.client.options(
        "/codec/decode",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in elsewhere.headers
    served = await post(
        intake, "decode", body(PLAIN), Origin=UI, **intake.auth(Role.WORKFLOW_OPERATOR, "")
    )
    assert served.headers["access-control-allow-origin"] == UI
