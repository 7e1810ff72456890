"""Phone numbers as the SMS gateway wants them: E.164 with Indonesia (+62) as the default."""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    """The number cannot be dialled (the message never echoes the number)."""


def normalise(raw: str, region: str = "ID") -> str:
    """``0812-3456-7890`` / ``62812…`` / ``+62 812…`` → ``+6281234567890``."""
    text = raw.strip()
    if text.startswith("62") and not text.startswith("+"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
