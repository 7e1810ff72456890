"""Stand-in: an SMTP server (aiosmtpd) that keeps every message it receives.

In tests, :class:`SmtpSink` runs in-process on a free loopback port and ``messages`` holds the
parsed emails; ``python -m slrt_dev.standins.smtp_sink --port 8025 --folder .slrt/mail``
writes each as an ``.eml`` file for the local demo. With ``--http-port`` it also answers
``GET /_received`` there: every email it kept (to, from, subject, the sender's
``X-SLRT-Message-Id``, the plain-text body), so the demo can check what arrived and open the
links program managers were sent.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import threading
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI

from slrt_dev.standins.server import LOOPBACK, free_port


class _Keeper:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.messages: list[EmailMessage] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"{uuid.uuid4().hex}.eml").write_bytes(raw)
        self.arrived.set()
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, port: int | None = None, folder: Path | None = None) -> None:
        self.port = port or free_port()
        self._keeper = _Keeper(folder)
        self._controller: Any = Controller(self._keeper, hostname=LOOPBACK, port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self._keeper.messages

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def as_received(message: EmailMessage) -> dict[str, Any]:
    """What the inspection endpoint shows of one email."""
    body = message.get_body(preferencelist=("plain",))
    return {
        "to": str(message["To"] or ""),
        "from": str(message["From"] or ""),
        "subject": str(message["Subject"] or ""),
        "message_id": str(message["X-SLRT-Message-Id"] or ""),
        "text": body.get_content() if isinstance(body, EmailMessage) else "",
    }


def inspection_app(sink: SmtpSink) -> FastAPI:
    app = FastAPI(title="Stand-in: SMTP sink, what it received")

    @app.get("/_received")
    async def received() -> list[dict[str, Any]]:
        return [as_received(m) for m in list(sink.messages)]

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m slrt_dev.standins.smtp_sink")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--folder", type=Path, default=Path(".slrt/mail"))
    parser.add_argument("--http-port", type=int, help="serve GET /_received on this port")
    args = parser.parse_args()
    sink = SmtpSink(args.port, args.folder)
    sink.start()
    print(f"SMTP sink (stand-in) on {LOOPBACK}:{sink.port}, writing to {args.folder}")
    try:
        if args.http_port:
            uvicorn.run(inspection_app(sink), host=LOOPBACK, port=args.http_port)
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
