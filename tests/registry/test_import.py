"""Bulk import: row-level errors by line, idempotent re-import, a 10k-row file, the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from services.registry.domain.names import name_key
from services.registry.extract import COLUMNS
from services.registry.store import import_state
from slrt.auth.principal import Role
from slrt_dev.synthetic import write_extract
from tests.support.registry import TODAY, Registry, import_file


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]], extra_lines: list[str] = ()) -> Path:  # type: ignore[assignment]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        for line in extra_lines:
            f.write(line + "\n")
    return path


async def _counts(pool: asyncpg.Pool) -> tuple[int, ...]:
    tables = ("households", "families", "individuals", "participation", "pmks_flags")
    return tuple([await pool.fetchval(f"SELECT count(*) FROM {t}") for t in tables])  # noqa: S608


async def test_bad_rows_are_reported_by_line_and_the_rest_is_imported(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    clean = tmp_path / "clean.csv"
    write_extract(clean, "3204", 60, 3, error_rate=0.0, today=TODAY)
    rows = _rows(clean)
    # Line numbers count the header as line 1: rows[i] is on line i + 2.
    rows[1]["nik"] = rows[1]["nik"][:15]
    rows[3]["name"] = "  "
    rows[4]["welfare_decile"] = "0"
    rows[6]["birth_date"] = "1990-02-30"
    rows[7]["sex"] = "X"
    rows[8]["village_code"] = "3273010001"  # another regency's code that is not a village
    rows[9]["individual_programs"] = "PKH;NOT_A_PROGRAM"
    rows[10]["nik"] = rows[0]["nik"]  # duplicate of line 2
    rows[11]["relation"] = "cousin"
    path = _write(tmp_path / "bad.csv", rows, extra_lines=["only,three,columns"])

    report = await import_file(pool, path)

    found = {(e.line, e.field, e.rule) for e in report.errors}
    expected = {
        (3, "nik", "format:nik"),
        (5, "name", "required"),
        (6, "welfare_decile", "range:1-10"),
        (8, "birth_date", "date:YYYY-MM-DD"),
        (9, "sex", "one_of:L,P"),
        (10, "village_code", "known_village"),
        (11, "individual_programs", "known_program"),
        (12, "nik", "duplicate_in_file"),
        (13, "relation", "known_relation"),
        (len(rows) + 2, "row", "column_count"),
    }
    assert expected <= found
    # A wrong village or decile on one member also makes the household's rows disagree.
    assert found - expected <= {
        (6, "household_ref", "household_fields_differ"),
        (10, "household_ref", "household_fields_differ"),
    }
    assert report.rows_read == len(rows) + 1
    assert report.rows_rejected == 10
    assert await pool.fetchval("SELECT count(*) FROM individuals") == len(rows) - 9
    assert await pool.fetchval(
        "SELECT count(*) FROM import_errors WHERE import_id = $1", report.import_id
    ) == len(report.errors)
    # The report names lines, fields and rules, never the values.
    assert not any(rows[1]["nik"] in str(e) for e in report.errors)


async def test_reimporting_the_same_file_changes_nothing(
    pool: asyncpg.Pool, small_district: Path
) -> None:
    first = await import_file(pool, small_district)
    assert first.rows_read >= 3000
    assert first.rows_rejected > 0  # the generator's deliberate errors
    assert first.individuals_changed == first.rows_read - first.rows_rejected
    before = await _counts(pool)
    stamps = await pool.fetchval("SELECT max(updated_at) FROM individuals")

    again = await import_file(pool, small_district)

    assert (again.households_changed, again.individuals_changed) == (0, 0)
    assert (again.participation_added, again.participation_removed) == (0, 0)
    assert again.rows_rejected == first.rows_rejected
    assert await _counts(pool) == before
    assert await pool.fetchval("SELECT max(updated_at) FROM individuals") == stamps


async def test_a_changed_extract_updates_and_withdraws_participation(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    original = tmp_path / "v1.csv"
    write_extract(original, "3204", 200, 5, error_rate=0.0, today=TODAY)
    await import_file(pool, original)
    rows = _rows(original)
    head = next(r for r in rows if r["household_programs"])
    ref = head["household_ref"]
    for r in rows:
        if r["household_ref"] == ref:
            r["welfare_decile"] = "7"
            r["individual_programs"] = ""
    head["household_programs"] = ""
    second = await import_file(pool, _write(tmp_path / "v2.csv", rows))

    assert second.households_changed == 1
    assert second.individuals_changed == 0
    assert second.participation_removed > 0
    assert (
        await pool.fetchval("SELECT welfare_decile FROM households WHERE registry_ref = $1", ref)
        == 7
    )
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM participation p JOIN households h ON h.id = p.household_id "
            "WHERE h.registry_ref = $1",
            ref,
        )
        == 0
    )


async def test_rows_outside_the_importers_area_are_rejected(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    write_extract(path, "3204", 100, 9, error_rate=0.0, today=TODAY)
    report = await import_file(pool, path, area="3273")
    assert report.rows_rejected == report.rows_read
    assert {e.rule for e in report.errors} == {"inside_your_area"}
    assert await pool.fetchval("SELECT count(*) FROM individuals") == 0


async def test_a_ten_thousand_row_file(pool: asyncpg.Pool, tmp_path: Path) -> None:
    path = tmp_path / "10k.csv"
    write_extract(path, "3204", 10_000, 21, today=TODAY)
    report = await import_file(pool, path)
    assert report.rows_read >= 10_000
    assert 0 < report.rows_rejected < 200
    imported = report.rows_read - report.rows_rejected
    assert await pool.fetchval("SELECT count(*) FROM individuals") == imported
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM individuals i JOIN families f USING (kk_number) "
            "WHERE f.household_id <> i.household_id AND i.relation <> 'parent'"
        )
        == 0
    )
    # PKH households mostly also get BPNT (the generator's overlaps survive the import).
    overlap = await pool.fetchval(
        """SELECT avg((EXISTS (SELECT 1 FROM participation b WHERE b.household_id = p.household_id
                                 AND b.program_code = 'BPNT'))::int)
           FROM participation p WHERE p.program_code = 'PKH'"""
    )
    assert overlap > 0.8


async def test_the_command_line_importer(registry_dsn: str, tmp_path: Path) -> None:
    path = tmp_path / "cli.csv"
    errors = tmp_path / "errors.csv"
    write_extract(path, "3204", 300, 4, error_rate=0.03, today=TODAY)
    env = {**os.environ, "SLRT_POSTGRES_DSN": registry_dsn}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.registry.importer", str(path), "--errors", str(errors)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    assert "rows read" in done.stdout
    report = list(csv.DictReader(errors.open(newline="")))
    assert report
    assert set(report[0]) == {"line", "field", "rule"}
    conn = await asyncpg.connect(registry_dsn)
    try:
        imported = await conn.fetchval("SELECT count(*) FROM registry.individuals")
        assert imported == len(_rows(path)) - len({r["line"] for r in report})
    finally:
        await conn.close()


async def test_the_import_api_for_the_district_data_manager(
    registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "api.csv"
    write_extract(path, "3204", 400, 12, error_rate=0.02, today=TODAY)
    body = path.read_bytes()
    data_manager = {**registry.auth(Role.DATA_MANAGER, "3204"), "Content-Type": "text/csv"}

    response = await registry.client.post("/v1/imports", content=body, headers=data_manager)

    assert response.status_code == 201, response.text
    summary = response.json()
    assert summary["rows_read"] == len(_rows(path))
    assert summary["rows_rejected"] > 0
    assert summary["individuals_changed"] == summary["rows_read"] - summary["rows_rejected"]
    report = await registry.client.get(
        f"/v1/imports/{summary['import_id']}/errors", headers=data_manager
    )
    lines = list(csv.DictReader(io.StringIO(report.text)))
    assert [(int(r["line"]), r["field"], r["rule"]) for r in lines] == [
        (e["line"], e["field"], e["rule"]) for e in summary["errors"]
    ]

    again = await registry.client.post("/v1/imports", content=body, headers=data_manager)
    assert again.json()["individuals_changed"] == 0
    # The file unchanged and nothing written since: the first import's result, repeated, with
    # its error report under the new import's id.
    assert again.json()["repeat_of"] == summary["import_id"]
    repeated = await registry.client.get(
        f"/v1/imports/{again.json()['import_id']}/errors", headers=data_manager
    )
    assert repeated.text == report.text

    other_district = {**registry.auth(Role.DATA_MANAGER, "3273"), "Content-Type": "text/csv"}
    outside = await registry.client.post("/v1/imports", content=body, headers=other_district)
    assert outside.json()["rows_rejected"] == outside.json()["rows_read"]

    not_an_extract = await registry.client.post(
        "/v1/imports", content=b"a,b\n1,2\n", headers=data_manager
    )
    assert not_an_extract.status_code == 422
    not_utf8 = await registry.client.post(
        "/v1/imports", content=body + b"\xff\xfe,1\n", headers=data_manager
    )
    assert not_utf8.status_code == 422
    assert "UTF-8" in not_utf8.json()["detail"]
    manager = {**registry.auth(Role.MANAGER, "3204"), "Content-Type": "text/csv"}
    assert (
        await registry.client.post("/v1/imports", content=body, headers=manager)
    ).status_code == 403


async def test_a_spreadsheet_saved_file_with_a_byte_order_mark_is_read(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.csv"
    write_extract(plain, "3204", 20, 2, error_rate=0.0, today=TODAY)
    marked = tmp_path / "marked.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    report = await import_file(pool, marked)
    assert report.errors == []
    assert report.individuals_changed == len(_rows(plain))


async def test_an_unchanged_household_is_skipped_and_a_changed_one_is_written(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    original = tmp_path / "v1.csv"
    write_extract(original, "3204", 300, 8, error_rate=0.0, today=TODAY)
    rows = _rows(original)
    households = len({r["household_ref"] for r in rows})
    first = await import_file(pool, original)
    assert (first.households_skipped, first.households_changed) == (0, households)

    again = await import_file(pool, original)
    assert again.households_skipped == households
    assert (again.households_changed, again.individuals_changed) == (0, 0)

    # One household moves house; a member of another one moves into a third household.
    moving = rows[0]["household_ref"]
    for r in rows:
        if r["household_ref"] == moving:
            r["address"] = "Jl. Baru No. 1, RT 001/RW 001"
    leaver = next(r for r in rows if r["household_ref"] != moving and r["relation"] != "head")
    target = next(r for r in rows if r["household_ref"] not in (moving, leaver["household_ref"]))
    for key in ("household_ref", "village_code", "address", "welfare_decile", "kk_number"):
        leaver[key] = target[key]
    leaver["relation"] = "other_relative"
    changed = await import_file(pool, _write(tmp_path / "v2.csv", rows))

    assert changed.errors == []
    assert changed.households_skipped == households - 3
    assert changed.households_changed == 1
    assert changed.individuals_changed == 1
    assert (
        await pool.fetchval("SELECT address FROM households WHERE registry_ref = $1", moving)
        == "Jl. Baru No. 1, RT 001/RW 001"
    )
    assert (
        await pool.fetchval(
            "SELECT h.registry_ref FROM individuals i JOIN households h ON h.id = i.household_id "
            "WHERE i.nik = $1",
            leaver["nik"],
        )
        == target["household_ref"]
    )
    settled = await import_file(pool, _write(tmp_path / "v3.csv", rows))
    assert settled.households_skipped == households


async def test_a_household_changed_outside_the_import_is_looked_at_again(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    write_extract(path, "3204", 100, 13, error_rate=0.0, today=TODAY)
    await import_file(pool, path)
    ref = _rows(path)[0]["household_ref"]
    async with pool.acquire() as conn:
        household_id = await conn.fetchval(
            "UPDATE households SET address = 'elsewhere' WHERE registry_ref = $1 RETURNING id", ref
        )
        await import_state.forget(conn, [household_id])

    again = await import_file(pool, path)

    assert again.households_changed == 1
    assert await pool.fetchval(
        "SELECT address FROM households WHERE registry_ref = $1", ref
    ) == next(r["address"] for r in _rows(path) if r["household_ref"] == ref)


async def test_a_quoted_line_break_keeps_the_line_numbers(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    clean = tmp_path / "clean.csv"
    write_extract(clean, "3204", 30, 6, error_rate=0.0, today=TODAY)
    rows = _rows(clean)
    ref = rows[0]["household_ref"]
    for r in rows:
        if r["household_ref"] == ref:
            r["address"] = "Jl. Melati No. 2\nRT 003/RW 004"
    rows[5]["sex"] = "X"
    report = await import_file(pool, _write(tmp_path / "multiline.csv", rows))
    # Every row of the first household spans two lines: row i ends on line i + 2 + its number.
    before = sum(1 for r in rows[:6] if r["household_ref"] == ref)
    assert [(e.line, e.field, e.rule) for e in report.errors] == [
        (5 + 2 + before, "sex", "one_of:L,P")
    ]
    assert (
        await pool.fetchval("SELECT address FROM households WHERE registry_ref = $1", ref)
        == "Jl. Melati No. 2\nRT 003/RW 004"
    )


async def test_the_name_key_in_sql_is_the_python_one(pool: asyncpg.Pool, tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    write_extract(path, "3204", 3000, 17, today=TODAY)
    names = [
        *sorted({r["name"] for r in _rows(path)}),
        "Soeharto",
        "Djoko Tjahjono",
        "Sjahrir Njoto",
        "Muhammad  Chairul",
        "Nurhalizah",
        "Siti Aisyah Binti Abdullah.",
        "José Ñuñez-Pérez",
        "Ahmad  Fauzi  ",
        "  Teuku Umar",
        "O'Neil Mc.Donald 3rd",
        "Lllllaa Hhhh",
        "Aaan Ssittii Mmuhhammadd Yyuussuff Zzainuddinn",  # runs in each letter range
        "Bbbambang Jjoko Rrrahhmatt Kkkurniawann",
        "Oooh Aah Uhhh Eeh Iiih Hhh Ahah",  # runs before a final h (0061: one fold pass)
        "Aa  Bb   Cc    Zz",
        "Ḍewi Ṣartika",
        "Ａｈｍａｄ",
        "Ibrahim\tYusuf",
        "",
    ]
    rows = await pool.fetch("SELECT n, name_key(n) AS k FROM unnest($1::text[]) AS n", names)
    assert {r["n"]: r["k"] for r in rows} == {n: name_key(n) for n in names}


async def test_the_rules_across_rows_by_line_also_against_skipped_households(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    clean = tmp_path / "clean.csv"
    write_extract(clean, "3204", 120, 7, error_rate=0.0, today=TODAY)
    rows = _rows(clean)
    members: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        members.setdefault(r["household_ref"], []).append(i)
    big = [ref for ref, idx in members.items() if len(idx) >= 2]
    first, other, differing, late = big[0], big[1], big[2], big[-1]

    # A first import (every row looked at). Line numbers: rows[i] is on line i + 2.
    changed = [dict(r) for r in rows]
    moved_kk = members[other][0]
    changed[moved_kk]["kk_number"] = rows[members[first][0]]["kk_number"]
    odd_address = members[differing][1]
    changed[odd_address]["address"] = "Jl. Lain No. 2, RT 002/RW 003"
    report = await import_file(pool, _write(tmp_path / "across.csv", changed))
    assert {(e.line, e.field, e.rule) for e in report.errors} == {
        (moved_kk + 2, "kk_number", "in_two_households"),
        (odd_address + 2, "household_ref", "household_fields_differ"),
    }

    # The clean file, then a changed household whose rows share a NIK and a KK with a household
    # that is skipped (unchanged): the rules still see the skipped household's rows.
    await import_file(pool, clean)
    again = [dict(r) for r in rows]
    twin, kin = members[late][-1], members[late][-2]
    again[twin]["nik"] = rows[members[first][0]]["nik"]
    again[kin]["kk_number"] = rows[members[first][0]]["kk_number"]
    report = await import_file(pool, _write(tmp_path / "again.csv", again))
    assert report.households_skipped == len(members) - 1
    assert {(e.line, e.field, e.rule) for e in report.errors} == {
        (twin + 2, "nik", "duplicate_in_file"),
        (kin + 2, "kk_number", "in_two_households"),
    }
