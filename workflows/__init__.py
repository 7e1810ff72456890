"""Deterministic Temporal workflow code and its input/output types. No I/O, no settings."""
