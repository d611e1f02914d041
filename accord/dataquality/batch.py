"""Batch duplicate clustering: records → features → blocking keys → pairs → clusters.

The batch engine answers "which of these records are one customer?" for a whole table or a
CSV file at once. It reuses every piece of the real-time check
(:mod:`accord.dataquality.matching`) so that both say the same thing about a pair:

1. **Features** — :func:`~accord.dataquality.matching.account_features` /
   :func:`~accord.dataquality.matching.contact_features` on each record (phone numbers go
   through a fast path for the plain Thai formats that gives exactly what
   :func:`~accord.dataquality.normalize.phones_e164` gives, and falls back to it otherwise).
2. **Blocking** — each record's stored blocking keys
   (:func:`~accord.dataquality.matching.account_match_keys`) form the blocks, and each record
   probes them with its probe keys (``probe=True``, the same as the real-time check asks
   with), so a name with a character added or removed meets the original. A block larger
   than ``max_block`` (a common word, a shared switchboard, a company with hundreds of
   branches) is not compared all-against-all: its members are sorted on what the block is
   about (the name for name blocks, the name read backwards for name-ending blocks, branch
   and name for identifier blocks) and each record is compared with its ``window``
   neighbours on either side — a one-character variant sorts next to its original.
3. **Scoring** — the administrator's rules (:func:`~accord.dataquality.matching.rules_for`,
   or the seeded defaults when there is no database) score each candidate pair once; rules
   whose weights cannot reach the *block* threshold are skipped in the hot loop, and a pair
   at or above it is scored again with :func:`~accord.dataquality.matching.score` for the
   complete reasons. Two records with the same non-empty customer code are one record (a
   code differing by any character is no evidence at all).
4. **Clusters** — union-find over the pairs at or above the block threshold.

Pure functions over plain dicts, no ORM; on large inputs the feature and pair stages run in
forked worker processes (``workers``), which share the parent's data copy-on-write.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from accord.dataquality import matching
from accord.dataquality.matching import Features, Rules
from accord.dataquality.normalize import phones_e164
from accord.dataquality.rule_defaults import (
    DEFAULT_BLOCK,
    DEFAULT_WARN,
    RULES_BY_RECORD_TYPE,
)

ACCOUNT = "account"
CONTACT = "contact"
RECORD_TYPES = (ACCOUNT, CONTACT)

# All pairs are compared in a block of up to this many records; a larger block is walked in
# sorted order, each record against WINDOW neighbours on either side.
MAX_BLOCK = 20
WINDOW = 3
# Below this many records the work is not worth forking for.
PARALLEL_MIN_RECORDS = 20_000
CHUNK = 5_000

Progress = Callable[[str, int, int], None]  # stage, done, total
Pair = tuple[str, str, float, tuple[str, ...]]


@dataclass(frozen=True)
class ClusterFound:
    """A group of records the batch engine thinks are one customer (or one person)."""

    member_ids: tuple[str, ...]  # record ids (UUID strings), >= 2
    pairs: tuple[tuple[str, str, float, tuple[str, ...]], ...]  # left, right, score, reasons


@dataclass
class BatchStats:
    records: int = 0
    blocks: int = 0  # blocks with two or more records
    oversized_blocks: int = 0  # of which walked in sorted order
    candidate_pairs: int = 0  # distinct pairs scored
    matched_pairs: int = 0  # at or above the block threshold
    clusters: int = 0
    clustered_records: int = 0
    workers: int = 1
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        return (
            f"{self.records:,} records, {self.blocks:,} blocks "
            f"({self.oversized_blocks:,} walked in sorted order), "
            f"{self.candidate_pairs:,} pairs scored, {self.matched_pairs:,} matched, "
            f"{self.clusters:,} clusters of {self.clustered_records:,} records "
            f"[{stages}; {self.workers} worker(s)]"
        )


@dataclass
class BatchResult:
    ids: list[str]
    cluster_of: list[int]  # per record: the index of its cluster's first record
    pairs: list[Pair]  # every pair at or above the block threshold
    stats: BatchStats

    def cluster_ids(self) -> list[str]:
        """Per record, the id of its cluster (the first record of the cluster, in input order;
        a record in no cluster is its own)."""
        return [self.ids[c] for c in self.cluster_of]

    def clusters(self) -> list[ClusterFound]:
        """The clusters of two or more records, with the pairs that joined them."""
        members: dict[int, list[str]] = {}
        for i, root in enumerate(self.cluster_of):
            members.setdefault(root, []).append(self.ids[i])
        index = {record_id: i for i, record_id in enumerate(self.ids)}
        pairs: dict[int, list[Pair]] = {}
        for pair in self.pairs:
            pairs.setdefault(self.cluster_of[index[pair[0]]], []).append(pair)
        return [
            ClusterFound(member_ids=tuple(ids), pairs=tuple(pairs.get(root, ())))
            for root, ids in members.items()
            if len(ids) >= 2
        ]


# --- rules --------------------------------------------------------------------------------


def default_rules(record_type: str) -> Rules:
    """The seeded default rules, as :func:`matching.rules_for` would read them."""
    definitions = sorted(RULES_BY_RECORD_TYPE[record_type], key=lambda rule: rule[0])
    return Rules(
        tuple((name, tuple(conditions)) for name, _description, conditions in definitions),
        DEFAULT_BLOCK,
        DEFAULT_WARN,
    )


def rules_or_defaults(record_type: str) -> tuple[Rules, str]:
    """The administrator's rules if a migrated database is reachable, else the defaults;
    and which of the two it was (``"database"`` / ``"defaults"``)."""
    from django.db import connection

    from accord.dataquality.models import MatchRule, RecordType

    try:
        tables = connection.introspection.table_names()
        if MatchRule._meta.db_table in tables and MatchRule.objects.exists():
            return matching.rules_for(RecordType(record_type)), "database"
    except Exception:  # noqa: S110 - no database, unreachable, not migrated: the defaults
        pass
    return default_rules(record_type), "defaults"


def _reaching(rules: Rules) -> Rules:
    """Only the rules whose weights can add up to the block threshold."""
    kept = tuple(
        (name, conditions)
        for name, conditions in rules.rules
        if min(1.0, sum(float(c.get("weight", 0)) for c in conditions)) >= rules.block
    )
    return Rules(kept, rules.block, rules.warn)


def pair_score(probe: Features, cand: Features, rules: Rules) -> float:
    """The best matching rule's score, as :func:`matching.score` computes it (without the
    reasons), with each condition evaluated once per pair."""
    memo: dict[tuple[Any, ...], tuple[float, str]] = {}
    best_name: tuple[float, str] | None = None
    named = False
    best = 0.0
    for _name, conditions in rules.rules:
        total = 0.0
        for cond in conditions:
            fld = cond.get("field")
            if fld == "name":
                if not named:
                    best_name = matching._best_name(probe.names, cand.names)
                    named = True
                if best_name is None:
                    break
                minimum = (
                    1.0
                    if cond.get("comparison") == matching.Comparison.EXACT
                    else float(cond.get("min_similarity", 0.8))
                )
                if best_name[0] < minimum:
                    break
                sim = best_name[0]
            else:
                key = (fld, cond.get("comparison"))
                found = memo.get(key)
                if found is None:
                    found = memo[key] = matching._condition(cond, probe, cand)
                sim = found[0]
                if sim <= 0:
                    break
            total += float(cond.get("weight", 0)) * sim
        else:
            best = max(best, min(1.0, total))
    return round(best, 3)


# --- features -----------------------------------------------------------------------------

_PLAIN_PHONE = re.compile(r"\+?[0-9][0-9 ()\-.]*")
_NOT_DIGIT = re.compile(r"\D")


def phones(value: str) -> list[str]:
    """:func:`phones_e164` of one phone field, faster for plain Thai numbers.

    "02-123-4567", "(081) 234 5678", "+66 2 123 4567": a Thai number (0 and 8 or 9 digits,
    or +66 and 8 or 9 digits) written with only digits, spaces, dashes, dots and brackets is
    turned into E.164 directly; anything else goes through :func:`phones_e164`.
    """
    if not value:
        return []
    text = value.strip()
    if _PLAIN_PHONE.fullmatch(text):
        digits = _NOT_DIGIT.sub("", text)
        if text[0] == "+":
            if digits[:2] == "66" and len(digits) in (10, 11) and digits[2] != "0":
                return ["+" + digits]
        elif digits[:1] == "0" and len(digits) in (9, 10) and digits[1] != "0":
            return ["+66" + digits[1:]]
    return phones_e164(value)


_NO_PHONE = {"phone": "", "mobile": ""}


def record_features(record_type: str, row: Mapping[str, Any]) -> Features:
    """:func:`matching.account_features` / :func:`matching.contact_features` of one row."""
    values = {**row, **_NO_PHONE}
    get = matching.dict_getter(values)
    if record_type == ACCOUNT:
        found = matching.account_features(get)
        numbers = phones(_str(row.get("phone")))
    else:
        found = matching.contact_features(get)
        numbers = phones(_str(row.get("phone"))) + phones(_str(row.get("mobile")))
    return replace(found, phones=frozenset(numbers)) if numbers else found


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def record_keys(record_type: str, features: Features) -> tuple[list[str], list[str]]:
    """The keys a record is stored under, and the keys it probes with."""
    keys = matching.account_match_keys if record_type == ACCOUNT else matching.contact_match_keys
    stored = keys(features)
    return stored, [k for k in keys(features, probe=True) if k not in set(stored)]


def _code(row: Mapping[str, Any]) -> str:
    return "".join(_str(row.get("customer_code")).split()).upper()


# --- worker plumbing ----------------------------------------------------------------------

# Set in the parent before the workers fork; the workers read it copy-on-write.
_SHARED: dict[str, Any] = {}


def _features_chunk(bounds: tuple[int, int]) -> tuple[int, list[Features], list[list[str]]]:
    start, end = bounds
    record_type: str = _SHARED["record_type"]
    rows: Sequence[Mapping[str, Any]] = _SHARED["rows"]
    feats: list[Features] = []
    keys: list[list[str]] = []
    for i in range(start, end):
        feat = record_features(record_type, rows[i])
        stored, probe = record_keys(record_type, feat)
        feats.append(feat)
        keys.append([*stored, "|", *probe])  # "|": the probe-only keys follow
    return start, feats, keys


def _chunks(total: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(total, start + size)) for start in range(0, total, size)]


def _run(
    func: Callable[[tuple[int, int]], Any],
    chunks: list[tuple[int, int]],
    workers: int,
    progress: Progress | None,
    stage: str,
    total: int,
) -> Iterator[Any]:
    done = 0
    if progress:
        progress(stage, 0, total)
    if workers <= 1:
        results: Iterable[Any] = map(func, chunks)
        pool = None
    else:
        pool = multiprocessing.get_context("fork").Pool(workers)
        results = pool.imap_unordered(func, chunks)
    try:
        for chunk, result in zip(chunks, results, strict=False):
            done += chunk[1] - chunk[0]
            if progress:
                progress(stage, min(done, total), total)
            yield result
    finally:
        if pool is not None:
            pool.close()
            pool.join()


# --- candidate pairs ----------------------------------------------------------------------


def _kind(key: str) -> str:
    """``n``, ``a``, ``z``, ``s``, ``x``, ``p``, ``e``, ``d``, ``w``, ``m`` (contact keys
    inside an account carry the account's id in front)."""
    head, _, rest = key.partition(":")
    if len(head) == 1:
        return head
    return rest[:1]


def _sort_key(kind: str, value: str, feat: Features) -> tuple[str, str]:
    keys = [n.key for n in feat.names]
    if kind == "a":
        name = next((k for k in keys if k.startswith(value)), keys[0] if keys else "")
        return name, feat.branch
    if kind == "z":
        name = next((k for k in keys if k.endswith(value)), keys[0] if keys else "")
        return name[::-1], feat.branch
    first = keys[0] if keys else ""
    if kind in ("x",):
        return feat.branch, first
    return first, feat.branch


class _Walk:
    """An oversized block in sorted order."""

    __slots__ = ("members", "order", "position")

    def __init__(self, key: str, members: list[int], feats: Sequence[Features]) -> None:
        kind = _kind(key)
        value = key.rsplit(":", 1)[-1]
        ordered = sorted((_sort_key(kind, value, feats[m]), m) for m in members)
        self.order = [o[0] for o in ordered]
        self.members = [o[1] for o in ordered]
        self.position = {m: i for i, m in enumerate(self.members)}

    def near(self, key: str, record: int, feat: Features, window: int) -> list[int]:
        """The ``window`` records either side of ``record`` (of where it would sort)."""
        at = self.position.get(record)
        if at is None:
            at = bisect_left(self.order, _sort_key(_kind(key), key.rsplit(":", 1)[-1], feat))
        return self.members[max(0, at - window) : at + window + 1]


Matched = tuple[int, int, float, tuple[str, ...]]


def _walk(key: str) -> _Walk | None:
    """The sorted order of an oversized block, made on first use (in each worker)."""
    walks: dict[str, _Walk] = _SHARED["walks"]
    walk = walks.get(key)
    if walk is None:
        members = _SHARED["blocks"].get(key)
        if members is None or len(members) <= _SHARED["max_block"]:
            return None
        walk = walks[key] = _Walk(key, members, _SHARED["features"])
    return walk


def _pairs_chunk(bounds: tuple[int, int]) -> tuple[list[Matched], int]:
    """Candidate pairs of records ``start..end`` (each against any record), scored; the
    pairs at or above the block threshold with their reasons, and how many distinct pairs
    were scored."""
    start, end = bounds
    feats: Sequence[Features] = _SHARED["features"]
    keys: Sequence[list[str]] = _SHARED["keys"]
    blocks: Mapping[str, list[int]] = _SHARED["blocks"]
    max_block: int = _SHARED["max_block"]
    rules: Rules = _SHARED["rules"]
    codes: Sequence[str] = _SHARED["codes"]
    by_code: Mapping[str, list[int]] = _SHARED["by_code"]
    window: int = _SHARED["window"]
    hot: Rules = _SHARED["hot_rules"]
    matched: list[Matched] = []
    scored = 0
    for r in range(start, end):
        seen: set[int] = set()
        stored = True
        feat = feats[r]
        for key in keys[r]:
            if key == "|":
                stored = False  # from here on: probe-only keys
                continue
            members = blocks.get(key)
            if members is None:
                continue
            found: Sequence[int] = members
            if len(members) > max_block:
                walk = _walk(key)
                assert walk is not None
                found = walk.near(key, r, feat, window)
            for m in found:
                # A key both store is found from both sides: the higher index asks.
                if m == r or (stored and m > r):
                    continue
                seen.add(m)
        if codes[r]:
            seen.update(m for m in by_code.get(codes[r], ()) if m < r)
        for m in seen:
            scored += 1
            a, b = (m, r) if m < r else (r, m)
            if codes[r] and codes[r] == codes[m]:
                matched.append((a, b, 1.0, ("same customer code",)))
            elif pair_score(feat, feats[m], hot) >= hot.block:
                value, reasons = matching.score(feats[a], feats[b], rules)
                matched.append((a, b, value, tuple(reasons)))
    return matched, scored


# --- the engine ---------------------------------------------------------------------------


def _find(parent: list[int], i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


def default_workers(records: int) -> int:
    if records < PARALLEL_MIN_RECORDS:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def cluster_records(
    record_type: str,
    ids: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    *,
    rules: Rules | None = None,
    workers: int | None = None,
    max_block: int = MAX_BLOCK,
    window: int = WINDOW,
    progress: Progress | None = None,
) -> BatchResult:
    """Cluster ``rows`` (dicts keyed by Accord's field names; ``ids[i]`` names ``rows[i]``).

    Account rows use ``legal_name``, ``name_th``, ``name_en``, ``tax_id``, ``branch_code``,
    ``phone``, ``email``, ``website`` and ``customer_code``; contact rows ``first_name``,
    ``last_name``, ``first_name_th``, ``last_name_th``, ``email``, ``email_secondary``,
    ``phone``, ``mobile`` and ``account``. Other keys are ignored.
    """
    if record_type not in RECORD_TYPES:
        raise ValueError(f"record_type must be one of {RECORD_TYPES}")
    if len(ids) != len(rows):
        raise ValueError("ids and rows differ in length")
    rules = rules if rules is not None else default_rules(record_type)
    n = len(rows)
    workers = workers if workers is not None else default_workers(n)
    stats = BatchStats(records=n, workers=workers)
    t0 = time.perf_counter()

    # 1. features and keys
    feats: list[Features] = [Features()] * n
    keys: list[list[str]] = [[] for _ in range(n)]
    _SHARED.clear()
    _SHARED.update(record_type=record_type, rows=rows)
    chunk = max(500, min(CHUNK, n // (workers * 8) + 1))
    try:
        for start, chunk_feats, chunk_keys in _run(
            _features_chunk, _chunks(n, chunk), workers, progress, "features", n
        ):
            feats[start : start + len(chunk_feats)] = chunk_feats
            keys[start : start + len(chunk_keys)] = chunk_keys
    finally:
        _SHARED.clear()
    t1 = time.perf_counter()
    stats.seconds["features"] = t1 - t0

    # 2. blocks of the stored keys
    blocks: dict[str, list[int]] = {}
    for i, record_keys_ in enumerate(keys):
        for key in record_keys_:
            if key == "|":
                break
            members = blocks.get(key)
            if members is None:
                blocks[key] = [i]
            else:
                members.append(i)
    blocks = {k: v for k, v in blocks.items() if len(v) > 1 or _probe_only(k)}
    stats.blocks = sum(1 for v in blocks.values() if len(v) > 1)
    stats.oversized_blocks = sum(1 for v in blocks.values() if len(v) > max_block)
    codes = [_code(row) for row in rows]
    by_code: dict[str, list[int]] = {}
    for i, code in enumerate(codes):
        if code:
            by_code.setdefault(code, []).append(i)
    by_code = {k: v for k, v in by_code.items() if len(v) > 1}
    t2 = time.perf_counter()
    stats.seconds["blocking"] = t2 - t1

    # 3. candidate pairs, scored
    matched: list[Matched] = []
    _SHARED.update(
        features=feats,
        keys=keys,
        blocks=blocks,
        walks={},
        max_block=max_block,
        rules=rules,
        codes=codes,
        by_code=by_code,
        window=window,
        hot_rules=_reaching(rules),
    )
    try:
        for found, scored in _run(_pairs_chunk, _chunks(n, chunk), workers, progress, "pairs", n):
            matched += found
            stats.candidate_pairs += scored
    finally:
        _SHARED.clear()
    t3 = time.perf_counter()
    stats.seconds["pairs"] = t3 - t2

    # 4. clusters: union-find over the matched pairs (each pair once)
    unique: dict[tuple[int, int], Matched] = {}
    for found_pair in matched:
        unique[(found_pair[0], found_pair[1])] = found_pair
    parent = list(range(n))
    for a, b in unique:
        ra, rb = _find(parent, a), _find(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the root is the cluster's first record
    cluster_of = [_find(parent, i) for i in range(n)]
    pairs: list[Pair] = [
        (ids[a], ids[b], value, reasons)
        for (a, b), (_a, _b, value, reasons) in sorted(unique.items())
    ]
    sizes: dict[int, int] = {}
    for root in cluster_of:
        sizes[root] = sizes.get(root, 0) + 1
    stats.matched_pairs = len(pairs)
    stats.clusters = sum(1 for s in sizes.values() if s > 1)
    stats.clustered_records = sum(s for s in sizes.values() if s > 1)
    stats.seconds["clusters"] = time.perf_counter() - t3
    stats.seconds["total"] = time.perf_counter() - t0
    return BatchResult(ids=list(ids), cluster_of=cluster_of, pairs=pairs, stats=stats)


def _probe_only(key: str) -> bool:
    # A block of one is still worth keeping if another record may probe it (name halves).
    return _kind(key) in ("a", "z")
