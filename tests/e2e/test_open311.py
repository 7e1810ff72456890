"""Open311 GeoReport v2 on the assembled services (intake, registry, routing, notifier and the
dashboard, each its own process on the real stack), seen from outside: a complaint submitted
at intake appears in ``/open311/v2/requests`` with the public status intake's tracking page
shows (open, handled by the back office), as its program's service, at its district (a single
complaint is a small cell), with no personal data and no description, in JSON and XML; once
the back office resolved it and the facilitator told the household, it shows closed with its
outcome."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from slrt.settings import ConnectionSettings
from tests.e2e.test_referrals import _act, _complaint_at, _program
from tests.support.harness import Stack, service_process, start_services
from tests.support.polling import until

VILLAGE = "3204052001"
NIK = "3204054107850003"
NAME = "Siti Aminah Open311"
PHONE = "081234567891"
EMAIL = "siti.open311@example.id"
DESCRIPTION = "Bantuan bulan ini belum diterima; rumah di Jalan Melati 7, anak sakit."
PERSONAL = [NIK, NAME, "Siti", PHONE, PHONE[1:], EMAIL, DESCRIPTION, "Melati", "anak sakit"]


@contextmanager
def _dashboard(stack: Stack, log_dir: Path) -> Iterator[str]:
    """The dashboard in a consumer group of its own: it reads the topics from their start,
    whatever other tests' dashboards committed (our program code picks our complaint out)."""
    env = {
        **stack.env,
        "SLRT_DASHBOARD_REGISTRY_URL": stack.urls["registry"],
        "SLRT_DASHBOARD_INTAKE_PUBLIC_URL": stack.urls["intake"],
    }
    with service_process("dashboard", env, log_dir) as url:
        yield url


async def _listed(
    http: httpx.AsyncClient, dashboard: str, code: str, status: str, fmt: str = "json"
) -> httpx.Response | None:
    """Our program's requests in ``status`` (the program code is this test's own: the topics
    carry other tests' complaints, whose ticket numbers may repeat ours)."""
    response = await http.get(
        f"{dashboard}/open311/v2/requests.{fmt}",
        params={"service_code": code, "status": status, "jurisdiction_id": "3204"},
    )
    assert response.status_code == 200, response.text
    if fmt == "json" and not response.json():
        return None
    return response


async def test_a_complaint_from_intake_shows_its_public_status_on_open311_until_closed(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    code = f"OPEN311_{uuid.uuid4().hex[:6].upper()}"
    stack, services = start_services(connections, log_dir)
    with stack, _dashboard(services, log_dir) as dashboard:
        await _program(
            services,
            dsn,
            code,
            {
                "name": "Bantuan Sembako Daerah",
                "owner_agency": "Dinas Sosial Kabupaten Bandung",
                "channel": "lapor",
            },
        )
        async with (
            httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as client,
            httpx.AsyncClient(timeout=30) as http,
        ):

            async def listed_as_service() -> bool:
                response = await http.get(
                    f"{dashboard}/open311/v2/services.json", params={"jurisdiction_id": "3204"}
                )
                return code in {s["service_code"] for s in response.json()}

            await until(listed_as_service)
            submitted = await client.post(
                "/v1/complaints",
                headers={**services.auth("front_office"), "Idempotency-Key": uuid.uuid4().hex},
                json={
                    "channel": "puskesos_walk_in",
                    "village_code": VILLAGE,
                    "complainant": {"nik": NIK, "name": NAME, "phone": PHONE, "email": EMAIL},
                    "category": "implementation",
                    "program_code": code,
                    "description": DESCRIPTION,
                },
            )
            assert submitted.status_code == 202, submitted.text
            complaint = submitted.json()["complaint_id"]
            ticket = submitted.json()["ticket_number"]
            verifier = submitted.json()["tracking_code"]
            await _complaint_at(client, services, complaint, "back_office")

            async def handled_by_back_office() -> httpx.Response | None:
                response = await _listed(http, dashboard, code, "open")
                if response is None:
                    return None
                [item] = response.json()
                return response if item["status_notes"] == "Ditangani petugas layanan" else None

            opened = await until(handled_by_back_office)
            opened_xml = await _listed(http, dashboard, code, "open", "xml")
            tracked_open = await client.post(
                "/v1/tracking", json={"ticket_number": ticket, "verifier": verifier}
            )

            resolved = await _act(
                client,
                complaint,
                "back-office-action",
                services.auth("back_office"),
                {"kind": "resolve", "answer": "Dibayar susulan", "decision_code": "paid_late"},
            )
            assert resolved.status_code == 200, resolved.text
            await _complaint_at(client, services, complaint, "feedback")
            told = await _act(
                client,
                complaint,
                "feedback",
                services.auth("facilitator", area=VILLAGE),
                {
                    "household_told": True,
                    "visited_on": date.today().isoformat(),
                    "household_response": "satisfied",
                },
            )
            assert told.status_code == 200, told.text

            async def closed() -> httpx.Response | None:
                return await _listed(http, dashboard, code, "closed")

            finished = await until(closed)
            finished_xml = await _listed(http, dashboard, code, "closed", "xml")
            still_open = await http.get(
                f"{dashboard}/open311/v2/requests.json",
                params={"service_code": code, "status": "open"},
            )
            tracked_closed = await client.post(
                "/v1/tracking", json={"ticket_number": ticket, "verifier": verifier}
            )

    [shown] = opened.json()
    expected: dict[str, Any] = {
        "service_request_id": ticket,
        "status": "open",
        "status_notes": "Ditangani petugas layanan",
        "service_name": "Bantuan Sembako Daerah",
        "service_code": code,
        "description": None,
        "agency_responsible": None,  # not referred
        "address_id": "3204",  # one complaint of this program in the village: a small cell
        "lat": None,
        "long": None,
    }
    assert {k: shown[k] for k in expected} == expected
    assert shown["expected_datetime"] is not None
    # The same public status intake's tracking page gives the household.
    assert tracked_open.status_code == 200, tracked_open.text
    assert tracked_open.json()["current_step_label"] == shown["status_notes"]
    assert tracked_open.json()["status"] == shown["status"]

    [done] = finished.json()
    assert done["service_request_id"] == ticket
    assert done["status"] == "closed"
    assert done["status_notes"] == "Diselesaikan oleh SLRT"
    assert done["expected_datetime"] is None
    assert done["updated_datetime"] >= done["requested_datetime"]
    assert tracked_closed.json()["status"] == "closed"
    assert tracked_closed.json()["outcome_label"] == done["status_notes"]
    assert still_open.json() == []

    assert opened_xml is not None
    assert finished_xml is not None
    for body in (opened.text, opened_xml.text, finished.text, finished_xml.text):
        assert ticket in body
        for personal in PERSONAL:
            assert personal not in body, personal
