"""Where the demo finds the stack (``SLRT_DEMO_*``); the defaults are the local stack's ports
(``SLRT_STACK_*``), so the demo plays at the stack that the same settings start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from slrt_dev.stack.config import StackSettings


def _stack_url(port_setting: str) -> str:
    return f"http://127.0.0.1:{getattr(StackSettings(), port_setting)}"


class DemoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLRT_DEMO_", env_file=".env", extra="ignore")

    intake_url: str = Field(default_factory=lambda: _stack_url("intake_port"))
    notifier_url: str = Field(default_factory=lambda: _stack_url("notifier_port"))
    registry_url: str = Field(default_factory=lambda: _stack_url("registry_port"))
    """The registry: the district's reviewer and data manager play SIKS-NG's verification cycle
    there (review, export batch, results import) for the corrections the demo proposes."""
    dashboard_url: str = Field(default_factory=lambda: _stack_url("dashboard_port"))
    """Whose figures (``/dashboard/{table}.csv``) must equal what the demo played."""
    lapor_url: str = Field(default_factory=lambda: _stack_url("lapor_port"))
    """The LAPOR! stand-in: the demo's program managers answer there, as agencies do."""
    siks_ng_url: str = Field(default_factory=lambda: _stack_url("siks_ng_port"))
    """The SIKS-NG stand-in: Pokja Data Terpadu gives its verdict on membership referrals there."""
    webhook_receiver_url: str = Field(default_factory=lambda: _stack_url("webhook_receiver_port"))
    """The program manager's system (stand-in) that receives the signed webhooks and answers."""
    sms_gateway_url: str = Field(default_factory=lambda: _stack_url("sms_gateway_port"))
    smtp_sink_url: str = Field(default_factory=lambda: _stack_url("smtp_sink_http_port"))
    """The SMTP sink's inspection endpoint (what arrived by email)."""
    district: str = Field(default="3204", pattern=r"^\d{4}$")
    """The regency (kabupaten) played: 3204 is Kabupaten Bandung."""
    individuals: int = Field(default=50_000, ge=100)
    seed: int = 7
    data_dir: Path = Field(default_factory=lambda: StackSettings().data_dir / "demo")
    step_timeout_seconds: float = Field(default=120.0, gt=0)
    """How long one complaint may wait for its next step before the demo reports it stuck."""
    sla_wait_seconds: float = Field(default=300.0, gt=0)
    """How long to wait for a step that comes only when an SLA clock runs out (the unanswered
    referral's expiry: about 70 s on the local stack, whose SLA clocks run 40,000× fast)."""
    effects_wait_seconds: float = Field(default=60.0, gt=0)
    """How long, after the last complaint ended, the outward effects (messages at the SMS
    gateway, figures on the dashboard …) may take to match before they count as wrong."""
