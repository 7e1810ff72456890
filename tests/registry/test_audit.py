"""Every registry read of personal data writes an audit row (who, which record, for which
complaint; a SIKS-NG export names how many people it held).

The route test enumerates the app's routes: each is either audited (and exercised below, which
must write its audit row) or on the allow-list of routes that return no personal data. A new
route on neither list fails the test until someone decides which it is.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI

from services.registry.app import create_app
from services.registry.extract import COLUMNS
from services.registry.settings import RegistrySettings
from slrt.auth.principal import Role
from tests.support.attachments import pdf
from tests.support.registry import VILLAGE, Registry, fresh_nik, import_file, own_household

AUDITED: dict[tuple[str, str], str] = {
    ("POST", "/v1/persons/lookup"): "person_lookup",
    ("POST", "/v1/persons/search"): "person_search",
    ("GET", "/v1/persons/{individual_id}"): "person_read",
    ("GET", "/v1/households/{household_id}"): "household_read",
    ("GET", "/v1/households/{household_id}/eligibility"): "eligibility_check",
    ("POST", "/v1/prelist"): "prelist_create",
    ("PATCH", "/v1/prelist/{entry_id}"): "prelist_correct",
    ("GET", "/v1/prelist"): "prelist_list",
    ("POST", "/v1/prelist/{entry_id}/review"): "prelist_review",
    ("POST", "/v1/change-proposals"): "change_create",
    ("GET", "/v1/change-proposals"): "change_list",
    ("POST", "/v1/change-proposals/{proposal_id}/review"): "change_review",
    ("GET", "/v1/siks-ng/batches/{batch_id}.csv"): "siks_ng_export",
    ("GET", "/v1/{collection}/{owner_id}/attachments/{attachment_id}/link"): "attachment_read",
}
"""Routes that return personal data, and the audit action each writes."""

NO_PERSONAL_DATA: dict[tuple[str, str], str] = {
    ("POST", "/v1/{collection}/{owner_id}/attachments"): "the stored file's type, size and hash",
    ("GET", "/v1/{collection}/{owner_id}/attachments"): "the files' type, size and hash",
    ("GET", "/v1/attachment-downloads/{token}"): "the read was audited when its link was issued",
    ("GET", "/healthz"): "health",
    ("GET", "/readyz"): "health",
    ("GET", "/metrics"): "counters",
    ("GET", "/openapi.json"): "the API's schema",
    ("GET", "/docs"): "the API's documentation page",
    ("GET", "/docs/oauth2-redirect"): "the API's documentation page",
    ("GET", "/redoc"): "the API's documentation page",
    ("POST", "/v1/households/{household_id}/needs"): "echoes the need and ids",
    ("GET", "/v1/programs"): "the program catalog",
    ("GET", "/v1/programs/{code}"): "the program catalog",
    ("PUT", "/v1/programs/{code}"): "the program catalog",
    ("GET", "/v1/programs/{code}/versions"): "the program catalog",
    ("POST", "/v1/siks-ng/batches"): "a batch id and a count",
    ("POST", "/v1/siks-ng/batches/{batch_id}/results"): "counts and line/field/rule errors",
    ("POST", "/v1/imports"): "counts and line/field/rule errors",
    ("GET", "/v1/imports/{import_id}/errors"): "line/field/rule only, never values",
    ("GET", "/v1/aggregates"): "aggregates (small cells suppressed)",
    ("GET", "/v1/aggregates/places"): "aggregates (small cells suppressed)",
    ("POST", "/v1/aggregates/refresh"): "no body",
    ("POST", "/v1/tablet-batches/prelist"): "per-item status and ids",
    ("POST", "/v1/tablet-batches/change-proposals"): "per-item status and ids",
    ("POST", "/v1/tablet-batches/needs"): "per-item status and ids",
    ("GET", "/v1/program-info"): "program information (FAQ, programs): no person's data",
    ("GET", "/v1/program-info/search"): "program information (FAQ, programs): no person's data",
    ("GET", "/v1/program-info/entries/{entry_id}"): "program information: no person's data",
    ("GET", "/v1/program-info/entries/{entry_id}/versions"): "program information versions",
    ("GET", "/v1/program-info/entries/{entry_id}/versions/{version}"): (
        "program information versions"
    ),
    ("POST", "/v1/program-info/faq"): "echoes the FAQ entry",
    ("PUT", "/v1/program-info/faq/{entry_id}"): "echoes the FAQ entry",
    ("PUT", "/v1/program-info/programs/{district}/{code}"): "echoes the program's entry",
}
"""Routes that return no personal data (and why)."""

STAFF_DIRECTORY: dict[tuple[str, str], str] = {
    ("POST", "/v1/staff/persons"): "created",
    ("GET", "/v1/staff/persons"): "read",
    ("GET", "/v1/staff/me"): "read (the caller's own)",
    ("GET", "/v1/staff/persons/{person_id}"): "read",
    ("PUT", "/v1/staff/persons/{person_id}"): "changed",
    ("POST", "/v1/staff/persons/{person_id}/end"): "ended",
    ("GET", "/v1/staff/villages/{village_code}"): "ids only",
    ("PUT", "/v1/staff/villages/{village_code}/facilitator"): "ids only",
    ("POST", "/v1/staff/villages/{village_code}/facilitator/end"): "ids only",
    ("GET", "/v1/staff/facilitators/{facilitator_id}/supervision"): "ids only",
    ("PUT", "/v1/staff/facilitators/{facilitator_id}/supervisor"): "ids only",
    ("POST", "/v1/staff/facilitators/{facilitator_id}/supervisor/end"): "ids only",
    ("GET", "/v1/staff/districts/{district}/settings"): "a district's setting",
    ("PUT", "/v1/staff/districts/{district}/settings"): "a district's setting",
    ("GET", "/v1/staff/audit"): "the directory's changes",
}
"""The staff directory (``/v1/staff``): staff members' work contacts, shown to the
administrators, managers, supervisors and back office of their area; never a household's or
complainant's data. Every *change* is audited in ``staff_audit`` (``tests/registry/
test_staff.py``); reads of work contacts are not (they are the directory's purpose)."""


def routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves (HEAD answered by GET left out)."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        candidates = list(contexts()) if contexts is not None else [route]
        for candidate in candidates:
            path = getattr(candidate, "path", None) or getattr(candidate, "path_format", None)
            for method in getattr(candidate, "methods", None) or ():
                if method != "HEAD" and path:
                    found.add((method, path))
    return found


@pytest.mark.unit
def test_every_route_is_audited_or_returns_no_personal_data() -> None:
    served = routes(create_app(RegistrySettings()))
    assert len(served) > 20  # the enumeration sees the routers' routes
    unclassified = served - AUDITED.keys() - NO_PERSONAL_DATA.keys() - STAFF_DIRECTORY.keys()
    assert not unclassified, (
        f"routes neither audited nor allowed: {sorted(unclassified)}; audit their reads of "
        "personal data (services/registry/store/persons.py audit*) and add them to AUDITED "
        "here, or add them to NO_PERSONAL_DATA with the reason"
    )
    known = AUDITED.keys() | NO_PERSONAL_DATA.keys() | STAFF_DIRECTORY.keys()
    assert not known - served, "stale entries"


@pytest.fixture
async def loaded(registry: Registry, tmp_path: Path) -> tuple[Registry, str]:
    rows, nik = own_household("Cecep Hidayat")
    path = tmp_path / "own.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    await import_file(registry.pool, path)
    return registry, nik


async def test_every_personal_data_route_writes_its_audit_row(
    loaded: tuple[Registry, str],
) -> None:
    registry, nik = loaded
    client = registry.client
    facilitator = registry.auth(Role.FACILITATOR, "320405", subject="audit-fac")
    supervisor = registry.auth(Role.SUPERVISOR, "320405", subject="audit-sup")
    manager = registry.auth(Role.MANAGER, "3204", subject="audit-mgr")
    complaint = uuid.uuid4()

    found = await client.post(
        "/v1/persons/lookup", json={"nik": nik, "complaint_id": str(complaint)}, headers=manager
    )
    person = found.json()[0]
    searched = await client.post(
        "/v1/persons/search", json={"name": "Cecep Hidayat", "place_code": VILLAGE}, headers=manager
    )
    assert searched.status_code == 200
    assert (await client.get(f"/v1/persons/{person['id']}", headers=manager)).status_code == 200
    household = await client.get(f"/v1/households/{person['household_id']}", headers=manager)
    assert household.status_code == 200
    eligibility = await client.get(
        f"/v1/households/{person['household_id']}/eligibility", headers=manager
    )
    assert eligibility.status_code == 200, eligibility.text

    entry = await client.post(
        "/v1/prelist",
        json={"name": "Entin", "village_code": VILLAGE, "nik": fresh_nik("female")},
        headers=facilitator,
    )
    assert entry.status_code == 201, entry.text
    entry_id = entry.json()["id"]
    corrected = await client.patch(
        f"/v1/prelist/{entry_id}",
        json={"kk_number": "3204051810250077", "birth_date": "1981-02-03", "sex": "female"},
        headers=facilitator,
    )
    assert corrected.status_code == 200, corrected.text
    evidence = await client.post(
        f"/v1/prelist/{entry_id}/attachments", content=pdf(), headers=facilitator
    )
    assert evidence.status_code == 201, evidence.text
    link = await client.get(evidence.json()["link"], headers=supervisor)
    assert link.status_code == 200, link.text
    assert (await client.get("/v1/prelist", headers=supervisor)).status_code == 200
    reviewed = await client.post(
        f"/v1/prelist/{entry_id}/review", json={"decision": "approve"}, headers=supervisor
    )
    assert reviewed.status_code == 200, reviewed.text
    change = await client.post(
        "/v1/change-proposals",
        json={
            "individual_id": person["id"],
            "field": "disability",
            "new_value": "physical",
            "evidence": "surat keterangan puskesmas",
            "complaint_id": str(complaint),
        },
        headers=facilitator,
    )
    assert change.status_code == 201, change.text
    assert (await client.get("/v1/change-proposals", headers=supervisor)).status_code == 200
    change_reviewed = await client.post(
        f"/v1/change-proposals/{change.json()['id']}/review",
        json={"decision": "approve"},
        headers=supervisor,
    )
    assert change_reviewed.status_code == 200
    batch = await client.post("/v1/siks-ng/batches", headers=manager)
    assert batch.status_code == 201, batch.text
    batch_id = batch.json()["batch_id"]
    for _ in range(2):  # each export is a read
        exported = await client.get(f"/v1/siks-ng/batches/{batch_id}.csv", headers=manager)
        assert exported.status_code == 200

    rows = await registry.pool.fetch(
        "SELECT action, actor, individual_id, household_id, complaint_id, proposal_id, batch_id, "
        "people FROM audit_log WHERE actor LIKE 'audit-%' ORDER BY id"
    )
    actions = {r["action"] for r in rows}
    missing = {route: action for route, action in AUDITED.items() if action not in actions}
    assert not missing, f"routes that wrote no audit row: {missing}"

    by_action = {r["action"]: r for r in rows}
    assert by_action["person_lookup"]["complaint_id"] == complaint
    assert by_action["change_create"]["individual_id"] == uuid.UUID(person["id"])
    assert by_action["change_create"]["household_id"] == uuid.UUID(person["household_id"])
    assert by_action["change_create"]["complaint_id"] == complaint
    # (Other tests' pre-list requests reach this registry too: look for this test's rows.)
    listed = {r["proposal_id"] for r in rows if r["action"] == "prelist_list"}
    assert uuid.UUID(entry_id) in listed
    exports = [r for r in rows if r["action"] == "siks_ng_export"]
    assert [(r["batch_id"], r["people"], r["actor"]) for r in exports] == [
        (uuid.UUID(batch_id), 2, "audit-mgr")
    ] * 2
    listed_changes = {r["proposal_id"] for r in rows if r["action"] == "change_list"}
    assert uuid.UUID(change.json()["id"]) in listed_changes
