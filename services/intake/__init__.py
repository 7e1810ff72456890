"""Intake — the public API: complaints in, human actions, program managers' answers, tracking."""
