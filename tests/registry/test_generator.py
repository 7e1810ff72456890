"""The synthetic district: deterministic, consistent identities, a realistic shape."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from services.registry.domain.identity import decode_nik
from services.registry.extract import COLUMNS
from slrt.places import directory
from slrt_dev.synthetic import write_extract
from tests.support.registry import TODAY


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


def test_the_same_seed_writes_the_same_file(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    write_extract(a, "3204", 500, 7, today=TODAY)
    write_extract(b, "3204", 500, 7, today=TODAY)
    write_extract(c, "3204", 500, 8, today=TODAY)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_a_clean_district_is_consistent_and_realistic(tmp_path: Path) -> None:
    out = tmp_path / "clean.csv"
    write_extract(out, "3204", 6000, 11, error_rate=0.0, today=TODAY)
    rows = _rows(out)
    assert 6000 <= len(rows) < 6010  # whole households
    places = directory()
    households: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        households[row["household_ref"]].append(row)
        assert places.is_village(row["village_code"])
        assert row["village_code"].startswith("3204")
        decoded = decode_nik(row["nik"], today=TODAY)
        assert decoded.birth_date == date.fromisoformat(row["birth_date"])
        assert decoded.sex == {"L": "male", "P": "female"}[row["sex"]]
        assert decoded.sub_district_code.startswith("3204")
        assert row["kk_number"][:6] == row["village_code"][:6]
        assert row["name"].strip()
    assert len({r["nik"] for r in rows}) == len(rows)

    sizes = Counter(len(members) for members in households.values())
    mean_size = len(rows) / len(households)
    assert 3.0 <= mean_size <= 4.5, mean_size
    assert sizes[1] > 0
    assert max(sizes) >= 7
    assert all(sum(m["relation"] == "head" for m in hh) == 1 for hh in households.values())

    disabled = sum(1 for r in rows if r["disability"]) / len(rows)
    assert 0.01 <= disabled <= 0.08, disabled

    heads = [hh[0] for hh in households.values()]
    pkh = [h for h in heads if "PKH" in h["household_programs"].split(";")]
    assert len(pkh) > 50
    with_bpnt = sum("BPNT" in h["household_programs"] for h in pkh) / len(pkh)
    with_pbi = sum("PIS_PBI" in h["individual_programs"] for h in pkh) / len(pkh)
    assert with_bpnt > 0.8, with_bpnt
    assert with_pbi > 0.85, with_pbi
    assert all(int(h["welfare_decile"]) <= 3 for h in pkh)

    pip = [r for r in rows if "PIP_" in r["individual_programs"]]
    assert pip
    for r in pip:
        age = (TODAY - date.fromisoformat(r["birth_date"])).days // 365
        assert 6 <= age <= 21
        expected = "PIP_KEMENAG" if r["school_status"] == "madrasah" else "PIP_KEMENDIKBUD"
        assert expected in r["individual_programs"]


def test_the_command_line_writes_an_extract_with_deliberate_errors(tmp_path: Path) -> None:
    out = tmp_path / "cli.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "slrt_dev.synthetic",
            "--district",
            "32.04",
            "--individuals",
            "2000",
            "--seed",
            "7",
            "--error-rate",
            "0.05",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "deliberate errors" in done.stdout
    rows = _rows(out)
    assert len(rows) >= 2000
    assert any(len(r["nik"]) != 16 for r in rows)
    assert any(not r["name"] for r in rows)
