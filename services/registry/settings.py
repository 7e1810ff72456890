"""Settings of the registry service (``SLRT_REGISTRY_*``; connections from ``SLRT_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from slrt.attachments.service import AttachmentSettings
from slrt.settings import ServiceSettings


class RegistrySettings(ServiceSettings, AttachmentSettings):
    """Attachments of pre-list entries and change proposals: ``SLRT_REGISTRY_ATTACHMENT_*``
    (:class:`slrt.attachments.service.AttachmentSettings`)."""

    model_config = SettingsConfigDict(env_prefix="SLRT_REGISTRY_", env_file=".env", extra="ignore")

    port: int = 8002
    public_url: str = "http://127.0.0.1:8002"
    """How clients reach this API (the registry-signed download links of attachments kept in
    the local folder store)."""
    intake_url: str = "http://127.0.0.1:8001"
    """Where the registry redeems complainant references (intake's internal endpoint,
    ``/internal/v1/complainants/redeem``; in a cluster, intake's Service)."""
    intake_token_ref: str = "registry-service-token"  # noqa: S105 -- a secret's name
    """The secret holding the registry's service-account bearer token for intake (re-read on
    every redemption, so a refreshed token is picked up without a restart)."""
    intake_timeout_seconds: float = Field(default=10.0, gt=0)
    plain_http_callback_hosts: list[str] = Field(default_factory=list)
    """Hosts a program's callback URL may name over plain http: loopback stand-ins in the local
    stack and tests (``["127.0.0.1","localhost"]``). Referrals carry personal data, so every
    other callback URL must be https; empty (the default) in any real deployment."""
