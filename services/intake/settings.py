"""Settings of the intake service (``SLRT_INTAKE_*``; connections from ``SLRT_*``)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from slrt.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLRT_INTAKE_", env_file=".env", extra="ignore")

    port: int = 8001
    public_base_url: str = "http://127.0.0.1:8001"
    """How clients reach this API (the ``links`` in responses)."""
    max_batch_items: int = Field(default=100, ge=1)
    tracking_limit_per_minute: int = Field(default=10, ge=1)
    """Public tracking lookups per client and minute (429 beyond)."""
    tracking_limit_per_ticket_per_minute: int = Field(default=5, ge=1)
    """Public tracking lookups (and household responses) per ticket number and minute, from
    any address (429 beyond): guessing a ticket's verifier from many addresses stays slow."""
    trusted_proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(
        default_factory=list
    )
    """Networks of the reverse proxies (the Ingress controller) whose ``X-Forwarded-For`` names
    the client (JSON list, e.g. ``["10.0.0.0/8"]``); from anyone else the header is ignored and
    the connection's address counts. Empty: the header is never read."""
    callback_tolerance_seconds: int = Field(default=300, ge=1, le=300)
    """How old (or early) a signed callback's timestamp may be (Standard Webhooks allows 5 min)."""
    update_timeout_seconds: float = Field(default=15.0, gt=0)
    """How long a human action waits for the complaint's workflow before answering 503."""
    status_consumer_group: str = "intake-status"
    catalog_consumer_group: str = "intake-catalog"
    codec_cors_origins: list[str] = Field(default_factory=list)
    """Origins of the Temporal UI allowed to call the codec endpoint (``/codec/encode``,
    ``/codec/decode``) from the browser, e.g. ``["https://temporal.slrt.example.go.id"]``;
    empty: no cross-origin calls (``SLRT_INTAKE_CODEC_CORS_ORIGINS`` as a JSON list)."""

    # Attachments (services/intake/attachments.py, docs/api.md "Attachments").
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Largest file accepted (bytes, as uploaded); 413 beyond."""
    attachment_max_count: int = Field(default=10, ge=1)
    """Attachments one complaint may have; 409 beyond."""
    attachment_max_pixels: int = Field(default=40_000_000, ge=1)
    """Largest image (width × height) decoded; 422 beyond (decompression bombs)."""
    attachment_keys_ref: str = "attachment-keys"
    """The secret holding the attachments' AES-256-GCM key ring (``slrt.attachments.sealing``:
    ``<key id>:<base64 of 32 bytes>`` entries, the current key first)."""
    attachment_link_seconds: int = Field(default=120, ge=5, le=3600)
    """How long a download link lives."""
    attachment_store: Literal["local", "s3"] = "local"
    """Where sealed attachments live: a folder (``attachment_dir``) or an S3-compatible store."""
    attachment_dir: Path = Path(".slrt/attachments")
    attachment_s3_endpoint: str | None = None
    """The store's API as intake reaches it, e.g. ``http://minio.storage:9000``."""
    attachment_s3_public_endpoint: str | None = None
    """Where readers' browsers reach the store (presigned links), when not the endpoint above."""
    attachment_s3_bucket: str = "slrt-attachments"
    attachment_s3_region: str = "us-east-1"
    attachment_s3_credentials_ref: str = "attachment-s3-credentials"
    """The secret with the store's access key id and secret key, separated by white space."""
    clamd_address: str | None = None
    """``host:port`` of a clamd (ClamAV) that scans every upload; unset: no scanning."""
    clamd_timeout_seconds: float = Field(default=30.0, gt=0)
