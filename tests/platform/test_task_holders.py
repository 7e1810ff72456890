"""Who holds a complaint's task (``slrt.task_holders``), the rule intake's assignee and the
notifier's messages to persons both apply, and the notifier's addressing of one request to
persons (``services.notifier.persons.addressed``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.notifier.persons import addressed, area_holders, contact_of
from slrt.auth.principal import Role
from slrt.contracts.events import NotificationRequested
from slrt.contracts.staff import (
    ContactChannel,
    EndReason,
    Spell,
    StaffPerson,
    Supervision,
    VillageAssignment,
)
from slrt.contracts.vocabulary import NotificationKind
from slrt.staff_directory import DirectorySnapshot
from slrt.task_holders import Basis, candidates, holder_for_role, role_of_destination
from tests.support import staff

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
NOW = T0 + timedelta(days=3)
V1, V2 = "3204052001", "3204110003"  # two sub-districts


def person(
    roles: list[Role],
    areas: list[str],
    *,
    until: datetime | None = None,
    channel: ContactChannel = ContactChannel.EMAIL,
    phone: str | None = "+6281234500001",
) -> StaffPerson:
    return staff.person(roles, areas, since=T0, until=until, channel=channel, phone=phone)


def spell(p: StaffPerson, since: datetime, until: datetime | None = None) -> Spell:
    return staff.spell(p, since, until, end_reason=EndReason.UNASSIGNED)


def village(code: str, *spells: Spell) -> VillageAssignment:
    return staff.village(code, *spells, at=T0)


def supervision(f: StaffPerson, s: StaffPerson) -> Supervision:
    return staff.supervision(f, spell(s, T0), at=T0)


def snapshot(*records: object) -> DirectorySnapshot:
    return DirectorySnapshot.of(list(records))  # type: ignore[arg-type]


def test_a_facilitators_task_goes_to_the_villages_facilitator_in_either_sub_district() -> None:
    f = person([Role.FACILITATOR], ["320405", "320411"])
    s = person([Role.SUPERVISOR], ["320405"])
    snap = snapshot(f, s, village(V1, spell(f, T0)), village(V2, spell(f, T0)), supervision(f, s))
    for code in (V1, V2):
        holder = holder_for_role(Role.FACILITATOR, candidates(snap, code, NOW))
        assert holder is not None
        assert (holder.person_id, holder.basis) == (f.person_id, Basis.VILLAGE_ASSIGNMENT)
    review = holder_for_role(Role.SUPERVISOR, candidates(snap, V1, NOW))
    assert review is not None
    assert (review.person_id, review.basis) == (s.person_id, Basis.SUPERVISION)


def test_an_ended_assignment_without_successor_goes_back_to_the_supervisors_queue() -> None:
    f = person([Role.FACILITATOR], ["320405"])
    s = person([Role.SUPERVISOR], ["320405"])
    snap = snapshot(f, s, village(V1, spell(f, T0, T0 + timedelta(days=1))), supervision(f, s))
    holder = holder_for_role(Role.FACILITATOR, candidates(snap, V1, NOW))
    assert holder is not None
    assert (holder.person_id, holder.basis) == (s.person_id, Basis.SUPERVISOR_QUEUE)


def test_a_facilitator_who_left_holds_nothing_and_the_successor_takes_over() -> None:
    gone = person([Role.FACILITATOR], ["320405"], until=T0 + timedelta(days=1))
    successor = person([Role.FACILITATOR], ["320405"])
    snap = snapshot(
        gone,
        successor,
        village(
            V1, spell(gone, T0, T0 + timedelta(days=1)), spell(successor, T0 + timedelta(days=1))
        ),
    )
    holder = holder_for_role(Role.FACILITATOR, candidates(snap, V1, NOW))
    assert holder is not None
    assert holder.person_id == successor.person_id


def test_back_office_the_sole_nearest_holder_else_the_areas_role_holders() -> None:
    puskesos = person([Role.BACK_OFFICE], [V1])
    district_a = person([Role.BACK_OFFICE], ["3204"])
    district_b = person([Role.BACK_OFFICE], ["3204"])
    snap = snapshot(puskesos, district_a, district_b)
    near = holder_for_role(Role.BACK_OFFICE, candidates(snap, V1, NOW))
    assert near is not None
    assert (near.person_id, near.basis) == (puskesos.person_id, Basis.SOLE_ROLE_HOLDER)
    shared = holder_for_role(Role.BACK_OFFICE, candidates(snap, V2, NOW))
    assert shared is not None
    assert shared.person_id is None
    assert shared.basis is Basis.ROLE_HOLDERS
    assert set(shared.holders) == {district_a.person_id, district_b.person_id}


def test_nobody_in_the_directory_means_nobody_in_particular() -> None:
    holder = holder_for_role(Role.MANAGER, candidates(DirectorySnapshot(), V1, NOW))
    assert holder is not None
    assert holder.person_id is None
    assert holder.holders == ()
    assert holder_for_role(Role.PROGRAM_MANAGER, candidates(DirectorySnapshot(), V1, NOW)) is None
    assert holder_for_role(None, candidates(DirectorySnapshot(), V1, NOW)) is None


def test_persons_ended_leave_a_village_as_if_no_one_were_assigned() -> None:
    """What a test that wrote the session's shared directory relies on when it ends its persons
    (tests/support/staff.py ``end``): the village's facilitator (spell still open), their
    supervisor and the district's role holders, all ended, hold nothing and get nothing."""
    fac = person([Role.FACILITATOR], ["320405"])
    sup = person([Role.SUPERVISOR], ["320405"])
    back = person([Role.BACK_OFFICE], ["3204"])
    manager = person([Role.MANAGER], ["3204"])
    ended_at = NOW - timedelta(hours=1)
    left = [staff.ended(p, ended_at) for p in (fac, sup, back, manager)]
    directory = snapshot(*left, village(V1, spell(fac, T0)), supervision(fac, sup))
    nobody = DirectorySnapshot()
    for role in (Role.FACILITATOR, Role.SUPERVISOR, Role.BACK_OFFICE, Role.MANAGER):
        assert holder_for_role(role, candidates(directory, V1, NOW)) == holder_for_role(
            role, candidates(nobody, V1, NOW)
        ), role
    assert area_holders(left, Role.MANAGER, "3204", NOW) == []
    # Before they ended, they held it.
    held = holder_for_role(Role.FACILITATOR, candidates(directory, V1, ended_at - timedelta(1)))
    assert held is not None
    assert held.person_id == fac.person_id


def test_destinations_name_a_role_and_an_area() -> None:
    assert role_of_destination("supervisor:320405") == (Role.SUPERVISOR, "320405")
    assert role_of_destination("district_coordination:3204") is None
    assert role_of_destination("PKH") is None
    assert role_of_destination("household:abc") is None


def test_a_request_is_addressed_to_each_person_by_their_channel() -> None:
    by_mail = person([Role.BACK_OFFICE], ["3204"])
    by_sms = person([Role.BACK_OFFICE], ["3204"], channel=ContactChannel.SMS)
    no_contact = person([Role.BACK_OFFICE], ["3204"], phone=None).model_copy(update={"email": None})
    sms_contact = contact_of(by_sms)
    assert sms_contact is not None
    assert sms_contact.phone
    assert sms_contact.email is None
    assert contact_of(no_contact) is None
    request = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=uuid.uuid4(),
        place_code=V1,
        kind=NotificationKind.REMINDER,
        destination="back_office:3204",
        template="step_at_risk",
        params={"ticket": "3204-26-000001"},
    )
    out = addressed(request, [by_mail, no_contact, by_sms])
    assert [r.destination for r in out] == [
        f"person:{by_mail.person_id}",
        f"person:{by_sms.person_id}",
    ]
    assert out[0].request_id == request.request_id
    assert out[1].request_id != request.request_id
    assert out[0].recipient is not None
    assert out[0].recipient.email == "petugas@example.go.id"
    assert out[1].recipient is not None
    assert out[1].recipient.email is None
    assert all(r.params["addressed_to"] == "back_office:3204" for r in out)
