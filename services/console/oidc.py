"""Login at an OIDC provider: the authorization-code flow with PKCE (S256), by standard
discovery (``<issuer>/.well-known/openid-configuration``): Authlib's OAuth 2.0 protocol
functions build the authorization request (RFC 6749, with the RFC 7636 S256 challenge) and the
token request body, sent with the project's httpx (Authlib's own httpx integration announces a
deprecation on every import); the ID token is checked with PyJWT against the provider's JWKS
(signature, issuer, audience = our client id, expiry, nonce). The access token
is what the console sends to the SLRT APIs; it is checked there (and here, before the session
starts) like any other client's."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from services.console.settings import ConsoleSettings
from slrt import secrets

DISCOVERY_TTL_SECONDS = 300.0


class LoginFailed(Exception):
    """The provider's answer cannot start a session (never echoes a token or code)."""


@dataclass(frozen=True)
class LoginStart:
    url: str
    state: dict[str, str]
    """Kept in the sealed login cookie until the provider sends the browser back."""


class OidcLogin:
    def __init__(self, settings: ConsoleSettings) -> None:
        if not settings.oidc_issuer:
            raise ValueError("set SLRT_CONSOLE_OIDC_ISSUER for SLRT_CONSOLE_LOGIN=oidc")
        self._settings = settings
        self._issuer = settings.oidc_issuer.rstrip("/")
        self._metadata: tuple[dict[str, Any], float] | None = None
        self._jwks: jwt.PyJWKClient | None = None
        self.redirect_uri = settings.public_url.rstrip("/") + "/callback"

    async def metadata(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._metadata is not None and now < self._metadata[1]:
            return self._metadata[0]
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(f"{self._issuer}/.well-known/openid-configuration")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        if data.get("issuer", "").rstrip("/") != self._issuer:
            raise LoginFailed("the discovery document names another issuer")
        if "S256" not in data.get("code_challenge_methods_supported", ["S256"]):
            raise LoginFailed("the provider does not support PKCE with S256")
        self._metadata = (data, now + DISCOVERY_TTL_SECONDS)
        self._jwks = jwt.PyJWKClient(data["jwks_uri"], lifespan=int(DISCOVERY_TTL_SECONDS))
        return data

    def _extra(self) -> dict[str, str]:
        resource = self._settings.oidc_resource
        return {"resource": resource} if resource else {}

    async def start(self, lang: str) -> LoginStart:
        meta = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url = prepare_grant_uri(
            meta["authorization_endpoint"],
            client_id=self._settings.oidc_client_id,
            response_type="code",
            redirect_uri=self.redirect_uri,
            scope=self._settings.oidc_scope,
            state=state,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
            nonce=nonce,
            **self._extra(),
        )
        return LoginStart(
            url=str(url),
            state={"state": state, "nonce": nonce, "verifier": verifier, "lang": lang},
        )

    async def finish(self, kept: dict[str, str], code: str, state: str) -> str:
        """Exchange the code (with the PKCE verifier) and check the ID token; returns the access
        token."""
        if not kept or state != kept.get("state"):
            raise LoginFailed("the login's state does not match (start again)")
        meta = await self.metadata()
        ref = self._settings.oidc_client_secret_ref
        confidential: dict[str, Any] = (
            {"auth": httpx.BasicAuth(self._settings.oidc_client_id, secrets.resolve(ref))}
            if ref
            else {}
        )
        body = prepare_token_request(
            "authorization_code",
            code=code,
            redirect_uri=self.redirect_uri,
            code_verifier=kept["verifier"],
            **({} if ref else {"client_id": self._settings.oidc_client_id}),
            **self._extra(),
        )
        try:
            async with httpx.AsyncClient(timeout=15) as http:
                response = await http.post(
                    meta["token_endpoint"],
                    content=body,
                    **confidential,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Accept": "application/json",
                    },
                )
            token: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise LoginFailed(f"the token exchange failed ({type(exc).__name__})") from None
        if response.status_code != 200 or "error" in token:
            raise LoginFailed(f"the provider refused the code ({token.get('error', 'error')})")
        id_token = token.get("id_token")
        access = token.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access, str):
            raise LoginFailed("the provider gave no ID token or access token")
        await self._check_id_token(id_token, kept["nonce"], meta)
        return access

    async def _check_id_token(self, id_token: str, nonce: str, meta: dict[str, Any]) -> None:
        assert self._jwks is not None
        try:
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, id_token)
            claims = jwt.decode(
                id_token,
                key.key,
                algorithms=["RS256", "PS256", "ES256", "EdDSA"],
                audience=self._settings.oidc_client_id,
                issuer=meta["issuer"],
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise LoginFailed(f"the ID token is not valid ({type(exc).__name__})") from None
        if claims.get("nonce") != nonce:
            raise LoginFailed("the ID token's nonce does not match")
