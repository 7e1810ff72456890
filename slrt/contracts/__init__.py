"""Cross-service contracts: topic names, the CloudEvents envelope, event types and models.

This package is the only thing services share about each other. Every event type is versioned
(``….v1``); a breaking change adds a ``v2`` type beside the old one.
"""

from slrt.contracts.envelope import Envelope, EventData, from_kafka, to_kafka
from slrt.contracts.topics import ALL_TOPICS, Topic, dead_letter_topic

__all__ = [
    "ALL_TOPICS",
    "Envelope",
    "EventData",
    "Topic",
    "dead_letter_topic",
    "from_kafka",
    "to_kafka",
]
