"""Verifying OAuth2 bearer JWTs (OIDC access tokens) against the issuer's JWKS.

Claims SLRT reads: ``sub``; ``roles`` (list of :class:`Role` values); ``area`` (place-code
prefix, "" for national); ``programs`` (program codes, for program managers). Issuer, audience
and expiry are checked with a configurable clock-skew leeway. The keys come from the issuer's
JWKS URL (cached by PyJWT's client) or, for the local development issuer, a JWKS file.

Two modes of authorisation (``slrt.auth.directory``): a token with ``roles`` or ``area`` claims
is taken at its word; a token with neither (only ``sub``) is the staff directory's person of
that subject, when the service keeps a copy of the directory (``SLRT_AUTH_DIRECTORY``).

Verification is cached: the signing keys per ``kid`` (for ``KEY_TTL_SECONDS``, then fetched
again), and each verified token's caller until the token expires (``exp`` plus the leeway) or
its key's time in the cache is up, whichever is first. Only successes are cached: a token that
fails is verified again, in full, every time it is presented.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from slrt.auth.principal import Principal, Role

if TYPE_CHECKING:
    from slrt.auth.directory import DirectoryCopy

ALGORITHMS = ["RS256", "ES256"]
KEY_TTL_SECONDS = 300.0
"""How long a fetched signing key, and a token verified with it, is trusted without asking the
JWKS again (PyJWT's client caches the key set as long)."""
CACHED_TOKENS = 4096
"""Verified tokens kept (least recently used dropped first)."""


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
    directory: bool = False
    """Keep a copy of the staff directory (``slrt.staff.directory``) and authorise tokens that
    carry no ``roles`` and no ``area`` claim by the directory's roles and areas for their
    ``sub`` (``slrt.auth.directory``). Off: such a token has no role (every action refused)."""


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not ours (→ 401). Never echoes the token."""


class TokenVerifier:
    directory: DirectoryCopy | None = None
    """The service's copy of the staff directory (directory mode), when it keeps one."""

    def __init__(self, settings: AuthSettings, clock: Callable[[], float] = time.time) -> None:
        if not settings.jwks_url and not settings.jwks_file:
            raise ValueError("set SLRT_AUTH_JWKS_URL (or SLRT_AUTH_JWKS_FILE for development)")
        self._settings = settings
        self._clock = clock
        self._client = (
            jwt.PyJWKClient(settings.jwks_url, lifespan=int(KEY_TTL_SECONDS))
            if settings.jwks_url
            else None
        )
        self._file_keys: dict[str, jwt.PyJWK] | None = None
        self._keys: dict[str, tuple[jwt.PyJWK, float]] = {}
        """kid → (key, trusted until)."""
        self._verified: OrderedDict[str, tuple[Principal, bool, float]] = OrderedDict()
        """token → (its caller by its own claims, whether it carries only ``sub``, trusted
        until): successes only. A subject-only token's entry is its bare subject (no roles): the
        directory is asked at every use."""

    async def verify(self, token: str) -> Principal:
        """The caller ``token`` names; raises ``InvalidToken`` (401) when it does not verify,
        and in directory mode ``NotInDirectory`` (403) or ``DirectoryNotReady`` (503). Without
        a copy of the directory, a subject-only token's caller has no role."""
        principal, by_directory = await self.verify_claims(token)
        if not by_directory or self.directory is None:
            return principal
        return self.directory.principal(principal.subject)

    async def verify_claims(self, token: str) -> tuple[Principal, bool]:
        """The caller ``token``'s own claims name (signature, issuer, audience and expiry
        verified; no directory asked), and whether the token carries only ``sub`` (neither
        ``roles`` nor ``area``: :func:`subject_only`). For a client that keeps no copy of the
        directory and asks the registry who the subject is (the staff console). Raises
        ``InvalidToken``."""
        now = self._clock()
        cached = self._verified.get(token)
        if cached is not None:
            principal, only, until = cached
            if now < until:
                self._verified.move_to_end(token)
                return principal, only
            del self._verified[token]
        try:
            key, key_until = await self._key_for(token, now)
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
            principal = Principal(
                subject=str(claims["sub"]),
                roles=frozenset(Role(r) for r in claims.get("roles", [])),
                area=str(claims.get("area", "")),
                programs=frozenset(str(p) for p in claims.get("programs", [])),
            )
        except (ValueError, ValidationError):
            raise InvalidToken("the token's roles or area claim is not valid") from None
        only = subject_only(claims)
        self._remember(token, principal, only, claims, key_until)
        return principal, only

    def _remember(
        self,
        token: str,
        principal: Principal,
        only: bool,
        claims: dict[str, Any],
        key_until: float,
    ) -> None:
        """Trust the verified token until it expires as ``jwt.decode`` counts it (``exp`` plus
        the leeway) or its key is due to be fetched again; a token without a numeric ``exp``
        (``decode`` requires one) is never cached."""
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            return
        until = min(exp + self._settings.leeway_seconds, key_until)
        self._verified[token] = (principal, only, until)
        self._verified.move_to_end(token)
        while len(self._verified) > CACHED_TOKENS:
            self._verified.popitem(last=False)

    async def _key_for(self, token: str, now: float) -> tuple[jwt.PyJWK, float]:
        """The token's signing key and until when it is trusted: from the cache by ``kid``, else
        looked up (the JWKS URL in a worker thread: it may fetch)."""
        kid = jwt.get_unverified_header(token).get("kid")
        if isinstance(kid, str):
            known = self._keys.get(kid)
            if known is not None and now < known[1]:
                return known
        if self._client is not None:
            key = await asyncio.to_thread(self._client.get_signing_key_from_jwt, token)
        else:
            keys = self._load_file_keys()
            if kid not in keys:
                raise jwt.InvalidKeyError("unknown signing key")
            key = keys[kid]
        entry = (key, now + KEY_TTL_SECONDS)
        if isinstance(kid, str):
            self._keys[kid] = entry
        return entry

    def _load_file_keys(self) -> dict[str, jwt.PyJWK]:
        if self._file_keys is None:
            assert self._settings.jwks_file is not None
            data = json.loads(self._settings.jwks_file.read_text())
            self._file_keys = {k["kid"]: jwt.PyJWK(k) for k in data["keys"]}
        return self._file_keys


def subject_only(claims: dict[str, Any]) -> bool:
    """Whether a token's claims say who the caller is and nothing more (no ``roles``, no
    ``area``): the staff directory says what the subject may do (``slrt.auth.directory``)."""
    return not claims.get("roles") and "area" not in claims


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
