"""The SIKS-NG exchange files (layouts documented in docs/registry.md).

Export batch: one CSV per batch, a row per approved pre-list entry or profile change.
Verification results: a CSV per batch coming back, a row per item: accepted, or rejected or
needing a revisit with a reason; an accepted pre-list entry carries the household id (IDRT) and
decile SIKS-NG assigned.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

EXPORT_COLUMNS = (
    "batch_id",
    "item_id",
    "item_type",
    "complaint_id",
    "village_code",
    "nik",
    "kk_number",
    "name",
    "sex",
    "birth_date",
    "address",
    "field",
    "old_value",
    "new_value",
    "evidence",
)
RESULT_COLUMNS = ("batch_id", "item_id", "result", "reason", "household_ref", "welfare_decile")

ItemType = Literal["prelist", "change"]


def export_csv(rows: Iterable[dict[str, Any]]) -> str:
    """The batch file; ``rows`` in a stable order so that a re-export is byte-identical."""
    out = io.StringIO()
    writer = csv.DictWriter(out, EXPORT_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else str(row[k]) for k in EXPORT_COLUMNS})
    return out.getvalue()


@dataclass(frozen=True)
class VerificationResult:
    line: int
    batch_id: UUID
    item_id: UUID
    accepted: bool
    reason: str | None
    household_ref: str | None
    welfare_decile: int | None
    revisit: bool = False
    """SIKS-NG neither accepts nor rejects: the entry needs a revisit (``result`` = revisit);
    it goes back to the facilitator (returned) with SIKS-NG's reason."""


@dataclass(frozen=True)
class ResultError:
    line: int
    field: str
    rule: str


def parse_results(text: str) -> tuple[list[VerificationResult], list[ResultError]]:
    """Results and row-level errors (a bad row never stops the others)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in RESULT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [ResultError(1, c, "missing_column") for c in missing]
    results: list[VerificationResult] = []
    errors: list[ResultError] = []
    for row in reader:
        line = reader.line_num
        row_errors: list[ResultError] = []
        ids: dict[str, UUID] = {}
        for name in ("batch_id", "item_id"):
            try:
                ids[name] = UUID(row[name] or "")
            except ValueError:
                row_errors.append(ResultError(line, name, "uuid"))
        result = (row["result"] or "").strip().lower()
        if result not in ("accepted", "rejected", "revisit"):
            row_errors.append(ResultError(line, "result", "one_of:accepted,rejected,revisit"))
        reason = (row["reason"] or "").strip() or None
        if result in ("rejected", "revisit") and reason is None:
            row_errors.append(ResultError(line, "reason", "required_when_rejected"))
        decile: int | None = None
        if raw := (row["welfare_decile"] or "").strip():
            decile = int(raw) if raw.isdigit() and 1 <= int(raw) <= 10 else None
            if decile is None:
                row_errors.append(ResultError(line, "welfare_decile", "range:1-10"))
        if row_errors:
            errors.extend(row_errors)
            continue
        results.append(
            VerificationResult(
                line=line,
                batch_id=ids["batch_id"],
                item_id=ids["item_id"],
                accepted=result == "accepted",
                reason=reason,
                household_ref=(row["household_ref"] or "").strip() or None,
                welfare_decile=decile,
                revisit=result == "revisit",
            )
        )
    return results, errors
