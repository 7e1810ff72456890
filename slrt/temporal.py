"""The Temporal client every service uses: pydantic payloads and tracing interceptor."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.client import Client, TLSConfig
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter

from slrt.settings import ConnectionSettings


def _tls(settings: ConnectionSettings) -> TLSConfig | bool:
    """TLS from the mounted certificate files, if configured (read once, at connect): mTLS with
    a client certificate and key, and/or the CA of a frontend signed by a private CA."""
    cert, key, ca = settings.temporal_tls_cert, settings.temporal_tls_key, settings.temporal_tls_ca
    if not ((cert and key) or ca):
        return False
    return TLSConfig(
        client_cert=Path(cert).read_bytes() if cert and key else None,
        client_private_key=Path(key).read_bytes() if cert and key else None,
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
