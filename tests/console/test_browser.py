"""One complaint through every screen of the staff console, in headless Chromium, on the real
services (intake, registry, routing, notifier and the console, each its own process on the real
stack; the SMS gateway and SMTP stand-ins): the front office registers a walk-in (NIK lookup,
village picker, routing explained) and the household gets its ticket by SMS; the back office
finds it in its queue, a refusal of the API is shown beside the field, then it proposes the
referral; the manager approves; the program manager answers; the facilitator records the
feedback; the complaint is closed. Beside it: an information request answered from the
district's FAQ, and a facilitator's capture approved in the supervisor's review. Then the staff
directory (the services in directory mode): persons the administrator adds through
``/v1/staff`` log in with tokens that carry only ``sub`` (the console asks the registry's
``/v1/staff/me`` who they are), the administrator's directory page lists them, an unknown or
departed subject meets the login page (403), a console whose registry is away says so (503).
Each screen is screenshotted (``browser.ARTIFACTS``) and checked with axe-core: no serious or
critical violation."""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from playwright.async_api import Browser, BrowserContext, Page

from slrt.settings import ConnectionSettings
from slrt_dev.sandbox.processes import start_console
from tests.support import staff
from tests.support.browser import artifacts, axe_violations
from tests.support.harness import Stack, standin, start_services
from tests.support.polling import poll, until

ARTIFACTS = artifacts("console")
PROGRAM = "CONSOLE_LANSIA"
DISTRICT = "3204"
VILLAGE = "3204052001"
PHONE = "081298765432"


async def _program(stack: Stack, dsn: str) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        created = await http.put(
            f"{stack.urls['registry']}/v1/programs/{PROGRAM}",
            headers=stack.auth("manager"),
            json={
                "name": "Bantuan Lansia (uji konsol)",
                "owner_agency": "Dinas Sosial Kabupaten Bandung",
                "level": "district",
                "area": DISTRICT,
                "channel": "direct",
                "categories": ["implementation", "program_need"],
                "sla_working_days": 10,
                "contact_email": "pengelola.lansia@dinsos.example",
            },
        )
    assert created.status_code in (200, 201), created.text

    async def copied() -> bool:
        conn = await asyncpg.connect(dsn)
        try:
            copies = await conn.fetchval(
                "SELECT (SELECT count(*) FROM routing.programs WHERE code = $1)"
                " + (SELECT count(*) FROM intake.programs WHERE code = $1)"
                " + (SELECT count(*) FROM notifier.programs WHERE code = $1)",
                PROGRAM,
            )
        finally:
            await conn.close()
        return bool(copies == 3)

    await until(copied, timeout=60)


async def _faq(stack: Stack, dsn: str, word: str) -> None:
    """The administrator writes an FAQ entry; wait until intake's copy holds it."""
    async with httpx.AsyncClient(timeout=30) as http:
        created = await http.post(
            f"{stack.urls['registry']}/v1/program-info/faq",
            headers=stack.auth("administrator"),
            json={
                "district": DISTRICT,
                "topic": word,
                "question": f"Bagaimana cara mengadu {word}?",
                "answer": "Datang ke Puskesos dengan KTP dan Kartu Keluarga.",
            },
        )
    assert created.status_code == 201, created.text
    entry = uuid.UUID(created.json()["id"])

    async def copied() -> bool:
        conn = await asyncpg.connect(dsn)
        try:
            found = await conn.fetchval(
                "SELECT version FROM intake.program_info WHERE entry_id = $1", entry
            )
        finally:
            await conn.close()
        return found is not None

    await until(copied, timeout=60)


async def _captured_by_facilitator(stack: Stack) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{stack.urls['intake']}/v1/complaints",
            headers={
                **stack.auth("facilitator", VILLAGE),
                "Idempotency-Key": uuid.uuid4().hex,
            },
            json={
                "channel": "facilitator_visit",
                "village_code": VILLAGE,
                "complainant": {"name": "Asep Saepudin"},
                "category": "membership",
                "description": "Keluarga belum terdaftar di DT-PPFM.",
            },
        )
    assert response.status_code == 202, response.text
    complaint: str = response.json()["complaint_id"]
    return complaint


async def _at_step(stack: Stack, complaint: str, step: str) -> dict[str, Any]:
    async def read() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(
                f"{stack.urls['intake']}/v1/complaints/{complaint}",
                headers=stack.auth("manager"),
            )
        body: dict[str, Any] | None = response.json() if response.status_code == 200 else None
        return body if body and body["step"] == step else None

    return await until(read, timeout=180)


async def _directory_person(
    stack: Stack, created: list[dict[str, Any]], **person: Any
) -> dict[str, Any]:
    """The district's administrator adds a person to the staff directory (``/v1/staff``); the
    person is added to ``created``."""
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{stack.urls['registry']}/v1/staff/persons",
            headers=stack.auth("administrator"),
            json=person,
        )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    created.append(body)
    return body


async def _end_directory_persons(stack: Stack, dsn: str, created: list[dict[str, Any]]) -> None:
    """End every person of ``created`` still active (the registry ends their village spells
    too) and wait until the ends are on the shared topic (intake's copy has them)."""
    async with httpx.AsyncClient(timeout=30) as http:
        for person in created:
            read = await http.get(
                f"{stack.urls['registry']}/v1/staff/persons/{person['person_id']}",
                headers=stack.auth("administrator"),
            )
            assert read.status_code == 200, read.text
            if read.json().get("active_until") is not None:
                continue
            ended = await http.post(
                f"{stack.urls['registry']}/v1/staff/persons/{person['person_id']}/end",
                headers=stack.auth("administrator"),
                json={},
            )
            assert ended.status_code == 200, ended.text
    await staff.ended_in_copy(dsn, [p["person_id"] for p in created])


async def _known_as(stack: Stack, subject: str, *, at: tuple[str, str], status: int) -> None:
    """Wait until the service's copy of the directory answers ``status`` for a token with only
    ``subject`` at ``at`` (service, path)."""
    token = stack.issuer.subject_token(subject)

    async def answer() -> int:
        async with httpx.AsyncClient(timeout=10) as http:
            got = await http.get(
                f"{stack.urls[at[0]]}{at[1]}", headers={"Authorization": f"Bearer {token}"}
            )
        return got.status_code

    assert await poll(answer, lambda code: code == status, timeout=60) == status


async def _login_refused(browser: Browser, base: str, token: str) -> tuple[int, str, Page]:
    """Submit ``token`` at the login form; the answer's status and the message shown."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("#token", token)
    async with page.expect_response(
        lambda r: r.url == f"{base}/login" and r.request.method == "POST"
    ) as posted:
        await page.click("form button[type=submit]")
    status = (await posted.value).status
    await page.wait_for_selector("#login-error, [role=alert]")
    text = await page.inner_text("main")
    return status, text, page


class Screens:
    """Screenshots (named in order) and the accessibility check of each screen."""

    def __init__(self) -> None:
        self.count = 0
        self.violations: dict[str, list[dict[str, Any]]] = {}

    async def shot(self, page: Page, name: str) -> None:
        self.count += 1
        await page.screenshot(path=ARTIFACTS / f"{self.count:02d}-{name}.png", full_page=True)
        found = await axe_violations(page)
        if found:
            self.violations[name] = found


async def _as(
    browser: Browser, base: str, token: str, **options: Any
) -> tuple[BrowserContext, Page]:
    """A browser of one person, logged in with their token (the dev issuer's login form)."""
    context = await browser.new_context(
        viewport=options.get("viewport", {"width": 1280, "height": 900}), bypass_csp=True
    )
    page = await context.new_page()
    await page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login")
    await page.fill("#token", token)
    await page.click("form button[type=submit]")
    await page.wait_for_selector("#subject")
    return context, page


async def test_one_complaint_through_every_screen(
    e2e_topics: None,
    connections: ConnectionSettings,
    log_dir: Path,
    browser: Browser,
    tmp_path: Path,
) -> None:
    await asyncio.to_thread(ARTIFACTS.mkdir, parents=True, exist_ok=True)
    dsn = connections.postgres_dsn.get_secret_value()
    screens = Screens()
    with (
        standin("sms_gateway", log_dir) as sms_port,
        standin("smtp_sink", log_dir, "--folder", str(tmp_path / "mail")) as smtp_port,
    ):
        gateway = f"http://127.0.0.1:{sms_port}"
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_NOTIFIER_SMS_GATEWAY_URL=gateway,
            SLRT_NOTIFIER_SMTP_PORT=str(smtp_port),
            SLRT_NOTIFIER_DISPATCH_POLL_SECONDS="0.2",
            # Tokens with only `sub` are authorised by the staff directory (each service's
            # copy); the console keeps none and asks the registry.
            SLRT_AUTH_DIRECTORY="true",
        )
        with stack:
            base = start_console(stack, services, log_dir)
            await _program(services, dsn)
            word = f"konsol{secrets.token_hex(3)}"
            await _faq(services, dsn, word)
            captured = await _captured_by_facilitator(services)
            issuer = services.issuer

            # Front office: a walk-in, with the NIK looked up and the route explained.
            front, page = await _as(
                browser, base, issuer.token("fo-console", ["front_office"], DISTRICT)
            )
            # The keyboard first: the first Tab lands on "skip to content", which is visible.
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.className") == "skip"
            assert await page.is_visible("a.skip")
            await page.click("text=Daftarkan pengaduan")
            await page.fill("#f-complainant-nik", "3204054107850003")
            await page.click("#do-lookup")
            await page.wait_for_selector("#lookup-result")
            await page.fill("#f-complainant-name", "Siti Aminah")
            await page.fill("#f-complainant-phone", PHONE)
            await page.select_option("#f-village_code", VILLAGE)
            await page.select_option("#f-category", "implementation")
            await page.select_option("#f-program_code", PROGRAM)
            await page.fill("#f-description", "Bantuan lansia bulan ini belum diterima.")
            await page.click("#do-route")
            routing = await page.inner_text("#routing")
            assert PROGRAM in routing
            assert "Dinas Sosial Kabupaten Bandung" in routing
            await screens.shot(page, "front-office-register")
            # The form keeps what was typed across the route check; submit.
            assert await page.input_value("#f-complainant-name") == "Siti Aminah"
            await page.click("#do-submit")
            await page.wait_for_selector("#ticket-number")
            ticket = (await page.inner_text("#ticket-number")).strip()
            assert re.fullmatch(r"3204-\d{2}-\d{6}", ticket), ticket
            complaint = page.url.split("/complaints/")[1].split("/")[0]
            await screens.shot(page, "front-office-ticket")
            await page.emulate_media(media="print")
            await page.screenshot(path=ARTIFACTS / "front-office-ticket-print.png", full_page=True)
            await page.emulate_media(media="screen")

            # An information request, answered from the district's FAQ and closed at once.
            await page.click("text=Permintaan informasi")
            await page.fill("#q", word)
            await page.click("form[role=search] button[type=submit]")
            await page.wait_for_selector("article.hit")
            assert await page.inner_html("article.hit mark") == word  # the hit, marked safely
            await page.select_option("#v-1", VILLAGE)
            await page.fill("#n-1", "Ujang Suryana")
            await page.fill("#d-1", "Menanyakan cara mengadu.")
            await page.fill("#a-1", "Dijelaskan cara mengadu di Puskesos.")
            await screens.shot(page, "front-office-information")
            await page.click("article.hit button[type=submit]")
            await page.wait_for_selector("#ticket-number")
            informed = page.url.split("/complaints/")[1].split("/")[0]
            await _at_step(services, informed, "closed")
            await front.close()

            # The supervisor reviews a facilitator's capture and sends it on.
            await _at_step(services, captured, "supervisor_review")
            supervisor, page = await _as(
                browser, base, issuer.token("sup-console", ["supervisor"], VILLAGE[:6])
            )
            await page.click("text=Tinjauan supervisor")
            await page.click(f"#queue a[href='/complaints/{captured}']")
            await page.wait_for_selector("#form-supervisor-review")
            await page.check("#supervisor-review-approve")
            await page.fill("#supervisor-review-note", "Sudah dicek, lengkap.")
            await screens.shot(page, "supervisor-review")
            await page.click("#form-supervisor-review button[type=submit]")
            await page.wait_for_selector("#done")
            await _at_step(services, captured, "back_office")
            await supervisor.close()

            async def ticket_sms() -> list[dict[str, Any]] | None:
                async with httpx.AsyncClient(timeout=10) as http:
                    got: list[dict[str, Any]] = (await http.get(f"{gateway}/_received")).json()
                mine = [m for m in got if ticket in m["text"]]
                return mine or None

            assert await until(ticket_sms, timeout=120)

            # Back office: the queue, a refusal beside its field, the referral.
            await _at_step(services, complaint, "back_office")
            back, page = await _as(
                browser, base, issuer.token("bo-console", ["back_office"], DISTRICT)
            )
            await page.goto(f"{base}/queues/back_office")
            await page.wait_for_selector(f"#queue >> text={ticket}")
            await screens.shot(page, "back-office-queue")
            await page.click(f"#queue >> text={ticket}")
            await page.wait_for_selector("#form-back-office-action")
            await page.select_option("#bo-kind", "resolve")
            await page.click("#form-back-office-action button[type=submit]")
            await page.wait_for_selector("#form-back-office-action .error")
            assert await page.get_attribute("#bo-answer", "aria-invalid") == "true"
            await screens.shot(page, "back-office-refusal-beside-field")
            await page.select_option("#bo-kind", "refer")
            await page.select_option("#bo-destination_program", PROGRAM)
            await page.click("#form-back-office-action button[type=submit]")
            await page.wait_for_selector("#done")
            await back.close()

            # Manager: approvals queue, approve with a note.
            await _at_step(services, complaint, "manager_approval")
            manager, page = await _as(
                browser, base, issuer.token("mgr-console", ["manager"], DISTRICT)
            )
            await page.goto(f"{base}/queues/manager")
            await page.click(f"#queue >> text={ticket}")
            await page.wait_for_selector("#form-manager-decision")
            await page.check("#manager-decision-approve")
            await page.fill("#manager-decision-note", "Disetujui, mohon diprioritaskan.")
            await screens.shot(page, "manager-approval")
            await page.click("#form-manager-decision button[type=submit]")
            await page.wait_for_selector("#done")
            await manager.close()

            # Program manager: the referral waiting for the program, answered.
            await _at_step(services, complaint, "referred")
            pm, page = await _as(
                browser, base, issuer.token("pm-console", ["program_manager"], DISTRICT, [PROGRAM])
            )
            await page.goto(f"{base}/referrals")
            await page.wait_for_selector(f"#referral-list >> text={ticket}")
            await screens.shot(page, "program-manager-referrals")
            await page.click(f"#referral-list >> text={ticket}")
            await page.check("#ans-accepted")
            await page.fill("#ans-note", "Akan dibayarkan bulan depan.")
            await screens.shot(page, "program-manager-answer")
            await page.click("#answer-form button[type=submit]")
            await page.wait_for_selector("#done")
            await pm.close()

            # Facilitator, on a tablet: my tasks, my villages, the feedback.
            await _at_step(services, complaint, "feedback")
            tablet = {"viewport": {"width": 800, "height": 1200}}
            fac, page = await _as(
                browser, base, issuer.token("fac-console", ["facilitator"], VILLAGE), **tablet
            )
            await page.goto(f"{base}/tasks")
            await page.wait_for_selector(f"#tasks >> text={ticket}")
            assert "Akan dibayarkan bulan depan." in await page.inner_text("#tasks")
            await screens.shot(page, "facilitator-tasks")
            await page.goto(f"{base}/villages")
            await screens.shot(page, "facilitator-villages")
            await page.goto(f"{base}/complaints/{complaint}")
            await page.select_option("#fb-response", "satisfied")
            await page.click("#form-feedback button[type=submit]")
            await page.wait_for_selector("#done")
            await _at_step(services, complaint, "closed")
            await page.reload()
            assert (await page.inner_text("#status")).strip() == "closed"
            timeline = await page.inner_text("#timeline")
            for step in ("back_office", "manager_approval", "referred", "feedback", "closed"):
                assert step in timeline
            await screens.shot(page, "closed")
            # The English switch.
            await page.click("text=English")
            assert await page.inner_text("h1") == f"Complaint detail {ticket}"
            await fac.close()

            # The staff directory: persons added through /v1/staff log in with tokens that
            # carry only `sub`; the console asks the registry's /v1/staff/me who they are.
            tag = secrets.token_hex(3)
            # The directory is the session's one topic (slrt.staff.directory): every later
            # test's intake and notifier copy it. These persons work in 3204 and village
            # 3204052001, where most tests' complaints live (the program and the routing of
            # this walk-through are there), so each is ended when the test is done, whatever
            # happens: ended, they hold no task and are no addressee (slrt/task_holders.py).
            created: list[dict[str, Any]] = []
            try:
                director = await _directory_person(
                    services,
                    created,
                    subject=f"adm-dir-{tag}",
                    display_name="Rina Marlina",
                    email="rina@dinsos.bandungkab.example",
                    roles=["administrator"],
                    areas=[DISTRICT],
                )
                clerk = await _directory_person(
                    services,
                    created,
                    subject=f"bo-dir-{tag}",
                    display_name="Dewi Anggraini",
                    email="dewi@dinsos.bandungkab.example",
                    roles=["back_office"],
                    areas=[DISTRICT],
                )
                visitor = await _directory_person(
                    services,
                    created,
                    subject=f"fac-dir-{tag}",
                    display_name="Ani Lestari",
                    phone="+6281234500011",
                    preferred_channel="sms",
                    roles=["facilitator"],
                    areas=[VILLAGE, "3204112001"],
                )
                async with httpx.AsyncClient(timeout=30) as http:
                    assigned = await http.put(
                        f"{services.urls['registry']}/v1/staff/villages/{VILLAGE}/facilitator",
                        headers=services.auth("administrator"),
                        json={"person_id": visitor["person_id"]},
                    )
                assert assigned.status_code in (200, 201), assigned.text
                for person in (director, clerk, visitor):
                    await _known_as(
                        services, person["subject"], at=("registry", "/v1/staff/me"), status=200
                    )
                await _known_as(
                    services, clerk["subject"], at=("intake", "/v1/complaints"), status=200
                )
                await _known_as(
                    services, visitor["subject"], at=("intake", "/v1/tasks"), status=200
                )

                # The directory's back office: their queue holds the capture waiting there.
                back, page = await _as(browser, base, issuer.subject_token(clerk["subject"]))
                assert (await page.inner_text("#subject")).strip() == clerk["subject"]
                assert (await page.inner_text("#roles")).strip() == "back_office"
                await page.click("text=Antrean back office")
                await page.wait_for_selector(f"#queue a[href='/complaints/{captured}']")
                await screens.shot(page, "directory-back-office-queue")
                await back.close()

                # The directory's facilitator of two villages in two sub-districts: their tasks.
                fac, page = await _as(browser, base, issuer.subject_token(visitor["subject"]))
                assert (await page.inner_text("#roles")).strip() == "facilitator"
                await page.click("text=Tugas saya")
                await page.wait_for_selector("#tasks, #tasks-empty")
                assert not await page.query_selector("main [role=alert]")
                await fac.close()

                # The directory's administrator: the catalog, and the directory of real persons.
                admin, page = await _as(browser, base, issuer.subject_token(director["subject"]))
                await page.goto(f"{base}/admin/programs")
                await page.wait_for_selector(f"#programs >> text={PROGRAM}")
                await screens.shot(page, "administrator-catalog")
                await page.click("text=Direktori petugas")
                await page.wait_for_selector("#staff")
                rows = await page.inner_text("#staff")
                for person in (director, clerk, visitor):
                    assert person["display_name"] in rows
                assert "Cileunyi Kulon" in rows  # the facilitator's areas, named
                held = await page.inner_text("#staff tr:has-text('Ani Lestari') td:last-child")
                assert held.strip() == VILLAGE  # the village assigned to them
                assert "+6281234500011" not in rows  # no contacts shown
                await screens.shot(page, "administrator-staff")
                await admin.close()

                # Someone the directory does not know: the login page says so (403), no session.
                status, text, page = await _login_refused(
                    browser, base, issuer.subject_token(f"nobody-{tag}")
                )
                assert status == 403
                assert "direktori petugas" in text
                assert not [c for c in await page.context.cookies() if c["name"] == "slrt_console"]
                await screens.shot(page, "login-not-in-directory")
                await page.context.close()

                # The back office leaves: their next login meets the same page.
                async with httpx.AsyncClient(timeout=30) as http:
                    ended = await http.post(
                        f"{services.urls['registry']}/v1/staff/persons/{clerk['person_id']}/end",
                        headers=services.auth("administrator"),
                        json={},
                    )
                assert ended.status_code == 200, ended.text
                await _known_as(
                    services, clerk["subject"], at=("registry", "/v1/staff/me"), status=403
                )
                status, text, page = await _login_refused(
                    browser, base, issuer.subject_token(clerk["subject"])
                )
                assert status == 403
                assert "direktori petugas" in text
                await page.context.close()

                # A console whose registry is away cannot say who a directory person is: 503.
                away_logs = log_dir / "registry-away"
                away_logs.mkdir()
                away = start_console(
                    stack,
                    services,
                    away_logs,
                    SLRT_AUTH_JWKS_FILE=str(issuer.jwks_file),
                    SLRT_AUTH_ISSUER=issuer.issuer,
                    SLRT_CONSOLE_REGISTRY_URL="http://127.0.0.1:9",
                )
                status, text, page = await _login_refused(
                    browser, away, issuer.subject_token(director["subject"])
                )
                assert status == 503
                assert "Direktori petugas sedang tidak dapat dihubungi" in text
                await page.context.close()
            finally:
                await _end_directory_persons(services, dsn, created)

    assert screens.violations == {}
