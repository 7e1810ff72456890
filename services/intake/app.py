"""The intake service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from services.intake import api, assignees, retention
from services.intake.api.attachments import UPLOAD_PATH
from services.intake.consumers import consumers
from services.intake.settings import IntakeSettings
from slrt.attachments.service import make_parts, sweep
from slrt.auth.tokens import AuthSettings
from slrt.outbox import OutboxRelay
from slrt.places import directory
from slrt.service import Dependency, Runtime, build_app

DESCRIPTION = """\
The public door of SLRT: complaints in (Puskesos and district walk-ins, facilitator tablets
with offline batch sync), human actions on complaints (forwarded to the complaint's workflow),
program managers' answers (signed callbacks and answer links) and public tracking.

Authentication: OAuth2 bearer JWTs (OIDC). Errors: RFC 9457 `application/problem+json` with
the field and rule named. See docs/api.md.
"""


def create_app(settings: IntakeSettings, auth: AuthSettings | None = None) -> FastAPI:
    async def start(runtime: Runtime[IntakeSettings]) -> None:
        directory()  # load the place list before the first request needs it
        parts = make_parts(settings)
        runtime.provide(parts)
        runtime.spawn(sweep(parts, runtime.stop), "attachment-delivery-sweep")
        runtime.spawn(
            retention.sweep(runtime.pool, parts, settings, runtime.stop),
            "personal-data-retention-sweep",
        )
        runtime.spawn(
            assignees.watch_stranded(runtime.pool, settings.stranded_check_seconds, runtime.stop),
            "stranded-tasks-gauge",
        )
        relay = OutboxRelay(runtime.pool, runtime.producer, schema="intake")
        runtime.spawn(relay.run(runtime.stop), "outbox-relay")
        for consumer in consumers(runtime, settings):
            runtime.spawn(consumer.run(runtime.stop), f"consumer-{consumer.group_id}")

    app = build_app(
        "intake",
        settings,
        title="SLRT Intake API",
        description=DESCRIPTION,
        uses=(Dependency.POSTGRES, Dependency.KAFKA, Dependency.TEMPORAL),
        # Complaints go into the outbox and reach Kafka when it is back.
        ready_without=(Dependency.KAFKA,),
        routers=api.routers,
        auth=auth or AuthSettings(),
        on_start=start,
        binary_body_paths=(UPLOAD_PATH,),
    )
    return app
