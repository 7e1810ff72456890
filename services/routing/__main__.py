"""``python -m services.routing``: run the routing service.

``python -m services.routing promote [--build-id B]``: make a worker deployment version (this
image's ``SLRT_ROUTING_BUILD_ID`` unless ``--build-id`` names another) the current one of
``SLRT_ROUTING_DEPLOYMENT_NAME``, once a routing worker of that build polls. The step of the
upgrade runbook (``docs/deploy.md``) for a rollback or with ``promoteOnStart: false``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from temporalio.common import WorkerDeploymentVersion

from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from services.routing.versions import Promoted, deployment_version, promote
from slrt import temporal
from slrt.service import run


async def _promote(settings: RoutingSettings, version: WorkerDeploymentVersion) -> Promoted:
    client = await temporal.connect(settings.connections, payloads=False)
    return await promote(client, version, timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.routing", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    promoting = sub.add_parser(
        "promote", help="make a worker deployment version current (Temporal Worker Versioning)"
    )
    promoting.add_argument(
        "--build-id", help="the build to make current (default: SLRT_ROUTING_BUILD_ID)"
    )
    args = parser.parse_args(argv)
    settings = RoutingSettings()
    if args.command != "promote":
        run("routing", settings, create_app(settings))
        return 0
    version = deployment_version(settings)
    build_id = args.build_id or (version.build_id if version else None)
    if not build_id:
        print("promote: no build id: set SLRT_ROUTING_BUILD_ID or pass --build-id", file=sys.stderr)
        return 2
    target = WorkerDeploymentVersion(deployment_name=settings.deployment_name, build_id=build_id)
    try:
        done = asyncio.run(_promote(settings, target))
    except Exception as exc:
        print(f"promote failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    previous = done.previous or "unversioned workers"
    print(f"promote {done.version}: {done.outcome.value} (current before: {previous})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
