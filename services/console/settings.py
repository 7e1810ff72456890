"""Settings of the staff console (``SLRT_CONSOLE_*``). It keeps no database: the session is an
encrypted cookie, so any replica answers any request."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from slrt.settings import ServiceSettings


class ConsoleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLRT_CONSOLE_", env_file=".env", extra="ignore")

    port: int = 8006

    intake_url: str = "http://127.0.0.1:8001"
    """Intake's public API (complaints, actions, tasks, referrals)."""
    registry_url: str = "http://127.0.0.1:8002"
    """The registry's public API (person lookup, program catalog, program information)."""
    public_url: str = "http://127.0.0.1:8006"
    """This console's address as browsers reach it (the OIDC redirect URI is built on it)."""

    login: Literal["token", "oidc"] = "token"
    """``token``: the login form takes an access token (the local dev issuer's, from
    ``slrt-dev token``); ``oidc``: authorization-code flow with PKCE at ``oidc_issuer``."""
    oidc_issuer: str | None = None
    """The OIDC provider; its ``/.well-known/openid-configuration`` is read at login."""
    oidc_client_id: str = "slrt-console"
    oidc_client_secret_ref: str | None = None
    """Secret reference (``slrt.secrets``) of the client secret; unset: a public client (PKCE
    alone)."""
    oidc_scope: str = "openid"
    oidc_resource: str | None = None
    """RFC 8707 resource indicator sent with the authorization and token requests, for
    providers that issue JWT access tokens per resource (the SLRT APIs' audience)."""

    session_key_ref: str = "console-session"
    """Secret reference of the key that encrypts the session cookie (Fernet: 32 url-safe
    base64 bytes; several space-separated keys rotate, the newest first). Every replica holds
    the same secret."""
    session_hours: float = Field(default=8.0, gt=0)
    api_timeout_seconds: float = Field(default=15.0, gt=0)
