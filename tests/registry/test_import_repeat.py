"""Repeating an import: an unchanged file gives what the full import would, without the work;
anything the full import would see differently sends the import down the full path."""

from __future__ import annotations

import csv
import dataclasses
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.registry import importer
from services.registry.extract import COLUMNS
from services.registry.importer import ImportReport, import_extract
from services.registry.store import import_state, needs
from slrt.db import Connection
from slrt_dev.synthetic import write_extract
from tests.support.registry import TODAY, import_file

# Everything an import writes or reads back, each table as sorted text rows.
_TABLES = (
    "households",
    "families",
    "individuals",
    "participation",
    "pmks_flags",
    "program_needs",
    "import_households",
)


async def _state(conn: Connection) -> dict[str, list[str]]:
    return {
        t: await conn.fetchval(
            f"SELECT coalesce(array_agg(x::text ORDER BY x::text), '{{}}') FROM {t} x"  # noqa: S608
        )
        for t in _TABLES
    }


def _outcome(report: ImportReport) -> dict[str, Any]:
    """A report without what names the import itself."""
    fields = dataclasses.asdict(report)
    del fields["import_id"], fields["repeat_of"]
    return fields


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


class _RolledBack(Exception):
    pass


async def _full_then_repeat(
    pool: asyncpg.Pool, path: Path, area: str = ""
) -> tuple[ImportReport, dict[str, list[str]], ImportReport, dict[str, list[str]]]:
    """The full import of ``path`` (rolled back) and then the import that may repeat the last
    one, on the same data: both reports and what the tables held after each."""
    async with pool.acquire() as conn:
        full: ImportReport | None = None
        try:
            async with conn.transaction():
                with path.open("rb") as f:
                    full = await import_extract(
                        conn, f, file_name=path.name, started_by="test", area=area, repeat=False
                    )
                after_full = await _state(conn)
                raise _RolledBack
        except _RolledBack:
            pass
        assert full is not None
        with path.open("rb") as f:
            again = await import_extract(conn, f, file_name=path.name, started_by="test", area=area)
        return full, after_full, again, await _state(conn)


@pytest.fixture
def district(tmp_path: Path) -> tuple[Path, list[dict[str, str]], str]:
    """A clean extract with a few bad rows: returns it, its rows and a household with a rejected
    line and other, valid, members (one the full import looks at every time)."""
    clean = tmp_path / "clean.csv"
    write_extract(clean, "3204", 400, 11, error_rate=0.0, today=TODAY)
    rows = _rows(clean)
    members: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        members.setdefault(r["household_ref"], []).append(i)
    bigger = [ref for ref, idx in members.items() if len(idx) >= 3]
    mixed, twin = bigger[0], bigger[1]
    rows[members[mixed][1]]["sex"] = "X"
    rows[members[twin][-1]]["nik"] = rows[members[bigger[2]][0]]["nik"]  # a NIK twice
    rows[members[bigger[3]][0]]["individual_programs"] = "NOT_YET_A_PROGRAM"
    return _write(tmp_path / "district.csv", rows), rows, mixed


async def test_an_unchanged_file_repeats_exactly_what_the_full_import_gives(
    pool: asyncpg.Pool, district: tuple[Path, list[dict[str, str]], str]
) -> None:
    path, rows, _ = district
    first = await import_file(pool, path)
    assert first.rows_rejected == 3
    assert first.households_skipped == 0
    async with pool.acquire() as conn:
        settled = await _state(conn)

    full, after_full, again, after_again = await _full_then_repeat(pool, path)

    assert again.repeat_of == first.import_id
    assert full.repeat_of is None
    assert _outcome(again) == _outcome(full)
    assert again.errors == first.errors
    assert again.rows_read == len(rows)
    assert (full.households_changed, full.individuals_changed) == (0, 0)
    assert after_again == after_full == settled
    # The repeated error report is the import's own, as the API serves it.
    assert await pool.fetchval(
        "SELECT count(*) FROM import_errors WHERE import_id = $1", again.import_id
    ) == len(first.errors)
    # And the repeat can itself be repeated.
    third = await import_file(pool, path)
    assert third.repeat_of == again.import_id
    assert _outcome(third) == _outcome(full)


async def test_after_a_correction_the_full_import_then_repeats_again(
    pool: asyncpg.Pool, district: tuple[Path, list[dict[str, str]], str]
) -> None:
    """A household changed by another writer (and forgotten by it): the next import is full and
    skips the others; the one after repeats it, as a full import would."""
    path, rows, _ = district
    first = await import_file(pool, path)
    clean_ref = rows[-1]["household_ref"]
    async with pool.acquire() as conn:
        household_id = await conn.fetchval(
            "UPDATE households SET address = 'elsewhere' WHERE registry_ref = $1 RETURNING id",
            clean_ref,
        )
        await import_state.forget(conn, [household_id])

    corrected = await import_file(pool, path)
    assert corrected.repeat_of is None
    assert corrected.households_skipped > 0
    assert corrected.households_changed == 1
    assert corrected.errors == first.errors

    full, after_full, again, after_again = await _full_then_repeat(pool, path)
    assert again.repeat_of == corrected.import_id
    assert _outcome(again) == _outcome(full)
    assert after_again == after_full


async def test_a_rejected_households_data_changed_since_sends_it_down_the_full_path(
    pool: asyncpg.Pool, district: tuple[Path, list[dict[str, str]], str]
) -> None:
    """The household with a rejected line is looked at by every full import: changed by
    another writer without forgetting anything, the full import writes the file's values back."""
    path, rows, mixed = district
    await import_file(pool, path)
    await pool.execute("UPDATE households SET address = 'elsewhere' WHERE registry_ref = $1", mixed)

    again = await import_file(pool, path)

    assert again.repeat_of is None
    assert again.households_changed == 1
    assert await pool.fetchval(
        "SELECT address FROM households WHERE registry_ref = $1", mixed
    ) == next(r["address"] for r in rows if r["household_ref"] == mixed)


async def test_participation_changed_since_sends_it_down_the_full_path(
    pool: asyncpg.Pool, district: tuple[Path, list[dict[str, str]], str]
) -> None:
    path, _, _ = district
    await import_file(pool, path)
    assert (
        await pool.execute(
            "DELETE FROM participation WHERE ctid IN (SELECT ctid FROM participation LIMIT 1)"
        )
        == "DELETE 1"
    )

    again = await import_file(pool, path)

    assert again.repeat_of is None


async def test_a_program_added_since_sends_it_down_the_full_path(
    pool: asyncpg.Pool, district: tuple[Path, list[dict[str, str]], str]
) -> None:
    """The rules read the catalog: the row naming an unknown program is accepted once it is."""
    path, _, _ = district
    first = await import_file(pool, path)
    assert ("individual_programs", "known_program") in {(e.field, e.rule) for e in first.errors}
    await pool.execute(
        "INSERT INTO programs SELECT (jsonb_populate_record(NULL::programs, "
        'to_jsonb(p) || \'{"code": "NOT_YET_A_PROGRAM"}\')).* FROM programs p LIMIT 1'
    )

    again = await import_file(pool, path)

    assert again.repeat_of is None
    assert again.rows_rejected == first.rows_rejected - 1


async def test_a_need_recorded_since_sends_it_down_the_full_path(
    pool: asyncpg.Pool, district: tuple[Path, list[dict[str, str]], str]
) -> None:
    path, _, mixed = district
    await import_file(pool, path)
    async with pool.acquire() as conn:
        household_id = await conn.fetchval(
            "SELECT id FROM households WHERE registry_ref = $1", mixed
        )
        await needs.record_from_complaint(
            conn,
            complaint_id=uuid.uuid4(),
            household_id=household_id,
            individual_id=None,
            program_code=None,
        )

    assert (await import_file(pool, path)).repeat_of is None


async def test_another_import_since_sends_it_down_the_full_path(
    pool: asyncpg.Pool, district: tuple[Path, list[dict[str, str]], str], tmp_path: Path
) -> None:
    path, _, _ = district
    other = tmp_path / "other.csv"
    write_extract(other, "3273", 50, 5, error_rate=0.0, today=TODAY)
    await import_file(pool, path, "3204")
    # Another scope's import in between.
    await import_file(pool, other, "3273")
    assert (await import_file(pool, path, "3204")).repeat_of is None
    # Another file of the same scope in between.
    assert (await import_file(pool, path, "3204")).repeat_of is not None
    changed = _rows(path)
    changed[0]["address"] = "Jl. Baru No. 9"
    await import_file(pool, _write(tmp_path / "changed.csv", changed), "3204")
    assert (await import_file(pool, path, "3204")).repeat_of is None


async def test_another_scope_a_changed_byte_or_changed_logic_take_the_full_path(
    pool: asyncpg.Pool,
    district: tuple[Path, list[dict[str, str]], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, _, _ = district
    await import_file(pool, path, "3204")
    # The same file for another area (the rules read the area).
    assert (await import_file(pool, path, "32")).repeat_of is None
    assert (await import_file(pool, path, "32")).repeat_of is not None
    # One byte more (an empty line at the end).
    longer = tmp_path / "longer.csv"
    longer.write_bytes(path.read_bytes() + b"\n")
    assert (await import_file(pool, longer, "32")).repeat_of is None
    assert (await import_file(pool, longer, "32")).repeat_of is not None
    # Another version of the importer.
    monkeypatch.setattr(importer, "_LOGIC", "another version")
    assert (await import_file(pool, longer, "32")).repeat_of is None


async def test_a_rolled_back_write_does_not_stop_the_repeat(
    pool: asyncpg.Pool, district: tuple[Path, list[dict[str, str]], str]
) -> None:
    path, _, mixed = district
    await import_file(pool, path)
    async with pool.acquire() as conn:
        try:
            async with conn.transaction():
                await conn.execute(
                    "UPDATE households SET address = 'x' WHERE registry_ref = $1", mixed
                )
                raise _RolledBack
        except _RolledBack:
            pass

    assert (await import_file(pool, path)).repeat_of is not None


async def test_an_import_a_full_reimport_would_not_repeat_is_not_repeated(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """A skipped household rejected for the NIK it shares with a changed household earlier in
    the file: the import did not look at it as a whole, a re-import would. That re-import is
    full; the one after it repeats it."""
    clean = tmp_path / "clean.csv"
    write_extract(clean, "3204", 150, 5, error_rate=0.0, today=TODAY)
    rows = _rows(clean)
    await import_file(pool, clean)
    members: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        members.setdefault(r["household_ref"], []).append(i)
    refs = [ref for ref, idx in members.items() if len(idx) >= 2]
    earlier, later = refs[0], refs[-1]
    rows[members[earlier][-1]]["nik"] = rows[members[later][-1]]["nik"]
    path = _write(tmp_path / "twin.csv", rows)

    first = await import_file(pool, path)
    assert first.households_skipped == len(members) - 1
    assert [(e.line, e.rule) for e in first.errors] == [
        (members[later][-1] + 2, "duplicate_in_file")
    ]

    full, after_full, again, after_again = await _full_then_repeat(pool, path)
    assert again.repeat_of is None
    assert _outcome(again) == _outcome(full)
    assert after_again == after_full
    assert (await import_file(pool, path)).repeat_of == again.import_id


async def test_a_file_changed_during_its_import_is_not_repeated(
    pool: asyncpg.Pool, district: tuple[Path, list[dict[str, str]], str]
) -> None:
    """The digest is taken before the COPY: a file rewritten meanwhile is not what it names."""
    path, _, _ = district
    original = path.read_bytes()

    def rewrite(phase: str) -> None:
        if phase == "validating":
            path.write_bytes(original.replace(b"Jl.", b"Jalan", 1))

    async with pool.acquire() as conn:
        with path.open("rb") as f:
            await import_extract(conn, f, file_name="d.csv", started_by="test", on_phase=rewrite)
    path.write_bytes(original)

    assert (await import_file(pool, path)).repeat_of is None
    assert (await import_file(pool, path)).repeat_of is not None


@pytest.mark.parametrize(
    "write",
    [
        "UPDATE individuals SET name = name || ' ' WHERE nik = (SELECT min(nik) FROM individuals)",
        "UPDATE families SET household_id = household_id "
        "WHERE kk_number = (SELECT min(kk_number) FROM families)",
        "DELETE FROM pmks_flags WHERE ctid IN (SELECT ctid FROM pmks_flags LIMIT 1)",
        "DELETE FROM import_households "
        "WHERE household_ref = (SELECT min(household_ref) FROM import_households)",
        "UPDATE places SET name = name || ' ' WHERE code = '3204052001'",
        "UPDATE programs SET name = name WHERE code = (SELECT min(code) FROM programs)",
    ],
    ids=["individuals", "families", "pmks_flags", "import_households", "places", "programs"],
)
async def test_any_write_to_what_the_import_reads_sends_it_down_the_full_path(
    pool: asyncpg.Pool, district: tuple[Path, list[dict[str, str]], str], write: str
) -> None:
    path, _, _ = district
    await import_file(pool, path)
    await pool.execute(write)

    again = await import_file(pool, path)

    assert again.repeat_of is None
    assert (await import_file(pool, path)).repeat_of == again.import_id
