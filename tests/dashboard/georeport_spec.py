"""The shapes GeoReport v2 prescribes (wiki.open311.org/GeoReport_v2), written out from the
spec's field tables and example responses, for checking the dashboard's Open311 output.

- ``*_FIELDS``: each document's elements in the order the spec's examples list them;
- ``*_SCHEMA``: JSON Schemas of one item as the spec's tables type them (service codes and
  request ids are strings; ``metadata`` a boolean; ``type`` one of realtime/batch/blackbox;
  ``status`` open/closed; datetimes w3 with a timezone; ``lat``/``long`` numbers; optional
  fields may be null), in the spirit of the Open311 project's own schema-validation files;
- ``EXAMPLE_*``: example documents with the structure of the spec's examples (root element,
  item element, every field; our own values), so a test can compare our output with them
  element by element.
"""

from __future__ import annotations

from typing import Any

W3_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$"

SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
REQUEST_FIELDS = [
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
]
ERROR_FIELDS = ["code", "description"]


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_STRING = {"type": "string"}
_DATETIME = {"type": "string", "pattern": W3_DATETIME}

SERVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "additionalProperties": False,
    "properties": {
        "service_code": _STRING,
        "service_name": _STRING,
        "description": _nullable(_STRING),
        "metadata": {"type": "boolean"},
        "type": {"enum": ["realtime", "batch", "blackbox"]},
        "keywords": _nullable(_STRING),
        "group": _nullable(_STRING),
    },
}
REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "additionalProperties": False,
    "properties": {
        "service_request_id": _STRING,
        "status": {"enum": ["open", "closed"]},
        "status_notes": _nullable(_STRING),
        "service_name": _nullable(_STRING),
        "service_code": _STRING,
        "description": _nullable({"type": "string", "maxLength": 4000}),
        "agency_responsible": _nullable(_STRING),
        "service_notice": _nullable(_STRING),
        "requested_datetime": _DATETIME,
        "updated_datetime": _nullable(_DATETIME),
        "expected_datetime": _nullable(_DATETIME),
        "address": _nullable(_STRING),
        "address_id": _nullable(_STRING),
        "zipcode": _nullable(_STRING),
        "lat": _nullable({"type": "number"}),
        "long": _nullable({"type": "number"}),
        "media_url": _nullable(_STRING),
    },
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "description"],
    "additionalProperties": False,
    "properties": {"code": {"type": "integer"}, "description": _STRING},
}


def list_of(item: dict[str, Any]) -> dict[str, Any]:
    """A JSON document of GeoReport: a bare array of items."""
    return {"type": "array", "items": item}


EXAMPLE_SERVICES_XML = """<?xml version="1.0" encoding="utf-8"?>
<services>
    <service>
        <service_code>S1</service_code>
        <service_name>A service</service_name>
        <description>What it is for.</description>
        <metadata>false</metadata>
        <type>realtime</type>
        <keywords>one, two</keywords>
        <group>a group</group>
    </service>
</services>
"""

EXAMPLE_REQUESTS_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>1</service_request_id>
        <status>closed</status>
        <status_notes>Done.</status_notes>
        <service_name>A service</service_name>
        <service_code>S1</service_code>
        <description></description>
        <agency_responsible></agency_responsible>
        <service_notice></service_notice>
        <requested_datetime>2026-01-01T08:00:00+07:00</requested_datetime>
        <updated_datetime>2026-01-02T08:00:00+07:00</updated_datetime>
        <expected_datetime>2026-01-03T08:00:00+07:00</expected_datetime>
        <address>Somewhere</address>
        <address_id>A1</address_id>
        <zipcode></zipcode>
        <lat></lat>
        <long></long>
        <media_url></media_url>
    </request>
</service_requests>
"""

EXAMPLE_ERRORS_XML = """<?xml version="1.0" encoding="utf-8"?>
<errors>
    <error>
        <code>400</code>
        <description>Something was wrong.</description>
    </error>
</errors>
"""

EXAMPLE_DISCOVERY_XML = """<?xml version="1.0" encoding="utf-8"?>
<discovery>
    <changeset>2026-01-01 08:00</changeset>
    <contact>Who to ask.</contact>
    <key_service>How to get a key.</key_service>
    <endpoints>
        <endpoint>
            <specification>http://wiki.open311.org/GeoReport_v2</specification>
            <url>https://example.id/open311/v2</url>
            <changeset>2026-01-01 08:00</changeset>
            <type>production</type>
            <formats>
                <format>text/xml</format>
                <format>application/json</format>
            </formats>
        </endpoint>
    </endpoints>
</discovery>
"""
"""The service discovery document (wiki.open311.org/Service_Discovery): every field required."""

DISCOVERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "additionalProperties": False,
    "properties": {
        "changeset": _STRING,
        "contact": _STRING,
        "key_service": _STRING,
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "additionalProperties": False,
                "properties": {
                    "specification": _STRING,
                    "url": _STRING,
                    "changeset": _STRING,
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": _STRING},
                },
            },
        },
    },
}
