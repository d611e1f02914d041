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
   neighbours on either side — a one-character variant sorts next to its original. The keys
   travel as hashes and the pairs are found with array operations
   (:func:`~accord.dataquality.candidates.candidate_pairs`).
3. **Scoring** — the administrator's rules (:func:`~accord.dataquality.matching.rules_for`,
   or the seeded defaults when there is no database). Most candidate pairs share a name half
   or a switchboard and nothing else: :class:`~accord.dataquality.candidates.Prefilter` turns
   them away on whole columns at once (the identifier conditions each rule needs, and an
   upper bound on the name similarity from rapidfuzz); a pair it lets through is scored
   exactly with :func:`~accord.dataquality.matching.score`, reasons included. Two records
   with the same non-empty customer code are one record (a code differing by any character
   is no evidence at all).
4. **Clusters** — union-find over the pairs at or above the block threshold.

Pure functions over plain dicts, no ORM; on large inputs the features, the blocks and the
scores are computed in forked worker processes (``workers``), which share the parent's data
copy-on-write (a record's features come back from them as one string, :func:`_pack`, and as
the columns the prefilter reads; each column of strings as one joined string,
:func:`_joined`). The cyclic garbage collector is off while a batch runs: everything it would
walk lives to the end.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from accord.dataquality import matching
from accord.dataquality.candidates import (
    IDENTIFIERS,
    Candidates,
    Columns,
    Prefilter,
    candidate_pairs,
    identifier_row,
    merge_candidates,
    pair_codes,
)
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

# NAME_SLOTS: the names a record may have (an account: legal, Thai and English).
NAME_SLOTS = 3
# All pairs are compared in a block of up to this many records; a larger block is walked in
# sorted order, each record against WINDOW neighbours on either side.
MAX_BLOCK = 20
WINDOW = 3
# Below this many records the work is not worth forking for.
PARALLEL_MIN_RECORDS = 20_000
CHUNK = 5_000
# Candidate pairs per scoring task (the prefilter's columns for them, then the exact score
# of those it lets through), and below how many the work is not worth forking for.
SCORE_CHUNK = 100_000
PARALLEL_MIN_PAIRS = 20_000

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
    candidate_pairs: int = 0  # distinct pairs sharing a block (or a customer code)
    exact_pairs: int = 0  # of which scored one by one (the prefilter let them through)
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
            f"{self.candidate_pairs:,} candidate pairs ({self.exact_pairs:,} scored exactly), "
            f"{self.matched_pairs:,} matched, "
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


def record_features(record_type: str, row: Mapping[str, Any]) -> Features:
    """:func:`matching.account_features` / :func:`matching.contact_features` of one row."""
    if record_type == ACCOUNT:
        return matching.account_features(row.get, phones=phones)
    return matching.contact_features(row.get, phones=phones)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def record_keys(record_type: str, features: Features) -> tuple[list[str], list[str]]:
    """The keys a record is stored under, and the keys it probes with (each once; in no
    particular order, the blocks only ask which records share a key)."""
    if record_type != ACCOUNT:
        own_keys = matching.contact_match_keys(features)
        known = set(own_keys)
        return own_keys, [
            k for k in matching.contact_match_keys(features, probe=True) if k not in known
        ]
    # matching.account_match_keys with and without probe=True, made together: each name's
    # key, the halves of its own length, its words sorted; the halves of the lengths two
    # characters either side only probe.
    stored: list[str] = []
    probe: list[str] = []
    for name in features.names:
        key = name.key
        size = len(key)
        stored.append("n:" + key)
        own, others = _halves(size)
        if own:
            stored += ("a:" + key[:own], "z:" + key[-own:])
        for k in others:
            probe += ("a:" + key[:k], "z:" + key[-k:])
        if " " in name.words:
            stored.append("s:" + "".join(sorted(name.words.split())))
    if features.tax_id:
        stored.append("x:" + features.tax_id)
    stored += ["p:" + p for p in features.phones]
    stored += ["e:" + e for e in features.emails]
    stored += ["d:" + d for d in features.email_domains]
    if features.website:
        stored.append("w:" + features.website)
    if max(map(len, stored), default=0) > 300:  # a half is at most 8 characters
        stored = [k[:300] for k in stored]
    known = set(stored)
    if len(known) < len(stored):  # two names with one key or one half
        stored = list(dict.fromkeys(stored))
    return stored, [k for k in dict.fromkeys(probe) if k not in known]


def _name_halves(size: int) -> tuple[int, tuple[int, ...]]:
    """For a name key of ``size`` characters: the size of the halves it is stored under (0:
    none), and the other sizes it probes with (those of keys two characters shorter to two
    longer, as :func:`matching._name_keys` makes them)."""
    half = matching._half
    own = half(size) if size >= 4 else 0
    others = {half(length) for length in range(max(4, size - 2), size + 3)} - {own}
    return own, tuple(sorted(others))


_HALVES = [_name_halves(size) for size in range(64)]


def _halves(size: int) -> tuple[int, tuple[int, ...]]:
    return _HALVES[size] if size < 64 else _name_halves(size)


def _code(row: Mapping[str, Any]) -> str:
    return "".join(_str(row.get("customer_code")).split()).upper()


# --- worker plumbing ----------------------------------------------------------------------

# Set in the parent before the workers fork; the workers read it copy-on-write.
_SHARED: dict[str, Any] = {}


@dataclass
class _FeatureChunk:
    """What a feature worker sends back for records ``start`` to ``end``.

    The per-record strings travel as :func:`_joined` columns: one string pickles and loads
    many times faster than the hundred thousand it joins."""

    start: int
    end: int
    packed: Column  # per record, :func:`_pack` of its features
    key_records: NDArray[np.int32]  # per key: the record, the key's hash, stored or probe-only
    key_hashes: NDArray[np.int64]
    key_stored: NDArray[np.bool_]
    names: list[Column]  # per name slot, per record: the name key ("" for none)
    words: list[Column]
    name_shapes: NDArray[np.int32]  # per record and slot: the key's length, words > 1
    branches: Column
    identifiers: NDArray[np.int64]  # per record: candidates.identifier_row
    codes: Column  # per record: its customer code, "" for none


# A column of per-record values: joined by _SEPARATOR, or the list where that cannot be read
# back (a value holding the separator, a record's features sent as a tuple).
Column = str | list[Any]
_SEPARATOR = "\x00"


def _joined(values: list[Any]) -> Column:
    try:
        text = _SEPARATOR.join(values)
    except TypeError:  # not all strings
        return values
    return text if text.count(_SEPARATOR) == len(values) - 1 else values


def _split(column: Column) -> list[Any]:
    return column if isinstance(column, list) else column.split(_SEPARATOR)


def _features_chunk(bounds: tuple[int, int]) -> _FeatureChunk:
    start, end = bounds
    record_type: str = _SHARED["record_type"]
    rows: Sequence[Mapping[str, Any]] = _SHARED["rows"]
    packed: list[Packed] = []
    hashes: list[int] = []
    counts: list[int] = []  # per record: how many keys it is stored under, then probes with
    names: list[list[str]] = [[] for _ in range(NAME_SLOTS)]
    words: list[list[str]] = [[] for _ in range(NAME_SLOTS)]
    branches: list[str] = []
    identifiers: list[tuple[int, ...]] = []
    codes: list[str] = []
    shapes: list[int] = []
    slots = list(zip(names, words, strict=True))
    for i in range(start, end):
        row = rows[i]
        feat = record_features(record_type, row)
        codes.append(_code(row))
        stored, probe = record_keys(record_type, feat)
        packed.append(_pack(feat))
        hashes += map(hash, stored)
        hashes += map(hash, probe)
        counts += (len(stored), len(probe))
        record_names = feat.names
        if len(record_names) == 1:  # most records: their one name, the other slots empty
            name = record_names[0]
            names[0].append(name.key)
            words[0].append(name.words)
            shapes += (len(name.key), " " in name.words)
            for slot_names, slot_words in slots[1:]:
                slot_names.append("")
                slot_words.append("")
            shapes += _EMPTY_SLOTS
        else:
            for slot, (slot_names, slot_words) in enumerate(slots):
                if slot < len(record_names):
                    name = record_names[slot]
                    slot_names.append(name.key)
                    slot_words.append(name.words)
                    shapes += (len(name.key), " " in name.words)
                else:
                    slot_names.append("")
                    slot_words.append("")
                    shapes += (0, False)
        branches.append(feat.branch)
        identifiers.append(identifier_row(feat))
    per_record = np.array(counts, dtype=np.int64).reshape(-1, 2)
    return _FeatureChunk(
        start,
        end,
        _joined(packed),
        np.repeat(np.arange(start, end, dtype=np.int32), per_record.sum(axis=1)),
        np.array(hashes, dtype=np.int64),
        np.repeat(np.tile(np.array([True, False]), end - start), per_record.ravel()),
        [_joined(slot) for slot in names],
        [_joined(slot) for slot in words],
        np.array(shapes, dtype=np.int32).reshape(-1, NAME_SLOTS, 2),
        _joined(branches),
        np.array(identifiers, dtype=np.int64).reshape(-1, IDENTIFIERS),
        _joined(codes),
    )


_EMPTY_SLOTS = (0, False) * (NAME_SLOTS - 1)


class _Features:
    """The feature workers' chunks put together, in record order."""

    def __init__(self, records: int) -> None:
        self.packed: list[Packed] = [""] * records
        self.names: list[list[str]] = [[""] * records for _ in range(NAME_SLOTS)]
        self.words: list[list[str]] = [[""] * records for _ in range(NAME_SLOTS)]
        self.branches: list[str] = [""] * records
        self.identifiers = np.zeros((records, IDENTIFIERS), dtype=np.int64)
        self.name_shapes = np.zeros((records, NAME_SLOTS, 2), dtype=np.int32)
        self.codes: list[str] = [""] * records
        self.key_parts: list[tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.bool_]]] = []

    def add(self, chunk: _FeatureChunk) -> None:
        start, end = chunk.start, chunk.end
        self.packed[start:end] = _split(chunk.packed)
        for slot in range(NAME_SLOTS):
            self.names[slot][start:end] = _split(chunk.names[slot])
            self.words[slot][start:end] = _split(chunk.words[slot])
        self.branches[start:end] = _split(chunk.branches)
        self.identifiers[start:end] = chunk.identifiers
        self.name_shapes[start:end] = chunk.name_shapes
        self.codes[start:end] = _split(chunk.codes)
        self.key_parts.append((chunk.key_records, chunk.key_hashes, chunk.key_stored))

    def keys(self) -> tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.bool_]]:
        """Every key row: its record, its hash, and whether the record is stored under it."""
        parts = self.key_parts or [
            (np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.bool_))
        ]
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    def columns(self) -> Columns:
        return Columns(
            identifiers=self.identifiers,
            names=[np.array(slot, dtype=object) for slot in self.names],
            words=[np.array(slot, dtype=object) for slot in self.words],
            lengths=[self.name_shapes[:, slot, 0].copy() for slot in range(NAME_SLOTS)],
            spaced=[self.name_shapes[:, slot, 1] > 0 for slot in range(NAME_SLOTS)],
        )


# A worker's features go back to the parent pickled. Plain tuples and strings pickle and load
# ~5 times faster than the dataclasses; a record's features are turned back only when one of
# its pairs is scored exactly.


# A record's features as one string: fields, the items of a field, the parts of a name and
# a missing part, each marked by a control character no normalised value holds (a value
# that does is sent as a tuple instead). One string pickles and loads several times faster
# than the tuples and strings it stands for.
_FIELD, _ITEM, _PART, _NONE = "\x1f", "\x1e", "\x1d", "\x1c"
Packed = str | tuple[Any, ...]


def _pack(feat: Features) -> Packed:
    parts = []
    nones = 0
    for n in feat.names:
        form, branch = n.legal_form, n.branch
        if form == "" or branch == "":
            return tuple(feat)
        if form is None:
            form, nones = _NONE, nones + 1
        if branch is None:
            branch, nones = _NONE, nones + 1
        parts.append(f"{n.key}{_PART}{n.words}{_PART}{form}{_PART}{branch}")
    phones_, emails, domains = feat.phones, feat.emails, feat.email_domains
    if "" in phones_ or "" in emails or "" in domains:
        return tuple(feat)
    text = _FIELD.join(
        (
            _ITEM.join(parts),
            feat.tax_id,
            feat.branch,
            _ITEM.join(phones_),
            _ITEM.join(emails),
            _ITEM.join(domains),
            feat.website,
            feat.account,
        )
    )
    # Every mark in the text is one put there, or a value held one: send the tuple then.
    items = len(parts) + len(phones_) + len(emails) + len(domains)
    items -= bool(parts) + bool(phones_) + bool(emails) + bool(domains)
    if (
        text.count(_FIELD) == 7
        and text.count(_ITEM) == items
        and text.count(_PART) == 3 * len(parts)
        and text.count(_NONE) == nones
    ):
        return text
    return tuple(feat)


def _name(text: str) -> NameParts:
    key, words, form, branch = text.split(_PART)
    return NameParts(
        key, words, None if form == _NONE else form, None if branch == _NONE else branch
    )


def _unpack(packed: Packed) -> Features:
    if not isinstance(packed, str):
        return Features(*packed)
    names, tax_id, branch, phones_, emails, domains, website, account = packed.split(_FIELD)
    return Features(
        tuple(map(_name, names.split(_ITEM))) if names else (),
        tax_id,
        branch,
        frozenset(phones_.split(_ITEM)) if phones_ else frozenset(),
        frozenset(emails.split(_ITEM)) if emails else frozenset(),
        frozenset(domains.split(_ITEM)) if domains else frozenset(),
        website,
        account,
    )


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


def _sort_key(kind: str, value: str, names: Sequence[str], branch: str) -> tuple[str, str]:
    """Where a record sorts in a large block of ``kind`` (``value``: the key's text), from its
    name keys and branch."""
    if len(names) == 1:  # most records: the one name, whichever half the block is about
        name = names[0]
        if kind == "z":
            return name[::-1], branch
        return (branch, name) if kind == "x" else (name, branch)
    if kind == "a":
        name = next((k for k in names if k.startswith(value)), names[0] if names else "")
        return name, branch
    if kind == "z":
        name = next((k for k in names if k.endswith(value)), names[0] if names else "")
        return name[::-1], branch
    first = names[0] if names else ""
    if kind == "x":
        return branch, first
    return first, branch


class _SortKeys:
    """The sort keys of records in a large block, for :func:`candidates.candidate_pairs`."""

    def __init__(
        self,
        record_type: str,
        packed: Sequence[Packed],
        names: Sequence[Sequence[str]],
        branches: Sequence[str],
    ) -> None:
        self.record_type = record_type
        self.packed = packed
        self.names = names
        self.branches = branches
        self.blocks: dict[int, tuple[str, str]] = {}

    def __call__(self, block_hash: int, records: Sequence[int]) -> list[str]:
        """:func:`_sort_key` of each record, its two parts joined by NUL (which no key or
        branch holds): strings sort as the pairs do, and faster."""
        kind, value = self.blocks.get(block_hash) or self._block(block_hash, records[0])
        names, branches = self.names, self.branches
        first, second = names[0], names[1]
        # Without building each record's list of names where the first name alone decides:
        # blocks not about a name half, and records with one name.
        if kind == "x":
            return [branches[r] + "\0" + first[r] for r in records]
        if kind not in ("a", "z"):
            return [first[r] + "\0" + branches[r] for r in records]
        return [
            "\0".join(_sort_key(kind, value, [s[r] for s in names if s[r]], branches[r]))
            if second[r]
            else (first[r][::-1] if kind == "z" else first[r]) + "\0" + branches[r]
            for r in records
        ]

    def _block(self, block_hash: int, member: int) -> tuple[str, str]:
        """The block's kind and text, from the keys of a record that has it."""
        feat = _unpack(self.packed[member])
        stored, probe = record_keys(self.record_type, feat)
        key = next(k for k in (*stored, *probe) if hash(k) == block_hash)
        found = self.blocks[block_hash] = (_kind(key), key.rsplit(":", 1)[-1])
        return found


def _same_codes(codes: Sequence[str]) -> list[list[int]]:
    """The records that share a customer code, in groups of two or more (in record order).

    Most codes are unique: their hashes are sorted as an array, and only the records whose
    hash comes up more than once are grouped by the code itself.
    """
    hashes = np.fromiter((hash(c) if c else 0 for c in codes), np.int64, len(codes))
    records = np.flatnonzero(hashes)
    records = records[np.argsort(hashes[records], kind="stable")]
    ordered = hashes[records]
    repeated = np.zeros(len(ordered), dtype=np.bool_)
    if len(ordered) > 1:
        same = ordered[1:] == ordered[:-1]
        repeated[1:] |= same
        repeated[:-1] |= same
    groups: dict[str, list[int]] = {}
    for record in sorted(records[repeated].tolist()):
        groups.setdefault(codes[record], []).append(record)
    return [members for members in groups.values() if len(members) > 1]


def _candidates_part(bounds: tuple[int, int]) -> Candidates:
    """The candidate pairs of the blocks whose hash falls in share ``bounds[0]``."""
    part = bounds[0]
    key_records, key_hashes, key_stored = _SHARED["keys"]
    parts: int = _SHARED["parts"]
    if parts > 1:
        mine = key_hashes % parts == part
        key_records, key_hashes, key_stored = key_records[mine], key_hashes[mine], key_stored[mine]
    return candidate_pairs(
        key_records,
        key_hashes,
        key_stored,
        records=_SHARED["records"],
        max_block=_SHARED["max_block"],
        window=_SHARED["window"],
        sort_keys=_SHARED["sort_keys"],
    )


Matched = tuple[int, int, float, tuple[str, ...]]


def _score_chunk(bounds: tuple[int, int]) -> tuple[list[Matched], int]:
    """Candidate pairs ``start..end``: the prefilter on them as columns, then the pairs it
    lets through scored exactly; those at or above the block threshold, with their reasons,
    and how many were scored exactly."""
    start, end = bounds
    packed: Sequence[Packed] = _SHARED["packed"]
    rules: Rules = _SHARED["rules"]
    prefilter: Prefilter = _SHARED["prefilter"]
    left, right = _SHARED["left"][start:end], _SHARED["right"][start:end]
    kept = prefilter.may_block(left, right, _SHARED["columns"])
    unpacked: dict[int, Features] = {}

    def feature(i: int) -> Features:
        found = unpacked.get(i)
        if found is None:
            found = unpacked[i] = _unpack(packed[i])
        return found

    matched: list[Matched] = []
    block = rules.block
    for a, b in zip(left[kept].tolist(), right[kept].tolist(), strict=True):
        value, reasons = matching.score(feature(a), feature(b), rules)
        if value >= block:
            matched.append((a, b, value, tuple(reasons)))
    return matched, int(kept.sum())


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

    # 1. features, keys and the prefilter's columns
    found = _Features(n)
    _SHARED.clear()
    _SHARED.update(record_type=record_type, rows=rows)
    chunk = max(500, min(CHUNK, n // (workers * 8) + 1))
    try:
        for part in _run(_features_chunk, _chunks(n, chunk), workers, progress, "features", n):
            found.add(part)
    finally:
        _SHARED.clear()
    t1 = time.perf_counter()
    stats.seconds["features"] = t1 - t0
    stats.cpu_seconds["features"] = _cpu() - cpu
    cpu = _cpu()

    # 2. blocks and candidate pairs; records with one customer code are one record
    packed = found.packed
    # Each worker takes the blocks of its share of the key hashes (a block is one hash, so
    # it is whole in one share); a pair two blocks give may come from both.
    parts = workers if n >= PARALLEL_MIN_RECORDS else 1
    _SHARED.update(
        keys=found.keys(),
        parts=parts,
        records=max(n, 1),
        max_block=max_block,
        window=window,
        sort_keys=_SortKeys(record_type, packed, found.names, found.branches),
    )
    try:
        found_pairs = merge_candidates(
            list(_run(_candidates_part, _chunks(parts, 1), parts, None, "blocking", parts)),
            records=max(n, 1),
        )
    finally:
        _SHARED.clear()
    stats.blocks = found_pairs.blocks
    stats.oversized_blocks = found_pairs.oversized_blocks
    matched: list[Matched] = []
    for members in _same_codes(found.codes):
        for x, a in enumerate(members):
            matched += ((a, b, 1.0, ("same customer code",)) for b in members[x + 1 :])
    left, right = found_pairs.left, found_pairs.right
    if matched:
        same_code = pair_codes(
            np.array([m[0] for m in matched], dtype=np.int64),
            np.array([m[1] for m in matched], dtype=np.int64),
            max(n, 1),
        )
        other = ~np.isin(pair_codes(left, right, max(n, 1)), same_code)
        left, right = left[other], right[other]
    stats.candidate_pairs = len(left) + len(matched)
    t2 = time.perf_counter()
    stats.seconds["blocking"] = t2 - t1
    stats.cpu_seconds["blocking"] = _cpu() - cpu
    cpu = _cpu()

    # 3. the prefilter on whole columns, then the pairs it lets through one by one (both in
    # the workers, a slice of the candidates each time)
    parallel = workers if len(left) >= PARALLEL_MIN_PAIRS else 1
    _SHARED.update(
        packed=packed,
        rules=rules,
        prefilter=Prefilter(rules, workers=1 if parallel > 1 else workers),
        columns=found.columns(),
        left=left,
        right=right,
    )
    del found
    try:
        for found_matched, exact in _run(
            _score_chunk,
            _chunks(len(left), SCORE_CHUNK),
            parallel,
            progress,
            "pairs",
            len(left),
        ):
            matched += found_matched
            stats.exact_pairs += exact
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
    # a record in no pair is its own root; only the others are looked up
    joined = sorted({i for pair in unique for i in pair})
    for i in joined:
        parent[i] = _find(parent, i)
    cluster_of = parent
    pairs: list[Pair] = [
        (ids[a], ids[b], value, reasons)
        for (a, b), (_a, _b, value, reasons) in sorted(unique.items())
    ]
    sizes: dict[int, int] = {}
    for i in joined:
        root = cluster_of[i]
        sizes[root] = sizes.get(root, 0) + 1
    stats.matched_pairs = len(pairs)
    stats.clusters = sum(1 for s in sizes.values() if s > 1)
    stats.clustered_records = sum(s for s in sizes.values() if s > 1)
    stats.seconds["clusters"] = time.perf_counter() - t3
    stats.seconds["total"] = time.perf_counter() - t0
    stats.cpu_seconds["clusters"] = _cpu() - cpu
    stats.cpu_seconds["total"] = _cpu() - cpu0
    return BatchResult(ids=list(ids), cluster_of=cluster_of, pairs=pairs, stats=stats)
