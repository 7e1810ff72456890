"""Verifying OAuth2 bearer JWTs (OIDC access tokens) against the issuer's JWKS.

Claims SLRT reads: ``sub``; ``roles`` (list of :class:`Role` values); ``area`` (place-code
prefix, "" for national); ``programs`` (program codes, for program managers). Issuer, audience
and expiry are checked with a configurable clock-skew leeway. The keys come from the issuer's
JWKS URL (cached by PyJWT's client) or, for the local development issuer, a JWKS file.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import jwt
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from slrt.auth.principal import Principal, Role

ALGORITHMS = ["RS256", "ES256"]


class AuthSettings(BaseSettings):
    """``SLRT_AUTH_*``: who issues tokens and where their public keys are."""

    model_config = SettingsConfigDict(env_prefix="SLRT_AUTH_", env_file=".env", extra="ignore")

    issuer: str = "https://auth.slrt.local/dev"
    audience: str = "slrt"
    jwks_url: str | None = None
    """The issuer's JWKS endpoint (production)."""
    jwks_file: Path | None = None
    """A JWKS file (the local development issuer writes one; see ``slrt-dev``)."""
    leeway_seconds: int = 30


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not ours (→ 401). Never echoes the token."""


class TokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        if not settings.jwks_url and not settings.jwks_file:
            raise ValueError("set SLRT_AUTH_JWKS_URL (or SLRT_AUTH_JWKS_FILE for development)")
        self._settings = settings
        self._client = (
            jwt.PyJWKClient(settings.jwks_url, lifespan=300) if settings.jwks_url else None
        )
        self._file_keys: dict[str, jwt.PyJWK] | None = None

    async def verify(self, token: str) -> Principal:
        try:
            key = await asyncio.to_thread(self._signing_key, token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(_reason(exc)) from None
        try:
            return Principal(
                subject=str(claims["sub"]),
                roles=frozenset(Role(r) for r in claims.get("roles", [])),
                area=str(claims.get("area", "")),
                programs=frozenset(str(p) for p in claims.get("programs", [])),
            )
        except (ValueError, ValidationError):
            raise InvalidToken("the token's roles or area claim is not valid") from None

    def _signing_key(self, token: str) -> jwt.PyJWK:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token)
        kid = jwt.get_unverified_header(token).get("kid")
        keys = self._load_file_keys()
        if kid not in keys:
            raise jwt.InvalidKeyError("unknown signing key")
        return keys[kid]

    def _load_file_keys(self) -> dict[str, jwt.PyJWK]:
        if self._file_keys is None:
            assert self._settings.jwks_file is not None
            data = json.loads(self._settings.jwks_file.read_text())
            self._file_keys = {k["kid"]: jwt.PyJWK(k) for k in data["keys"]}
        return self._file_keys


def _reason(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "the token has expired"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "the token is not for this audience"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "the token is from an unknown issuer"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token lacks the {exc.claim!r} claim"
    return "the token could not be verified"
