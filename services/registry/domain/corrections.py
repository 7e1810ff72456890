"""Corrections proposed from a complaint: what a proposal of each kind records, and what an
accepted one changes in the registry — plain functions, no SQL (the store executes the plan).

Kinds (``slrt.contracts.corrections``): ``field`` (one of a person's six changeable fields),
``member_add``, ``member_remove``, ``member_move`` (household membership), ``address`` and
``kk_number`` (the household's). A proposal is applied only after SIKS-NG accepts it
(``store.proposals.apply_results``), as every change proposal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from services.registry.domain.names import name_key
from slrt.contracts.corrections import (
    AddressChange,
    FieldChange,
    KkChange,
    MemberAdd,
    MemberMove,
    MemberRemove,
    RegistryChange,
)


@dataclass(frozen=True)
class Proposal:
    """A change proposal's columns (``change_proposals``), before the old value is read."""

    change_kind: str
    field: str
    new_value: str
    individual_id: UUID | None = None
    household_id: UUID | None = None
    target_household_id: UUID | None = None
    member: dict[str, Any] | None = None


def proposal_of(change: RegistryChange) -> Proposal:
    """What a change records as its proposal."""
    match change:
        case FieldChange():
            return Proposal(
                "field", change.field, change.new_value, individual_id=change.individual_id
            )
        case MemberAdd():
            member = change.member.model_dump(mode="json")
            return Proposal(
                "member_add",
                "member_add",
                change.member.relation,
                household_id=change.household_id,
                member=member,
            )
        case MemberRemove():
            return Proposal(
                "member_remove", "member_remove", change.reason, individual_id=change.individual_id
            )
        case MemberMove():
            return Proposal(
                "member_move",
                "member_move",
                change.relation,
                individual_id=change.individual_id,
                target_household_id=change.to_household_id,
                member={"relation": change.relation},
            )
        case AddressChange():
            return Proposal("address", "address", change.address, household_id=change.household_id)
        case KkChange():
            return Proposal(
                "kk_number", "kk_number", change.kk_number, household_id=change.household_id
            )
    raise AssertionError(f"unknown change {change!r}")


# --- Applying an accepted proposal -------------------------------------------------------


@dataclass(frozen=True)
class UpdateIndividual:
    individual_id: UUID
    values: dict[str, Any]


@dataclass(frozen=True)
class AddIndividual:
    household_id: UUID
    values: dict[str, Any]
    """nik, name, name_key, sex, birth_date, relation (the household's KK and village added)."""


@dataclass(frozen=True)
class RemoveIndividual:
    individual_id: UUID
    reason: str


@dataclass(frozen=True)
class MoveIndividual:
    individual_id: UUID
    to_household_id: UUID
    relation: str


@dataclass(frozen=True)
class UpdateHousehold:
    household_id: UUID
    values: dict[str, Any]


@dataclass(frozen=True)
class ReplaceKk:
    household_id: UUID
    old_kk: str | None
    new_kk: str


Write = (
    UpdateIndividual
    | AddIndividual
    | RemoveIndividual
    | MoveIndividual
    | UpdateHousehold
    | ReplaceKk
)


def _field_value(field: str, value: str) -> Any:
    if field == "birth_date":
        return date.fromisoformat(value)
    if field in ("disability", "school_status"):
        return value or None
    return value


def apply_plan(proposal: Mapping[str, Any]) -> list[Write]:
    """What an accepted proposal (a ``change_proposals`` row) writes to the registry."""
    kind = proposal.get("change_kind") or "field"
    value = proposal["new_value"]
    member = proposal.get("member")
    if isinstance(member, str):
        member = json.loads(member)
    if kind == "field":
        field = proposal["field"]
        values: dict[str, Any] = {field: _field_value(field, value)}
        if field == "name":
            values["name_key"] = name_key(value)
        return [UpdateIndividual(proposal["individual_id"], values)]
    if kind == "member_add":
        assert member is not None
        return [
            AddIndividual(
                proposal["household_id"],
                {
                    "nik": member["nik"],
                    "name": member["name"],
                    "name_key": name_key(member["name"]),
                    "sex": member["sex"],
                    "birth_date": date.fromisoformat(member["birth_date"]),
                    "relation": member["relation"],
                },
            )
        ]
    if kind == "member_remove":
        return [RemoveIndividual(proposal["individual_id"], value)]
    if kind == "member_move":
        return [MoveIndividual(proposal["individual_id"], proposal["target_household_id"], value)]
    if kind == "address":
        return [UpdateHousehold(proposal["household_id"], {"address": value})]
    if kind == "kk_number":
        return [ReplaceKk(proposal["household_id"], proposal.get("old_value"), value)]
    raise ValueError(f"unknown change kind {kind}")
