"""The staff console's FastAPI app: no database, no Kafka; it calls the public APIs with the
person's own token. It keeps no copy of the staff directory, whatever ``SLRT_AUTH_DIRECTORY``
says: the registry's ``/v1/staff/me`` tells it who a subject-only token's person is
(``services.console.people``)."""

from __future__ import annotations

from fastapi import FastAPI

from services.console import api
from services.console.api import pages
from services.console.clients import Apis
from services.console.oidc import OidcLogin
from services.console.parts import ConsoleParts
from services.console.people import DirectoryLookup
from services.console.session import SessionCodec
from services.console.settings import ConsoleSettings
from slrt.auth.tokens import AuthSettings
from slrt.service import Runtime, build_app


def create_app(settings: ConsoleSettings, auth: AuthSettings | None = None) -> FastAPI:
    async def on_start(runtime: Runtime[ConsoleSettings]) -> None:
        apis = Apis(settings)
        runtime.provide(
            ConsoleParts(
                settings=settings,
                codec=SessionCodec.from_secret(settings.session_key_ref),
                apis=apis,
                oidc=OidcLogin(settings) if settings.login == "oidc" else None,
                people=DirectoryLookup(apis),
            )
        )

        async def close_on_stop() -> None:
            await runtime.stop.wait()
            await apis.close()

        runtime.spawn(close_on_stop(), "api-clients")

    app = build_app(
        "console",
        settings,
        title="SLRT Staff Console",
        description="Server-rendered screens for SLRT staff on the public APIs (no database).",
        uses=(),
        routers=api.routers,
        # No directory copy (it would read Kafka): subject-only tokens are asked of the registry.
        auth=(auth or AuthSettings()).model_copy(update={"directory": False}),
        on_start=on_start,
    )
    pages.install(app)
    return app
