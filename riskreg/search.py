"""Folding and trigrams for fuzzy search on system names and aliases (å/ä/ö folded for matching only)."""

from __future__ import annotations

import re
import time
import unicodedata

from sqlalchemy import text
from sqlalchemy.orm import Session

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


# ---------------------------------------------------------------------------------- common grams
# A gram most names share (" va", "ter", "ing") says little about which system is meant, and counting
# its tens of thousands of rows is most of a search's cost at 100,000 systems. PostgreSQL's own
# statistics (kept by ANALYZE and autovacuum) name the most common grams; a search drops those of its
# grams beyond the rarer half. They only narrow how candidates are gathered; the ranking is rapidfuzz's.

COMMON_GRAMS_SECONDS = 600
_COMMON_GRAMS_SQL = text(
    "SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats "
    "WHERE schemaname = current_schema() AND tablename = 'search_grams' AND attname = 'gram'"
)
_common_cache: dict[str, tuple[float, dict[str, float]]] = {}


def common_grams(session: Session) -> dict[str, float]:
    """The most common grams with their share of all gram rows; empty on SQLite or before the table was
    analysed. Cached per process for ten minutes (a cache of the database's statistics, nothing more)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return {}
    key = bind.engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    hit = _common_cache.get(key)
    if hit is None or now - hit[0] > COMMON_GRAMS_SECONDS:
        row = session.execute(_COMMON_GRAMS_SQL).first()
        common = dict(zip(row[0], row[1], strict=True)) if row and row[0] else {}
        hit = _common_cache[key] = (now, common)
    return hit[1]


def search_grams(query: str, common: dict[str, float], keep_at_least: int = 4) -> list[str]:
    """The query's grams to gather candidates by: every gram that is not common, and of the common ones
    the rarest, so that at least half of the grams (and ``keep_at_least``) remain."""
    grams = sorted(trigrams(query))
    keep = max(keep_at_least, (len(grams) + 1) // 2)
    if not common or len(grams) <= keep:
        return grams
    rarest = sorted(grams, key=lambda g: (common.get(g, 0.0), g))
    return sorted(g for i, g in enumerate(rarest) if i < keep or g not in common)
