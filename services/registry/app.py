"""The registry service's FastAPI app: lookups, catalog, proposals, imports; the request
consumer and the outbox relay run beside it."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.registry import api
from services.registry.api.attachments import UPLOAD_PATH
from services.registry.api.deps import SOURCE
from services.registry.audit_log import AuditWriter
from services.registry.consumers import consumers
from services.registry.places_loader import ensure_places
from services.registry.settings import RegistrySettings
from services.registry.store.catalog import ensure_seed
from slrt.attachments.service import make_parts, sweep
from slrt.auth.tokens import AuthSettings
from slrt.outbox import OutboxRelay
from slrt.service import Dependency, Runtime, build_app

log = logging.getLogger(__name__)

SEED_ACTOR = "system:catalog-seed"


def create_app(settings: RegistrySettings, auth: AuthSettings | None = None) -> FastAPI:
    async def on_start(runtime: Runtime[RegistrySettings]) -> None:
        async with runtime.pool.acquire() as conn:
            loaded = await ensure_places(conn)
            seeded = await ensure_seed(conn, changed_by=SEED_ACTOR, source=SOURCE)
        if loaded or seeded:
            log.info(
                "registry prepared", extra={"places_loaded": loaded, "programs_seeded": seeded}
            )
        audit = AuditWriter(runtime.pool)
        runtime.provide(audit)
        runtime.spawn(audit.run(runtime.stop), "audit-writer")
        parts = make_parts(settings)
        runtime.provide(parts)
        runtime.spawn(sweep(parts, runtime.stop), "attachment-delivery-sweep")
        relay = OutboxRelay(runtime.pool, runtime.producer, schema="registry")
        runtime.spawn(relay.run(runtime.stop), "outbox-relay")
        for consumer in consumers(runtime, settings):
            runtime.spawn(consumer.run(runtime.stop), f"consumer-{consumer.group_id}")

    return build_app(
        "registry",
        settings,
        title="SLRT Registry API",
        description="DT-PPFM social registry lookups, the program catalog, pre-list and "
        "profile-change proposals, SIKS-NG exchange, bulk import.",
        uses=(Dependency.POSTGRES, Dependency.KAFKA),
        routers=api.routers,
        auth=auth or AuthSettings(),
        on_start=on_start,
        # CSV uploads: an extract (up to 2 GiB) and SIKS-NG's results stream to their routes.
        large_body_paths=(r"^/v1/imports$", r"^/v1/siks-ng/batches/[^/]+/results$"),
        # Evidence photos and PDFs of pre-list entries and change proposals.
        binary_body_paths=(UPLOAD_PATH,),
    )
