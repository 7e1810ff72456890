"""Who a directory person is, for the console: asked of the registry's public API.

A token that carries only ``sub`` (the directory mode, ``slrt.auth.directory``) leaves the
person's roles, areas and programs to the staff directory. The services keep a copy of the
directory read from Kafka; the console keeps no copy and reads no topic (its NetworkPolicy
allows no egress to Kafka), so it asks the registry's ``GET /v1/staff/me`` with the person's own
token and builds the viewer from the answer. The answer only decides which screens the console
shows: every API the screens call authorises the same token by its own copy of the directory.

Answers are kept for ``CACHE_SECONDS`` per token (successes only), so a page costs no extra call
and a person who leaves loses the console within that time (the APIs refuse them sooner)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ConfigDict, ValidationError

from services.console.clients import Answer, Apis
from slrt.auth.directory import NotInDirectory, principal_of
from slrt.auth.principal import Principal
from slrt.auth.tokens import InvalidToken
from slrt.contracts.staff import StaffPerson

CACHE_SECONDS = 30.0
CACHED = 1024


class DirectoryUnavailable(Exception):
    """The registry did not say who the person is (down, or its copy still being read: 503)."""


class _Me(StaffPerson):
    """``GET /v1/staff/me``'s answer: a person with what they hold now (ignored here)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


def principal_from_me(answer: Answer, subject: str, now: datetime) -> Principal:
    """The caller a subject-only token is, from the registry's answer to ``/v1/staff/me``.

    Raises ``NotInDirectory`` for a subject the directory does not know as active now (the
    registry's 404, its 403 in directory mode, or a record that has ended), ``InvalidToken``
    when the registry does not accept the token (401), ``DirectoryUnavailable`` otherwise."""
    if answer.status == 401:
        raise InvalidToken("the registry does not accept the token")
    if answer.status in (403, 404):
        raise NotInDirectory("the token's subject is no active person of the staff directory")
    if not answer.ok or not isinstance(answer.body, dict):
        raise DirectoryUnavailable(f"the registry answered {answer.status}")
    try:
        person = _Me.model_validate(answer.body)
    except ValidationError:
        raise DirectoryUnavailable("the registry's answer is not a person") from None
    if person.subject != subject or not person.active_at(now):
        raise NotInDirectory("the token's subject is no active person of the staff directory")
    return principal_of(person)


class DirectoryLookup:
    """``GET /v1/staff/me`` for subject-only tokens, with a short cache per token."""

    def __init__(
        self,
        apis: Apis,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._apis = apis
        self._clock = clock
        self._monotonic = monotonic
        self._known: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    async def principal(self, token: str, subject: str) -> Principal:
        now = self._monotonic()
        cached = self._known.get(token)
        if cached is not None and now < cached[1]:
            return cached[0]
        self._known.pop(token, None)
        answer = await self._apis.call("registry", "GET", "/v1/staff/me", token)
        found = principal_from_me(answer, subject, self._clock())
        self._known[token] = (found, now + CACHE_SECONDS)
        while len(self._known) > CACHED:
            self._known.popitem(last=False)
        return found
