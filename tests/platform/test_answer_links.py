"""Signed, expiring answer links."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from slrt import answer_links

KEY = "k" * 32
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _link(valid_for: timedelta = timedelta(days=14)) -> tuple[str, uuid.UUID]:
    referral = uuid.uuid4()
    token = answer_links.sign(
        KEY,
        referral_id=referral,
        complaint_id=uuid.uuid4(),
        program="PKH",
        valid_for=valid_for,
        now=NOW,
    )
    return token, referral


def test_a_valid_link_names_its_referral() -> None:
    token, referral = _link()
    link = answer_links.verify(KEY, token, now=NOW + timedelta(days=13))
    assert link.referral_id == referral
    assert link.program == "PKH"
    assert link.nonce


def test_an_expired_link_is_refused() -> None:
    token, _ = _link(timedelta(days=1))
    with pytest.raises(answer_links.InvalidLink, match="expired"):
        answer_links.verify(KEY, token, now=NOW + timedelta(days=2))


def test_a_tampered_link_is_refused() -> None:
    token, _ = _link()
    head, body, sig = token.split(".")
    with pytest.raises(answer_links.InvalidLink, match="not valid"):
        answer_links.verify(KEY, f"{head}.{body}x.{sig}", now=NOW)
    with pytest.raises(answer_links.InvalidLink, match="not valid"):
        answer_links.verify("another-key-" + "x" * 20, token, now=NOW)
