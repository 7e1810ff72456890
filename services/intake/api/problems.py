"""How error responses appear in the OpenAPI document: RFC 9457 problem documents."""

from __future__ import annotations

from typing import Any

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "current_step": {"type": "string", "description": "for 409 wrong-step"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "rule", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

DESCRIPTIONS: dict[int, str] = {
    400: "The body could not be parsed",
    401: "No valid bearer token (or, for callbacks, no valid signature)",
    403: "Your role may not do this here",
    404: "No such resource in what you may see",
    409: "Conflict: the complaint is not at a step where this fits (current_step), or an "
    "idempotency key was reused for a different request",
    410: "Gone",
    413: "The body is too large",
    422: "A field breaks a rule (errors name the field and the rule)",
    429: "Too many requests from this client; see Retry-After",
    503: "A dependency did not answer in time; retry with the same Idempotency-Key",
}


def problems(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for ``codes``, each an ``application/problem+json`` document."""
    return {
        code: {
            "description": descriptions.get(f"s{code}", DESCRIPTIONS[code]),
            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
        }
        for code in codes
    }


BODY = (400, 413, 422)
"""What any operation with a request body may answer besides its own errors."""
