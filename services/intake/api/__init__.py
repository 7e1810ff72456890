"""The intake service's HTTP API (``/v1``) and its small server-rendered pages."""
