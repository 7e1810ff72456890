"""Stand-in: an HTTP SMS gateway that keeps the messages instead of sending them.

``POST /api/v1/messages`` with ``{"from", "to", "text", "reference"}`` → ``{"message_id"}``;
``to`` must be E.164 and ``text`` at most ``max_length`` characters (else 422, as a real gateway
would refuse). ``GET /_received`` lists what arrived; ``PUT /_control`` with ``{"failing": true}``
makes it answer 503.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from slrt_dev.standins.server import main

E164 = re.compile(r"^\+[1-9]\d{7,14}$")


class Sms(BaseModel):
    to: str
    text: str
    reference: str
    sender: str | None = None


class Control(BaseModel):
    failing: bool = False


@dataclass
class GatewayState:
    max_length: int = 160
    failing: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)


def create_app(state: GatewayState) -> FastAPI:
    app = FastAPI(title="Stand-in: SMS gateway sink")

    @app.post("/api/v1/messages", status_code=202)
    async def send(message: dict[str, Any]) -> dict[str, str]:
        if state.failing:
            raise HTTPException(503, "gateway unavailable")
        sms = Sms(sender=message.get("from"), **{k: v for k, v in message.items() if k != "from"})
        if not E164.match(sms.to):
            raise HTTPException(422, "to must be an E.164 number")
        if len(sms.text) > state.max_length:
            raise HTTPException(422, f"text longer than {state.max_length} characters")
        message_id = uuid.uuid4().hex
        state.messages.append({**sms.model_dump(), "message_id": message_id})
        return {"message_id": message_id}

    @app.put("/_control")
    async def control(change: Control) -> Control:
        state.failing = change.failing
        return change

    @app.get("/_received")
    async def received() -> list[dict[str, Any]]:
        return state.messages

    return app


if __name__ == "__main__":
    main("sms_gateway", create_app(GatewayState()), 8093)
