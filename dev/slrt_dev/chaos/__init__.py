"""``make chaos`` (``slrt-chaos``): the standing fault suite on a local stack of its own."""
