"""Settings of the routing service (``SLRT_ROUTING_*``; connections from ``SLRT_*``).

The SLA defaults here apply to every complaint; a program's own SLA (from the catalog) governs
its referrals. National holidays and collective-leave days (cuti bersama, set yearly by joint
ministerial decree, SKB) come from the ``holidays`` package (``workflows/working_days.py``); a
decree that changes joint leave after that release is configured here as additions and removals
(``SLRT_ROUTING_COLLECTIVE_LEAVE_ADDED='["2027-02-08"]'``, ``…_REMOVED``).
"""

from __future__ import annotations

from datetime import date

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from slrt.contracts.sla import SlaTerms, clock_speed_field
from slrt.settings import ServiceSettings


class RoutingSettings(ServiceSettings, SlaTerms):
    """The SLA terms (``acknowledge_days`` … ``reopen_window_days``) come from ``SlaTerms``."""

    model_config = SettingsConfigDict(env_prefix="SLRT_ROUTING_", env_file=".env", extra="ignore")

    port: int = 8004
    collective_leave_added: list[date] = Field(default_factory=list)
    """Cuti bersama a decree added after the pinned ``holidays`` release shipped its list."""
    collective_leave_removed: list[date] = Field(default_factory=list)
    """Cuti bersama a decree cancelled after the pinned ``holidays`` release (working again)."""
    sla_clock_speed: float = clock_speed_field()
    """SLA clocks run this many times faster than real time. 1 in production; the local demo
    stack sets 40,000 (a calendar day passes in about 2 s) so that deadlines, escalations and
    referral expiry happen while you watch. Applies to complaints started after the change."""
    separation_of_duties: bool = True
    """The person who proposed a referral may not approve it (Pedoman Umum SLRT 2017,
    V.D.1.a.5.d: a referral leaves with the manager's approval). A district with a single
    manager, who also works the back office, sets it false; every approval made while it is off
    records that in the complaint's history. Applies to complaints started after the change.
    The default: a district's own setting in the staff directory (``/v1/staff/districts/<code>/
    settings``, routing's copy of ``slrt.staff.directory``) decides for its complaints."""
    worker_max_concurrent_activities: int = Field(default=50, ge=1)
    worker_max_cached_workflows: int = Field(default=1000, ge=0)
    """Open complaints kept in the worker's sticky cache (about 0.3 MiB each, measured by
    ``bench/soak.py``); one evicted from it is rebuilt by replaying its history when it next
    wakes. 0 disables the cache (every workflow task replays)."""
    worker_graceful_shutdown_seconds: float | None = Field(default=None, ge=0)
    """How long the Temporal worker lets running activities finish after SIGTERM before it
    cancels them. Unset: ``graceful_shutdown_seconds`` less a margin (a quarter, at most 10 s)
    for reporting the results; never more than ``graceful_shutdown_seconds``."""
    search_attributes: bool = True
    """Index complaints by ticket, place, category and program (``SEARCH_ATTRIBUTES``, which
    must be registered on the namespace: ``slrt-admin register-temporal``)."""
    deployment_name: str = Field(default="slrt-routing", min_length=1, pattern=r"^[^.]+$")
    """Temporal worker deployment that routing's workers join when ``build_id`` is set (one per
    release of the chart; no ``.``, which separates it from the build id)."""
    build_id: str | None = Field(default=None, min_length=1, max_length=255)
    """This image's build of the workflow code (the chart sets it from the image tag or digest).
    Set: Temporal Worker Versioning is on, workflow tasks go only to the deployment's current
    version (``services/routing/versions.py``, ``docs/deploy.md`` "Upgrade"). Unset (the local
    stack, the tests): an unversioned worker, as before."""
    promote_on_start: bool = True
    """A version that has never been current makes itself current once its worker polls, so a
    rollout switches the workflows to the new build as its first pod comes up. False: only
    ``python -m services.routing promote`` does (to check a build on the cluster first)."""
