"""The demo's mid-week handover (issue 19): one facilitator of the generated staff directory
(``slrt_dev.demo.staff``) hands their villages over to a colleague of the same sub-district
while feedback visits are open there.

1. A household of each of two of the facilitator's villages complains at the Puskesos; the
   back office answers, so each complaint waits for the village facilitator's feedback visit,
   assigned to whoever holds the village (its ``assignee``; the leaving facilitator sees them
   in their task feed).
2. The district administrator ends both villages' assignment, naming the colleague as the
   successor (the registry's ``PUT /v1/staff/villages/{code}/facilitator``); intake moves the
   open visits to the successor, with a ``handover`` entry on each complaint's timeline.
3. The successor finds them in their own task feed, visits the households and records it;
   the complaints close.

Played again, the villages go back the other way (whoever holds them now hands them over), so
``slrt-demo play`` can run any number of times. Tokens carry the directory person's subject
(``demo-<key>``), so the task feed is that person's whatever the auth mode.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from slrt_dev.demo import staff
from slrt_dev.demo.effects import Figure, complaint_contributions
from slrt_dev.demo.settings import DemoSettings
from slrt_dev.issuer import DevIssuer

POLL_SECONDS = 0.5
# What the handover's complaints are: a walk-in about PKH's implementation.
CHANNEL, CATEGORY, PROGRAM = "puskesos_walk_in", "implementation", "PKH"


@dataclass
class HandoverPlayed:
    leaving: str = ""
    successor: str = ""
    villages: list[str] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)
    moved: int = 0
    closed: int = 0
    problem: str | None = None

    @property
    def as_expected(self) -> bool:
        return self.problem is None and self.moved == self.closed == len(self.complaints) > 0


def pair(district: str) -> tuple[staff.Planned, staff.Planned]:
    """Two facilitators of the first sub-district that has two (pure)."""
    by_sub: dict[str, list[staff.Planned]] = {}
    for planned in staff.plan(district):
        if planned.key.startswith("facilitator-") and planned.villages:
            by_sub.setdefault(planned.body["areas"][0], []).append(planned)
    for sub in sorted(by_sub):
        if len(by_sub[sub]) >= 2:
            return by_sub[sub][0], by_sub[sub][1]
    raise LookupError(f"no sub-district of {district} has two facilitators")


class Handover:
    def __init__(self, settings: DemoSettings, issuer: DevIssuer, http: httpx.AsyncClient) -> None:
        self._s = settings
        self._issuer = issuer
        self._http = http

    def _auth(self, subject: str, role: str, area: str) -> dict[str, str]:
        token = self._issuer.token(subject, [role], area)
        return {"Authorization": f"Bearer {token}"}

    def _staff(self, role: str) -> dict[str, str]:
        return self._auth(f"demo-{role}-{self._s.district}", role, self._s.district)

    async def _until(self, what: str, check: Any) -> Any:
        deadline = asyncio.get_running_loop().time() + self._s.step_timeout_seconds
        while True:
            found = await check()
            if found:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(what)
            await asyncio.sleep(POLL_SECONDS)

    async def _complaint(self, complaint: str) -> dict[str, Any]:
        read = await self._http.get(
            f"{self._s.intake_url}/v1/complaints/{complaint}", headers=self._staff("manager")
        )
        read.raise_for_status()
        body: dict[str, Any] = read.json()
        return body

    async def _feed(self, subject: str) -> set[str]:
        feed = await self._http.get(
            f"{self._s.intake_url}/v1/tasks",
            params={"limit": 100},
            headers=self._auth(subject, "facilitator", self._s.district),
        )
        feed.raise_for_status()
        return {item["complaint_id"] for item in feed.json()["items"]}

    async def _submit(self, village: str) -> str:
        run = uuid.uuid4().hex[:8]
        response = await self._http.post(
            f"{self._s.intake_url}/v1/complaints",
            json={
                "channel": CHANNEL,
                "village_code": village,
                "complainant": {"nik": "3204054107850003", "name": "Warga Desa"},
                "category": CATEGORY,
                "program_code": PROGRAM,
                "description": "Bantuan PKH tahap ini belum diterima.",
            },
            headers={**self._staff("front_office"), "Idempotency-Key": f"handover-{run}"},
        )
        response.raise_for_status()
        complaint: str = response.json()["complaint_id"]
        return complaint

    async def _answer(self, complaint: str) -> None:
        async def answered() -> bool:
            response = await self._http.post(
                f"{self._s.intake_url}/v1/complaints/{complaint}/back-office-action",
                json={"kind": "resolve", "answer": "Dibayar susulan", "decision_code": "paid_late"},
                headers={
                    **self._staff("back_office"),
                    "Idempotency-Key": f"handover-answer-{uuid.uuid4().hex}",
                },
            )
            return response.status_code < 300

        await self._until("back office's answer", answered)

    async def play(self) -> HandoverPlayed:
        played = HandoverPlayed()
        try:
            await self._play(played)
        except (LookupError, TimeoutError, httpx.HTTPError, RuntimeError) as exc:
            played.problem = f"{type(exc).__name__}: {exc}"
        return played

    async def _play(self, played: HandoverPlayed) -> None:
        first, second = pair(self._s.district)
        registry = self._s.registry_url
        ids = {
            p.key: await asyncio.to_thread(
                staff.person_id, registry, self._issuer, self._s.district, p.key
            )
            for p in (first, second)
        }
        keys = {v: k for k, v in ids.items()}
        played.villages = first.villages[:2]
        played.complaints = [await self._submit(v) for v in played.villages]
        for complaint in played.complaints:
            await self._answer(complaint)

        async def assigned() -> dict[str, str | None] | None:
            holders = {c: (await self._complaint(c)).get("assignee") for c in played.complaints}
            return holders if all(holders.values()) else None

        # Whoever holds the villages now: ``first`` on the first play, ``second`` after it
        # (an interrupted play may have left them split: then both go to ``first`` first).
        holders = await self._until("the visits assigned", assigned)
        if len(set(holders.values())) != 1 or not set(holders.values()) <= set(keys):
            for village in played.villages:
                await asyncio.to_thread(
                    staff.end_assignment, registry, self._issuer, village, ids[first.key]
                )

            async def first_holds() -> bool:
                now = await assigned()
                return now is not None and set(now.values()) == {ids[first.key]}

            await self._until("the visits assigned to one facilitator", first_holds)
            holders = dict.fromkeys(played.complaints, ids[first.key])
        leaving_id = str(next(iter(holders.values())))
        successor_id = ids[second.key] if leaving_id == ids[first.key] else ids[first.key]
        played.leaving, played.successor = keys[leaving_id], keys[successor_id]
        leaving_subject, successor_subject = f"demo-{played.leaving}", f"demo-{played.successor}"
        mine = set(played.complaints)
        await self._until(
            "the visits in the leaving facilitator's feed",
            lambda: self._has(leaving_subject, mine),
        )
        for village in played.villages:
            await asyncio.to_thread(
                staff.end_assignment, registry, self._issuer, village, successor_id
            )
        await self._until(
            "the visits in the successor's feed", lambda: self._has(successor_subject, mine)
        )
        for complaint in played.complaints:
            timeline = (await self._complaint(complaint))["timeline"]
            played.moved += any(t["reason"] == "handover" for t in timeline)
        for complaint in played.complaints:
            response = await self._http.post(
                f"{self._s.intake_url}/v1/complaints/{complaint}/feedback",
                json={"household_told": True, "visited_on": date.today().isoformat()},
                headers={
                    **self._auth(successor_subject, "facilitator", self._s.district),
                    "Idempotency-Key": f"handover-feedback-{complaint}",
                },
            )
            response.raise_for_status()

        async def all_closed() -> bool:
            steps = [(await self._complaint(c))["step"] for c in played.complaints]
            played.closed = steps.count("closed")
            return played.closed == len(played.complaints)

        await self._until("the complaints closed under the successor", all_closed)

    async def figures(self, played: HandoverPlayed) -> Counter[Figure]:
        """The dashboard figures the handover's complaints count in, where they are now (the
        week's check adds them to what the week played)."""
        counts: Counter[Figure] = Counter()
        for complaint in played.complaints:
            now = await self._complaint(complaint)
            counts += complaint_contributions(
                category=CATEGORY,
                program=PROGRAM,
                channel=CHANNEL,
                step=now["step"],
                timeline=now["timeline"],
            )
        return counts

    async def _has(self, subject: str, complaints: set[str]) -> bool:
        return complaints <= await self._feed(subject)
