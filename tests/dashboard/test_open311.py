"""The Open311 GeoReport v2 API of the dashboard service, run as its own process on the real
PostgreSQL and Kafka, its read model fed through the broker with complaints of our own:

- ``services``: the categories and the catalog's programs, Bahasa Indonesia and English, a
  jurisdiction's programs; JSON and XML of the spec's structure;
- ``requests``: the public status (step or outcome, dates, the referred program's agency, the
  place after the small-cell rule), filters, paging with a ``Link`` to the next page, by
  ticket; errors in the spec's format naming the parameter and the rule; the security headers;
- the service discovery document;
- the GeoReport client library from PyPI (``georeport``) reads it in JSON and XML;
- the public routes are rate-limited per client (429 in the spec's format, ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import asyncpg
import georeport
import httpx
import jsonschema
import pytest

from services.dashboard.settings import DashboardSettings
from slrt.contracts.complaints import ComplaintStep, Outcome
from slrt.contracts.events import ProgramCatalogEntry
from slrt.contracts.vocabulary import Category, Channel, ProgramChannel
from slrt.kafka import EventProducer
from tests.dashboard import georeport_spec as spec
from tests.dashboard.stories import BASE, Story
from tests.support.dashboard import publish
from tests.support.harness import service_process
from tests.support.polling import poll

S = ComplaintStep
LIMIT = 100
"""Requests per client and minute: the checks stay under it, the last one goes over."""
FRESH = (datetime.now(UTC) - BASE).days - 3
"""Stories start three days ago: inside the API's default window of 90 days."""


def _program(code: str, name: str, agency: str, level: str, area: str) -> ProgramCatalogEntry:
    return ProgramCatalogEntry(
        code=code,
        name=name,
        level=level,
        owner_agency=agency,
        area=area,
        channel=ProgramChannel.DIRECT,
        categories=[Category.IMPLEMENTATION],
        sla_working_days=10,
        version=1,
    )


PROGRAMS = [
    _program("BPNT", "Bantuan Pangan Non Tunai", "Kementerian Sosial", "national", ""),
    _program("LANSIA_3204", "Bantuan Lansia", "Dinas Sosial Kab. Bandung", "district", "3204"),
    _program("LANSIA_3273", "Bantuan Lansia Kota", "Dinas Sosial Kota Bandung", "district", "3273"),
]


def _story(ticket: str, village: str, program: str | None, category: Category) -> Story:
    story = Story(
        place_code=village,
        category=category,
        channel=Channel.PUSKESOS_WALK_IN,
        program_code=program,
        start_days=FRESH,
        resolve_due=datetime.now(UTC).date(),
    )
    story.step(S.RECEIVED, 0, role="front_office", ticket_number=ticket)
    story.step(S.REGISTERED, 0, role="system")
    return story.step(S.BACK_OFFICE, 0.01, role="system")


def _stories() -> list[Story]:
    stories = [
        # BPNT by sub-district of Kabupaten Bandung: 320405 has 6, 320406 has 1, 320407 has 5.
        # 320406 is a small cell and 320407, the next smallest, is hidden with it.
        *(_story(f"3204-26-9000{i:02d}", "3204052001", "BPNT", Category.IMPLEMENTATION)
          for i in range(6)),
        _story("3204-26-900100", "3204062003", "BPNT", Category.IMPLEMENTATION),
        *(_story(f"3204-26-9002{i:02d}", "3204072001", "BPNT", Category.IMPLEMENTATION)
          for i in range(5)),
        # One membership complaint in Kota Bandung: a small cell everywhere → its district.
        _story("3273-26-900300", "3273011001", None, Category.MEMBERSHIP),
    ]  # fmt: skip
    referral = uuid.uuid4()
    stories[0].step(S.MANAGER_APPROVAL, 0.5, role="back_office").referred(1, referral, "BPNT")
    stories[1].step(S.FEEDBACK, 1, role="back_office", outcome=Outcome.RESOLVED_LOCALLY).step(
        S.CLOSED, 2, role="facilitator", outcome=Outcome.RESOLVED_LOCALLY
    )
    stories[2].step(S.WITHDRAWN, 1, role="back_office", outcome=Outcome.WITHDRAWN)
    return stories


@pytest.fixture
async def open311_url(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
    tmp_path: Path,
) -> AsyncIterator[str]:
    stories = _stories()
    for story in stories:
        for event in story.events:
            subject = str(story.complaint_id)
            await publish(producer, dashboard_settings.lifecycle_topic, event, subject)
    for entry in PROGRAMS:
        await publish(producer, dashboard_settings.catalog_topic, entry, entry.code)
    c = dashboard_settings.connections
    env = {
        "SLRT_POSTGRES_DSN": c.postgres_dsn.get_secret_value(),
        "SLRT_KAFKA_BOOTSTRAP": c.kafka_bootstrap,
        "SLRT_DASHBOARD_LIFECYCLE_TOPIC": dashboard_settings.lifecycle_topic,
        "SLRT_DASHBOARD_CATALOG_TOPIC": dashboard_settings.catalog_topic,
        "SLRT_KAFKA_CONSUMER_GROUP_PREFIX": c.kafka_consumer_group_prefix,
        "SLRT_DASHBOARD_OPEN311_LIMIT_PER_MINUTE": str(LIMIT),
        "SLRT_LOG_JSON": "true",
    }
    expected = (sum(len(s.events) for s in stories), len(PROGRAMS))
    with service_process("dashboard", env, tmp_path) as url:

        async def stored() -> tuple[int, int]:
            return (
                await dashboard_pool.fetchval("SELECT count(*) FROM transitions"),
                await dashboard_pool.fetchval("SELECT count(*) FROM programs"),
            )

        await poll(stored, lambda n: n == expected, explain=lambda n: f"read model holds {n}")
        yield url + "/open311/v2"


def _xml(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 (the service's own output)


def _by_ticket(requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["service_request_id"]: r for r in requests}


async def test_open311_serves_services_and_the_public_status_of_requests(open311_url: str) -> None:
    async with httpx.AsyncClient(base_url=open311_url, timeout=30) as http:
        services = await http.get("/services.json")
        services_xml = await http.get("/services.xml", params={"lang": "en"})
        in_3204 = await http.get("/services", params={"jurisdiction_id": "3204"})
        listed = await http.get("/requests.json")
        listed_xml = await http.get("/requests.xml", headers={"Accept-Language": "en"})
        closed = await http.get("/requests.json", params={"status": "closed"})
        membership = await http.get(
            "/requests.json", params={"service_code": "membership", "jurisdiction_id": "32.73"}
        )
        implementation_in_3273 = await http.get(
            "/requests.json", params={"service_code": "implementation", "jurisdiction_id": "3273"}
        )
        first_page = await http.get("/requests.json", params={"page_size": "5"})
        last_page = await http.get("/requests.json", params={"page_size": "5", "page": "3"})
        one = await http.get("/requests/3204-26-900000.json")
        one_xml = await http.get("/requests/3204-26-900000.xml")
        several = await http.get(
            "/requests.json", params={"service_request_id": "3204-26-900100,3204-26-900200"}
        )
        unknown = await http.get("/requests/3204-26-000000.xml")
        bad_status = await http.get("/requests.json", params={"status": "pending"})
        no_place = await http.get("/requests.xml", params={"jurisdiction_id": "99"})
        bad_format = await http.get("/requests.csv")
        discovery = await http.get(open311_url.removesuffix("/v2") + "/discovery.json")
        discovery_xml = await http.get(open311_url.removesuffix("/v2") + "/discovery.xml")

    assert services.status_code == 200, services.text
    assert services.headers["content-type"] == "application/json; charset=utf-8"
    assert services.headers["x-content-type-options"] == "nosniff"
    assert services.headers["access-control-allow-origin"] == "*"
    jsonschema.validate(services.json(), spec.list_of(spec.SERVICE_SCHEMA))
    assert [s["service_code"] for s in services.json()] == [
        "membership",
        "implementation",
        "program_need",
        "information",
        "BPNT",
        "LANSIA_3204",
        "LANSIA_3273",
    ]
    assert services_xml.headers["content-type"] == "text/xml; charset=utf-8"
    root = _xml(services_xml.content)
    assert root.tag == "services"
    assert [f.tag for f in root[0]] == spec.SERVICE_FIELDS
    assert root[0].findtext("service_name") == "Membership complaint"
    assert [s["service_code"] for s in in_3204.json()][-2:] == ["BPNT", "LANSIA_3204"]

    assert listed.status_code == 200, listed.text
    jsonschema.validate(listed.json(), spec.list_of(spec.REQUEST_SCHEMA))
    requests = _by_ticket(listed.json())
    assert len(requests) == 13
    referred = requests["3204-26-900000"]
    assert referred["status"] == "open"
    assert referred["status_notes"] == "Dirujuk ke pengelola program"
    assert referred["agency_responsible"] == "Kementerian Sosial"
    assert referred["service_name"] == "Bantuan Pangan Non Tunai"
    assert referred["description"] is None
    assert referred["expected_datetime"].endswith("T23:59:59+07:00")
    # Small cells: 320405's villages are shown, 320406 (1) and 320407 (5, hidden with it) are
    # shown as their district, and so is Kota Bandung's single membership complaint.
    assert referred["address_id"] == "3204052001"
    assert referred["address"].startswith("Cileunyi Kulon, Kecamatan Cileunyi, Kabupaten Bandung")
    assert requests["3204-26-900100"]["address_id"] == "3204"
    assert requests["3204-26-900200"]["address_id"] == "3204"
    assert requests["3273-26-900300"]["address_id"] == "3273"
    assert requests["3273-26-900300"]["service_code"] == "membership"
    assert requests["3204-26-900001"]["status_notes"] == "Diselesaikan oleh SLRT"
    assert requests["3204-26-900001"]["status"] == "closed"
    assert requests["3204-26-900002"]["status_notes"] == "Dicabut"

    root = _xml(listed_xml.content)
    assert root.tag == "service_requests"
    assert {tuple(f.tag for f in r) for r in root} == {tuple(spec.REQUEST_FIELDS)}
    notes = {r.findtext("service_request_id"): r.findtext("status_notes") for r in root}
    assert notes["3204-26-900000"] == "Referred to the program manager"
    assert notes["3204-26-900001"] == "Resolved by SLRT"

    assert set(_by_ticket(closed.json())) == {"3204-26-900001", "3204-26-900002"}
    assert set(_by_ticket(membership.json())) == {"3273-26-900300"}
    assert implementation_in_3273.json() == []

    assert len(first_page.json()) == 5
    assert first_page.headers["link"] == (
        '</open311/v2/requests.json?page_size=5&page=2>; rel="next"'
    )
    assert len(last_page.json()) == 3
    assert "link" not in last_page.headers

    assert one.json() == [requests["3204-26-900000"]]
    assert _xml(one_xml.content)[0].findtext("address_id") == "3204052001"
    assert set(_by_ticket(several.json())) == {"3204-26-900100", "3204-26-900200"}

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "text/xml; charset=utf-8"
    error = _xml(unknown.content)
    assert (error.tag, error[0].tag, [f.tag for f in error[0]]) == (
        "errors",
        "error",
        ["code", "description"],
    )
    assert error[0].findtext("code") == "404"
    assert error[0].findtext("description") == "service_request_id: no request 3204-26-000000"
    assert bad_status.status_code == 400
    jsonschema.validate(bad_status.json(), spec.list_of(spec.ERROR_SCHEMA))
    assert bad_status.json() == [
        {"code": 400, "description": "status: open, closed or both (comma-separated)"}
    ]
    assert no_place.status_code == 404
    assert _xml(no_place.content)[0].findtext("description") == (
        "jurisdiction_id: no province or district 99"
    )
    assert bad_format.status_code == 404
    assert bad_format.json()[0]["description"].startswith("format:")

    jsonschema.validate(discovery.json(), spec.DISCOVERY_SCHEMA)
    [endpoint] = discovery.json()["endpoints"]
    assert endpoint["url"] == "http://127.0.0.1:8005/open311/v2"  # SLRT_DASHBOARD_PUBLIC_URL
    assert endpoint["changeset"] == discovery.json()["changeset"] >= "2026-11-30 00:00"
    assert _xml(discovery_xml.content).findtext("endpoints/endpoint/type") == "production"


async def test_a_georeport_client_library_reads_it_in_json_and_xml(open311_url: str) -> None:
    def read(output_format: str) -> tuple[Any, Any, Any, Any]:
        client = georeport.GeoReport(open311_url, jurisdiction="3204", output_format=output_format)
        return (
            client.get_service_list(),
            client.get_service_requests(status="closed"),
            client.get_service_requests(service_code="BPNT", status="open"),
            client.get_service_request("3204-26-900000"),
        )

    for output_format in ("json", "xml"):
        services, closed, open_bpnt, one = await asyncio.to_thread(read, output_format)
        assert [s["service_code"] for s in services][:4] == [c.value for c in Category]
        assert "LANSIA_3273" not in {s["service_code"] for s in services}
        closed = closed if isinstance(closed, list) else [closed]
        assert {r["service_request_id"] for r in closed} == {"3204-26-900001", "3204-26-900002"}
        assert len(open_bpnt) == 10
        assert one["service_request_id"] == "3204-26-900000"
        assert one["status"] == "open"
        assert one["agency_responsible"] == "Kementerian Sosial"


async def test_the_public_routes_are_rate_limited_per_client(open311_url: str) -> None:
    async with httpx.AsyncClient(base_url=open311_url, timeout=30) as http:
        statuses: list[httpx.Response] = []
        # Over two windows at most, so one window sees more than LIMIT requests.
        for _ in range(2 * LIMIT + 1):
            response = await http.get("/services.xml")
            statuses.append(response)
            if response.status_code == 429:
                break
    limited = statuses[-1]
    assert limited.status_code == 429, [r.status_code for r in statuses][-5:]
    assert int(limited.headers["retry-after"]) >= 1
    error = _xml(limited.content)
    assert error[0].findtext("code") == "429"
    assert error[0].findtext("description", "").startswith("rate limit: at most 100")
    assert all(r.status_code == 200 for r in statuses[:-1])
