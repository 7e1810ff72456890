"""The Temporal codec endpoint: authorised staff read a complaint's history in the Temporal UI.

Payloads in Temporal are encrypted by the services (``slrt.payload_codec``); the Temporal UI
shows them only through a *codec server* it calls from the browser (the UI's "codec endpoint"
setting, ``TEMPORAL_CODEC_ENDPOINT``, with "pass access token" on). This is that server, on
intake: ``POST /codec/decode`` and ``POST /codec/encode`` take and answer the protocol's JSON
(``{"payloads": [{"metadata": {...base64}, "data": base64}]}``) with the same key ring as the
services. Only a national caller (area ``""``) with ``workflow.history_read`` (the
``workflow_operator`` role) may call it — a history can be any district's; every call by a
verified caller, served or refused, leaves a row in intake's ``audit_log`` (who, which
namespace, how many payloads, the outcome); the payloads themselves are never logged.
Cross-origin calls are allowed from the UI origins in ``codec_cors_origins`` only.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payloads

from services.intake import casefile_store
from services.intake.api.deps import CurrentPrincipal, Pool, Settings, Temporal
from services.intake.api.problems import problems
from slrt.auth.api import authorize
from slrt.auth.policy import Action
from slrt.errors import Refused
from slrt.payload_codec import PayloadKeyError
from slrt.problems import Problem

log = logging.getLogger(__name__)
router = APIRouter(tags=["codec"])

CODEC_PATH = "/codec/{operation}"
MAX_PAYLOADS = 1000


def _cors(request: Request, response: Response, settings: Settings) -> None:
    origin = request.headers.get("origin")
    if origin and origin in settings.codec_cors_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"


@router.options(CODEC_PATH, include_in_schema=False)
async def preflight(request: Request, settings: Settings, operation: str) -> Response:
    """The browser's CORS preflight for the Temporal UI (no credentials; answers no data)."""
    response = Response(status_code=204)
    _cors(request, response, settings)
    if "Access-Control-Allow-Origin" in response.headers:
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = (
            "Authorization, Content-Type, X-Namespace"
        )
        response.headers["Access-Control-Max-Age"] = "600"
    return response


@router.post(
    CODEC_PATH,
    summary="Staff: decode or encode Temporal payloads for the Temporal UI (audited)",
    description="Temporal's codec-server protocol: `operation` is `decode` or `encode`; the "
    'body and the answer are `{"payloads": [...]}` in protobuf JSON. For the '
    "`workflow_operator` role only (`workflow.history_read`); every call is audited.",
    responses=problems(400, 401, 403, 404, 413),
)
async def codec(
    operation: str,
    request: Request,
    principal: CurrentPrincipal,
    pool: Pool,
    client: Temporal,
    settings: Settings,
    namespace: Annotated[str | None, Header(alias="X-Namespace")] = None,
) -> Response:
    if operation not in ("decode", "encode"):
        raise Problem(404, "not-found", "No such codec operation")
    ns = namespace or client.namespace
    try:
        authorize(principal, Action.WORKFLOW_HISTORY_READ, what="codec")
        if principal.area != "":
            raise Refused("the codec serves every district's histories: national callers only")
    except Refused:
        await _audit(pool, principal.subject, sorted(principal.roles), operation, ns, 0, "refused")
        raise
    if ns != client.namespace:
        raise Problem(404, "not-found", "No such namespace", f"this serves {client.namespace}")
    try:
        payloads = json_format.Parse(await request.body(), Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, DecodeError, UnicodeDecodeError):
        raise Problem(400, "invalid-request", "The body is not Temporal's payloads JSON") from None
    if len(payloads.payloads) > MAX_PAYLOADS:
        raise Problem(413, "too-large", f"At most {MAX_PAYLOADS} payloads per call")
    codec_ = client.data_converter.payload_codec
    if codec_ is None:  # pragma: no cover - the services always run with the codec
        raise Problem(404, "not-found", "Payloads are not encrypted here")
    try:
        if operation == "decode":
            out = await codec_.decode(payloads.payloads)
        else:
            out = await codec_.encode(payloads.payloads)
    except (PayloadKeyError, ValueError) as exc:
        await _audit(pool, principal.subject, sorted(principal.roles), operation, ns, 0, "failed")
        raise Problem(400, "invalid-request", "A payload cannot be decoded", str(exc)) from None
    await _audit(
        pool, principal.subject, sorted(principal.roles), operation, ns, len(out), "served"
    )
    response = Response(
        content=json_format.MessageToJson(Payloads(payloads=out)),
        media_type="application/json",
    )
    response.headers["Cache-Control"] = "no-store"
    _cors(request, response, settings)
    return response


async def _audit(
    pool: Pool,
    actor: str,
    roles: list[str],
    operation: str,
    namespace: str,
    count: int,
    outcome: str,
) -> None:
    """One ``audit_log`` row per call: no complaint (the protocol names none), the national
    place (a history can be any district's), what was done in ``detail``."""
    async with pool.acquire() as conn:
        await casefile_store.audit(
            conn,
            actor=actor,
            actor_role=",".join(roles),
            action=f"workflow_history_{operation}",
            reads=[(None, "", None, ["temporal_payloads"] if count else [])],
            detail=f"namespace={namespace} payloads={count} outcome={outcome}",
        )
    log.info(
        "codec call",
        extra={"caller": actor, "operation": operation, "payloads": count, "outcome": outcome},
    )
