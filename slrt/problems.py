"""Errors as RFC 9457 problem details (``application/problem+json``), one way for every API.

Each problem has a ``type`` URI under ``https://slrt.id/problems/``, a ``title``, the HTTP
``status``, a ``detail`` in plain words, and for bad input ``errors``: one entry per field with
the field's path and the rule it broke. Details never echo personal data back.

Code below the API layer raises the domain errors of ``slrt.errors``; ``install`` maps them (and
FastAPI's own errors) to problem documents here, once for every service. ``Problem`` stays for
the rare answer that is an HTTP matter only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from slrt import text
from slrt.errors import DomainError, FieldError, Invalid, field_error

log = logging.getLogger(__name__)

DATABASE_DOWN: tuple[type[Exception], ...] = (
    OSError,  # ConnectionRefusedError, TimeoutError, a reset connection
    asyncpg.PostgresConnectionError,  # the connection ended mid-request
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up
    asyncpg.TooManyConnectionsError,
)
"""What a request meets while PostgreSQL (or another dependency reached by a socket) is down:
answered 503 with ``Retry-After``, never a 500."""
RETRY_AFTER_SECONDS = 5

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://slrt.id/problems/"


class Problem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str | None = None,
        *,
        errors: Sequence[Mapping[str, str] | FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


__all__ = ["PROBLEM_BASE", "PROBLEM_JSON", "Problem", "field_error", "from_domain", "install"]


def _unparsable(exc: RequestValidationError) -> list[FieldError]:
    """The errors of a body FastAPI could not parse as JSON (``json_invalid``), if that is why
    ``exc`` was raised."""
    return [
        field_error("body", "json_syntax", "not valid JSON")
        for error in exc.errors()
        if error.get("type") == "json_invalid"
    ][:1]


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors():
        location = [str(p) for p in error.get("loc", ()) if p not in ("body",)]
        errors.append(
            field_error(
                ".".join(location) or "body",
                str(error.get("type", "invalid")),
                str(error.get("msg", "invalid value")),
            )
        )
    return errors


def from_domain(error: DomainError) -> Problem:
    """The problem document of a domain error."""
    extensions = dict(error.extensions)
    # Any refusal may name the fields it concerns (a 409 naming ``Idempotency-Key``).
    named = extensions.pop("errors", None)
    return Problem(
        error.status,
        error.kind,
        error.title,
        error.detail,
        errors=error.errors if isinstance(error, Invalid) else named,
        headers=error.headers(),
        **extensions,
    )


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.body(text.storable(request.url.path)),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` as a problem document."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(from_domain(exc), request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        unparsable = _unparsable(exc)
        if unparsable:
            return problem_response(
                Problem(
                    400,
                    "malformed-body",
                    "The body could not be parsed",
                    "The body could not be parsed; see errors.",
                    errors=unparsable,
                ),
                request,
            )
        problem = Problem(
            422,
            "invalid-request",
            "The request is not valid",
            "One or more fields break a rule; see errors.",
            errors=_validation_errors(exc),
        )
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kinds = {
            401: "unauthenticated",
            403: "forbidden",
            404: "not-found",
            405: "method-not-allowed",
            409: "conflict",
            413: "too-large",
            422: "invalid-request",
            429: "too-many-requests",
        }
        problem = Problem(
            exc.status_code,
            kinds.get(exc.status_code, "http-error"),
            str(exc.detail) if exc.detail else "HTTP error",
            errors=getattr(exc, "errors", None),
            headers=dict(exc.headers) if exc.headers else None,
        )
        return problem_response(problem, request)

    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning(
            "a dependency did not answer; answering 503",
            extra={"error": type(exc).__name__, "path": request.url.path},
        )
        problem = Problem(
            503,
            "unavailable",
            "Temporarily unavailable",
            "a dependency (the database) did not answer; retry later with the same Idempotency-Key",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        return problem_response(problem, request)

    for kind in DATABASE_DOWN:
        app.add_exception_handler(kind, _database_down)

    async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
        # The edge (slrt.edge) refuses such text naming the field; this is the last net for
        # text that reached the database another way.
        problem = Problem(
            422,
            "invalid-request",
            "The request is not valid",
            "One or more fields break a rule; see errors.",
            errors=[field_error("body", text.RULE, text.MESSAGE)],
        )
        return problem_response(problem, request)

    app.add_exception_handler(asyncpg.CharacterNotInRepertoireError, _unstorable)
    app.add_exception_handler(asyncpg.UntranslatableCharacterError, _unstorable)
    app.add_exception_handler(UnicodeEncodeError, _unstorable)
