"""Plays the week: submits each path's complaint through intake, makes each move when the
complaint reaches its step, and reads back where every complaint ended and how it got there.

Staff act through intake's API with tokens of the local development issuer; program managers
answer the way their program's channel lets them: a LAPOR!-connected agency moves the report
the notifier filed; a program with its own system answers on the signed callback (the webhook
receiver stand-in does, as that system); a program manager without one opens the answer link
the notifier emailed them (found at the SMTP sink) and submits its form."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from slrt_dev.demo.paths import Contact, Move, Path, Who
from slrt_dev.demo.people import Person
from slrt_dev.demo.played import Played
from slrt_dev.demo.settings import DemoSettings
from slrt_dev.issuer import DevIssuer

ANSWER_LINK = re.compile(r"https?://\S+/v1/answer/[A-Za-z0-9._-]+")
"""An answer link in the text of the email the notifier sends a program manager."""
RETRY_STATUSES = {409, 422, 503}
"""Asked too early (409, 422: the complaint's read model or routing plan has not caught up
yet; nothing was done, so the next attempt is a new request with a new key) or a part of the
system is briefly unavailable (503: retried with the same Idempotency-Key, as docs/api.md says,
since the first attempt may have been carried out)."""
UNAVAILABLE = 503
SUBMIT_ATTEMPTS = 30


def retry_delay(response: httpx.Response, default: float = 0.5, cap: float = 5.0) -> float:
    """How long to wait before repeating a request: its ``Retry-After`` (seconds), capped."""
    try:
        return min(cap, max(0.0, float(response.headers.get("retry-after", default))))
    except ValueError:
        return default


async def submit(
    http: httpx.AsyncClient,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    *,
    attempts: int = SUBMIT_ATTEMPTS,
) -> httpx.Response:
    """POST a submission; a 503 is repeated after its ``Retry-After`` with the same headers,
    so the same Idempotency-Key (a submission the first attempt did record is answered, not
    made twice). Returns the first answer that is not a 503, or the last one."""
    for _ in range(attempts - 1):
        response = await http.post(url, json=body, headers=headers)
        if response.status_code != UNAVAILABLE:
            return response
        await asyncio.sleep(retry_delay(response))
    return await http.post(url, json=body, headers=headers)


class PatientTransport(httpx.AsyncHTTPTransport):
    """Repeats a request whose connection the server dropped (a loaded machine's loopback
    servers sometimes do). Every request the demo makes is safe to repeat: reads, writes with an
    idempotency key, and the stand-ins' controls."""

    ATTEMPTS = 3

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(1, self.ATTEMPTS + 1):
            try:
                return await super().handle_async_request(request)
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError):
                if attempt == self.ATTEMPTS:
                    raise
                await asyncio.sleep(0.5 * attempt)
        raise AssertionError("unreachable")


def demo_client() -> httpx.AsyncClient:
    """The demo's HTTP client: idle connections are closed after 2 s, before the servers close
    them (uvicorn: 5 s), so a request never goes out on a connection the server is closing."""
    transport = PatientTransport(limits=httpx.Limits(keepalive_expiry=2.0))
    return httpx.AsyncClient(timeout=30, transport=transport)


class Stuck(Exception):
    """A complaint did not reach the step a move waits for."""


class Player:
    def __init__(self, settings: DemoSettings, issuer: DevIssuer, http: httpx.AsyncClient) -> None:
        self._s = settings
        self._issuer = issuer
        self._http = http

    def _auth(self, role: str, area: str) -> dict[str, str]:
        token = self._issuer.token(f"demo-{role}-{area}", [role], area)
        return {"Authorization": f"Bearer {token}"}

    async def play(
        self,
        paths: list[Path],
        people: dict[Who, list[Person]],
        *,
        concurrency: int = 8,
        on_done: Callable[[Played], None] = lambda played: None,
    ) -> list[Played]:
        gate = asyncio.Semaphore(concurrency)
        taken = {who: 0 for who in Who}

        def person_for(who: Who) -> Person | None:
            if who is Who.ANONYMOUS:
                return None
            found = people[who][taken[who] % len(people[who])]
            taken[who] += 1
            return found

        async def one(path: Path, person: Person | None) -> Played:
            async with gate:
                played = Played(path)
                try:
                    await self._one(played, person)
                except (Stuck, httpx.HTTPError) as exc:
                    played.problem = str(exc) or type(exc).__name__
                on_done(played)
                return played

        return list(await asyncio.gather(*(one(p, person_for(p.who)) for p in paths)))

    async def _one(self, played: Played, person: Person | None) -> None:
        path = played.path
        village = person.village_code if person else f"{self._s.district}052001"
        submitter_area = village if path.submitter == "facilitator" else self._s.district
        response = await submit(
            self._http,
            f"{self._s.intake_url}/v1/complaints",
            _submission(path, person, village),
            {
                **self._auth(path.submitter, submitter_area),
                "Idempotency-Key": f"demo-{uuid.uuid4()}",
            },
        )
        if response.status_code != 202:
            raise Stuck(f"submission refused: {response.status_code} {_rules(response)}")
        created = response.json()
        played.complaint_id, played.ticket = created["complaint_id"], created["ticket_number"]
        played.tracking_code = created["tracking_code"]
        played.village = village
        if person and path.contact is Contact.PHONE:
            played.phone = person.e164
        if person and path.contact is Contact.EMAIL:
            played.email = person.email
        for index, move in enumerate(path.moves):
            await self._at(
                played, move.at_step, self._s.sla_wait_seconds if move.after_sla else None
            )
            if move.action == "lapor":
                await self._answer_in_lapor(played, move)
            elif move.action == "webhook":
                await self._answer_by_system(played, move)
            elif move.action == "answer_link":
                await self._answer_on_link(played, move)
            else:
                await self._act(played, move, index, village)
        final = await self._at(played, path.end_step)
        played.step, played.outcome = final["step"], final["outcome"]
        played.timeline = final.get("timeline") or []

    async def _read(self, played: Played) -> dict[str, Any]:
        response = await self._http.get(
            f"{self._s.intake_url}/v1/complaints/{played.complaint_id}",
            headers=self._auth("manager", self._s.district),
        )
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    async def _at(self, played: Played, step: str, timeout: float | None = None) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + (timeout or self._s.step_timeout_seconds)
        while True:
            complaint = await self._read(played)
            played.step, played.outcome = complaint["step"], complaint["outcome"]
            if complaint["step"] == step:
                return complaint
            if asyncio.get_running_loop().time() > deadline:
                raise Stuck(f"waited for {step}, still at {complaint['step']}")
            await asyncio.sleep(0.5)

    async def _act(self, played: Played, move: Move, index: int, village: str) -> None:
        area = village if move.local else self._s.district
        body = dict(move.body)
        if move.action == "feedback":
            body["visited_on"] = date.today().isoformat()
        deadline = asyncio.get_running_loop().time() + self._s.step_timeout_seconds
        attempt = 1
        while True:
            response = await self._http.post(
                f"{self._s.intake_url}/v1/complaints/{played.complaint_id}/{move.action}",
                json=body,
                headers={
                    **self._auth(move.role, area),
                    "Idempotency-Key": f"demo-{played.complaint_id}-{index}-{attempt}",
                },
            )
            if response.status_code < 300:
                return
            if (
                response.status_code not in RETRY_STATUSES
                or asyncio.get_running_loop().time() > deadline
            ):
                raise Stuck(
                    f"{move.action} at {move.at_step}: {response.status_code} {_rules(response)}"
                )
            if response.status_code != UNAVAILABLE:
                attempt += 1  # refused, nothing done: the next try is a new request
            await asyncio.sleep(retry_delay(response))

    async def _answer_in_lapor(self, played: Played, move: Move) -> None:
        """The agency answers in LAPOR!: find the report the notifier filed for the current
        referral, move it; the notifier's poller turns the status into the answer."""
        deadline = asyncio.get_running_loop().time() + self._s.step_timeout_seconds
        while True:
            complaint = await self._read(played)
            referral = complaint["referral_id"]
            tracking = await self._tracking_id(referral) if referral else None
            if tracking:
                break
            if asyncio.get_running_loop().time() > deadline:
                raise Stuck("the referral was never filed in LAPOR!")
            await asyncio.sleep(0.5)
        moved = await self._http.put(
            f"{self._s.lapor_url}/_control/reports/{tracking}", json=move.body
        )
        moved.raise_for_status()

    async def _tracking_id(self, referral_id: str) -> str | None:
        for delivery in await self._deliveries(referral_id):
            if delivery["channel"] == "lapor" and delivery["external_ref"]:
                ref: str = delivery["external_ref"]
                return ref
        return None

    async def _deliveries(self, referral_id: str) -> list[dict[str, Any]]:
        response = await self._http.get(
            f"{self._s.notifier_url}/v1/deliveries",
            params={"referral_id": referral_id},
            headers=self._auth("manager", self._s.district),
        )
        if response.status_code == 404:  # the notifier has not taken the referral in yet
            return []
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def _current_referral(self, played: Played, ready: Any, what: str) -> tuple[str, Any]:
        """Wait until ``ready(referral_id)`` finds what the program received (not None)."""
        deadline = asyncio.get_running_loop().time() + self._s.step_timeout_seconds
        while True:
            referral = (await self._read(played))["referral_id"]
            found = await ready(referral) if referral else None
            if found is not None:
                return referral, found
            if asyncio.get_running_loop().time() > deadline:
                raise Stuck(what)
            await asyncio.sleep(0.5)

    async def _answer_by_system(self, played: Played, move: Move) -> None:
        """The program's own system answers: the webhook receiver stand-in, which verified the
        signed referral, calls intake's callback for it, signed with the program's key."""

        async def verified(referral_id: str) -> bool | None:
            response = await self._http.get(f"{self._s.webhook_receiver_url}/_received")
            response.raise_for_status()
            got = any(r["verified"] and r["referral_id"] == referral_id for r in response.json())
            return True if got else None

        referral, _ = await self._current_referral(
            played, verified, "the program's system never received the referral"
        )
        answered = await self._http.post(
            f"{self._s.webhook_receiver_url}/_control/referrals/{referral}/answer",
            json=move.body,
        )
        answered.raise_for_status()
        if answered.json()["status"] != 200:
            raise Stuck(f"intake refused the signed callback: {answered.json()['status']}")

    async def _answer_on_link(self, played: Played, move: Move) -> None:
        """The program manager opens the answer link from the email they received (at the SMTP
        sink) and submits the page's form."""

        async def link_in_mailbox(referral_id: str) -> str | None:
            sent = {
                d["request_id"]
                for d in await self._deliveries(referral_id)
                if d["channel"] == "email" and d["status"] == "delivered"
            }
            if not sent:
                return None
            response = await self._http.get(f"{self._s.smtp_sink_url}/_received")
            response.raise_for_status()
            for mail in response.json():
                found = ANSWER_LINK.search(mail["text"])
                if mail["message_id"] in sent and found:
                    return found.group(0)
            return None

        _, link = await self._current_referral(
            played, link_in_mailbox, "no answer link arrived in the program manager's mailbox"
        )
        page = await self._http.get(link)
        if page.status_code != 200 or (played.ticket or "") not in page.text:
            raise Stuck(f"the answer link's page did not show the referral: {page.status_code}")
        submitted = await self._http.post(link, data=move.body)
        if submitted.status_code != 200:
            raise Stuck(f"the answer link's form was refused: {submitted.status_code}")


def _submission(path: Path, person: Person | None, village: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": path.channel,
        "village_code": village,
        "category": path.category,
        "description": path.description,
    }
    if path.program_code:
        body["program_code"] = path.program_code
    if person is None:
        body["anonymous"] = True
    else:
        body["complainant"] = {"nik": person.nik, "name": person.name, "sex": person.sex}
        if path.contact is Contact.PHONE:
            body["complainant"]["phone"] = person.phone
        elif path.contact is Contact.EMAIL:
            body["complainant"]["email"] = person.email
    return body


def _rules(response: httpx.Response) -> str:
    """The refused fields and rules of a problem answer (names only, never values)."""
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return ""
    return ", ".join(f"{e.get('field')}:{e.get('rule')}" for e in errors)
