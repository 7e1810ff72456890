"""The registry loop closed, end to end (issue 15, "Show"): intake, routing, the registry and the
notifier as their own processes, the SMS gateway stand-in as its own.

1. A complainant not in the social registry: the complaint puts them on the pre-list, back
   office waits on registration, the supervisor approves the entry, the manager exports the
   SIKS-NG batch (CSV), the data manager imports SIKS-NG's results; the acceptance comes back
   to the complaint's timeline (intake's status and case file) and the household gets the
   outcome by SMS in Bahasa Indonesia.
2. A complainant in the registry: back office proposes a correction (the household's address
   and a new member) from the complaint; it goes through review, the batch and the results;
   the registry is changed only then, and the complaint's timeline and the household's SMS say
   so.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from services.registry.domain.identity import make_kk, make_nik
from services.registry.extract import COLUMNS
from slrt.settings import ConnectionSettings
from tests.support.harness import Stack, standin, start_services
from tests.support.polling import poll, until

VILLAGE = "3204052001"
PHONE = "081234567891"
E164 = "+6281234567891"


def _complaint(person: dict[str, Any]) -> dict[str, Any]:
    return {
        "channel": "puskesos_walk_in",
        "village_code": VILLAGE,
        "complainant": {**person, "phone": PHONE},
        "category": "membership",
        "description": "Keluarga kami tidak terdaftar sebagai penerima bantuan.",
    }


async def _submit(client: httpx.AsyncClient, stack: Stack, body: dict[str, Any]) -> Any:
    response = await client.post(
        "/v1/complaints",
        json=body,
        headers={**stack.auth("front_office"), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 202, response.text
    return response.json()


async def _status(client: httpx.AsyncClient, stack: Stack, complaint: str) -> dict[str, Any]:
    response = await client.get(f"/v1/complaints/{complaint}", headers=stack.auth("back_office"))
    if response.status_code == 404:
        return {}
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _at(
    client: httpx.AsyncClient, stack: Stack, complaint: str, step: str, reason: str | None = None
) -> dict[str, Any]:
    def reached(status: dict[str, Any]) -> bool:
        if status.get("step") != step:
            return False
        return reason is None or any(e["reason"] == reason for e in status["timeline"])

    return await poll(
        lambda: _status(client, stack, complaint),
        reached,
        timeout=180,
        interval=0.5,
        explain=lambda last: f"not at {step}/{reason}: {last.get('step')}",
    )


async def _act(
    client: httpx.AsyncClient, stack: Stack, complaint: str, action: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Take a back-office action with one idempotency key, again while the workflow has not
    caught up (409 naming the step, 503)."""
    key = uuid.uuid4().hex

    async def post() -> dict[str, Any] | None:
        response = await client.post(
            f"/v1/complaints/{complaint}/{action}",
            json=body,
            headers={**stack.auth("back_office"), "Idempotency-Key": key},
        )
        assert response.status_code in (200, 409, 503), response.text
        return response.json() if response.status_code == 200 else None

    return await until(post, timeout=120)


async def _sms(gateway: str, ticket: str, words: str) -> list[dict[str, Any]]:
    async def arrived() -> list[dict[str, Any]] | None:
        async with httpx.AsyncClient(timeout=10) as http:
            received: list[dict[str, Any]] = (await http.get(f"{gateway}/_received")).json()
        mine = [m for m in received if ticket in m["text"] and words in m["text"]]
        return mine or None

    return await until(arrived, timeout=180)


async def _siks_ng_round(
    registry: httpx.AsyncClient, stack: Stack, complaint: str, verdict: str = "accepted"
) -> list[dict[str, str]]:
    """The manager exports the batch, SIKS-NG answers ``verdict`` for the complaint's items,
    the data manager imports the results; returns the complaint's exported rows."""
    manager = stack.auth("manager")
    batch = await registry.post("/v1/siks-ng/batches", headers=manager)
    assert batch.status_code == 201, batch.text
    batch_id = batch.json()["batch_id"]
    exported = await registry.get(f"/v1/siks-ng/batches/{batch_id}.csv", headers=manager)
    assert exported.status_code == 200, exported.text
    rows = [r for r in csv.DictReader(io.StringIO(exported.text)) if r["complaint_id"] == complaint]
    assert rows, exported.text
    results = "batch_id,item_id,result,reason,household_ref,welfare_decile\n" + "".join(
        f"{batch_id},{r['item_id']},{verdict},,{'3204SIKS' + r['item_id'][:6]},2\n"
        if r["item_type"] == "prelist"
        else f"{batch_id},{r['item_id']},{verdict},,,\n"
        for r in rows
    )
    applied = await registry.post(
        f"/v1/siks-ng/batches/{batch_id}/results",
        content=results,
        headers={**stack.auth("data_manager"), "Content-Type": "text/csv"},
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] == len(rows)
    return rows


async def _approve(
    registry: httpx.AsyncClient, stack: Stack, kind: str, complaint: str, count: int
) -> None:
    """The supervisor approves the complaint's proposals once the registry has them."""
    supervisor = stack.auth("supervisor", "320405")

    async def recorded() -> list[dict[str, Any]]:
        listed = await registry.get(
            f"/v1/{kind}", params={"status": "proposed"}, headers=supervisor
        )
        assert listed.status_code == 200, listed.text
        return [p for p in listed.json() if p["complaint_id"] == complaint]

    proposals = await poll(recorded, lambda found: len(found) == count, timeout=120)
    for proposal in proposals:
        reviewed = await registry.post(
            f"/v1/{kind}/{proposal['id']}/review", json={"decision": "approve"}, headers=supervisor
        )
        assert reviewed.status_code == 200, reviewed.text
        assert reviewed.json()["status"] == "approved"


async def test_a_pre_listed_complainant_hears_the_registrys_verdict(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    person = {
        "nik": make_nik("320405", date(1984, 3, 12), "female", 4101),
        "kk_number": make_kk("320405", date(2025, 10, 18), 4101),
        "name": "Euis Kurniasih",
        "sex": "female",
        "birth_date": "1984-03-12",
        "address": "Kp. Babakan RT 03/RW 07",
    }
    with standin("sms_gateway", log_dir) as sms_port:
        gateway = f"http://127.0.0.1:{sms_port}"
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_NOTIFIER_SMS_GATEWAY_URL=gateway,
            SLRT_NOTIFIER_DISPATCH_POLL_SECONDS="0.2",
        )
        with stack:
            async with (
                httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as intake,
                httpx.AsyncClient(base_url=services.urls["registry"], timeout=30) as registry,
            ):
                submitted = await _submit(intake, services, _complaint(person))
                complaint, ticket = submitted["complaint_id"], submitted["ticket_number"]
                checked = await _at(intake, services, complaint, "back_office")
                assert checked["registry"]["found"] is False
                assert checked["registry"]["prelist_requested"] is True

                waiting = await _act(
                    intake,
                    services,
                    complaint,
                    "back-office-action",
                    {"kind": "await_registration"},
                )
                assert waiting["result"]["step"] == "awaiting_registration"
                await _approve(registry, services, "prelist", complaint, 1)
                (row,) = await _siks_ng_round(registry, services, complaint)
                assert (row["item_type"], row["nik"], row["sex"]) == ("prelist", person["nik"], "P")

                decided = await _at(intake, services, complaint, "feedback", "registry_accepted")
                sms = await _sms(gateway, ticket, "diterima dalam verifikasi data terpadu")
                detail = await intake.get(
                    f"/v1/complaints/{complaint}/detail", headers=services.auth("back_office")
                )
                # The person is in the registry now: a lookup finds them in their household.
                found = await registry.post(
                    "/v1/persons/lookup",
                    json={"nik": person["nik"]},
                    headers=services.auth("front_office"),
                )

    assert decided["outcome"] is None  # told at feedback, closed by the facilitator
    reasons = [(e["from_step"], e["to_step"], e["reason"]) for e in decided["timeline"]]
    assert ("back_office", "awaiting_registration", "registration_awaited") in reasons
    assert reasons[-1] == ("awaiting_registration", "feedback", "registry_accepted")
    statuses = [
        e["details"].get("status")
        for e in detail.json()["timeline"]
        if e["reason"] in ("registry_proposal_updated", "registry_accepted")
    ]
    assert statuses == ["proposed", "approved", "exported", "accepted"]
    assert [m["to"] for m in sms] == [E164]
    text = sms[0]["text"]
    assert text.startswith(
        f"SLRT: pengaduan {ticket} diterima dalam verifikasi data terpadu (SIKS-NG). "
    )
    assert len(text) <= 160
    assert text.isascii()
    assert found.status_code == 200, found.text
    assert found.json()[0]["welfare_decile"] == 2


def _extract(head_nik: str, kk: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerow(
        {
            "household_ref": "3204E2E000001",
            "village_code": VILLAGE,
            "address": "Jl. Cileunyi No. 7, RT 001/RW 002",
            "welfare_decile": "3",
            "kk_number": kk,
            "nik": head_nik,
            "name": "Ujang Suherman",
            "sex": "L",
            "birth_date": "1979-08-17",
            "relation": "head",
            "period": "2026",
        }
    )
    return out.getvalue()


async def test_a_correction_proposed_from_a_complaint_comes_back_to_it(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    head = make_nik("320405", date(1979, 8, 17), "male", 4102)
    kk = make_kk("320405", date(2019, 2, 1), 4102)
    baby = make_nik("320405", date(2026, 5, 2), "female", 4103)
    person = {"nik": head, "name": "Ujang Suherman", "sex": "male", "birth_date": "1979-08-17"}
    with standin("sms_gateway", log_dir) as sms_port:
        gateway = f"http://127.0.0.1:{sms_port}"
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_NOTIFIER_SMS_GATEWAY_URL=gateway,
            SLRT_NOTIFIER_DISPATCH_POLL_SECONDS="0.2",
        )
        with stack:
            async with (
                httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as intake,
                httpx.AsyncClient(base_url=services.urls["registry"], timeout=30) as registry,
            ):
                imported = await registry.post(
                    "/v1/imports",
                    content=_extract(head, kk),
                    headers={**services.auth("data_manager"), "Content-Type": "text/csv"},
                )
                assert imported.status_code == 201, imported.text
                assert imported.json()["rows_rejected"] == 0

                submitted = await _submit(intake, services, _complaint(person))
                complaint, ticket = submitted["complaint_id"], submitted["ticket_number"]
                checked = await _at(intake, services, complaint, "back_office")
                household = checked["registry"]["household_id"]
                assert household is not None

                bad = await intake.post(
                    f"/v1/complaints/{complaint}/registry-correction",
                    json={
                        "evidence": "x",
                        "changes": [
                            {"kind": "kk_number", "household_id": household, "kk_number": "12"}
                        ],
                    },
                    headers={**services.auth("back_office"), "Idempotency-Key": "bad-1"},
                )
                proposed = await _act(
                    intake,
                    services,
                    complaint,
                    "registry-correction",
                    {
                        "evidence": "Akta kelahiran dan surat pindah dilihat saat kunjungan",
                        "changes": [
                            {
                                "kind": "address",
                                "household_id": household,
                                "address": "Dusun Cibodas RT 002/RW 005",
                            },
                            {
                                "kind": "member_add",
                                "household_id": household,
                                "member": {
                                    "name": "Nengsih",
                                    "nik": baby,
                                    "sex": "female",
                                    "birth_date": "2026-05-02",
                                    "relation": "child",
                                },
                            },
                        ],
                    },
                )
                assert proposed["result"]["step"] == "awaiting_registration"

                await _approve(registry, services, "change-proposals", complaint, 2)
                before = await registry.get(
                    f"/v1/households/{household}", headers=services.auth("front_office")
                )
                rows = await _siks_ng_round(registry, services, complaint)
                decided = await _at(intake, services, complaint, "feedback", "registry_accepted")
                sms = await _sms(gateway, ticket, "diterima dalam verifikasi data terpadu")
                address_only = {
                    "evidence": "lagi",
                    "changes": [{"kind": "address", "household_id": household, "address": "X"}],
                }
                late = await intake.post(
                    f"/v1/complaints/{complaint}/registry-correction",
                    json=address_only,
                    headers={**services.auth("back_office"), "Idempotency-Key": "late-1"},
                )
                not_yours = await intake.post(
                    f"/v1/complaints/{complaint}/registry-correction",
                    json=address_only,
                    headers={**services.auth("facilitator"), "Idempotency-Key": "fac-1"},
                )
                after = await registry.get(
                    f"/v1/households/{household}", headers=services.auth("front_office")
                )

    assert bad.status_code == 422, bad.text
    assert bad.json()["errors"][0]["field"] == "changes.0.kk_number.kk_number"
    assert "12" not in str(bad.json()["errors"])
    assert late.status_code == 409, late.text  # the complaint is at feedback now
    assert late.json()["current_step"] == "feedback"
    assert not_yours.status_code == 403, not_yours.text
    assert sorted(r["field"] for r in rows) == ["address", "member_add"]
    # Applied only after SIKS-NG accepted: before the results the household was unchanged.
    assert before.json()["address"] == "Jl. Cileunyi No. 7, RT 001/RW 002"
    assert after.json()["address"] == "Dusun Cibodas RT 002/RW 005"
    assert sorted(m["nik"] for m in after.json()["members"]) == sorted([head, baby])
    reasons = [(e["from_step"], e["to_step"], e["reason"]) for e in decided["timeline"]]
    assert ("back_office", "awaiting_registration", "registry_correction_proposed") in reasons
    assert reasons[-1] == ("awaiting_registration", "feedback", "registry_accepted")
    assert [m["to"] for m in sms] == [E164]
    assert sms[0]["text"].startswith(
        f"SLRT: pengaduan {ticket} diterima dalam verifikasi data terpadu (SIKS-NG). "
    )
