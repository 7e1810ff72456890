"""The Open311 GeoReport v2 rules as plain functions: the services, a request's public view, the
small-cell rule on listings, the query's rules, and the wire formats against the spec's shapes."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from services.dashboard.domain import georeport, open311
from services.dashboard.domain.georeport import GeoReportError
from services.dashboard.domain.open311 import Fact, Program
from slrt.places import directory
from tests.dashboard import georeport_spec as spec

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
PROGRAMS = [
    Program("BPNT", "Bantuan Pangan Non Tunai", "Kementerian Sosial", "national", "",
            ("implementation",)),
    Program("LANSIA_3204", "Bantuan Lansia", "Dinas Sosial Kab. Bandung", "district", "3204",
            ("program_need",)),
    Program("LANSIA_3273", "Bantuan Lansia Kota", "Dinas Sosial Kota Bandung", "district",
            "3273", ()),
    Program("OLD", "Program lama", "Dinas", "district", "", (), active=False),
]  # fmt: skip


def fact(**changes: Any) -> Fact:
    base: dict[str, Any] = {
        "ticket_number": "3204-26-000001",
        "place_code": "3204052001",
        "category": "implementation",
        "program_code": "BPNT",
        "step": "referred",
        "outcome": None,
        "received_at": datetime(2026, 11, 2, 2, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 3, 2, 0, 30, 123, tzinfo=UTC),
        "closed_at": None,
        "resolve_due": date(2026, 11, 16),
        "agency": "Kementerian Sosial",
    }
    return Fact(**{**base, **changes})


def view(f: Fact, lang: str = "id", shown: str | None = None) -> dict[str, Any]:
    programs = {p.code: p for p in PROGRAMS}
    return open311.public_request(f, shown or f.place_code, programs, directory(), lang, JAKARTA)


# --- services ---------------------------------------------------------------------------------


def test_services_are_the_categories_then_the_active_programs_in_either_language() -> None:
    listed = open311.service_list(PROGRAMS, "id", None)
    codes = [s["service_code"] for s in listed]
    assert codes == [
        "membership",
        "implementation",
        "program_need",
        "information",
        "BPNT",
        "LANSIA_3204",
        "LANSIA_3273",
    ]
    assert listed[0]["service_name"] == "Keluhan kepesertaan"
    assert listed[0]["group"] == "Kategori pengaduan"
    assert listed[4]["group"] == "Program nasional"
    assert "Kementerian Sosial" in str(listed[4]["description"])
    assert all(s["metadata"] is False and s["type"] == "realtime" for s in listed)
    english = open311.service_list(PROGRAMS, "en", None)
    assert english[0]["service_name"] == "Membership complaint"
    assert english[5]["group"] == "District program"
    assert english[5]["service_name"] == "Bantuan Lansia"  # a program's name is its own
    assert "Program need" in str(english[5]["keywords"])
    for s in listed + english:
        assert list(s) == spec.SERVICE_FIELDS
        jsonschema.validate(s, spec.SERVICE_SCHEMA)


def test_a_jurisdiction_lists_the_programs_serving_it() -> None:
    in_3204 = [s["service_code"] for s in open311.service_list(PROGRAMS, "id", "3204")]
    assert "LANSIA_3204" in in_3204
    assert "LANSIA_3273" not in in_3204
    assert "BPNT" in in_3204  # national
    in_west_java = [s["service_code"] for s in open311.service_list(PROGRAMS, "id", "32")]
    assert {"LANSIA_3204", "LANSIA_3273", "BPNT"} <= set(in_west_java)


# --- one request ------------------------------------------------------------------------------


def test_an_open_request_shows_its_step_dates_agency_and_village_and_no_description() -> None:
    shown = view(fact())
    assert list(shown) == spec.REQUEST_FIELDS
    jsonschema.validate(shown, spec.REQUEST_SCHEMA)
    assert shown["service_request_id"] == "3204-26-000001"
    assert shown["status"] == "open"
    assert shown["status_notes"] == "Dirujuk ke pengelola program"
    assert shown["service_code"] == "BPNT"
    assert shown["service_name"] == "Bantuan Pangan Non Tunai"
    assert shown["description"] is None
    assert shown["agency_responsible"] == "Kementerian Sosial"
    assert shown["requested_datetime"] == "2026-11-02T09:00:00+07:00"
    assert shown["updated_datetime"] == "2026-11-03T09:00:30+07:00"
    assert shown["expected_datetime"] == "2026-11-16T23:59:59+07:00"
    assert shown["address_id"] == "3204052001"
    assert shown["address"] == ("Cileunyi Kulon, Kecamatan Cileunyi, Kabupaten Bandung, Jawa Barat")
    assert shown["lat"] is None
    assert shown["long"] is None
    assert shown["media_url"] is None
    assert view(fact(), "en")["status_notes"] == "Referred to the program manager"


def test_a_closed_request_shows_its_outcome_and_when_it_closed() -> None:
    closed_at = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
    shown = view(fact(step="closed", outcome="referral_accepted", closed_at=closed_at))
    assert shown["status"] == "closed"
    assert shown["status_notes"] == "Diterima oleh pengelola program"
    assert shown["updated_datetime"] == "2026-11-10T11:00:00+07:00"
    assert shown["expected_datetime"] is None
    withdrawn = view(fact(step="withdrawn", outcome="withdrawn", closed_at=closed_at), "en")
    assert (withdrawn["status"], withdrawn["status_notes"]) == ("closed", "Withdrawn")


def test_a_request_without_a_program_is_its_category_and_shows_a_generalised_place() -> None:
    shown = view(fact(program_code=None, category="membership", agency=None), shown="320405")
    assert shown["service_code"] == "membership"
    assert shown["service_name"] == "Keluhan kepesertaan"
    assert shown["agency_responsible"] is None
    assert shown["address_id"] == "320405"
    assert shown["address"] == "Kecamatan Cileunyi, Kabupaten Bandung, Jawa Barat"


# --- small cells ------------------------------------------------------------------------------


def test_small_cells_hide_villages_then_sub_districts_as_the_dashboard_does() -> None:
    counts = {
        # sub-district 320405: one small village (2) → the next smallest (6) is hidden too
        ("BPNT", "3204052001"): 2,
        ("BPNT", "3204052002"): 6,
        ("BPNT", "3204052003"): 9,
        # sub-district 320406: all villages small; its total (4) is small among 320405's 17
        # and 320407's 5: hidden, and 320407 (the next smallest) with it
        ("BPNT", "3204062001"): 1,
        ("BPNT", "3204062002"): 3,
        ("BPNT", "3204072001"): 5,
        # another service: counted on its own
        ("membership", "3204052001"): 5,
    }
    shown = open311.shown_places(counts)
    assert shown[("BPNT", "3204052001")] == "320405"
    assert shown[("BPNT", "3204052002")] == "320405"
    assert shown[("BPNT", "3204052003")] == "3204052003"
    assert shown[("BPNT", "3204062001")] == "3204"
    assert shown[("BPNT", "3204062002")] == "3204"
    assert shown[("BPNT", "3204072001")] == "3204"  # secondary: the village is a whole cell
    assert shown[("membership", "3204052001")] == "3204052001"


def test_a_lone_village_of_a_sub_district_is_shown_when_its_count_is_not_small() -> None:
    assert open311.shown_places({("PKH", "3204052001"): 7}) == {("PKH", "3204052001"): "3204052001"}
    assert open311.shown_places({("PKH", "3204052001"): 4}) == {("PKH", "3204052001"): "3204"}


# --- the query --------------------------------------------------------------------------------


def test_no_dates_mean_the_last_90_days_and_empty_parameters_are_not_sent() -> None:
    query = open311.request_query({"status": "", "service_code": ""}, NOW, directory())
    assert (query.start, query.end) == (NOW - timedelta(days=90), NOW)
    assert query.open is None
    assert query.service_codes is None
    assert (query.page, query.page_size) == (1, open311.DEFAULT_PAGE_SIZE)


def test_filters_are_read_as_the_spec_writes_them() -> None:
    query = open311.request_query(
        {
            "jurisdiction_id": "32.04",
            "service_code": "BPNT,membership",
            "status": "closed",
            "start_date": "2026-11-01T00:00:00Z",
            "page": "3",
            "page_size": "20",
        },
        NOW,
        directory(),
    )
    assert query.jurisdiction == "3204"
    assert query.service_codes == ("BPNT", "membership")
    assert query.open is False
    assert query.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert query.end == datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=90)
    assert query.offset == 40
    both = open311.request_query({"status": "open,closed"}, NOW, directory())
    assert both.open is None


def test_ids_override_every_other_filter_but_the_jurisdiction() -> None:
    query = open311.request_query(
        {"service_request_id": "3204-26-000001, 3204-26-000002", "status": "bogus"},
        NOW,
        directory(),
    )
    assert query.ids == ("3204-26-000001", "3204-26-000002")
    assert query.start is None
    assert query.open is None


def _problems(params: dict[str, str]) -> tuple[int, list[str]]:
    with pytest.raises(GeoReportError) as raised:
        open311.request_query(params, NOW, directory())
    return raised.value.status, [p.description for p in raised.value.problems]


def test_bad_filters_are_400_naming_each_parameter_and_its_rule() -> None:
    status, problems = _problems(
        {
            "status": "pending",
            "start_date": "yesterday",
            "end_date": "2026-11-01T00:00:00",
            "page_size": "5000",
            "page": "0",
            "service_code": "BPNT;DROP",
        }
    )
    assert status == 400
    assert problems == [
        "page: must be a whole number from 1 to 1000000",
        "page_size: must be a whole number from 1 to 1000",
        "service_code: codes of GET services (letters, digits, _)",
        "status: open, closed or both (comma-separated)",
        "start_date: must be a w3 datetime with its timezone, e.g. 2026-01-01T00:00:00Z",
        "end_date: must be a w3 datetime with its timezone, e.g. 2026-01-01T00:00:00Z",
    ]
    assert _problems({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"})[
        1
    ] == ["end_date: the range may span at most 90 days"]
    assert _problems({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"})[
        1
    ] == ["end_date: must not be before start_date"]
    assert _problems({"service_request_id": "<script>"})[1] == [
        "service_request_id: ticket numbers such as 3204-26-000123"
    ]


def test_a_jurisdiction_is_a_province_or_district_that_exists() -> None:
    assert open311.jurisdiction_of("32", directory()) == "32"
    with pytest.raises(GeoReportError) as bad:
        open311.jurisdiction_of("3204052001", directory())
    assert bad.value.status == 400
    assert bad.value.problems[0].description.startswith("jurisdiction_id: must be a province")
    with pytest.raises(GeoReportError) as not_ascii:
        open311.jurisdiction_of("٣٢", directory())  # Arabic-Indic digits are not a code
    assert not_ascii.value.status == 400
    with pytest.raises(GeoReportError) as unknown:
        open311.jurisdiction_of("9999", directory())
    assert unknown.value.status == 404
    assert unknown.value.problems[0].description == "jurisdiction_id: no province or district 9999"


def test_the_language_is_lang_else_accept_language_else_bahasa_indonesia() -> None:
    assert open311.language_of({}, None) == "id"
    assert open311.language_of({}, "en-US,en;q=0.9") == "en"
    assert open311.language_of({"lang": "id"}, "en") == "id"
    with pytest.raises(GeoReportError) as bad:
        open311.language_of({"lang": "fr"}, None)
    assert bad.value.problems[0].description == "lang: id (Bahasa Indonesia, the default) or en"


# --- the wire formats against the spec's shapes ----------------------------------------------


def _structure(document: bytes | str) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """(root, [(item, [field, ...]), ...]) of an XML document."""
    root = ET.fromstring(document)  # noqa: S314 (our own output and our own examples)
    return [(root.tag, [(item.tag, [f.tag for f in item]) for item in root])]


def _spec_structure(example: str) -> tuple[str, str, list[str]]:
    [(root, [(item, fields)])] = _structure(example)
    return root, item, fields


@pytest.mark.parametrize(
    ("kind", "example", "items"),
    [
        ("services", spec.EXAMPLE_SERVICES_XML, lambda: open311.service_list(PROGRAMS, "id", None)),
        ("requests", spec.EXAMPLE_REQUESTS_XML, lambda: [view(fact()), view(fact(step="closed"))]),
    ],
)
def test_xml_and_json_have_the_structure_of_the_spec_examples(
    kind: str, example: str, items: Any
) -> None:
    rows = items()
    xml = georeport.render(kind, rows, "xml")
    assert xml.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    root, item, fields = _spec_structure(example)
    [(got_root, got_items)] = _structure(xml)
    assert got_root == root
    assert got_items == [(item, fields)] * len(rows)
    parsed = ET.fromstring(xml)  # noqa: S314
    first = parsed[0]
    for name in fields:  # null is an empty element; booleans are true/false
        value = rows[0][name]
        text = first.find(name).text  # type: ignore[union-attr]
        expected = str(value).lower() if isinstance(value, bool) else value
        expected = None if value is None else str(expected)
        assert text == expected
    document = json.loads(georeport.render(kind, rows, "json"))
    schema = spec.SERVICE_SCHEMA if kind == "services" else spec.REQUEST_SCHEMA
    jsonschema.validate(document, spec.list_of(schema))
    assert [list(d) for d in document] == [fields] * len(rows)


def test_errors_are_the_spec_error_document_in_both_formats() -> None:
    error = GeoReportError(400, [georeport.ErrorItem(400, "status: open, closed or both")])
    xml = georeport.render_errors(error, "xml")
    assert _structure(xml) == _structure(spec.EXAMPLE_ERRORS_XML)
    document = json.loads(georeport.render_errors(error, "json"))
    jsonschema.validate(document, spec.list_of(spec.ERROR_SCHEMA))
    assert document == [{"code": 400, "description": "status: open, closed or both"}]


def test_xml_escapes_what_it_carries() -> None:
    row = {**view(fact()), "service_name": "A & B <c>"}
    parsed = ET.fromstring(georeport.render("requests", [row], "xml"))  # noqa: S314
    assert parsed[0].find("service_name").text == "A & B <c>"  # type: ignore[union-attr]


def _tree(element: ET.Element) -> tuple[str, list[Any]]:
    return element.tag, [_tree(child) for child in element]


def test_the_discovery_document_has_the_structure_of_the_spec_example() -> None:
    endpoint = georeport.Endpoint("https://slrt.example.id/open311/v2", "2026-11-30 10:00", "test")
    args = ("2026-11-30 10:00", "Sekretariat SLRT", "No key is needed.", [endpoint])
    xml = georeport.render_discovery(*args, "xml")
    ours = ET.fromstring(xml)  # noqa: S314
    theirs = ET.fromstring(spec.EXAMPLE_DISCOVERY_XML)  # noqa: S314
    assert _tree(ours) == _tree(theirs)
    assert ours.findtext("endpoints/endpoint/type") == "test"
    document = json.loads(georeport.render_discovery(*args, "json"))
    jsonschema.validate(document, spec.DISCOVERY_SCHEMA)
    assert document["endpoints"][0]["formats"] == ["text/xml", "application/json"]


def test_any_query_is_read_or_refused_with_a_named_rule_never_an_exception() -> None:
    """Strings of every kind in every parameter: a query or a GeoReportError (4xx) naming the
    parameter, nothing else."""
    rng = random.Random(311)
    alphabet = "0123456789-,.:TZz+ aAoOpPeEnNcClLsSdD_<>&'\"\\\x00é²٣"
    names = [
        "jurisdiction_id",
        "service_request_id",
        "service_code",
        "start_date",
        "end_date",
        "status",
        "page",
        "page_size",
        "lang",
    ]
    for _ in range(2000):
        params = {
            name: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
            for name in rng.sample(names, rng.randint(1, len(names)))
        }
        refused: GeoReportError | None = None
        try:
            open311.language_of(params, None)
            open311.request_query(params, NOW, directory())
        except GeoReportError as error:
            refused = error
        if refused is not None:
            assert 400 <= refused.status < 500
            for item in refused.problems:
                assert item.description.split(":")[0] in names, item.description
