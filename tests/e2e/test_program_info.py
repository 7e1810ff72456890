"""Program information at the front office, on the assembled services (intake, registry,
routing, notifier and the dashboard, each its own process on the real stack), seen from outside:

- the administrator keeps the district's FAQ, a program manager their program's information
  (each edit a new version, the old one still readable; another program's manager and the front
  office may not edit); the front office finds both by full-text search in Bahasa Indonesia;
- an information request submitted with its answer (the entry, its version, the text) closes at
  registration and shows the answer in its case file and timeline, and the entry's title on
  the household's tracking page; the dashboard's
  "information requests by topic" counts it under the entry's topic (page and JSON);
- the back office sees, beside a complaint of a registry household, the programs the household
  *may* qualify for by the district's eligibility criteria (never a decision).
"""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.registry.extract import COLUMNS
from slrt.settings import ConnectionSettings
from slrt_dev.demo import program_info as demo_program_info
from tests.support.harness import Stack, service_process, start_services
from tests.support.polling import until
from tests.support.registry import VILLAGE, own_household

DISTRICT = VILLAGE[:4]


@contextmanager
def _dashboard(stack: Stack, log_dir: Path) -> Iterator[str]:
    env = {
        **stack.env,
        "SLRT_DASHBOARD_REGISTRY_URL": stack.urls["registry"],
        "SLRT_DASHBOARD_INTAKE_PUBLIC_URL": stack.urls["intake"],
    }
    with service_process("dashboard", env, log_dir) as url:
        yield url


async def _intake_knows(dsn: str, entry_id: str, version: int) -> None:
    """Wait until intake's copy of the program information holds ``version`` of the entry."""

    async def copied() -> bool:
        conn = await asyncpg.connect(dsn)
        try:
            found = await conn.fetchval(
                "SELECT version FROM intake.program_info WHERE entry_id = $1", uuid.UUID(entry_id)
            )
        finally:
            await conn.close()
        return found is not None and found >= version

    await until(copied, timeout=60)


def _extract(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


async def test_the_front_office_answers_from_program_information_and_the_dashboard_counts_it(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    # Topics are shared across the session's tests: a topic only this test uses.
    topic = f"pengaduan_{secrets.token_hex(3)}"
    stack, services = start_services(connections, log_dir)
    with stack, _dashboard(services, log_dir) as dashboard:
        registry = services.urls["registry"]
        async with (
            httpx.AsyncClient(base_url=registry, timeout=30) as reg,
            httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as intake,
            httpx.AsyncClient(base_url=dashboard, timeout=30) as board,
        ):
            # The administrator keeps the FAQ; the front office may not.
            faq_body = {
                "district": DISTRICT,
                "topic": topic,
                "question": "Bagaimana cara mengajukan pengaduan soal bantuan yang belum cair?",
                "answer": "Datang ke Puskesos di desa atau sekretariat SLRT kabupaten dengan "
                "membawa KTP dan Kartu Keluarga; petugas mencatat pengaduan dan memberi nomor "
                "tiket untuk memantau penanganannya.",
            }
            refused = await reg.post(
                "/v1/program-info/faq", json=faq_body, headers=services.auth("front_office")
            )
            assert refused.status_code == 403, refused.text
            created = await reg.post(
                "/v1/program-info/faq", json=faq_body, headers=services.auth("administrator")
            )
            assert created.status_code == 201, created.text
            faq = created.json()
            assert (faq["version"], faq["topic"], faq["kind"]) == (1, topic, "faq")
            edited = await reg.put(
                f"/v1/program-info/faq/{faq['id']}",
                json={
                    **{k: v for k, v in faq_body.items() if k != "district"},
                    "answer": faq_body["answer"] + " Layanan ini gratis.",
                    "base_version": 1,
                },
                headers=services.auth("administrator"),
            )
            assert edited.status_code == 200, edited.text
            assert edited.json()["version"] == 2
            stale = await reg.put(
                f"/v1/program-info/faq/{faq['id']}",
                json={**{k: v for k, v in faq_body.items() if k != "district"}, "base_version": 1},
                headers=services.auth("administrator"),
            )
            assert stale.status_code == 409, stale.text
            assert stale.json()["current_version"] == 2

            # A program manager keeps their own program's entry, not another's.
            pkh = {
                "title": "Program Keluarga Harapan (PKH)",
                "what_it_gives": "Bantuan tunai bersyarat untuk keluarga miskin, dibayar per "
                "tahap melalui bank penyalur.",
                "who_qualifies": "Keluarga miskin dalam DTKS dengan ibu hamil, anak usia dini, "
                "anak bersekolah, lansia atau penyandang disabilitas berat.",
                "where_to_go": "Pendamping PKH di kecamatan atau Dinas Sosial kabupaten.",
                "documents": ["KTP", "Kartu Keluarga", "Kartu Keluarga Sejahtera (KKS)"],
                "criteria": [
                    {"kind": "max_decile", "max_decile": 3},
                    {"kind": "not_participant"},
                ],
            }
            other = await reg.put(
                f"/v1/program-info/programs/{DISTRICT}/PKH",
                json=pkh,
                headers=services.auth("program_manager", DISTRICT, ["BPNT"]),
            )
            assert other.status_code == 404, other.text
            pm = services.auth("program_manager", DISTRICT, ["PKH"])
            first = await reg.put(f"/v1/program-info/programs/{DISTRICT}/PKH", json=pkh, headers=pm)
            assert first.status_code == 201, first.text
            entry = first.json()
            second = await reg.put(
                f"/v1/program-info/programs/{DISTRICT}/PKH",
                json={
                    **pkh,
                    "where_to_go": "Kantor Dinas Sosial, Jl. Raya Soreang No. 1.",
                    "base_version": 1,
                },
                headers=pm,
            )
            assert second.status_code == 200, second.text
            assert second.json()["version"] == 2
            old = await reg.get(
                f"/v1/program-info/entries/{entry['id']}/versions/1",
                headers=services.auth("front_office", VILLAGE),
            )
            assert old.status_code == 200, old.text
            assert old.json()["body"]["where_to_go"] == pkh["where_to_go"]
            unknown = await reg.put(
                f"/v1/program-info/programs/{DISTRICT}/NO_SUCH_PROGRAM",
                json=pkh,
                headers=services.auth("manager"),
            )
            assert unknown.status_code == 422, unknown.text
            assert unknown.json()["errors"][0]["rule"] == "known_program"

            # The front office of a village finds them by search: a word the entry holds only
            # with an affix ("sekolah" of "bersekolah", by trigram) and a question's words.
            front = services.auth("front_office", VILLAGE)
            found = await reg.get("/v1/program-info/search", params={"q": "sekolah"}, headers=front)
            assert found.status_code == 200, found.text
            assert found.json()["district"] == DISTRICT
            assert [h["id"] for h in found.json()["items"]][:1] == [entry["id"]]
            asked = await reg.get(
                "/v1/program-info/search",
                params={"q": "cara pengaduan bantuan", "kind": "faq"},
                headers=front,
            )
            assert asked.status_code == 200, asked.text
            (hit,) = [h for h in asked.json()["items"] if h["id"] == faq["id"]]
            assert hit["version"] == 2
            assert "pengaduan" in hit["excerpt"]
            outside = await reg.get(
                "/v1/program-info/search",
                params={"q": "pengaduan", "district": "3273"},
                headers=front,
            )
            assert outside.status_code == 404, outside.text

            # The information request, answered from the FAQ's second version.
            await _intake_knows(dsn, faq["id"], 2)
            request = {
                "channel": "puskesos_walk_in",
                "village_code": VILLAGE,
                "complainant": {"name": "Ujang Suryana", "phone": "081322223333"},
                "category": "information",
                "description": "Menanyakan cara mengadu soal bantuan yang belum cair.",
            }
            answer_text = (
                "Dijelaskan cara mengadu di Puskesos; bisa dihubungi kembali di 081322223333."
            )
            not_information = await intake.post(
                "/v1/complaints",
                headers={**services.auth("front_office"), "Idempotency-Key": uuid.uuid4().hex},
                json={
                    **request,
                    "category": "membership",
                    "answer": {"entry_id": faq["id"], "entry_version": 2, "answer": "x"},
                },
            )
            assert not_information.status_code == 422, not_information.text
            assert [(e["field"], e["rule"]) for e in not_information.json()["errors"]] == [
                ("answer", "information_only")
            ]
            no_entry = await intake.post(
                "/v1/complaints",
                headers={**services.auth("front_office"), "Idempotency-Key": uuid.uuid4().hex},
                json={
                    **request,
                    "answer": {"entry_id": str(uuid.uuid4()), "entry_version": 1, "answer": "x"},
                },
            )
            assert no_entry.status_code == 422, no_entry.text
            assert [(e["field"], e["rule"]) for e in no_entry.json()["errors"]] == [
                ("answer.entry_id", "known_entry")
            ]
            submitted = await intake.post(
                "/v1/complaints",
                headers={**services.auth("front_office"), "Idempotency-Key": uuid.uuid4().hex},
                json={
                    **request,
                    "answer": {"entry_id": faq["id"], "entry_version": 2, "answer": answer_text},
                },
            )
            assert submitted.status_code == 202, submitted.text
            complaint = submitted.json()["complaint_id"]

            async def closed() -> dict[str, Any] | None:
                response = await intake.get(
                    f"/v1/complaints/{complaint}/detail", headers=services.auth("back_office")
                )
                assert response.status_code == 200, response.text
                body: dict[str, Any] = response.json()
                return body if body["step"] == "closed" else None

            detail = await until(closed, timeout=120)
            assert detail["outcome"] == "answered"
            assert detail["information_answer"] == {
                "entry_id": faq["id"],
                "entry_version": 2,
                "topic": topic,
                "answer": answer_text,
            }
            (closing,) = [t for t in detail["timeline"] if t["to_step"] == "closed"]
            assert closing["reason"] == "answered_at_registration"
            assert closing["details"] == {
                "entry_id": faq["id"],
                "entry_version": 2,
                "topic": topic,
                # The phone number never left intake: the timeline's text is the masked one.
                "answer": "Dijelaskan cara mengadu di Puskesos; bisa dihubungi kembali di "
                "[telepon].",
            }

            # The household's tracking page names the information given (the entry's title and
            # topic), never the answer's own words.
            tracked = await intake.post(
                "/v1/tracking",
                json={
                    "ticket_number": submitted.json()["ticket_number"],
                    "verifier": submitted.json()["tracking_code"],
                },
            )
            assert tracked.status_code == 200, tracked.text
            assert tracked.json()["outcome"] == "answered"
            assert tracked.json()["information"] == {
                "title": faq_body["question"],
                "topic": topic,
                "entry_version": 2,
            }
            assert "081322223333" not in tracked.text

            # The dashboard's figure: this request under the FAQ's topic, on the page and as JSON.
            viewer = services.auth("viewer", DISTRICT)

            async def counted() -> dict[str, Any] | None:
                response = await board.get(
                    "/dashboard/topics.json", params={"area": DISTRICT}, headers=viewer
                )
                assert response.status_code == 200, response.text
                rows = {r["key"]: r for r in response.json()["rows"]}
                return rows.get(topic)

            row = await until(counted, timeout=120)
            assert row["values"] == {"requests": 1}
            page = await board.get("/dashboard", params={"area": DISTRICT}, headers=viewer)
            assert page.status_code == 200
            assert "Permintaan informasi menurut topik" in page.text
            assert topic in page.text

            # The local stack's demo program information: written once, then left as it is.
            first_seed = await asyncio.to_thread(
                demo_program_info.seed, registry, services.issuer, DISTRICT
            )
            again = await asyncio.to_thread(
                demo_program_info.seed, registry, services.issuer, DISTRICT
            )
            assert set(first_seed.values()) == {201}, first_seed
            assert again == dict.fromkeys(first_seed, 200)
            seeded = await reg.get(
                "/v1/program-info/search", params={"q": "e-warong"}, headers=front
            )
            assert [h["program_code"] for h in seeded.json()["items"]][:1] == ["BPNT"]


async def test_the_back_office_sees_what_a_registry_household_may_qualify_for(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    # A household only this test has (decile 2, already in PKH).
    rows, nik = own_household("Euis Komariah")
    stack, services = start_services(connections, log_dir)
    with stack:
        async with (
            httpx.AsyncClient(base_url=services.urls["registry"], timeout=60) as reg,
            httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as intake,
        ):
            imported = await reg.post(
                "/v1/imports",
                content=_extract(rows),
                headers={**services.auth("data_manager"), "content-type": "text/csv"},
            )
            assert imported.status_code == 201, imported.text
            manager = services.auth("manager")
            common = {
                "what_it_gives": "Bantuan.",
                "who_qualifies": "Keluarga miskin.",
                "where_to_go": "Dinas Sosial.",
            }
            for code, criteria in (
                # Already a participant: no hint.
                ("PKH", [{"kind": "max_decile", "max_decile": 3}, {"kind": "not_participant"}]),
                # May qualify; whether a member is pregnant the registry cannot tell.
                (
                    "BPNT",
                    [
                        {"kind": "max_decile", "max_decile": 4},
                        {"kind": "not_participant"},
                        {"kind": "pregnant_member"},
                    ],
                ),
            ):
                saved = await reg.put(
                    f"/v1/program-info/programs/{DISTRICT}/{code}",
                    json={"title": code, **common, "criteria": criteria},
                    headers=manager,
                )
                assert saved.status_code == 201, saved.text
            bpnt = (
                await reg.get("/v1/program-info", params={"kind": "program"}, headers=manager)
            ).json()
            bpnt_entry = next(e for e in bpnt if e["program_code"] == "BPNT")

            async def catalog_copied() -> bool:
                conn = await asyncpg.connect(dsn)
                try:
                    return bool(
                        await conn.fetchval(
                            "SELECT count(*) FROM intake.programs WHERE code = 'PIP_KEMENDIKBUD'"
                        )
                    )
                finally:
                    await conn.close()

            await until(catalog_copied, timeout=60)
            submitted = await intake.post(
                "/v1/complaints",
                headers={**services.auth("front_office"), "Idempotency-Key": uuid.uuid4().hex},
                json={
                    "channel": "puskesos_walk_in",
                    "village_code": VILLAGE,
                    "complainant": {"nik": nik, "name": "Euis Komariah"},
                    "category": "program_need",
                    "program_code": "PIP_KEMENDIKBUD",
                    "description": "Cucu kami perlu bantuan sekolah.",
                },
            )
            assert submitted.status_code == 202, submitted.text
            complaint = submitted.json()["complaint_id"]
            back_office = services.auth("back_office")

            async def at_back_office() -> dict[str, Any] | None:
                response = await intake.get(
                    f"/v1/complaints/{complaint}/detail", headers=back_office
                )
                assert response.status_code == 200, response.text
                body: dict[str, Any] = response.json()
                ready = body["step"] == "back_office" and body["registry"] is not None
                return body if ready else None

            detail = await until(at_back_office, timeout=120)
            registry = detail["registry"]
            assert registry["found"] is True
            assert registry["may_qualify_for"] == [
                {
                    "program_code": "BPNT",
                    "entry_id": bpnt_entry["id"],
                    "entry_version": 1,
                    "to_check": ["ada anggota yang sedang hamil"],
                }
            ]
            # The same, checked afresh at the registry: a hint, never a decision.
            fresh = await reg.get(
                f"/v1/households/{registry['household_id']}/eligibility", headers=back_office
            )
            assert fresh.status_code == 200, fresh.text
            body = fresh.json()
            assert [p["program_code"] for p in body["may_qualify_for"]] == ["BPNT"]
            assert body["may_qualify_for"][0]["met"] == [
                "desil kesejahteraan paling tinggi 4",
                "belum menjadi peserta BPNT",
            ]
            assert "never a decision" in body["note"]
            elsewhere = await reg.get(
                f"/v1/households/{registry['household_id']}/eligibility",
                headers=services.auth("back_office", "3273"),
            )
            assert elsewhere.status_code == 404, elsewhere.text
