"""The virus-scanning hook: a client of clamd's ``INSTREAM`` command (ClamAV's daemon).

Off unless an address is configured (``SLRT_INTAKE_CLAMD_ADDRESS=host:port``). When on, every
upload is streamed to clamd before anything else reads it; a file clamd flags is refused
(422, rule ``virus_free``, with the signature's name), and clamd down or answering nonsense
refuses the upload as 503 — a scanner that was asked for is never skipped (fail closed).

Protocol (clamd(8)): ``zINSTREAM\\0``, then chunks each prefixed by its length as a 4-byte
big-endian unsigned integer, then a zero-length chunk; clamd answers ``stream: OK\\0`` or
``stream: <signature> FOUND\\0`` (or ``... ERROR\\0``, e.g. past its StreamMaxLength).
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from slrt.errors import Invalid, Unavailable, field_error

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str | None = None


def parse_reply(reply: bytes) -> Verdict:
    """clamd's answer to ``INSTREAM``; :class:`ValueError` for anything else."""
    text = reply.rstrip(b"\0\n").decode("utf-8", errors="replace")
    _, sep, result = text.partition(": ")
    if not sep:
        raise ValueError("not a clamd INSTREAM reply")
    if result == "OK":
        return Verdict(True)
    if result.endswith(" FOUND"):
        return Verdict(False, result.removesuffix(" FOUND").strip())
    raise ValueError("clamd could not scan the stream")


@dataclass(frozen=True)
class ClamdScanner:
    host: str
    port: int
    timeout: float = 30.0

    @classmethod
    def at(cls, address: str, timeout: float = 30.0) -> ClamdScanner:
        host, _, port = address.rpartition(":")
        return cls(host.strip("[]") or "127.0.0.1", int(port), timeout)

    async def scan(self, data: bytes) -> Verdict:
        try:
            return await asyncio.wait_for(self._scan(data), self.timeout)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as failed:
            raise Unavailable(
                "the virus scanner did not answer; try again later",
                retry_after=30,
                kind="scanner-unavailable",
                title="Virus scanner unavailable",
            ) from failed

    async def _scan(self, data: bytes) -> Verdict:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start : start + CHUNK]
                writer.write(struct.pack(">I", len(chunk)) + chunk)
                await writer.drain()
            writer.write(struct.pack(">I", 0))
            await writer.drain()
            reply = await reader.readuntil(b"\0")
        finally:
            writer.close()
        return parse_reply(reply)

    async def require_clean(self, data: bytes) -> None:
        verdict = await self.scan(data)
        if not verdict.clean:
            message = f"the virus scanner flagged the file ({verdict.signature})"
            raise Invalid(message, errors=[field_error("file", "virus_free", message)])
