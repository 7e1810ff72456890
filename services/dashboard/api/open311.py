"""Open311 GeoReport v2, read side (docs/api.md, "Open311 GeoReport v2"): the public status of
complaints for civic apps and city systems, without login.

``GET /open311/v2/services.{json,xml}``, ``GET /open311/v2/requests.{json,xml}`` and
``GET /open311/v2/requests/{ticket}.{json,xml}`` (no extension: JSON), and the service
discovery document the spec requires, ``GET /open311/discovery.{json,xml}``. Errors in the spec's
format (``[{"code", "description"}]`` / ``<errors>``), each naming the parameter and its rule:
so these routes stay out of the OpenAPI document, whose routes answer problem+json
(``tests/abuse`` holds every documented route to that). Rate-limited per client
(``slrt.ratelimit``, the limiter of intake's tracking); the platform's security headers apply.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.dashboard import open311 as reads
from services.dashboard.api.deps import dashboard_settings
from services.dashboard.domain import georeport, open311
from services.dashboard.domain.georeport import ErrorItem, Format, GeoReportError, Value
from slrt import deps, ratelimit
from slrt.errors import RateLimited
from slrt.places import directory
from slrt.problems import DATABASE_DOWN, RETRY_AFTER_SECONDS

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
PREFIX = "/open311/v2"
PUBLIC_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}
"""Public data, no credentials: any web app may read it; always revalidated (status is live)."""


def _format(fmt: str | None) -> Format:
    if fmt is None:
        return "json"
    if fmt not in georeport.FORMATS:
        raise GeoReportError.of(404, "format", "the resource ends in .json or .xml")
    return fmt


def _answer(
    kind: str, items: Sequence[dict[str, Value]], fmt: Format, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        georeport.render(kind, items, fmt),
        media_type=georeport.CONTENT_TYPES[fmt],
        headers={**PUBLIC_HEADERS, **(headers or {})},
    )


def _error(error: GeoReportError, fmt: str | None) -> Response:
    chosen: Format = fmt if fmt in georeport.FORMATS else "json"
    return Response(
        georeport.render_errors(error, chosen),
        status_code=error.status,
        media_type=georeport.CONTENT_TYPES[chosen],
        headers={**PUBLIC_HEADERS, **error.headers},
    )


async def _answering(
    request: Request, fmt: str | None, answer: Callable[[], Awaitable[Response]]
) -> Response:
    """``answer()``, or its error in the spec's format: a broken rule (4xx), or 503 with
    ``Retry-After`` while the database does not answer (as the platform answers elsewhere)."""
    try:
        return await answer()
    except GeoReportError as error:
        return _error(error, fmt)
    except DATABASE_DOWN as exc:
        log.warning(
            "a dependency did not answer; answering 503",
            extra={"error": type(exc).__name__, "path": request.url.path},
        )
        down = ErrorItem(503, "database: did not answer; retry later")
        return _error(GeoReportError(503, [down], {"Retry-After": str(RETRY_AFTER_SECONDS)}), fmt)


async def _limit(request: Request) -> None:
    settings = dashboard_settings(request)
    client = ratelimit.client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        settings.trusted_proxies,
    )
    try:
        await ratelimit.limit(
            deps.pool(request),
            "open311",
            client,
            settings.open311_limit_per_minute,
            deps.clock(request)(),
        )
    except RateLimited as limited:
        raise GeoReportError(
            429,
            [georeport.ErrorItem(429, f"rate limit: {limited.detail}")],
            limited.headers() or {},
        ) from None


def _params(request: Request) -> dict[str, str]:
    """Query parameters; one named twice counts as its comma-joined values (the spec lets
    lists be "declared multiple times")."""
    joined: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


async def _services(request: Request, fmt: str | None) -> Response:
    async def answer() -> Response:
        chosen = _format(fmt)
        await _limit(request)
        params = _params(request)
        lang = open311.language_of(params, request.headers.get("accept-language"))
        jurisdiction = open311.jurisdiction_of(params.get("jurisdiction_id"), directory())
        async with deps.pool(request).acquire() as conn:
            programs = await reads.programs(conn)
        return _answer("services", open311.service_list(programs, lang, jurisdiction), chosen)

    return await _answering(request, fmt, answer)


async def _requests(request: Request, fmt: str | None, ticket: str | None) -> Response:
    async def answer() -> Response:
        chosen = _format(fmt)
        await _limit(request)
        params = _params(request)
        lang = open311.language_of(params, request.headers.get("accept-language"))
        places = directory()
        if ticket is None:
            query = open311.request_query(params, deps.clock(request)(), places)
        else:
            jurisdiction = open311.jurisdiction_of(params.get("jurisdiction_id"), places)
            if not open311.is_ticket(ticket):
                raise GeoReportError.of(404, "service_request_id", "no such request")
            query = open311.RequestQuery(jurisdiction, (ticket.upper(),), page_size=1)
        async with deps.pool(request).acquire() as conn:
            found = await reads.facts(conn, query)
            page = found[: query.page_size]
            cells = {(f.service_code, f.place_code[:4]) for f in page}
            counts = await reads.cell_counts(conn, cells)
            programs = {p.code: p for p in await reads.programs(conn)}
        if ticket is not None and not page:
            raise GeoReportError.of(404, "service_request_id", f"no request {ticket.upper()}")
        shown = open311.shown_places(counts)
        zone = ZoneInfo(dashboard_settings(request).timezone)
        items = [
            open311.public_request(
                f,
                shown.get((f.service_code, f.place_code), f.place_code[:4]),
                programs,
                places,
                lang,
                zone,
            )
            for f in page
        ]
        headers = {}
        if ticket is None and len(found) > query.page_size:
            following = {**params, "page": str(query.page + 1), "page_size": str(query.page_size)}
            headers["Link"] = f'<{request.url.path}?{urlencode(following)}>; rel="next"'
        return _answer("requests", items, chosen, headers)

    return await _answering(request, fmt, answer)


CHANGESET_SINCE = "2026-11-30 00:00"
"""The service list before any program: the categories only (changed with this code)."""


async def _discovery(request: Request, fmt: str | None) -> Response:
    async def answer() -> Response:
        chosen = _format(fmt)
        await _limit(request)
        settings = dashboard_settings(request)
        async with deps.pool(request).acquire() as conn:
            changed = await reads.services_changed(conn)
        zone = ZoneInfo(settings.timezone)
        changeset = changed.astimezone(zone).strftime("%Y-%m-%d %H:%M") if changed else ""
        changeset = max(changeset, CHANGESET_SINCE)
        endpoint = georeport.Endpoint(
            url=settings.public_url.rstrip("/") + PREFIX,
            changeset=changeset,
            type=settings.open311_endpoint_type,
        )
        body = georeport.render_discovery(
            changeset,
            settings.open311_contact,
            "No key is needed: the API is read-only and public.",
            [endpoint],
            chosen,
        )
        return Response(body, media_type=georeport.CONTENT_TYPES[chosen], headers=PUBLIC_HEADERS)

    return await _answering(request, fmt, answer)


@router.get("/open311/discovery.{fmt}")
async def discovery_in(request: Request, fmt: str) -> Response:
    return await _discovery(request, fmt)


@router.get("/open311/discovery")
async def discovery_json(request: Request) -> Response:
    return await _discovery(request, None)


@router.get(PREFIX + "/services.{fmt}")
async def services_in(request: Request, fmt: str) -> Response:
    return await _services(request, fmt)


@router.get(PREFIX + "/services")
async def services_json(request: Request) -> Response:
    return await _services(request, None)


@router.get(PREFIX + "/requests.{fmt}")
async def requests_in(request: Request, fmt: str) -> Response:
    return await _requests(request, fmt, None)


@router.get(PREFIX + "/requests")
async def requests_json(request: Request) -> Response:
    return await _requests(request, None, None)


@router.get(PREFIX + "/requests/{ticket}.{fmt}")
async def request_in(request: Request, ticket: str, fmt: str) -> Response:
    return await _requests(request, fmt, ticket)


@router.get(PREFIX + "/requests/{ticket}")
async def request_json(request: Request, ticket: str) -> Response:
    return await _requests(request, None, ticket)
