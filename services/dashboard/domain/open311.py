"""What SLRT publishes through Open311 GeoReport v2, as plain rules (no HTTP, no SQL).

- **Services**: one per complaint category and one per active program of the catalog, named
  in Bahasa Indonesia or English (``lang``). A request's ``service_code`` is its program's code
  when the complaint names a program, else its category's; asking for a category's code
  selects every request of that category, with or without a program.
- **Requests**: the public status of complaints (``slrt.public_status``, the notion intake's
  tracking page shows): ticket, service, open/closed with the step or outcome as the note, the
  dates, the agency of the program the complaint was referred to, and the place. Never personal
  data, never the free-text description (see ``PUBLIC_DESCRIPTION``).
- **Small cells**: the place is the dashboard's small-cell rule
  (``services.dashboard.domain.suppression.suppress_column``) applied to record listings: a
  request shows its sub-district only where the sub-district's count of requests of that
  service is not hidden among the sub-districts of its district (primary and secondary
  suppression), and within it its village only where the village's count is not hidden among
  the villages of that sub-district; else its district (which its ticket number names
  anyway). Counts are over every complaint in the read model, so no choice of filters
  changes what a request shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.dashboard.domain.georeport import ErrorItem, GeoReportError, Value
from services.dashboard.domain.suppression import suppress_column
from slrt.contracts.vocabulary import Category
from slrt.places import PlaceDirectory
from slrt.public_status import Status, language, outcome_label, status_of, step_label

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
"""The spec's default limit is "90 days or the first 1000 requests": a page holds at most 1000."""
MAX_SPAN = timedelta(days=90)
"""A date range may not span more than 90 days (the spec's rule); no range = the last 90 days."""
MAX_IDS = 100
PUBLIC_DESCRIPTION = None
"""A request's ``description`` is always empty. The household's words are free text about a
poor household's situation: masking (``slrt.masking``) takes out numbers, not names, illnesses
or family circumstances, so no category is safe to publish, anonymous or not; the service's
name and the status note say what the public may know."""

CATEGORY_SERVICES: dict[str, dict[str, tuple[str, str, str]]] = {
    # category: lang: (name, description, keywords)
    Category.MEMBERSHIP: {
        "id": (
            "Keluhan kepesertaan",
            "Rumah tangga miskin tidak terdaftar sebagai penerima program atau tidak ada dalam "
            "Data Terpadu (exclusion error), atau usulan kepesertaan baru.",
            "kepesertaan, exclusion error, DTKS, Data Terpadu, penerima bantuan",
        ),
        "en": (
            "Membership complaint",
            "A poor household is missing from a program's beneficiary list or from the social "
            "registry (exclusion error), or proposes a new membership.",
            "membership, exclusion error, social registry, DTKS, beneficiary list",
        ),
    },
    Category.IMPLEMENTATION: {
        "id": (
            "Keluhan pelaksanaan program",
            "Cara program dilaksanakan: bantuan terlambat atau tidak diterima, jumlah salah, "
            "kualitas beras, penolakan layanan, penyimpangan dana.",
            "pelaksanaan, bantuan terlambat, jumlah, kualitas, layanan, penyimpangan",
        ),
        "en": (
            "Program implementation complaint",
            "How a program is carried out: late or missing payments, wrong amounts, rice "
            "quality, refused service, misuse of funds.",
            "implementation, late payment, amount, quality, service, misuse",
        ),
    },
    Category.PROGRAM_NEED: {
        "id": (
            "Kebutuhan program",
            "Rumah tangga membutuhkan program yang belum diterimanya.",
            "kebutuhan, program, bantuan sosial",
        ),
        "en": (
            "Program need",
            "A household needs a program it does not receive yet.",
            "need, program, social assistance",
        ),
    },
    Category.INFORMATION: {
        "id": (
            "Permintaan informasi",
            "Pertanyaan tentang program perlindungan sosial, dijawab di tempat.",
            "informasi, pertanyaan, program",
        ),
        "en": (
            "Information request",
            "A question about social protection programs, answered on the spot.",
            "information, question, program",
        ),
    },
}

GROUPS: dict[str, dict[str, str]] = {
    "id": {
        "category": "Kategori pengaduan",
        "national": "Program nasional",
        "province": "Program provinsi",
        "district": "Program kabupaten/kota",
        "village": "Program desa",
        "non_government": "Program non-pemerintah (CSR, LSM)",
    },
    "en": {
        "category": "Complaint category",
        "national": "National program",
        "province": "Provincial program",
        "district": "District program",
        "village": "Village program",
        "non_government": "Non-government program (CSR, NGO)",
    },
}

PROGRAM_DESCRIPTION = {
    "id": "Pengaduan dan kebutuhan terkait program {name}, dikelola oleh {agency}.",
    "en": "Complaints and needs concerning the program {name}, run by {agency}.",
}


@dataclass(frozen=True)
class Program:
    """A program of the catalog as the read model keeps it."""

    code: str
    name: str
    owner_agency: str
    level: str | None = None
    area: str = ""
    categories: tuple[str, ...] = ()
    active: bool = True


def serves(program: Program, jurisdiction: str | None) -> bool:
    """Whether ``program`` serves (part of) ``jurisdiction`` (None: anywhere)."""
    if jurisdiction is None:
        return True
    return jurisdiction.startswith(program.area) or program.area.startswith(jurisdiction)


def service_list(
    programs: Iterable[Program], lang: str, jurisdiction: str | None
) -> list[dict[str, Value]]:
    """``GET services``: the categories, then the active programs serving ``jurisdiction``."""
    group = GROUPS[lang]
    listed: list[dict[str, Value]] = []
    for category in Category:
        name, description, keywords = CATEGORY_SERVICES[category][lang]
        listed.append(_service(category.value, name, description, keywords, group["category"]))
    for p in sorted(programs, key=lambda p: p.code):
        if not p.active or not serves(p, jurisdiction):
            continue
        labels = [CATEGORY_SERVICES[c][lang][0] for c in p.categories if c in CATEGORY_SERVICES]
        keywords = ", ".join([p.code, p.owner_agency, *labels])
        description = PROGRAM_DESCRIPTION[lang].format(name=p.name, agency=p.owner_agency)
        listed.append(
            _service(p.code, p.name, description, keywords, group.get(p.level or "", None))
        )
    return listed


def _service(
    code: str, name: str, description: str, keywords: str, group: str | None
) -> dict[str, Value]:
    return {
        "service_code": code,
        "service_name": name,
        "description": description,
        "metadata": False,  # nothing to ask beyond the request itself: no service definition
        "type": "realtime",  # intake answers a submission with its ticket at once
        "keywords": keywords,
        "group": group,
    }


def service_code_of(category: str, program_code: str | None) -> str:
    return program_code or category


def service_name_of(
    category: str, program_code: str | None, programs: Mapping[str, Program], lang: str
) -> str:
    if program_code and program_code in programs:
        return programs[program_code].name
    if program_code:
        return program_code
    return CATEGORY_SERVICES[category][lang][0] if category in CATEGORY_SERVICES else category


# --- the public status of one request -------------------------------------------------------


def georeport_status(step: str) -> tuple[Status, str]:
    """SLRT's public status and GeoReport's (open / closed: a withdrawn complaint is closed)."""
    status = status_of(step)
    return status, "open" if status == "open" else "closed"


def status_notes(step: str, outcome: str | None, lang: str) -> str:
    """The step the complaint is at while open; its outcome (or how it ended) once closed."""
    status = status_of(step)
    if status == "open":
        return step_label(step, lang)
    return outcome_label(outcome, lang) or step_label(step, lang)


def w3(moment: datetime, zone: ZoneInfo) -> str:
    """A w3 datetime with the offset (``2026-11-30T15:04:05+07:00``), whole seconds."""
    return moment.astimezone(zone).replace(microsecond=0).isoformat()


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)


@dataclass(frozen=True)
class Fact:
    """One complaint of the read model, the columns Open311 reads."""

    ticket_number: str
    place_code: str
    category: str
    program_code: str | None
    step: str
    outcome: str | None
    received_at: datetime
    updated_at: datetime | None
    closed_at: datetime | None
    resolve_due: date | None
    agency: str | None
    """The owner agency of the program the complaint's latest referral went to."""

    @property
    def service_code(self) -> str:
        return service_code_of(self.category, self.program_code)


def address_of(code: str, places: PlaceDirectory) -> str:
    """The place's name, then its parents', most specific first (the spec's order)."""
    names: list[str] = []
    for length, prefix in ((10, ""), (6, "Kecamatan "), (4, ""), (2, "")):
        if len(code) >= length:
            place = places.get(code[:length])
            if place is not None:
                names.append(prefix + place.name)
    return ", ".join(names) or code


def public_request(
    fact: Fact,
    shown_place: str,
    programs: Mapping[str, Program],
    places: PlaceDirectory,
    lang: str,
    zone: ZoneInfo,
) -> dict[str, Value]:
    """One request as the public may see it (GeoReport's field order)."""
    _, status = georeport_status(fact.step)
    closed = status == "closed"
    updated = fact.closed_at if closed and fact.closed_at else fact.updated_at
    expected = None if closed or fact.resolve_due is None else end_of_day(fact.resolve_due, zone)
    return {
        "service_request_id": fact.ticket_number,
        "status": status,
        "status_notes": status_notes(fact.step, fact.outcome, lang),
        "service_name": service_name_of(fact.category, fact.program_code, programs, lang),
        "service_code": fact.service_code,
        "description": PUBLIC_DESCRIPTION,
        "agency_responsible": fact.agency,
        "service_notice": None,
        "requested_datetime": w3(fact.received_at, zone),
        "updated_datetime": w3(updated or fact.received_at, zone),
        "expected_datetime": w3(expected, zone) if expected else None,
        "address": address_of(shown_place, places),
        "address_id": shown_place,
        "zipcode": None,
        "lat": None,  # the read model has no coordinates, only the village
        "long": None,
        "media_url": None,  # attachments never appear on public pages
    }


# --- small cells ----------------------------------------------------------------------------


def shown_places(counts: Mapping[tuple[str, str], int]) -> dict[tuple[str, str], str]:
    """For each (service code, village code) with requests, the place code a request there may
    show: the village, else its sub-district, else its district (module doc).

    ``counts`` must hold every village with requests of that service in each district asked
    about (the breakdowns are whole), as the dashboard's tables do."""
    villages: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for (service, village), n in counts.items():
        villages[(service, village[:6])][village] = n
    village_shown: set[tuple[str, str]] = set()
    sub_districts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for (service, sub_district), cells in villages.items():
        codes = sorted(cells)
        for code, shown in zip(codes, suppress_column([cells[c] for c in codes]), strict=True):
            if shown is not None:
                village_shown.add((service, code))
        sub_districts[(service, sub_district[:4])][sub_district] = sum(cells.values())
    sub_district_shown: set[tuple[str, str]] = set()
    for (service, _district), cells in sub_districts.items():
        codes = sorted(cells)
        for code, shown in zip(codes, suppress_column([cells[c] for c in codes]), strict=True):
            if shown is not None:
                sub_district_shown.add((service, code))
    result: dict[tuple[str, str], str] = {}
    for service, village in counts:
        # Top down, as one drills down the dashboard: below a hidden sub-district nothing is
        # shown, or its villages' counts would give its total (and its hidden siblings') away.
        if (service, village[:6]) not in sub_district_shown:
            result[(service, village)] = village[:4]
        elif (service, village) in village_shown:
            result[(service, village)] = village
        else:
            result[(service, village)] = village[:6]
    return result


# --- the query ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestQuery:
    """``GET requests`` after the rules: ``ids`` overrides every other filter but the
    jurisdiction (the spec: "This overrides all other arguments")."""

    jurisdiction: str | None = None
    ids: tuple[str, ...] | None = None
    service_codes: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    open: bool | None = None
    """True: open only; False: closed only; None: both."""
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def _given(params: Mapping[str, str], name: str) -> str | None:
    """The spec: an empty parameter is the same as one not sent."""
    value = params.get(name)
    return value.strip() if value and value.strip() else None


def _list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _w3(name: str, value: str, problems: list[ErrorItem]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        problems.append(
            ErrorItem(
                400,
                f"{name}: must be a w3 datetime with its timezone, e.g. 2026-01-01T00:00:00Z",
            )
        )
        return None
    return moment


def _positive(
    name: str, value: str | None, default: int, top: int, problems: list[ErrorItem]
) -> int:
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= top:
        problems.append(ErrorItem(400, f"{name}: must be a whole number from 1 to {top}"))
        return default
    return int(value)


SERVICE_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
TICKET_CHARS = frozenset("0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def is_ticket(text: str) -> bool:
    return 0 < len(text) <= 30 and set(text.upper()) <= TICKET_CHARS


def jurisdiction_of(value: str | None, places: PlaceDirectory) -> str | None:
    """``jurisdiction_id``: a province (2 digits) or district (4 digits) code, dots allowed;
    400 when it is not one, 404 when no such place exists."""
    if value is None or not value.strip():
        return None
    code = value.strip().replace(".", "")
    if not (code.isascii() and code.isdigit()) or len(code) not in (2, 4):
        raise GeoReportError.of(
            400, "jurisdiction_id", "must be a province (2 digits) or district (4 digits) code"
        )
    if places.get(code) is None:
        raise GeoReportError.of(404, "jurisdiction_id", f"no province or district {code}")
    return code


def request_query(params: Mapping[str, str], now: datetime, places: PlaceDirectory) -> RequestQuery:
    """The filters of ``GET requests``; every problem found is reported at once (400)."""
    jurisdiction = jurisdiction_of(_given(params, "jurisdiction_id"), places)
    problems: list[ErrorItem] = []
    page = _positive("page", _given(params, "page"), 1, 1_000_000, problems)
    page_size = _positive(
        "page_size", _given(params, "page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, problems
    )
    ids_text = _given(params, "service_request_id")
    if ids_text is not None:
        ids = _list(ids_text.upper())
        if len(ids) > MAX_IDS:
            problems.append(ErrorItem(400, f"service_request_id: at most {MAX_IDS} ids"))
        if not all(is_ticket(i) for i in ids):
            problems.append(
                ErrorItem(400, "service_request_id: ticket numbers such as 3204-26-000123")
            )
        if problems:
            raise GeoReportError(400, problems)
        return RequestQuery(jurisdiction, tuple(ids), page=page, page_size=page_size)

    codes: tuple[str, ...] | None = None
    codes_text = _given(params, "service_code")
    if codes_text is not None:
        codes = tuple(_list(codes_text))
        if any(len(c) > 40 or not set(c) <= SERVICE_CODE_CHARS for c in codes):
            problems.append(
                ErrorItem(400, "service_code: codes of GET services (letters, digits, _)")
            )
    is_open: bool | None = None
    status_text = _given(params, "status")
    if status_text is not None:
        statuses = set(_list(status_text.lower()))
        if not statuses or not statuses <= {"open", "closed"}:
            problems.append(ErrorItem(400, "status: open, closed or both (comma-separated)"))
        elif len(statuses) == 1:
            is_open = statuses == {"open"}
    start_text, end_text = _given(params, "start_date"), _given(params, "end_date")
    start = _w3("start_date", start_text, problems) if start_text else None
    end = _w3("end_date", end_text, problems) if end_text else None
    if start and end:
        if end < start:
            problems.append(ErrorItem(400, "end_date: must not be before start_date"))
        elif end - start > MAX_SPAN:
            problems.append(ErrorItem(400, "end_date: the range may span at most 90 days"))
    elif start and not end_text:
        end = start + MAX_SPAN
    elif end and not start_text:
        start = end - MAX_SPAN
    elif not start_text and not end_text:
        start, end = now - MAX_SPAN, now
    if problems:
        raise GeoReportError(400, problems)
    return RequestQuery(
        jurisdiction,
        None,
        codes,
        start,
        end,
        is_open,
        page=page,
        page_size=page_size,
    )


def language_of(params: Mapping[str, str], accept_language: str | None) -> str:
    """``lang=id|en`` (400 otherwise), else Accept-Language, else Bahasa Indonesia."""
    requested = _given(params, "lang")
    if requested is not None and requested not in ("id", "en"):
        raise GeoReportError.of(400, "lang", "id (Bahasa Indonesia, the default) or en")
    return language(requested, accept_language)
