"""The notifier's Prometheus metrics (served on ``/metrics`` with the platform's)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from slrt.metrics import REGISTRY

ATTEMPTS = Counter(
    "slrt_notifier_attempts",
    "Delivery attempts by channel and outcome (delivered, retry, final)",
    ["channel", "outcome"],
    registry=REGISTRY,
)
SETTLED = Counter(
    "slrt_notifier_deliveries_settled",
    "Deliveries that reached a final state (delivered, failed) by channel",
    ["channel", "status"],
    registry=REGISTRY,
)
IN_FLIGHT = Gauge(
    "slrt_notifier_attempts_in_flight",
    "Delivery attempts running now",
    registry=REGISTRY,
)
ENDPOINTS_DISABLED = Counter(
    "slrt_notifier_endpoints_disabled",
    "Destination endpoints disabled after HTTP 410 (alert on any increase)",
    registry=REGISTRY,
)
