"""Temporal names every part agrees on: namespace default, task queue, search attributes."""

from __future__ import annotations

COMPLAINT_TASK_QUEUE = "complaints"

SEARCH_ATTRIBUTES: dict[str, str] = {
    "SlrtTicket": "Keyword",
    "SlrtStep": "Keyword",
    "SlrtPlaceCode": "Keyword",
    "SlrtCategory": "Keyword",
    "SlrtProgram": "Keyword",
    "SlrtOverdue": "Bool",
}
"""Registered on the namespace (local stack, Helm job) so staff tools can list workflows."""


def complaint_workflow_id(complaint_id: str) -> str:
    return f"complaint-{complaint_id}"
