"""The candidate pairs of a batch, and the cheap test that turns most of them away, as arrays.

A million records give some ten million candidate pairs. Asking each of them in Python
(which records share a key, whether their names can be close enough, whether their
identifiers agree) cost about as much as everything else in a batch together; here the same
questions are asked of whole columns with NumPy and rapidfuzz's :func:`~rapidfuzz.process.cpdist`
(C++, on several threads), and only the pairs that may still block are scored one by one
in Python, exactly, by :func:`accord.dataquality.matching.score`.

**Keys as numbers.** Every blocking key a record is stored under or probes with arrives as
its Python ``hash()`` (the feature workers are forked from the batch process, so they hash
alike). Two different keys with one hash would share a block — more candidates, never a
wrong match, since every pair is still scored — at odds of about one in a hundred thousand
per million-record batch.

**Blocks** (:func:`candidate_pairs`) are runs of equal hashes after a sort. A block of up
to ``max_block`` records gives all its pairs; a larger one is put in the order of what it is
about (:data:`SortKeys`, given by the batch engine) and each record is paired with its
``window`` neighbours either side. A probe-only key (a name half of a length the record does
not store) pairs the record with every member of a small block, or with the members around
where it would sort in a large one.

**The cheap test** (:class:`Prefilter`) is what each rule needs to reach the *block*
threshold: its identifier conditions must hold (asked of hashed columns: a hash that differs
is a value that differs; one that agrees is let through for the exact score to decide) and
the pair's best name similarity must be able to reach what the rule asks, bounded from above
by the same rapidfuzz scores :func:`~accord.dataquality.matching.name_similarity` is made
of. It only ever lets through more than the exact score would keep, so the clusters are the
same as if every pair were scored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cpdist

from accord.dataquality import matching
from accord.dataquality.matching import Features, Rules
from accord.dataquality.normalize import HEAD_OFFICE, SOME_BRANCH

Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

# --- columns of identifiers ---------------------------------------------------------------

# One column per identifier a rule may compare; a value is its hash, 0 for none and MANY for
# a record with more than one (phones, e-mail addresses: either may be the shared one).
TAX, BRANCH, PHONE, EMAIL, DOMAIN, WEBSITE, ACCOUNT = range(7)
IDENTIFIERS = 7
MANY = -1  # hash() of a str is never -1


def _hashed(value: str) -> int:
    return (hash(value) or 1) if value else 0


def _hashed_set(values: frozenset[str]) -> int:
    if not values:
        return 0
    if len(values) > 1:
        return MANY
    for value in values:
        return _hashed(value)
    return 0


def identifier_row(feat: Features) -> tuple[int, ...]:
    """A record's identifiers as the prefilter compares them (see :data:`TAX` …)."""
    # _hashed and _hashed_set written out: this runs once per record of a batch, and the
    # calls for the empty fields most records have cost more than the hashing
    tax_id, website, account = feat.tax_id, feat.website, feat.account
    return (
        (hash(tax_id) or 1) if tax_id else 0,
        (hash(feat.branch) or 1) if feat.branch else 0,
        _hashed_set(feat.phones) if feat.phones else 0,
        _hashed_set(feat.emails) if feat.emails else 0,
        _hashed_set(feat.email_domains) if feat.email_domains else 0,
        (hash(website) or 1) if website else 0,
        (hash(account) or 1) if account else 0,
    )


@dataclass
class Columns:
    """What the prefilter reads of every record, by record index."""

    identifiers: NDArray[np.int64]  # (records, IDENTIFIERS)
    names: list[NDArray[np.object_]]  # per name slot: the name keys ("" where none)
    words: list[NDArray[np.object_]]  # per name slot: the names' words
    lengths: list[NDArray[np.int32]]  # per name slot: the key's length (0: no name)
    spaced: list[NDArray[np.bool_]]  # per name slot: whether the words are several


# --- candidate pairs ----------------------------------------------------------------------

# For a large block: the sort keys of the records given (the block's hash, record indexes),
# strings or anything else that sorts.
SortKeys = Callable[[int, Sequence[int]], list[Any]]


@dataclass
class Candidates:
    left: Ints  # left[i] < right[i]; each pair once
    right: Ints
    blocks: int  # blocks of two or more records
    oversized_blocks: int  # of which walked in sorted order


def _expand(starts: Ints, counts: Ints) -> tuple[Ints, Ints]:
    """For runs ``starts[i] .. starts[i] + counts[i]``: each position, and which run."""
    run = np.repeat(np.arange(len(counts)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts[run] + offsets, run


def candidate_pairs(
    key_records: NDArray[np.int32],
    key_hashes: Ints,
    key_stored: Bools,
    *,
    records: int,
    max_block: int,
    window: int,
    sort_keys: SortKeys,
) -> Candidates:
    """The distinct pairs that share a block (see the module's text)."""
    stored = key_stored
    hashes, members = key_hashes[stored], key_records[stored].astype(np.int64)
    order = np.lexsort((members, hashes))
    hashes, members = hashes[order], members[order]
    # the rows are sorted: a block starts where the hash changes
    changes = np.flatnonzero(hashes[1:] != hashes[:-1]) + 1
    block_start = np.concatenate((np.zeros(min(1, len(hashes)), np.int64), changes))
    block_hash = hashes[block_start]
    block_size = np.diff(np.append(block_start, len(hashes)))
    size_of_row = np.repeat(block_size, block_size)
    lefts: list[Ints] = []
    rights: list[Ints] = []

    # small blocks: every pair, each row with the rows after it in its block
    rows_after = np.repeat(block_start + block_size, block_size) - np.arange(len(hashes)) - 1
    rows_after[size_of_row > max_block] = 0
    later, row = _expand(np.arange(1, len(hashes) + 1), rows_after)
    lefts.append(members[row])
    rights.append(members[later])

    # probe-only keys: the block they would meet
    probe_hashes = key_hashes[~stored]
    probe_records = key_records[~stored].astype(np.int64)
    at = np.searchsorted(block_hash, probe_hashes)
    hit = at < len(block_hash)
    hit[hit] = block_hash[at[hit]] == probe_hashes[hit]
    at, probe_records = at[hit], probe_records[hit]
    into_small = block_size[at] <= max_block
    rows, run = _expand(block_start[at[into_small]], block_size[at[into_small]])
    lefts.append(probe_records[into_small][run])
    rights.append(members[rows])

    # oversized blocks: neighbours in sorted order
    oversized = np.nonzero(block_size > max_block)[0]
    probes_of: dict[int, list[int]] = {}
    for block, record in zip(
        at[~into_small].tolist(), probe_records[~into_small].tolist(), strict=True
    ):
        probes_of.setdefault(block, []).append(record)
    for block in oversized.tolist():
        start, size = int(block_start[block]), int(block_size[block])
        block_members = members[start : start + size].tolist()
        key = int(block_hash[block])
        # A stable sort: records with one sort key stay in record order. As a NumPy string
        # array: code point order, as Python's, except that NUL characters at the end are
        # padding ("a\0" == "a"); the batch's sort keys are "part\0part", so two that differ
        # only there cannot both occur.
        sorted_on = np.array(sort_keys(key, block_members))
        ranking = np.argsort(sorted_on, kind="stable")
        ranked_members = members[start : start + size][ranking]
        for d in range(1, window + 1):
            lefts.append(ranked_members[:-d])
            rights.append(ranked_members[d:])
        probes = probes_of.get(block)
        if probes:
            positions = np.searchsorted(
                sorted_on[ranking], np.array(sort_keys(key, probes)), side="left"
            ).astype(np.int64)
            probe_array = np.array(probes, dtype=np.int64)
            for offset in range(-window, window + 1):
                near = positions + offset
                inside = (near >= 0) & (near < size)
                lefts.append(probe_array[inside])
                rights.append(ranked_members[near[inside]])

    left = np.concatenate([np.asarray(x, dtype=np.int64) for x in lefts]) if lefts else _none()
    right = np.concatenate([np.asarray(x, dtype=np.int64) for x in rights]) if rights else _none()
    low, high = np.minimum(left, right), np.maximum(left, right)
    return Candidates(
        *_each_once((low * records + high)[low != high], records),
        blocks=int((block_size > 1).sum()),
        oversized_blocks=len(oversized),
    )


def _each_once(codes: Ints, records: int) -> tuple[Ints, Ints]:
    # stable: a merge of sorted runs (each share's pairs) is a merge, not a new sort
    codes = np.sort(codes, kind="stable")
    codes = codes[np.flatnonzero(np.diff(codes, prepend=-1))]
    return codes // records, codes % records


def merge_candidates(parts: Sequence[Candidates], *, records: int) -> Candidates:
    """The pairs of candidate sets found for disjoint sets of blocks, each pair once."""
    if len(parts) == 1:
        return parts[0]
    codes = np.concatenate([pair_codes(p.left, p.right, records) for p in parts])
    return Candidates(
        *_each_once(codes, records),
        blocks=sum(p.blocks for p in parts),
        oversized_blocks=sum(p.oversized_blocks for p in parts),
    )


def _none() -> Ints:
    return np.zeros(0, dtype=np.int64)


def pair_codes(left: Ints, right: Ints, records: int) -> Ints:
    return left * records + right


# --- the cheap test -----------------------------------------------------------------------


def _reaching(rules: Rules) -> Rules:
    """Only the rules whose weights can add up to the block threshold."""
    kept = tuple(
        (name, conditions)
        for name, conditions in rules.rules
        if min(1.0, sum(float(c.get("weight", 0)) for c in conditions)) >= rules.block
    )
    return Rules(kept, rules.block, rules.warn)


Column = Callable[[int], tuple[Ints, Ints]]


def _same_branch(a: Ints, b: Ints) -> Bools:
    head, some = _hashed(HEAD_OFFICE), _hashed(SOME_BRANCH)
    result: Bools = (a == b) | (((a == some) | (b == some)) & (a != head) & (b != head))
    return result


def _shared(a: Ints, b: Ints) -> Bools:
    """Single values equal, or either side has several (the exact score decides)."""
    result: Bools = (a != 0) & (b != 0) & ((a == b) | (a == MANY) | (b == MANY))
    return result


def _holds(cond: Mapping[str, Any], column: Column, size: int) -> Bools:
    """Where an identifier condition may hold (never False where it holds)."""
    fld, comparison = cond.get("field"), cond.get("comparison")
    if fld == "tax_id":
        a, b = column(TAX)
        same: Bools = (a != 0) & (a == b)
        if comparison == matching.Comparison.TAX_ID_BRANCH:
            same &= _same_branch(*column(BRANCH))
        return same
    if fld == "branch":
        return _same_branch(*column(BRANCH))
    if fld == "phone":
        return _shared(*column(PHONE))
    if fld == "email":
        return _shared(*column(DOMAIN if comparison == matching.Comparison.EMAIL_DOMAIN else EMAIL))
    if fld in ("website", "account"):
        a, b = column(WEBSITE if fld == "website" else ACCOUNT)
        found: Bools = (a != 0) & (a == b)
        return found
    return np.ones(size, dtype=np.bool_)  # a comparison this test does not know: ask it


class Prefilter:
    """The rules that can reach the block threshold, as tests on whole columns of pairs.

    For each rule: the identifier conditions it needs, and the name similarity it needs to
    reach the threshold when its other conditions count their full weight.
    """

    # Below the threshold by more than rounding to three places and float error can make up.
    MARGIN = 0.002

    def __init__(self, rules: Rules, *, workers: int = 1) -> None:
        self.rules = _reaching(rules)
        self.workers = workers
        self.plans: list[tuple[list[Mapping[str, Any]], float | None]] = []
        for _name, conditions in self.rules.rules:
            names = [c for c in conditions if c.get("field") == "name"]
            others = [c for c in conditions if c.get("field") != "name"]
            self.plans.append((others, self._name_need(names, conditions)))

    def _name_need(
        self, names: list[Mapping[str, Any]], conditions: Sequence[Mapping[str, Any]]
    ) -> float | None:
        if not names:
            return None
        minimum = max(
            1.0
            if cond.get("comparison") == matching.Comparison.EXACT
            else float(cond.get("min_similarity", 0.8))
            for cond in names
        )
        weight = float(names[0].get("weight", 0))
        if len(names) > 1 or weight <= 0:
            return minimum
        rest = sum(float(c.get("weight", 0)) for c in conditions if c.get("field") != "name")
        return max(minimum, (self.rules.block - self.MARGIN - rest) / weight)

    def may_block(self, left: Ints, right: Ints, columns: Columns) -> Bools:
        """Per pair: False only where the exact score is certainly below the threshold."""
        size = len(left)
        ident = columns.identifiers
        cache: dict[int, tuple[Ints, Ints]] = {}

        def column(index: int) -> tuple[Ints, Ints]:
            if index not in cache:
                cache[index] = (ident[left, index], ident[right, index])
            return cache[index]

        held: dict[tuple[Any, Any], Bools] = {}
        bound: NDArray[np.float64] | None = None
        result = np.zeros(size, dtype=np.bool_)
        for others, need in self.plans:
            ok = np.ones(size, dtype=np.bool_)
            for cond in others:
                key = (cond.get("field"), cond.get("comparison"))
                if key not in held:
                    held[key] = _holds(cond, column, size)
                ok &= held[key]
            if need is not None:
                if bound is None:
                    bound = self.name_bound(left, right, columns)
                ok &= bound >= need
            result |= ok
        return result

    def name_bound(self, left: Ints, right: Ints, columns: Columns) -> NDArray[np.float64]:
        """At least the best :func:`~accord.dataquality.matching.name_similarity` of each
        pair's names: 1 for the same key; for keys of five characters or more one edit apart
        the ratio or 0.92, whichever is higher; for words that sort alike (keys of one length)
        that or 0.95; anything else is a near miss, the ratio capped at
        :data:`~accord.dataquality.matching.NEAR_MISS_CAP` (the cap for numbers that differ
        only lowers it further)."""
        bound = np.zeros(len(left), dtype=np.float64)
        # the name slots some record of the pairs has (most records have one name)
        named_left = [columns.lengths[i][left] > 0 for i in range(len(columns.names))]
        named_right = [columns.lengths[j][right] > 0 for j in range(len(columns.names))]
        left_slots = [i for i, named in enumerate(named_left) if named.any()]
        right_slots = [j for j, named in enumerate(named_right) if named.any()]
        for i in left_slots:
            for j in right_slots:
                at = np.nonzero(named_left[i] & named_right[j])[0]
                if not len(at):
                    continue
                a, b = left[at], right[at]
                keys_a, keys_b = columns.names[i][a], columns.names[j][b]
                ratio = self._scores(keys_a, keys_b, fuzz.ratio) / 100
                same = ratio >= 1.0
                found = np.where(same, 1.0, np.minimum(ratio, matching.NEAR_MISS_CAP))
                len_a, len_b = columns.lengths[i][a], columns.lengths[j][b]
                reorder = np.nonzero(
                    ~same & (len_a == len_b) & (columns.spaced[i][a] | columns.spaced[j][b])
                )[0]
                if len(reorder):
                    sorted_alike = (
                        self._scores(
                            columns.words[i][a[reorder]],
                            columns.words[j][b[reorder]],
                            fuzz.token_sort_ratio,
                        )
                        == 100
                    )
                    hits = reorder[sorted_alike]
                    found[hits] = np.maximum(ratio[hits], 0.95)
                near = np.nonzero(
                    ~same & (np.minimum(len_a, len_b) >= 5) & (np.abs(len_a - len_b) <= 1)
                )[0]
                if len(near):
                    one_edit = (
                        cpdist(
                            keys_a[near],
                            keys_b[near],
                            scorer=Levenshtein.distance,
                            score_cutoff=1,
                            dtype=np.int32,
                            workers=self.workers,
                        )
                        <= 1
                    )
                    hits = near[one_edit]
                    found[hits] = np.maximum(found[hits], np.maximum(ratio[hits], 0.92))
                bound[at] = np.maximum(bound[at], found)
        return bound

    def _scores(self, a: Any, b: Any, scorer: Callable[..., float]) -> NDArray[np.float64]:
        scores: NDArray[np.float64] = cpdist(
            a, b, scorer=scorer, dtype=np.float64, workers=self.workers
        )
        return scores
