"""How the demo's client repeats a request the system could not take just then: a submission
answered 503 is sent again after its Retry-After with the same Idempotency-Key (never a new
one, which would make a second complaint when the first attempt was recorded)."""

from __future__ import annotations

import httpx
import pytest

from slrt_dev.demo.play import retry_delay, submit

pytestmark = pytest.mark.unit


async def test_a_submission_answered_503_is_repeated_with_the_same_idempotency_key() -> None:
    seen: list[str] = []

    def intake(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Idempotency-Key"])
        if len(seen) < 3:
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"status": 503})
        return httpx.Response(202, json={"complaint_id": "c"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(intake)) as http:
        answer = await submit(
            http, "http://intake/v1/complaints", {"x": 1}, {"Idempotency-Key": "demo-k"}
        )
    assert answer.status_code == 202
    assert seen == ["demo-k", "demo-k", "demo-k"]


async def test_a_refusal_is_not_repeated_and_a_lasting_503_ends_after_the_attempts() -> None:
    calls: list[int] = []

    def refusing(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(422, json={"errors": []})

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "0"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(refusing)) as http:
        assert (await submit(http, "http://i/", {}, {})).status_code == 422
    assert len(calls) == 1
    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as http:
        assert (await submit(http, "http://i/", {}, {}, attempts=3)).status_code == 503


def test_the_wait_is_the_retry_after_capped_and_a_default_without_one() -> None:
    assert retry_delay(httpx.Response(503, headers={"Retry-After": "2"})) == 2.0
    assert retry_delay(httpx.Response(503, headers={"Retry-After": "120"})) == 5.0
    assert retry_delay(httpx.Response(503)) == 0.5
    assert retry_delay(httpx.Response(503, headers={"Retry-After": "soon"})) == 0.5
