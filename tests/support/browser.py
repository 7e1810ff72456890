"""Headless Chromium for the browser tests (the dashboard's and the console's: Debian's
``chromium``, driven by Playwright; no browser download), axe-core from the npm tools cache
(``scripts/npm-tools.sh``), and where screenshots go: ``$SLRT_TEST_ARTIFACTS/<part>`` (default
``.slrt/test-artifacts/<part>``, which ``.ci/run`` keeps and names)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from slrt_dev.stack.config import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def artifacts(part: str) -> Path:
    """The folder a part's browser tests write their screenshots to."""
    root = Path(os.environ.get("SLRT_TEST_ARTIFACTS", REPO_ROOT / ".slrt" / "test-artifacts"))
    return root / part


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, for one test."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


def node_modules() -> Path:
    """The npm tools, installed by ``make install`` (installed here too if missing)."""
    script = REPO_ROOT / "scripts" / "npm-tools.sh"
    subprocess.run(["bash", str(script)], check=True, cwd=REPO_ROOT)
    out = subprocess.run(["bash", str(script), "path"], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page (WCAG 2.x A/AA rules)."""
    await page.add_script_tag(path=str(node_modules() / "axe-core" / "axe.min.js"))
    result: dict[str, Any] = await page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
