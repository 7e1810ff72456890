"""The Temporal client every service uses: pydantic payloads and tracing interceptor."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.client import Client, TLSConfig
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter

from slrt.settings import ConnectionSettings


def _tls(settings: ConnectionSettings) -> TLSConfig | bool:
    """mTLS from the mounted certificate files, if configured (read once, at connect)."""
    if not (settings.temporal_tls_cert and settings.temporal_tls_key):
        return False
    ca = settings.temporal_tls_ca
    return TLSConfig(
        client_cert=Path(settings.temporal_tls_cert).read_bytes(),
        client_private_key=Path(settings.temporal_tls_key).read_bytes(),
        server_root_ca_cert=Path(ca).read_bytes() if ca else None,
    )


async def connect(settings: ConnectionSettings) -> Client:
    tls = await asyncio.to_thread(_tls, settings)
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        interceptors=[TracingInterceptor()],
        tls=tls,
    )


async def ping(client: Client) -> bool:
    return await client.service_client.check_health()
