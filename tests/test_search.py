"""Fuzzy search's grams: which of a query's trigrams gather candidates, and PostgreSQL's statistics of
the common ones."""

from __future__ import annotations

from sqlalchemy import text

from riskreg import search
from riskreg.search import common_grams, search_grams, trigrams


def test_folding_and_trigrams():
    assert search.fold("  Ögon-Kliniken (ÅÄÖ) ") == "ogon kliniken aao"
    assert trigrams("Åre") == {" ar", "are", "re "}


def test_without_statistics_every_gram_gathers_candidates():
    assert search_grams("kvalitetsregister svenska", {}) == sorted(trigrams("kvalitetsregister svenska"))


def test_common_grams_beyond_the_rarer_half_are_dropped():
    grams = sorted(trigrams("vardcentral norrby"))  # 17 grams
    common = {" va": 0.02, "var": 0.019, "ard": 0.018, "ral": 0.011, "al ": 0.012, "ent": 0.013,
              "tra": 0.014, "cen": 0.009, "ntr": 0.008, "nor": 0.004}
    kept = search_grams("vardcentral norrby", common)
    assert kept == sorted(kept) and set(kept) <= set(grams)
    assert len(kept) == 9  # (17 + 1) // 2: the seven uncommon grams and the two rarest common ones
    assert set(grams) - set(common) <= set(kept)
    assert {"nor", "ntr"} <= set(kept)
    assert not {" va", "var", "ard", "tra", "ent", "al ", "ral", "cen"} & set(kept)


def test_short_queries_keep_all_their_grams():
    common = {g: 0.01 for g in trigrams("akut")}
    assert search_grams("akut", common) == sorted(trigrams("akut"))  # 4 grams: never fewer than four


def test_common_grams_read_postgresqls_statistics(app, make, db_session, api):
    """On PostgreSQL the most common grams come from pg_stats once the table is analysed; on SQLite there
    are none. Either way a search still finds the system by its rarer grams."""
    for i in range(40):
        make.system(name=f"Vårdcentral Norrby {i:02d}")
    make.system(name="Vårdcentral Sörby")
    search._common_cache.clear()
    if app.config["BACKEND"] == "postgresql":
        db_session.execute(text("ANALYZE search_grams"))
        common = common_grams(db_session)
        assert common and common.get("rby", 0) > common.get("sor", 0)
    else:
        assert common_grams(db_session) == {}
    items = api(make.user("auditor")).get("/api/v1/systems?q=vardcentral sorby").get_json()["items"]
    assert items[0]["name"] == "Vårdcentral Sörby"
    search._common_cache.clear()
