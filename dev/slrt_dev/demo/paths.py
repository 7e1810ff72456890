"""The week's paths through the complaint workflow, as data: who submits what, which move each
staff member or program manager makes at which step, where the complaint must end, and what
must have reached the outside world on the way (the household's messages, each referral and
its answer).

A move waits for its step, then acts: a staff action on intake's API; a program manager
moving the referral's LAPOR! report (tindak lanjut, selesai, ditolak, bukan kewenangan); a
program's own system answering on its signed callback (``webhook``); a program manager
opening the answer link the notifier emailed them and submitting its form (``answer_link``);
Pokja Data Terpadu giving SIKS-NG's verdict on a membership referral (``siks_ng``:
diverifikasi, disetujui, ditolak, bukan kewenangan); or the registry's verification cycle for
a correction the back office proposed from the complaint (``siks_ng_verification``: the
district's reviewer approves the complaint's change proposals, the district exports the SIKS-NG
batch, and SIKS-NG's results come back through the registry's results import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from slrt_dev.demo.programs import ANSWER_LINK_PROGRAM, WEBHOOK_PROGRAM


class Who(StrEnum):
    """Whose complaint it is (pelapor)."""

    REGISTERED = "registered"
    """A member of a household in the district's DT-PPFM."""
    UNREGISTERED = "unregistered"
    """A resident the registry does not know: becomes a pre-list (daftar awal) entry."""
    ANONYMOUS = "anonymous"


class Via(StrEnum):
    """How a referral reaches its destination, and how the destination answers."""

    LAPOR = "lapor"
    """A LAPOR! report; the agency moves its status, the notifier's poller reads it."""
    WEBHOOK = "webhook"
    """A signed webhook to the program's system, which answers on the signed callback."""
    ANSWER_LINK = "answer_link"
    """An email with an answer link; the program manager answers on the link's page."""
    SIKS_NG = "siks_ng"
    """A SIKS-NG submission (membership); Pokja Data Terpadu gives its verdict in SIKS-NG, the
    notifier's poller reads it."""


MEMBERSHIP_PROGRAM = "MEMBERSHIP_DTKS"
"""The seeded national catalog's registry keepers (Pokja Data Terpadu, Pusdatin Kemensos):
membership complaints are referred there, through SIKS-NG."""


PROGRAM_VIA: dict[str, Via] = {
    "BPNT": Via.LAPOR,
    "PIS_PBI": Via.LAPOR,
    WEBHOOK_PROGRAM: Via.WEBHOOK,
    ANSWER_LINK_PROGRAM: Via.ANSWER_LINK,
    MEMBERSHIP_PROGRAM: Via.SIKS_NG,
}
"""The channel each program the week refers to has in the catalog."""


class Contact(StrEnum):
    """How the complainant can be reached (what the submission gives)."""

    PHONE = "phone"
    """A mobile number: household messages come by SMS."""
    EMAIL = "email"
    """An email address and no phone: household messages come by email (the SMTP sink)."""
    NONE = "none"
    """Neither: each household message is handed to the village facilitator, whose task
    (``facilitator_task``) goes out instead."""


FACILITATOR_MAILBOX = "pendamping.desa@dinsos.demo.example"
"""The demo district's facilitators' mailbox in the notifier's contact directory (the local
stack and the demo test write it): where their tasks arrive, at the SMTP sink."""


class Message(StrEnum):
    """The household messages (templates of the agreed spec) a complainant receives."""

    REGISTERED = "household_registered"
    INFORMATION_NEEDED = "household_information_needed"
    OUTCOME = "household_outcome"
    REOPENED = "household_reopened"
    FINAL = "household_final"


@dataclass(frozen=True)
class Referral:
    """One referral the path makes, and how its destination answers it."""

    program: str
    answers: tuple[str, ...] = ()
    """The destination's answers in order (``under_review``, ``accepted`` …); none: it expires."""

    @property
    def via(self) -> Via:
        return PROGRAM_VIA[self.program]

    @property
    def decision(self) -> str | None:
        """The last answer (what the dashboard counts as accepted or rejected)."""
        return self.answers[-1] if self.answers else None

    @property
    def expired(self) -> bool:
        return not self.answers


@dataclass(frozen=True)
class Move:
    at_step: str
    action: str
    """An intake action path (``back-office-action``, ``manager-decision`` …), or how a
    program answers: ``lapor``, ``webhook``, ``answer_link``, ``siks_ng``."""
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
    messages: tuple[Message, ...] = ()
    """The household messages the complainant must receive, exactly these (in any order: the
    notifier sends in parallel) — by SMS, by email or through the facilitator, as ``contact``
    says; an anonymous complainant receives none."""
    contact: Contact = Contact.PHONE
    """What the complainant gives to be reached (ignored for an anonymous one)."""
    referrals: tuple[Referral, ...] = ()
    """Every referral the path makes, in order, with its destination's answers."""

    @property
    def final_program(self) -> str | None:
        """The program the complaint names in the end (a correction may change it)."""
        program = self.program_code
        for move in self.moves:
            if move.action == "correction" and "program_code" in move.body:
                program = move.body["program_code"]
        return program


TOLD_MESSAGES = (Message.REGISTERED, Message.OUTCOME)
"""Registered, then told the outcome; a satisfied household gets no final message."""


def _refer(program: str, reason: str | None = None) -> Move:
    body: dict[str, Any] = {"kind": "refer", "destination_program": program}
    if reason:
        body["override_reason"] = reason
    return Move("back_office", "back-office-action", "back_office", body)


APPROVE = Move(
    "manager_approval",
    "manager-decision",
    "manager",
    {"decision": "approve", "note": "Disetujui untuk dirujuk sesuai SOP program"},
)
"""The manager approves with a note; the demo's manager is a different user from the back
office that proposed (``demo-manager-<area>`` vs ``demo-back_office-<area>``)."""
TOLD = Move(
    "feedback",
    "feedback",
    "facilitator",
    {"household_told": True, "household_response": "satisfied", "note": "dikunjungi"},
    local=True,
)


def _lapor(step: str, status: str, reply: str) -> Move:
    return Move(step, "lapor", "program_manager", {"status": status, "tanggapan": reply})


def _webhook(decision: str, note: str) -> Move:
    return Move("referred", "webhook", "program_manager", {"decision": decision, "note": note})


def _answer_link(decision: str, note: str) -> Move:
    return Move("referred", "answer_link", "program_manager", {"decision": decision, "note": note})


def _siks_ng(step: str, status: str, note: str) -> Move:
    return Move(step, "siks_ng", "program_manager", {"status": status, "keterangan": note})


HOUSEHOLD = "<household>"
"""Stands in a move's body for the complaint's household id in the registry (the registry
check's ``registry.household_id``), filled in when the move is made."""


def _correct(evidence: str, *changes: dict[str, Any]) -> Move:
    """Back office proposes a registry correction from the complaint and waits for SIKS-NG's
    verification result (``awaiting_registration``)."""
    body = {"evidence": evidence, "await_result": True, "changes": list(changes)}
    return Move("back_office", "registry-correction", "back_office", body)


def _verified(result: str) -> Move:
    return Move("awaiting_registration", "siks_ng_verification", "supervisor", {"result": result})


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
        messages=TOLD_MESSAGES,
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
        messages=TOLD_MESSAGES,
    ),
    Path(
        "email_only",
        "resolved at the back office, the household gave an email and no phone",
        Who.REGISTERED,
        "implementation",
        "Nama anak kami belum tercantum di kartu PKH.",
        (_resolve("Data anggota keluarga diperbarui di SIKS-NG.", "data_corrected"), TOLD),
        "closed",
        "resolved_locally",
        program_code="PKH",
        messages=TOLD_MESSAGES,
        contact=Contact.EMAIL,
    ),
    Path(
        "no_contact",
        "resolved at the back office, the household gave neither phone nor email",
        Who.REGISTERED,
        "implementation",
        "Bantuan BPNT keluarga kami dialihkan ke nama orang lain.",
        (_resolve("Penerima dikembalikan ke kepala keluarga.", "recipient_restored"), TOLD),
        "closed",
        "resolved_locally",
        program_code="BPNT",
        messages=TOLD_MESSAGES,
        contact=Contact.NONE,
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
        messages=TOLD_MESSAGES,
        referrals=(Referral("BPNT", ("accepted",)),),
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
        messages=TOLD_MESSAGES,
        referrals=(Referral("PIS_PBI", ("rejected",)),),
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
        messages=TOLD_MESSAGES,
        referrals=(Referral("BPNT", ("under_review", "accepted")),),
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
        messages=TOLD_MESSAGES,
        referrals=(
            Referral("BPNT", ("not_responsible",)),
            Referral("PIS_PBI", ("accepted",)),
        ),
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
        messages=TOLD_MESSAGES,
        referrals=(Referral("BPNT"),),
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
        messages=TOLD_MESSAGES,
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
        messages=TOLD_MESSAGES,
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
        messages=TOLD_MESSAGES,
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
        # Anonymous: nothing is pushed to anyone.
        referrals=(Referral("BPNT", ("accepted",)),),
    ),
    Path(
        "webhook",
        "referred to a program with its own system (signed webhook), accepted",
        Who.REGISTERED,
        "implementation",
        "Klaim Jamkesda untuk rawat inap ibu kami ditolak rumah sakit daerah.",
        (
            _refer(WEBHOOK_PROGRAM),
            APPROVE,
            _webhook("accepted", "Klaim diproses ulang oleh Dinas Kesehatan"),
            TOLD,
        ),
        "closed",
        "referral_accepted",
        program_code=WEBHOOK_PROGRAM,
        messages=TOLD_MESSAGES,
        referrals=(Referral(WEBHOOK_PROGRAM, ("accepted",)),),
    ),
    Path(
        "answer_link",
        "referred to a program manager without a system (answer link), rejected",
        Who.REGISTERED,
        "program_need",
        "Rumah kami rusak berat dan tidak layak huni, mohon bantuan perbaikan.",
        (
            _refer(ANSWER_LINK_PROGRAM),
            APPROVE,
            _answer_link("rejected", "Kuota tahun ini sudah penuh; diusulkan tahun depan"),
            TOLD,
        ),
        "closed",
        "referral_rejected",
        program_code=ANSWER_LINK_PROGRAM,
        messages=TOLD_MESSAGES,
        referrals=(Referral(ANSWER_LINK_PROGRAM, ("rejected",)),),
    ),
    Path(
        "siks_ng",
        "membership complaint referred through SIKS-NG, approved by its verdict",
        Who.REGISTERED,
        "membership",
        "Keluarga kami dikeluarkan dari daftar penerima padahal kondisi ekonomi tidak berubah.",
        (
            _refer(MEMBERSHIP_PROGRAM),
            APPROVE,
            _siks_ng("referred", "diverifikasi", "Verifikasi lapangan oleh Pokja Data Terpadu"),
            _siks_ng("under_review", "disetujui", "Keluarga ditetapkan kembali dalam DTKS"),
            TOLD,
        ),
        "closed",
        "referral_accepted",
        messages=TOLD_MESSAGES,
        referrals=(Referral(MEMBERSHIP_PROGRAM, ("under_review", "accepted")),),
    ),
    Path(
        "correction",
        "registry correction proposed from the complaint, accepted by SIKS-NG's verification",
        Who.REGISTERED,
        "membership",
        "Alamat keluarga kami di DTKS masih alamat lama, pendamping tidak menemukan rumah kami.",
        (
            _correct(
                "Kartu keluarga dan surat keterangan domisili dilihat saat kunjungan",
                {"kind": "address", "household_id": HOUSEHOLD, "address": "Kp. Cibodas RT 02/05"},
            ),
            _verified("accepted"),
            TOLD,
        ),
        "closed",
        "registry_accepted",
        messages=TOLD_MESSAGES,
    ),
    Path(
        "information_needed",
        "back office asks the household for information, then resolves",
        Who.REGISTERED,
        "implementation",
        "Bantuan PKH tahap ini jumlahnya berkurang.",
        (
            Move(
                "back_office",
                "back-office-action",
                "back_office",
                {
                    "kind": "request_information",
                    "question": "Berapa jumlah yang diterima dan pada tanggal berapa?",
                },
            ),
            Move(
                "awaiting_information",
                "information",
                "facilitator",
                {"information": "Diterima Rp450.000 pada 12 November, biasanya Rp750.000."},
                local=True,
            ),
            _resolve(
                "Komponen anak sekolah berakhir; pendamping PKH menjelaskan perhitungannya.",
                "explained",
            ),
            TOLD,
        ),
        "closed",
        "resolved_locally",
        program_code="PKH",
        messages=(Message.REGISTERED, Message.INFORMATION_NEEDED, Message.OUTCOME),
    ),
)


def week(complaints: int) -> list[Path]:
    """``complaints`` paths in a repeating order, so every path is played at least once when
    there are at least as many complaints as paths."""
    return [PATHS[i % len(PATHS)] for i in range(complaints)]
