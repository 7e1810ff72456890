"""The complaint workflow, as a package.

- ``workflow``: ``ComplaintWorkflow``, the thin class Temporal runs (run, updates, signals,
  query, validators, one replay guard).
- ``state``: the one serialisable state model, grouped by concern, and the snapshot from it.
- ``journal``: history, effect queue, revision, search-attribute indexing, the replay guard's
  memory.
- ``stage_intake``, ``stage_back_office``, ``stage_referral``, ``stage_closing``: the handler
  bodies, one module per stage.
- ``clock_rules`` (pure decisions: remind, breach, expire; SLA time scaling) and ``deadlines``
  (acting on them).
"""

from workflows.complaint.workflow import ComplaintWorkflow

__all__ = ["ComplaintWorkflow"]
