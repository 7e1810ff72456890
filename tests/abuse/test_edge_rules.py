"""The edge's rules as plain functions, and the middleware on a small app (no servers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from slrt import edge, problems, text


def test_storable_replaces_nul_and_lone_surrogates_everywhere() -> None:
    value = {"a\x00": ["x\x00y", "\ud800", 3, None], "ok": ("fine",)}
    assert text.storable(value) == {"a\ufffd": ["x\ufffdy", "\ufffd", 3, None], "ok": ("fine",)}
    assert text.storable("plain ünïcode 🙂") == "plain ünïcode 🙂"


def test_unstorable_fields_name_the_path() -> None:
    value = {"complainant": {"name": "Siti\x00"}, "items": [{"d": "ok"}, {"d": "\udfff"}]}
    assert list(text.unstorable_fields(value)) == ["complainant.name", "items.1.d"]
    assert list(text.unstorable_fields("\x00")) == ["body"]


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (b'{"a": 1', "json_syntax"),
        (b'{"a": NaN}', "json_syntax"),
        (b"\xff\xfe", "utf8"),
        (b'{"a": 1, "a": 2}', "json_duplicate_key"),
    ],
)
def test_strict_json_refuses_with_400(body: bytes, rule: str) -> None:
    with pytest.raises(edge.BodyRefused) as refused:
        edge.parse_json_strictly(body)
    assert refused.value.status == 400
    assert refused.value.errors[0]["rule"] == rule


def test_duplicate_key_is_named_by_its_path() -> None:
    with pytest.raises(edge.BodyRefused) as refused:
        edge.parse_json_strictly(b'{"c": {"name": "x", "name": "y"}}')
    assert refused.value.errors[0]["field"] == "c.name"


def test_unstorable_json_text_is_422_naming_the_field() -> None:
    with pytest.raises(edge.BodyRefused) as refused:
        edge.parse_json_strictly(b'{"description": "a\\u0000b", "k": ["\\ud800"]}')
    assert refused.value.status == 422
    assert [e["field"] for e in refused.value.errors] == ["description", "k.0"]
    assert {e["rule"] for e in refused.value.errors} == {"storable_text"}


class _In(BaseModel):
    note: str


def _app() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.post("/json")
    async def take(body: _In) -> dict[str, Any]:
        return {"note": body.note}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return "<p>hi</p>"

    @app.get("/answer", response_class=HTMLResponse)
    async def answer() -> HTMLResponse:
        return HTMLResponse("<p>a</p>", headers={"Referrer-Policy": "no-referrer"})

    @app.get("/db-down")
    async def db_down() -> None:
        raise ConnectionRefusedError(111, "refused")

    app.add_middleware(edge.RequestGuard, max_bytes=2048)
    app.add_middleware(edge.SecurityHeaders)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_guard_on_an_app(client: httpx.AsyncClient) -> None:
    ok = await client.post("/json", json={"note": "fine"})
    assert ok.status_code == 200, ok.text
    headers = {"content-type": "application/json"}
    dup = await client.post("/json", content=b'{"note": "a", "note": "b"}', headers=headers)
    assert dup.status_code == 400
    assert dup.headers["content-type"] == "application/problem+json"
    assert dup.json()["errors"][0] == {
        "field": "note",
        "rule": "json_duplicate_key",
        "message": "this key appears more than once",
    }
    truncated = await client.post("/json", content=b'{"note": "a', headers=headers)
    assert truncated.status_code == 400
    assert truncated.json()["errors"][0]["field"] == "body"
    nul = await client.post("/json", json={"note": "a\x00"})
    assert nul.status_code == 422
    assert nul.json()["errors"][0]["field"] == "note"
    assert "\x00" not in nul.text
    query = await client.get("/page", params={"q": "x\x00"})
    assert query.status_code == 422
    assert query.json()["errors"][0]["field"] == "query.q"
    form = await client.post(
        "/raw", content=b"note=a%00b", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert form.status_code == 422
    assert form.json()["errors"][0]["field"] == "note"


async def test_limits_for_declared_and_chunked_bodies(client: httpx.AsyncClient) -> None:
    declared = await client.post("/json", json={"note": "x" * 4000})
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000

    for content_type in ("application/json", "application/octet-stream"):
        chunked = await client.post(
            "/raw", content=chunks(), headers={"content-type": content_type}
        )
        assert chunked.status_code == 413, chunked.text
        assert chunked.headers["content-type"] == "application/problem+json"
    nul = await client.post("/raw", content=b"a\x00b", headers={"content-type": "text/plain"})
    assert nul.status_code == 422
    assert nul.json()["errors"][0]["rule"] == "storable_text"


async def test_security_headers_on_html(client: httpx.AsyncClient) -> None:
    page = await client.get("/page")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    answer = await client.get("/answer")
    assert answer.headers["referrer-policy"] == "no-referrer"
    api = await client.post("/json", json={"note": "x"})
    assert "content-security-policy" not in api.headers


async def test_a_dependency_down_is_503_with_retry_after(client: httpx.AsyncClient) -> None:
    down = await client.get("/db-down")
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert down.headers["retry-after"] == "5"
