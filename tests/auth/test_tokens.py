"""Bearer-token verification against a JWKS, with the local development issuer."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from slrt.auth import Role
from slrt.auth.tokens import AuthSettings, InvalidToken, TokenVerifier
from slrt_dev.issuer import DevIssuer

ISSUER = "https://auth.slrt.local/dev"


@pytest.fixture
def issuer(tmp_path: Path) -> DevIssuer:
    issuer = DevIssuer(tmp_path / "issuer", ISSUER, "slrt")
    issuer.ensure_keys()
    return issuer


@pytest.fixture
def verifier(issuer: DevIssuer) -> TokenVerifier:
    return TokenVerifier(
        AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file, leeway_seconds=30)
    )


async def test_a_valid_token_becomes_a_principal(
    issuer: DevIssuer, verifier: TokenVerifier
) -> None:
    token = issuer.token("bo-1", [Role.BACK_OFFICE], "3204")
    principal = await verifier.verify(token)
    assert principal.subject == "bo-1"
    assert principal.roles == {Role.BACK_OFFICE}
    assert principal.area == "3204"


async def test_the_issuer_signs_with_the_key_file_it_finds_now(
    issuer: DevIssuer, verifier: TokenVerifier, tmp_path: Path
) -> None:
    """The dev issuer parses its key once, not per token; a key file replaced (a stack's data
    folder reset, new keys) is picked up at the next token."""
    assert (await verifier.verify(issuer.token("bo-1", [Role.BACK_OFFICE], "3204"))).subject
    other = DevIssuer(tmp_path / "other", ISSUER, "slrt")
    other.ensure_keys()
    issuer.key_file.write_bytes(other.key_file.read_bytes())
    issuer.jwks_file.write_text(other.jwks_file.read_text())
    replaced = issuer.token("bo-2", [Role.BACK_OFFICE], "3204")
    fresh = TokenVerifier(
        AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=other.jwks_file, leeway_seconds=30)
    )
    assert (await fresh.verify(replaced)).subject == "bo-2"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"aud": "another-app"}, "audience"),
        ({"iss": "https://evil.example"}, "unknown issuer"),
        ({"claim_roles": ["overlord"]}, "roles or area"),
        ({"claim_area": "32040"}, "roles or area"),
    ],
)
async def test_bad_tokens_are_refused_with_the_reason(
    issuer: DevIssuer, verifier: TokenVerifier, claims: dict[str, object], reason: str
) -> None:
    roles = claims.pop("claim_roles", [Role.VIEWER])
    area = claims.pop("claim_area", "")
    token = issuer.token("u", roles, area, **claims)  # type: ignore[arg-type]
    with pytest.raises(InvalidToken, match=reason):
        await verifier.verify(token)


async def test_clock_skew_within_the_leeway_is_accepted(
    issuer: DevIssuer, verifier: TokenVerifier
) -> None:
    token = issuer.token("u", [Role.VIEWER], "", exp=int(time.time()) - 10)
    assert (await verifier.verify(token)).subject == "u"


async def test_a_tampered_or_foreign_token_is_refused(
    issuer: DevIssuer, verifier: TokenVerifier, tmp_path: Path
) -> None:
    token = issuer.token("u", [Role.VIEWER], "")
    header, _, signature = token.split(".")
    forged = jwt.encode({"sub": "admin"}, "k" * 32, algorithm="HS256")
    with pytest.raises(InvalidToken):
        await verifier.verify(f"{header}.{forged.split('.')[1]}.{signature}")
    other = DevIssuer(tmp_path / "other", ISSUER, "slrt")
    with pytest.raises(InvalidToken):
        await verifier.verify(other.token("u", [Role.MANAGER], ""))
    with pytest.raises(InvalidToken):
        await verifier.verify("not-a-jwt")


def test_dev_token_command_prints_a_verifiable_token(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "slrt_dev.issuer",
            "token",
            "--role",
            "manager",
            "--area",
            "3204",
            "--subject",
            "mgr-1",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"SLRT_STACK_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert claims["roles"] == ["manager"]
    assert claims["area"] == "3204"
    assert (tmp_path / "dev-issuer" / "jwks.json").exists()


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _counting_decode(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count full verifications (``jwt.decode`` calls); returns the list of tokens decoded."""
    decoded: list[str] = []
    real = jwt.decode

    def decode(token: str, *args: object, **kwargs: object) -> object:
        decoded.append(token)
        return real(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", decode)
    return decoded


async def test_a_verified_token_is_cached_until_it_expires(
    issuer: DevIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    verifier = TokenVerifier(
        AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file, leeway_seconds=30),
        clock=clock,
    )
    decoded = _counting_decode(monkeypatch)
    token = issuer.token("bo-1", [Role.BACK_OFFICE], "3204", ttl_seconds=60)
    first = await verifier.verify(token)
    again = await verifier.verify(token)
    assert again == first
    assert len(decoded) == 1  # the second answer came from the cache
    # Past exp + leeway the cached caller is not trusted: the token is verified again, in full.
    clock.now += 60 + 30 + 1
    monkeypatch.setattr(jwt, "decode", _expired)
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(token)


def _expired(*args: object, **kwargs: object) -> object:
    raise jwt.ExpiredSignatureError("Signature has expired")


async def test_a_refused_token_is_never_cached(
    issuer: DevIssuer, verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded = _counting_decode(monkeypatch)
    foreign = issuer.token("u", [Role.VIEWER], "", aud="another-app")
    for _ in range(2):
        with pytest.raises(InvalidToken, match="audience"):
            await verifier.verify(foreign)
    assert len(decoded) == 2  # each presentation verified in full
    good = issuer.token("u", [Role.VIEWER], "")
    header, _payload, signature = good.split(".")
    await verifier.verify(good)
    # The cache is keyed by the whole token: a forged payload under a cached signature is
    # verified (and refused), never answered from the cache.
    forged = jwt.encode({"sub": "admin"}, "k" * 32, algorithm="HS256").split(".")[1]
    with pytest.raises(InvalidToken):
        await verifier.verify(f"{header}.{forged}.{signature}")
