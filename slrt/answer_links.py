"""Signed, expiring answer links for program managers with no system of their own.

The notifier puts a link ``<intake>/v1/answer/<token>`` in an email or SMS; intake verifies the
token and shows a small page where the program manager reads the referral and answers. The
token is an HS256 JWT under the secret ``answer-links`` (see ``slrt.secrets``) naming the
referral, the complaint and the destination program, with an expiry and a nonce (``jti``) that
is also the answer's idempotency key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

SECRET_REF = "answer-links"  # noqa: S105 -- the name of the secret, not its value
_AUDIENCE = "slrt-answer-link"


class InvalidLink(Exception):
    """Expired, tampered or not an answer link (the message says which, without data)."""


@dataclass(frozen=True)
class AnswerLink:
    referral_id: uuid.UUID
    complaint_id: uuid.UUID
    program: str
    expires_at: datetime
    nonce: str


def sign(
    key: str,
    *,
    referral_id: uuid.UUID,
    complaint_id: uuid.UUID,
    program: str,
    valid_for: timedelta,
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "aud": _AUDIENCE,
        "sub": str(referral_id),
        "cid": str(complaint_id),
        "prg": program,
        "iat": int(issued.timestamp()),
        "exp": int((issued + valid_for).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm="HS256")


def verify(key: str, token: str, *, now: datetime | None = None) -> AnswerLink:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            audience=_AUDIENCE,
            options={"require": ["exp", "sub", "cid", "prg", "jti"], "verify_exp": now is None},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidLink("this answer link has expired") from None
    except jwt.PyJWTError:
        raise InvalidLink("this answer link is not valid") from None
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    if now is not None and now >= expires:
        raise InvalidLink("this answer link has expired")
    try:
        return AnswerLink(
            uuid.UUID(claims["sub"]),
            uuid.UUID(claims["cid"]),
            str(claims["prg"]),
            expires,
            str(claims["jti"]),
        )
    except (ValueError, TypeError):
        raise InvalidLink("this answer link is not valid") from None
