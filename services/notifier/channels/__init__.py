"""Channel adapters: each turns an :class:`Outgoing` message into one attempt's result."""
