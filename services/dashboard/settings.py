"""Settings of the dashboard service (``SLRT_DASHBOARD_*``; connections from ``SLRT_*``)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from slrt.contracts.topics import Topic
from slrt.settings import ServiceSettings


class DashboardSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLRT_DASHBOARD_", env_file=".env", extra="ignore")

    port: int = 8005

    lifecycle_topic: str = Topic.COMPLAINT_LIFECYCLE.value
    catalog_topic: str = Topic.PROGRAM_CATALOG.value

    registry_url: str = "http://127.0.0.1:8002"
    """Where the registry serves its aggregates (``/v1/aggregates/...``)."""
    public_url: str = "http://127.0.0.1:8005"
    """This service's address as users reach it: report links in notifications."""
    intake_public_url: str = "http://127.0.0.1:8001"
    """Where the complaint lists behind the figures live (for staff who may read them)."""

    report_areas: list[str] = Field(default_factory=list)
    """Place-code prefixes that get a scheduled monthly/quarterly report (district codes,
    province codes, or "" for the national report)."""
    report_recipients: list[str] = Field(default_factory=list)
    """Staff user ids the notifier sends each scheduled report to."""
    report_check_seconds: float = Field(default=3600.0, gt=0)
    """How often the scheduler looks for a period whose report is due."""
    timezone: str = "Asia/Jakarta"

    monitoring_areas: list[str] = Field(default_factory=list)
    """Place-code prefixes that run the monitoring cycle (district and province codes, "" for
    Setnas): a quarterly questionnaire round opens for each after every quarter, and the
    province's view expects a monthly report from each of its districts listed here."""
    monitoring_open_on_schedule: bool = True
    """Whether the loop opens the last completed quarter's rounds by itself (tests that open
    a fixed quarter by hand turn it off; reminders are sent either way)."""
    monitoring_reminder_days: int = Field(default=3, ge=0)
    """A round or report still to submit is reminded this many days before it is due (and
    once more when overdue)."""
    monitoring_reminder_roles: list[str] = Field(default_factory=lambda: ["manager"])
    """Who is reminded: ``<role>:<area>`` in the notifier's contact directory (the SLRT
    secretariat's managers of the area)."""

    sla_at_risk_days: int = Field(default=2, ge=0)
    """An open complaint whose promised acknowledgement or resolution falls due today or within
    this many calendar days after counts as at risk in ``slrt_complaints_at_risk``."""
    sla_metrics_seconds: float = Field(default=30.0, gt=0)
    """How often the SLA gauges are recounted from the read model (scrapes read the last
    count)."""

    open311_limit_per_minute: int = Field(default=60, ge=1)
    """Requests to the public Open311 API (``/open311/v2/...``) per client and minute (429
    beyond, in GeoReport's error format with ``Retry-After``)."""
    trusted_proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(
        default_factory=list
    )
    """Networks of the reverse proxies (the Ingress controller) whose ``X-Forwarded-For`` names
    the Open311 client (JSON list, e.g. ``["10.0.0.0/8"]``), as intake's
    ``SLRT_INTAKE_TRUSTED_PROXIES``; empty: the connection's address counts."""
    open311_contact: str = (
        "Sekretariat SLRT kabupaten/kota setempat; Kementerian Sosial RI (Pusdatin)"
    )
    """Who answers questions about the Open311 API (its service discovery document)."""
    open311_endpoint_type: Literal["production", "test"] = "production"
    """What the discovery document calls this endpoint: ``test`` on staging stacks."""
