"""The local stack: real PostgreSQL, Apache Kafka (KRaft) and the Temporal dev server, then the
stand-ins and the services, as background processes with PID and log files under one data
folder (``process.ManagedProcess``), every port a ``SLRT_STACK_*`` setting.

Used by ``make up``/``make down`` and, started on free ports in a temporary folder, by the
sandbox of tests and benchmarks (``slrt_dev.sandbox``). Not used in production: Kubernetes runs
the services there.
"""
