"""The console's HTTP side: server-rendered pages (Jinja2, autoescape), the login (a pasted
token locally, the OIDC authorization-code flow with PKCE in production), its stylesheet."""

from __future__ import annotations

from fastapi import APIRouter

from services.console.api import pages

routers: list[APIRouter] = [pages.router]
