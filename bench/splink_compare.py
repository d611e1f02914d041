"""The batch duplicate benchmark's data set linked with Splink, for a same-run comparison.

    python -m bench.dedupe --accounts 100000 --csv data.csv   # Accord's figures + the CSV
    <splink-python> bench/splink_compare.py --csv data.csv     # Splink's on the same rows

Splink is not a dependency of Accord: run this file with the interpreter of a separate
virtual environment holding ``splink>=4,<5`` and ``duckdb`` (``bench/README.md``, "Comparison
with Splink"). It reads the labelled CSV that ``bench.dedupe --csv`` writes and links it the
way a Splink user would, with the DuckDB backend:

* names are normalised (NFKC, lower case, punctuation to spaces, branch and head-office
  wording taken out, English and Thai legal forms stripped); phones reduced to national
  digits, tax IDs to digits, e-mail addresses folded, websites reduced to their host, branch
  numbers to an integer (head office 0, also read from the name's wording when the column
  is empty); empty values are NULL;
* predictions are blocked on the normalised name; the first 14 characters of the name
  without spaces; its first character and last 16; the phone, the tax ID, the e-mail address
  and the website (an empty value blocks nothing);
* the comparisons read the same fields as Accord's rules: the name (exact, exact without
  spaces, Jaro ≥ 0.97 / 0.93 / 0.88 / 0.8 on a one-byte-per-character transcription, see
  ``one_byte``), tax ID, branch and phone exact, e-mail and website as one comparison (both,
  the e-mail, the website exact), customer code exact or one edit apart;
* the prior comes from deterministic rules, u from random sampling (10 million pairs), m
  from expectation maximisation on two blocking rules (the phone; the normalised name and
  the branch);
* pairs are predicted down to match probability 0.01 and clustered (connected components)
  at the match weight with the best pairwise F1 — found by sweeping thresholds against the
  labels, which is an oracle choice a user without labels could not make.

Prints the wall time of each stage, the pairwise precision / recall / F1 against the
``entity`` labels (``bench.dedupe.pairwise``), the shadows joined to their original, the
hard non-duplicates wrongly joined, and the time to match one new record against the
linked table (``find_matches_to_new_records``, p50 over 20 records).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dedupe import pairwise  # the standard library only, at import time

HEAD_CHARS = 14  # name blocks: the first 14 characters of the name without spaces;
TAIL_CHARS = 16  # the first character and the last 16
PREDICT_THRESHOLD = 0.01  # match probability kept by predict(); the sweep starts there
FIELDS = (
    *("name_norm", "name_key", "name_sim", "name_head", "name_first", "name_tail"),
    *("tax_id", "branch", "phone", "email", "website", "customer_code"),
)

# --- normalisation ------------------------------------------------------------------------


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


_HEAD_OFFICE = re.compile(_nfkc(r"(สำนักงานใหญ่|head office|\bhq\b)"))
_BRANCH = re.compile(_nfkc(r"(\bbranch(\s*no\.?)?|สาขา(ที่)?)\s*(\d+)"))
_PUNCTUATION = re.compile(r"[^\w\s\u0e00-\u0e7f]|_")
_SPACES = re.compile(r"\s+")
_EN_FORMS = frozenset(
    {"co", "ltd", "company", "limited", "public", "pcl", "plc", "inc", "corp"}
    | {"part", "partnership", "l", "p", "lp"}
)
_TH_LEADING = tuple(
    _nfkc(f) for f in ("ห้างหุ้นส่วนจำกัด", "ห้างหุ้นส่วน", "บริษัท", "บจก", "บมจ", "หจก", "จำกัด")
)
_TH_TRAILING = re.compile(_nfkc(r"\s*(จำกัด\s*มหาชน|มหาชน|จำกัด|(?:^|\s)จก)$"))
_TH_B = _nfkc("บ ")  # "บ." once the full stop is a space


def company_name(raw: str) -> tuple[str, str | None]:
    """The name without case, punctuation, legal form or branch wording; and the branch
    number its wording gives ("0" for head office), if any."""
    name = _nfkc(raw).lower()
    branch = None
    found = _BRANCH.search(name)
    if found:
        branch = str(int(found.group(4)))
        name = name[: found.start()] + " " + name[found.end() :]
    elif _HEAD_OFFICE.search(name):
        branch = "0"
        name = _HEAD_OFFICE.sub(" ", name)
    name = _SPACES.sub(" ", _PUNCTUATION.sub(" ", name)).strip()
    changed = True
    while changed and name:
        changed = False
        for form in _TH_LEADING:
            if name.startswith(form):
                name, changed = name[len(form) :].lstrip(), True
        if name.startswith(_TH_B):
            name, changed = name[2:], True
        stripped = _TH_TRAILING.sub("", name).rstrip()
        if stripped != name:
            name, changed = stripped, True
        words = name.split(" ")
        while len(words) > 1 and words[-1] in _EN_FORMS:
            words.pop()
            changed = True
        name = " ".join(words)
    return name, branch


# DuckDB's jaro_similarity and levenshtein count UTF-8 bytes, not characters: a Thai letter is
# three bytes, two of them (E0 B8 / E0 B9) shared by every Thai letter, so two unrelated Thai
# names look alike and one letter left out is three edits. The distances are taken on a
# transcription with one byte per character: each Thai code point becomes an ASCII character
# that is not a digit, a lower-case letter or a space (what English keys are made of).
_ONE_BYTE = [chr(c) for c in range(1, 128) if not chr(c).isdigit() and not chr(c).islower()]
_ONE_BYTE.remove(" ")
_THAI_TO_ASCII = {
    code: _ONE_BYTE[n]
    for n, code in enumerate(c for c in range(0x0E01, 0x0E5C) if unicodedata.name(chr(c), ""))
}


def one_byte(key: str) -> str:
    """The name key with one byte per character, for DuckDB's string distances."""
    return key.translate(_THAI_TO_ASCII)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def phone_digits(raw: str) -> str:
    digits = _digits(raw)
    if digits.startswith("66") and len(digits) >= 10:
        digits = "0" + digits[2:]
    return digits


def website_host(raw: str) -> str:
    host = raw.strip().lower()
    for prefix in ("https://", "http://", "www."):
        host = host.removeprefix(prefix)
    return host.split("/")[0]


def prepare(row: dict[str, str]) -> dict[str, Any]:
    """The columns Splink links on, from one CSV row (empty values as None)."""
    name, branch_in_name = company_name(row["name"])
    key = name.replace(" ", "")
    branch = _digits(row["branch"])
    values = {
        "record_id": row["record_id"],
        "name_norm": name,
        "name_key": key,
        "name_sim": one_byte(key),
        "name_head": key[:HEAD_CHARS],
        "name_first": key[:1],
        "name_tail": key[-TAIL_CHARS:],
        "tax_id": _digits(row["tax_id"]),
        "branch": str(int(branch)) if branch else branch_in_name,
        "phone": phone_digits(row["phone"]),
        "email": row["email"].strip().lower(),
        "website": website_host(row["website"]),
        "customer_code": row["customer_code"].strip().upper(),
    }
    return {k: (v or None) for k, v in values.items()}


# --- the Splink model ---------------------------------------------------------------------


def settings() -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_norm"),
            cll.ExactMatchLevel("name_norm"),
            cll.ExactMatchLevel("name_key"),
            *(cll.JaroLevel("name_sim", t) for t in (0.97, 0.93, 0.88, 0.8)),
            cll.ElseLevel(),
        ],
    )
    # The e-mail address and the website are one comparison: both are made from the
    # company's domain, so two levels of one comparison, not two independent pieces of
    # evidence.
    web = cl.CustomComparison(
        output_column_name="email_website",
        comparison_levels=[
            cll.And(cll.NullLevel("email"), cll.NullLevel("website")),
            cll.And(cll.ExactMatchLevel("email"), cll.ExactMatchLevel("website")),
            cll.ExactMatchLevel("email"),
            cll.ExactMatchLevel("website"),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            name,
            cl.ExactMatch("tax_id"),
            cl.ExactMatch("branch"),
            cl.ExactMatch("phone"),
            web,
            cl.LevenshteinAtThresholds("customer_code", [1]),
        ],
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def blocking_rules() -> list[Any]:
    from splink import block_on

    return [
        block_on("name_norm"),
        block_on("name_head"),
        block_on("name_first", "name_tail"),
        *(block_on(c) for c in ("phone", "tax_id", "email", "website")),
    ]


# --- evaluation ---------------------------------------------------------------------------


def sweep(
    n: int,
    labels: Sequence[int],
    edges: Sequence[tuple[float, int, int]],
    thresholds: Sequence[float],
) -> list[tuple[float, float, float, float]]:
    """(threshold, precision, recall, F1) of the connected components of the edges whose
    match weight is at least each threshold — one pass, adding edges from the strongest."""
    parent = list(range(n))
    members: list[Counter[int] | None] = [Counter((label,)) for label in labels]
    truth = sum(c * (c - 1) // 2 for c in Counter(labels).values())
    predicted = correct = 0

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    out = []
    ordered = sorted(edges, reverse=True)
    at = 0
    for threshold in sorted(thresholds, reverse=True):
        while at < len(ordered) and ordered[at][0] >= threshold:
            _w, a, b = ordered[at]
            at += 1
            ra, rb = root(a), root(b)
            if ra == rb:
                continue
            ca, cb = members[ra], members[rb]
            assert ca is not None and cb is not None
            if sum(ca.values()) < sum(cb.values()):
                ra, rb, ca, cb = rb, ra, cb, ca
            predicted += sum(ca.values()) * sum(cb.values())
            correct += sum(count * ca[label] for label, count in cb.items())
            ca.update(cb)
            parent[rb], members[rb] = ra, None
        precision = correct / predicted if predicted else 1.0
        recall = correct / truth if truth else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append((threshold, precision, recall, f1))
    return sorted(out)


def probability(weight: float) -> float:
    return 2**weight / (1 + 2**weight)


# --- the run ------------------------------------------------------------------------------


class Stages:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - t0
        print(f"  {name}: {self.seconds[name]:.1f} s", flush=True)


def run(args: argparse.Namespace) -> int:
    import duckdb
    import pandas as pd
    import splink
    from splink import DuckDBAPI, Linker, block_on

    load_before = os.getloadavg()[0]
    print(f"Splink {splink.__version__}, DuckDB {duckdb.__version__}; load average {load_before}")
    stage = Stages()
    with stage("read CSV"), open(args.csv, newline="", encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    labels = [int(r["entity"]) for r in raw]
    kinds = [r["kind"] for r in raw]
    index = {r["record_id"]: i for i, r in enumerate(raw)}
    with stage("normalise"):
        df = pd.DataFrame([prepare(r) for r in raw], columns=["record_id", *FIELDS])
    print(f"{len(df):,} rows of {len(set(labels)):,} companies")

    with tempfile.TemporaryDirectory(prefix="splink-") as tmp:
        con = duckdb.connect(os.path.join(tmp, "linkage.duckdb"))
        con.execute(f"SET temp_directory = '{os.path.join(tmp, 'spill')}'")
        if args.threads:
            con.execute(f"SET threads = {args.threads}")
        with stage("linker"):
            linker = Linker(df, settings(), db_api=DuckDBAPI(connection=con))
        with stage("train: prior"):
            linker.training.estimate_probability_two_random_records_match(
                [
                    block_on("name_norm", "phone"),
                    block_on("name_norm", "tax_id", "branch"),
                ],
                recall=0.6,
            )
        with stage("train: u by random sampling"):
            linker.training.estimate_u_using_random_sampling(max_pairs=args.u_pairs, seed=1)
        with stage("train: m by EM (phone; name and branch)"):
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on("phone"), estimate_without_term_frequencies=True
            )
            # Not the name alone: a company's branches share its name, tax ID and domain,
            # and in a session blocked on the name EM can take them for one entity and learn
            # that another branch number is no evidence (it did at 1M).
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on("name_norm", "branch"), estimate_without_term_frequencies=True
            )
        print_weights(linker.misc.save_model_to_json())
        with stage("predict"):
            predictions = linker.inference.predict(threshold_match_probability=PREDICT_THRESHOLD)
            scored = con.execute(
                f"SELECT match_weight, record_id_l, record_id_r FROM {predictions.physical_name}"
            ).fetchall()
        print(f"{len(scored):,} pairs with match probability ≥ {PREDICT_THRESHOLD}")

        t0 = time.perf_counter()
        edges = [(w, index[a], index[b]) for w, a, b in scored]
        lowest = math.floor(math.log2(PREDICT_THRESHOLD / (1 - PREDICT_THRESHOLD)))
        grid = [x / 2 for x in range(2 * lowest, 2 * 40 + 1)]
        results = sweep(len(raw), labels, edges, grid)
        best = max(results, key=lambda r: (r[3], r[0]))
        print(
            f"Threshold sweep (not part of the pipeline's time): {time.perf_counter() - t0:.1f} s"
        )
        for threshold, p, r, f in results:
            if threshold in (0, 5, 10, 15, 20, 25) or threshold == best[0]:
                print(
                    f"  match weight ≥ {threshold:5.1f} (probability {probability(threshold):.6f}):"
                    f" precision {p:.4f}, recall {r:.4f}, F1 {f:.4f}"
                )
        threshold = best[0]
        print(
            f"Best F1 at match weight ≥ {threshold} (match probability ≥ "
            f"{probability(threshold):.6f})"
        )

        with stage("cluster"):
            clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_weight=threshold
            )
            cluster_rows = con.execute(
                f"SELECT record_id, cluster_id FROM {clusters.physical_name}"
            ).fetchall()
        total = sum(stage.seconds.values())
        cluster_of: list[Any] = [None] * len(raw)
        for record_id, cluster_id in cluster_rows:
            cluster_of[index[record_id]] = cluster_id
        for i, c in enumerate(cluster_of):
            if c is None:
                cluster_of[i] = f"single:{i}"
        print(
            f"Splink: {total:.1f} s wall in all (reading and normalising the CSV, training, "
            f"predicting, clustering; load average before {load_before:.1f}, after "
            f"{os.getloadavg()[0]:.1f})"
        )
        precision, recall, f1, truth, predicted, correct = pairwise(labels, cluster_of)
        print(
            f"Pairwise precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f} "
            f"({correct:,} of {predicted:,} predicted pairs correct; {truth:,} true pairs)"
        )
        report_joins(kinds, cluster_of)
        if args.explain:
            explain(raw, labels, cluster_of, edges, threshold, args.explain)

        # One new record against the linked table.
        rng = random.Random(1)
        shadows = [i for i, k in enumerate(kinds) if k.startswith("shadow:")]
        probes = rng.sample(shadows, 21)
        timings, found = [], 0
        for n, i in enumerate(probes):
            t0 = time.perf_counter()
            record = prepare({**raw[i], "record_id": f"new{n}"})
            matches = linker.inference.find_matches_to_new_records(
                [record], blocking_rules=blocking_rules(), match_weight_threshold=threshold
            ).as_record_dict()
            elapsed = time.perf_counter() - t0
            if n == 0:
                continue  # the first call also builds the table the others reuse
            timings.append(elapsed)
            ids = {m["record_id_l"] for m in matches} - {raw[i]["record_id"]}
            found += any(labels[index[x]] == labels[i] for x in ids)
        timings.sort()
        print(
            f"One new record (a shadow's row) matched against the {len(raw):,} records "
            f"(find_matches_to_new_records, the same blocking rules, match weight ≥ "
            f"{threshold}): p50 {statistics.median(timings) * 1000:.0f} ms, max "
            f"{timings[-1] * 1000:.0f} ms over {len(timings)} records; another record of the "
            f"same company found for {found} of {len(timings)}"
        )
        con.close()
    return 0


def print_weights(model: dict[str, Any]) -> None:
    """The trained model: the match weight of each comparison level."""
    prior = model["probability_two_random_records_match"]
    print(f"Trained model: prior {prior:.3g} (match weight {math.log2(prior / (1 - prior)):.2f})")
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = f"{math.log2(m / u):7.2f}" if m and u else "   n/a "
            print(f"  {weight}  {comparison['output_column_name']}: {level['label_for_charts']}")


def report_joins(kinds: Sequence[str], cluster_of: Sequence[Any]) -> None:
    """Shadows in their original's cluster; branches and sisters wrongly in their family
    head's cluster — the rows are in the generator's order, as ``bench.dedupe`` counts them."""
    last_member = last_original = -1
    shadows = caught = 0
    wrong: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for i, kind in enumerate(kinds):
        if kind.startswith("shadow:"):
            shadows += 1
            caught += cluster_of[i] == cluster_of[last_member]
            continue
        last_member = i
        if kind == "original":
            last_original = i
        elif kind in ("branch", "sister") and last_original >= 0:
            seen[kind] += 1
            wrong[kind] += cluster_of[i] == cluster_of[last_original]
    print(f"Shadows joined to their original: {caught:,} / {shadows:,} ({caught / shadows:.2%})")
    for kind in ("branch", "sister"):
        print(
            f"Hard non-duplicates wrongly joined: {kind} {wrong[kind]:,} / {seen[kind]:,} "
            f"({wrong[kind] / max(1, seen[kind]):.2%})"
        )


def explain(
    raw: Sequence[dict[str, str]],
    labels: Sequence[int],
    cluster_of: Sequence[Any],
    edges: Sequence[tuple[float, int, int]],
    threshold: float,
    limit: int,
) -> None:
    """Print some wrongly joined pairs (above the threshold) and missed ones (below it)."""

    def show(w: float, a: int, b: int) -> str:
        return (
            f"{w:6.2f}  {raw[a]['kind']} {raw[a]['name']!r} | {raw[b]['kind']} {raw[b]['name']!r}"
        )

    wrong = [e for e in edges if e[0] >= threshold and labels[e[1]] != labels[e[2]]]
    missed = [
        e
        for e in edges
        if e[0] < threshold
        and labels[e[1]] == labels[e[2]]
        and cluster_of[e[1]] != cluster_of[e[2]]
    ]
    print(f"Wrong joins (pairs above the threshold, {len(wrong):,}):")
    for e in random.Random(2).sample(wrong, min(limit, len(wrong))):
        print("  " + show(*e))
    print(f"Missed (true pairs scored below the threshold and left apart, {len(missed):,}):")
    for e in random.Random(2).sample(missed, min(limit, len(missed))):
        print("  " + show(*e))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", required=True, help="the CSV written by bench.dedupe --csv")
    parser.add_argument("--u-pairs", type=float, default=1e7, help="pairs sampled for u")
    parser.add_argument(
        "--explain", type=int, default=0, help="print this many wrong joins and misses"
    )
    parser.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all)")
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
