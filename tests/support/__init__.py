"""Test support code: the real-stack harness and modules that must not live in test files."""
