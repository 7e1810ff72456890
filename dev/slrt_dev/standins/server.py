"""Serving a stand-in: from the command line, or in the background of a test."""

from __future__ import annotations

import argparse
import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serve ``app`` on loopback while the block runs; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host=LOOPBACK, port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("stand-in stopped before it started")
            await asyncio.sleep(0.02)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        await task


def main(name: str, app: FastAPI, default_port: int) -> None:
    parser = argparse.ArgumentParser(
        prog=f"python -m slrt_dev.standins.{name}", description=app.title
    )
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args()
    uvicorn.run(app, host=LOOPBACK, port=args.port)
