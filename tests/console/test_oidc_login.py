"""The production login against a real OIDC provider running here: panva's certified
``oidc-provider`` (npm) as its own process, the console as its own, headless Chromium between
them. The console discovers the provider (``/.well-known/openid-configuration``), sends the
browser with a PKCE challenge (S256), exchanges the code with its verifier, checks the ID token
(signature, issuer, audience, nonce) and the access token as the SLRT APIs do (the provider's
JWKS, issuer, audience ``slrt``), and starts a session: the person is shown with the roles and
area of their token. A callback whose state does not match starts none. A person whose access
token carries only ``sub`` goes through the staff-directory check after the code exchange: with
the registry away, the console says the directory cannot be reached (503), never a 500."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from playwright.async_api import Page

from slrt_dev.sandbox.processes import CONSOLE_SESSION_KEY, service_process
from slrt_dev.stack.process import free_port
from tests.support.browser import artifacts, chromium, node_modules

pytestmark = pytest.mark.stack
HERE = Path(__file__).parent
RESOURCE = "https://api.slrt.test/"
SUBJECT_ONLY = "dir-oidc-3204"
ARTIFACTS = artifacts("console")


def _jwk() -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, str] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    jwk.update({"kid": "oidc-test-1", "use": "sig", "alg": "RS256"})
    return jwk


@contextmanager
def oidc_provider(port: int, redirect_uri: str, log_dir: Path) -> Iterator[str]:
    issuer = f"http://127.0.0.1:{port}"
    env = {
        "PATH": "/usr/bin:/bin",
        "OIDC_TEST_NODE_MODULES": str(node_modules()),
        "OIDC_TEST_REDIRECT_URI": redirect_uri,
        "OIDC_TEST_JWK": json.dumps(_jwk()),
        "OIDC_TEST_RESOURCE": RESOURCE,
        "OIDC_TEST_AUDIENCE": "slrt",
        "OIDC_TEST_CLAIMS": json.dumps({"roles": ["back_office"], "area": "3204", "programs": []}),
        "OIDC_TEST_SUBJECT_ONLY": SUBJECT_ONLY,
    }
    with (log_dir / "oidc-provider.log").open("wb") as log:
        proc = subprocess.Popen(
            ["node", str(HERE / "oidc_provider.mjs"), str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError((log_dir / "oidc-provider.log").read_text()[-3000:])
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the OIDC provider did not start")
            time.sleep(0.2)
        yield issuer
    finally:
        proc.terminate()
        proc.wait(10)


async def _at_provider(page: Page, issuer: str, login: str) -> None:
    """The provider's own (development) login and consent pages."""
    await page.wait_for_url(f"{issuer}/**")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", "any")
    await page.click("button[type=submit]")
    await page.wait_for_selector("button[type=submit], [role=alert], #subject")
    if page.url.startswith(issuer):
        await page.click("button[type=submit]")  # consent


async def test_login_with_the_authorization_code_flow_and_pkce(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    console_port, provider_port = free_port(), free_port()
    console = f"http://127.0.0.1:{console_port}"
    with oidc_provider(provider_port, f"{console}/callback", log_dir) as issuer:
        env = {
            "SLRT_CONSOLE_LOGIN": "oidc",
            "SLRT_CONSOLE_OIDC_ISSUER": issuer,
            "SLRT_CONSOLE_OIDC_RESOURCE": RESOURCE,
            "SLRT_CONSOLE_PUBLIC_URL": console,
            "SLRT_AUTH_ISSUER": issuer,
            "SLRT_AUTH_AUDIENCE": "slrt",
            "SLRT_AUTH_JWKS_URL": f"{issuer}/jwks",
            "SLRT_AUTH_JWKS_FILE": "",
            "SLRT_SECRET_CONSOLE_SESSION": CONSOLE_SESSION_KEY,
            "SLRT_SECRETS_DIR": "/nonexistent",
            # No registry here: a directory person's login cannot be told who they are.
            "SLRT_CONSOLE_REGISTRY_URL": "http://127.0.0.1:9",
        }
        with service_process("console", env, log_dir, port=console_port):
            async with chromium() as browser:
                page = await browser.new_page()
                requested: list[str] = []
                page.on("request", lambda request: requested.append(request.url))
                await page.goto(f"{console}/")
                assert page.url.startswith(f"{console}/login")
                await page.click("#oidc-login")
                await _at_provider(page, issuer, "bo-oidc-3204")
                await page.wait_for_selector("#subject")
                assert page.url == f"{console}/"
                assert await page.inner_text("#subject") == "bo-oidc-3204"
                assert await page.inner_text("#roles") == "back_office"
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=ARTIFACTS / "oidc-logged-in.png")

                # A directory person (access token with only `sub`), the registry away.
                other = await (await browser.new_context()).new_page()
                answers: list[tuple[str, int]] = []
                other.on("response", lambda r: answers.append((r.url, r.status)))
                await other.goto(f"{console}/login")
                await other.click("#oidc-login")
                await _at_provider(other, issuer, SUBJECT_ONLY)
                await other.wait_for_selector("main [role=alert]")
                assert other.url.startswith(f"{console}/callback")
                assert [s for u, s in answers if u.startswith(f"{console}/callback")] == [503]
                assert "Direktori petugas" in await other.inner_text("main")
                cookies = await other.context.cookies()
                assert not [c for c in cookies if c["name"] == "slrt_console"]
            authorize = next(u for u in requested if u.startswith(f"{issuer}/auth?"))
            assert "code_challenge_method=S256" in authorize
            assert "code_challenge=" in authorize
            assert "nonce=" in authorize

            # A callback the console did not start (no login cookie, a forged state): no session.
            async with httpx.AsyncClient(base_url=console, timeout=10) as http:
                forged = await http.get("/callback", params={"code": "x", "state": "forged"})
                assert forged.status_code == 400
                assert "slrt_console=" not in forged.headers.get("set-cookie", "")
