"""Request dependencies of the notifier's routes: the platform's (``slrt.deps``), the notifier's
settings and its dispatcher (a manager's re-send wakes it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.notifier.dispatcher import Dispatcher
from services.notifier.settings import NotifierSettings
from slrt import deps
from slrt.deps import CurrentPrincipal, Pool, settings_dependency

__all__ = ["CurrentPrincipal", "Pool", "RunningDispatcher", "Settings"]


async def dispatcher(request: Request) -> Dispatcher | None:
    """The running dispatcher; none where the app runs without its loops (tests)."""
    return deps.runtime(request).part(Dispatcher)


Settings = Annotated[NotifierSettings, Depends(settings_dependency(NotifierSettings))]
RunningDispatcher = Annotated[Dispatcher | None, Depends(dispatcher)]
