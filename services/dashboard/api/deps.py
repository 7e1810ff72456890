"""Request dependencies of the dashboard's pages: the platform's (``slrt.deps``) and the
dashboard's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.dashboard.settings import DashboardSettings
from slrt.deps import settings_dependency, settings_of

dashboard_settings = settings_of(DashboardSettings)
Settings = Annotated[DashboardSettings, Depends(settings_dependency(DashboardSettings))]
