"""The local stack: real PostgreSQL, Apache Kafka (KRaft) and the Temporal dev server, then the
four services, as background processes with PID and log files under one data folder.

Used by ``make up``/``make down`` and, started on free ports in a temporary folder, by the test
harness (``tests/conftest.py``). Not used in production: Kubernetes runs the services there.
"""
