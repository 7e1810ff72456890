"""Abuse cases derived from a service's OpenAPI document, so that a new endpoint inherits them.

For every operation: text PostgreSQL cannot store in each string field of its body (JSON or
form), in each query parameter and in the path; a JSON body that is truncated or names a key
twice; a body over the size limit, declared and chunked. Each case says what the edge must
answer (status, and the field and rule the problem names). Every answer of every case must be a
problem document, never a 5xx.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

NUL = "x\x00y"
BINARY_MEDIA = ("image/", "application/pdf", "application/octet-stream")
"""Request bodies that are files, not text."""
SURROGATE_JSON = '"x\\ud800y"'


@dataclass
class Case:
    """One request and what the edge must answer."""

    service: str
    what: str
    method: str
    path: str
    status: int
    rule: str | None = None
    fields: set[str] = field(default_factory=set)
    params: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}: {self.what}"


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            objects = [_resolve(spec, s) for s in schema[key]]
            found = next((s for s in objects if s.get("type") == "object"), None)
            if found is not None:
                return found
            found = next((s for s in objects if s.get("type") == "string"), None)
            if found is not None:
                return found
    return schema


def string_fields(spec: dict[str, Any], schema: dict[str, Any], depth: int = 2) -> list[str]:
    """Dotted paths of the string properties of ``schema`` (objects nested up to ``depth``)."""
    schema = _resolve(spec, schema)
    found: list[str] = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = _resolve(spec, prop)
        if prop.get("type") == "string" and "enum" not in prop:
            found.append(name)
        elif prop.get("type") == "object" and depth > 1:
            found += [f"{name}.{inner}" for inner in string_fields(spec, prop, depth - 1)]
    return found


def _nested(paths: list[str], value: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for dotted in paths:
        *outer, last = dotted.split(".")
        where = body
        for part in outer:
            where = where.setdefault(part, {})
        where[last] = value
    return body


def _concrete(path: str) -> str:
    """The path with each parameter filled by a plausible value (a UUID fits most)."""
    return re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)


def cases(service: str, spec: dict[str, Any], max_body_bytes: int) -> Iterator[Case]:
    """Every abuse case of every operation in ``spec``."""
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            yield from _operation_cases(service, spec, path, method.upper(), op, max_body_bytes)


def _operation_cases(
    service: str,
    spec: dict[str, Any],
    template: str,
    method: str,
    op: dict[str, Any],
    max_body_bytes: int,
) -> Iterator[Case]:
    path = _concrete(template)
    for param in op.get("parameters", []):
        if param["in"] == "query":
            name = param["name"]
            yield Case(
                service,
                f"NUL in query parameter {name}",
                method,
                path,
                422,
                "storable_text",
                {f"query.{name}"},
                params={name: NUL},
            )
    if "{" in template:
        yield Case(
            service,
            "NUL in the path",
            method,
            re.sub(r"\{[^}]+\}", "x%00y", template, count=1),
            422,
            "storable_text",
            {"path"},
        )
    content = (op.get("requestBody") or {}).get("content") or {}
    if "application/json" in content:
        yield from _json_cases(service, spec, path, method, content["application/json"])
    if "application/x-www-form-urlencoded" in content:
        schema = content["application/x-www-form-urlencoded"].get("schema") or {}
        for name in string_fields(spec, schema, depth=1) or ["field"]:
            yield Case(
                service,
                f"NUL in form field {name}",
                method,
                path,
                422,
                "storable_text",
                {name},
                content=f"{name}=x%00y".encode(),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
    if content:
        kind = next(iter(content))
        too_large = b"[" + b"0," * (max_body_bytes // 2) + b"0]"
        if kind in ("application/json", "application/x-www-form-urlencoded"):
            yield Case(
                service,
                "a declared body over the limit",
                method,
                path,
                413,
                content=too_large,
                headers={"content-type": kind},
            )
            yield Case(
                service,
                "a chunked body over the limit",
                method,
                path,
                413,
                content=too_large,
                headers={"content-type": kind},
                chunked=True,
            )
        elif not kind.startswith(BINARY_MEDIA):
            # Uploads the route streams itself (CSV): a NUL byte is refused while it reads.
            # (Binary uploads — photos, PDFs — hold NUL bytes by nature: their content checks
            # are tests/intake/test_attachment_rules.py and test_attachments.py.)
            yield Case(
                service,
                f"a NUL byte in a {kind} body",
                method,
                path,
                422,
                "storable_text",
                {"body"},
                content=b"a,b\n1,\x002\n",
                headers={"content-type": kind},
            )


def _json_cases(
    service: str, spec: dict[str, Any], path: str, method: str, media: dict[str, Any]
) -> Iterator[Case]:
    json_type = {"content-type": "application/json"}
    fields = string_fields(spec, media.get("schema") or {}) or ["note"]
    yield Case(
        service,
        "NUL in every string field",
        method,
        path,
        422,
        "storable_text",
        set(fields),
        content=json.dumps(_nested(fields, NUL)).encode(),
        headers=json_type,
    )
    first = fields[0]
    surrogate = json.dumps(_nested([first], "PLACEHOLDER")).replace('"PLACEHOLDER"', SURROGATE_JSON)
    yield Case(
        service,
        f"an unpaired surrogate in {first}",
        method,
        path,
        422,
        "storable_text",
        {first},
        content=surrogate.encode(),
        headers=json_type,
    )
    top = first.split(".")[0]
    yield Case(
        service,
        "a key named twice",
        method,
        path,
        400,
        "json_duplicate_key",
        {top},
        content=f'{{"{top}": "a", "{top}": "b"}}'.encode(),
        headers=json_type,
    )
    yield Case(
        service,
        "truncated JSON",
        method,
        path,
        400,
        "json_syntax",
        {"body"},
        content=f'{{"{top}": "a'.encode(),
        headers=json_type,
    )
    yield Case(
        service,
        "NaN is not JSON",
        method,
        path,
        400,
        "json_syntax",
        {"body"},
        content=f'{{"{top}": NaN}}'.encode(),
        headers=json_type,
    )


async def _chunks(content: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(content), 65536):
        yield content[start : start + 65536]


async def run(client: httpx.AsyncClient, case: Case, auth: dict[str, str]) -> str | None:
    """Send ``case``; ``None`` if the answer is the one expected, else what went wrong."""
    headers = {**auth, **case.headers}
    body: Any = _chunks(case.content) if case.chunked and case.content else case.content
    try:
        response = await client.request(
            case.method, case.path, params=case.params, content=body, headers=headers
        )
    except httpx.HTTPError as exc:
        return f"{case}: {type(exc).__name__}"
    if response.status_code != case.status:
        return f"{case}: {response.status_code} (wanted {case.status}) {response.text[:200]}"
    if response.headers.get("content-type") != "application/problem+json":
        return f"{case}: content-type {response.headers.get('content-type')}"
    problem = response.json()
    if "\x00" in response.text or "\\u0000" in response.text:
        return f"{case}: the answer echoes what was sent"
    if case.rule is not None:
        named = {(e.get("field"), e.get("rule")) for e in problem.get("errors") or []}
        wanted = {(f, case.rule) for f in case.fields}
        if not wanted <= named:
            return f"{case}: names {sorted(named)}, wanted {sorted(wanted)}"
    return None
