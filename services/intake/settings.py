"""Settings of the intake service (``SLRT_INTAKE_*``; connections from ``SLRT_*``)."""

from __future__ import annotations

import ipaddress

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from slrt.attachments.service import AttachmentSettings
from slrt.settings import ServiceSettings


class IntakeSettings(ServiceSettings, AttachmentSettings):
    """Attachments' settings (``SLRT_INTAKE_ATTACHMENT_*``, ``SLRT_INTAKE_CLAMD_*``) come from
    :class:`slrt.attachments.service.AttachmentSettings`."""

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
    stranded_check_seconds: float = Field(default=60.0, gt=0)
    """How often the gauge of open tasks held by a person who is gone is refreshed."""
    codec_cors_origins: list[str] = Field(default_factory=list)
    """Origins of the Temporal UI allowed to call the codec endpoint (``/codec/encode``,
    ``/codec/decode``) from the browser, e.g. ``["https://temporal.slrt.example.go.id"]``;
    empty: no cross-origin calls (``SLRT_INTAKE_CODEC_CORS_ORIGINS`` as a JSON list)."""
    personal_data_retention_days: int = Field(default=1095, ge=1)
    """Days after a complaint closed (or was withdrawn) that its personal data is kept; then
    the retention sweep erases it (``services.intake.retention``). Three years: the two years
    in which a household may take the handling to the Ombudsman (UU 37/2008, Pasal 24) plus a
    year for that examination and the yearly audit of social assistance; UU PDP 27/2022 asks
    for no longer than needed. A district with another rule sets its own."""
    personal_data_retention_sweep_seconds: float = Field(default=3600.0, gt=0)
    """How often the retention sweep looks for complaints due for erasure."""
    personal_data_retention_batch: int = Field(default=50, ge=1, le=1000)
    """At most this many complaints erased per sweep round (the rest wait for the next)."""
