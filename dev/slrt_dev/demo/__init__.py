"""The demo: one synthetic district loaded into the local stack, and a working week played at
it through the public APIs (``slrt-demo load``, ``slrt-demo play``)."""
