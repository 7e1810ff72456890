"""The local stack's secrets, made once and kept in ``<data_dir>/secrets/`` (the services'
``SLRT_SECRETS_DIR``, as a mounted Kubernetes Secret would be): the answer-link key
(``answer-links``: intake verifies the links the notifier signs) and the ``whsec_`` key of the
demo district's program that answers by signed webhook (its callback is the webhook receiver
stand-in, which is started with the same file), the Temporal payload key ring
(``temporal-payload-keys``, ``slrt.payload_codec``: one AES-256 key, id ``local-1``) and the
attachments' key ring (``attachment-keys``, the same format, id ``local-att-1``), and the staff
console's session key (``console-session``). Random per machine; kept across ``make down`` /
``make up`` so that links already sent stay valid and the
workflows' histories stay readable. To rotate the payload key locally, put a new entry first in
that file and keep the old one after it."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from slrt.answer_links import SECRET_REF as ANSWER_LINKS
from slrt.payload_codec import PayloadKeys
from slrt.settings import ConnectionSettings
from slrt_dev.demo.programs import WEBHOOK_SECRET_REF

ATTACHMENT_KEYS = "attachment-keys"
CONSOLE_SESSION = "console-session"
"""The staff console's session-cookie key (Fernet), ``SLRT_CONSOLE_SESSION_KEY_REF``."""


def _write_once(path: Path, make: str) -> bool:
    if path.exists():
        return False
    scratch = path.with_suffix(".tmp")
    scratch.write_text(make)
    scratch.chmod(0o600)
    os.replace(scratch, path)
    return True


def ensure_secrets(folder: Path) -> list[str]:
    """Make the secrets that are missing; returns the names of those made now."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    made = []
    if _write_once(folder / ANSWER_LINKS, secrets.token_urlsafe(48)):
        made.append(ANSWER_LINKS)
    key = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    if _write_once(folder / WEBHOOK_SECRET_REF, key):
        made.append(WEBHOOK_SECRET_REF)
    payload_keys = ConnectionSettings.model_fields["temporal_payload_keys_ref"].default
    if _write_once(folder / payload_keys, PayloadKeys.generate("local-1")):
        made.append(payload_keys)
    # The attachments' key ring (slrt.attachments.sealing; intake's attachment_keys_ref).
    if _write_once(folder / ATTACHMENT_KEYS, PayloadKeys.generate("local-att-1")):
        made.append(ATTACHMENT_KEYS)
    if _write_once(
        folder / CONSOLE_SESSION, base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    ):
        made.append(CONSOLE_SESSION)
    return made


def webhook_secret_file(folder: Path) -> Path:
    return folder / WEBHOOK_SECRET_REF
