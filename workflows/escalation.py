"""Who hears about a breached clock: one level up the chain per breach.

The chain (rantai eskalasi): facilitator → supervisor → manager → the district's coordination
contact (TKPK) → province. Staff are addressed by role and area ("supervisor:320405"); the
notifier resolves that to people.
"""

from __future__ import annotations

from typing import Final

from slrt.auth.principal import Role

CHAIN: Final = ("facilitator", "supervisor", "manager", "district_coordination", "province")

_LEVEL: Final[dict[Role, int]] = {
    Role.FACILITATOR: 0,
    Role.SUPERVISOR: 1,
    Role.FRONT_OFFICE: 1,
    Role.BACK_OFFICE: 1,
    Role.PROGRAM_MANAGER: 1,
    Role.MANAGER: 2,
}
"""Where each holder sits: back office and program managers answer to the SLRT manager."""

_AREA_DIGITS: Final = {
    "facilitator": 10,
    "supervisor": 6,
    "front_office": 4,
    "back_office": 4,
    "manager": 4,
    "district_coordination": 4,
    "province": 2,
}


def escalation_target(holder: Role | None, breach_number: int) -> str:
    """The level alerted on the ``breach_number``-th breach (1-based) of a clock of ``holder``."""
    base = _LEVEL.get(holder, 1) if holder is not None else 1
    return CHAIN[min(base + breach_number, len(CHAIN) - 1)]


def is_top(level: str) -> bool:
    return level == CHAIN[-1]


def staff_destination(level: str, place_code: str) -> str:
    """``<role>:<area>`` for the people at ``level`` who cover ``place_code``."""
    return f"{level}:{place_code[: _AREA_DIGITS.get(level, 4)]}"
