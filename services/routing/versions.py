"""Temporal Worker Versioning for routing: which worker deployment version this process is, and
making a version the deployment's current one (``python -m services.routing promote``).

With ``SLRT_ROUTING_BUILD_ID`` set (the chart sets it from the image), routing's worker joins the
worker deployment ``SLRT_ROUTING_DEPLOYMENT_NAME`` as version ``<name>.<build id>``. The server
then sends workflow tasks only to the deployment's *current* version: a new version's pods poll
but run nothing until it is made current, and from that moment the old version's pods get no
more workflow tasks (their running activities still finish). The complaint workflow is
``AUTO_UPGRADE`` (see ``docs/deploy.md``, "Upgrade"): open complaints move to the new version
at their next task, and its code replays their histories through ``workflow.patched``.

A version that has never been current makes itself current once its worker polls (a rollout
then switches the fleet when its first new pod is up); a version that was current before
(a rollback, or an old pod restarting mid-rollout) never does: that takes ``promote``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import StrEnum

from temporalio.api.deployment.v1 import WorkerDeploymentInfo
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode

from services.routing.settings import RoutingSettings

log = logging.getLogger(__name__)

Summary = WorkerDeploymentInfo.WorkerDeploymentVersionSummary
_NOT_YET = (RPCStatusCode.NOT_FOUND, RPCStatusCode.RESOURCE_EXHAUSTED)
_CHANGED = (
    RPCStatusCode.FAILED_PRECONDITION,
    RPCStatusCode.ABORTED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
)


def deployment_version(settings: RoutingSettings) -> WorkerDeploymentVersion | None:
    """This process's worker deployment version; None when versioning is off (no build id)."""
    if not settings.build_id:
        return None
    return WorkerDeploymentVersion(
        deployment_name=settings.deployment_name, build_id=settings.build_id
    )


class Promotion(StrEnum):
    PROMOTED = "promoted"
    ALREADY_CURRENT = "already current"
    NOT_NEW = "not new"
    """The version was current before: only ``promote`` makes it current again."""


@dataclass(frozen=True)
class Promoted:
    outcome: Promotion
    version: str
    previous: str | None


async def describe(client: Client, deployment_name: str) -> tuple[bytes, WorkerDeploymentInfo]:
    """The deployment's routing config and versions, with the token that guards a change."""
    response = await client.workflow_service.describe_worker_deployment(
        DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=deployment_name)
    )
    return response.conflict_token, response.worker_deployment_info


def current_build_id(info: WorkerDeploymentInfo) -> str | None:
    """The current version's build id; None while unversioned workers are current."""
    current = info.routing_config.current_deployment_version
    return current.build_id or None


def _summary(info: WorkerDeploymentInfo, build_id: str) -> Summary | None:
    for summary in info.version_summaries:
        if summary.deployment_version.build_id == build_id:
            return summary
    return None


def never_current(summary: Summary) -> bool:
    """The version has never been the deployment's current (or ramping) version."""
    return not summary.HasField("first_activation_time")


async def registered(
    client: Client, version: WorkerDeploymentVersion, timeout: float
) -> tuple[bytes, WorkerDeploymentInfo, Summary]:
    """Wait until the server knows the version (its first worker has polled)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            token, info = await describe(client, version.deployment_name)
            summary = _summary(info, version.build_id)
            if summary is not None:
                return token, info, summary
        except RPCError as exc:
            # Not created yet, or busy being created (the server rate-limits a new deployment).
            if exc.status not in _NOT_YET:
                raise
        if loop.time() >= deadline:
            raise TimeoutError(
                f"worker deployment version {version.to_canonical_string()} is not registered: "
                "no routing worker of that build has polled Temporal"
            )
        await asyncio.sleep(0.5)


async def promote(
    client: Client,
    version: WorkerDeploymentVersion,
    *,
    only_if_new: bool = False,
    timeout: float = 60.0,
) -> Promoted:
    """Make ``version`` the deployment's current version once a worker of it polls.

    ``only_if_new``: leave a version that was current before as it is (what a worker does at
    start). A concurrent change (another pod promoting) is retried against the new state."""
    name = version.to_canonical_string()
    for _ in range(10):
        token, info, summary = await registered(client, version, timeout)
        previous = current_build_id(info)
        if previous == version.build_id:
            return Promoted(Promotion.ALREADY_CURRENT, name, previous)
        if only_if_new and not never_current(summary):
            return Promoted(Promotion.NOT_NEW, name, previous)
        try:
            await client.workflow_service.set_worker_deployment_current_version(
                SetWorkerDeploymentCurrentVersionRequest(
                    namespace=client.namespace,
                    deployment_name=version.deployment_name,
                    build_id=version.build_id,
                    conflict_token=token,
                    identity=f"routing promote {name}",
                )
            )
        except RPCError as exc:
            # The deployment changed since it was described (another pod promoted): look again.
            if exc.status in _CHANGED:
                log.info("worker deployment changed or busy while promoting; retrying")
                await asyncio.sleep(0.5)
                continue
            raise
        return Promoted(Promotion.PROMOTED, name, previous)
    raise RuntimeError(f"could not make {name} current: the deployment kept changing")


async def promote_at_start(client: Client, settings: RoutingSettings) -> None:
    """What a routing worker does once it polls: make a never-current version current. Failing
    leaves the old version current (its pods keep running the complaints): logged, not fatal."""
    version = deployment_version(settings)
    if version is None or not settings.promote_on_start:
        return
    try:
        done = await promote(client, version, only_if_new=True)
    except Exception:
        log.exception(
            "could not make this worker deployment version current; run "
            "`python -m services.routing promote`",
            extra={"version": version.to_canonical_string()},
        )
        return
    log.info(
        "worker deployment version at start: %s",
        done.outcome.value,
        extra={"version": done.version, "previous_build_id": done.previous},
    )
