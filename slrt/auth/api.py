"""Authorization for routes: may the caller do this here (403 / 404)? The verified caller
itself comes from ``slrt.deps.CurrentPrincipal``."""

from __future__ import annotations

from slrt.auth.policy import Action, Decision, decide
from slrt.auth.principal import Principal
from slrt.errors import NotFound, Refused


def authorize(
    principal: Principal,
    action: Action,
    *,
    place_code: str | None = None,
    program: str | None = None,
    what: str = "resource",
) -> None:
    """Raise ``NotFound`` when the object is outside what the caller may see, ``Refused`` when
    the action is not theirs; return when allowed."""
    decision = decide(principal, action, place_code=place_code, program=program)
    if decision is Decision.NOT_FOUND:
        raise NotFound(title=f"No such {what}")
    if decision is Decision.FORBIDDEN:
        raise Refused(f"your role may not do {action.value} here")
