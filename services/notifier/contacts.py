"""Who is behind a staff destination: ``<role>:<area>`` (as the workflow addresses people,
e.g. ``back_office:3204``) or a user id, mapped to a mailbox and/or phone.

The directory is configuration (``SLRT_NOTIFIER_CONTACTS_FILE``, a JSON object of destination →
``{"email", "phone", "language"}``), typically a mounted ConfigMap kept by the district
administrator. A ``<role>:<area>`` destination without its own entry falls back to the same
role at the wider area (village → sub-district → regency → province → national), so one
district mailbox covers its villages.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter

from slrt.contracts.events import Recipient

_AREA_LENGTHS = (10, 6, 4, 2, 0)
_DIRECTORY = TypeAdapter(dict[str, Recipient])


class ContactDirectory:
    def __init__(self, entries: dict[str, Recipient] | None = None) -> None:
        self._entries = dict(entries or {})

    @classmethod
    def from_file(cls, path: Path | None) -> ContactDirectory:
        if path is None:
            return cls()
        return cls(_DIRECTORY.validate_python(json.loads(path.read_text())))

    def lookup(self, destination: str) -> Recipient | None:
        if destination in self._entries:
            return self._entries[destination]
        role, sep, area = destination.partition(":")
        if not sep or not area.isdigit():
            return None
        for length in _AREA_LENGTHS:
            if length < len(area) and (found := self._entries.get(f"{role}:{area[:length]}")):
                return found
        return None
