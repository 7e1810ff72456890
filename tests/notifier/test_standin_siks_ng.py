"""The SIKS-NG stand-in's answer side: a submission's status as the notifier polls it, the
verdict a test or the demo sets, and the submissions kept across a restart with a state file."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from slrt_dev.standins.siks_ng import SiksNgState, create_app

SUBMISSION = {"jenis": "keluhan_kepesertaan", "referensi": "ref-1", "nik": "3204054101800002"}


def test_a_verdict_set_on_control_is_the_status_the_poller_reads() -> None:
    siks = TestClient(create_app(SiksNgState()))
    filed = siks.post("/api/v1/submissions", json=SUBMISSION, headers={"Idempotency-Key": "k1"})
    assert filed.status_code == 201
    submission_id = filed.json()["submission_id"]
    assert siks.get(f"/api/v1/submissions/{submission_id}").json() == {
        "submission_id": submission_id,
        "status": "diajukan",
        "keterangan": None,
    }
    decided = siks.put(
        f"/_control/submissions/{submission_id}",
        json={"status": "ditolak", "keterangan": "Tidak memenuhi kriteria"},
    )
    assert decided.status_code == 200
    status = siks.get(f"/api/v1/submissions/{submission_id}").json()
    assert (status["status"], status["keterangan"]) == ("ditolak", "Tidak memenuhi kriteria")
    assert siks.get("/_received").json() == [
        {
            "submission_id": submission_id,
            "jenis": "keluhan_kepesertaan",
            "referensi": "ref-1",
            "status": "ditolak",
            "keterangan": "Tidak memenuhi kriteria",
        }
    ]
    # Not a verdict SIKS-NG gives; an unknown submission.
    wrong = siks.put(f"/_control/submissions/{submission_id}", json={"status": "selesai"})
    assert wrong.status_code == 422
    assert siks.get("/api/v1/submissions/SIKS-NONE").status_code == 404
    unknown = siks.put("/_control/submissions/SIKS-NONE", json={"status": "ditolak"})
    assert unknown.status_code == 404


def test_submissions_and_verdicts_survive_a_restart(tmp_path: Path) -> None:
    kept = tmp_path / "standins" / "siks_ng.json"
    before = TestClient(create_app(SiksNgState.kept_in(kept)))
    filed = before.post("/api/v1/submissions", json=SUBMISSION, headers={"Idempotency-Key": "k1"})
    submission_id = filed.json()["submission_id"]
    before.put(f"/_control/submissions/{submission_id}", json={"status": "disetujui"})

    after = TestClient(create_app(SiksNgState.kept_in(kept)))
    assert after.get(f"/api/v1/submissions/{submission_id}").json()["status"] == "disetujui"
    again = after.post("/api/v1/submissions", json=SUBMISSION, headers={"Idempotency-Key": "k1"})
    assert again.json()["submission_id"] == submission_id
