"""The registry HTTP API (``/v1/…``)."""
