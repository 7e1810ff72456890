"""Bulk import of a DT-PPFM extract: set-based SQL from ``COPY`` to the last upsert.

``python -m services.registry.importer FILE.csv`` (or ``slrt-registry-import``), and the
``POST /v1/imports`` API. The file goes as it is (PostgreSQL parses the CSV) into an UNLOGGED
staging table of its own columns; every rule is checked in SQL; a bad row is reported (line,
field, rule) and left out, the rest is imported. Nothing is done row by row, in Python or SQL.

Change detection: each household's rows are hashed (count and XOR of the row hashes) and kept in
``import_households`` after an import without a rejected line; on the next import a household
whose rows hash the same is skipped (its rows were imported exactly so, and nothing has touched
it since), so re-importing an unchanged file costs about the COPY and one pass over the staged
rows. The whole file is one transaction, and every upsert only writes what differs.

Repeating an import: a file byte-identical (SHA-256) to the last completed import of the same
scope (area) is not copied at all when that import's result is what a full re-import would
give (``reusable``: the households a re-import would look at are exactly those with a rejected
line, and it looked at all of them), the importer's logic is the same, and no transaction other
than that import has written to anything the import reads since it started (``registry_writes``,
kept by triggers; migration 0060): its counts and error report are repeated, nothing is written.
docs/registry.md, "The DT-PPFM extract".
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import io
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import asyncpg
from tqdm import tqdm

from services.registry import extract
from services.registry.extract import COLUMNS, PMKS_KINDS
from services.registry.store import needs
from slrt.contracts import corrections
from slrt.contracts.corrections import DISABILITIES, RELATIONS, SCHOOL_STATUSES
from slrt.db import Connection, create_pool
from slrt.settings import ConnectionSettings

_CHUNK_BYTES = 1 << 20
_FALLBACK_ROWS = 5000


class ExtractError(ValueError):
    """The file is not a DT-PPFM extract (header, encoding); the message names no values."""


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
    households_skipped: int = 0
    """Households whose rows were exactly as last imported (change detection)."""
    errors: list[RowError] = field(default_factory=list)
    repeat_of: uuid.UUID | None = None
    """The import whose result this one repeated (an unchanged file), or None: a full import."""
    first_load: bool = False
    """Into an empty registry: foreign keys and non-unique indexes made after the load."""


def _read_header(source: IO[bytes]) -> None:
    """Check the header line; the source is left at the first data line."""
    first = source.readline()
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        raise ExtractError("the file is not UTF-8 text") from None
    # Spreadsheet programs often save UTF-8 with a byte-order mark.
    header = next(csv.reader([text.lstrip("\ufeff")]), None)
    if header is None or [h.strip() for h in header] != list(COLUMNS):
        raise ExtractError("the header is not the DT-PPFM extract layout (see docs/registry.md)")


@dataclass
class _Scan:
    """What the fast path saw of the raw bytes: physical lines, to check COPY's row count."""

    newlines: int = 0
    last: bytes = b"\n"
    read: int = 0


async def _raw_chunks(
    source: IO[bytes], scan: _Scan, on_bytes: Callable[[int], None]
) -> AsyncIterator[bytes]:
    while chunk := source.read(_CHUNK_BYTES):
        scan.newlines += chunk.count(b"\n")
        scan.last = chunk[-1:]
        scan.read += len(chunk)
        on_bytes(len(chunk))
        yield chunk
        await asyncio.sleep(0)


async def _checked_chunks(
    source: IO[bytes], on_bytes: Callable[[int], None]
) -> AsyncIterator[bytes]:
    """The careful path, for a file COPY could not take as it is (a row with the wrong number
    of columns, a quoted line break, stray bytes): Python's csv reader splits the rows, so a
    bad row is reported by line instead of aborting the import. ``line, columns_ok, …``."""
    text = io.TextIOWrapper(source, encoding="utf-8", newline="")
    reader = csv.reader(text)
    next(reader)  # the header, already checked
    width = len(COLUMNS)
    blank = [""] * width
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    batch: list[list[str | int]] = []
    position = source.tell()
    try:
        for row in reader:
            ok = len(row) == width
            batch.append([reader.line_num, "t" if ok else "f", *(row if ok else blank)])
            if len(batch) >= _FALLBACK_ROWS:
                writer.writerows(batch)
                batch.clear()
                yield out.getvalue().encode()
                out.seek(0)
                out.truncate()
                on_bytes(source.tell() - position)
                position = source.tell()
                await asyncio.sleep(0)
        writer.writerows(batch)
        yield out.getvalue().encode()
        on_bytes(source.tell() - position)
    except UnicodeDecodeError:
        raise ExtractError("the file is not UTF-8 text") from None
    finally:
        text.detach()  # the caller's file stays open


_ROW_HASH = "hashtextextended(concat_ws(E'\\x1f', " + ", ".join(COLUMNS) + "), 0)"

# Pass over the staged rows: per household (grouping set 1) its row count and the XOR of its row
# hashes, and whether it lies in the importer's area; per period (set 2) its row count.
_FILE_GROUPS = f"""
CREATE TEMP TABLE import_groups ON COMMIT DROP AS
SELECT grouping(household_ref, period) AS set, household_ref, period,
       count(*)::int AS row_count, bit_xor({_ROW_HASH}) AS row_hash,
       bool_and(starts_with(village_code, $1)) AS inside
FROM {{staging}} WHERE columns_ok
GROUP BY GROUPING SETS ((household_ref), (period))
"""  # noqa: S608 (fixed column names)

_CHANGED = """
CREATE TEMP TABLE import_changed ON COMMIT DROP AS
SELECT g.household_ref FROM import_groups g
LEFT JOIN import_households k ON k.household_ref = g.household_ref
WHERE g.set = 1
  AND NOT coalesce(g.inside AND k.row_count = g.row_count AND k.row_hash = g.row_hash, false)
"""

_WORK = """
CREATE TEMP TABLE import_work ON COMMIT DROP AS
SELECT s.* FROM {staging} s
WHERE NOT s.columns_ok OR s.household_ref IN (SELECT household_ref FROM import_changed)
"""

# The rules of one row: (the condition that breaks it, "field|rule"). ``s`` is the staged row,
# ``p`` the village it names (NULL: not a known village).
_ROW_RULES: tuple[tuple[str, str], ...] = (
    ("btrim(s.household_ref) = ''", "household_ref|required"),
    ("p.code IS NULL", "village_code|known_village"),
    ("NOT starts_with(s.village_code, $1)", "village_code|inside_your_area"),
    ("s.welfare_decile <> ALL('{{1,2,3,4,5,6,7,8,9,10}}'::text[])", "welfare_decile|range:1-10"),
    (
        "NOT (length(s.kk_number) = 16 AND translate(s.kk_number, '0123456789', '') = '')",
        "kk_number|format:16_digits",
    ),
    # Digits 7-8 are the day of birth (plus 40 for a woman), 9-10 the month: a day of that
    # month in a leap year (2000). Arithmetic, not a date parsed per row.
    (
        "NOT CASE WHEN length(s.nik) = 16 AND translate(s.nik, '0123456789', '') = '' "
        "THEN substr(s.nik, 9, 2) COLLATE \"C\" BETWEEN '01' AND '12' "
        "AND substr(s.nik, 7, 2)::int % 40 BETWEEN 1 "
        "AND ('{{31,29,31,30,31,30,31,31,30,31,30,31}}'::int[])[substr(s.nik, 9, 2)::int] "
        "ELSE false END",
        "nik|format:nik",
    ),
    ("btrim(s.name) = ''", "name|required"),
    ("s.sex NOT IN ('L', 'P')", "sex|one_of:L,P"),
    (
        "NOT (length(s.birth_date) = 10 AND substr(s.birth_date, 5, 1) = '-' "
        "AND substr(s.birth_date, 8, 1) = '-' "
        "AND translate(s.birth_date, '0123456789', '') = '--' "
        # A day up to the 28th of a month 01-12 of a year 0001-9999 is a date: only the others
        # are parsed.
        "AND (substr(s.birth_date, 6, 2) COLLATE \"C\" BETWEEN '01' AND '12' "
        "AND substr(s.birth_date, 9, 2) COLLATE \"C\" BETWEEN '01' AND '28' "
        "AND substr(s.birth_date, 1, 4) <> '0000' "
        "OR pg_input_is_valid(s.birth_date, 'date')))",
        "birth_date|date:YYYY-MM-DD",
    ),
    ("s.relation <> ALL($2::text[])", "relation|known_relation"),
    ("s.disability <> '' AND s.disability <> ALL($3::text[])", "disability|known_disability"),
    (
        "s.school_status <> '' AND s.school_status <> ALL($4::text[])",
        "school_status|known_school_status",
    ),
    ("s.pmks <> '' AND s.pmks <> ALL($5::text[])", "pmks|known_pmks"),
    (
        "NOT coalesce(string_to_array(nullif(s.household_programs, ''), ';') "
        "<@ (SELECT array_agg(code) FROM programs), true)",
        "household_programs|known_program",
    ),
    (
        "NOT coalesce(string_to_array(nullif(s.individual_programs, ''), ';') "
        "<@ (SELECT array_agg(code) FROM programs), true)",
        "individual_programs|known_program",
    ),
    (
        "NOT (length(s.period) = 4 AND translate(s.period, '0123456789', '') = '')",
        "period|format:YYYY",
    ),
)

# Every rule, in two statements over the rows to import (``work``: the changed households, or
# the whole file). The rules of one row (``_ROW_ERRORS``) are first checked as one OR (most rows
# break none): only the rows that break one build the list of what they break. The rules across
# rows (``_ACROSS_ERRORS``: a NIK twice, a KK in two households, a household's rows that
# disagree) find the few keys that break them by hash aggregates; only the rows of those keys
# are then sorted by line. They look at every staged row that shares a NIK or KK with a row to
# import (``related``). Two statements so that only the first is planned for parallel workers
# (``_ROW_RULES_PARALLEL``).
_ROW_FAILED = ",\n".join(f"  CASE WHEN {rule} THEN '{name}' END" for rule, name in _ROW_RULES)
_ROW_BROKEN = "".join(f"\n     OR ({rule})" for rule, _ in _ROW_RULES)
_ROW_ERRORS = f"""
CREATE TEMP TABLE import_errs ON COMMIT DROP AS
SELECT c.line, c.household_ref, c.period,
       split_part(f.failed, '|', 1) AS field, split_part(f.failed, '|', 2) AS rule
FROM (
  SELECT s.line, CASE WHEN s.columns_ok THEN s.household_ref END AS household_ref,
         CASE WHEN s.columns_ok THEN s.period END AS period,
         CASE WHEN NOT s.columns_ok THEN ARRAY['row|column_count'] ELSE array_remove(ARRAY[
{_ROW_FAILED}
         ], NULL) END AS failed
  FROM {{work}} s
  LEFT JOIN places p ON p.code = s.village_code AND p.level = 'village'
  WHERE NOT s.columns_ok{_ROW_BROKEN}
) c
CROSS JOIN LATERAL unnest(c.failed) AS f(failed)
"""  # noqa: S608 (the rules are constants of this module)

# The scan with the rules of one row is the dearest part of validating (sixteen checks a row),
# and the planner sees neither that nor how few rows break a rule: it costs the checks as a few
# operators and expects every row to come out (ten times over, after the unnest), so with the
# default costs it never shares the scan among parallel workers. Costed as it is (a worker's
# start against ~0.4 s of CPU per 100k rows, and a few rows a thousand through the Gather) it
# does, where the server gives workers (max_parallel_workers_per_gather; a staged table of at
# least min_parallel_table_scan_size; a temporary one, the ordinary path's changed rows, never).
# Only for this statement: the rules across rows gather every row to one hash, and through
# workers that is slower.
_ROW_RULES_PARALLEL = {"parallel_setup_cost": "100", "parallel_tuple_cost": "0.001"}

_ACROSS_ERRORS = """
INSERT INTO import_errs (line, household_ref, period, field, rule)
SELECT r.line, r.household_ref, r.period, 'nik', 'duplicate_in_file'
FROM {related} r
JOIN (SELECT nik, min(line) AS first FROM {related}
      WHERE columns_ok AND nik <> '' {nik_scope}
      GROUP BY nik HAVING count(*) > 1) d ON d.nik = r.nik
WHERE r.columns_ok AND r.line > d.first
UNION ALL
SELECT line, household_ref, period, 'household_ref', 'household_fields_differ'
FROM (SELECT line, household_ref, period, village_code, address, welfare_decile,
             first_value(village_code) OVER w AS first_village,
             first_value(address) OVER w AS first_address,
             first_value(welfare_decile) OVER w AS first_decile
      FROM {work}
      WHERE columns_ok
        AND household_ref IN (
          SELECT household_ref FROM {work} WHERE columns_ok
          GROUP BY household_ref
          HAVING min(village_code COLLATE "C") <> max(village_code COLLATE "C")
              OR min(address COLLATE "C") <> max(address COLLATE "C")
              OR min(welfare_decile COLLATE "C") <> max(welfare_decile COLLATE "C"))
      WINDOW w AS (PARTITION BY household_ref COLLATE "C" ORDER BY line)) h
WHERE (village_code, address, welfare_decile) <> (first_village, first_address, first_decile)
UNION ALL
SELECT line, household_ref, period, 'kk_number', 'in_two_households'
FROM (SELECT line, household_ref, period,
             first_value(household_ref) OVER (PARTITION BY kk_number COLLATE "C" ORDER BY line)
               AS first
      FROM {related}
      WHERE columns_ok
        AND kk_number IN (
          SELECT kk_number FROM {related} WHERE columns_ok {kk_scope}
          GROUP BY kk_number
          HAVING min(household_ref COLLATE "C") <> max(household_ref COLLATE "C"))) k
WHERE household_ref <> first
"""

# The staged rows that share a NIK or a KK with a row to import, in one more pass (only when
# some households are skipped): the rules across rows then look at these instead of the file.
_RELATED = """
CREATE TEMP TABLE import_related ON COMMIT DROP AS
SELECT line, columns_ok, household_ref, period, nik, kk_number FROM {staging}
WHERE columns_ok
  AND (nik IN (SELECT nik FROM import_work WHERE columns_ok)
       OR kk_number IN (SELECT kk_number FROM import_work WHERE columns_ok))
"""
_NIK_SCOPE = "AND nik IN (SELECT nik FROM import_work WHERE columns_ok)"
_KK_SCOPE = "AND kk_number IN (SELECT kk_number FROM import_work WHERE columns_ok)"

_REJECTED = """
CREATE TEMP TABLE import_rejected ON COMMIT DROP AS
SELECT DISTINCT ON (line) line, household_ref, period FROM import_errs
"""

# The rows to write: the work rows without a rule broken. All valid rows of a household agree
# on its fields and all valid rows of a KK on its household (a row that differs from the first
# line is rejected), so plain DISTINCT picks them without sorting by line.
_VALID = """(SELECT w.* FROM {work} w WHERE w.columns_ok
    AND NOT EXISTS (SELECT 1 FROM import_rejected r WHERE r.line = w.line))"""

_HOUSEHOLDS = """
INSERT INTO households AS h (id, registry_ref, village_code, address, welfare_decile)
SELECT uuidv7(), household_ref, village_code, address, welfare_decile::smallint
FROM (SELECT DISTINCT household_ref, village_code, address, welfare_decile FROM {valid} v) f
ON CONFLICT (registry_ref) DO UPDATE
SET village_code = excluded.village_code, address = excluded.address,
    welfare_decile = excluded.welfare_decile, updated_at = now()
WHERE (h.village_code, h.address, h.welfare_decile)
      IS DISTINCT FROM (excluded.village_code, excluded.address, excluded.welfare_decile)
"""

# A KK or a person that moves to another household changes that household too: it loses its
# change-detection entry, so the next import looks at it again.
_FAMILIES = """
WITH up AS (
    INSERT INTO families AS f (kk_number, household_id)
    SELECT DISTINCT v.kk_number, h.id
    FROM {valid} v JOIN households h ON h.registry_ref = v.household_ref
    ON CONFLICT (kk_number) DO UPDATE SET household_id = excluded.household_id
    WHERE f.household_id IS DISTINCT FROM excluded.household_id
    RETURNING old.household_id AS was, new.household_id AS now
),
moved AS (
    DELETE FROM import_households k USING households h
    WHERE h.id IN (SELECT was FROM up WHERE was <> now) AND k.household_ref = h.registry_ref
)
SELECT count(*) FROM up
"""

# The name key once per distinct name (``_NAME_KEYS``): many people share a name, and the key's
# regular expressions are the dearest part of the row.
_NAME_KEYS = """keys AS MATERIALIZED (
    SELECT d.name, name_key(d.name) AS key FROM (SELECT DISTINCT name FROM {valid} v) d
)"""

_INDIVIDUALS = """
WITH {keys}, up AS (
    INSERT INTO individuals AS i (id, nik, household_id, kk_number, name, name_key, sex,
                                  birth_date, relation, disability, school_status, village_code)
    SELECT uuidv7(), v.nik, h.id, v.kk_number, btrim(v.name), k.key,
           CASE v.sex WHEN 'L' THEN 'male' ELSE 'female' END, v.birth_date::date, v.relation,
           nullif(v.disability, ''), nullif(v.school_status, ''), v.village_code
    FROM {valid} v JOIN households h ON h.registry_ref = v.household_ref
    JOIN keys k ON k.name = v.name
    ON CONFLICT (nik) DO UPDATE
    SET household_id = excluded.household_id, kk_number = excluded.kk_number,
        name = excluded.name, name_key = excluded.name_key, sex = excluded.sex,
        birth_date = excluded.birth_date, relation = excluded.relation,
        disability = excluded.disability, school_status = excluded.school_status,
        village_code = excluded.village_code, updated_at = now()
    WHERE (i.household_id, i.kk_number, i.name, i.sex, i.birth_date, i.relation, i.disability,
           i.school_status, i.village_code)
          IS DISTINCT FROM
          (excluded.household_id, excluded.kk_number, excluded.name, excluded.sex,
           excluded.birth_date, excluded.relation, excluded.disability, excluded.school_status,
           excluded.village_code)
    RETURNING old.household_id AS was, new.household_id AS now
),
moved AS (
    DELETE FROM import_households k USING households h
    WHERE h.id IN (SELECT was FROM up WHERE was <> now) AND k.household_ref = h.registry_ref
)
SELECT count(*) FROM up
"""

# A first load (below): the tables are empty and locked, and the valid rows hold one row per
# household, KK and NIK (the rules across rows reject every other), so plain inserts: no
# conflict to look for, no unique index to keep up row by row (made after the load).
_HOUSEHOLDS_FIRST = """
INSERT INTO households (id, registry_ref, village_code, address, welfare_decile)
SELECT uuidv7(), household_ref, village_code, address, welfare_decile::smallint
FROM (SELECT DISTINCT household_ref, village_code, address, welfare_decile FROM {valid} v) f
"""

_FAMILIES_FIRST = """
INSERT INTO families (kk_number, household_id)
SELECT v.kk_number, h.id
FROM (SELECT DISTINCT kk_number, household_ref FROM {valid} v) v
JOIN households h ON h.registry_ref = v.household_ref
"""

# A first load's people, ids made here: the individuals are inserted from this table, and
# participation and PMKS flags read it, instead of joining the staged rows to the households
# again and the inserted individuals back by NIK. Its rows are scanned in the order they were
# written, so the ids (``uuidv7()``, rising) still append at the right of the key's index.
_PEOPLE_FIRST = """
CREATE TEMP TABLE import_people ON COMMIT DROP AS
WITH {keys}
SELECT uuidv7() AS id, h.id AS household_id, v.nik, v.kk_number, btrim(v.name) AS name,
       k.key AS name_key, CASE v.sex WHEN 'L' THEN 'male' ELSE 'female' END AS sex,
       v.birth_date::date AS birth_date, v.relation, nullif(v.disability, '') AS disability,
       nullif(v.school_status, '') AS school_status, v.village_code, v.individual_programs,
       v.pmks, v.period
FROM {valid} v JOIN households h ON h.registry_ref = v.household_ref
JOIN keys k ON k.name = v.name
"""

_INDIVIDUALS_FIRST = """
INSERT INTO individuals (id, nik, household_id, kk_number, name, name_key, sex, birth_date,
                         relation, disability, school_status, village_code)
SELECT id, nik, household_id, kk_number, name, name_key, sex, birth_date, relation, disability,
       school_status, village_code
FROM import_people
"""

# Participation as one diff. The extract is the full participation of its periods for the
# people and households it lists: what it no longer lists is withdrawn. A household with a
# rejected line keeps its household-level participation (its head's row may be the rejected
# one). A period is the file's when a valid row has it.
_PERIODS = """
SELECT coalesce(array_agg(g.period), '{}') FROM import_groups g
WHERE g.set = 2
  AND g.row_count > (SELECT count(*) FROM import_rejected r WHERE r.period = g.period)
"""

# The people and households of the rows to write, as tables the planner has statistics for.
_PEOPLE = """
CREATE TEMP TABLE import_people ON COMMIT DROP AS
SELECT i.id, i.household_id, v.individual_programs, v.pmks, v.period
FROM {valid} v JOIN individuals i ON i.nik = v.nik
"""

_HOMES = """
CREATE TEMP TABLE import_homes ON COMMIT DROP AS
SELECT h.id, v.household_programs, v.period,
       NOT EXISTS (SELECT 1 FROM import_rejected r WHERE r.household_ref = v.household_ref)
         AS clean
FROM (SELECT DISTINCT household_ref, household_programs, period FROM {valid} v) v
JOIN households h ON h.registry_ref = v.household_ref
"""

_PARTICIPATION = """
WITH wanted AS MATERIALIZED (
    SELECT DISTINCT h.id AS household_id, NULL::uuid AS individual_id, p.code AS program_code,
           h.period, h.id AS subject
    FROM import_homes h
    CROSS JOIN LATERAL unnest(string_to_array(nullif(h.household_programs, ''), ';')) AS p(code)
    UNION ALL
    SELECT DISTINCT i.household_id, i.id, p.code, i.period, i.id
    FROM import_people i
    CROSS JOIN LATERAL unnest(string_to_array(nullif(i.individual_programs, ''), ';')) AS p(code)
), present AS (
    SELECT p.subject, p.program_code, p.period
    FROM (SELECT DISTINCT id FROM import_homes WHERE clean) h
    JOIN participation p ON p.subject = h.id
    WHERE p.individual_id IS NULL AND p.period = ANY($1::text[])
    UNION ALL
    SELECT p.subject, p.program_code, p.period
    FROM import_people i JOIN participation p ON p.subject = i.id
    WHERE p.individual_id IS NOT NULL AND p.period = ANY($1::text[])
), added AS (
    INSERT INTO participation (household_id, individual_id, program_code, period)
    SELECT household_id, individual_id, program_code, period FROM wanted
    {on_conflict}
    RETURNING 1
), removed AS (
    DELETE FROM participation p
    USING (SELECT subject, program_code, period FROM present
           EXCEPT
           SELECT subject, program_code, period FROM wanted) stale
    WHERE (p.subject, p.program_code, p.period)
          = (stale.subject, stale.program_code, stale.period)
    RETURNING 1
)
SELECT (SELECT count(*) FROM added) AS added, (SELECT count(*) FROM removed) AS removed
"""

_PMKS = """
WITH listed AS (
    SELECT id, nullif(pmks, '') AS kind FROM import_people
), removed AS (
    DELETE FROM pmks_flags f USING listed l
    WHERE f.individual_id = l.id AND f.kind IS DISTINCT FROM l.kind
)
INSERT INTO pmks_flags (individual_id, kind)
SELECT id, kind FROM listed WHERE kind IS NOT NULL
ON CONFLICT DO NOTHING
"""

# Remember the households imported without a rejected line; forget those with one.
_REMEMBER = """
WITH forgotten AS (
    DELETE FROM import_households
    WHERE household_ref IN (SELECT household_ref FROM import_rejected)
)
INSERT INTO import_households AS k (household_ref, row_count, row_hash)
SELECT g.household_ref, g.row_count, g.row_hash
FROM import_groups g JOIN import_changed c ON c.household_ref = g.household_ref
WHERE g.set = 1
  AND NOT EXISTS (SELECT 1 FROM import_rejected r WHERE r.household_ref = g.household_ref)
{on_conflict}
"""
_REMEMBER_CONFLICT = """ON CONFLICT (household_ref) DO UPDATE
SET row_count = excluded.row_count, row_hash = excluded.row_hash"""


# The last completed import of this scope, and whether its result can be repeated for this file:
# the same bytes and logic, reusable, and no transaction but its own has written to what the
# import reads since its starting snapshot (rows of transactions still running are not seen:
# such a transaction commits after this import, as if it had started later, and the next import
# sees its row).
_LAST = """
SELECT r.id, r.rows_read, r.rows_rejected, r.repeat_skipped,
       r.file_digest = $2 AND r.logic = $3 AND r.reusable
       AND NOT EXISTS (SELECT 1 FROM registry_writes w
                       WHERE w.xact <> r.xact
                         AND NOT pg_visible_in_snapshot(w.xact, r.started_from))
         AS repeatable
FROM imports r
WHERE r.area = $1 AND r.finished_at IS NOT NULL AND r.id <> $4
ORDER BY r.finished_at DESC, r.started_at DESC
LIMIT 1
"""

# A full re-import of the same file, with nothing else written since, would look at the
# households without a matching entry now (``lacking``). This import's result is what that
# re-import gives (``settled``) when those are exactly the households with a rejected line and
# this import looked at every one of them: the re-import then finds the same errors (each is on a
# row of those households, and the rules across rows see every row sharing its NIK or KK) and
# writes the same valid rows and participation, which are already as this import wrote them.
# Not settled, e.g.: a skipped household rejected for a NIK it shares with a changed one (it
# was not looked at as a whole), or an entry dropped by a person moving out of a skipped household.
# Counted, not ``NOT EXISTS``: an EXISTS is planned for its first row, and the planner, expecting
# one at once, chose a nested loop over the two lists that is quadratic when there is none (the
# usual case): 77 s of CPU at 10M rows.
_SETTLED = """
WITH rejected AS (
    SELECT DISTINCT household_ref FROM import_rejected WHERE household_ref IS NOT NULL
), lacking AS (
    SELECT g.household_ref FROM import_groups g
    LEFT JOIN import_households k ON k.household_ref = g.household_ref
    WHERE g.set = 1
      AND NOT coalesce(g.inside AND k.row_count = g.row_count AND k.row_hash = g.row_hash, false)
)
SELECT (SELECT count(*) FROM import_groups WHERE set = 1)
         - (SELECT count(*) FROM lacking) AS repeat_skipped,
       (SELECT count(*) FROM lacking l
        WHERE NOT EXISTS (SELECT 1 FROM rejected r WHERE r.household_ref = l.household_ref)) = 0
       AND (SELECT count(*) FROM rejected r
            WHERE NOT EXISTS (SELECT 1 FROM import_changed c
                              WHERE c.household_ref = r.household_ref)) = 0 AS settled
"""


# First load: the tables the upserts write. When all of them are empty (a new registry) the
# import drops their foreign keys and their indexes that no upsert needs (not unique), loads,
# and creates them again, each validated or built by one statement instead of a check or an
# entry per row. In the import's transaction: a failure rolls the drop back with the rest.
_FIRST_LOAD_TABLES = ("households", "families", "individuals", "participation", "pmks_flags")

_FIRST_LOAD_EMPTY = " AND ".join(
    f"NOT EXISTS (SELECT 1 FROM {t})"  # noqa: S608 (constant names)
    for t in _FIRST_LOAD_TABLES
)

# What to drop and how to make it again (``rank``: the order to make them in; the foreign keys
# are dropped first and made last): the tables' unique and primary keys (made first: the foreign
# keys need them), their other indexes, then the foreign keys. A key that a foreign key of
# another table references (``households``' and ``individuals``' ids: pre-list entries, change
# proposals, needs) stays, with the index under it: dropping it would take those tables too.
_FIRST_LOAD_OBJECTS = """
SELECT 2 AS rank,
       'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
       'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname)
         || ' ' || pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.contype = 'f' AND c.conrelid = ANY($1::regclass[])
UNION ALL
SELECT 0,
       'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
       'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname)
         || ' ' || pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.contype IN ('p', 'u') AND c.conrelid = ANY($1::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                  WHERE f.contype = 'f' AND f.conindid = c.conindid
                    AND f.conrelid <> ALL($1::regclass[]))
UNION ALL
SELECT 1, 'DROP INDEX ' || i.indexrelid::regclass, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY($1::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = i.indexrelid
                    AND (c.contype <> 'f' OR c.conrelid <> ALL($1::regclass[])))
"""


async def _first_load(conn: Connection) -> list[str]:
    """When the registry is empty: drop the foreign keys and the indexes of the tables the
    import writes (but the keys other tables reference) and return the statements that make
    them again (keys, indexes, then the foreign keys, each built or validated by one
    statement). Otherwise nothing, and no lock kept."""
    if not await conn.fetchval(f"SELECT {_FIRST_LOAD_EMPTY}"):
        return []
    tables = ", ".join(_FIRST_LOAD_TABLES)
    try:
        async with conn.transaction():  # a savepoint: rolled back, its locks are released
            # Nobody may read or write them until the import commits: checked again under it.
            # NOWAIT: if anyone is using them right now (a lookup, another import), the
            # ordinary path (and never a deadlock between two first loads).
            await conn.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE NOWAIT")
            if not await conn.fetchval(f"SELECT {_FIRST_LOAD_EMPTY}"):
                raise _NotEmpty
    except (_NotEmpty, asyncpg.LockNotAvailableError):
        return []
    objects = await conn.fetch(_FIRST_LOAD_OBJECTS, list(_FIRST_LOAD_TABLES))
    # The foreign keys first: the keys they reference go next.
    for _rank, drop, _ in sorted(objects, key=lambda o: -o[0]):
        await conn.execute(drop)
    return [make for _, _, make in sorted(objects, key=lambda o: o[0])]


class _NotEmpty(Exception):
    pass


def _logic_digest() -> str:
    """The importer's logic: its own source and the modules its rules and statements come from
    (a new rule or statement makes every earlier result unrepeatable)."""
    digest = hashlib.sha256()
    for module in (sys.modules[__name__], extract, needs, corrections):
        assert module.__file__ is not None
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


_LOGIC = _logic_digest()


def _file_digest(source: IO[bytes], origin: int) -> bytes:
    """SHA-256 of the file from ``origin``; the source is left where it was."""
    position = source.tell()
    source.seek(origin)
    digest = hashlib.sha256()
    while chunk := source.read(_CHUNK_BYTES):
        digest.update(chunk)
    source.seek(position)
    return digest.digest()


async def _set_local(conn: Connection, settings: dict[str, str]) -> dict[str, str]:
    """Set ``settings`` for the rest of the transaction; returns the values they had."""
    names = list(settings)
    was: list[str] = await conn.fetchval(
        "SELECT array_agg(current_setting(name) ORDER BY n) "
        "FROM unnest($1::text[]) WITH ORDINALITY AS s(name, n)",
        names,
    )
    await conn.execute(
        "SELECT set_config(name, value, true) "
        "FROM unnest($1::text[], $2::text[]) AS s(name, value)",
        names,
        list(settings.values()),
    )
    return dict(zip(names, was, strict=True))


def _count(status: str) -> int:
    return int(status.split()[-1])


async def _copy(
    conn: Connection,
    staging: str,
    source: IO[bytes],
    origin: int,
    on_bytes: Callable[[int], None],
) -> int:
    """COPY the data lines into ``staging``; returns the rows read. The file goes to COPY as it
    is; when COPY cannot take it so (or its rows and lines disagree), the careful path."""
    scan = _Scan()
    try:
        async with conn.transaction():  # a savepoint: a failed COPY leaves nothing behind
            status = await conn.copy_to_table(
                staging,
                source=_raw_chunks(source, scan, on_bytes),
                columns=list(COLUMNS),
                format="csv",
                force_not_null=list(COLUMNS),
            )
            rows = _count(status)
            lines = scan.newlines + (0 if scan.last == b"\n" else 1)
            if rows == lines:
                return rows
            raise _NotAsItIs
    except (_NotAsItIs, asyncpg.DataError):
        # DataError: class 22 (a row with the wrong number of columns, bytes that are not UTF-8)
        pass
    source.seek(origin)
    on_bytes(-scan.read)
    status = await conn.copy_to_table(
        staging,
        source=_checked_chunks(source, on_bytes),
        columns=["line", "columns_ok", *COLUMNS],
        format="csv",
        force_not_null=list(COLUMNS),
    )
    return _count(status)


class _NotAsItIs(Exception):
    """A quoted line break (line numbers would shift): take the careful path."""


async def import_extract(
    conn: Connection,
    source: IO[bytes],
    *,
    file_name: str,
    started_by: str,
    area: str = "",
    on_bytes: Callable[[int], None] = lambda n: None,
    on_phase: Callable[[str], None] = lambda phase: None,
    repeat: bool = True,
    first_load: bool = True,
) -> ImportReport:
    """Import one extract (a binary, seekable file) in one transaction; rows outside ``area``
    are rejected. ``on_bytes`` gets the bytes read since its last call. ``repeat=False``: the
    full import even when an earlier result could be repeated; ``first_load=False``: the
    indexes and foreign keys kept even into an empty registry (tests compare the two)."""
    report = ImportReport(import_id=uuid.uuid4())
    origin = source.tell()
    _read_header(source)
    on_phase("reading")
    digest = await asyncio.to_thread(_file_digest, source, origin)
    staging = f"import_staging_{report.import_id.hex}"
    async with conn.transaction():
        # Joins and aggregates over a whole district's rows: in memory instead of spilling.
        await conn.execute("SET LOCAL work_mem = '256MB'")
        # The staged and temporary tables are ANALYZEd for their row counts and the number of
        # distinct keys (hash or sort, which side to hash): a sample of 3,000 rows tells that.
        # The default (30,000 rows, every column sorted) took a third of an unchanged re-import.
        await conn.execute("SET LOCAL default_statistics_target = 10")
        # The snapshot this import starts from, before it reads anything: a later import repeats
        # this one's result only if nothing it could not see has been written since.
        await conn.execute(
            "INSERT INTO imports (id, file_name, started_by, area, file_digest, logic, "
            "started_from, xact) "
            "VALUES ($1, $2, $3, $4, $5, $6, pg_current_snapshot(), pg_current_xact_id())",
            report.import_id,
            file_name[:300],
            started_by,
            area,
            digest,
            _LOGIC,
        )
        last = await conn.fetchrow(_LAST, area, digest, _LOGIC, report.import_id)
        if repeat and last is not None and last["repeatable"]:
            await _repeat(conn, report, last, on_phase)
            return report
        await conn.execute(
            "DELETE FROM registry_writes WHERE pg_visible_in_snapshot(xact, "
            "(SELECT started_from FROM imports WHERE id = $1))",
            report.import_id,
        )
        # UNLOGGED: no WAL for rows that live as long as this transaction. The line numbers
        # count the header as line 1 (the careful path gives its own).
        columns = ", ".join(f"{c} text NOT NULL" for c in COLUMNS)
        await conn.execute(
            f"CREATE UNLOGGED TABLE {staging} (line bigint GENERATED BY DEFAULT AS IDENTITY "
            f"(START WITH 2 CACHE 10000), columns_ok boolean NOT NULL DEFAULT true, {columns})"
        )
        on_phase("copying")
        report.rows_read = await _copy(conn, staging, source, origin, on_bytes)
        # Only the columns the statements join, group or filter on.
        await conn.execute(
            f"ANALYZE {staging} (line, columns_ok, household_ref, village_code, kk_number, nik, "
            "period)"
        )

        on_phase("comparing")
        await conn.execute(_FILE_GROUPS.format(staging=staging), area)
        await conn.execute("ANALYZE import_groups")
        await conn.execute(_CHANGED)
        report.households_skipped = await conn.fetchval(
            "SELECT (SELECT count(*) FROM import_groups WHERE set = 1) "
            "- (SELECT count(*) FROM import_changed)"
        )
        if report.households_skipped == 0:
            work, related, nik_scope, kk_scope = staging, staging, "", ""
        else:
            await conn.execute(_WORK.format(staging=staging))
            await conn.execute("ANALYZE import_work")
            await conn.execute(_RELATED.format(staging=staging))
            await conn.execute("ANALYZE import_related")
            work, related = "import_work", "import_related"
            nik_scope, kk_scope = _NIK_SCOPE, _KK_SCOPE

        on_phase("validating")
        defaults = await _set_local(conn, _ROW_RULES_PARALLEL)
        await conn.execute(
            _ROW_ERRORS.format(work=work),
            area,
            sorted(RELATIONS),
            sorted(DISABILITIES),
            sorted(SCHOOL_STATUSES),
            sorted(PMKS_KINDS),
        )
        await _set_local(conn, defaults)
        await conn.execute(
            _ACROSS_ERRORS.format(
                work=work, related=related, nik_scope=nik_scope, kk_scope=kk_scope
            )
        )
        await conn.execute(_REJECTED)
        await conn.execute("ANALYZE import_errs")
        await conn.execute("ANALYZE import_rejected")
        await conn.execute(
            "INSERT INTO import_errors (import_id, line, field, rule) "
            "SELECT $1, line, field, rule FROM import_errs",
            report.import_id,
        )
        valid = _VALID.format(work=work)
        keys = _NAME_KEYS.format(valid=valid)
        remake = await _first_load(conn) if first_load else []
        report.first_load = bool(remake)

        on_phase("households")
        if remake:
            status = await conn.execute(_HOUSEHOLDS_FIRST.format(valid=valid))
            report.households_changed = _count(status)
            # The tables were empty: without their row counts the planner sorts both sides of
            # every join to them (a merge join) or hashes the staged rows instead of them.
            await conn.execute("ANALYZE households (id, registry_ref)")
            await conn.execute(_FAMILIES_FIRST.format(valid=valid))
            on_phase("individuals")
            await conn.execute(_PEOPLE_FIRST.format(valid=valid, keys=keys))
            status = await conn.execute(_INDIVIDUALS_FIRST)
            report.individuals_changed = _count(status)
        else:
            status = await conn.execute(_HOUSEHOLDS.format(valid=valid))
            report.households_changed = _count(status)
            await conn.fetchval(_FAMILIES.format(valid=valid))
            on_phase("individuals")
            report.individuals_changed = await conn.fetchval(
                _INDIVIDUALS.format(valid=valid, keys=keys)
            )
        on_phase("participation")
        periods = await conn.fetchval(_PERIODS)
        if not remake:
            await conn.execute(_PEOPLE.format(valid=valid))
        await conn.execute(_HOMES.format(valid=valid))
        # The columns of the narrow table (a first load's has the individuals' too).
        await conn.execute(
            "ANALYZE import_people (id, household_id, individual_programs, pmks, period)"
        )
        await conn.execute("ANALYZE import_homes")
        # A first load's participation is empty, and each subject's programs are distinct.
        on_conflict = "" if remake else "ON CONFLICT (subject, program_code, period) DO NOTHING"
        diff = await conn.fetchrow(_PARTICIPATION.format(on_conflict=on_conflict), periods)
        assert diff is not None
        report.participation_added, report.participation_removed = diff["added"], diff["removed"]
        # A recorded need closes once its household receives the program.
        report.needs_closed = await needs.close_met(conn)
        on_phase("pmks")
        await conn.execute(_PMKS)
        # A first load into a registry that remembers no household: nothing to conflict with
        # (the tables it writes are locked, so no other import can remember one meanwhile; a
        # conflict would fail the import, never half-write it).
        fresh = bool(remake) and not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM import_households)"
        )
        await conn.execute(_REMEMBER.format(on_conflict="" if fresh else _REMEMBER_CONFLICT))
        if remake:
            on_phase("indexing")
            await conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for statement in remake:
                await conn.execute(statement)

        on_phase("report")
        settled = await conn.fetchrow(_SETTLED)
        assert settled is not None
        # The digest names the bytes imported only if the file did not change meanwhile.
        unchanged = await asyncio.to_thread(_file_digest, source, origin) == digest
        await conn.execute(f"DROP TABLE {staging}")
        rows = await conn.fetch(
            "SELECT line, field, rule FROM import_errs ORDER BY line, field, rule"
        )
        report.errors = [RowError(r["line"], r["field"], r["rule"]) for r in rows]
        report.rows_rejected = len({e.line for e in report.errors})
        await conn.execute(
            "UPDATE imports SET finished_at = now(), rows_read = $2, rows_rejected = $3, "
            "households_changed = $4, individuals_changed = $5, participation_added = $6, "
            "reusable = $7, repeat_skipped = $8 WHERE id = $1",
            report.import_id,
            report.rows_read,
            report.rows_rejected,
            report.households_changed,
            report.individuals_changed,
            report.participation_added,
            settled["settled"] and unchanged,
            settled["repeat_skipped"],
        )
    return report


async def _repeat(
    conn: Connection, report: ImportReport, last: asyncpg.Record, on_phase: Callable[[str], None]
) -> None:
    """The file and everything the import reads are as the last import left them: its result
    again (its counts of rows and rejections, its error report; nothing changes)."""
    on_phase("unchanged")
    report.repeat_of = last["id"]
    report.rows_read = last["rows_read"]
    report.rows_rejected = last["rows_rejected"]
    report.households_skipped = last["repeat_skipped"]
    await conn.execute(
        "INSERT INTO import_errors (import_id, line, field, rule) "
        "SELECT $1, line, field, rule FROM import_errors WHERE import_id = $2",
        report.import_id,
        last["id"],
    )
    rows = await conn.fetch(
        "SELECT line, field, rule FROM import_errors WHERE import_id = $1 "
        "ORDER BY line, field, rule",
        report.import_id,
    )
    report.errors = [RowError(r["line"], r["field"], r["rule"]) for r in rows]
    await conn.execute(
        "UPDATE imports SET finished_at = now(), rows_read = $2, rows_rejected = $3, "
        "reusable = true, repeat_skipped = $4, repeat_of = $5 WHERE id = $1",
        report.import_id,
        report.rows_read,
        report.rows_rejected,
        last["repeat_skipped"],
        last["id"],
    )


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

            def advance(_: int) -> None:
                bar.update(raw.tell() - bar.n)

            def phase(name: str) -> None:
                bar.set_description_str(name)
                bar.update((0 if name in ("reading", "copying") else size) - bar.n)

            async with pool.acquire() as conn:
                report = await import_extract(
                    conn,
                    raw,
                    file_name=path.name,
                    started_by=started_by,
                    on_bytes=advance,
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
