"""Text PostgreSQL can store, as plain rules.

PostgreSQL's ``text`` and ``jsonb`` hold neither NUL (U+0000) nor an unpaired UTF-16
surrogate (U+D800–U+DFFF, which JSON's ``\\ud800`` escapes can produce and UTF-8 cannot
encode). The edges refuse such text naming the field (:func:`unstorable_fields`, used by
``slrt.edge``); the read models, which must accept every event the workflow can emit, replace
it instead (:func:`storable`), so content can never make them fall behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"
"""What a read model stores in place of an unstorable character."""

RULE = "storable_text"
MESSAGE = "contains a character that cannot be stored (NUL or an unpaired surrogate)"


def is_storable(text: str) -> bool:
    """Whether PostgreSQL can store ``text`` as it is."""
    return _UNSTORABLE.search(text) is None


def storable(value: Any) -> Any:
    """``value`` with every unstorable character of every string in it (dict keys too, in
    nested dicts, lists and tuples) replaced by U+FFFD; other values as they are."""
    if isinstance(value, str):
        return value if is_storable(value) else _UNSTORABLE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    if isinstance(value, tuple):
        return tuple(storable(v) for v in value)
    return value


def unstorable_fields(value: Any, path: str = "") -> Iterator[str]:
    """The dotted path (``complainant.name``, ``items.0.description``; ``body`` for the root)
    of each string in ``value`` that PostgreSQL cannot store, or whose key it cannot."""
    if isinstance(value, str):
        if not is_storable(value):
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            where = f"{path}.{name}" if path else name
            if not is_storable(name):
                yield (f"{path}.{storable(name)}" if path else storable(name))
                continue
            yield from unstorable_fields(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unstorable_fields(item, f"{path}.{index}" if path else str(index))
