"""Folding and trigrams for fuzzy search on system names and aliases (å/ä/ö folded for matching only)."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lowercase, accents and å/ä/ö folded, punctuation to spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("æ", "ae").replace("ø", "o").replace("ß", "ss")
    return _NON_ALNUM.sub(" ", text).strip()


def trigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for word in fold(text).split():
        padded = f" {word} "
        grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return grams
