"""The abuse suite on the real services: the five services run as processes on the real stack
and are attacked the way an outsider would, from their published OpenAPI documents — so a new
endpoint inherits every check — plus what needs a complaint: key reuse and forged references.

Every answer must be the documented one (a problem document naming the field and the rule),
never a 5xx and never an echo of what was sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from slrt.settings import ConnectionSettings
from tests.abuse.openapi_cases import Case, cases, run
from tests.support.harness import Stack, service_process, start_services
from tests.support.polling import until

pytestmark = pytest.mark.timeout(600)

MAX_BODY_BYTES = 1_048_576
"""Every service's default ``max_body_bytes``."""

VILLAGE = "3204052001"
OTHER_DISTRICT_VILLAGE = "3273011001"


@contextmanager
def _services(connections: ConnectionSettings, log_dir: Path) -> Iterator[Stack]:
    stack, services = start_services(connections, log_dir)
    with stack:
        env = {
            **services.env,
            "SLRT_DASHBOARD_REGISTRY_URL": services.urls["registry"],
            "SLRT_DASHBOARD_INTAKE_PUBLIC_URL": services.urls["intake"],
        }
        with service_process("dashboard", env, log_dir) as dashboard:
            services.urls["dashboard"] = dashboard
            yield services


def _auth_for(service: str, case: Case, services: Stack) -> dict[str, str]:
    """Uploads the route streams are refused while it reads them: it needs a caller."""
    if service == "registry" and case.rule == "storable_text" and "body" in case.fields:
        return services.auth("data_manager")
    return {}


def _walk_in(village: str = VILLAGE) -> dict[str, Any]:
    return {
        "channel": "puskesos_walk_in",
        "village_code": village,
        "complainant": {"name": "Siti Aminah", "phone": "081234567890"},
        "category": "membership",
        "description": "Keluarga kami tidak terdaftar sebagai penerima PKH.",
    }


async def test_the_running_services_answer_abuse_cleanly(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    """One stack (five processes) for the three parts: starting it is most of the time."""
    with _services(connections, log_dir) as services:
        await _every_endpoint_of_every_service(services)
        await _html_pages_carry_the_security_headers(services)
        await _key_reuse_and_forged_references(services)


async def _every_endpoint_of_every_service(services: Stack) -> None:
    failures: list[str] = []
    checked = 0
    for service, url in sorted(services.urls.items()):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            spec = (await client.get("/openapi.json")).json()
            for case in cases(service, spec, MAX_BODY_BYTES):
                problem = await run(client, case, _auth_for(service, case, services))
                checked += 1
                if problem is not None:
                    failures.append(problem)
    assert checked > 100
    assert not failures, "\n".join(failures)


async def _html_pages_carry_the_security_headers(services: Stack) -> None:
    intake, dashboard = services.urls["intake"], services.urls["dashboard"]
    pages = [
        ("GET", f"{intake}/track", None),
        ("POST", f"{intake}/track", {"ticket_number": "3204-26-000001", "verifier": "0000"}),
        ("GET", f"{intake}/v1/answer/forged-token", None),
        ("POST", f"{intake}/v1/answer/forged-token", {"decision": "accepted"}),
        ("GET", f"{dashboard}/login", None),
        ("POST", f"{dashboard}/login", {"token": "forged"}),
        *(("GET", f"{url}/docs", None) for url in services.urls.values()),
    ]
    async with httpx.AsyncClient(timeout=30) as http:
        for method, url, form in pages:
            page = await http.request(method, url, data=form)
            assert page.headers["content-type"].startswith("text/html"), url
            csp = page.headers.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in csp, url
            assert "object-src 'none'" in csp, url
            assert page.headers.get("x-frame-options") == "DENY", url
            assert page.headers.get("x-content-type-options") == "nosniff", url
            assert page.headers.get("referrer-policy"), url
            if "/v1/answer/" in url:
                # The answer link's token is in its URL.
                assert page.headers["referrer-policy"] == "no-referrer"
            if url.endswith("/docs"):
                continue
            assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
        api = await http.get(f"{intake}/healthz")
        assert "content-security-policy" not in api.headers
        assert api.headers["x-content-type-options"] == "nosniff"


async def _key_reuse_and_forged_references(services: Stack) -> None:
    async with httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as client:
        front_office = services.auth("front_office")

        async def submit(village: str, area: str) -> dict[str, Any]:
            headers = {**services.auth("front_office", area), "Idempotency-Key": uuid.uuid4().hex}
            answer = await client.post("/v1/complaints", json=_walk_in(village), headers=headers)
            assert answer.status_code == 202, answer.text
            body: dict[str, Any] = answer.json()
            return body

        mine = await submit(VILLAGE, "3204")
        sibling = await submit(VILLAGE, "3204")
        elsewhere = await submit(OTHER_DISTRICT_VILLAGE, "3273")
        cid = mine["complaint_id"]

        async def at_back_office() -> bool:
            read = await client.get(f"/v1/complaints/{cid}", headers=front_office)
            return read.status_code == 200 and read.json()["step"] == "back_office"

        await until(at_back_office, timeout=180)
        back_office = services.auth("back_office")

        async def act(action: str, body: dict[str, Any], key: str) -> httpx.Response:
            return await client.post(
                f"/v1/complaints/{cid}/{action}",
                json=body,
                headers={**back_office, "Idempotency-Key": key},
            )

        # Forged references: duplicate_of must name another complaint in the caller's area.
        for ticket, rule in (
            ("3204-26-999999", "existing_complaint"),
            ("garbage", "existing_complaint"),
            (elsewhere["ticket_number"], "existing_complaint"),
            (mine["ticket_number"], "not_itself"),
        ):
            forged = await act(
                "back-office-action",
                {"kind": "mark_duplicate", "duplicate_of": ticket},
                uuid.uuid4().hex,
            )
            assert forged.status_code == 422, forged.text
            assert forged.json()["errors"] == [
                {
                    "field": "duplicate_of",
                    "rule": rule,
                    "message": forged.json()["errors"][0]["message"],
                }
            ]
        # A workflow refusal names the field.
        incomplete = await act("back-office-action", {"kind": "resolve"}, uuid.uuid4().hex)
        assert incomplete.status_code == 422, incomplete.text
        assert {e["field"] for e in incomplete.json()["errors"]} == {"answer", "decision_code"}

        # Key reuse: the key stands for its action and body.
        key = uuid.uuid4().hex
        asked = await act(
            "back-office-action",
            {"kind": "request_information", "question": "Berapa anggota keluarga?"},
            key,
        )
        assert asked.status_code == 200, asked.text
        again = await act(
            "back-office-action",
            {"kind": "request_information", "question": "Berapa anggota keluarga?"},
            key,
        )
        assert again.status_code == 200, again.text
        assert again.json()["result"] == asked.json()["result"]
        for action, body in (
            ("back-office-action", {"kind": "request_information", "question": "Lain?"}),
            ("withdraw", {"reason": "keluarga menarik pengaduan"}),
        ):
            reused = await act(action, body, key)
            assert reused.status_code == 409, reused.text
            assert reused.json()["type"].endswith("/idempotency-key-reused")
            assert reused.json()["errors"][0]["field"] == "Idempotency-Key"
        status = await client.get(f"/v1/complaints/{cid}", headers=front_office)
        assert status.json()["status"] == "open"  # the withdraw under a reused key did nothing

        # The control: another complaint of the area is a valid original.
        sibling_id = sibling["complaint_id"]
        await until(lambda: _at(client, sibling_id, front_office, "back_office"), timeout=180)
        marked = await client.post(
            f"/v1/complaints/{sibling_id}/back-office-action",
            json={"kind": "mark_duplicate", "duplicate_of": mine["ticket_number"]},
            headers={**back_office, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert marked.status_code == 200, marked.text


async def _at(client: httpx.AsyncClient, cid: str, headers: dict[str, str], step: str) -> bool:
    read = await client.get(f"/v1/complaints/{cid}", headers=headers)
    return read.status_code == 200 and read.json()["step"] == step
