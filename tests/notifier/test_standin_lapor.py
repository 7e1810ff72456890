"""The LAPOR! stand-in keeps its reports across a restart when given a state file, as the real
service does: otherwise a restarted stand-in would hand a known tracking id to a new report and
the notifier's poller would read the wrong agency answer."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from slrt_dev.standins.lapor import LaporState, create_app

REPORT = {
    "judul": "Rujukan SLRT",
    "isi": "Bantuan belum diterima",
    "instansi_tujuan": "BULOG",
    "referensi_eksternal": "ref-1",
}


def test_reports_and_their_numbers_survive_a_restart(tmp_path: Path) -> None:
    kept = tmp_path / "standins" / "lapor.json"
    before = TestClient(create_app(LaporState.kept_in(kept)))
    filed = before.post("/api/v1/reports", json=REPORT, headers={"Idempotency-Key": "k1"}).json()
    moved = before.put(
        f"/_control/reports/{filed['tracking_id']}",
        json={"status": "selesai", "tanggapan": "Sudah disalurkan"},
    )
    assert moved.status_code == 200

    after = TestClient(create_app(LaporState.kept_in(kept)))
    status = after.get(f"/api/v1/reports/{filed['tracking_id']}").json()
    assert (status["status"], status["tanggapan"]) == ("selesai", "Sudah disalurkan")
    again = after.post("/api/v1/reports", json=REPORT, headers={"Idempotency-Key": "k1"}).json()
    assert again["tracking_id"] == filed["tracking_id"]
    other = {**REPORT, "referensi_eksternal": "ref-2"}
    second = after.post("/api/v1/reports", json=other, headers={"Idempotency-Key": "k2"}).json()
    assert second["tracking_id"] != filed["tracking_id"]


def test_an_overloaded_lapor_refuses_new_reports_with_retry_after_until_put_back() -> None:
    state = LaporState()
    lapor = TestClient(create_app(state))
    assert lapor.put("/_control/availability", json={"status": 503, "retry_after": 60}).is_success
    refused = lapor.post("/api/v1/reports", json=REPORT, headers={"Idempotency-Key": "k1"})
    assert (refused.status_code, refused.headers["retry-after"]) == (503, "60")
    assert state.reports == {}
    assert lapor.put("/_control/availability", json={"status": 200}).is_success
    filed = lapor.post("/api/v1/reports", json=REPORT, headers={"Idempotency-Key": "k1"})
    assert filed.status_code == 201
    assert len(state.reports) == 1
