"""The registry's domain rules: plain functions, no I/O."""
