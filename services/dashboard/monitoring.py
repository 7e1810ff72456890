"""The monitoring cycle's storage and schedule: instruments, quarterly rounds (opened on
schedule, pre-filled from the read model and the registry's aggregates), the way up of rounds
and monthly reports (every version kept), the quarterly summary, and reminders through the
notifier's staff digests."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from services.dashboard.documents import ReportContent, to_pdf, to_xlsx
from services.dashboard.domain import monitoring as rules
from services.dashboard.domain.monitoring import AnsweredRound, Relation, Status
from services.dashboard.domain.periods import Period, last_completed
from services.dashboard.domain.scope import LEVEL_NAMES, place_name
from services.dashboard.domain.suppression import suppress_column
from services.dashboard.figures import JAKARTA, LATE
from services.dashboard.settings import DashboardSettings
from slrt import outbox
from slrt.contracts.events import NotificationRequested
from slrt.contracts.vocabulary import NotificationKind
from slrt.db import Connection
from slrt.errors import NotFound
from slrt.stopping import every

log = logging.getLogger(__name__)

SOURCE = "/slrt/dashboard"
REMINDER_TEMPLATE = "me_due_reminder"
FACILITATOR_STEPS = ("returned_for_correction", "awaiting_information", "feedback")
"""Steps where a complaint waits for its facilitator (correct a capture, ask the household,
tell the household the outcome): such a complaint past its promised date is an overdue task."""


# --- instruments -----------------------------------------------------------------------------


async def ensure_national(conn: Connection) -> None:
    """Setnas's questionnaire, version 1, if there is none yet."""
    await conn.execute(
        "INSERT INTO instruments (area, version, sections, created_by) "
        "VALUES ('', 1, $1, 'system') ON CONFLICT DO NOTHING",
        rules.NATIONAL_INSTRUMENT,
    )


async def latest_instruments(
    conn: Connection, area: str
) -> dict[str, tuple[int, list[dict[str, Any]]]]:
    """The newest version of each instrument an area's questionnaire carries."""
    await ensure_national(conn)
    rows = await conn.fetch(
        "SELECT DISTINCT ON (area) area, version, sections FROM instruments "
        "WHERE area = ANY($1::text[]) ORDER BY area, version DESC",
        rules.ancestry(area),
    )
    return {r["area"]: (r["version"], r["sections"]) for r in rows}


async def save_instrument(conn: Connection, area: str, sections: Any, by: str) -> int:
    """A new version of ``area``'s instrument (Setnas's whole questionnaire at ``""``, a
    province's or district's own questions otherwise)."""
    checked = rules.check_instrument(sections, national=area == "")
    await ensure_national(conn)
    version: int = await conn.fetchval(
        "INSERT INTO instruments (area, version, sections, created_by) "
        "SELECT $1, coalesce(max(version), 0) + 1, $2, $3 FROM instruments WHERE area = $1 "
        "RETURNING version",
        area,
        checked,
        by,
    )
    return version


# --- rounds ----------------------------------------------------------------------------------


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), JAKARTA)


async def prefill(conn: Connection, area: str, period: Period) -> dict[str, int]:
    """Facilitator-activity figures of the quarter from the read model. ``registry_updates``
    comes from the registry's aggregates, read with an organiser's token (``registry_prefill``)."""
    start, end = _midnight(period.start), _midnight(period.end + timedelta(days=1))
    visits = await conn.fetchval(
        "SELECT count(*) FROM transitions t JOIN complaint_facts c USING (complaint_id) "
        "WHERE c.place_code LIKE $1 AND t.actor_role = 'facilitator' AND t.at >= $2 "
        "AND t.at < $3",
        area + "%",
        start,
        end,
    )
    captured = await conn.fetchval(
        "SELECT count(*) FROM complaint_facts c WHERE c.place_code LIKE $1 "
        "AND c.channel = 'facilitator_visit' AND c.received_at >= $2 AND c.received_at < $3",
        area + "%",
        start,
        end,
    )
    overdue_sql = (
        "SELECT count(*) FROM complaint_facts c WHERE c.place_code LIKE $2 AND c.open "  # noqa: S608
        "AND c.step = ANY($3::text[]) AND " + LATE
    )
    overdue = await conn.fetchval(
        overdue_sql,
        period.end + timedelta(days=1),
        area + "%",
        list(FACILITATOR_STEPS),
    )
    return {"visits_done": visits, "captured_at_visits": captured, "tasks_overdue": overdue}


def registry_updates(overview: dict[str, Any]) -> int | None:
    """Pre-list entries and change proposals recorded in the area (all statuses); None when a
    count is hidden."""
    counts = [row.get("count") for row in overview.get("proposals", [])]
    if any(not isinstance(c, int) for c in counts):
        return None
    return sum(c for c in counts if isinstance(c, int))


async def open_round(conn: Connection, area: str, period: Period, by: str) -> uuid.UUID | None:
    """Open ``area``'s round of the quarter (None: it is open already)."""
    form = rules.assemble(await latest_instruments(conn, area))
    figures = await prefill(conn, area, period)
    answers = {
        q["key"]: figures[q["prefill"]]
        for q in rules.questions(form).values()
        if q.get("prefill") in figures
    }
    round_id = uuid.uuid4()
    opened: uuid.UUID | None = await conn.fetchval(
        """
        INSERT INTO monitoring_rounds (round_id, area, quarter_start, quarter_end, due_on, form,
                                       prefill, answers, opened_by, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
        ON CONFLICT (area, quarter_start) DO NOTHING RETURNING round_id
        """,
        round_id,
        area,
        period.start,
        period.end,
        rules.due_on(area, period.end),
        form,
        figures,
        answers,
        by,
    )
    return opened


async def open_due_rounds(
    pool: asyncpg.Pool,
    areas: list[str],
    today: date,
    by: str = "system",
    period: Period | None = None,
) -> list[uuid.UUID]:
    """Open the rounds of the last completed quarter (or ``period``) that are not open yet,
    one per area; running it again opens nothing."""
    chosen = period or last_completed("quarterly", today)
    opened: list[uuid.UUID] = []
    for area in areas:
        async with pool.acquire() as conn, conn.transaction():
            round_id = await open_round(conn, area, chosen, by)
        if round_id is not None:
            opened.append(round_id)
    if opened:
        log.info("monitoring rounds opened", extra={"count": len(opened)})
    return opened


async def get_round(conn: Connection, round_id: uuid.UUID, lock: bool = False) -> dict[str, Any]:
    query = "SELECT * FROM monitoring_rounds WHERE round_id = $1"
    row = await conn.fetchrow(query + " FOR UPDATE" if lock else query, round_id)
    if row is None:
        raise NotFound(title="No such monitoring round")
    return dict(row)


async def act_on_round(
    conn: Connection,
    round_id: uuid.UUID,
    who: Relation | None,
    action: rules.Action,
    answers: dict[str, Any] | None,
    comment: str,
    by: str,
) -> dict[str, Any]:
    """Save, submit, return or accept a round (inside the caller's transaction); every
    submission, return and acceptance is kept as a version."""
    row = await get_round(conn, round_id, lock=True)
    status: Status = rules.next_status(row["status"], action, who, comment)
    merged = dict(row["answers"])
    if action in ("save", "submit") and answers is not None:
        merged.update(answers)
        merged = {k: v for k, v in merged.items() if v not in (None, "")}
    if action in ("save", "submit"):
        merged = rules.check_answers(row["form"], merged, complete=action == "submit")
    version = row["version"] + (action != "save")
    await conn.execute(
        """
        UPDATE monitoring_rounds SET status = $2, answers = $3, comment = $4, version = $5,
            submitted_at = CASE WHEN $2 = 'submitted' THEN now() ELSE submitted_at END,
            updated_at = now(), updated_by = $6
        WHERE round_id = $1
        """,
        round_id,
        status,
        merged,
        comment if action == "return" else row["comment"],
        version,
        by,
    )
    if action != "save":
        await conn.execute(
            "INSERT INTO monitoring_round_versions (round_id, version, status, answers, comment, "
            "by) VALUES ($1, $2, $3, $4, $5, $6)",
            round_id,
            version,
            status,
            merged,
            comment,
            by,
        )
    return await get_round(conn, round_id)


async def rounds_in(conn: Connection, area: str, period: Period) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT round_id, area, quarter_start, quarter_end, status, version, comment, prefill, "
        "answers, due_on, submitted_at, form FROM monitoring_rounds "
        "WHERE area LIKE $1 AND quarter_start = $2 ORDER BY area",
        area + "%",
        period.start,
    )
    return [dict(r) for r in rows]


async def summary(
    conn: Connection, area: str, period: Period, suppress: bool
) -> dict[str, Any] | None:
    """The quarter's answers in ``area`` by the area one level down (None: no round)."""
    found = await rounds_in(conn, area, period)
    if not found:
        return None
    form = rules.assemble(await latest_instruments(conn, area))
    answered = [AnsweredRound(r["area"], r["status"], r["answers"]) for r in found]
    result = rules.summarise(form, answered, area, suppress)
    result["rounds"] = found
    return result


# --- monthly reports on their way up --------------------------------------------------------


def report_document(row: dict[str, Any]) -> ReportContent:
    from services.dashboard.reports import TITLES

    level = LEVEL_NAMES[len(row["area"])][0]
    status = rules.STATUS_NAMES.get(row.get("status", "draft"), ("", ""))[0]
    cards = [(str(a), str(b)) for a, b in row["figures"]["cards"]]
    cards.append(("Status", f"{status} (versi {row.get('version', 0)})"))
    if row.get("return_comment"):
        cards.append(("Catatan pengembalian", row["return_comment"]))
    return ReportContent(
        title=f"{TITLES[row['kind']]} - {level} {place_name(row['area'])}",
        area_name=f"{place_name(row['area'])} ({row['area'] or 'nasional'})",
        period_label=Period(row["kind"], row["period_start"], row["period_end"]).label,
        cards=cards,
        tables=row["figures"]["tables"],
        narrative={k: row[k] for k in ("achievements", "problems", "recommendations")},
    )


def suppressed_rows(rows: list[list[str]]) -> list[list[str]]:
    """A CSV-shaped registry table with its count columns small-cell suppressed (reports
    travel upward)."""
    if len(rows) < 2:
        return rows
    body = [list(r) for r in rows[1:]]
    for col in range(1, len(rows[0])):
        values = [r[col] for r in body]
        if not all(str(v).isdigit() for v in values):
            continue
        shown = suppress_column([int(v) for v in values])
        for r, value in zip(body, shown, strict=True):
            r[col] = "<5" if value is None else str(value)
    return [list(rows[0]), *body]


async def children_reports(
    conn: Connection, area: str, kind: str, period_start: date, expected: list[str], today: date
) -> list[dict[str, Any]]:
    """The submissions one level below ``area`` for the period: the expected areas (the
    configured monitoring areas there) and any other that made one; which are late."""
    length = {0: 2, 2: 4}.get(len(area))
    if length is None:
        return []
    rows = await conn.fetch(
        "SELECT report_id, area, status, version, submitted_at, due_on, return_comment, "
        "recommendations FROM reports WHERE kind = $1 AND period_start = $2 AND area LIKE $3 "
        "AND length(area) = $4",
        kind,
        period_start,
        area + "%",
        length,
    )
    found = {r["area"]: dict(r) for r in rows}
    codes = sorted({a for a in expected if a.startswith(area) and len(a) == length} | set(found))
    out = []
    for code in codes:
        row = found.get(code)
        period_end = _period_end(kind, period_start)
        due = row["due_on"] if row else rules.due_on(code, period_end)
        submitted = (
            row["submitted_at"].astimezone(JAKARTA).date() if row and row["submitted_at"] else None
        )
        status = row["status"] if row else "missing"
        out.append(
            {
                "area": code,
                "area_name": place_name(code),
                "report_id": row["report_id"] if row else None,
                "status": status,
                "version": row["version"] if row else 0,
                "submitted_on": submitted,
                "due_on": due,
                "late": rules.is_late(status, due, submitted, today),
                "recommendations": row["recommendations"] if row else "",
            }
        )
    return out


def _period_end(kind: str, start: date) -> date:
    months = 1 if kind == "monthly" else 3
    index = start.month - 1 + months
    return date(start.year + index // 12, index % 12 + 1, 1) - timedelta(days=1)


def children_table(children: list[dict[str, Any]]) -> dict[str, Any]:
    """The submissions below, as a report table (the province's summary carries it)."""
    rows = [["Wilayah", "Status", "Versi", "Dikirim", "Batas waktu", "Terlambat", "Rekomendasi"]]
    for c in children:
        rows.append(
            [
                f"{c['area_name']} ({c['area']})",
                rules.STATUS_NAMES[c["status"]][0],
                str(c["version"]),
                str(c["submitted_on"] or "-"),
                str(c["due_on"]),
                "ya" if c["late"] else "tidak",
                c["recommendations"] or "-",
            ]
        )
    return {"name": "submissions", "title": "Laporan wilayah di bawahnya", "rows": rows}


def questionnaire_tables(found: dict[str, Any]) -> list[dict[str, Any]]:
    """The quarter's questionnaire summary as report tables (small cells always hidden: the
    report travels upward): rounds per area, and the areas choosing each closed answer."""
    numbers = sorted({k for c in found["children"].values() for k in c["numbers"]})
    areas = [["Wilayah", "Putaran dibuka", "Kuesioner terisi", *numbers]]
    for code, c in sorted(found["children"].items()):
        areas.append(
            [
                f"{place_name(code)} ({code})",
                str(c["rounds"]),
                str(c["answered"]),
                *(str(c["numbers"].get(k, "-")) for k in numbers),
            ]
        )
    answers = [["Pertanyaan", "Jawaban", "Jumlah wilayah"]]
    for q in found["closed"]:
        for label, count in q["counts"]:
            answers.append([q["text"], label, "<5" if count is None else str(count)])
    return [
        {"name": "questionnaire_areas", "title": "Kuesioner pemantauan per wilayah", "rows": areas},
        {"name": "questionnaire_answers", "title": "Jawaban kuesioner pemantauan", "rows": answers},
    ]


async def act_on_report(
    conn: Connection,
    report_id: uuid.UUID,
    who: Relation | None,
    action: rules.Action,
    comment: str,
    by: str,
    figures: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Submit, return or accept a report (inside the caller's transaction); ``figures``
    (refreshed on submission) replace the stored ones. Every step is kept as a version with
    its PDF and XLSX as they were."""
    row = await conn.fetchrow("SELECT * FROM reports WHERE report_id = $1 FOR UPDATE", report_id)
    if row is None:
        raise NotFound(title="No such report")
    status = rules.next_status(row["status"], action, who, comment)
    version = row["version"] + 1
    updated = {
        **dict(row),
        "status": status,
        "version": version,
        "figures": figures or row["figures"],
        "return_comment": comment if action == "return" else row["return_comment"],
    }
    document = report_document(updated)
    pdf, xlsx = to_pdf(document), to_xlsx(document)
    await conn.execute(
        """
        UPDATE reports SET status = $2, version = $3, figures = $4, return_comment = $5,
            pdf = $6, xlsx = $7,
            submitted_at = CASE WHEN $2 = 'submitted' THEN now() ELSE submitted_at END,
            updated_at = now(), updated_by = $8
        WHERE report_id = $1
        """,
        report_id,
        status,
        version,
        updated["figures"],
        updated["return_comment"],
        pdf,
        xlsx,
        by,
    )
    await conn.execute(
        "INSERT INTO report_versions (report_id, version, status, figures, narrative, comment, "
        "pdf, xlsx, by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        report_id,
        version,
        status,
        updated["figures"],
        {k: row[k] for k in ("achievements", "problems", "recommendations")},
        comment,
        pdf,
        xlsx,
        by,
    )
    return updated


# --- reminders through the notifier's digests ------------------------------------------------


async def send_reminders(
    pool: asyncpg.Pool, settings: DashboardSettings, today: date
) -> list[uuid.UUID]:
    """For every round and report still to be submitted (draft or returned) that is due within
    ``monitoring_reminder_days`` or overdue, ask the notifier to remind the area's organisers
    (``<role>:<area>`` for each of ``monitoring_reminder_roles``) — once per stage. They are
    staff reminders (kind ``reminder``, not breached), so the notifier gathers them into each
    person's daily digest."""
    soon = today + timedelta(days=settings.monitoring_reminder_days)
    sent: list[uuid.UUID] = []
    async with pool.acquire() as conn:
        due = await conn.fetch(
            "SELECT 'round' AS what, round_id AS id, area, quarter_start AS start, "
            "'quarterly' AS kind, due_on FROM monitoring_rounds "
            "WHERE status IN ('draft', 'returned') AND due_on <= $1 "
            "UNION ALL SELECT 'report', report_id, area, period_start, kind, due_on FROM reports "
            "WHERE status IN ('draft', 'returned') AND due_on <= $1",
            soon,
        )
    for row in due:
        stage = "overdue" if row["due_on"] < today else "due_soon"
        for role in settings.monitoring_reminder_roles:
            destination = f"{role}:{row['area']}" if row["area"] else role
            subject = f"{row['what']}:{row['id']}"
            async with pool.acquire() as conn, conn.transaction():
                fresh = await conn.fetchval(
                    "INSERT INTO monitoring_reminders (subject, stage, destination) "
                    "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING subject",
                    subject,
                    stage,
                    destination,
                )
                if fresh is None:
                    continue
                request = _reminder(settings, dict(row), stage, destination)
                await outbox.write(conn, request, source=SOURCE, subject=str(row["id"]))
            sent.append(request.request_id)
    return sent


def _reminder(
    settings: DashboardSettings, row: dict[str, Any], stage: str, destination: str
) -> NotificationRequested:
    what, area = row["what"], row["area"]
    if what == "round":
        quarter = rules.quarter_label(Period("quarterly", row["start"], row["start"]))
        label = f"Kuesioner pemantauan {quarter}"
        link = f"{settings.public_url}/monitoring/rounds/{row['id']}"
    else:
        label = (
            f"Laporan {'bulanan' if row['kind'] == 'monthly' else 'triwulan'} {row['start']:%Y-%m}"
        )
        link = f"{settings.public_url}/reports/{row['id']}"
    state = "terlambat" if stage == "overdue" else "jatuh tempo"
    ticket = f"{label} {place_name(area)} ({state} {row['due_on']})"
    return NotificationRequested(
        request_id=uuid.uuid5(row["id"], f"{stage}:{destination}"),
        complaint_id=None,
        kind=NotificationKind.REMINDER,
        destination=destination,
        template=REMINDER_TEMPLATE,
        params={
            "ticket": ticket,
            "task": label,
            "due_date": str(row["due_on"]),
            "area": area,
            "area_name": place_name(area),
            "page_url": link,
        },
        breached=False,
        place_code=area if len(area) >= 2 else None,
    )


async def schedule_loop(
    pool: asyncpg.Pool, settings: DashboardSettings, stop: asyncio.Event
) -> None:
    """Open the rounds that are due and send the reminders that are due, now and then."""
    zone = ZoneInfo(settings.timezone)

    async def one_pass() -> None:
        today = datetime.now(zone).date()
        if settings.monitoring_open_on_schedule:
            await open_due_rounds(pool, settings.monitoring_areas, today)
        await send_reminders(pool, settings, today)

    await every(
        stop,
        settings.report_check_seconds,
        one_pass,
        log=log,
        failed="monitoring schedule pass failed",
    )
