"""Secrets by reference: configuration names a secret (``webhook_secret_ref = "pkh-jamsos"``),
never holds its value. A reference resolves to the file ``<SLRT_SECRETS_DIR>/<ref>`` (a mounted
Kubernetes Secret) or, when that does not exist, the variable ``SLRT_SECRET_<REF>`` (upper-case,
``-`` → ``_``). A webhook secret may hold several ``whsec_`` keys separated by spaces, for key
rotation: the newest first; signatures are made with all, verification accepts any."""

from __future__ import annotations

import os
import re
from pathlib import Path


class SecretNotFound(LookupError):
    pass


def _env_name(ref: str) -> str:
    return "SLRT_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", ref).upper()


def resolve(ref: str, secrets_dir: Path | None = None) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,99}", ref):
        raise SecretNotFound(f"secret reference {ref!r} is not a valid name")
    folder = secrets_dir or Path(os.environ.get("SLRT_SECRETS_DIR", "/etc/slrt/secrets"))
    path = folder / ref
    if path.is_file():
        return path.read_text().strip()
    value = os.environ.get(_env_name(ref))
    if value:
        return value.strip()
    raise SecretNotFound(f"secret {ref!r} is neither in {folder} nor in {_env_name(ref)}")


def webhook_keys(ref: str, secrets_dir: Path | None = None) -> list[str]:
    """The ``whsec_`` keys of a destination, newest first."""
    keys = resolve(ref, secrets_dir).split()
    if not keys or not all(k.startswith("whsec_") for k in keys):
        raise SecretNotFound(f"secret {ref!r} does not hold whsec_ keys")
    return keys
