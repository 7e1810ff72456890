"""Drives complaints through intake's public API the way staff and agencies do, and records
every answer the clients got (``accounting.Calls``). Each complaint is taken to ``closed``:
whatever step it is at, the driver makes that step's move (the supervisor approves, the back
office refers to the LAPOR!-connected BPNT, the manager approves, the agency settles the report
at the LAPOR! stand-in, the facilitator reports the household told), so a complaint that a
fault threw back (a referral whose delivery failed or expired) is simply taken on again."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from slrt_dev.chaos.accounting import CLOSED, Calls
from slrt_dev.issuer import DevIssuer

DISTRICT = "3204"
VILLAGE = "3204052001"
REFERRAL_PROGRAM = "BPNT"
"""A program whose catalog entry files referrals at LAPOR!."""
HANG_SECONDS = 30.0
"""An answer slower than this counts as a hang."""
POLL = 0.5
UUID_IN_PATH = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Plan:
    """One complaint meant: an information request (closes at registration) or a complaint
    about a program (referred to LAPOR! and answered there)."""

    kind: str  # "information" | "referral"
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    complaint_ids: set[str] = field(default_factory=set)
    moved_reports: set[str] = field(default_factory=set)
    done: bool = False

    @property
    def expected_outcome(self) -> str:
        return "answered" if self.kind == "information" else "referral_accepted"

    def body(self, serial: int) -> dict[str, Any]:
        person = {
            "name": "Warga Uji Gangguan",
            # Shaped like a NIK of the village's sub-district; not in the (empty) registry.
            "nik": f"{VILLAGE[:6]}150385{serial % 10_000:04d}",
            "phone": f"0813{serial % 100_000_000:08d}",
        }
        if self.kind == "information":
            return {
                "channel": "puskesos_walk_in",
                "village_code": VILLAGE,
                "complainant": person,
                "category": "information",
                "description": "Kapan jadwal penyaluran BPNT bulan ini?",
            }
        return {
            "channel": "puskesos_walk_in",
            "village_code": VILLAGE,
            "complainant": person,
            "category": "implementation",
            "program_code": REFERRAL_PROGRAM,
            "description": "Bantuan BPNT tiga bulan terakhir belum diterima.",
        }


class Client:
    """Intake, LAPOR! and the notifier as the run's clients see them; every intake answer is
    recorded in ``calls`` (swapped per fault)."""

    def __init__(self, urls: dict[str, str], issuer: DevIssuer) -> None:
        self.urls = urls
        self.issuer = issuer
        self.calls = Calls()
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(HANG_SECONDS), limits=httpx.Limits(keepalive_expiry=2.0)
        )
        self._tokens: dict[tuple[str, str], str] = {}

    async def close(self) -> None:
        await self.http.aclose()

    def auth(self, role: str, area: str = DISTRICT) -> dict[str, str]:
        token = self._tokens.get((role, area))
        if token is None:
            token = self.issuer.token(f"chaos-{role}-{area}", [role], area)
            self._tokens[(role, area)] = token
        return {"Authorization": f"Bearer {token}"}

    async def intake(
        self, method: str, path: str, *, role: str, area: str = DISTRICT, **kw: Any
    ) -> httpx.Response | None:
        """One request to intake; None when it could not be made (intake is down) or hung."""
        headers = {**self.auth(role, area), **kw.pop("headers", {})}
        route = f"{method} {UUID_IN_PATH.sub('{id}', path)}"
        try:
            response = await self.http.request(
                method, f"{self.urls['intake']}{path}", headers=headers, **kw
            )
        except httpx.TimeoutException:
            self.calls.record(None, hung=True, request=route)
            return None
        except httpx.TransportError:
            self.calls.record(None, request=route)
            return None
        self.calls.record(
            response.status_code, retry_after="retry-after" in response.headers, request=route
        )
        return response

    async def submit(self, plan: Plan, serial: int, deadline: Callable[[], float]) -> None:
        """Submit until intake answers 202, with the same Idempotency-Key every time."""
        while asyncio.get_running_loop().time() < deadline():
            response = await self.intake(
                "POST",
                "/v1/complaints",
                role="front_office",
                json=plan.body(serial),
                headers={"Idempotency-Key": plan.key},
            )
            if response is not None and response.status_code == 202:
                plan.complaint_ids.add(response.json()["complaint_id"])
                return
            if response is not None and response.status_code < 500:
                raise RuntimeError(f"submission refused: {response.status_code}")
            await asyncio.sleep(_delay(response))

    async def submit_batch(self, plans: list[Plan], serial: int) -> httpx.Response | None:
        """The tablets' offline sync: every plan as one item (client id = its key)."""
        items = [
            {**plan.body(serial + i), "channel": "facilitator_visit", "client_id": plan.key}
            for i, plan in enumerate(plans)
        ]
        return await self.intake(
            "POST", "/v1/sync/complaints", role="facilitator", area=VILLAGE, json={"items": items}
        )

    async def drive(self, plan: Plan, deadline: Callable[[], float]) -> None:
        """Make each step's move until the complaint is closed or the deadline passes (it is
        set once the fault has healed)."""
        if not plan.complaint_ids:
            return
        complaint_id = sorted(plan.complaint_ids)[0]
        attempt_keys: dict[str, str] = {}
        while asyncio.get_running_loop().time() < deadline():
            read = await self.intake("GET", f"/v1/complaints/{complaint_id}", role="manager")
            if read is None or read.status_code != 200:
                await asyncio.sleep(_delay(read))
                continue
            complaint = read.json()
            step = complaint["step"]
            if step == CLOSED:
                plan.done = True
                return
            move = _move(step, plan)
            if move is not None:
                action, role, area, body = move
                key = attempt_keys.setdefault(step, str(uuid.uuid4()))
                response = await self.intake(
                    "POST",
                    f"/v1/complaints/{complaint_id}/{action}",
                    role=role,
                    area=area,
                    json=body,
                    headers={"Idempotency-Key": key},
                )
                if response is not None and response.status_code < 300:
                    attempt_keys.pop(step, None)
                elif response is not None and response.status_code in (409, 422):
                    attempt_keys.pop(step, None)  # refused, nothing done: a new request next
            elif step in ("referred", "under_review") and complaint["referral_id"]:
                await self._settle_at_lapor(plan, complaint["referral_id"])
            await asyncio.sleep(POLL)

    async def _settle_at_lapor(self, plan: Plan, referral_id: str) -> None:
        """The agency closes the report filed for the current referral as done."""
        try:
            filed = await self.http.get(f"{self.urls['lapor']}/_received")
            filed.raise_for_status()
        except httpx.HTTPError:
            return  # LAPOR! is down (a fault): the agency answers once it is back
        for report in filed.json():
            if report["referensi_eksternal"] == referral_id and report["status"] != "selesai":
                tracking = report["tracking_id"]
                try:
                    await self.http.put(
                        f"{self.urls['lapor']}/_control/reports/{tracking}",
                        json={"status": "selesai", "tanggapan": "Sudah disalurkan"},
                    )
                except httpx.HTTPError:
                    return
                plan.moved_reports.add(tracking)


def _move(step: str, plan: Plan) -> tuple[str, str, str, dict[str, Any]] | None:
    """The move a step waits for: (action path, role, area, body), or None."""
    if step == "supervisor_review":
        return "supervisor-review", "supervisor", DISTRICT, {"decision": "approve"}
    if step == "back_office":
        if plan.kind == "information":
            return None  # answered at registration; never at the back office
        return (
            "back-office-action",
            "back_office",
            DISTRICT,
            {"kind": "refer", "destination_program": REFERRAL_PROGRAM},
        )
    if step == "manager_approval":
        return "manager-decision", "manager", DISTRICT, {"decision": "approve"}
    if step == "feedback":
        return (
            "feedback",
            "facilitator",
            VILLAGE,
            {
                "household_told": True,
                "household_response": "satisfied",
                "note": "dikunjungi",
                "visited_on": date.today().isoformat(),
            },
        )
    return None


def _delay(response: httpx.Response | None) -> float:
    if response is None:
        return 1.0
    try:
        return min(5.0, float(response.headers.get("retry-after", 1.0)))
    except ValueError:
        return 1.0
