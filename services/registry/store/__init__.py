"""Postgres access of the registry (its own schema only)."""
