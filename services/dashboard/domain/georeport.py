"""The Open311 GeoReport v2 wire formats (wiki.open311.org/GeoReport_v2): XML (the required
format: schemaless, no namespace, UTF-8 with the declaration) and JSON (the "Spark convention"
mapping of the XML: a list of objects, ``null`` where the XML has an empty element).

Pure functions: a list of ordered field mappings in, bytes out. The SLRT meaning of each field
is ``services.dashboard.domain.open311``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from xml.etree import ElementTree as ET

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
CONTENT_TYPES: dict[Format, str] = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}

Value = str | int | bool | None

SERVICE_FIELDS = (
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
)
"""A service of ``GET services``, in the spec's order."""

REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
"""A request of ``GET requests`` and ``GET requests/{id}``, in the spec's order."""

ROOTS: dict[str, tuple[str, str]] = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}
"""Each document's root element and the element of one item (XML); JSON is the bare list."""


@dataclass(frozen=True)
class ErrorItem:
    """One entry of the spec's error document: ``code`` and a human-readable ``description``
    (here always naming the parameter and the rule it broke)."""

    code: int
    description: str


@dataclass
class GeoReportError(Exception):
    """An answer in the spec's error format: the HTTP status and one entry per problem."""

    status: int
    problems: list[ErrorItem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, status: int, parameter: str, rule: str) -> GeoReportError:
        return cls(status, [ErrorItem(status, f"{parameter}: {rule}")])


def _text(value: Value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(kind: str, items: Sequence[Mapping[str, Value]], fmt: Format) -> bytes:
    """The document ``kind`` (services, requests, errors) holding ``items`` in ``fmt``."""
    if fmt == "json":
        return json.dumps([dict(item) for item in items], ensure_ascii=False).encode()
    root_tag, item_tag = ROOTS[kind]
    root = ET.Element(root_tag)
    for item in items:
        element = ET.SubElement(root, item_tag)
        for name, value in item.items():
            ET.SubElement(element, name).text = _text(value)
    body = ET.tostring(root, encoding="unicode", short_empty_elements=False)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


def render_errors(error: GeoReportError, fmt: Format) -> bytes:
    return render(
        "errors", [{"code": p.code, "description": p.description} for p in error.problems], fmt
    )


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the service discovery document."""

    url: str
    changeset: str
    type: Literal["production", "test"]
    specification: str = "http://wiki.open311.org/GeoReport_v2"
    formats: tuple[str, ...] = ("text/xml", "application/json")


def render_discovery(
    changeset: str, contact: str, key_service: str, endpoints: Sequence[Endpoint], fmt: Format
) -> bytes:
    """The Open311 service discovery document (``/discovery.{json,xml}``; every field is
    required by its spec)."""
    if fmt == "json":
        return json.dumps(
            {
                "changeset": changeset,
                "contact": contact,
                "key_service": key_service,
                "endpoints": [
                    {
                        "specification": e.specification,
                        "url": e.url,
                        "changeset": e.changeset,
                        "type": e.type,
                        "formats": list(e.formats),
                    }
                    for e in endpoints
                ],
            },
            ensure_ascii=False,
        ).encode()
    root = ET.Element("discovery")
    for name, value in (("changeset", changeset), ("contact", contact)):
        ET.SubElement(root, name).text = value
    ET.SubElement(root, "key_service").text = key_service
    listed = ET.SubElement(root, "endpoints")
    for e in endpoints:
        element = ET.SubElement(listed, "endpoint")
        for name, value in (
            ("specification", e.specification),
            ("url", e.url),
            ("changeset", e.changeset),
            ("type", e.type),
        ):
            ET.SubElement(element, name).text = value
        formats = ET.SubElement(element, "formats")
        for mime in e.formats:
            ET.SubElement(formats, "format").text = mime
    body = ET.tostring(root, encoding="unicode", short_empty_elements=False)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()
