"""The demo district's staff directory (issue 19, part 6): generated, realistic, written through
the registry's API (``/v1/staff``) as the district administrator would.

Per sub-district (kecamatan): a supervisor, a facilitator (fasilitator/pendamping) for every
few villages (assigned to them, supervised by the sub-district's supervisor) and a front office
(petugas front office) at the Puskesos of its first village. At the district secretariat: the
Manajer SLRT, two back office officers, a front office officer, the data manager and the
administrator. Names from Faker ``id_ID`` with a fixed seed (the same directory every time);
work emails on ``.example`` addresses, phones ``+62812…``.

Written once: when the district already has staff in the directory nothing is written (so
``make up`` again changes nothing). :func:`end_assignment` and :func:`hand_over` are what a demo
plays for a facilitator's handover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from faker import Faker

from slrt.places import directory
from slrt_dev.issuer import DevIssuer

VILLAGES_PER_FACILITATOR = 4
SEED = 19


@dataclass
class Planned:
    """One person to write, and what they hold."""

    key: str
    """A stable name for the demo (``facilitator-320405-1``), also their token's subject."""
    body: dict[str, Any]
    villages: list[str] = field(default_factory=list)
    supervisor: str | None = None
    """The key of their supervisor (facilitators)."""


def _contact(fake: Faker, name: str, domain: str) -> dict[str, str]:
    local = ".".join(re.sub(r"[^a-z]", "", part.lower()) for part in name.split()[:2])
    return {
        "email": f"{local}@{domain}",
        "phone": "+62812" + fake.numerify("########"),
    }


def plan(district: str, *, seed: int = SEED) -> list[Planned]:
    """The district's directory as it will be written (pure: no I/O)."""
    fake = Faker("id_ID")
    fake.seed_instance(seed)
    domain = f"slrt-{district}.demo.example"
    places = directory()
    planned: list[Planned] = []

    def person(key: str, roles: list[str], areas: list[str], **more: Any) -> Planned:
        name = fake.name()
        body = {
            "subject": f"demo-{key}",
            "display_name": name,
            **_contact(fake, name, domain),
            "preferred_channel": "email",
            "roles": roles,
            "areas": areas,
        }
        found = Planned(key, body, **more)
        planned.append(found)
        return found

    person(f"manager-{district}", ["manager"], [district])
    person(f"administrator-{district}", ["administrator"], [district])
    person(f"data_manager-{district}", ["data_manager"], [district])
    person(f"front_office-{district}", ["front_office"], [district])
    for n in (1, 2):
        person(f"back_office-{district}-{n}", ["back_office"], [district])
    for sub in sorted(places.children(district), key=lambda p: p.code):
        villages = sorted(v.code for v in places.children(sub.code))
        if not villages:
            continue
        supervisor = person(f"supervisor-{sub.code}", ["supervisor"], [sub.code])
        person(f"front_office-{villages[0]}", ["front_office"], [villages[0]])
        for n, start in enumerate(range(0, len(villages), VILLAGES_PER_FACILITATOR), start=1):
            held = villages[start : start + VILLAGES_PER_FACILITATOR]
            person(
                f"facilitator-{sub.code}-{n}",
                ["facilitator"],
                [sub.code],
                villages=held,
                supervisor=supervisor.key,
            )
    return planned


def seed(registry_url: str, issuer: DevIssuer, district: str) -> dict[str, int]:
    """Write the district's directory when it has none yet; the count of persons, village
    assignments and supervisions written (all 0 when it was there)."""
    admin = _admin(issuer, district)
    written = {"persons": 0, "villages": 0, "supervisions": 0}
    with httpx.Client(base_url=registry_url, timeout=30) as http:
        present = http.get(
            "/v1/staff/persons", params={"area": district, "limit": 1}, headers=admin
        )
        _ok(present, "list the district's staff")
        if present.json():
            return written
        ids: dict[str, str] = {}
        people = plan(district)
        for planned in people:
            created = http.post("/v1/staff/persons", json=planned.body, headers=admin)
            _ok(created, f"person {planned.key}")
            ids[planned.key] = created.json()["person_id"]
            written["persons"] += 1
        for planned in people:
            for village in planned.villages:
                assigned = http.put(
                    f"/v1/staff/villages/{village}/facilitator",
                    json={"person_id": ids[planned.key]},
                    headers=admin,
                )
                _ok(assigned, f"village {village}")
                written["villages"] += 1
            if planned.supervisor is not None:
                supervised = http.put(
                    f"/v1/staff/facilitators/{ids[planned.key]}/supervisor",
                    json={"person_id": ids[planned.supervisor]},
                    headers=admin,
                )
                _ok(supervised, f"supervision of {planned.key}")
                written["supervisions"] += 1
    return written


def person_id(registry_url: str, issuer: DevIssuer, district: str, key: str) -> str:
    """The directory's id of the demo person ``key`` (e.g. ``facilitator-320405-1``)."""
    with httpx.Client(base_url=registry_url, timeout=30) as http:
        listed = http.get(
            "/v1/staff/persons",
            params={"area": district, "limit": 1000},
            headers=_admin(issuer, district),
        )
        _ok(listed, "list the district's staff")
    for found in listed.json():
        if found["subject"] == f"demo-{key}":
            return str(found["person_id"])
    raise LookupError(f"no demo person {key}")


def end_assignment(
    registry_url: str,
    issuer: DevIssuer,
    village_code: str,
    successor_id: str | None = None,
) -> dict[str, Any]:
    """End the village's facilitator assignment now: to ``successor_id`` when named (their spell
    opens as the other closes), else no one holds it until the next. Returns the village's
    record (``VillageAssignment``) as the registry published it."""
    district = village_code[:4]
    with httpx.Client(base_url=registry_url, timeout=30) as http:
        if successor_id is not None:
            response = http.put(
                f"/v1/staff/villages/{village_code}/facilitator",
                json={"person_id": successor_id},
                headers=_admin(issuer, district),
            )
        else:
            response = http.post(
                f"/v1/staff/villages/{village_code}/facilitator/end",
                json={},
                headers=_admin(issuer, district),
            )
        _ok(response, f"the assignment of {village_code}")
    record: dict[str, Any] = response.json()
    return record


def hand_over(
    registry_url: str,
    issuer: DevIssuer,
    district: str,
    leaving_id: str,
    successor_id: str | None = None,
) -> dict[str, Any]:
    """A person leaves now (``/end``): their villages go to ``successor_id`` when named, else
    are left unassigned. Returns the person as the registry answered."""
    with httpx.Client(base_url=registry_url, timeout=30) as http:
        response = http.post(
            f"/v1/staff/persons/{leaving_id}/end",
            json={"successor_id": successor_id} if successor_id else {},
            headers=_admin(issuer, district),
        )
        _ok(response, "the person's end")
    ended: dict[str, Any] = response.json()
    return ended


def _admin(issuer: DevIssuer, district: str) -> dict[str, str]:
    token = issuer.token(f"demo-administrator-{district}", ["administrator"], district)
    return {"Authorization": f"Bearer {token}"}


def _ok(response: httpx.Response, what: str) -> None:
    if response.status_code >= 300:
        raise RuntimeError(f"the registry refused {what}: {response.status_code}")
