"""The registry's events about a complaint's proposals as the workflow's signal (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.routing.domain import proposal_news
from slrt.contracts.events import RegistryProposalUpdated, RegistryVerificationApplied


def test_a_proposal_update_keeps_its_status_and_request() -> None:
    event = RegistryProposalUpdated(
        proposal_id=uuid.uuid4(),
        kind="prelist",
        complaint_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        status="exported",
        batch_id=uuid.uuid4(),
        at=datetime.now(UTC),
    )
    news = proposal_news(event)
    assert (news.proposal_id, news.status, news.request_id, news.batch_id) == (
        event.proposal_id,
        "exported",
        event.request_id,
        event.batch_id,
    )
    assert not news.is_result


def test_a_verification_result_says_accepted_rejected_or_revisit() -> None:
    def applied(accepted: bool, result: str | None) -> RegistryVerificationApplied:
        return RegistryVerificationApplied.model_validate(
            {
                "proposal_id": uuid.uuid4(),
                "kind": "change",
                "complaint_id": uuid.uuid4(),
                "batch_id": uuid.uuid4(),
                "accepted": accepted,
                "result": result,
                "reason": None if accepted else "x",
                "at": datetime.now(UTC),
            }
        )

    assert proposal_news(applied(True, None)).status == "accepted"  # an event from before
    assert proposal_news(applied(False, None)).status == "rejected"
    assert proposal_news(applied(False, "revisit")).status == "revisit"
    assert proposal_news(applied(False, "revisit")).is_result
