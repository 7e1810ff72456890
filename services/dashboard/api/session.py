"""Who is looking: the same OIDC access token as every API, sent as a bearer header or — for
the browser pages — kept in an HttpOnly, SameSite=Strict cookie after the login form."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from slrt import deps
from slrt.auth.api import authorize
from slrt.auth.policy import Action, Decision, decide
from slrt.auth.principal import Principal
from slrt.auth.tokens import InvalidToken
from slrt.problems import Problem

COOKIE = "slrt_dashboard_token"


class LoginRequired(Exception):
    """A page was asked for without a valid token: the browser goes to the login form."""


def token_of(request: Request) -> str | None:
    """The caller's access token (bearer header first, then the login cookie)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return request.cookies.get(COOKIE)


async def verify(request: Request, token: str) -> Principal:
    return await deps.verified(request, token)


async def page_viewer(request: Request) -> Principal:
    """The viewer of a page; no or a bad token → the login form."""
    token = token_of(request)
    if not token:
        raise LoginRequired
    try:
        principal = await verify(request, token)
    except InvalidToken:
        raise LoginRequired from None
    authorize(principal, Action.AGGREGATES_READ)
    return principal


async def api_viewer(request: Request) -> Principal:
    """The caller of a data endpoint (CSV, JSON): 401 problem without a valid token."""
    token = token_of(request)
    if not token:
        raise Problem(401, "unauthenticated", "Authentication required", "send a bearer token")
    try:
        principal = await verify(request, token)
    except InvalidToken as exc:
        raise Problem(401, "unauthenticated", "Authentication required", str(exc)) from None
    authorize(principal, Action.AGGREGATES_READ)
    return principal


PageViewer = Annotated[Principal, Depends(page_viewer)]
ApiViewer = Annotated[Principal, Depends(api_viewer)]


def may_list_complaints(principal: Principal, place_code: str) -> bool:
    """Whether the number's link to the complaint list is shown (staff who may read them)."""
    return decide(principal, Action.COMPLAINT_READ, place_code=place_code) is Decision.ALLOW
