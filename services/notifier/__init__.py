"""Notifier — every outbound message delivered or accounted for."""
