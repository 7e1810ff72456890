"""When a name search identifies one person (registry checks without a NIK or KK number)."""

from __future__ import annotations

STRONG_SCORE = 0.6
"""Trigram similarity of the folded names above which a candidate may be the person."""
CLEAR_MARGIN = 0.1
"""How far ahead of the runner-up the best candidate must be to be taken as the person."""

MATCHED_BY_NAME = "matched_by_name"
NAME_MATCH_AMBIGUOUS = "name_match_ambiguous"


def pick_name_match(scores: list[float]) -> tuple[int | None, list[str]]:
    """Index of the candidate taken as the person (``scores`` best first) and warnings.

    A name alone is weak evidence: the best candidate counts only when it is close to the
    searched name and clearly ahead of the next one; namesakes in the same place are reported
    as ambiguous rather than guessed between.
    """
    if not scores or scores[0] < STRONG_SCORE:
        return None, []
    if len(scores) > 1 and scores[0] - scores[1] < CLEAR_MARGIN:
        return None, [NAME_MATCH_AMBIGUOUS]
    return 0, [MATCHED_BY_NAME]
