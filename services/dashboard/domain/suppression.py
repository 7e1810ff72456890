"""Small-cell suppression (sensor sel kecil) for aggregates shown outside the district.

A count between 1 and 4 could point at a household; outside the district it is shown as
"< 5". When exactly one cell of a breakdown is hidden, its value could be recovered from the
total, so the next smallest non-zero cell is hidden too (secondary suppression).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.dashboard.domain.scope import SMALL_CELL


def is_small(count: int) -> bool:
    return 0 < count < SMALL_CELL


def suppress_column(counts: Sequence[int]) -> list[int | None]:
    """``counts`` of one breakdown with small cells replaced by None (primary and secondary)."""
    shown: list[int | None] = [None if is_small(c) else c for c in counts]
    hidden = [i for i, v in enumerate(shown) if v is None]
    if len(hidden) == 1:
        candidates = [i for i, v in enumerate(shown) if v is not None and v > 0]
        if candidates:
            shown[min(candidates, key=lambda i: counts[i])] = None
    return shown


def suppress_rate(numerator: int, denominator: int) -> float | None:
    """A share, hidden when its base is a small cell (None also when there is no base)."""
    if denominator == 0 or is_small(denominator) or is_small(numerator):
        return None
    return numerator / denominator
