"""Attachments encrypted at rest with the platform's key ring (:mod:`slrt.payload_codec`).

The same scheme as Temporal payloads, applied to a file: AES-256-GCM with a key ring kept in one
secret (``<key id>:<base64 of 32 bytes>`` entries, the current key first, retired keys after
it; :class:`slrt.payload_codec.PayloadKeys`). A sealed object is

    b"SLRTA1" ‖ len(key id) (1 byte) ‖ key id ‖ nonce (12 bytes) ‖ AES-GCM(key, plaintext)

with ``key id ‖ "|" ‖ object name`` as the associated data, so a sealed object copied under
another name, or relabelled with another key id, does not open. Rotation as for payloads: put a
new key first; objects sealed under a retired key still open while it stays in the ring.

The secret's reference is the owning service's setting (intake:
``SLRT_INTAKE_ATTACHMENT_KEYS_REF``, default ``attachment-keys``): a key ring of its own, so
the keys of workflow payloads and of files can be rotated and revoked apart.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from slrt.payload_codec import NONCE_BYTES, PayloadKeyError, PayloadKeys

MAGIC = b"SLRTA1"


class SealError(ValueError):
    """Not a sealed object, a key not held, or the object was altered (never key material)."""


class Sealer:
    def __init__(self, keys: PayloadKeys) -> None:
        self._keys = keys
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    @property
    def current_key_id(self) -> str:
        return self._keys.current

    def seal(self, plaintext: bytes, name: str) -> bytes:
        key_id = self._keys.current
        nonce = os.urandom(NONCE_BYTES)
        aad = f"{key_id}|{name}".encode()
        sealed = self._ciphers[key_id].encrypt(nonce, plaintext, aad)
        label = key_id.encode()
        return MAGIC + bytes([len(label)]) + label + nonce + sealed

    def open(self, blob: bytes, name: str) -> bytes:
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 1:
            raise SealError("not a sealed attachment")
        at = len(MAGIC)
        length = blob[at]
        key_id = blob[at + 1 : at + 1 + length].decode(errors="replace")
        at += 1 + length
        nonce, sealed = blob[at : at + NONCE_BYTES], blob[at + NONCE_BYTES :]
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealError(f"attachment sealed with key {key_id!r}, which is not held")
        try:
            return cipher.decrypt(nonce, sealed, f"{key_id}|{name}".encode())
        except InvalidTag:
            raise SealError("the attachment does not open (altered, or not this object)") from None


__all__ = ["PayloadKeyError", "PayloadKeys", "SealError", "Sealer"]
