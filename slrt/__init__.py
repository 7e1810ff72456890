"""Platform code shared by every SLRT service: contracts, settings, Kafka, Postgres, telemetry.

Nothing domain-specific lives here; each service's domain lives in ``services/<name>/``.
"""
