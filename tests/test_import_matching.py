"""The matcher (riskreg.imports.normalise, .matching): normalisation, scoring, suggestions, and its measured
quality on the labelled sets in tests/data with floors (scripts/match_quality.py prints the same figures)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from riskreg.imports import matching
from riskreg.imports.matching import Entity, Thresholds, match_list
from riskreg.imports.normalise import fold, keys_for

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(Path(__file__).parent.parent / "scripts"))
import match_quality  # noqa: E402


@pytest.mark.parametrize("name, supplier, main, stripped, alts", [
    ("Cambio Cosmic 4.2", "Cambio", "cambio cosmic", "cosmic", ()),
    ("COSMIC (Cambio)", None, "cosmic", "", ()),
    ("Nationell patientöversikt (NPÖ)", "Inera", "nationell patientoversikt", "", ("npo",)),
    ("Cosmic R8.2 x64", None, "cosmic", "", ()),
    ("Office 2016", None, "office", "", ()),
    ("1177 Vårdguiden", None, "1177 vardguiden", "", ()),
    ("Windows 10", None, "windows", "", ()),
    ("Läkemedelsmodulen", None, "lakemedelsmodulen", "", ()),
    ("LÃ¤kemedelsmodulen", None, "lakemedelsmodulen", "", ()),
    ("L?kemedelsmodulen", None, "lkemedelsmodulen", "", ()),
    ("MS Teams", None, "microsoft teams", "teams", ()),
    ("1177 e-tjänster", None, "1177 etjanster", "", ()),
])
def test_normalisation(name, supplier, main, stripped, alts):
    k = keys_for(name, supplier)
    assert (k.main, k.stripped) == (main, stripped)
    assert set(alts) <= set(k.alts)


def test_suppliers_in_name_brackets_and_field_are_known():
    assert keys_for("COSMIC (Cambio)").suppliers == {"cambio"}
    assert keys_for("Melior", "Siemens Healthineers AB").suppliers == {"siemens", "healthineers"}
    assert fold("Ärende") == "arende"


def reg(*systems):
    return [Entity(i + 1, [n] + list(a), s) for i, (n, s, *a) in enumerate(systems)]


def rows(*names):
    return [Entity(i, [n], s) for i, (n, s) in enumerate(names)]


def test_suggestions_explain_themselves():
    register = reg(("Cosmic", "Cambio"), ("Sectra PACS", "Sectra"), ("Agfa PACS", "Agfa"), ("Heroma", "CGI", "HR-Heroma"))
    listed = rows(("Cambio Cosmic 4.2", "Cambio"), ("PACS", None), ("PACS", "Sectra"), ("HR-Heroma", None),
                  ("Qlik Sense", None), ("QLIK SENSE 2023", None), ("Cosmik", None))
    res = match_list(listed, register, [None] * len(listed), Thresholds())
    assert (res[0].action, res[0].system_id, res[0].confidence) == ("merge", 1, "confident")
    assert res[0].candidates[0].tokens == ["cambio", "4.2"]  # what was set aside to match
    assert res[1].action == "create" and res[1].confidence == "uncertain"  # two PACS equally near: a person decides
    assert {c.target for c in res[1].candidates} == {2, 3}
    assert (res[2].action, res[2].system_id) == ("merge", 2)  # the supplier tells the two PACS apart
    assert (res[3].action, res[3].system_id, res[3].candidates[0].field) == ("merge", 4, "alias")
    assert res[4].action == "create" and res[4].duplicates == [5]
    assert (res[5].action, res[5].row_index, res[5].reason) == ("skip", 4, "repeats_row")
    assert (res[6].action, res[6].system_id, res[6].reason) == ("merge", 1, "typo")


def test_external_reference_wins_and_repeats_follow_the_first_row():
    register = reg(("Cosmic", "Cambio"), ("Heroma", "CGI"))
    listed = rows(("Totally different name", None), ("Heroma", None), ("HEROMA", None))
    res = match_list(listed, register, [1, None, None], Thresholds())
    assert (res[0].action, res[0].system_id, res[0].candidates[0].reason) == ("merge", 1, "external_ref")
    assert (res[2].action, res[2].system_id, res[2].reason) == ("merge", 2, "exact")


def test_a_row_without_a_name_is_skipped_with_the_reason_unless_its_key_is_known():
    register = reg(("Cosmic", "Cambio"), ("Heroma", "CGI"))
    listed = rows(("", "Cambio"), ("?", None), ("  -  ", None), ("", None), ("Nytt System", None))
    res = match_list(listed, register, [None, None, None, 2, None], Thresholds())
    for r in res[:3]:
        assert (r.action, r.confidence, r.reason, r.named) == ("skip", "uncertain", "no_name", False)
        assert r.candidates == [] and r.duplicates == [] and r.row_index is None
    assert (res[3].action, res[3].system_id, res[3].reason) == ("merge", 2, "external_ref")  # the key says which
    assert (res[4].action, res[4].confidence) == ("create", "confident")


def test_duplicates_within_the_list_are_listed_both_ways():
    data = json.loads((DATA / "import_quality_region.json").read_text(encoding="utf-8"))
    register, listed, _ = match_quality.build(data)
    res = match_list([Entity(i, [n], s) for i, (n, s) in enumerate(listed)], register, [None] * len(listed),
                     Thresholds())
    pairs = {(i, j) for i, r in enumerate(res) for j in r.duplicates}
    assert pairs and pairs == {(j, i) for i, j in pairs}
    assert all(r.dup_scores[j] >= Thresholds().duplicate for r in res for j in r.duplicates)


def test_a_repeat_whose_own_best_systems_tie_is_uncertain_and_follows_the_earlier_row_only_among_them():
    # the register holds the same name twice; the first row's key says which it is
    register = reg(("Bravo", None), ("Bravo", None), ("Charlie", None))
    listed = rows(("Bravo", None), ("Bravo", None))
    res = match_list(listed, register, [1, None], Thresholds())
    assert (res[0].action, res[0].system_id, res[0].confidence) == ("merge", 1, "confident")
    assert {c.target for c in res[1].candidates if c.score == 100} == {1, 2}
    assert (res[1].action, res[1].system_id, res[1].reason, res[1].confidence) == (
        "merge", 1, "repeats_row", "uncertain")  # the tie broken by the earlier row, yet a person decides
    # the first row's key names a system its name does not: the repeat's own exact matches are others
    res = match_list(rows(("Bravo", None), ("Bravo", None)), reg(("Bravo", None), ("Bravo", None), ("Charlie", None)),
                     [3, None], Thresholds())
    assert (res[0].action, res[0].system_id) == ("merge", 3)
    assert res[1].duplicates == [0]
    assert (res[1].action, res[1].system_id, res[1].confidence) == ("create", None, "uncertain")
    assert {c.target for c in res[1].candidates} == {1, 2}  # shown, for the person to choose


def test_thresholds_are_respected():
    register = reg(("Heroma", "CGI"))
    listed = rows(("Heroma personalsystem", None),)
    assert match_list(listed, register, [None], Thresholds())[0].action == "merge"
    assert match_list(listed, reg(("Heroma", "CGI")), [None], Thresholds(merge=95, confident=98))[0].action == "create"


def test_blocking_finds_what_the_full_comparison_finds(monkeypatch):
    data = json.loads((DATA / "import_quality_region.json").read_text(encoding="utf-8"))
    register, listed, _ = match_quality.build(data)
    full = match_list([Entity(i, [n], s) for i, (n, s) in enumerate(listed)], register, [None] * len(listed),
                      Thresholds())
    register, listed, _ = match_quality.build(data)
    blocked = match_list([Entity(i, [n], s) for i, (n, s) in enumerate(listed)], register, [None] * len(listed),
                         Thresholds(), force_blocking=True)
    same = sum((a.action, a.system_id) == (b.action, b.system_id) for a, b in zip(full, blocked, strict=True))
    assert same >= 0.98 * len(full)


@pytest.mark.parametrize("name", ["import_quality_region.json", "import_quality_products.json"])
def test_vectorised_blocking_ranks_as_the_plain_loop(monkeypatch, name):
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    register, listed, _ = match_quality.build(data)
    rows = [Entity(i, [n], s) for i, (n, s) in enumerate(listed)]
    known = matching.known_suppliers([e.supplier for e in register] + [r.supplier for r in rows])
    matching.prepare(register, known)
    matching.prepare(rows, known)
    with_numpy = matching.candidates(rows, register, force_blocking=True)
    dups = matching.candidates(rows, rows, exclude_self=True, force_blocking=True)
    monkeypatch.setattr(matching, "BLOCK_CHUNK", 50)  # many chunks: a row never split between two
    assert matching.candidates(rows, register, force_blocking=True) == with_numpy
    monkeypatch.setattr(matching, "HAS_NUMPY", False)
    assert matching.candidates(rows, register, force_blocking=True) == with_numpy
    assert matching.candidates(rows, rows, exclude_self=True, force_blocking=True) == dups
    assert sum(map(len, with_numpy)) > len(rows)


def test_without_numpy_the_results_are_the_same(monkeypatch):
    data = json.loads((DATA / "import_quality_region.json").read_text(encoding="utf-8"))
    with_numpy = match_quality.evaluate(data)
    monkeypatch.setattr(matching, "HAS_NUMPY", False)
    without = match_quality.evaluate(data)
    assert (with_numpy.right, with_numpy.wrong) == (without.right, without.wrong)


# Floors: measured figures (scripts/match_quality.py) less a margin; the suite fails below them.
# The region's new_as_create was 0.97: the lost-ÅÄÖ rows added to the set reorder its shuffled list, and
# without a supplier column "Elekta Synergy" (new) now follows "Synergi" and is taken as its repeat (58 of
# 60 new rows kept new, 0.967, the same with the matcher before those rows); the floor allows one row less.
FLOORS = {
    "import_quality_region.json": {"merge_precision": 0.98, "merge_recall": 0.92, "merge_f1": 0.95,
                                   "dup_f1": 0.90, "new_as_create": 0.95, "wrong": 2},
    "import_quality_products.json": {"merge_precision": 0.97, "merge_recall": 0.78, "merge_f1": 0.86,
                                     "dup_f1": 0.80, "new_as_create": 0.93, "wrong": 2},
}


@pytest.mark.parametrize("supplier_column", [True, False], ids=["with-supplier", "no-supplier"])
@pytest.mark.parametrize("blocking", [False, True], ids=["full", "blocked"])
@pytest.mark.parametrize("name", sorted(FLOORS))
def test_quality_floors(name, supplier_column, blocking):
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    fig = match_quality.evaluate(data, supplier_column=supplier_column, force_blocking=blocking)
    floors = FLOORS[name]
    assert fig.merge_precision >= floors["merge_precision"], fig
    assert fig.merge_recall >= floors["merge_recall"], fig
    assert fig.merge_f1 >= floors["merge_f1"], fig
    assert fig.dup_f1 >= floors["dup_f1"], fig
    assert fig.new_as_create >= floors["new_as_create"], fig
    assert fig.wrong <= floors["wrong"], fig


@pytest.mark.parametrize("supplier_column", [True, False], ids=["with-supplier", "no-supplier"])
@pytest.mark.parametrize("blocking", [False, True], ids=["full", "blocked"])
def test_names_with_letters_lost_to_the_encoding_are_found(supplier_column, blocking):
    """The set's rows whose å/ä/ö were lost ("Ã¤" for UTF-8 read as Windows-1252, "?" through ASCII):
    each to the system (or the earlier row) it is, as measured (18 of 18)."""
    data = json.loads((DATA / "import_quality_region.json").read_text(encoding="utf-8"))
    register, listed, truth = match_quality.build(data, supplier_column=supplier_column)
    res = match_list([Entity(i, [n], s or None) for i, (n, s) in enumerate(listed)], register,
                     [None] * len(listed), Thresholds(), force_blocking=blocking)
    lost = [(name, want, got) for (name, _), want, got in zip(listed, truth, res, strict=True)
            if "Ã" in name or "?" in name]
    assert len(lost) >= 18
    wrong = [(name, want, (got.action, got.system_id)) for name, want, got in lost
             if got.action != want[0] or (want[0] == "merge" and got.system_id != want[1])]
    assert wrong == []


def test_the_contracts_own_examples_are_all_right():
    data = {"canon": {"Cosmic": ["Cambio", ["COSMIC (Cambio)", "Cambio Cosmic 4.2"]],
                      "Sectra PACS": ["Sectra", ["Sectra IDS7 PACS"]],
                      "Nationell patientöversikt (NPÖ)": ["Inera", ["NPÖ"]]},
            "new": ["Heroma", "Raindance", "Qlik Sense"], "batch_dupes": [["HEROMA lön", "Heroma"]]}
    fig = match_quality.evaluate(data)
    assert (fig.right, fig.wrong) == (fig.rows, 0)


def test_a_named_row_makes_the_system_a_nameless_row_with_its_key_only_repeats():
    """Rows sharing an external key are one system; when the first of them has no name, the named one
    creates it and the nameless one is skipped as its repeat (not the other way round, which lost both)."""
    from riskreg.imports.runner import _same_key_duplicates

    th = Thresholds()
    rows = [Entity(0, ""), Entity(1, "Melior"), Entity(2, "Melior journal")]
    results = match_list(rows, [], [None, None, None], th)
    assert [r.action for r in results][:2] == ["skip", "create"]
    _same_key_duplicates([{"external_key": "servicenow:abc"}, {"external_key": "servicenow:abc"},
                          {"external_key": "servicenow:abc"}], results)
    nameless, named, third = results
    assert named.action == "create"
    assert (nameless.action, nameless.row_index) == ("skip", 1)
    assert (third.action, third.row_index, third.reason) == ("skip", 1, "repeats_row")
    assert 0 in named.duplicates and 1 in nameless.duplicates


def test_two_names_with_the_same_initials_are_not_the_same_system():
    """An acronym matches a name written as that acronym, not another name that happens to share it."""
    same_initials = matching.compare(keys_for("Prosys Söderby reserv"), keys_for("Pulsia Stormo reserv"))
    assert not (same_initials[1] == "acronym" and same_initials[0] >= 90), same_initials
    written_out = matching.compare(keys_for("PAS"), keys_for("Patient administrativt system"))
    assert written_out[0] >= 90 and written_out[1] == "acronym", written_out
    bracket = matching.compare(keys_for("Patientadministrativt system (PAS)"), keys_for("PAS"))
    assert bracket[0] >= 90, bracket
