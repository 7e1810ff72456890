"""Rate limits of the public tracking endpoints: ``slrt.ratelimit`` (shared with the dashboard's
Open311 API), re-exported here."""

from __future__ import annotations

from slrt.ratelimit import WINDOW, Network, client_address, limit, window_start

__all__ = ["WINDOW", "Network", "client_address", "limit", "window_start"]
