"""Temporal payloads encrypted at the client: AES-256-GCM, keys by reference, with rotation.

Every payload a client or worker of ours hands to the Temporal server (a workflow's input —
the complaint with the complainant's identity —, activity arguments and results, signals,
updates, queries' answers) passes through :class:`EncryptionCodec`, so the server's database,
its history exports and the Temporal UI without our codec endpoint hold ciphertext only.

An encrypted payload is ``metadata = {"encoding": "binary/encrypted", "encryption-key-id":
<key id>}`` and ``data = nonce (12 bytes) ‖ AES-GCM(key, the whole original payload
serialised)``; the key id is also the GCM associated data, so a payload relabelled with
another key id does not decrypt. Keys are never in a payload, only their id.

Keys (:class:`PayloadKeys`) come from one secret (``slrt.secrets``, reference
``temporal-payload-keys`` by default, ``SLRT_TEMPORAL_PAYLOAD_KEYS_REF``): whitespace-separated
``<key id>:<base64 of 32 bytes>`` entries, **the current key first**, retired keys after it.
Rotation: put a new key first and keep the old ones; new payloads use the new key and
histories written under a retired key still decode. A key may be dropped once no open
workflow's history (and no history you still replay or read) uses it. Payloads without the
encrypted encoding — histories recorded before encryption — pass through unchanged, so they
replay and read as before.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class PayloadKeyError(ValueError):
    """The key secret is malformed, or a payload names a key we do not hold. The message names
    the key id or the entry's position, never key material."""


@dataclass(frozen=True)
class PayloadKeys:
    """The key ring: ``current`` encrypts; every key in ``keys`` decrypts."""

    current: str
    keys: dict[str, bytes] = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> PayloadKeys:
        """``"<id>:<base64 key> <id>:<base64 key> ..."``, the current key first."""
        keys: dict[str, bytes] = {}
        entries = text.split()
        if not entries:
            raise PayloadKeyError("the payload key secret holds no key")
        for position, entry in enumerate(entries, start=1):
            key_id, sep, encoded = entry.partition(":")
            if not sep or not _KEY_ID.match(key_id):
                raise PayloadKeyError(
                    f"payload key entry {position} is not <key id>:<base64 key> "
                    "(key id: 1-64 of A-Z a-z 0-9 . _ -)"
                )
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise PayloadKeyError(f"payload key {key_id!r} is not valid base64") from None
            if len(key) != 32:
                raise PayloadKeyError(f"payload key {key_id!r} is not 32 bytes (AES-256)")
            if key_id in keys:
                raise PayloadKeyError(f"payload key id {key_id!r} appears twice")
            keys[key_id] = key
        return cls(current=entries[0].partition(":")[0], keys=keys)

    @staticmethod
    def generate(key_id: str) -> str:
        """A new secret entry ``<key id>:<base64 of 32 random bytes>``."""
        if not _KEY_ID.match(key_id):
            raise PayloadKeyError("key id: 1-64 of A-Z a-z 0-9 . _ -")
        return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class EncryptionCodec(PayloadCodec):
    """Encrypts with the current key, decrypts with whichever key a payload names."""

    def __init__(self, keys: PayloadKeys) -> None:
        self._keys = keys
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    @property
    def current_key_id(self) -> str:
        return self._keys.current

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._keys.current
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption (recorded histories): as it was
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(f"payload encrypted with key {key_id!r}, which is not held")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        return Payload.FromString(cipher.decrypt(nonce, sealed, key_id.encode()))


def is_encrypted(payload: Payload) -> bool:
    return payload.metadata.get("encoding") == ENCODING
