"""The demo as the oracle: after the week, every outward effect is checked against what each
complaint's path must have produced, and a complaint whose effects differ is not as expected.

- **messages** — the household received exactly the path's household messages
  (``Path.messages``, by template: the notifier's delivery record of each SMS or email names
  it) where its contact (``Path.contact``) takes them: with a phone, the SMS gateway stand-in
  got them for the complainant's number, each in Bahasa Indonesia, plain GSM-7 ASCII, at most
  160 characters, with the ticket, and no household email reached the SMTP sink; with an email
  and no phone, the SMTP sink got them as emails to that address (Bahasa Indonesia, the
  ticket), and no SMS went out; with neither, nothing reached either stand-in, each household
  message is recorded ``handed_to_facilitator`` and as many facilitator's tasks
  (``household_via_facilitator`` to ``facilitator:<village>``) were delivered; an anonymous
  complaint pushes nothing;
- **answers** — each referral went where its program's channel takes it (``Path.referrals``):
  one report in LAPOR! (in the status the agency left it), one submission in SIKS-NG (in the
  status Pokja Data Terpadu left it), one verified delivery at the
  program's system (webhook receiver) answered on the signed callback, or one answer-link
  email at the SMTP sink whose link was used once; the program managers' answers on the
  complaint's timeline are exactly the path's;
- **tracking** — the public tracking API shows the ticket's final step and outcome;
- **dashboard** — what the dashboard's CSV tables (``/dashboard/{table}.csv``: places,
  category, program, channel, funnel, agencies) gained during the play equals what the demo
  played: complaints, open and closed; by category, program, channel; the steps each complaint
  reached; referrals, answered, no response, accepted, rejected per destination; and on the
  planning view (``/planning/program_gaps.csv``, the registry's needs figures) the needs each
  program-need complaint about a registered household recorded: recorded needs and needs not
  covered per program. A figure that differs flags every complaint counted in it.

Effects arrive asynchronously (the notifier sends, the dashboard folds), so the checks are
repeated until all agree or ``DemoSettings.effects_wait_seconds`` have passed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from services.dashboard.domain.facts import FUNNEL
from services.dashboard.domain.view import label
from slrt_dev.demo.paths import Contact, Referral, Via, Who
from slrt_dev.demo.played import Played
from slrt_dev.demo.settings import DemoSettings
from slrt_dev.issuer import DevIssuer

SMS_MAX = 160
INDONESIAN = re.compile(
    r"\b(anda|pengaduan|keluhan|tiket|nomor|dan|yang|untuk|telah|sudah|akan|dengan|dari|di)\b",
    re.IGNORECASE,
)
"""Common Bahasa Indonesia words: a message with none of them is not in Bahasa Indonesia."""
LAPOR_STATUS = {
    "accepted": "selesai",
    "rejected": "ditolak",
    "under_review": "tindak_lanjut",
    "not_responsible": "bukan_kewenangan",
}
SIKS_NG_STATUS = {
    "accepted": "disetujui",
    "rejected": "ditolak",
    "under_review": "diverifikasi",
    "not_responsible": "bukan_kewenangan",
}
DELIVERY_CHANNEL = {
    Via.LAPOR: "lapor",
    Via.WEBHOOK: "webhook",
    Via.ANSWER_LINK: "email",
    Via.SIKS_NG: "siks_ng",
}
ANSWER_VIA = {Via.WEBHOOK: "callback", Via.ANSWER_LINK: "answer_link"}
"""How intake records the answers that come to it (LAPOR!'s and SIKS-NG's come through the
notifier)."""

HANDED_OVER = "handed_to_facilitator"
"""The status of a household message the notifier handed to the village facilitator."""
FACILITATOR_TEMPLATE = "household_via_facilitator"
"""The facilitator's task that carries a household message (``facilitator_task`` delivery)."""

TABLES = ("places", "category", "program", "channel", "funnel", "agencies")
PLANNING_TABLES = ("program_gaps",)
"""The planning view's tables the demo checks (``/planning/{table}.csv``): the needs that the
program-need complaints recorded in the registry, per program."""
Figure = tuple[str, str, str]
"""A dashboard figure: table, row, column (English labels)."""
Figures = dict[Figure, int]
AlsoPlayed = Callable[[], Awaitable[Counter[Figure]]]
"""The figures of complaints played beside the week (read again each round of checks)."""
"""(table, row, column) → value, from the dashboard's and the planning view's CSV files
(English labels)."""
TOTAL = "(all places)"


class Oracle:
    def __init__(
        self,
        settings: DemoSettings,
        issuer: DevIssuer,
        http: httpx.AsyncClient,
        conn: asyncpg.Connection,
    ) -> None:
        self._s = settings
        self._issuer = issuer
        self._http = http
        self._conn = conn
        self._db = asyncio.Lock()

    def _auth(self, area: str | None = None) -> dict[str, str]:
        area = self._s.district if area is None else area
        token = self._issuer.token(f"demo-oracle-{area or 'national'}", ["manager"], area)
        return {"Authorization": f"Bearer {token}"}

    # --- the dashboard -------------------------------------------------------------------------

    async def figures(self) -> Figures:
        """Every figure of the district's dashboard and planning tables now."""
        found: Figures = {}
        pages = [("dashboard", t) for t in TABLES] + [("planning", t) for t in PLANNING_TABLES]
        for page, table in pages:
            response = await self._http.get(
                f"{self._s.dashboard_url}/{page}/{table}.csv",
                params={"area": self._s.district, "lang": "en"},
                headers=self._auth(),
            )
            if response.status_code == 404:  # not shown yet: no place has a complaint
                continue
            response.raise_for_status()
            rows = list(csv.reader(io.StringIO(response.text)))
            header, body = rows[0], rows[1:]
            for row in body:
                for column, value in zip(header[1:], row[1:], strict=True):
                    if re.fullmatch(r"-?\d+", value):
                        name = TOTAL if table == "places" else row[0]
                        key = (table, name, column)
                        found[key] = found.get(key, 0) + int(value)
        return found

    # --- one round of checks -------------------------------------------------------------------

    async def check(
        self, played: list[Played], before: Figures, also: AlsoPlayed | None = None
    ) -> list[str]:
        """Check every submitted complaint's effects until all agree or the wait is over;
        returns the dashboard figures that differ (each also flagged on its complaints).
        ``also`` gives, each round, the figures of complaints played beside the week."""
        submitted = [p for p in played if p.complaint_id]
        deadline = asyncio.get_running_loop().time() + self._s.effects_wait_seconds
        while True:
            figures_wrong = await self._round(submitted, before, also)
            settled = not figures_wrong and not any(any(p.wrong.values()) for p in submitted)
            if settled or asyncio.get_running_loop().time() > deadline:
                return figures_wrong
            await asyncio.sleep(1.0)

    async def _round(
        self, played: list[Played], before: Figures, also: AlsoPlayed | None
    ) -> list[str]:
        sms = await self._json(f"{self._s.sms_gateway_url}/_received")
        mail = await self._json(f"{self._s.smtp_sink_url}/_received")
        lapor = await self._json(f"{self._s.lapor_url}/_received")
        webhooks = await self._json(f"{self._s.webhook_receiver_url}/_received")
        siks_ng = await self._json(f"{self._s.siks_ng_url}/_received")
        outside = Outside(sms, mail, lapor, webhooks, siks_ng)
        gate = asyncio.Semaphore(8)

        async def one(p: Played) -> None:
            async with gate:
                p.wrong, p.seen = {}, {}
                try:
                    deliveries = await self._deliveries(p)
                    complaint = await self._complaint(p)
                    timeline = complaint.get("timeline") or []
                    if p.problem:  # the play stopped early: count where it is now
                        p.step, p.outcome = complaint["step"], complaint["outcome"]
                        p.timeline = timeline
                    recorded = await self._answers(p)
                    messages(p, deliveries, outside)
                    answers(p, deliveries, outside, recorded, timeline)
                    await self._tracking(p)
                except httpx.HTTPError as exc:
                    p.flag("answers", f"could not check: {type(exc).__name__} {exc}")

        await asyncio.gather(*(one(p) for p in played))
        beside = await also() if also is not None else None
        now = await self.figures()
        return dashboard(played, before, now, beside)

    async def _json(self, url: str) -> Any:
        response = await self._http.get(url)
        response.raise_for_status()
        return response.json()

    async def _deliveries(self, p: Played) -> list[dict[str, Any]]:
        response = await self._http.get(
            f"{self._s.notifier_url}/v1/deliveries",
            params={"complaint_id": p.complaint_id},
            # The workflow records staff and household messages without a place, which only
            # national staff may read; the district's own view would miss them.
            headers=self._auth(area=""),
        )
        if response.status_code == 404:
            return []
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return sorted(items, key=lambda d: d["created_at"])

    async def _answers(self, p: Played) -> list[asyncpg.Record]:
        """The answers intake recorded for the complaint's referrals (callback, answer link)."""
        async with self._db:  # one connection: one query at a time
            return await self._recorded(p)

    async def _recorded(self, p: Played) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._conn.fetch(
            "SELECT referral_id::text AS referral_id, decision, via FROM intake.referral_answers "
            "WHERE complaint_id = $1 ORDER BY answered_at",
            p.complaint_id,
        )
        return rows

    async def _complaint(self, p: Played) -> dict[str, Any]:
        response = await self._http.get(
            f"{self._s.intake_url}/v1/complaints/{p.complaint_id}", headers=self._auth()
        )
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    async def _tracking(self, p: Played) -> None:
        response = await self._http.post(
            f"{self._s.intake_url}/v1/tracking",
            json={"ticket_number": p.ticket, "verifier": p.tracking_code},
        )
        if response.status_code != 200:
            p.flag("tracking", f"tracking answered {response.status_code}")
            return
        shown = response.json()
        p.seen["tracking"] = f"{shown['current_step']} ({shown['outcome'] or '-'})"
        if shown["current_step"] != p.path.end_step or shown["outcome"] != p.path.end_outcome:
            p.flag(
                "tracking",
                f"tracking shows {shown['current_step']} ({shown['outcome']}), "
                f"expected {p.path.end_step} ({p.path.end_outcome})",
            )


@dataclass(frozen=True)
class Outside:
    """What the stand-ins of the outside world received (their ``/_received`` lists)."""

    sms: list[dict[str, Any]] = field(default_factory=list)
    mail: list[dict[str, Any]] = field(default_factory=list)
    lapor: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    siks_ng: list[dict[str, Any]] = field(default_factory=list)


def _short(templates: Iterable[str]) -> str:
    return ", ".join(t.removeprefix("household_") for t in templates) or "none"


def messages(p: Played, deliveries: list[dict[str, Any]], outside: Outside) -> None:
    """The household's messages against ``p.path.messages``, where the path's contact takes
    them: SMS to the complainant's number, emails to their address, or handed to the village
    facilitator (nothing pushed to the household then, and the facilitator's tasks went out)."""
    household = {d["request_id"]: d for d in deliveries if d["kind"] == "household_message"}
    expected = Counter(m.value for m in p.path.messages)
    if p.path.who is Who.ANONYMOUS:
        got: Counter[str] = Counter(d["template"] for d in household.values())
        p.seen["messages"] = "none (anonymous)" if not got else _short(got.elements())
        if got:
            p.flag("messages", f"anonymous, yet household messages pushed: {_short(got)}")
        return
    texts = [m for m in outside.sms if m["reference"] in household or m["to"] == p.phone]
    mails = [m for m in outside.mail if m["message_id"] in household]
    if p.path.contact is Contact.PHONE:
        _arrived(p, "SMS", [(m["reference"], m) for m in texts], household, expected)
        if mails:  # the path's complainant gives no email address
            p.flag("messages", f"{len(mails)} household email(s) without an address given")
    elif p.path.contact is Contact.EMAIL:
        to_them = [m for m in mails if p.email and m["to"] == p.email]
        _arrived(p, "email", [(m["message_id"], m) for m in to_them], household, expected)
        if len(to_them) != len(mails):
            p.flag("messages", f"{len(mails) - len(to_them)} household email(s) to another address")
        if texts:
            p.flag("messages", f"{len(texts)} SMS without a phone given")
    else:
        _handed_over(p, household, deliveries, expected)
        if texts or mails:
            p.flag("messages", f"{len(texts)} SMS, {len(mails)} email(s) without any contact")


def _arrived(
    p: Played,
    how: str,
    received: list[tuple[str, dict[str, Any]]],
    household: dict[str, dict[str, Any]],
    expected: Counter[str],
) -> None:
    """``received`` (the delivery's request id, the SMS or email) are exactly the expected
    templates, each with the ticket, in Bahasa Indonesia; an SMS also ≤160 ASCII characters."""
    got = Counter(
        household[ref]["template"] if ref in household else "unrecorded" for ref, _ in received
    )
    shown = _short(sorted(got.elements()))
    p.seen["messages"] = shown if how == "SMS" else f"{how}: {shown}"
    if got != expected:
        missing, extra = expected - got, got - expected
        parts = []
        if missing:
            parts.append(f"missing {_short(missing.elements())}")
        if extra:
            parts.append(f"unexpected {_short(extra.elements())}")
        p.flag("messages", f"{how} " + "; ".join(parts))
    for ref, m in received:
        name = household.get(ref, {}).get("template", "unrecorded").removeprefix("household_")
        text: str = m["text"]
        if not p.ticket or p.ticket not in text:
            p.flag("messages", f"{name}: no ticket {p.ticket}")
        if how == "SMS" and (len(text) > SMS_MAX or not text.isascii()):
            p.flag("messages", f"{name}: not ≤{SMS_MAX} ASCII characters")
        if not INDONESIAN.search(text):
            p.flag("messages", f"{name}: not in Bahasa Indonesia")


def _handed_over(
    p: Played,
    household: dict[str, dict[str, Any]],
    deliveries: list[dict[str, Any]],
    expected: Counter[str],
) -> None:
    """No phone, no email: every household message is recorded ``handed_to_facilitator`` (not
    failed) and as many facilitator's tasks went out to the village's facilitator."""
    got = Counter(d["template"] for d in household.values())
    handed = [d for d in household.values() if d["status"] == HANDED_OVER]
    tasks = [
        d
        for d in deliveries
        if d["kind"] == "facilitator_task"
        and d["template"] == FACILITATOR_TEMPLATE
        # the village's facilitator: the directory's person (``addressed_to`` keeps the
        # workflow's address), else the contacts file's mailbox
        and (d.get("addressed_to") or d["destination"]) == f"facilitator:{p.village}"
    ]
    sent = [d for d in tasks if d["status"] == "delivered"]
    p.seen["messages"] = (
        f"facilitator: {_short(sorted(got.elements()))} (tasks {len(sent)}/{len(tasks)} sent)"
    )
    if got != expected:
        missing, extra = expected - got, got - expected
        parts = []
        if missing:
            parts.append(f"missing {_short(missing.elements())}")
        if extra:
            parts.append(f"unexpected {_short(extra.elements())}")
        p.flag("messages", "recorded " + "; ".join(parts))
    for d in household.values():
        if d["status"] != HANDED_OVER:
            name = d["template"].removeprefix("household_")
            p.flag("messages", f"{name}: {d['status']}, not {HANDED_OVER}")
    if len(sent) != len(handed) or len(tasks) != len(handed):
        states = ", ".join(d["status"] for d in tasks) or "none"
        p.flag(
            "messages",
            f"{len(handed)} handed over, facilitator's tasks: {states}",
        )


def answers(
    p: Played,
    deliveries: list[dict[str, Any]],
    outside: Outside,
    recorded: list[Any],
    timeline: list[dict[str, Any]],
) -> None:
    """Each referral where its channel takes it, once, and the program managers' answers."""
    referrals: dict[str, list[dict[str, Any]]] = {}
    for d in deliveries:
        if d["kind"] in ("referral", "answer_link") and d["referral_id"]:
            referrals.setdefault(d["referral_id"], []).append(d)
    p.referral_ids = list(referrals)
    expected = p.path.referrals
    if len(referrals) != len(expected):
        p.flag("answers", f"{len(referrals)} referral(s) sent, expected {len(expected)}")
    seen = []
    for (referral_id, sent), wanted in zip(referrals.items(), expected, strict=False):
        seen.append(_one_referral(p, referral_id, sent, wanted, outside, recorded))
    given = [
        e["decision_code"]
        for e in timeline
        if e.get("actor_role") == "program_manager" and e.get("decision_code")
    ]
    wanted_answers = [a for r in expected for a in r.answers]
    if given != wanted_answers:
        p.flag("answers", f"answers on the timeline {given}, expected {wanted_answers}")
    p.seen["answers"] = "; ".join(seen) or "no referral"


def _one_referral(
    p: Played,
    referral_id: str,
    sent: list[dict[str, Any]],
    wanted: Referral,
    outside: Outside,
    recorded: list[Any],
) -> str:
    channel = DELIVERY_CHANNEL[wanted.via]
    delivered = [d for d in sent if d["channel"] == channel and d["status"] == "delivered"]
    if not delivered:
        states = ", ".join(f"{d['channel']}:{d['status']}" for d in sent)
        p.flag("answers", f"{wanted.program} not delivered by {channel} ({states})")
        return f"{wanted.program}: not delivered"
    answer = wanted.decision or "no answer"
    if wanted.via is Via.LAPOR:
        reports = [r for r in outside.lapor if r["referensi_eksternal"] == referral_id]
        if len(reports) != 1:
            p.flag("answers", f"{wanted.program}: {len(reports)} LAPOR! reports, expected 1")
        elif wanted.decision and reports[0]["status"] != LAPOR_STATUS[wanted.decision]:
            p.flag("answers", f"{wanted.program}: LAPOR! report is {reports[0]['status']}")
        return f"{wanted.program} LAPOR! ×{len(reports)} → {answer}"
    if wanted.via is Via.SIKS_NG:
        filed = [s for s in outside.siks_ng if s["referensi"] == referral_id]
        if len(filed) != 1:
            p.flag("answers", f"{wanted.program}: {len(filed)} SIKS-NG submissions, expected 1")
        elif wanted.decision and filed[0]["status"] != SIKS_NG_STATUS[wanted.decision]:
            p.flag("answers", f"{wanted.program}: SIKS-NG submission is {filed[0]['status']}")
        return f"{wanted.program} SIKS-NG ×{len(filed)} → {answer}"
    if wanted.via is Via.WEBHOOK:
        ids = {w["webhook_id"] for w in outside.webhooks if w["referral_id"] == referral_id}
        verified = {
            w["webhook_id"]
            for w in outside.webhooks
            if w["referral_id"] == referral_id and w["verified"]
        }
        if len(verified) != 1 or ids != verified:
            p.flag(
                "answers",
                f"{wanted.program}: {len(verified)} verified of {len(ids)} webhook(s), expected 1",
            )
        used = "webhook"
    else:
        mails = [m for m in outside.mail if m["message_id"] in {d["request_id"] for d in sent}]
        if len(mails) != 1:
            p.flag("answers", f"{wanted.program}: {len(mails)} answer-link emails, expected 1")
        used = "link"
    by_intake = [r["decision"] for r in recorded if r["referral_id"] == referral_id]
    via = {r["via"] for r in recorded if r["referral_id"] == referral_id}
    if by_intake != list(wanted.answers) or (by_intake and via != {ANSWER_VIA[wanted.via]}):
        p.flag(
            "answers",
            f"{wanted.program}: intake recorded {by_intake} via {sorted(via)}, "
            f"expected {list(wanted.answers)} via {ANSWER_VIA[wanted.via]} (each used once)",
        )
    return f"{wanted.program} {used} ×{len(by_intake)} → {answer}"


# --- the dashboard ------------------------------------------------------------------------------


def complaint_contributions(
    *, category: str, program: str | None, channel: str, step: str, timeline: list[dict[str, Any]]
) -> Counter[Figure]:
    """The figures any complaint counts in by its kind, where it is and the steps it reached."""
    counts: Counter[Figure] = Counter()
    closed = step in ("closed", "withdrawn")
    counts[("places", TOTAL, "Complaints")] += 1
    counts[("places", TOTAL, "Closed" if closed else "Open")] += 1
    for table, key in (("category", category), ("program", program or "-"), ("channel", channel)):
        counts[(table, label(key, "en"), "Complaints")] += 1
        if not closed:
            counts[(table, label(key, "en"), "Open")] += 1
    reached = {"received"} | {e["to_step"] for e in timeline}
    for step_ in FUNNEL:
        if step_.value in reached:
            counts[("funnel", label(step_.value, "en"), "Complaints")] += 1
    return counts


def contributions(p: Played) -> Counter[Figure]:
    """The dashboard figures one played complaint counts in."""
    path = p.path
    counts = complaint_contributions(
        category=path.category,
        program=path.final_program,
        channel=path.channel,
        step=p.step or path.end_step,  # where it is, as played
        timeline=p.timeline,
    )
    for referral in path.referrals:
        row = referral.program
        counts[("agencies", row, "Referrals")] += 1
        if referral.answers:
            counts[("agencies", row, "Answered")] += 1
        if referral.expired:
            counts[("agencies", row, "No response")] += 1
        if referral.decision == "accepted":
            counts[("agencies", row, "Accepted")] += 1
        if referral.decision == "rejected":
            counts[("agencies", row, "Rejected")] += 1
    if path.category == "program_need" and path.who is Who.REGISTERED and path.final_program:
        # The registry check recorded the household's need for the program (once); the
        # household does not receive the program, so the need is not covered yet.
        counts[("program_gaps", path.final_program, "Recorded needs")] += 1
        counts[("program_gaps", path.final_program, "Needs not covered")] += 1
    return counts


CHECKED_COLUMNS = {
    "Complaints",
    "Open",
    "Closed",
    "Referrals",
    "Answered",
    "No response",
    "Accepted",
    "Rejected",
    "Recorded needs",
    "Needs not covered",
}


def dashboard(
    played: list[Played], before: Figures, now: Figures, also: Counter[Figure] | None = None
) -> list[str]:
    """Compare what the dashboard gained with what was played (and ``also``: the figures of
    complaints played beside the week, e.g. the handover's); flag the complaints counted in
    each figure that differs. Returns the differing figures."""
    expected: Counter[Figure] = Counter(also or {})
    counted_in: dict[tuple[str, str, str], list[Played]] = {}
    for p in played:
        for key, n in contributions(p).items():
            expected[key] += n
            counted_in.setdefault(key, []).append(p)
    keys = {k for k in (*before, *now) if k[2] in CHECKED_COLUMNS} | set(expected)
    wrong = []
    for key in sorted(keys):
        gained = now.get(key, 0) - before.get(key, 0)
        if gained != expected.get(key, 0):
            table, row, column = key
            text = f"{table} {row} {column}: dashboard +{gained}, played {expected.get(key, 0)}"
            wrong.append(text)
            for p in counted_in.get(key, []):
                if f"{table} {row}" not in p.wrong.get("dashboard", []):
                    p.flag("dashboard", f"{table} {row}")
    for p in played:
        differs = p.wrong.get("dashboard")
        p.seen["dashboard"] = "agrees" if not differs else "differs: " + ", ".join(differs)
    return wrong
