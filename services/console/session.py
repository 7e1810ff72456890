"""The console's session: an encrypted, signed cookie (Fernet: AES-128-CBC + HMAC-SHA256,
with an expiry) holding the person's OIDC access token and the login's PKCE state, so any
replica answers any request and no session store is needed. HttpOnly, SameSite=Lax (the
provider's redirect back is a cross-site top-level GET; every change is a POST, which Lax never
sends cross-site), Secure behind HTTPS. The key is a secret by reference
(``SLRT_CONSOLE_SESSION_KEY_REF``, several keys rotate: the newest first)."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from fastapi import Request, Response

from slrt import secrets

COOKIE = "slrt_console"
LOGIN_COOKIE = "slrt_console_login"
LANG_COOKIE = "slrt_console_lang"
LOGIN_SECONDS = 600


class SessionCodec:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("the console's session key is empty")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    @classmethod
    def from_secret(cls, ref: str) -> SessionCodec:
        return cls(secrets.resolve(ref).split())

    def seal(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data).encode()).decode()

    def open(self, sealed: str | None, max_age_seconds: float) -> dict[str, Any] | None:
        """The data, or None when absent, tampered, made with an unknown key, or older than
        ``max_age_seconds``."""
        if not sealed:
            return None
        try:
            raw = self._fernet.decrypt(sealed.encode(), ttl=int(max_age_seconds))
        except (InvalidToken, ValueError):
            return None
        data = json.loads(raw)
        return data if isinstance(data, dict) else None


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: float) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(max_age),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
