"""Matching rows of a list against the register and against each other.

Two stages keep it fast and explainable:
1. Candidates, never by comparing every row with every system in Python: blocking finds the systems that
   share rare keys with a row (a word, the first or last four letters of a longer word — a typo leaves one
   intact —, the words run together), the keys' weights summed per (row, system) with arrays (numpy:
   sorted, not looped over); when the whole product is small (670 × 670) every pair is also pre-scored
   with rapidfuzz's ``process.cdist`` (uint8 scores over blocks, a cut-off, both cores). The best few
   systems per row survive.
2. Scoring, per surviving pair: the best of plain similarity, reordered words, run-together words, a
   bracket or acronym equal to the other name, and "one name holds the other" with a penalty for each
   extra word (little for a version, supplier or describing word such as "lön", much for a word that
   names something else). Suppliers that differ cost 15 points. The reason is kept with the score.

Without numpy (rapidfuzz's cdist needs it) the same candidates are found with dictionaries and scored row
by row with ``process.extract``; results are the same.

Cost: linear in the rows and the systems' names (each normalised once), plus a dozen scored pairs per row;
20,000 rows against 100,000 systems take about 14 s of CPU and under 500 MB (bench/imports.py)."""

from __future__ import annotations

import heapq
import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from riskreg.imports.normalise import (
    DESCRIPTORS,
    STOPWORDS,
    NameKeys,
    is_descriptor,
    keys_for,
    supplier_tokens,
    suppliers_agree,
)

try:  # pragma: no cover - depends on the environment
    import numpy as np
except ImportError:  # pragma: no cover
    np = None  # type: ignore[assignment]

HAS_NUMPY = np is not None
PRESCORE_CUTOFF = 50
TOP_K = 6
FULL_PAIRS_LIMIT = 12_000_000  # below this many key pairs, compare everything (no blocking)
POSTING_CAP = 500  # a blocking token in more keys than this is too common to say anything
SUPPLIER_PENALTY = 15


@dataclass
class Thresholds:
    merge: float = 90  # at or above: suggest merging into the best system
    confident: float = 96  # at or above (and clear of the runner-up): safe to accept in bulk
    review: float = 70  # candidates below this are not shown; a create with none above is confident
    duplicate: float = 90  # two rows of the list at or above this are the same system
    margin: float = 3  # the best must lead the next system by this much to be suggested

    @classmethod
    def from_mapping(cls, values: dict) -> Thresholds:
        base = cls()
        for key in ("merge", "confident", "review", "duplicate", "margin"):
            if key in values and values[key] is not None:
                setattr(base, key, float(values[key]))
        return base


@dataclass
class Entity:
    """Something with names: a system (name + aliases) or a row of the list (one name)."""

    ident: int
    names: list[str]
    supplier: str | None = None
    keys: list[NameKeys] = field(default_factory=list)
    suppliers: frozenset[str] = frozenset()


@dataclass
class Match:
    target: int  # system id or row index
    score: float
    matched: str  # the name or alias that matched
    field: str  # name / alias / external_ref
    reason: str  # exact / similar / reordered / joined / contains / bracket / acronym / external_ref
    tokens: list[str] = field(default_factory=list)  # extra or ignored words, for the explanation
    supplier: bool | None = None  # suppliers agree (True), differ (False), unknown (None)

    def as_dict(self) -> dict:
        return {"score": round(self.score, 1), "matched": self.matched, "field": self.field,
                "reason": self.reason, "tokens": self.tokens, "supplier_agrees": self.supplier}


def prepare(entities: Sequence[Entity], known: set[str] | frozenset[str]) -> None:
    """Each entity's keys (a name with no letter or digit, "?" or "-", has none: it matches nothing)."""
    known = frozenset(known)
    for ent in entities:
        keys = (keys_for(n, ent.supplier, known) for n in ent.names if n and n.strip())
        ent.keys = [k for k in keys if k.main or k.alts]
        sup = set(supplier_tokens(ent.supplier))
        for k in ent.keys[:1]:
            sup |= k.suppliers
        ent.suppliers = frozenset(sup)


def known_suppliers(values: Iterable[str | None]) -> set[str]:
    out: set[str] = set()
    for v in values:
        for t in supplier_tokens(v):
            if len(t) >= 3 and t not in DESCRIPTORS and t not in STOPWORDS and not t.isdigit():
                out.add(t)
    return out


# ------------------------------------------------------------------ stage 1: candidates


def _flatten(entities: Sequence[Entity], primary: bool = False) -> tuple[list[str], list[int]]:
    strings: list[str] = []
    owner: list[int] = []
    for idx, ent in enumerate(entities):
        seen: set[str] = set()
        for k in ent.keys:
            forms = [k.main] + ([k.stripped] if k.stripped else []) if primary else k.all()
            if not primary:
                forms += [f.replace(" ", "") for f in forms if " " in f]  # run-together ("Take Care")
            for s in forms:
                if s not in seen:
                    seen.add(s)
                    strings.append(s)
                    owner.append(idx)
    return strings, owner


_VOWELS = str.maketrans("", "", "aeiouy")


def _block_keys(s: str) -> set[str]:
    """The keys a string is found by: its words, the first and last four letters of longer words (a typo
    leaves one of them intact), the first four consonants of longer words (an å, ä or ö lost to the
    encoding, "Hj?lpmedel", leaves the consonants as they were), and all its words run together."""
    out = set()
    toks = [t for t in s.split() if t not in STOPWORDS]
    for t in toks:
        out.add(t)
        if len(t) >= 5:
            out.add("<" + t[:4])
            out.add(">" + t[-4:])
            skeleton = t.translate(_VOWELS)
            if len(skeleton) >= 4:
                out.add("~" + skeleton[:4])
    if len(toks) > 1:
        out.add("".join(toks))
    return out


def _blocked(queries: list[str], q_owner: list[int], choices: list[str], c_owner: list[int],
             best: list[dict[int, float]], keep: int) -> None:
    """Targets that share blocking keys with a row, ranked by how rare the shared keys are (a word in
    three systems says more than one in three hundred); the best ``keep`` per row are kept. Keys in more
    than POSTING_CAP targets say nothing and are left out."""
    by_row: dict[int, set[str]] = defaultdict(set)
    for qi, s in enumerate(queries):
        by_row[q_owner[qi]] |= _block_keys(s)
    if HAS_NUMPY:
        _blocked_numpy(by_row, choices, c_owner, best, keep)
        return
    index: dict[str, list[int]] = defaultdict(list)
    for ci, s in enumerate(choices):
        owner = c_owner[ci]
        for b in _block_keys(s):
            posting = index[b]
            if not posting or posting[-1] != owner:
                posting.append(owner)
    for row, keys in by_row.items():
        weights: dict[int, float] = defaultdict(float)
        for b in sorted(keys):
            posting = index.get(b)
            if not posting or len(posting) > POSTING_CAP:
                continue
            w = 1.0 / math.log(2 + len(posting))
            for t in posting:
                weights[t] += w
        if not weights:
            continue
        top = heapq.nsmallest(keep, weights.items(), key=lambda kv: (-kv[1], kv[0]))
        # a pre-score on the same 0–100 scale, so that both stages' candidates can be ranked together
        for t, w in top:
            _keep(best, row, t, min(100.0, 60.0 + 40.0 * w / top[0][1]))


BLOCK_CHUNK = 250_000  # (row, target) pairs summed at once: bounds the memory of a large list


def _blocked_numpy(by_row: dict[int, set[str]], choices: list[str], c_owner: list[int],
                   best: list[dict[int, float]], keep: int) -> None:
    """``_blocked`` with arrays: the targets of each key as one sorted array (CSR), the shared keys' weights
    summed per (row, target) by sorting, the best ``keep`` per row taken without a loop over targets."""
    wanted = set().union(*by_row.values())  # keys no row has cannot join a row to a target
    ids: dict[str, int] = {}
    kid, own = array("i"), array("i")  # (key, target) pairs, each once
    # _flatten lists each target's strings together
    for owner, strings in groupby(zip(choices, c_owner, strict=True), key=itemgetter(1)):
        keys: set[str] = set()
        for s, _ in strings:
            keys |= _block_keys(s) & wanted
        for b in keys:
            kid.append(ids.setdefault(b, len(ids)))
            own.append(owner)
    if not kid:
        return
    n_t = max(c_owner) + 1
    key_of = np.frombuffer(kid, dtype=np.int32)
    order = np.argsort(key_of, kind="stable")  # by key, then target (pairs came in target order)
    targets = np.frombuffer(own, dtype=np.int32)[order]
    counts = np.bincount(key_of, minlength=len(ids))
    del kid, own, key_of, order
    ptr = np.concatenate(([0], np.cumsum(counts)))
    weight = np.array([1.0 / math.log(2 + c) for c in counts.tolist()])  # as the plain path computes it
    usable = (counts > 0) & (counts <= POSTING_CAP)
    q_row: list[int] = []
    q_key: list[int] = []
    for row, keys in by_row.items():
        for b in sorted(keys):
            k = ids.get(b)
            if k is not None and usable[k]:
                q_row.append(row)
                q_key.append(k)
    if not q_row:
        return
    qr = np.asarray(q_row, dtype=np.int64)
    qk = np.asarray(q_key, dtype=np.int64)
    lens = counts[qk]
    # chunks of whole rows (q_row is grouped by row), each of about BLOCK_CHUNK pairs at most
    row_starts = np.flatnonzero(np.r_[True, qr[1:] != qr[:-1]])
    row_ends = np.r_[row_starts[1:], len(qr)]
    reach = np.cumsum(np.add.reduceat(lens, row_starts))
    i = 0
    while i < len(row_starts):
        j = max(i + 1, int(np.searchsorted(reach, (reach[i - 1] if i else 0) + BLOCK_CHUNK, side="right")))
        a, b = row_starts[i], row_ends[j - 1]
        _sum_and_keep(qr[a:b], qk[a:b], lens[a:b], ptr, targets, weight, n_t, best, keep)
        i = j


def _sum_and_keep(qr, qk, lens, ptr, targets, weight, n_t: int, best, keep: int) -> None:
    total = int(lens.sum())
    if not total:
        return
    first = np.cumsum(lens) - lens  # where each (row, key)'s targets begin among the gathered pairs
    at = np.repeat(ptr[qk] - first, lens) + np.arange(total)
    code = np.repeat(qr, lens) * n_t + targets[at]
    w = np.repeat(weight[qk], lens)
    order = np.argsort(code, kind="stable")  # stable: each sum adds its keys in the row's order
    code, w = code[order], w[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    sums = np.add.reduceat(w, starts)
    code = code[starts]
    rows, tgts = code // n_t, code % n_t
    order = np.lexsort((tgts, -sums, rows))  # per row: heaviest first, then the lower target
    rows, tgts, sums = rows[order], tgts[order], sums[order]
    row_starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    sizes = np.diff(np.r_[row_starts, len(rows)])
    rank = np.arange(len(rows)) - np.repeat(row_starts, sizes)
    top = np.repeat(sums[row_starts], sizes)
    sel = rank < keep
    # a pre-score on the same 0–100 scale, so that both stages' candidates can be ranked together
    pre = np.minimum(100.0, 60.0 + 40.0 * sums[sel] / top[sel])
    for r, t, ps in zip(rows[sel].tolist(), tgts[sel].tolist(), pre.tolist(), strict=True):
        _keep(best, r, t, ps)


def candidates(rows: Sequence[Entity], targets: Sequence[Entity], *, exclude_self: bool = False,
               force_blocking: bool = False, top_k: int = TOP_K) -> list[list[int]]:
    """For each row, the indexes of the targets worth scoring in full (best pre-score first).

    Two sources: targets sharing rare words (or a word's first or last four letters, or the words run
    together) with the row — which finds one name inside another and most typos — and, when the whole
    product is small, the best of every pair by token_sort_ratio (other typos, reordered words),
    vectorised with ``process.cdist``."""
    best: list[dict[int, float]] = [{} for _ in rows]
    queries, q_owner = _flatten(rows)
    choices, c_owner = _flatten(targets)
    if not queries or not choices:
        return [[] for _ in rows]
    _blocked(queries, q_owner, choices, c_owner, best, top_k + (1 if exclude_self else 0))
    pq, pq_owner = _flatten(rows, primary=True)
    pc, pc_owner = _flatten(targets, primary=True)
    if not force_blocking and len(pq) * len(pc) <= FULL_PAIRS_LIMIT:
        if HAS_NUMPY:
            _dense_numpy(pq, pq_owner, pc, pc_owner, best)
        else:
            _dense_plain(pq, pq_owner, pc, pc_owner, best)
    out = []
    for ri, scores in enumerate(best):
        if exclude_self:
            scores.pop(ri, None)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[: top_k * 2]
        out.append([t for t, _ in ranked])
    return out


def _keep(best: list[dict[int, float]], r: int, t: int, s: float) -> None:
    d = best[r]
    if s > d.get(t, -1):
        d[t] = s


def _dense_numpy(queries, q_owner, choices, c_owner, best) -> None:
    qo = np.asarray(q_owner)
    co = np.asarray(c_owner)
    step = max(1, 4_000_000 // len(choices))
    for start in range(0, len(queries), step):
        block = process.cdist(queries[start:start + step], choices, scorer=fuzz.token_sort_ratio,
                              score_cutoff=PRESCORE_CUTOFF, dtype=np.uint8, workers=-1)
        qi, ci = np.nonzero(block)
        _reduce(qo[qi + start], co[ci], block[qi, ci], best)


def _reduce(rows, targets, scores, best) -> None:
    """Keep, per (row, target), the highest pre-score; at most a few targets per row."""
    if len(rows) == 0:
        return
    order = np.lexsort((-scores.astype(np.int16), targets, rows))
    rows, targets, scores = rows[order], targets[order], scores[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (targets[1:] != targets[:-1])
    rows, targets, scores = rows[first], targets[first], scores[first]
    order = np.lexsort((-scores.astype(np.int16), rows))
    rows, targets, scores = rows[order], targets[order], scores[order]
    starts = np.r_[0, np.nonzero(rows[1:] != rows[:-1])[0] + 1]
    rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    keep = rank < TOP_K
    for r, t, s in zip(rows[keep].tolist(), targets[keep].tolist(), scores[keep].tolist(), strict=True):
        _keep(best, r, t, s)


def _dense_plain(queries, q_owner, choices, c_owner, best) -> None:
    for qi, q in enumerate(queries):
        for _, s, ci in process.extract(q, choices, scorer=fuzz.token_sort_ratio,
                                        score_cutoff=PRESCORE_CUTOFF, limit=TOP_K * 3):
            _keep(best, q_owner[qi], c_owner[ci], s)


# ------------------------------------------------------------------ stage 2: scoring


def _word_weight(tok: str) -> float:
    """What an extra word costs: nothing for "och", little for a describing word or a short code, much for a
    word that could name another system ("Cosmic Nova")."""
    if tok in STOPWORDS:
        return 0
    if is_descriptor(tok):
        return 3
    if any(ch.isdigit() for ch in tok) or len(tok) <= 3:
        return 5
    return 10


def _informative(toks: Iterable[str]) -> bool:
    return any(len(t) >= 3 and not is_descriptor(t) and t not in STOPWORDS for t in toks)


def _expand_acronyms(ta: list[str], tb: list[str]) -> list[str] | None:
    """tb with a run of words replaced by a short word of ta that is their initials ("samordnad planering"
    → "sp"), or None when there is none."""
    shorts = {t for t in ta if 2 <= len(t) <= 5 and t.isalpha() and t not in tb}
    if not shorts:
        return None
    for n in range(min(5, len(tb)), 1, -1):
        for i in range(len(tb) - n + 1):
            run = tb[i:i + n]
            initials = "".join(w[0] for w in run if w not in STOPWORDS)
            if initials in shorts and len(initials) >= 2:
                return tb[:i] + [initials] + tb[i + n:]
    return None


def _contains(small: list[str], big: list[str]) -> tuple[float, list[str]] | None:
    """One name holds the other: 97 less a weight per extra word; None when it does not."""
    if not small or len(small) >= len(big) and set(small) != set(big):
        return None
    rest = list(big)
    penalty = 0.0
    for tok in small:
        if tok in rest:
            rest.remove(tok)
            continue
        near = process.extractOne(tok, rest, scorer=fuzz.ratio, score_cutoff=85) if len(tok) >= 5 else None
        if near is None:
            return None
        rest.remove(near[0])
        penalty += (100 - near[1]) / 2
    if not _informative(small) or len("".join(small)) < 4:
        return None
    penalty += sum(_word_weight(t) for t in rest)
    return max(0.0, 97 - penalty), rest


def string_score(a: str, b: str) -> tuple[float, str, list[str]]:
    """Similarity of two keys (0–100) with how it was found and the words that differ."""
    if a == b:
        return 100.0, "exact", []
    ta, tb = a.split(), b.split()
    results = [(fuzz.ratio(a, b), "similar", []),
               (fuzz.token_sort_ratio(a, b), "reordered", []),
               (fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")), "joined", [])]
    if len(ta) != len(tb) or set(ta) != set(tb):
        small, big = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
        held = _contains(small, big)
        if held:
            results.append((held[0], "contains", held[1]))
    ja, jb = a.replace(" ", ""), b.replace(" ", "")
    edits = Levenshtein.distance(ja, jb, score_cutoff=2)
    if min(len(ja), len(jb)) >= 5 and edits == 1 or min(len(ja), len(jb)) >= 10 and edits == 2:
        results.append((93.0 if edits == 1 else 90.0, "typo", []))
    for x, y in ((ta, tb), (tb, ta)):
        expanded = _expand_acronyms(x, y)
        if expanded is not None:
            s, _how, toks = string_score(" ".join(x), " ".join(expanded)) if expanded != y else (0, "", [])
            results.append((min(s, 95.0), "acronym", toks))
    score, how, toks = max(results, key=lambda x: x[0])
    if how == "reordered" and score == 100 and ja == jb:
        how = "joined"
    return float(score), how, toks


def compare(row: NameKeys, target: NameKeys) -> tuple[float, str, list[str]]:
    """The best way two names' keys agree."""
    best = (0.0, "similar", [])
    rows = row.primary()
    tgts = target.primary()
    for x in rows:
        for y in tgts:
            s, how, toks = string_score(x, y)
            if x == row.stripped or y == target.stripped:
                toks = toks + list(row.removed_suppliers if x == row.stripped else ()) + list(
                    target.removed_suppliers if y == target.stripped else ())
            if s > best[0]:
                best = (s, how, toks)
                if s >= 100:  # nothing scores higher
                    return best
    if best[0] >= 100:
        return best
    for alts, others, how in ((row.alts, tgts + list(target.alts), "bracket"), (target.alts, rows, "bracket")):
        for alt in alts:
            for other in others:
                if alt == row.acronym and other == target.acronym:
                    continue  # two names with the same initials ("Prosys Söderby reserv", "Pulsia Stormo reserv")
                if alt == other or (len(alt) >= 8 and fuzz.ratio(alt, other) >= 94):
                    kind = "acronym" if " " not in alt and len(alt) <= 6 else how
                    s = 96.0 if alt == other else 92.0
                    if s > best[0]:
                        best = (s, kind, [alt])
    return best


def score_entity(row: Entity, target: Entity, alias_from: int = 1) -> Match:
    """Best match of a row against a target's name (index 0) and aliases (from ``alias_from``)."""
    best = Match(target.ident, 0.0, "", "name", "similar")
    rk = row.keys[0] if row.keys else None
    if rk is None:
        return best
    for i, (tk, name) in enumerate(zip(target.keys, [n for n in target.names if n and n.strip()], strict=False)):
        s, how, toks = compare(rk, tk)
        if s > best.score:
            best = Match(target.ident, s, name, "alias" if i >= alias_from else "name", how, toks)
    agree = suppliers_agree(row.suppliers, target.suppliers)
    best.supplier = agree
    if agree is False:
        best.score = max(0.0, best.score - SUPPLIER_PENALTY)
    elif agree is True and best.score < 100:
        best.score = min(99.0, best.score + 1)
    best.tokens = list(dict.fromkeys(best.tokens))
    if rk.removed_versions:
        best.tokens += [t for t in rk.removed_versions if t not in best.tokens]
    return best


# ------------------------------------------------------------------ the whole list


@dataclass
class RowResult:
    candidates: list[Match]  # systems, best first (those at or above the review threshold)
    duplicates: list[int]  # indexes of the other rows of the list (earlier or later) that are the same system
    action: str  # merge / create / skip
    system_id: int | None = None
    row_index: int | None = None  # skip: the earlier row it repeats
    confidence: str = "uncertain"  # confident / uncertain
    score: float | None = None
    reason: str = ""  # of the suggestion: a candidate's reason, repeats_row, or no_name
    named: bool = True  # False: the row has no usable name (empty, or no letter or digit)
    dup_scores: dict[int, float] = field(default_factory=dict, repr=False)  # duplicates → score


def match_list(rows: Sequence[Entity], systems: Sequence[Entity], refs: Sequence[int | None],
               th: Thresholds, *, force_blocking: bool = False, progress=None) -> list[RowResult]:
    """Suggest for every row: merge, create or skip. ``refs[i]`` is the system an external reference
    of row i already points at (exact match first)."""
    known = known_suppliers([s.supplier for s in systems] + [r.supplier for r in rows])
    prepare(systems, known)
    prepare(rows, known)
    if progress:
        progress(0.2)
    cand_idx = candidates(rows, systems, force_blocking=force_blocking)
    if progress:
        progress(0.5)
    dup_idx = candidates(rows, rows, exclude_self=True, force_blocking=force_blocking)
    if progress:
        progress(0.7)
    by_id = {s.ident: s for s in systems}
    results: list[RowResult] = []
    for i, row in enumerate(rows):
        scored = [score_entity(row, systems[t]) for t in cand_idx[i]]
        if refs[i] is not None:
            target = by_id.get(refs[i])
            exact = Match(refs[i], 100.0, target.names[0] if target else "", "external_ref", "external_ref")
            scored = [exact] + [m for m in scored if m.target != refs[i]]
        # the external reference first, whatever ties with it by name
        scored = sorted((m for m in scored if m.score >= th.review),
                        key=lambda m: (m.field != "external_ref", -m.score, m.target))
        dups = {}
        for j in dup_idx[i]:
            m = score_entity(row, rows[j], alias_from=99)
            if m.score >= th.duplicate:
                dups[j] = m.score
        results.append(RowResult(candidates=scored[:5], duplicates=[], action="create", named=bool(row.keys),
                                 dup_scores=dups))
    # the same both ways: a row found as another's duplicate has that row as its own (the candidates of
    # each row are its best few, so one side may have missed the other)
    for i, res in enumerate(results):
        for j, s in list(res.dup_scores.items()):
            results[j].dup_scores.setdefault(i, s)
    for res in results:
        res.duplicates = sorted(res.dup_scores)
    _suggest(results, th)
    if progress:
        progress(1.0)
    return results


def _suggest(results: list[RowResult], th: Thresholds) -> None:
    """Per row, in order: a clear best system at or above ``merge`` → merge; else a row without a name →
    skip (nothing to create it by); else a repeat of an earlier row → what that row does (merge into its
    system, or skip when it creates one); else create. A merge whose best is not clear of the runner-up
    is never confident."""
    for i, res in enumerate(results):
        best = res.candidates[0] if res.candidates else None
        second = next((m for m in res.candidates[1:] if best and m.target != best.target), None)
        clear = best is not None and (second is None or best.score - second.score >= th.margin
                                      or best.field == "external_ref")
        earlier = [j for j in res.duplicates if j < i]
        origin = None
        if earlier:
            first = min(earlier, key=lambda j: (results[j].row_index if results[j].action == "skip" else j))
            origin = results[first]
            near_best = {m.target for m in res.candidates if best and m.score >= best.score - th.margin}
            if origin.action == "merge" and best is not None and best.score >= th.merge \
                    and origin.system_id not in near_best:
                origin = None  # its own near-equal best systems are others: the repeat says less than they do
        if best is not None and best.score >= th.merge and clear:
            res.action, res.system_id, res.score, res.reason = "merge", best.target, best.score, best.reason
            res.confidence = "confident" if best.score >= th.confident else "uncertain"
        elif not res.named:
            res.action, res.score, res.reason, res.confidence = "skip", None, "no_name", "uncertain"
        elif origin is not None:
            dup_score = res.dup_scores.get(first, th.duplicate)
            if origin.action == "merge":
                res.action, res.system_id, res.score, res.reason = "merge", origin.system_id, dup_score, "repeats_row"
            else:
                res.action, res.score, res.reason = "skip", dup_score, "repeats_row"
                res.row_index = origin.row_index if origin.action == "skip" else first
            res.confidence = "confident" if dup_score >= th.confident and origin.confidence == "confident" \
                else "uncertain"
        else:
            res.action = "create"
            res.score = best.score if best else None
            res.confidence = "confident" if best is None else "uncertain"
        if res.action == "merge" and best is not None and not clear:
            res.confidence = "uncertain"
