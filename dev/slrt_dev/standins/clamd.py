"""Stand-in: a virus scanner that speaks clamd's protocol and flags the EICAR test file.

Answers ``zINSTREAM`` / ``nINSTREAM`` (length-prefixed chunks, a zero-length chunk ends the
stream) with ``stream: OK`` or ``stream: Eicar-Test-Signature FOUND``, and ``zPING`` with
``PONG``, the way clamd(8) does. It knows one signature, the industry's antivirus test string
(EICAR), so a test can show an upload refused without a real virus or ClamAV's databases.

In tests: :class:`ClamdStandin` in-process on a free loopback port; for the local demo:
``python -m slrt_dev.standins.clamd --port 3310``.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from slrt_dev.standins.server import LOOPBACK, free_port

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!H+H*"
"""The EICAR antivirus test string (harmless; every scanner flags it)."""

MAX_STREAM = 64 * 1024 * 1024


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        first = await reader.read(1)
        if first in (b"z", b"n"):
            end = b"\0" if first == b"z" else b"\n"
            command = (await reader.readuntil(end)).rstrip(end)
        else:
            end = b"\n"
            command = (first + await reader.readuntil(b"\n")).strip()
        if command == b"PING":
            writer.write(b"PONG" + end)
        elif command == b"INSTREAM":
            data = bytearray()
            while True:
                (size,) = struct.unpack(">I", await reader.readexactly(4))
                if size == 0:
                    break
                data += await reader.readexactly(size)
                if len(data) > MAX_STREAM:
                    writer.write(b"INSTREAM size limit exceeded. ERROR" + end)
                    return
            found = EICAR in data
            writer.write(
                b"stream: Eicar-Test-Signature FOUND" + end if found else b"stream: OK" + end
            )
        else:
            writer.write(b"UNKNOWN COMMAND" + end)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(
    port: int, ready: threading.Event | None = None, stop: asyncio.Event | None = None
) -> None:
    server = await asyncio.start_server(_handle, LOOPBACK, port)
    async with server:
        if ready is not None:
            ready.set()
        if stop is None:
            await server.serve_forever()
        else:
            await stop.wait()


class ClamdStandin:
    """The stand-in on its own thread and event loop (for tests)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @contextmanager
    def running(self) -> Iterator[ClamdStandin]:
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        stop = asyncio.Event()

        def run() -> None:
            loop.run_until_complete(serve(self.port, ready, stop))

        thread = threading.Thread(target=run, name="clamd-standin", daemon=True)
        thread.start()
        if not ready.wait(10):
            raise RuntimeError("the clamd stand-in did not start")
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=3310)
    args = parser.parse_args()
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
