"""The system on free ports in a temporary folder, for tests and benchmarks.

``infra`` starts PostgreSQL, Kafka and Temporal (or uses the ones named by ``SLRT_TEST_*``, or
testcontainers when a Docker engine answers); ``processes`` runs the services and the stand-ins
as their own processes against them, the way the local stack does. The tests reach this through
``tests/support/harness.py``; the benchmarks (``bench/``) import it directly, never the tests.
"""
