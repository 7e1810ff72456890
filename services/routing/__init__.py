"""Routing — hosts the Temporal worker and the Kafka consumers that drive each complaint's
workflow."""
