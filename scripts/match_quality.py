#!/usr/bin/env python3
"""Measure the import matcher on labelled lists: precision, recall and F1 of its suggestions.

    python scripts/match_quality.py [FILE.json ...] [--no-supplier] [--blocking]

A file has the shape of the acceptance check's RR_VARIANTS ({"canon": {name: [supplier, [variants]]},
"new": [names or [name, supplier]], "batch_dupes": [[dup, original]]}) and may add "aliases" ({name:
[alias]}) and "distractors" ([[name, supplier]]: systems in the register that no row means). The register
holds every canonical system and distractor; the list holds every variant (truth: merge into its system),
every new name (truth: create) and every repeat of a new name placed after it (truth: skip).

Figures: merge precision/recall/F1 (a merge into the wrong system, or of a new row, is a false positive),
duplicate precision/recall/F1 (skip), how many new rows are suggested `create`, and the acceptance
check's own count (right / total, wrong). Without files: tests/data/import_quality*.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from riskreg.imports.matching import Entity, Thresholds, match_list  # noqa: E402


@dataclass
class Figures:
    rows: int
    merge_precision: float
    merge_recall: float
    merge_f1: float
    dup_precision: float
    dup_recall: float
    dup_f1: float
    new_as_create: float
    right: int
    wrong: int
    seconds: float

    def line(self, name: str) -> str:
        return (f"{name}: {self.rows} rows | merge P {self.merge_precision:.3f} R {self.merge_recall:.3f} "
                f"F1 {self.merge_f1:.3f} | duplicates P {self.dup_precision:.3f} R {self.dup_recall:.3f} "
                f"F1 {self.dup_f1:.3f} | new kept new {self.new_as_create:.3f} | right {self.right}/{self.rows}, "
                f"wrong {self.wrong} | {self.seconds * 1000:.0f} ms")


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def build(data: dict, *, supplier_column: bool = True, seed: int = 7):
    """(register entities, list rows as (name, supplier), truth per row)."""
    register: list[Entity] = []
    ids: dict[str, int] = {}
    aliases = data.get("aliases", {})
    for name, (supplier, _variants) in data["canon"].items():
        ids[name] = len(register) + 1
        register.append(Entity(ids[name], [name] + list(aliases.get(name, [])), supplier))
    for name, supplier in data.get("distractors", []):
        register.append(Entity(len(register) + 1, [name], supplier))
    items = []
    for name, (supplier, variants) in data["canon"].items():
        for v in variants:
            items.append(((v, supplier if supplier_column else ""), ("merge", ids[name])))
    for entry in data.get("new", []):
        name, supplier = (entry, f"Leverantör {entry[:3]}") if isinstance(entry, str) else entry
        items.append(((name, supplier if supplier_column else ""), ("create", name)))
    rng = random.Random(seed)
    rng.shuffle(items)
    for dup, original in data.get("batch_dupes", []):
        pos = next(i for i, (_, t) in enumerate(items) if t == ("create", original))
        at = rng.randint(pos + 1, len(items))
        items.insert(at, ((dup, ""), ("skip", original)))
    return register, [i[0] for i in items], [i[1] for i in items]


def evaluate(data: dict, thresholds: Thresholds | None = None, *, supplier_column: bool = True,
             force_blocking: bool = False) -> Figures:
    register, rows, truth = build(data, supplier_column=supplier_column)
    entities = [Entity(i, [n], s or None) for i, (n, s) in enumerate(rows)]
    t0 = time.perf_counter()
    results = match_list(entities, register, [None] * len(rows), thresholds or Thresholds(),
                         force_blocking=force_blocking)
    seconds = time.perf_counter() - t0
    mtp = mfp = mfn = dtp = dfp = dfn = new_ok = new_n = right = wrong = 0
    for (kind, target), res in zip(truth, results, strict=True):
        merged_right = res.action == "merge" and kind == "merge" and res.system_id == target
        if res.action == "merge":
            mtp += merged_right
            mfp += not merged_right
        if kind == "merge" and not merged_right:
            mfn += 1
        if res.action == "skip":
            dtp += kind == "skip"
            dfp += kind != "skip"
        elif kind == "skip":
            dfn += 1
        if kind == "create":
            new_n += 1
            new_ok += res.action == "create"
        # the acceptance check's count: a merge row merged elsewhere, or a new row not created, is wrong
        if kind == "merge":
            right += merged_right
            wrong += res.action == "merge" and not merged_right
        elif kind == "create":
            right += res.action == "create"
            wrong += res.action != "create"
        else:
            right += res.action == "skip"
    mp = mtp / (mtp + mfp) if mtp + mfp else 1.0
    mr = mtp / (mtp + mfn) if mtp + mfn else 1.0
    dp = dtp / (dtp + dfp) if dtp + dfp else 1.0
    dr = dtp / (dtp + dfn) if dtp + dfn else 1.0
    return Figures(len(rows), mp, mr, _f1(mp, mr), dp, dr, _f1(dp, dr), new_ok / new_n if new_n else 1.0,
                   right, wrong, seconds)


def misses(data: dict, *, supplier_column: bool = True) -> list[str]:
    """What went wrong, row by row (for reading, not for tuning to the set)."""
    register, rows, truth = build(data, supplier_column=supplier_column)
    names = {e.ident: e.names[0] for e in register}
    results = match_list([Entity(i, [n], s or None) for i, (n, s) in enumerate(rows)], register,
                         [None] * len(rows), Thresholds())
    out = []
    for (name, _), (kind, target), res in zip(rows, truth, results, strict=True):
        ok = (res.action == kind and (kind != "merge" or res.system_id == target))
        if not ok:
            best = res.candidates[0] if res.candidates else None
            out.append(f"{name!r}: want {kind} {names.get(target, target) if kind == 'merge' else target!r}, got "
                       f"{res.action} {names.get(res.system_id, '')}"
                       + (f" (best {names.get(best.target)} {best.score:.0f} {best.reason} {best.tokens})"
                          if best else ""))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--no-supplier", action="store_true", help="rows without a supplier column")
    parser.add_argument("--blocking", action="store_true", help="use the blocked path of large lists")
    parser.add_argument("--misses", action="store_true", help="list the rows it got wrong")
    args = parser.parse_args()
    files = args.files or sorted((ROOT / "tests" / "data").glob("import_quality*.json"))
    for f in files:
        data = json.loads(f.read_text(encoding="utf-8"))
        fig = evaluate(data, supplier_column=not args.no_supplier, force_blocking=args.blocking)
        print(fig.line(f.name + (" (no supplier column)" if args.no_supplier else "")
                       + (" (blocking)" if args.blocking else "")))
        if args.misses:
            for m in misses(data, supplier_column=not args.no_supplier):
                print("   ", m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
