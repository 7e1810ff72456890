"""The program catalog (katalog program): its seed, who may edit what, and versioning.

Routing rules are data kept here, never code: each program names its owner agency, the channel
its SOP prescribes (direct, LAPOR!, SIKS-NG), the complaint categories and sub-types it takes,
and its SLA. National programs are seeded from the routing table of the SLRT guideline (IV.B.2);
district managers keep their district's regional, village and non-government programs.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from slrt.contracts.events import ProgramCatalogEntry
from slrt.contracts.vocabulary import Category, ProgramChannel

Level = Literal["national", "province", "district", "village", "non_government"]

_AREA_LENGTH: dict[str, int] = {"national": 0, "province": 2, "district": 4, "village": 10}


class ProgramSpec(BaseModel):
    """A program as a manager writes it (everything but code, version and audit fields)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    level: Level
    owner_agency: str = Field(min_length=2, max_length=300)
    area: str = Field(default="", pattern=r"^(\d{2}|\d{4}|\d{6}|\d{10})?$")
    """Place-code prefix the program serves ("" = national)."""
    channel: ProgramChannel
    categories: list[Category] = Field(min_length=1)
    sub_types: list[str] = Field(default_factory=list)
    sla_working_days: int = Field(ge=1, le=365)
    reminder_working_days: int | None = Field(default=None, ge=1, le=365)
    callback_url: str | None = Field(default=None, pattern=r"^https?://")
    """https, or plain http to a host the settings allow (see ``plain_http_refused``)."""
    webhook_secret_ref: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{1,99}$")
    contact_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    contact_phone: str | None = Field(default=None, pattern=r"^\+?\d{6,15}$")
    needs_nik: bool = False
    eligibility_notes: str | None = Field(default=None, max_length=5000)
    active_from: date | None = None
    active_until: date | None = None
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> ProgramSpec:
        expected = _AREA_LENGTH.get(self.level)
        if expected is not None and len(self.area) != expected:
            raise ValueError(f"a {self.level} program's area has {expected} digits")
        if self.active_from and self.active_until and self.active_until < self.active_from:
            raise ValueError("active_until is before active_from")
        if self.reminder_working_days and self.reminder_working_days >= self.sla_working_days:
            raise ValueError("the reminder comes before the SLA ends")
        if self.callback_url and not self.webhook_secret_ref:
            raise ValueError("a callback URL needs a webhook secret reference")
        return self


EDITABLE_FIELDS: tuple[str, ...] = tuple(ProgramSpec.model_fields)


def plain_http_refused(callback_url: str | None, allowed_hosts: Collection[str]) -> bool:
    """True when ``callback_url`` would carry referrals (personal data) over plain http to a
    host not in ``allowed_hosts`` (the registry's ``plain_http_callback_hosts``)."""
    if not callback_url:
        return False
    url = urlsplit(callback_url)
    allowed = {host.lower() for host in allowed_hosts}
    return url.scheme != "https" and (url.hostname or "") not in allowed


def may_edit(editor_area: str, program_area: str) -> bool:
    """A manager or administrator edits programs inside their own area only.

    The national secretariat (area "") edits everything; a district (``3204``) edits the
    programs of its district and its villages and the non-government programs there. A
    program's area length follows from its level, so a district editor never reaches a national
    or province program.
    """
    return program_area.startswith(editor_area)


def changed_fields(before: ProgramSpec | None, after: ProgramSpec) -> list[str]:
    """The fields an edit changes (all of them for a new program)."""
    if before is None:
        return list(EDITABLE_FIELDS)
    old, new = before.model_dump(), after.model_dump()
    return [name for name in EDITABLE_FIELDS if old[name] != new[name]]


def catalog_entry(code: str, spec: ProgramSpec, version: int) -> ProgramCatalogEntry:
    """The event routing and the notifier keep their copies from."""
    fields: dict[str, Any] = spec.model_dump(
        exclude={"eligibility_notes", "active_from", "active_until"}
    )
    return ProgramCatalogEntry(code=code, version=version, **fields)


def _national(**fields: Any) -> ProgramSpec:
    return ProgramSpec(level="national", area="", **fields)


_NEEDS_AND_IMPLEMENTATION = [Category.IMPLEMENTATION, Category.PROGRAM_NEED]

SEED: dict[str, ProgramSpec] = {
    "MEMBERSHIP_DTKS": _national(
        name="Keanggotaan DTKS (DT-PPFM) — usulan dan keluhan kepesertaan",
        owner_agency="Pokja Data Terpadu, Pusdatin Kemensos",
        channel=ProgramChannel.SIKS_NG,
        categories=[Category.MEMBERSHIP],
        sla_working_days=20,
        reminder_working_days=10,
        needs_nik=True,
    ),
    "PKH": _national(
        name="Program Keluarga Harapan (PKH)",
        owner_agency="Direktorat Jaminan Sosial Keluarga, Ditjen Linjamsos, Kemensos",
        channel=ProgramChannel.DIRECT,
        categories=_NEEDS_AND_IMPLEMENTATION,
        sla_working_days=10,
        reminder_working_days=5,
    ),
    "PIP_KEMENAG": _national(
        name="Program Indonesia Pintar (PIP) — madrasah",
        owner_agency="Kementerian Agama",
        channel=ProgramChannel.DIRECT,
        categories=_NEEDS_AND_IMPLEMENTATION,
        sub_types=["madrasah"],
        sla_working_days=10,
        reminder_working_days=5,
    ),
    "PIP_KEMENDIKBUD": _national(
        name="Program Indonesia Pintar (PIP) — sekolah umum",
        owner_agency="Kementerian Pendidikan dan Kebudayaan",
        channel=ProgramChannel.LAPOR,
        categories=_NEEDS_AND_IMPLEMENTATION,
        sub_types=["general_school"],
        sla_working_days=14,
        reminder_working_days=7,
    ),
    "BPNT": _national(
        name="Bantuan Pangan Non-Tunai (BPNT) / Rastra",
        owner_agency="Perum BULOG (kualitas, kuantitas beras); Tikor Rastra / Kemendagri",
        channel=ProgramChannel.LAPOR,
        categories=_NEEDS_AND_IMPLEMENTATION,
        sla_working_days=14,
        reminder_working_days=7,
    ),
    "PIS_PBI": _national(
        name="Program Indonesia Sehat — Penerima Bantuan Iuran (PIS-PBI / KIS)",
        owner_agency="Kemenkes / Dinas Kesehatan (layanan); BPJS Kesehatan (kepesertaan)",
        channel=ProgramChannel.LAPOR,
        categories=_NEEDS_AND_IMPLEMENTATION,
        sla_working_days=14,
        reminder_working_days=7,
    ),
}
"""The national programs (routing table of the guideline, IV.B.2), keyed by program code."""
