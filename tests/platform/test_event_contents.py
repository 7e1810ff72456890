"""Each event carries only the personal data its consumers need: a personal-data field
(``PERSONAL_FIELDS``: NIK, KK, name, sex, birth date, address, phone, email) anywhere in an
event model — also nested, also under another name ending in one of them — must be on the
allow-list ``PERSONAL_DATA_ALLOWED`` for that event type, which says who reads it and why."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator

from pydantic import BaseModel

from slrt.contracts.envelope import EventData
from slrt.contracts.events import (
    EVENT_MODELS,
    LEGACY_PERSONAL_DATA,
    PERSONAL_DATA_ALLOWED,
    PERSONAL_FIELDS,
)


def _allowed(event_type: str) -> frozenset[str]:
    """What the model may hold: the allow-list, and the fields it still decodes for events of
    the old form (producers leave those empty; see the tests of the complainant reference)."""
    return PERSONAL_DATA_ALLOWED.get(event_type, frozenset()) | LEGACY_PERSONAL_DATA.get(
        event_type, frozenset()
    )


def _models(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models(arg)
    if isinstance(annotation, types.UnionType):
        for arg in annotation.__args__:
            yield from _models(arg)


def fields(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every field's dotted path, nested models included (flags such as ``needs_nik`` hold no
    one's data and are left out)."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        if info.annotation is not bool:
            yield path
        for nested in _models(info.annotation):
            if not issubclass(nested, EventData):
                yield from fields(nested, f"{path}.")


def personal(path: str) -> bool:
    leaf = path.rsplit(".", 1)[-1]
    return leaf in PERSONAL_FIELDS or any(leaf.endswith(f"_{f}") for f in PERSONAL_FIELDS)


def test_personal_data_appears_only_where_the_allow_list_says() -> None:
    found = {
        event_type: {p for p in fields(model) if personal(p)}
        for event_type, model in EVENT_MODELS.items()
    }
    unexpected = {
        event_type: sorted(paths - _allowed(event_type))
        for event_type, paths in found.items()
        if paths - _allowed(event_type)
    }
    assert unexpected == {}, (
        "personal data in an event type not on the allow-list (slrt/contracts/events.py "
        "PERSONAL_DATA_ALLOWED): refer by id, or add it there with who needs it and why"
    )
    # The allow-list names only what exists (no stale entries that would hide a rename).
    stale = {
        event_type: sorted(allowed - found.get(event_type, set()))
        for event_type, allowed in (*PERSONAL_DATA_ALLOWED.items(), *LEGACY_PERSONAL_DATA.items())
        if allowed - found.get(event_type, set())
    }
    assert stale == {}
    # A field is either sent (allow-list) or only still decoded (legacy), never both.
    assert not {
        event_type: allowed & PERSONAL_DATA_ALLOWED.get(event_type, frozenset())
        for event_type, allowed in LEGACY_PERSONAL_DATA.items()
        if allowed & PERSONAL_DATA_ALLOWED.get(event_type, frozenset())
    }


def test_the_walker_sees_nested_and_suffixed_fields() -> None:
    class Inner(BaseModel):
        phone: str

    class Outer(BaseModel):
        helper: Inner | None = None
        household_address: str
        ticket_number: str

    assert {p for p in fields(Outer) if personal(p)} == {"helper.phone", "household_address"}
