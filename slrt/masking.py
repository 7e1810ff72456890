"""Personal data masked out of free text before it leaves the service that holds it.

Descriptions, notes, reasons, answers and questions are typed by people, and people write NIKs,
KK numbers, phone numbers and email addresses into them. :func:`mask_free_text` replaces those
with a marker before the text goes anywhere beyond intake's own database — the Kafka events
(``ComplaintSubmitted``, then every ``ComplaintTransitioned`` and ``NotificationRequested``
carrying it), the Temporal history, the dashboard, the referral to a program manager. The full
text stays in intake's database, read by authorised staff through audited routes.

What is masked (plain rules, ``tests/platform/test_masking.py``):
- ``[NIK]``: 16 digits (NIK and KK numbers), also written in groups (``3204 0541 0785 0001``,
  ``3204.0541.0785.0001``);
- ``[telepon]``: an Indonesian mobile number (``08…``, ``62 8…``, ``+62 8…``, 10-15 digits in
  all, in groups or not);
- ``[email]``: an email address;
- ``[nomor]``: any other run of 10 or more digits (bank accounts, card numbers).
What is kept: money (``Rp 1.500.000``), dates (``12-05-2024``), RT/RW, years, short numbers.
"""

from __future__ import annotations

import re
from typing import TypeVar

from pydantic import BaseModel

_GAP = r"[ .\-]?"
_NOT_AFTER_DIGIT = r"(?<!\d)(?<!\d[ .\-])"
_NOT_BEFORE_DIGIT = r"(?![ .\-]?\d)"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_NIK = re.compile(_NOT_AFTER_DIGIT + r"\d(?:" + _GAP + r"\d){15}" + _NOT_BEFORE_DIGIT)
_PHONE = re.compile(
    r"(?<![\w+])(?:\+62|62|0)" + _GAP + r"8(?:" + _GAP + r"\d){7,11}" + _NOT_BEFORE_DIGIT
)
_LONG = re.compile(r"(?<!\d)\d{10,}(?!\d)")

RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_EMAIL, "[email]"),
    (_NIK, "[NIK]"),
    (_PHONE, "[telepon]"),
    (_LONG, "[nomor]"),
)

FREE_TEXT_FIELDS = frozenset(
    {
        "description",
        "note",
        "reason",
        "override_reason",
        "answer",
        "question",
        "information",
    }
)
"""The fields of the workflow's human actions and of events that hold free text."""


def mask_free_text(text: str) -> str:
    """``text`` with NIK/KK-like numbers, phone numbers, email addresses and other long digit
    runs replaced by markers."""
    for pattern, marker in RULES:
        text = pattern.sub(marker, text)
    return text


def mask_optional(text: str | None) -> str | None:
    return None if text is None else mask_free_text(text)


M = TypeVar("M", bound=BaseModel)


def mask_fields(model: M) -> M:
    """A copy of ``model`` with its free-text fields (:data:`FREE_TEXT_FIELDS`) masked."""
    changes = {
        name: masked
        for name in type(model).model_fields
        if name in FREE_TEXT_FIELDS
        and isinstance(value := getattr(model, name), str)
        and (masked := mask_free_text(value)) != value
    }
    return model.model_copy(update=changes) if changes else model


def unmasked_fields(original: BaseModel, masked: BaseModel) -> dict[str, str]:
    """The original text of each field masking changed (what intake keeps for itself)."""
    return {
        name: getattr(original, name)
        for name in FREE_TEXT_FIELDS & set(type(original).model_fields)
        if getattr(original, name) != getattr(masked, name)
    }
