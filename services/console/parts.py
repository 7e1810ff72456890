"""What the console keeps while it runs (on the runtime, ``Runtime.provide``)."""

from __future__ import annotations

from dataclasses import dataclass

from services.console.clients import Apis
from services.console.oidc import OidcLogin
from services.console.people import DirectoryLookup
from services.console.session import SessionCodec
from services.console.settings import ConsoleSettings


@dataclass
class ConsoleParts:
    settings: ConsoleSettings
    codec: SessionCodec
    apis: Apis
    oidc: OidcLogin | None
    people: DirectoryLookup
