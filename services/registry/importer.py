"""Bulk import of a DT-PPFM extract: stream through ``COPY`` into staging, validate, upsert.

``python -m services.registry.importer FILE.csv`` (or ``slrt-registry-import``), and the
``POST /v1/imports`` API. Every row is checked in SQL; a bad row is reported (line, field,
rule) and left out, the rest is imported. The whole file is one transaction, and every upsert
only writes what differs, so importing the same file again changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tqdm import tqdm

from services.registry.domain.names import name_key
from services.registry.extract import COLUMNS, PMKS_KINDS
from services.registry.store import needs
from slrt.contracts.corrections import DISABILITIES, RELATIONS, SCHOOL_STATUSES
from slrt.db import Connection, create_pool
from slrt.settings import ConnectionSettings

STAGING_COLUMNS = ("line", "columns_ok", *COLUMNS, "name_key")
_CHUNK_ROWS = 2000
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    rule: str


@dataclass
class ImportReport:
    import_id: uuid.UUID
    rows_read: int = 0
    rows_rejected: int = 0
    households_changed: int = 0
    individuals_changed: int = 0
    participation_added: int = 0
    participation_removed: int = 0
    needs_closed: int = 0
    errors: list[RowError] = field(default_factory=list)


def _copy_field(value: str | None) -> str:
    return "\\N" if value is None else value.translate(_ESCAPES)


async def _copy_chunks(source: IO[str], on_rows: Callable[[int], None]) -> AsyncIterator[bytes]:
    """The extract as COPY text-format rows, with line numbers and the search key of the name.

    Python's csv reader (not COPY's) parses the file so that a row with the wrong number of
    columns is reported by line instead of aborting the whole COPY.
    """
    reader = csv.reader(source)
    header = next(reader, None)
    # Spreadsheet programs often save UTF-8 with a byte-order mark.
    if header is None or [h.strip().lstrip("\ufeff") for h in header] != list(COLUMNS):
        raise ValueError("the header is not the DT-PPFM extract layout (see docs/registry.md)")
    width = len(COLUMNS)
    name_at = COLUMNS.index("name")
    lines: list[str] = []
    for row in reader:
        if len(row) == width:
            values: list[str | None] = [str(reader.line_num), "t", *row, name_key(row[name_at])]
        else:
            values = [str(reader.line_num), "f", *([None] * width), ""]
        lines.append("\t".join(_copy_field(v) for v in values))
        if len(lines) >= _CHUNK_ROWS:
            yield ("\n".join(lines) + "\n").encode()
            on_rows(len(lines))
            lines = []
            await asyncio.sleep(0)
    if lines:
        yield ("\n".join(lines) + "\n").encode()
        on_rows(len(lines))


_VALIDATE = """
INSERT INTO import_errors (import_id, line, field, rule)
SELECT $1, s.line, e.field, e.rule
FROM staging s
CROSS JOIN LATERAL (VALUES
  ('row', 'column_count', NOT s.columns_ok),
  ('household_ref', 'required', btrim(s.household_ref) = ''),
  ('village_code', 'known_village',
     NOT EXISTS (SELECT 1 FROM places p WHERE p.code = s.village_code AND p.level = 'village')),
  ('village_code', 'inside_your_area', NOT starts_with(s.village_code, $2)),
  ('welfare_decile', 'range:1-10', s.welfare_decile !~ '^(10|[1-9])$'),
  ('kk_number', 'format:16_digits', s.kk_number !~ '^\\d{16}$'),
  ('nik', 'format:nik', NOT CASE WHEN s.nik ~ '^\\d{16}$' THEN pg_input_is_valid(
      '2000-' || substr(s.nik, 9, 2) || '-' || lpad((substr(s.nik, 7, 2)::int % 40)::text, 2, '0'),
      'date') ELSE false END),
  ('name', 'required', btrim(s.name) = ''),
  ('sex', 'one_of:L,P', s.sex NOT IN ('L', 'P')),
  ('birth_date', 'date:YYYY-MM-DD',
     s.birth_date !~ '^\\d{4}-\\d{2}-\\d{2}$' OR NOT pg_input_is_valid(s.birth_date, 'date')),
  ('relation', 'known_relation', s.relation <> ALL($3::text[])),
  ('disability', 'known_disability', s.disability <> '' AND s.disability <> ALL($4::text[])),
  ('school_status', 'known_school_status',
     s.school_status <> '' AND s.school_status <> ALL($5::text[])),
  ('pmks', 'known_pmks', s.pmks <> '' AND s.pmks <> ALL($6::text[])),
  ('household_programs', 'known_program',
     NOT coalesce(string_to_array(nullif(s.household_programs, ''), ';')
                  <@ (SELECT array_agg(code) FROM programs), true)),
  ('individual_programs', 'known_program',
     NOT coalesce(string_to_array(nullif(s.individual_programs, ''), ';')
                  <@ (SELECT array_agg(code) FROM programs), true)),
  ('period', 'format:YYYY', s.period !~ '^\\d{4}$')
) AS e(field, rule, failed)
WHERE e.failed AND (s.columns_ok OR e.field = 'row')
"""

_DUPLICATES = """
INSERT INTO import_errors (import_id, line, field, rule)
SELECT $1::uuid, line, 'nik', 'duplicate_in_file'
FROM (SELECT line, row_number() OVER (PARTITION BY nik ORDER BY line) AS n
      FROM staging WHERE columns_ok AND nik <> '') d
WHERE n > 1
UNION ALL
SELECT $1::uuid, line, 'household_ref', 'household_fields_differ'
FROM (SELECT line, household_ref, village_code, address, welfare_decile,
             first_value(row(village_code, address, welfare_decile)::text)
               OVER (PARTITION BY household_ref ORDER BY line) AS first
      FROM staging WHERE columns_ok) h
WHERE row(village_code, address, welfare_decile)::text <> first
UNION ALL
SELECT $1::uuid, line, 'kk_number', 'in_two_households'
FROM (SELECT line, first_value(household_ref) OVER (PARTITION BY kk_number ORDER BY line) AS first,
             household_ref
      FROM staging WHERE columns_ok) k
WHERE household_ref <> first
"""

_VALID = """
CREATE TEMP TABLE valid ON COMMIT DROP AS
SELECT s.* FROM staging s
WHERE NOT EXISTS (SELECT 1 FROM import_errors e WHERE e.import_id = $1 AND e.line = s.line)
"""

_HOUSEHOLDS = """
INSERT INTO households AS h (id, registry_ref, village_code, address, welfare_decile)
SELECT gen_random_uuid(), household_ref, village_code, address, welfare_decile::smallint
FROM (SELECT DISTINCT ON (household_ref) * FROM valid ORDER BY household_ref, line) first
ON CONFLICT (registry_ref) DO UPDATE
SET village_code = excluded.village_code, address = excluded.address,
    welfare_decile = excluded.welfare_decile, updated_at = now()
WHERE (h.village_code, h.address, h.welfare_decile)
      IS DISTINCT FROM (excluded.village_code, excluded.address, excluded.welfare_decile)
"""

_FAMILIES = """
INSERT INTO families AS f (kk_number, household_id)
SELECT DISTINCT ON (v.kk_number) v.kk_number, h.id
FROM valid v JOIN households h ON h.registry_ref = v.household_ref
ORDER BY v.kk_number, v.line
ON CONFLICT (kk_number) DO UPDATE SET household_id = excluded.household_id
WHERE f.household_id IS DISTINCT FROM excluded.household_id
"""

_INDIVIDUALS = """
INSERT INTO individuals AS i (id, nik, household_id, kk_number, name, name_key, sex, birth_date,
                              relation, disability, school_status, village_code)
SELECT gen_random_uuid(), v.nik, h.id, v.kk_number, btrim(v.name), v.name_key,
       CASE v.sex WHEN 'L' THEN 'male' ELSE 'female' END, v.birth_date::date, v.relation,
       nullif(v.disability, ''), nullif(v.school_status, ''), v.village_code
FROM valid v JOIN households h ON h.registry_ref = v.household_ref
ON CONFLICT (nik) DO UPDATE
SET household_id = excluded.household_id, kk_number = excluded.kk_number, name = excluded.name,
    name_key = excluded.name_key, sex = excluded.sex, birth_date = excluded.birth_date,
    relation = excluded.relation, disability = excluded.disability,
    school_status = excluded.school_status, village_code = excluded.village_code,
    updated_at = now()
WHERE (i.household_id, i.kk_number, i.name, i.sex, i.birth_date, i.relation, i.disability,
       i.school_status, i.village_code)
      IS DISTINCT FROM
      (excluded.household_id, excluded.kk_number, excluded.name, excluded.sex,
       excluded.birth_date, excluded.relation, excluded.disability, excluded.school_status,
       excluded.village_code)
"""

# The extract is the full participation of its period for the people and households it lists:
# what it no longer lists is withdrawn. A household with a rejected line keeps its household-
# level participation untouched (its head's row may be the rejected one).
_FILE_PARTICIPATION = """
CREATE TEMP TABLE file_participation ON COMMIT DROP AS
SELECT DISTINCT h.id AS household_id, NULL::uuid AS individual_id, p.code AS program_code,
       v.period, h.id AS subject
FROM valid v JOIN households h ON h.registry_ref = v.household_ref
CROSS JOIN LATERAL unnest(string_to_array(nullif(v.household_programs, ''), ';')) AS p(code)
UNION ALL
SELECT DISTINCT i.household_id, i.id, p.code, v.period, i.id
FROM valid v JOIN individuals i ON i.nik = v.nik
CROSS JOIN LATERAL unnest(string_to_array(nullif(v.individual_programs, ''), ';')) AS p(code)
"""

_ADD_PARTICIPATION = """
INSERT INTO participation (household_id, individual_id, program_code, period)
SELECT household_id, individual_id, program_code, period FROM file_participation
ON CONFLICT (subject, program_code, period) DO NOTHING
"""

_REMOVE_PARTICIPATION = """
WITH rejected_households AS (
    SELECT DISTINCT s.household_ref FROM staging s
    JOIN import_errors e ON e.import_id = $1 AND e.line = s.line
), clean_households AS (
    SELECT h.id FROM households h
    JOIN (SELECT DISTINCT household_ref FROM valid) v ON v.household_ref = h.registry_ref
    WHERE NOT EXISTS (SELECT 1 FROM rejected_households r
                      WHERE r.household_ref = v.household_ref)
), periods AS (
    SELECT DISTINCT period FROM valid
), in_scope AS (
    SELECT p.subject, p.program_code, p.period FROM participation p
    JOIN clean_households c ON c.id = p.household_id AND p.individual_id IS NULL
    JOIN periods USING (period)
    UNION ALL
    SELECT p.subject, p.program_code, p.period FROM participation p
    JOIN individuals i ON i.id = p.individual_id
    JOIN valid v ON v.nik = i.nik
    JOIN periods ON periods.period = p.period
), stale AS (
    SELECT subject, program_code, period FROM in_scope
    EXCEPT
    SELECT subject, program_code, period FROM file_participation
)
DELETE FROM participation p USING stale
WHERE (p.subject, p.program_code, p.period) = (stale.subject, stale.program_code, stale.period)
"""

_PMKS = """
WITH listed AS (
    SELECT i.id, nullif(v.pmks, '') AS kind FROM valid v JOIN individuals i ON i.nik = v.nik
), removed AS (
    DELETE FROM pmks_flags f USING listed l
    WHERE f.individual_id = l.id AND f.kind IS DISTINCT FROM l.kind
)
INSERT INTO pmks_flags (individual_id, kind)
SELECT id, kind FROM listed WHERE kind IS NOT NULL
ON CONFLICT DO NOTHING
"""


def _count(status: str) -> int:
    return int(status.split()[-1])


async def import_extract(
    conn: Connection,
    source: IO[str],
    *,
    file_name: str,
    started_by: str,
    area: str = "",
    on_rows: Callable[[int], None] = lambda n: None,
    on_phase: Callable[[str], None] = lambda phase: None,
) -> ImportReport:
    """Import one extract in one transaction; rows outside ``area`` are rejected."""
    report = ImportReport(import_id=uuid.uuid4())
    async with conn.transaction():
        # Joins over a whole district's rows: let them hash in memory instead of spilling.
        await conn.execute("SET LOCAL work_mem = '256MB'")
        await conn.execute(
            "INSERT INTO imports (id, file_name, started_by) VALUES ($1, $2, $3)",
            report.import_id,
            file_name[:300],
            started_by,
        )
        columns = ", ".join(
            f"{c} {'int' if c == 'line' else 'boolean' if c == 'columns_ok' else 'text'}"
            for c in STAGING_COLUMNS
        )
        await conn.execute(f"CREATE TEMP TABLE staging ({columns}) ON COMMIT DROP")
        on_phase("copying")
        await conn.copy_to_table(
            "staging", source=_copy_chunks(source, on_rows), columns=list(STAGING_COLUMNS)
        )
        report.rows_read = await conn.fetchval("SELECT count(*) FROM staging")
        await conn.execute("CREATE INDEX ON staging (line)")
        await conn.execute("ANALYZE staging")
        on_phase("validating")
        await conn.execute(
            _VALIDATE,
            report.import_id,
            area,
            sorted(RELATIONS),
            sorted(DISABILITIES),
            sorted(SCHOOL_STATUSES),
            sorted(PMKS_KINDS),
        )
        await conn.execute(_DUPLICATES, report.import_id)
        await conn.execute(_VALID, report.import_id)
        await conn.execute("ANALYZE valid")
        on_phase("households")
        report.households_changed = _count(await conn.execute(_HOUSEHOLDS))
        await conn.execute(_FAMILIES)
        on_phase("individuals")
        report.individuals_changed = _count(await conn.execute(_INDIVIDUALS))
        on_phase("participation")
        await conn.execute(_FILE_PARTICIPATION)
        await conn.execute("ANALYZE file_participation")
        report.participation_added = _count(await conn.execute(_ADD_PARTICIPATION))
        report.participation_removed = _count(
            await conn.execute(_REMOVE_PARTICIPATION, report.import_id)
        )
        # A recorded need closes once its household receives the program.
        report.needs_closed = await needs.close_met(conn)
        on_phase("pmks")
        await conn.execute(_PMKS)
        on_phase("report")
        rows = await conn.fetch(
            "SELECT line, field, rule FROM import_errors WHERE import_id = $1 "
            "ORDER BY line, field, rule",
            report.import_id,
        )
        report.errors = [RowError(r["line"], r["field"], r["rule"]) for r in rows]
        report.rows_rejected = len({e.line for e in report.errors})
        await conn.execute(
            "UPDATE imports SET finished_at = now(), rows_read = $2, rows_rejected = $3, "
            "households_changed = $4, individuals_changed = $5, participation_added = $6 "
            "WHERE id = $1",
            report.import_id,
            report.rows_read,
            report.rows_rejected,
            report.households_changed,
            report.individuals_changed,
            report.participation_added,
        )
    return report


def error_report_csv(errors: list[RowError]) -> str:
    """The row-level error report: line, field, rule (never the values themselves)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["line", "field", "rule"])
    writer.writerows((e.line, e.field, e.rule) for e in errors)
    return out.getvalue()


async def _run(path: Path, started_by: str) -> ImportReport:
    from services.registry.api import aggregates
    from services.registry.places_loader import ensure_places
    from services.registry.store.catalog import ensure_seed
    from slrt.db.migrations import migrate_service

    settings = ConnectionSettings()
    await migrate_service(settings.postgres_dsn.get_secret_value(), "registry")
    pool = await create_pool(settings, "registry")
    size = await asyncio.to_thread(lambda: path.stat().st_size)
    try:
        async with pool.acquire() as conn:
            await ensure_places(conn)
            await ensure_seed(conn, changed_by=started_by, source="/slrt/registry")
        # tqdm on stderr: a bar on a terminal, and at most one update a second in a Job's log.
        bar = tqdm(
            total=size, desc="copying", unit="B", unit_scale=True, mininterval=1.0, file=sys.stderr
        )
        with path.open("rb") as raw, bar:
            f = io.TextIOWrapper(raw, encoding="utf-8", newline="")

            def advance(_: int) -> None:
                bar.update(raw.tell() - bar.n)

            def phase(name: str) -> None:
                bar.set_description_str(name)
                bar.update((0 if name == "copying" else size) - bar.n)

            async with pool.acquire() as conn:
                report = await import_extract(
                    conn,
                    f,
                    file_name=path.name,
                    started_by=started_by,
                    on_rows=advance,
                    on_phase=phase,
                )
            phase("refreshing aggregates")
            await aggregates.refresh(pool)
    finally:
        await pool.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="slrt-registry-import",
        description="Import a DT-PPFM extract into the registry (connection from SLRT_*).",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--errors", type=Path, help="write the row-level error report here")
    parser.add_argument("--as", dest="started_by", default="cli", help="who runs the import")
    args = parser.parse_args(argv)
    report = asyncio.run(_run(args.file, args.started_by))
    if args.errors is not None:
        args.errors.write_text(error_report_csv(report.errors), encoding="utf-8")
    print(
        f"import {report.import_id}: {report.rows_read} rows read, {report.rows_rejected} "
        f"rejected, {report.households_changed} households and {report.individuals_changed} "
        f"individuals changed, participation +{report.participation_added} "
        f"-{report.participation_removed}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
