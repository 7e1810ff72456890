"""The Temporal client every service uses: pydantic payloads encrypted by our codec, and the
tracing interceptor.

:func:`data_converter` is the one way to a data converter: every client and worker (the
services, ``slrt-admin``, the tests' harness, the replay tests, the benchmarks) gets it from
here, so payloads are encrypted everywhere alike (``slrt.payload_codec``)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from temporalio.client import Client, TLSConfig
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from slrt import secrets
from slrt.payload_codec import EncryptionCodec, PayloadKeys
from slrt.settings import ConnectionSettings


def payload_keys(settings: ConnectionSettings, secrets_dir: Path | None = None) -> PayloadKeys:
    """The payload key ring named by ``temporal_payload_keys_ref`` (raises when it is missing
    or malformed: a service never talks to Temporal unencrypted)."""
    return PayloadKeys.parse(secrets.resolve(settings.temporal_payload_keys_ref, secrets_dir))


def data_converter(keys: PayloadKeys | None) -> DataConverter:
    """Pydantic payloads, encrypted with ``keys`` (None: no codec — only for clients that touch
    no payloads, such as namespace set-up)."""
    if keys is None:
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(keys))


def converter_for(settings: ConnectionSettings) -> DataConverter:
    return data_converter(payload_keys(settings))


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


async def connect(settings: ConnectionSettings, *, payloads: bool = True) -> Client:
    """A client; ``payloads=False`` for one that sends and reads no payloads (namespace and
    search-attribute set-up, worker-version promotion), which then needs no key."""
    tls = await asyncio.to_thread(_tls, settings)
    keys = await asyncio.to_thread(payload_keys, settings) if payloads else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(keys),
        interceptors=[TracingInterceptor()],
        tls=tls,
    )


async def ping(client: Client) -> bool:
    return await client.service_client.check_health()
