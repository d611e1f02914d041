"""Duplicate-matching benchmark: a labelled data set with shadow accounts, and figures.

    python -m bench.dedupe --accounts 100000                  # batch clustering at 100k
    python -m bench.dedupe --accounts 1000000                 # … at 1M
    python -m bench.dedupe --accounts 100000 --csv data.csv   # also write the data set
    python -m bench.dedupe realtime --samples 1000            # the real-time check

**batch** generates ``--accounts`` account rows in memory — distinct companies, their
branches and sister companies (hard non-duplicates), and *shadow* accounts (the same company
entered again, with one of the variants below) — clusters them with
:func:`accord.dataquality.batch.cluster_records` (the seeded default rules, no database) and
prints the pairwise precision, recall and F1 against the labels, the wall time of each
stage, the share of shadows joined to their original per variant, and how often each kind
of hard non-duplicate was wrongly joined.

**realtime** uses the benchmark database (``bench/README.md``; topped up to ``--accounts``
by the bulk generator, which writes the match keys too): for ``--samples`` random existing
accounts it builds a shadow variant and times
:func:`accord.dataquality.matching.account_matches` with it (p50/p95, and the share where
the original account is a *block* candidate); then it does the same with hard
non-duplicates (a new branch of an existing company, a sister company sharing the phone)
and reports how often they were wrongly blocked.

Variants: a space added; one character of the name changed, added or removed; one character
of the customer code changed; another legal suffix (บริษัท … จำกัด, บจก., บมจ., (มหาชน),
ห้างหุ้นส่วนจำกัด, หจก., Co., Ltd., Company Limited, PCL, Inc., Corp.); Thai ํา for ำ; case;
punctuation; branch wording (head office); the phone written another way. Every shadow may
also lose its tax ID, email and website (a rep creating a shadow rarely types them).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench import words
from bench.env import database_label, migrate, setup_django

# --- vocabulary ---------------------------------------------------------------------------


def _spread(pairs: Sequence[tuple[str, str]], key: Callable[[str], str]) -> list[tuple[str, str]]:
    """Word pairs at least three edits apart from each other in both languages.

    The generator's lists hold near twins ("Pattana"/"Wattana", "Food"/"Wood"); two real
    companies a typo apart are rare (the registrar refuses look-alike names), so distinct
    companies here are built from words that are not.
    """
    from rapidfuzz.distance import Levenshtein

    kept: list[tuple[str, str, str, str]] = []
    for en, th in pairs:
        ek, tk = key(en), key(th)
        if all(
            Levenshtein.distance(ek, k[2]) > 2 and Levenshtein.distance(tk, k[3]) > 2 for k in kept
        ):
            kept.append((en, th, ek, tk))
    return [(k[0], k[1]) for k in kept]


# (English, Thai before, Thai after) — the legal forms a company is registered with.
FORMS = (
    ("Co., Ltd.", "บริษัท ", " จำกัด", 78),
    ("Public Company Limited", "บริษัท ", " จำกัด (มหาชน)", 5),
    ("Limited Partnership", "ห้างหุ้นส่วนจำกัด ", "", 14),
)
# Other ways to write each form (English, Thai before, Thai after).
FORM_SPELLINGS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Co., Ltd.": (
        ("Co.,Ltd.", "บจก. ", ""),
        ("Company Limited", "บจก.", ""),
        ("Co. Ltd", "", " จำกัด"),
        ("Ltd.", "บริษัท ", " จก."),
        ("Inc.", "บริษัท", "จำกัด"),
        ("Corp.", "บ. ", " จำกัด"),
    ),
    "Public Company Limited": (
        ("PCL", "บมจ. ", ""),
        ("Public Co., Ltd.", "บมจ.", ""),
        ("Plc", "", " จำกัด (มหาชน)"),
        ("Co., Ltd.", "บริษัท ", " จำกัด"),
    ),
    "Limited Partnership": (
        ("Ltd., Part.", "หจก. ", ""),
        ("L.P.", "หจก.", ""),
        ("Co., Ltd.", "ห้างหุ้นส่วน จำกัด ", ""),
    ),
}
PUNCTUATION = ("-", ".", ",", "&", "'", "/")
THAI_CONSONANTS = "กขคงจฉชซญดตถทนบปผพฟภมยรลวศสหอฮ"
HEAD_OFFICE_WORDS = (" (สำนักงานใหญ่)", " สำนักงานใหญ่", " (Head Office)", " - Head Office", " HQ")
VARIANTS = (
    "space",
    "char_changed",
    "char_added",
    "char_removed",
    "code_changed",
    "legal_suffix",
    "thai_am",
    "case",
    "punctuation",
    "branch_wording",
    "phone_format",
)


@dataclass
class Company:
    """One real customer (a company at one branch): what every record of it is made from."""

    entity: int
    short_en: str
    short_th: str
    form: int  # index into FORMS
    thai: bool  # registered under its Thai name
    tax_id: str
    branch: str  # "00000" head office
    phone: str
    domain: str
    place: tuple[str, str, str, str]
    address: str


def _phone_digits(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"02{rng.randrange(1_000_000, 9_999_999)}"
    return f"0{rng.choice('689')}{rng.randrange(10_000_000, 99_999_999)}"


def phone_text(digits: str, style: int) -> str:
    """A Thai number ("021234567" or "0812345678") written one of several ways."""
    national = digits[1:]
    if len(digits) == 9:  # 02 123 4567
        a, b, c = digits[:2], digits[2:5], digits[5:]
    else:  # 081 234 5678
        a, b, c = digits[:3], digits[3:6], digits[6:]
    styles = (
        f"{a}-{b}-{c}",
        f"{a} {b} {c}",
        digits,
        f"+66 {national[: len(a) - 1]} {b} {c}",
        f"({a}) {b}-{c}",
        f"+66{national}",
        f"{a}-{b}{c}",
    )
    return styles[style % len(styles)]


class DataSet:
    """Labelled account rows: ``rows[i]`` belongs to company ``labels[i]``; ``kinds[i]`` says
    what the row is (``original``, ``branch``, ``sister`` or ``shadow:<variant>``)."""

    def __init__(self, accounts: int, *, seed: int = 1) -> None:
        from accord.core.thai import tax_id_with_check_digit
        from accord.customers.services import customer_code_format
        from accord.dataquality.normalize import company_name_key

        self._tax = tax_id_with_check_digit
        self._code = customer_code_format
        self._key = company_name_key
        self.rng = random.Random(seed)
        self.prefixes = _spread(words.PREFIXES, company_name_key)
        self.cores = _spread(words.CORES, company_name_key)
        self.suffixes = _spread(words.SUFFIXES, company_name_key)
        self.rows: list[dict[str, str]] = []
        self.labels: list[int] = []
        self.kinds: list[str] = []
        self.origin: list[int] = []  # the row a shadow copies (itself for the others)
        self._names: set[tuple[int, int, int, int]] = set()
        self._keys: set[str] = set()
        self._entities = 0
        self._numbers = 0
        self._generate(accounts)

    # -- companies

    def _new_name(self, p1: int | None = None, p2: int | None = None) -> tuple[str, str]:
        rng = self.rng
        for _attempt in range(1000):
            a = rng.randrange(len(self.prefixes)) if p1 is None else p1
            b = (
                (rng.randrange(len(self.prefixes)) if rng.random() < 0.35 else -1)
                if p2 is None
                else p2
            )
            c = rng.randrange(len(self.cores))
            d = rng.randrange(len(self.suffixes)) if rng.random() < 0.55 else -1
            # Two prefixes swapped read as one name in another word order: not a new company.
            if (a, b, c, d) in self._names or (b, a, c, d) in self._names or a == b:
                continue
            parts = [self.prefixes[a]] + ([self.prefixes[b]] if b >= 0 else []) + [self.cores[c]]
            if d >= 0:
                parts.append(self.suffixes[d])
            en = " ".join(p[0] for p in parts)
            th = "".join(p[1] for p in parts[:-1]) + (" " if d >= 0 else "") + parts[-1][1]
            key_en, key_th = self._key(en), self._key(th)
            if key_en in self._keys or key_th in self._keys:
                continue
            self._names.add((a, b, c, d))
            self._keys.update((key_en, key_th))
            return en, th
        raise RuntimeError("the vocabulary is exhausted")

    def _company(self, rng: random.Random, **over: Any) -> Company:
        self._numbers += 1
        self._entities += 1
        form = rng.choices(range(len(FORMS)), weights=[f[3] for f in FORMS])[0]
        en, th = over.pop("names", None) or self._new_name()
        kind = "7" if form == 1 else "5" if form == 0 else "3"
        office = rng.choice(words.TAX_OFFICES)
        values: dict[str, Any] = dict(
            entity=self._entities,
            short_en=en,
            short_th=th,
            form=form,
            thai=rng.random() < 0.6,
            tax_id=self._tax(f"0{office}{kind}{self._numbers:07d}") if rng.random() < 0.97 else "",
            branch="00000",
            phone=_phone_digits(rng),
            domain="".join(ch for ch in en.lower() if ch.isalnum())[:40] + ".co.th",
            place=rng.choice(words.PLACES),
            address=f"{rng.randint(1, 999)}/{rng.randint(1, 99)} {rng.choice(words.STREETS)}",
        )
        values.update(over)
        return Company(**values)

    def _name(self, co: Company, *, spelling: tuple[str, str, str] | None = None) -> str:
        en_form, th_before, th_after, _w = FORMS[co.form]
        if spelling:
            en_form, th_before, th_after = spelling
        name = f"{th_before}{co.short_th}{th_after}" if co.thai else f"{co.short_en} {en_form}"
        if co.branch != "00000":
            number = int(co.branch)
            name += f" สาขาที่ {number}" if co.thai else f" Branch {number}"
        return name

    def _row(self, co: Company, code: str) -> dict[str, str]:
        province, city, _sub, postcode = co.place
        rng = self.rng
        return {
            "name": self._name(co),
            "customer_code": code,
            "tax_id": co.tax_id,
            "branch": co.branch,
            "address": co.address,
            "city": city,
            "province": province,
            "postcode": postcode,
            "phone": phone_text(co.phone, 0),
            "email": f"info@{co.domain}" if rng.random() < 0.6 else "",
            "website": f"https://www.{co.domain}" if rng.random() < 0.5 else "",
        }

    def _add(self, row: dict[str, str], label: int, kind: str, origin: int | None = None) -> None:
        self.origin.append(len(self.rows) if origin is None else origin)
        self.rows.append(row)
        self.labels.append(label)
        self.kinds.append(kind)

    def _next_code(self) -> str:
        self._numbers += 1
        return self._code(self._numbers)

    # -- shadows

    def shadow(self, co: Company, row: dict[str, str], variant: str) -> dict[str, str]:
        """A copy of ``row`` with ``variant`` applied; it may lose its tax ID, email and
        website, and gets a customer code of its own."""
        rng = self.rng
        out = dict(row)
        out["customer_code"] = self._next_code()
        if rng.random() < 0.5:
            out["tax_id"] = ""
        if rng.random() < 0.5:
            out["email"] = ""
        if rng.random() < 0.5:
            out["website"] = ""
        if rng.random() < 0.3:
            out["phone"] = phone_text(co.phone, rng.randrange(1, 7))
        name = out["name"]
        short = co.short_th if co.thai else co.short_en
        if variant == "space":
            at = rng.randrange(1, len(short))
            out["name"] = name.replace(short, short[:at] + " " + short[at:], 1)
        elif variant in ("char_changed", "char_added", "char_removed"):
            out["name"] = name.replace(short, _edit(rng, short, variant, co.thai), 1)
        elif variant == "code_changed":
            code = row["customer_code"]
            at = rng.randrange(1, len(code))
            digit = str((int(code[at]) + rng.randrange(1, 10)) % 10)
            out["customer_code"] = code[:at] + digit + code[at + 1 :]
        elif variant == "legal_suffix":
            out["name"] = self._name(co, spelling=rng.choice(FORM_SPELLINGS[FORMS[co.form][0]]))
        elif variant == "thai_am":
            out["name"] = name.replace("ำ", "ํา") if "ำ" in name else name.replace("จำกัด", "จํากัด")
            if out["name"] == name:  # an English name: no SARA AM to split
                out["name"] = name.upper()
        elif variant == "case":
            out["name"] = rng.choice((name.upper(), name.lower(), name.swapcase()))
            if out["name"] == name:
                out["name"] = name + "."
        elif variant == "punctuation":
            spaced = [i for i, ch in enumerate(name) if ch == " "]
            if spaced and rng.random() < 0.7:
                at = rng.choice(spaced)
                mark = rng.choice(PUNCTUATION)
                out["name"] = name[:at] + rng.choice((mark, f" {mark}", f"{mark} ")) + name[at:]
            else:
                out["name"] = name.replace(".", "").replace(",", "") + "."
        elif variant == "branch_wording":
            if co.branch == "00000":
                out["name"] = name + rng.choice(HEAD_OFFICE_WORDS)
                out["branch"] = rng.choice(("", "00000", "0"))
            else:
                number = int(co.branch)
                wording = rng.choice(
                    (f" (สาขา {co.branch})", f" Branch No. {number}", f" - สาขา {number}")
                )
                out["name"] = self._name(replace_branch(co)) + wording
                out["branch"] = rng.choice(("", co.branch, str(number)))
        elif variant == "phone_format":
            out["phone"] = phone_text(co.phone, rng.randrange(1, 7))
        return out

    # -- the data set

    def _generate(self, accounts: int) -> None:
        rng = self.rng
        while len(self.rows) < accounts:
            co = self._company(rng)
            family = [co]
            if rng.random() < 0.04:  # branches: same name and tax ID, other branch numbers
                for number in range(1, rng.choice((2, 2, 3, 4)) + 0):
                    family.append(
                        Company(
                            **{
                                **co.__dict__,
                                "entity": self._new_entity(),
                                "branch": f"{number:05d}",
                                "phone": _phone_digits(rng),
                                "address": co.address,
                            }
                        )
                    )
            if rng.random() < 0.05:  # a sister company: same group words, another business
                p1 = next(
                    i for i, p in enumerate(self.prefixes) if co.short_en.startswith(p[0] + " ")
                )
                sister = self._company(
                    rng,
                    names=self._new_name(p1=p1),
                    phone=co.phone if rng.random() < 0.5 else _phone_digits(rng),
                    domain=co.domain if rng.random() < 0.5 else "",
                    thai=co.thai,
                )
                if not sister.domain:
                    sister.domain = (
                        "".join(ch for ch in sister.short_en.lower() if ch.isalnum())[:40]
                        + ".co.th"
                    )
                family.append(sister)
            for i, member in enumerate(family):
                kind = "original" if i == 0 else "branch" if member.branch != "00000" else "sister"
                origin = len(self.rows)
                row = self._row(member, self._next_code())
                self._add(row, member.entity, kind)
                if rng.random() < 0.25:  # shadow accounts of this one
                    for _ in range(rng.choices((1, 2, 3), weights=(6, 3, 1))[0]):
                        variant = rng.choice(VARIANTS)
                        self._add(
                            self.shadow(member, row, variant),
                            member.entity,
                            f"shadow:{variant}",
                            origin,
                        )
        del self.rows[accounts:], self.labels[accounts:], self.kinds[accounts:]
        del self.origin[accounts:]

    def _new_entity(self) -> int:
        self._entities += 1
        return self._entities


def replace_branch(co: Company) -> Company:
    """The company with its branch wording left out of the name (the wording is re-added)."""
    return Company(**{**co.__dict__, "branch": "00000"})


def _edit(rng: random.Random, text: str, how: str, thai: bool) -> str:
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    at = rng.choice(letters)
    alphabet = THAI_CONSONANTS if thai else "abcdefghijklmnopqrstuvwxyz"
    if how == "char_changed":
        new = rng.choice([c for c in alphabet if c != text[at].lower()])
        if text[at].isupper():
            new = new.upper()
        return text[:at] + new + text[at + 1 :]
    if how == "char_added":
        return text[:at] + rng.choice(alphabet) + text[at:]
    return text[:at] + text[at + 1 :]


# --- metrics ------------------------------------------------------------------------------


def _pairs(counts: Counter[Any]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def pairwise(
    labels: Sequence[int], clusters: Sequence[Any]
) -> tuple[float, float, float, int, int, int]:
    """Pairwise precision, recall and F1 of ``clusters`` against ``labels``; and the true,
    predicted and correctly predicted pair counts."""
    truth = _pairs(Counter(labels))
    predicted = _pairs(Counter(clusters))
    correct = _pairs(Counter(zip(labels, clusters, strict=True)))
    precision = correct / predicted if predicted else 1.0
    recall = correct / truth if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, truth, predicted, correct


def _ms(values: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50 * 1000, p95 * 1000


def _cpu() -> float:
    """CPU seconds of this process and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _load_average() -> float:
    return os.getloadavg()[0]


# --- batch --------------------------------------------------------------------------------


def to_fields(row: dict[str, str]) -> dict[str, str]:
    """A CSV-style row in Accord's field names (what ``accord dedupe`` maps it to)."""
    from accord.dataquality.management.commands.dedupe import ACCOUNT_COLUMNS

    return {ACCOUNT_COLUMNS.get(k, k): v for k, v in row.items()}


def run_batch(args: argparse.Namespace) -> int:
    from accord.dataquality.batch import MAX_BLOCK, WINDOW, cluster_records

    t0 = time.perf_counter()
    data = DataSet(args.accounts, seed=args.seed)
    gen_s = time.perf_counter() - t0
    kinds = Counter(k.split(":")[0] for k in data.kinds)
    print(
        f"Data set: {len(data.rows):,} accounts of {len(set(data.labels)):,} companies "
        f"({kinds['original']:,} originals, {kinds['branch']:,} branches, "
        f"{kinds['sister']:,} sister companies, {kinds['shadow']:,} shadows); "
        f"generated in {gen_s:.1f} s (seed {args.seed})"
    )
    ids = [f"r{i}" for i in range(len(data.rows))]
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            columns = ["record_id", "entity", "kind", *data.rows[0].keys()]
            writer.writerow(columns)
            for i, row in enumerate(data.rows):
                writer.writerow([ids[i], data.labels[i], data.kinds[i], *row.values()])
        print(f"Wrote {args.csv}")
    rows = [to_fields(r) for r in data.rows]
    cpu0, load = _cpu(), _load_average()
    t0 = time.perf_counter()
    result = cluster_records(
        "account",
        ids,
        rows,
        workers=args.workers or None,
        max_block=args.max_block or MAX_BLOCK,
        window=args.window or WINDOW,
    )
    wall = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    print(
        f"Batch clustering: {wall:.1f} s wall, {cpu:.1f} s CPU (this process and its workers; "
        f"load average before: {load:.1f}, after: {_load_average():.1f}; the wall time is "
        f"what the machine's other work left over) — {result.stats.summary()}"
    )
    precision, recall, f1, truth, predicted, correct = pairwise(data.labels, result.cluster_of)
    print(
        f"Pairwise precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f} "
        f"({correct:,} of {predicted:,} predicted pairs correct; {truth:,} true pairs)"
    )
    cluster = result.cluster_of
    print("Shadows joined to their original, per variant:")
    by_variant: dict[str, list[bool]] = {}
    for i, kind in enumerate(data.kinds):
        if kind.startswith("shadow:"):
            by_variant.setdefault(kind[7:], []).append(cluster[i] == cluster[data.origin[i]])
    caught = sum(sum(v) for v in by_variant.values())
    total = sum(len(v) for v in by_variant.values())
    for variant in VARIANTS:
        found = by_variant.get(variant, [])
        if found:
            print(
                f"  {variant:<16}{sum(found):>8,} / {len(found):<8,} {sum(found) / len(found):.2%}"
            )
    print(f"  {'all':<16}{caught:>8,} / {total:<8,} {caught / max(1, total):.2%}")
    # hard non-duplicates: a branch or sister in its family head's cluster
    head_of: dict[int, int] = {}
    wrong: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    last_original = -1
    for i, kind in enumerate(data.kinds):
        if kind == "original":
            last_original = i
        elif kind in ("branch", "sister") and last_original >= 0:
            seen[kind] += 1
            head_of[i] = last_original
            if cluster[i] == cluster[last_original]:
                wrong[kind] += 1
    for kind in ("branch", "sister"):
        print(
            f"Hard non-duplicates wrongly joined: {kind} {wrong[kind]:,} / {seen[kind]:,} "
            f"({wrong[kind] / max(1, seen[kind]):.2%})"
        )
    if args.explain:
        _explain(data, result, args.explain)
    return 0


def _explain(data: DataSet, result: Any, limit: int) -> None:
    """Print some missed shadows and some wrong joins."""
    cluster = result.cluster_of
    shown = 0
    for i, kind in enumerate(data.kinds):
        if kind.startswith("shadow:") and cluster[i] != cluster[data.origin[i]] and shown < limit:
            shown += 1
            print(
                f"  missed {kind}: {data.rows[data.origin[i]]['name']!r} / {data.rows[i]['name']!r}"
            )
    by_cluster: dict[int, list[int]] = {}
    for i, c in enumerate(cluster):
        by_cluster.setdefault(c, []).append(i)
    shown = 0
    for members in by_cluster.values():
        labels = {data.labels[m] for m in members}
        if len(labels) > 1 and shown < limit:
            shown += 1
            print(
                "  wrong join: "
                + " | ".join(f"{data.kinds[m]} {data.rows[m]['name']!r}" for m in members[:4])
            )


# --- real time ----------------------------------------------------------------------------


def _load(data: DataSet, rows: Sequence[int]) -> float:
    """Bulk-load ``data.rows[rows]`` as accounts, with the match keys the services store."""
    from django.db import transaction
    from django.utils import timezone

    from accord.core.models import new_id
    from accord.customers.models import Account, AccountStatus
    from accord.customers.services import account_search_text
    from accord.dataquality.normalize import company_name_key
    from bench.loader import (
        TableSpec,
        account_keys,
        analyze,
        make_writer,
        match_keys_write,
        prepare_connection,
    )

    spec = TableSpec(Account)
    writer = make_writer("auto", 5000)
    prepare_connection()
    now = timezone.now()
    t0 = time.perf_counter()
    for start in range(0, len(rows), 10_000):
        account_rows = []
        keys = []
        for i in rows[start : start + 10_000]:
            values: dict[str, Any] = {
                k: v for k, v in to_fields(data.rows[i]).items() if k in spec.defaults
            }
            values.update(
                id=new_id(),
                created_at=now,
                updated_at=now,
                branch_code=values.get("branch_code") or "00000",
                status=AccountStatus.ACTIVE,
            )
            values["search_text"] = account_search_text(spec.namespace(values))  # type: ignore[arg-type]
            values["name_key"] = company_name_key(values["legal_name"])[:255]
            account_rows.append(spec.row(values))
            keys += [(values["id"], key) for key in account_keys(values)]
        with transaction.atomic():
            writer.write(spec, account_rows)
            match_keys_write(keys)
        print(f"  loaded {min(start + 10_000, len(rows)):,}/{len(rows):,} accounts")
    analyze()  # fresh planner statistics, as after any bulk load
    return time.perf_counter() - t0


def run_realtime(args: argparse.Namespace) -> int:
    """Time the real-time check on shadows held out of a loaded data set."""
    setup_django()
    print(f"Database: {database_label()}")
    if not args.skip_migrate:
        migrate()
    from django.db.models import Q

    from accord.customers.models import Account
    from accord.dataquality import matching

    check: Callable[..., list[Any]] = matching.account_matches
    if args.candidate_limit:
        matching.CANDIDATE_LIMIT = args.candidate_limit
        print(f"CANDIDATE_LIMIT set to {args.candidate_limit:,} (diagnostic)")
    # The data set's originals, branches and sisters are loaded; its shadows are held out.
    data = DataSet(int(args.accounts * 1.45), seed=args.seed)
    loaded = [i for i, kind in enumerate(data.kinds) if not kind.startswith("shadow:")]
    loaded = loaded[: args.accounts]
    have = Account.objects.count()
    if have == 0:
        seconds = _load(data, loaded)
        print(f"Loaded {len(loaded):,} accounts with their match keys in {seconds:.0f} s")
    elif have < len(loaded):
        # A load that was stopped: its chunks were committed in order, so the first ``have``
        # rows are there. The check is timed against what is loaded.
        print(f"The database holds {have:,} of the {len(loaded):,} accounts: using those.")
        loaded = loaded[:have]
    is_loaded = set(loaded)
    shadows = [
        i
        for i, kind in enumerate(data.kinds)
        if kind.startswith("shadow:") and data.origin[i] in is_loaded
    ]
    rng = random.Random(args.seed)
    sample = rng.sample(shadows, min(args.samples, len(shadows)))
    codes = {data.rows[data.origin[i]]["customer_code"] for i in sample}
    id_of = dict(Account.objects.filter(customer_code__in=codes).values_list("customer_code", "id"))
    fields = ("legal_name", "tax_id", "branch_code", "phone", "email", "website")
    warm = to_fields(data.rows[data.origin[sample[0]]])
    for _ in range(10):
        matching.account_matches(user=None, data={"legal_name": warm["legal_name"]})
    timings: dict[str, list[float]] = {}
    hits: dict[str, list[bool]] = {}
    originals = [i for i in loaded if data.kinds[i] == "original" and data.rows[i]["tax_id"]]
    for i in sample:
        shadow = to_fields(data.rows[i])
        probe = {k: shadow[k] for k in fields if shadow.get(k)}
        t0 = time.perf_counter()
        found = check(user=None, data=probe)
        timings.setdefault("shadow", []).append(time.perf_counter() - t0)
        blocked = {c.id for c in found if c.decision == matching.BLOCK}
        hits.setdefault(data.kinds[i][7:], []).append(
            id_of[data.rows[data.origin[i]]["customer_code"]] in blocked
        )
        # hard non-duplicates: a new branch of a loaded company; a new sister company
        # (same group word, another business) sharing its switchboard and website
        head = to_fields(data.rows[rng.choice(originals)])
        number = rng.randrange(100, 999)
        branch = {
            "legal_name": head["legal_name"],
            "tax_id": head["tax_id"],
            "branch_code": f"{number:05d}",
            "phone": phone_text(_phone_digits(rng), 0),
        }
        first = _prefix_of(data, head["legal_name"])
        en, th = data._new_name(p1=first)
        thai = _is_thai(head["legal_name"])
        sister = {
            "legal_name": f"บริษัท {th} จำกัด" if thai else f"{en} Co., Ltd.",
            "phone": head["phone"],
            "website": head.get("website", ""),
        }
        for kind, probe in (("new branch", branch), ("sister company", sister)):
            t0 = time.perf_counter()
            found = check(user=None, data=probe)
            timings.setdefault(kind, []).append(time.perf_counter() - t0)
            hits.setdefault(kind, []).append(any(c.decision == matching.BLOCK for c in found))
    accounts = Account.objects.filter(~Q(status="merged")).count()
    print(
        f"Real-time check (account_matches) against {accounts:,} accounts, {len(sample):,} "
        "samples of each kind:"
    )
    for kind, values in timings.items():
        p50, p95 = _ms(values)
        print(
            f"  {kind:<16} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   max {max(values) * 1000:6.1f} ms"
        )
    caught = sum(sum(v) for k, v in hits.items() if k in VARIANTS)
    total = sum(len(v) for k, v in hits.items() if k in VARIANTS)
    print(
        f"Shadow variants caught (the original is a block candidate): {caught:,} / {total:,} "
        f"({caught / max(1, total):.2%})"
    )
    for variant in VARIANTS:
        if variant in hits:
            found_v = hits[variant]
            print(
                f"  {variant:<16}{sum(found_v):>6} / {len(found_v):<6} "
                f"{sum(found_v) / len(found_v):.2%}"
            )
    for kind in ("new branch", "sister company"):
        found_k = hits[kind]
        print(
            f"Hard non-duplicates wrongly blocked, {kind}: {sum(found_k)} / {len(found_k)} "
            f"({sum(found_k) / len(found_k):.2%})"
        )
    return 0


def _prefix_of(data: DataSet, name: str) -> int | None:
    """The index of the group word a generated name starts with."""
    for form in ("บริษัท ", "บจก. ", "ห้างหุ้นส่วนจำกัด "):
        name = name.removeprefix(form)
    for n, (en, th) in enumerate(data.prefixes):
        if name.startswith(en + " ") or name.startswith(th):
            return n
    return None


def _is_thai(text: str) -> bool:
    return any("\u0e00" <= ch <= "\u0e7f" for ch in text)


# --- entry point --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dedupe", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("mode", nargs="?", choices=("batch", "realtime"), default="batch")
    parser.add_argument(
        "--accounts",
        type=int,
        default=100_000,
        help="batch: rows to generate; realtime: accounts the database should hold",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--workers", type=int, default=0, help="batch: processes (default: all cores from 20k rows)"
    )
    parser.add_argument("--window", type=int, default=0, help="batch: sorted-block window")
    parser.add_argument("--max-block", type=int, default=0, help="batch: all-pairs block size")
    parser.add_argument("--csv", help="batch: also write the labelled data set to this CSV file")
    parser.add_argument(
        "--explain", type=int, default=0, help="batch: print this many misses and wrong joins"
    )
    parser.add_argument("--samples", type=int, default=1000, help="realtime: samples of each kind")
    parser.add_argument(
        "--candidate-limit",
        type=int,
        default=0,
        help="realtime: override matching.CANDIDATE_LIMIT (a diagnostic: how much the cap "
        "on key candidates costs)",
    )
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument("--skip-migrate", action="store_true")
    args = parser.parse_args(argv)
    if args.mode == "realtime":
        return run_realtime(args)
    setup_django()
    return run_batch(args)


if __name__ == "__main__":
    sys.exit(main())
