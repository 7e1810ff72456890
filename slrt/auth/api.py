"""FastAPI dependencies: who is calling (401), and may they do this here (403 / 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from slrt.auth.policy import Action, Decision, decide
from slrt.auth.principal import Principal
from slrt.auth.tokens import InvalidToken, TokenVerifier
from slrt.problems import Problem

_bearer = HTTPBearer(auto_error=False, description="OIDC access token (JWT)")


def _unauthenticated(detail: str) -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="slrt"'},
    )


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The verified caller; the app must set ``app.state.token_verifier``."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthenticated("send an OAuth2 bearer token in the Authorization header")
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return await verifier.verify(credentials.credentials)
    except InvalidToken as exc:
        raise _unauthenticated(str(exc)) from None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def authorize(
    principal: Principal,
    action: Action,
    *,
    place_code: str | None = None,
    program: str | None = None,
    what: str = "resource",
) -> None:
    """Raise 404 when the object is outside what the caller may see, 403 when the action is
    not theirs; return when allowed."""
    decision = decide(principal, action, place_code=place_code, program=program)
    if decision is Decision.NOT_FOUND:
        raise Problem(404, "not-found", f"No such {what}")
    if decision is Decision.FORBIDDEN:
        raise Problem(403, "forbidden", "Not allowed", f"your role may not do {action.value} here")
