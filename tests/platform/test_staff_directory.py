"""The staff directory's contract and the plain functions services answer from its copy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from slrt.auth.principal import Role
from slrt.contracts.envelope import Envelope, from_kafka, to_kafka
from slrt.contracts.staff import (
    DistrictStaffSettings,
    StaffPerson,
    Supervision,
    VillageAssignment,
    record_key,
)
from slrt.staff_directory import (
    DirectorySnapshot,
    apply,
    parse_record,
    person_for_subject,
    role_holders,
    separation_of_duties,
    supervisees_of,
    supervisor_of,
    village_facilitator,
    village_supervisor,
    villages_of,
)
from tests.support import staff

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
HANDOVER = T0 + timedelta(days=10)
V1, V2, V3 = "3204052001", "3204052002", "3204110003"  # V3 in another sub-district


def person(
    roles: list[Role],
    areas: list[str],
    *,
    subject: str | None = None,
    until: datetime | None = None,
    version: int = 1,
    pid: uuid.UUID | None = None,
) -> StaffPerson:
    return staff.person(
        roles,
        areas,
        since=T0,
        subject=subject,
        display_name="Siti Rahayu",
        email="siti@example.go.id",
        until=until,
        version=version,
        person_id=pid,
    )


spell = staff.spell


World = tuple[DirectorySnapshot, dict[str, StaffPerson]]


@pytest.fixture
def world() -> World:
    ani = person([Role.FACILITATOR], [V1, V3], subject="kc-ani", until=HANDOVER)
    budi = person([Role.FACILITATOR], [V1], subject="kc-budi")
    sari = person([Role.SUPERVISOR], ["320405", "320411"], subject="kc-sari")
    back = person([Role.BACK_OFFICE], ["3204"], subject="kc-back")
    prov = person([Role.BACK_OFFICE], ["32"], subject="kc-prov")
    village = VillageAssignment(
        village_code=V1,
        spells=[spell(ani.person_id, T0, HANDOVER), spell(budi.person_id, HANDOVER)],
        version=2,
        updated_at=HANDOVER,
    )
    other = VillageAssignment(
        village_code=V3,
        spells=[spell(ani.person_id, T0, HANDOVER)],
        version=2,
        updated_at=HANDOVER,
    )
    sup = [
        Supervision(
            facilitator_id=f.person_id, spells=[spell(sari.person_id, T0)], version=1, updated_at=T0
        )
        for f in (ani, budi)
    ]
    snapshot = DirectorySnapshot.of([ani, budi, sari, back, prov, village, other, *sup])
    return snapshot, {"ani": ani, "budi": budi, "sari": sari, "back": back, "prov": prov}


def test_the_village_facilitator_follows_the_assignment(world: World) -> None:
    snapshot, p = world
    before, after = HANDOVER - timedelta(seconds=1), HANDOVER
    assert village_facilitator(snapshot, V1, before) == p["ani"]
    assert village_facilitator(snapshot, V1, after) == p["budi"]
    # Ani's other village has no successor: no one holds it after the handover.
    assert village_facilitator(snapshot, V3, before) == p["ani"]
    assert village_facilitator(snapshot, V3, after) is None
    assert village_facilitator(snapshot, "3204052099", after) is None
    assert villages_of(snapshot, p["ani"].person_id, before) == [V1, V3]
    assert villages_of(snapshot, p["ani"].person_id, after) == []
    assert villages_of(snapshot, p["budi"].person_id, after) == [V1]


def test_supervisors_and_role_holders(world: World) -> None:
    snapshot, p = world
    assert supervisor_of(snapshot, p["budi"].person_id, HANDOVER) == p["sari"]
    assert village_supervisor(snapshot, V1, HANDOVER) == p["sari"]
    assert village_supervisor(snapshot, V3, HANDOVER) is None
    assert supervisees_of(snapshot, p["sari"].person_id, T0) == sorted(
        [p["ani"].person_id, p["budi"].person_id], key=str
    )
    # The most local first: the district's back office before the province's.
    assert role_holders(snapshot, Role.BACK_OFFICE, V1, T0) == [p["back"], p["prov"]]
    assert role_holders(snapshot, Role.BACK_OFFICE, "3301012001", T0) == []
    assert role_holders(snapshot, Role.SUPERVISOR, V3, T0) == [p["sari"]]
    # A person who left holds nothing.
    assert role_holders(snapshot, Role.FACILITATOR, V3, HANDOVER) == []


def test_subjects_name_active_persons_only(world: World) -> None:
    snapshot, p = world
    assert person_for_subject(snapshot, "kc-ani", T0) == p["ani"]
    assert person_for_subject(snapshot, "kc-ani", HANDOVER) is None
    assert person_for_subject(snapshot, "kc-nobody", T0) is None
    assert person_for_subject(snapshot, "kc-budi", T0 - timedelta(days=1)) is None


def test_newer_versions_win_and_replays_are_harmless(world: World) -> None:
    snapshot, p = world
    renamed = p["back"].model_copy(update={"areas": ["3205"], "version": 2})
    assert apply(snapshot, renamed)
    assert not apply(snapshot, p["back"])
    assert snapshot.persons[p["back"].person_id].areas == ["3205"]


def test_separation_of_duties_per_district() -> None:
    snapshot = DirectorySnapshot.of(
        [
            DistrictStaffSettings(
                district="3204", separation_of_duties=False, version=1, updated_at=T0
            ),
            DistrictStaffSettings(
                district="3205", separation_of_duties=None, version=1, updated_at=T0
            ),
        ]
    )
    assert separation_of_duties(snapshot, "3204", default=True) is False
    assert separation_of_duties(snapshot, V1, default=True) is False
    assert separation_of_duties(snapshot, "3205", default=True) is True
    assert separation_of_duties(snapshot, "3301", default=False) is False


def test_records_travel_by_opaque_keys(world: World) -> None:
    snapshot, p = world
    for record in (p["ani"], snapshot.villages[V1], snapshot.supervision[p["ani"].person_id]):
        subject = record_key(record)
        key, headers, value = to_kafka(Envelope.wrap(record, source="registry", subject=subject))
        assert b"Siti" not in key
        assert b"@" not in key
        assert parse_record(from_kafka(key, headers, value)) == record
    assert record_key(p["ani"]) == f"person:{p['ani'].person_id}"
    assert record_key(snapshot.villages[V1]) == f"village:{V1}"


def test_the_contract_refuses_bad_records() -> None:
    with pytest.raises(ValidationError):
        person([Role.FACILITATOR], ["320"])
    with pytest.raises(ValidationError):
        person([], ["3204"])
    with pytest.raises(ValidationError):
        VillageAssignment(village_code="3204", version=1, updated_at=T0)
    assert person([Role.VIEWER], [""]).areas == [""]
