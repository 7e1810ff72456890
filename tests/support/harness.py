"""The real stack in tests: PostgreSQL, Kafka, Temporal, and the services as processes.

The code is the development distribution's sandbox (``slrt_dev.sandbox``), which the
benchmarks use too; this module is its name in the tests. Where each component comes from:
``slrt_dev/sandbox/infra.py``.
"""

from slrt_dev.sandbox.infra import (
    ATTACHMENT_KEYS,
    ATTACHMENT_KEYS_ENV,
    PAYLOAD_KEYS,
    PAYLOAD_KEYS_ENV,
    TEST_NAMESPACE,
    RealStack,
    postgres_folder,
    sandbox_converter,
    start_local_kafka,
)
from slrt_dev.sandbox.processes import (
    ANSWER_LINK_KEY,
    SERVICES,
    WEBHOOK_KEY,
    Stack,
    dev_issuer,
    service_env,
    service_process,
    standin,
    start_services,
)

__all__ = [
    "ANSWER_LINK_KEY",
    "ATTACHMENT_KEYS",
    "ATTACHMENT_KEYS_ENV",
    "PAYLOAD_KEYS",
    "PAYLOAD_KEYS_ENV",
    "SERVICES",
    "TEST_NAMESPACE",
    "WEBHOOK_KEY",
    "RealStack",
    "Stack",
    "dev_issuer",
    "postgres_folder",
    "sandbox_converter",
    "service_env",
    "service_process",
    "standin",
    "start_local_kafka",
    "start_services",
]
