"""Temporal names every part agrees on: the workflow type, the task queue, search attributes."""

from __future__ import annotations

from typing import Any, Final

from temporalio.common import SearchAttributeKey

COMPLAINT_WORKFLOW: Final = "ComplaintWorkflow"
"""The complaint workflow's type name (never rename it: running workflows carry it)."""
COMPLAINT_TASK_QUEUE = "complaints"

TICKET_KEY: Final = SearchAttributeKey.for_keyword("SlrtTicket")
STEP_KEY: Final = SearchAttributeKey.for_keyword("SlrtStep")
PLACE_CODE_KEY: Final = SearchAttributeKey.for_keyword("SlrtPlaceCode")
CATEGORY_KEY: Final = SearchAttributeKey.for_keyword("SlrtCategory")
PROGRAM_KEY: Final = SearchAttributeKey.for_keyword("SlrtProgram")
OVERDUE_KEY: Final = SearchAttributeKey.for_bool("SlrtOverdue")

_KEYS: tuple[SearchAttributeKey[Any], ...] = (
    TICKET_KEY,
    STEP_KEY,
    PLACE_CODE_KEY,
    CATEGORY_KEY,
    PROGRAM_KEY,
    OVERDUE_KEY,
)
SEARCH_ATTRIBUTES: dict[str, str] = {
    key.name: "Bool" if key is OVERDUE_KEY else "Keyword" for key in _KEYS
}
"""Registered on the namespace (local stack, Helm job) so staff tools can list workflows."""


def complaint_workflow_id(complaint_id: str) -> str:
    return f"complaint-{complaint_id}"
