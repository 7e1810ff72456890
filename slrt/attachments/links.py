"""Short-lived signed download links a service serves itself (the local folder store): a token
naming one attachment and when the link expires, with an HMAC-SHA256 over both.

The HMAC key is derived from the attachment key ring (``SHA-256("slrt-attachment-link|" ‖
key)``): no second secret to keep; links made under a key that was rotated out stop working
with it. Plain functions; the clock is the caller's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime
from uuid import UUID

from slrt.payload_codec import PayloadKeys


def link_keys(keys: PayloadKeys) -> list[bytes]:
    """The HMAC keys, the current one first."""
    ordered = [keys.current, *(k for k in keys.keys if k != keys.current)]
    return [hashlib.sha256(b"slrt-attachment-link|" + keys.keys[k]).digest() for k in ordered]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(keys: list[bytes], attachment_id: UUID, expires: datetime) -> str:
    body = f"{attachment_id}|{int(expires.timestamp())}".encode()
    mac = hmac.new(keys[0], body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


class LinkRefused(ValueError):
    """The token is malformed, its signature wrong, or it expired."""


def verify(keys: list[bytes], token: str, now: datetime) -> UUID:
    """The attachment the token names, if its signature holds and it has not expired."""
    try:
        body_text, _, mac_text = token.partition(".")
        body, mac = _unb64(body_text), _unb64(mac_text)
        if not any(
            hmac.compare_digest(hmac.new(k, body, hashlib.sha256).digest(), mac) for k in keys
        ):
            raise LinkRefused("the link's signature does not hold")
        attachment, _, expires = body.decode().partition("|")
        if int(expires) < now.timestamp():
            raise LinkRefused("the link expired")
        return UUID(attachment)
    except (ValueError, binascii.Error, UnicodeDecodeError) as bad:
        if isinstance(bad, LinkRefused):
            raise
        raise LinkRefused("not a download link") from None
