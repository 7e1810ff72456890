"""The payload codec's rules, without a server: AES-GCM under the current key, any held key
decrypts, plain (pre-encryption) payloads pass, a payload under an unknown key or tampered with
is refused, the key secret is checked."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from slrt.payload_codec import KEY_ID, EncryptionCodec, PayloadKeyError, PayloadKeys, is_encrypted
from slrt.secrets import SecretNotFound
from slrt.settings import ConnectionSettings
from slrt.temporal import data_converter, payload_keys

OLD = PayloadKeys.generate("k-2026-01")
NEW = PayloadKeys.generate("k-2026-11")
NIK = b"3204054107850001"


def plain(data: bytes = b'{"nik":"3204054107850001","name":"Siti Aminah"}') -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


async def test_a_payload_is_ciphertext_under_the_current_key_and_round_trips() -> None:
    codec = EncryptionCodec(PayloadKeys.parse(f"{NEW} {OLD}"))
    (sealed,) = await codec.encode([plain()])
    assert is_encrypted(sealed)
    assert sealed.metadata[KEY_ID] == b"k-2026-11"
    assert NIK not in sealed.SerializeToString()
    assert b"Siti" not in sealed.SerializeToString()
    (opened,) = await codec.decode([sealed])
    assert opened == plain()


async def test_two_encryptions_of_one_payload_differ() -> None:
    codec = EncryptionCodec(PayloadKeys.parse(NEW))
    first, second = await codec.encode([plain(), plain()])
    assert first.data != second.data


async def test_rotation_old_payloads_decode_with_the_retired_key_new_ones_use_the_new() -> None:
    before = EncryptionCodec(PayloadKeys.parse(OLD))
    (written_before,) = await before.encode([plain(b"1")])
    after = EncryptionCodec(PayloadKeys.parse(f"{NEW} {OLD}"))
    (written_after,) = await after.encode([plain(b"2")])
    assert written_after.metadata[KEY_ID] == b"k-2026-11"
    assert await after.decode([written_before, written_after]) == [plain(b"1"), plain(b"2")]
    # A worker still on the old ring cannot read what the new key wrote: roll keys out to every
    # reader (as a retired key) before making one current.
    with pytest.raises(PayloadKeyError, match="k-2026-11"):
        await before.decode([written_after])


async def test_unencrypted_payloads_of_old_histories_pass_unchanged() -> None:
    codec = EncryptionCodec(PayloadKeys.parse(NEW))
    assert await codec.decode([plain()]) == [plain()]


async def test_a_payload_relabelled_or_tampered_with_does_not_decrypt() -> None:
    ring = PayloadKeys.parse(f"{NEW} {OLD}")
    codec = EncryptionCodec(ring)
    (sealed,) = await codec.encode([plain()])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k-2026-01"}, data=sealed.data)
    flipped = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    for bad in (relabelled, flipped):
        with pytest.raises(InvalidTag):
            await codec.decode([bad])


@pytest.mark.parametrize(
    ("secret", "rule"),
    [
        ("", "no key"),
        ("nokeyid", "<key id>:<base64 key>"),
        ("a b:" + base64.b64encode(b"x" * 32).decode(), "entry 1"),
        ("k:not-base64!", "not valid base64"),
        ("k:" + base64.b64encode(b"short").decode(), "32 bytes"),
        (f"k:{NEW.split(':')[1]} k:{OLD.split(':')[1]}", "twice"),
    ],
)
def test_a_malformed_key_secret_is_refused_naming_the_rule_not_the_key(
    secret: str, rule: str
) -> None:
    with pytest.raises(PayloadKeyError, match=rule) as raised:
        PayloadKeys.parse(secret)
    for entry in secret.split():
        material = entry.partition(":")[2]
        if len(material) > 8:
            assert material not in str(raised.value)


def test_the_first_key_is_current_and_keys_do_not_show_in_repr() -> None:
    ring = PayloadKeys.parse(f"{NEW} {OLD}")
    assert ring.current == "k-2026-11"
    assert set(ring.keys) == {"k-2026-11", "k-2026-01"}
    assert NEW.split(":")[1] not in repr(ring)


def test_the_one_helper_puts_the_codec_on_the_pydantic_converter() -> None:
    converter = data_converter(PayloadKeys.parse(NEW))
    assert isinstance(converter.payload_codec, EncryptionCodec)
    assert converter.payload_codec.current_key_id == "k-2026-11"
    assert data_converter(None).payload_codec is None


def test_the_key_ring_comes_by_reference_and_a_missing_one_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = ConnectionSettings(temporal_payload_keys_ref="payload-keys-of-this-test")
    with pytest.raises(SecretNotFound, match="payload-keys-of-this-test"):
        payload_keys(settings, tmp_path)
    (tmp_path / "payload-keys-of-this-test").write_text(f"{NEW} {OLD}\n")
    assert payload_keys(settings, tmp_path) == PayloadKeys.parse(f"{NEW} {OLD}")
    monkeypatch.setenv("SLRT_SECRET_ENV_PAYLOAD_KEYS", OLD)
    from_env = ConnectionSettings(temporal_payload_keys_ref="env-payload-keys")
    assert payload_keys(from_env, tmp_path).current == "k-2026-01"
