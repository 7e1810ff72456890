"""Request dependencies, one module for every service: the running service's runtime, its pool,
Temporal client, settings and clock, and the verified caller.

The runtime is the only thing kept on the app (``attach``); routes never read ``app.state``.
Each service's ``api/deps.py`` adds its typed ``Settings`` with :func:`settings_of`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import asyncpg
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from slrt.auth.directory import DirectoryNotReady, NotInDirectory
from slrt.auth.principal import Principal
from slrt.auth.tokens import InvalidToken, TokenVerifier
from slrt.errors import Refused, Unauthenticated, Unavailable
from slrt.settings import ServiceSettings

if TYPE_CHECKING:
    from slrt.service import Runtime

S = TypeVar("S", bound=ServiceSettings)

_bearer = HTTPBearer(auto_error=False, description="OIDC access token (JWT)")


def attach(app: FastAPI, runtime: Runtime[Any]) -> None:
    app.state.runtime = runtime


def runtime_of(app: FastAPI) -> Runtime[Any]:
    found: Runtime[Any] = app.state.runtime
    return found


def runtime(request: Request) -> Runtime[Any]:
    return runtime_of(request.app)


def pool(request: Request) -> asyncpg.Pool:
    return runtime(request).pool


def temporal(request: Request) -> Client:
    return runtime(request).temporal


def clock(request: Request) -> Callable[[], datetime]:
    return runtime(request).clock


def token_verifier(request: Request) -> TokenVerifier:
    return runtime(request).token_verifier


def settings_of(kind: type[S]) -> Callable[[Request], S]:
    """The service's settings as ``kind`` (a plain function; :func:`settings_dependency` is the
    route dependency)."""

    def settings(request: Request) -> S:
        found = runtime(request).settings
        assert isinstance(found, kind), f"the app's settings are not {kind.__name__}"
        return found

    return settings


def settings_dependency(kind: type[S]) -> Callable[[Request], Awaitable[S]]:
    """A route dependency giving the service's settings as ``kind``."""
    plain = settings_of(kind)

    async def settings(request: Request) -> S:
        return plain(request)

    return settings


# The route dependencies are coroutines: FastAPI runs a plain ``def`` dependency in a worker
# thread, a hop per dependency per request (it showed in intake's profile).


async def _pool(request: Request) -> asyncpg.Pool:
    return pool(request)


async def _temporal(request: Request) -> Client:
    return temporal(request)


async def _clock(request: Request) -> Callable[[], datetime]:
    return clock(request)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The verified caller (401 without a valid bearer token; in directory mode 403 for a
    subject the staff directory does not know as active, 503 until its copy is read)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send an OAuth2 bearer token in the Authorization header")
    try:
        return await verified(request, credentials.credentials)
    except InvalidToken as exc:
        raise Unauthenticated(str(exc)) from None


async def verified(request: Request, token: str) -> Principal:
    """The caller ``token`` names: ``InvalidToken`` when it does not verify; in directory mode
    ``Refused`` (403) for a subject the staff directory does not know as active and
    ``Unavailable`` (503) while its copy is still being read."""
    try:
        return await token_verifier(request).verify(token)
    except NotInDirectory as exc:
        raise Refused(str(exc)) from None
    except DirectoryNotReady as exc:
        raise Unavailable(str(exc), retry_after=2) from None


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Temporal = Annotated[Client, Depends(_temporal)]
Clock = Annotated[Callable[[], datetime], Depends(_clock)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
