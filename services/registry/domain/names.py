"""Name keys for fuzzy search: one spelling for the variants a name is written in.

Indonesian names come in many spellings of the same name: old (pre-1972) spelling
(``Soeharto``/``Suharto``, ``Djoko``/``Joko``, ``Tjahjo``/``Cahyo``), doubled letters
(``Muhammad``/``Muhamad``), a silent final ``h`` (``Nurhalizah``/``Nurhaliza``). The key folds
these together; trigram similarity on the key then absorbs typos.
"""

from __future__ import annotations

import re
import unicodedata

# Old spelling → current spelling (Ejaan yang Disempurnakan), longest first.
_OLD_SPELLING = (("dj", "j"), ("tj", "c"), ("sj", "sy"), ("nj", "ny"), ("oe", "u"), ("ch", "kh"))
_DOUBLED = re.compile(r"([a-z])\1+")
_FINAL_H = re.compile(r"(?<=[aeiou])h\b")
_NOT_LETTER = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")


def name_key(name: str) -> str:
    """The search key of a name: lower case ASCII letters, variants folded."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = _NOT_LETTER.sub(" ", ascii_name.lower())
    for old, new in _OLD_SPELLING:
        key = key.replace(old, new)
    key = _DOUBLED.sub(r"\1", key)
    key = _FINAL_H.sub("", key)
    return _SPACES.sub(" ", key).strip()
