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
   whose weights cannot reach the *block* threshold are skipped in the hot loop, and most
   pairs are turned away by :meth:`HotRules.may_block` (identifier conditions as bits, an
   upper bound on the name similarity from rapidfuzz) before a rule is evaluated; a pair it
   lets through is scored exactly, and one at or above the threshold again with
   :func:`~accord.dataquality.matching.score` for the complete reasons. Two records with the
   same non-empty customer code are one record (a code differing by any character is no
   evidence at all).
4. **Clusters** — union-find over the pairs at or above the block threshold.

Pure functions over plain dicts, no ORM; on large inputs the feature and pair stages run in
forked worker processes (``workers``), which share the parent's data copy-on-write (features
come back from them as plain tuples, which pickle faster than the dataclasses). The cyclic
garbage collector is off while a batch runs: everything it would walk lives to the end.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from accord.dataquality import matching
from accord.dataquality.matching import Features, Rules
from accord.dataquality.normalize import NameParts, phones_e164
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
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage
    # CPU time per stage, this process and its workers: on a shared machine the wall time
    # says how busy the others were, this what the stage cost.
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        cpu = self.cpu_seconds
        stages = ", ".join(
            f"{k} {v:.1f}s" + (f" (CPU {cpu[k]:.1f}s)" if k in cpu else "")
            for k, v in self.seconds.items()
        )
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


Holds = Callable[[Features, Features], bool]


class HotRules:
    """The rules that can reach the block threshold, prepared for the pair loop.

    Most candidate pairs share a name half or a switchboard and nothing else, and fail every
    rule. :meth:`may_block` says so cheaply. For each rule it knows the name similarity the
    rule needs to reach the block threshold (its other conditions count their full weight
    when they hold), and compares it with an upper bound of the pair's best name similarity
    made from rapidfuzz calls alone (:func:`_name_bound`); only for a rule the names can
    still satisfy are its identifier conditions asked (what :func:`matching._condition`
    says, each once per pair, kept as bits). A pair it lets through is scored exactly
    (:func:`pair_score`), so the clusters are the same as without it.
    """

    __slots__ = ("plans", "predicates", "rules")

    # Below the threshold by more than rounding to three places and float error can make up.
    MARGIN = 0.002

    def __init__(self, rules: Rules) -> None:
        self.rules = _reaching(rules)
        bits: dict[tuple[Any, Any], int] = {}
        predicates: list[tuple[int, Holds]] = []
        plans: list[tuple[int, float | None]] = []
        for _name, conditions in self.rules.rules:
            mask = 0
            names = []
            for cond in conditions:
                if cond.get("field") == "name":
                    names.append(cond)
                    continue
                key = (cond.get("field"), cond.get("comparison"))
                if key not in bits:
                    bits[key] = 1 << len(bits)
                    predicates.append((bits[key], _holds(cond)))
                mask |= bits[key]
            plans.append((mask, self._name_need(names, conditions)))
        self.predicates = tuple(predicates)
        self.plans = tuple(plans)

    def _name_need(
        self, names: list[Mapping[str, Any]], conditions: Sequence[Mapping[str, Any]]
    ) -> float | None:
        """The name similarity the rule needs to reach the block threshold (None: no name)."""
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
        # Every other condition that holds counts its full weight (its similarity is 1).
        rest = sum(float(c.get("weight", 0)) for c in conditions if c.get("field") != "name")
        return max(minimum, (self.rules.block - self.MARGIN - rest) / weight)

    def may_block(self, probe: Features, cand: Features) -> bool:
        """False only if :func:`pair_score` of the pair is certainly below the threshold."""
        bound = -1.0
        held = 0  # identifier conditions that hold, of those asked (``asked``)
        asked = 0
        for mask, need in self.plans:
            if need is not None:
                if bound < 0:
                    bound = _name_bound(probe.names, cand.names)
                if bound < need:
                    continue
            todo = mask & ~asked
            if todo:
                for bit, holds in self.predicates:
                    if todo & bit and holds(probe, cand):
                        held |= bit
                asked |= todo
            if held & mask == mask:
                return True
        return False


def _holds(cond: Mapping[str, Any]) -> Holds:
    """Whether a condition on an identifier holds, as ``matching._condition(…)[0] > 0`` says,
    without reading the condition's fields again for every pair."""
    fld, comparison = cond.get("field"), cond.get("comparison")
    same_branch = matching._same_branch
    if fld == "tax_id":
        if comparison == matching.Comparison.TAX_ID_BRANCH:
            return lambda p, c: bool(
                p.tax_id and p.tax_id == c.tax_id and same_branch(p.branch, c.branch)
            )
        return lambda p, c: bool(p.tax_id and p.tax_id == c.tax_id)
    if fld == "branch":
        return lambda p, c: same_branch(p.branch, c.branch)
    if fld == "phone":
        return lambda p, c: not p.phones.isdisjoint(c.phones)
    if fld == "email":
        if comparison == matching.Comparison.EMAIL_DOMAIN:
            return lambda p, c: not p.email_domains.isdisjoint(c.email_domains)
        return lambda p, c: not p.emails.isdisjoint(c.emails)
    if fld == "website":
        return lambda p, c: bool(p.website and p.website == c.website)
    if fld == "account":
        return lambda p, c: bool(p.account and p.account == c.account)
    return lambda p, c: matching._condition(cond, p, c)[0] > 0


def _name_bound(left: Sequence[NameParts], right: Sequence[NameParts]) -> float:
    """At least the best :func:`matching.name_similarity` of the two records' names, from
    calls into rapidfuzz only.

    Its steps, bounded: the same key scores 1; one edit on keys of five characters or more
    at most 0.92 or the ratio; the same words reordered (keys of one length) 0.95; anything
    else at most the ratio.
    """
    best = 0.0
    for a in left:
        ka = a.key
        for b in right:
            kb = b.key
            if ka == kb:
                return 1.0
            found = fuzz.ratio(ka, kb) / 100
            shorter = min(len(ka), len(kb))
            if (
                len(ka) == len(kb)
                and (" " in a.words or " " in b.words)
                and fuzz.token_sort_ratio(a.words, b.words) == 100
            ):
                found = max(found, 0.95)
            elif (
                shorter >= 5
                and abs(len(ka) - len(kb)) <= 1
                and Levenshtein.distance(ka, kb, score_cutoff=1) <= 1
            ):
                found = max(found, 0.92)
            best = max(best, found)
    return best


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


_PHONE_FIELDS = frozenset({"phone", "mobile"})


def record_features(record_type: str, row: Mapping[str, Any]) -> Features:
    """:func:`matching.account_features` / :func:`matching.contact_features` of one row."""

    def get(name: str) -> Any:
        return "" if name in _PHONE_FIELDS else row.get(name)

    if record_type == ACCOUNT:
        found = matching.account_features(get)
        numbers = phones(_str(row.get("phone")))
    else:
        found = matching.contact_features(get)
        numbers = phones(_str(row.get("phone"))) + phones(_str(row.get("mobile")))
    if not numbers:
        return found
    # dataclasses.replace(found, phones=…), without its per-call introspection
    return Features(
        found.names,
        found.tax_id,
        found.branch,
        frozenset(numbers),
        found.emails,
        found.email_domains,
        found.website,
        found.account,
    )


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def record_keys(record_type: str, features: Features) -> tuple[list[str], list[str]]:
    """The keys a record is stored under, and the keys it probes with."""
    keys = matching.account_match_keys if record_type == ACCOUNT else matching.contact_match_keys
    stored = keys(features)
    known = set(stored)
    if record_type == ACCOUNT:
        # An account probes with more name halves than it stores and nothing else: only those
        # are computed again (the same as ``keys(features, probe=True)`` less ``stored``).
        halves = (
            k[:300] for name in features.names for k in matching._name_keys(name.key, probe=True)
        )
        return stored, [k for k in dict.fromkeys(halves) if k not in known]
    return stored, [k for k in keys(features, probe=True) if k not in known]


def _code(row: Mapping[str, Any]) -> str:
    return "".join(_str(row.get("customer_code")).split()).upper()


# --- worker plumbing ----------------------------------------------------------------------

# Set in the parent before the workers fork; the workers read it copy-on-write.
_SHARED: dict[str, Any] = {}


PackedKeys = list[str] | str


def _features_chunk(bounds: tuple[int, int]) -> tuple[int, list[Any], list[PackedKeys]]:
    start, end = bounds
    record_type: str = _SHARED["record_type"]
    rows: Sequence[Mapping[str, Any]] = _SHARED["rows"]
    pack: bool = _SHARED["pack"]
    feats: list[Any] = []
    keys: list[PackedKeys] = []
    for i in range(start, end):
        feat = record_features(record_type, rows[i])
        stored, probe = record_keys(record_type, feat)
        found = [*stored, "|", *probe]  # "|": the probe-only keys follow
        if pack:
            feats.append(_pack(feat))
            keys.append(_pack_keys(found))
        else:
            feats.append(feat)
            keys.append(found)
    return start, feats, keys


# A worker's features go back to the parent pickled. Plain tuples and strings pickle and load
# ~5 times faster than the dataclasses, and a record's keys as one string ~5 times faster
# than as a list; the parent turns them back.


def _pack(feat: Features) -> tuple[Any, ...]:
    names = tuple((n.key, n.words, n.legal_form, n.branch) for n in feat.names)
    return (
        names,
        feat.tax_id,
        feat.branch,
        tuple(feat.phones),
        tuple(feat.emails),
        tuple(feat.email_domains),
        feat.website,
        feat.account,
    )


def _unpack(packed: tuple[Any, ...]) -> Features:
    names, tax_id, branch, phones_, emails, domains, website, account = packed
    return Features(
        tuple(NameParts(*name) for name in names),
        tax_id,
        branch,
        frozenset(phones_),
        frozenset(emails),
        frozenset(domains),
        website,
        account,
    )


def _pack_keys(keys: list[str]) -> PackedKeys:
    joined = "\0".join(keys)
    # A key holding NUL itself (an odd e-mail address) keeps the list.
    return joined if joined.count("\0") == len(keys) - 1 else keys


def _unpack_keys(packed: PackedKeys) -> list[str]:
    return packed.split("\0") if isinstance(packed, str) else packed


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
    names = feat.names
    if len(names) == 1:  # most records: the one name, whichever half the block is about
        name = names[0].key
        if kind == "z":
            return name[::-1], feat.branch
        return (feat.branch, name) if kind == "x" else (name, feat.branch)
    keys = [n.key for n in names]
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
    hot: HotRules = _SHARED["hot_rules"]
    may_block = hot.may_block
    hot_rules = hot.rules
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
            if len(members) > max_block:
                walk = _walk(key)
                assert walk is not None
                for m in walk.near(key, r, feat, window):
                    # A key both store is found from both sides: the higher index asks.
                    if m == r or (stored and m > r):
                        continue
                    seen.add(m)
            elif stored:  # members are in index order: those before r
                seen.update(members[: bisect_left(members, r)])
            else:  # a probe-only key: r is not among its members
                seen.update(members)
        if codes[r]:
            seen.update(m for m in by_code.get(codes[r], ()) if m < r)
        for m in seen:
            scored += 1
            a, b = (m, r) if m < r else (r, m)
            if codes[r] and codes[r] == codes[m]:
                matched.append((a, b, 1.0, ("same customer code",)))
            elif (
                may_block(feat, feats[m])
                and pair_score(feat, feats[m], hot_rules) >= hot_rules.block
            ):
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


def _cpu() -> float:
    """CPU seconds of this process and of its workers that have finished."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


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
    # Millions of small objects are made here and all live to the end: the cyclic collector
    # would walk them again and again (and, in the workers, copy the pages they sit on).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _cluster_records(
            record_type,
            ids,
            rows,
            rules=rules,
            workers=workers,
            max_block=max_block,
            window=window,
            progress=progress,
        )
    finally:
        if collecting:
            gc.enable()


def _cluster_records(
    record_type: str,
    ids: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    *,
    rules: Rules | None,
    workers: int | None,
    max_block: int,
    window: int,
    progress: Progress | None,
) -> BatchResult:
    rules = rules if rules is not None else default_rules(record_type)
    n = len(rows)
    workers = workers if workers is not None else default_workers(n)
    stats = BatchStats(records=n, workers=workers)
    t0 = time.perf_counter()
    cpu0 = cpu = _cpu()

    # 1. features and keys
    feats: list[Features] = [Features()] * n
    keys: list[list[str]] = [[] for _ in range(n)]
    _SHARED.clear()
    pack = workers > 1
    _SHARED.update(record_type=record_type, rows=rows, pack=pack)
    chunk = max(500, min(CHUNK, n // (workers * 8) + 1))
    try:
        for start, chunk_feats, chunk_keys in _run(
            _features_chunk, _chunks(n, chunk), workers, progress, "features", n
        ):
            if pack:
                chunk_feats = [_unpack(f) for f in chunk_feats]
                chunk_keys = [_unpack_keys(k) for k in chunk_keys]
            feats[start : start + len(chunk_feats)] = chunk_feats
            keys[start : start + len(chunk_keys)] = chunk_keys
    finally:
        _SHARED.clear()
    t1 = time.perf_counter()
    stats.seconds["features"] = t1 - t0
    stats.cpu_seconds["features"] = _cpu() - cpu
    cpu = _cpu()

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
    stats.cpu_seconds["blocking"] = _cpu() - cpu
    cpu = _cpu()

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
        hot_rules=HotRules(rules),
    )
    try:
        for found, scored in _run(_pairs_chunk, _chunks(n, chunk), workers, progress, "pairs", n):
            matched += found
            stats.candidate_pairs += scored
    finally:
        _SHARED.clear()
    t3 = time.perf_counter()
    stats.seconds["pairs"] = t3 - t2
    stats.cpu_seconds["pairs"] = _cpu() - cpu
    cpu = _cpu()

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
    stats.cpu_seconds["clusters"] = _cpu() - cpu
    stats.cpu_seconds["total"] = _cpu() - cpu0
    return BatchResult(ids=list(ids), cluster_of=cluster_of, pairs=pairs, stats=stats)


def _probe_only(key: str) -> bool:
    # A block of one is still worth keeping if another record may probe it (name halves).
    return _kind(key) in ("a", "z")
