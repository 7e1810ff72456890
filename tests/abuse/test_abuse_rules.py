"""The abuse defences' domain rules as plain functions (no servers)."""

from __future__ import annotations

import ipaddress
from datetime import date

import pytest

from services.intake.actions import action_fingerprint
from services.intake.answers import same_answer
from services.intake.domain import check_program
from services.intake.ratelimit import client_address
from services.intake.schemas import ReferralAnswerIn
from slrt.contracts.events import ProgramCatalogEntry
from slrt.contracts.vocabulary import Category, ProgramChannel

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        # No trusted proxies: the header is never read.
        ("127.0.0.1", ["1.2.3.4"], [], "127.0.0.1"),
        # A client that is not a proxy cannot choose its bucket.
        ("203.0.113.9", ["1.2.3.4"], PROXIES, "203.0.113.9"),
        # Behind the ingress: the nearest untrusted hop, whatever the client prepended.
        ("10.1.2.3", ["6.6.6.6, 198.51.100.7"], PROXIES, "198.51.100.7"),
        ("10.1.2.3", ["6.6.6.6", "198.51.100.7, 10.9.9.9"], PROXIES, "198.51.100.7"),
        ("fd00::1", ["2001:db8::5"], PROXIES, "2001:db8::5"),
        # A malformed hop ends the walk at the last trusted one.
        ("10.1.2.3", ["198.51.100.7, garbage"], PROXIES, "10.1.2.3"),
        # Only proxies: the farthest proxy.
        ("10.1.2.3", ["10.4.4.4"], PROXIES, "10.4.4.4"),
        ("10.1.2.3", [], PROXIES, "10.1.2.3"),
        (None, [], PROXIES, "unknown"),
    ],
)
def test_client_address_reads_forwarded_for_only_from_trusted_proxies(
    peer: str | None, forwarded: list[str], trusted: list[ipaddress.IPv4Network], client: str
) -> None:
    assert client_address(peer, forwarded, trusted) == client


def _program(*categories: Category) -> ProgramCatalogEntry:
    return ProgramCatalogEntry(
        code="PKH",
        name="PKH",
        level="national",
        owner_agency="Kemensos",
        channel=ProgramChannel.DIRECT,
        categories=list(categories),
        sla_working_days=10,
        version=1,
    )


def test_programs_are_checked_against_the_catalog() -> None:
    takes_needs = _program(Category.PROGRAM_NEED, Category.IMPLEMENTATION)
    implementation_only = _program(Category.IMPLEMENTATION)
    assert check_program(Category.IMPLEMENTATION, "PKH", takes_needs, True) is None
    assert check_program(Category.PROGRAM_NEED, "PKH", takes_needs, True) is None
    unknown = check_program(Category.IMPLEMENTATION, "NOPE", None, True)
    assert unknown is not None
    assert (unknown["field"], unknown["rule"]) == ("program_code", "known_program")
    not_needed = check_program(Category.PROGRAM_NEED, "PKH", implementation_only, True)
    assert not_needed is not None
    assert not_needed["rule"] == "program_takes_needs"
    # Before the catalog first reaches intake it cannot tell; no program named, nothing to check.
    assert check_program(Category.IMPLEMENTATION, "NOPE", None, False) is None
    assert check_program(Category.MEMBERSHIP, None, None, True) is None


def test_an_action_key_stands_for_action_caller_and_body() -> None:
    base = action_fingerprint("withdraw", "fo-1", {"reason": "a"})
    assert base == action_fingerprint("withdraw", "fo-1", {"reason": "a"})
    assert base != action_fingerprint("withdraw", "fo-1", {"reason": "b"})
    assert base != action_fingerprint("feedback", "fo-1", {"reason": "a"})
    assert base != action_fingerprint("withdraw", "fo-2", {"reason": "a"})


def test_a_replayed_answer_must_be_the_same_answer() -> None:
    recorded = {
        "decision": "under_review",
        "note": "dicek",
        "expected_date": date(2026, 12, 10),
        "suggested_destination": None,
    }
    same = ReferralAnswerIn.model_validate(
        {"decision": "under_review", "note": "dicek", "expected_date": "2026-12-10"}
    )
    other = ReferralAnswerIn.model_validate({"decision": "accepted", "note": "dicek"})
    assert same_answer(recorded, same)
    assert not same_answer(recorded, other)
