"""The demo district's program information (informasi program) at the front office: two FAQ
entries kept by the administrator and the information (with eligibility criteria) of three
national programs kept by the district manager, in Bahasa Indonesia — so the local stack's front
office can search them and answer information requests from them, and back office sees "may
qualify for" beside complaints of registry households.

Written through the registry's API (``/v1/program-info``) as the administrator and the manager
would. An entry already there is left as it is (an edit would be a new version), so seeding
again (every ``make up``) changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from slrt_dev.issuer import DevIssuer

FAQ: tuple[dict[str, str], ...] = (
    {
        "topic": "pengaduan",
        "question": "Bagaimana cara menyampaikan pengaduan tentang bantuan sosial?",
        "answer": "Datang ke Puskesos di desa/kelurahan atau sekretariat SLRT kabupaten, atau "
        "sampaikan kepada fasilitator SLRT saat kunjungan rumah. Bawa KTP dan Kartu Keluarga. "
        "Petugas mencatat pengaduan dan memberi nomor tiket serta kode pelacakan untuk "
        "memantau penanganannya. Layanan ini gratis.",
    },
    {
        "topic": "dtks",
        "question": "Keluarga kami belum terdaftar di DTKS. Apa yang harus dilakukan?",
        "answer": "Petugas front office memeriksa data keluarga di Data Terpadu. Jika belum "
        "ada, profil dasar keluarga dicatat sebagai daftar awal (pre-list) dan diusulkan ke "
        "Kementerian Sosial melalui SIKS-NG untuk verifikasi dan validasi.",
    },
)

PROGRAMS: dict[str, dict[str, Any]] = {
    "BPNT": {
        "title": "Bantuan Pangan Non Tunai (BPNT) / Program Sembako",
        "what_it_gives": "Bantuan pangan setiap bulan yang dibelanjakan di e-warong dengan "
        "Kartu Keluarga Sejahtera (KKS).",
        "who_qualifies": "Keluarga penerima manfaat dalam DTKS dengan tingkat kesejahteraan "
        "terendah.",
        "where_to_go": "E-warong terdekat; pengaduan melalui Puskesos atau LAPOR!.",
        "documents": ["KTP", "Kartu Keluarga", "Kartu Keluarga Sejahtera (KKS)"],
        "criteria": [{"kind": "max_decile", "max_decile": 4}, {"kind": "not_participant"}],
    },
    "PIP_KEMENDIKBUD": {
        "title": "Program Indonesia Pintar (PIP) — sekolah umum",
        "what_it_gives": "Bantuan tunai pendidikan per tahun untuk siswa SD, SMP dan SMA/SMK.",
        "who_qualifies": "Anak usia sekolah yang bersekolah dari keluarga miskin atau rentan "
        "miskin.",
        "where_to_go": "Sekolah anak atau Dinas Pendidikan kabupaten.",
        "documents": ["Kartu Keluarga", "Kartu Indonesia Pintar (KIP) bila ada", "Rapor"],
        "criteria": [
            {"kind": "school_age_child", "min_age": 6, "max_age": 21},
            {"kind": "max_decile", "max_decile": 4},
            {"kind": "not_participant"},
        ],
    },
    "PIS_PBI": {
        "title": "Jaminan Kesehatan (PBI JKN / KIS)",
        "what_it_gives": "Iuran BPJS Kesehatan dibayar pemerintah untuk seluruh anggota keluarga.",
        "who_qualifies": "Keluarga miskin dan tidak mampu dalam DTKS, terutama dengan lansia, "
        "ibu hamil atau penyandang disabilitas.",
        "where_to_go": "Dinas Sosial kabupaten atau kantor BPJS Kesehatan.",
        "documents": ["KTP", "Kartu Keluarga"],
        "criteria": [{"kind": "max_decile", "max_decile": 4}, {"kind": "not_participant"}],
    },
}


def seed(registry_url: str, issuer: DevIssuer, district: str) -> dict[str, int]:
    """Write the entries that are missing; returns each one's status (201 added, 200 there)."""

    def auth(role: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {issuer.token(f'demo-{role}-{district}', [role], district)}"
        }

    statuses: dict[str, int] = {}
    with httpx.Client(base_url=registry_url, timeout=30) as http:
        listed = http.get(
            "/v1/program-info", params={"district": district}, headers=auth("manager")
        )
        _ok(listed, "list the program information")
        present = listed.json()
        questions = {e["title"] for e in present if e["kind"] == "faq"}
        programs = {e["program_code"] for e in present if e["kind"] == "program"}
        for faq in FAQ:
            key = f"faq:{faq['topic']}"
            if faq["question"] in questions:
                statuses[key] = 200
                continue
            response = http.post(
                "/v1/program-info/faq",
                json={"district": district, **faq},
                headers=auth("administrator"),
            )
            _ok(response, f"FAQ {faq['topic']}")
            statuses[key] = response.status_code
        for code, body in PROGRAMS.items():
            if code in programs:
                statuses[code] = 200
                continue
            response = http.put(
                f"/v1/program-info/programs/{district}/{code}", json=body, headers=auth("manager")
            )
            _ok(response, f"program {code}")
            statuses[code] = response.status_code
    return statuses


def _ok(response: httpx.Response, what: str) -> None:
    if response.status_code >= 300:
        raise RuntimeError(
            f"the registry refused {what}: {response.status_code} {response.text[:500]}"
        )
