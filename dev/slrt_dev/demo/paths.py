"""The week's paths through the complaint workflow, as data: who submits what, which move each
staff member or program manager makes at which step, and where the complaint must end.

A move waits for its step, then acts: a staff action on intake's API, or a program manager
moving the referral's LAPOR! report (tindak lanjut, selesai, ditolak, bukan kewenangan)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Who(StrEnum):
    """Whose complaint it is (pelapor)."""

    REGISTERED = "registered"
    """A member of a household in the district's DT-PPFM."""
    UNREGISTERED = "unregistered"
    """A resident the registry does not know: becomes a pre-list (daftar awal) entry."""
    ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Move:
    at_step: str
    action: str
    """An intake action path (``back-office-action``, ``manager-decision`` …) or ``lapor``."""
    role: str
    body: dict[str, Any] = field(default_factory=dict)
    local: bool = False
    """Acted by village staff (area = the complaint's village) rather than the district's."""
    after_sla: bool = False
    """Its step comes only when an SLA clock runs out (a referral expiring), so the demo waits
    for it up to ``DemoSettings.sla_wait_seconds`` instead of the usual step timeout."""


@dataclass(frozen=True)
class Path:
    key: str
    title: str
    who: Who
    category: str
    description: str
    moves: tuple[Move, ...]
    end_step: str
    end_outcome: str | None
    channel: str = "puskesos_walk_in"
    program_code: str | None = None
    submitter: str = "front_office"
    passes_through: tuple[str, ...] = ()
    """Transition reasons its timeline must show on the way (e.g. ``no_response``)."""


def _refer(program: str, reason: str | None = None) -> Move:
    body: dict[str, Any] = {"kind": "refer", "destination_program": program}
    if reason:
        body["override_reason"] = reason
    return Move("back_office", "back-office-action", "back_office", body)


APPROVE = Move("manager_approval", "manager-decision", "manager", {"decision": "approve"})
TOLD = Move(
    "feedback",
    "feedback",
    "facilitator",
    {"household_told": True, "household_response": "satisfied", "note": "dikunjungi"},
    local=True,
)


def _lapor(step: str, status: str, reply: str) -> Move:
    return Move(step, "lapor", "program_manager", {"status": status, "tanggapan": reply})


def _resolve(answer: str, code: str, *, after_sla: bool = False) -> Move:
    return Move(
        "back_office",
        "back-office-action",
        "back_office",
        {"kind": "resolve", "answer": answer, "decision_code": code},
        after_sla=after_sla,
    )


PATHS: tuple[Path, ...] = (
    Path(
        "information",
        "information request, answered at registration",
        Who.REGISTERED,
        "information",
        "Kapan jadwal penyaluran BPNT bulan ini?",
        (),
        "closed",
        "answered",
    ),
    Path(
        "back_office",
        "resolved at the back office",
        Who.REGISTERED,
        "implementation",
        "Kartu KKS hilang, mohon penggantian.",
        (_resolve("Kartu pengganti dicetak di kantor kecamatan.", "kks_replaced"), TOLD),
        "closed",
        "resolved_locally",
        program_code="BPNT",
    ),
    Path(
        "accepted",
        "referred and accepted",
        Who.REGISTERED,
        "implementation",
        "Bantuan BPNT tiga bulan terakhir belum diterima.",
        (_refer("BPNT"), APPROVE, _lapor("referred", "selesai", "Sudah disalurkan"), TOLD),
        "closed",
        "referral_accepted",
        program_code="BPNT",
    ),
    Path(
        "rejected",
        "referred and rejected",
        Who.REGISTERED,
        "implementation",
        "Kartu KIS ditolak di puskesmas.",
        (_refer("PIS_PBI"), APPROVE, _lapor("referred", "ditolak", "Tidak memenuhi syarat"), TOLD),
        "closed",
        "referral_rejected",
        program_code="PIS_PBI",
    ),
    Path(
        "under_review",
        "under review, then accepted",
        Who.REGISTERED,
        "implementation",
        "Beras BPNT yang diterima rusak dan berkutu.",
        (
            _refer("BPNT"),
            APPROVE,
            _lapor("referred", "tindak_lanjut", "Sedang diperiksa Bulog"),
            _lapor("under_review", "selesai", "Beras diganti"),
            TOLD,
        ),
        "closed",
        "referral_accepted",
        program_code="BPNT",
    ),
    Path(
        "rerouted",
        "not responsible, then re-routed",
        Who.REGISTERED,
        "implementation",
        "Iuran BPJS keluarga kami ditagih padahal penerima PBI.",
        (
            _refer("BPNT", "Keluhan tercatat pada penyaluran BPNT"),
            APPROVE,
            _lapor("referred", "bukan_kewenangan", "Bukan kewenangan BPNT"),
            _refer("PIS_PBI"),
            APPROVE,
            _lapor("referred", "selesai", "Status PBI dipulihkan"),
            TOLD,
        ),
        "closed",
        "referral_accepted",
        program_code="PIS_PBI",
    ),
    Path(
        "no_response",
        "no response: the referral expires, back office follows up",
        Who.REGISTERED,
        "implementation",
        "Bantuan BPNT bulan lalu belum diterima.",
        (
            _refer("BPNT"),
            APPROVE,
            # Nobody answers in LAPOR!: the referral's SLA and grace period run out (on the
            # stack's sped-up SLA clock) and the complaint is back at the back office.
            _resolve(
                "BULOG tidak menanggapi; dinas sosial menjadwalkan penyaluran susulan.",
                "followed_up_after_no_response",
                after_sla=True,
            ),
            TOLD,
        ),
        "closed",
        "resolved_locally",
        program_code="BPNT",
        passes_through=("no_response",),
    ),
    Path(
        "withdrawn",
        "withdrawn",
        Who.REGISTERED,
        "implementation",
        "Bantuan PKH belum diterima.",
        (
            Move(
                "back_office",
                "withdraw",
                "back_office",
                {"reason": "Bantuan sudah diterima, pelapor mencabut keluhan"},
            ),
        ),
        "withdrawn",
        "withdrawn",
        program_code="PKH",
    ),
    Path(
        "returned",
        "facilitator-captured, returned for correction",
        Who.REGISTERED,
        "implementation",
        "Bantuan belum diterima.",
        (
            Move(
                "supervisor_review",
                "supervisor-review",
                "supervisor",
                {"decision": "return_for_correction", "note": "Sebutkan programnya"},
            ),
            Move(
                "returned_for_correction",
                "correction",
                "facilitator",
                {
                    "description": "Bantuan BPNT bulan Oktober belum diterima.",
                    "category": "implementation",
                    "program_code": "BPNT",
                },
                local=True,
            ),
            Move("supervisor_review", "supervisor-review", "supervisor", {"decision": "approve"}),
            _resolve("Penyaluran susulan dijadwalkan.", "distribution_rescheduled"),
            TOLD,
        ),
        "closed",
        "resolved_locally",
        channel="facilitator_visit",
        program_code="PKH",
        submitter="facilitator",
    ),
    Path(
        "prelist",
        "outside the registry, pre-list entry",
        Who.UNREGISTERED,
        "membership",
        "Keluarga kami miskin tetapi tidak terdaftar di DTKS.",
        (_resolve("Diusulkan masuk daftar awal DT-PPFM.", "prelisted"), TOLD),
        "closed",
        "resolved_locally",
    ),
    Path(
        "anonymous",
        "anonymous misuse-of-funds report",
        Who.ANONYMOUS,
        "implementation",
        "Dana bantuan dipotong oleh oknum pendamping saat pencairan.",
        (
            _refer("BPNT"),
            APPROVE,
            _lapor("referred", "selesai", "Oknum ditindak"),
            Move(
                "feedback",
                "feedback",
                "facilitator",
                {"household_told": True, "note": "Hasil diumumkan di papan informasi desa"},
                local=True,
            ),
        ),
        "closed",
        "referral_accepted",
        channel="district_walk_in",
        program_code="BPNT",
    ),
)


def week(complaints: int) -> list[Path]:
    """``complaints`` paths in a repeating order, so every path is played at least once when
    there are at least as many complaints as paths."""
    return [PATHS[i % len(PATHS)] for i in range(complaints)]
