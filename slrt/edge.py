"""What every service's HTTP edge enforces before a route sees a request, and adds to what it
answers.

:class:`RequestGuard` (ASGI middleware, installed by ``slrt.service.build_app``):

- a body larger than the service's ``max_body_bytes`` — declared, or streamed chunked — is
  **413** (routes that take large uploads, the registry's CSV imports, apply their own limit;
  routes that take binary files, intake's attachments, do too, and their bodies are bytes, not
  text: no NUL check);
- a JSON body is parsed strictly: not UTF-8, not JSON (truncated, ``NaN``), or an object with
  the same key twice is **400** naming the rule (``utf8``, ``json_syntax``,
  ``json_duplicate_key``) and, for a duplicate, the field;
- text PostgreSQL cannot store (NUL, an unpaired surrogate; ``slrt.text``) anywhere in a JSON
  or form body, a query parameter or the path is **422** naming the field and the rule
  ``storable_text``; a NUL byte in any other body is 422 on ``body``.

:class:`SecurityHeaders` adds a Content-Security-Policy (with ``frame-ancestors 'none'``),
``X-Frame-Options: DENY``, ``Referrer-Policy`` and ``X-Content-Type-Options: nosniff`` to every
HTML response (``nosniff`` to every response); a route sets a stricter ``Referrer-Policy``
itself (the answer page: ``no-referrer``, its token is in its URL).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slrt import text
from slrt.errors import FieldError, field_error

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://slrt.id/problems/"

_JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]*\+)?json\b", re.IGNORECASE)
_FORM_TYPE = "application/x-www-form-urlencoded"


class BodyRefused(Exception):
    """Why a body is refused: the status, the problem's kind and title, and the fields."""

    def __init__(self, status: int, kind: str, title: str, errors: list[FieldError]) -> None:
        super().__init__(title)
        self.status = status
        self.kind = kind
        self.title = title
        self.errors = errors


# --- strict JSON (plain functions) ----------------------------------------------------------


class _Object(dict[str, Any]):
    """A parsed JSON object that remembers the keys it was given twice."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object()
    found.duplicates = []
    for key, value in pairs:
        if key in found:
            found.duplicates.append(key)
        found[key] = value
    return found


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _duplicate_paths(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, _Object):
        for key in value.duplicates:
            yield f"{path}.{key}" if path else key
        for key, item in value.items():
            yield from _duplicate_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _duplicate_paths(item, f"{path}.{index}" if path else str(index))


def parse_json_strictly(body: bytes) -> Any:
    """The JSON document ``body`` holds, or :class:`BodyRefused`: 400 when it is not UTF-8,
    not JSON or names a key twice in one object, 422 when a string (or key) holds text
    PostgreSQL cannot store."""
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRefused(
            400,
            "malformed-body",
            "The body could not be parsed",
            [field_error("body", "utf8", f"not UTF-8 (byte {exc.start})")],
        ) from None
    try:
        value = json.loads(decoded, object_pairs_hook=_object, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise BodyRefused(
            400,
            "malformed-body",
            "The body could not be parsed",
            [
                field_error(
                    "body",
                    "json_syntax",
                    f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                )
            ],
        ) from None
    except (ValueError, RecursionError) as exc:
        raise BodyRefused(
            400,
            "malformed-body",
            "The body could not be parsed",
            [field_error("body", "json_syntax", f"not valid JSON: {str(exc)[:100]}")],
        ) from None
    duplicates = list(_duplicate_paths(value))
    if duplicates:
        raise BodyRefused(
            400,
            "malformed-body",
            "The body could not be parsed",
            [
                field_error(path, "json_duplicate_key", "this key appears more than once")
                for path in duplicates
            ],
        )
    unstorable = list(text.unstorable_fields(value))
    if unstorable:
        raise _unstorable(unstorable)
    return value


def check_form(body: bytes) -> None:
    """Refuse a form body that is not UTF-8 (400) or holds unstorable text (422)."""
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRefused(
            400,
            "malformed-body",
            "The body could not be parsed",
            [field_error("body", "utf8", f"not UTF-8 (byte {exc.start})")],
        ) from None
    _check_pairs(parse_qsl(decoded, keep_blank_values=True), "")


def check_query(query_string: bytes) -> None:
    """Refuse a query parameter holding unstorable text (422 naming ``query.<name>``)."""
    if query_string:
        _check_pairs(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True), "query.")


def _check_pairs(pairs: Iterable[tuple[str, str]], prefix: str) -> None:
    bad = [
        prefix + text.storable(name)
        for name, value in pairs
        if not (text.is_storable(name) and text.is_storable(value))
    ]
    if bad:
        raise _unstorable(bad)


def _unstorable(fields: Iterable[str]) -> BodyRefused:
    return BodyRefused(
        422,
        "invalid-request",
        "The request is not valid",
        [field_error(f, text.RULE, text.MESSAGE) for f in fields],
    )


# --- the middleware ----------------------------------------------------------------------------


class _StreamRefused(HTTPException):
    """Raised from a streamed body's ``receive``: the route's reading stops, and the app's
    exception handler answers with the problem (413, or 422 for a NUL byte)."""

    def __init__(self, status: int, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(status, detail)
        self.errors = errors


def _problem(status: int, kind: str, title: str, detail: str | None, **extra: Any) -> bytes:
    body: dict[str, Any] = {"type": PROBLEM_BASE + kind, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return json.dumps(body).encode()


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """ASGI middleware: body size, strict JSON and storable text at the edge (module doc)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        large_body_paths: Iterable[str] = (),
        binary_body_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.large = [re.compile(p) for p in large_body_paths]
        self.binary = [re.compile(p) for p in binary_body_paths]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        try:
            if not text.is_storable(path):
                raise _unstorable(["path"])
            check_query(scope.get("query_string", b""))
        except BodyRefused as refused:
            await self._refuse(scope, send, refused)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").strip()
        binary = any(p.search(path) for p in self.binary)
        large = binary or any(p.search(path) for p in self.large)
        declared = headers.get(b"content-length")
        if (
            not large
            and declared is not None
            and declared.isdigit()
            and int(declared) > self.max_bytes
        ):
            await self._too_large(scope, send)
            return
        parsed_json = bool(_JSON_TYPE.match(content_type))
        form = content_type.lower().startswith(_FORM_TYPE)
        if (parsed_json or form) and not large:
            await self._buffered(scope, receive, send, parsed_json)
            return
        await self.app(
            scope, self._streamed(receive, None if large else self.max_bytes, not binary), send
        )

    async def _buffered(self, scope: Scope, receive: Receive, send: Send, is_json: bool) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away before sending its body: nothing to answer.
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            try:
                if is_json:
                    parse_json_strictly(body)
                else:
                    check_form(body)
            except BodyRefused as refused:
                await self._refuse(scope, send, refused)
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _streamed(receive: Receive, max_bytes: int | None, text_only: bool = True) -> Receive:
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                seen += len(chunk)
                if max_bytes is not None and seen > max_bytes:
                    raise _StreamRefused(413, f"send at most {max_bytes} bytes")
                if text_only and b"\x00" in chunk:
                    raise _StreamRefused(
                        422,
                        "One or more fields break a rule; see errors.",
                        [field_error("body", text.RULE, text.MESSAGE)],
                    )
            return message

        return counting

    async def _too_large(self, scope: Scope, send: Send) -> None:
        await _answer(
            send,
            413,
            _problem(
                413,
                "too-large",
                "Request body too large",
                f"send at most {self.max_bytes} bytes",
                instance=text.storable(str(scope.get("path", ""))),
            ),
        )

    @staticmethod
    async def _refuse(scope: Scope, send: Send, refused: BodyRefused) -> None:
        detail = (
            "The body could not be parsed; see errors."
            if refused.status == 400
            else "One or more fields break a rule; see errors."
        )
        await _answer(
            send,
            refused.status,
            _problem(
                refused.status,
                refused.kind,
                refused.title,
                detail,
                instance=text.storable(str(scope.get("path", ""))),
                errors=refused.errors,
            ),
        )


# --- security headers -------------------------------------------------------------------------

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""Our own pages: no inline script (data blocks are ``type="application/json"``), inline
style allowed (the small pages' ``<style>``, Plotly's injected rules), never framed."""

DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
"""FastAPI's ``/docs`` and ``/redoc`` (Swagger UI and ReDoc from their CDN, an inline
bootstrap script)."""

_DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware adding the security headers (module doc); a header the route set
    already stays as the route set it."""

    def __init__(self, app: ASGIApp, referrer_policy: str = "same-origin") -> None:
        self.app = app
        self.referrer_policy = referrer_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        csp = DOCS_CSP if path.startswith(_DOCS_PATHS) else PAGE_CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                wanted = [(b"x-content-type-options", b"nosniff")]
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if content_type.lower().startswith(b"text/html"):
                    wanted += [
                        (b"content-security-policy", csp.encode()),
                        (b"x-frame-options", b"DENY"),
                        (b"referrer-policy", self.referrer_policy.encode()),
                    ]
                headers += [(n, v) for n, v in wanted if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
