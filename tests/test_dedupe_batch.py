"""The batch clustering engine: the same features, keys and rules as the real-time check."""

from __future__ import annotations

import bisect
import gc
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.core.thai import tax_id_with_check_digit
from accord.dataquality import batch, candidates, matching
from accord.dataquality.batch import ClusterFound, cluster_records, default_rules
from accord.dataquality.models import MatchRule, MatchThreshold, RecordType
from accord.dataquality.normalize import NameParts, phones_e164

TAX = tax_id_with_check_digit("010555123456")
TAX_2 = tax_id_with_check_digit("010555765432")


def _cluster(rows: list[dict[str, Any]], **kwargs: Any) -> dict[str, str]:
    ids = [str(r.pop("id")) for r in rows]
    result = cluster_records("account", ids, rows, **kwargs)
    return dict(zip(ids, result.cluster_ids(), strict=True))


def _together(found: dict[str, str], *ids: str) -> bool:
    return len({found[i] for i in ids}) == 1


SHADOWS = [
    {"id": "orig", "legal_name": "Siam Trading Co., Ltd.", "tax_id": TAX, "phone": "02-123-4567"},
    {"id": "space", "legal_name": "Siam Trad ing Co., Ltd."},
    {"id": "changed", "legal_name": "Siam Tradinq Co., Ltd."},
    {"id": "added", "legal_name": "Siam Tradings Co., Ltd."},
    {"id": "removed", "legal_name": "Siam Trding Co., Ltd."},
    {"id": "suffix", "legal_name": "Siam Trading Company Limited"},
    {"id": "corp", "legal_name": "Siam Trading Corp."},
    {"id": "case", "legal_name": "SIAM TRADING CO LTD"},
    {"id": "punct", "legal_name": "Siam-Trading Co.,Ltd"},
    {"id": "hq", "legal_name": "Siam Trading Co., Ltd. (Head Office)"},
    {"id": "phone", "legal_name": "Siam Trading", "phone": "+66 2 123 4567"},
    {"id": "tax", "legal_name": "S.T. Group", "tax_id": TAX},
]
THAI = [
    {"id": "th", "legal_name": "บริษัท สยามน้ำทอง จำกัด", "phone": "081-234-5678"},
    {"id": "th_am", "legal_name": "บริษัท สยามน\u0e49\u0e4d\u0e32ทอง จำกัด"},
    {"id": "th_abbrev", "legal_name": "บจก. สยามน้ำทอง"},
    {"id": "th_pcl", "legal_name": "บมจ.สยามน้ำทอง", "phone": "0812345678"},
    {"id": "th_hq", "legal_name": "บริษัท สยามน้ำทอง จำกัด (สำนักงานใหญ่)"},
]
NOT_DUPLICATES = [
    # branches of one company: same name and tax ID, other branch numbers
    {
        "id": "hq2",
        "legal_name": "Chokchai Steel Co., Ltd.",
        "tax_id": TAX_2,
        "branch_code": "00000",
    },
    {
        "id": "br1",
        "legal_name": "Chokchai Steel Co., Ltd.",
        "tax_id": TAX_2,
        "branch_code": "00001",
    },
    {"id": "br2", "legal_name": "Chokchai Steel Co., Ltd. Branch 2", "tax_id": TAX_2},
    # sister companies sharing a switchboard and a website
    {"id": "sis1", "legal_name": "Lanna Logistics Co., Ltd.", "phone": "053-111-222"},
    {"id": "sis2", "legal_name": "Lanna Foods Co., Ltd.", "phone": "053-111-222"},
    # common words, numbers chosen on purpose
    {"id": "num1", "legal_name": "Thai Packaging 1 Co., Ltd."},
    {"id": "num2", "legal_name": "Thai Packaging 2 Co., Ltd."},
    {"id": "common", "legal_name": "Thai Packaging Group Co., Ltd."},
]


def test_shadow_variants_join_their_original() -> None:
    found = _cluster([dict(r) for r in SHADOWS + THAI + NOT_DUPLICATES])
    assert _together(found, *(r["id"] for r in SHADOWS))
    assert _together(found, *(r["id"] for r in THAI))
    assert found["orig"] != found["th"]
    # hard non-duplicates stay apart
    for record in NOT_DUPLICATES:
        others = [r["id"] for r in NOT_DUPLICATES if r["id"] != record["id"]]
        assert all(found[record["id"]] != found[o] for o in others), record["id"]


def test_cluster_ids_and_clusters() -> None:
    rows: list[dict[str, Any]] = [
        {"legal_name": "Lotus Paper Co., Ltd."},
        {"legal_name": "Kasem Motors Co., Ltd."},
        {"legal_name": "LOTUS PAPER COMPANY LIMITED"},
        {"legal_name": "Kasem Motor Co., Ltd."},
        {"legal_name": "Andaman Seafood Co., Ltd."},
    ]
    ids = ["a", "b", "c", "d", "e"]
    result = cluster_records("account", ids, rows)
    # a record in no cluster is its own; a cluster is named after its first record
    assert result.cluster_ids() == ["a", "b", "a", "b", "e"]
    clusters = sorted(result.clusters(), key=lambda c: c.member_ids)
    assert clusters == [
        ClusterFound(("a", "c"), (("a", "c", 1.0, ("same name",)),)),
        ClusterFound(("b", "d"), (("b", "d", 0.952, ("name differs by one character",)),)),
    ]
    assert result.stats.clusters == 2
    assert result.stats.clustered_records == 4


def test_customer_code_is_evidence_only_when_equal() -> None:
    found = _cluster(
        [
            {"id": "1", "legal_name": "Golden Rice Co., Ltd.", "customer_code": "C000000123"},
            {"id": "2", "legal_name": "Ocean Tiles Co., Ltd.", "customer_code": "c000000123 "},
            {"id": "3", "legal_name": "Metro Cement Co., Ltd.", "customer_code": "C000000124"},
        ]
    )
    assert _together(found, "1", "2")
    assert found["3"] == "3"


def test_the_reasons_and_scores_are_the_real_time_checks() -> None:
    rows = [dict(r) for r in SHADOWS]
    ids = [str(r.pop("id")) for r in rows]
    result = cluster_records("account", ids, rows)
    rules = default_rules("account")
    features = {i: batch.record_features("account", r) for i, r in zip(ids, rows, strict=True)}
    assert result.pairs
    for left, right, value, reasons in result.pairs:
        expected = matching.score(features[left], features[right], rules)
        assert (value, list(reasons)) == expected
        assert value >= rules.block


def _random_account(rng: random.Random) -> dict[str, Any]:
    names = ["Siam Trading", "Siam Tradinq", "Siam Logistics", "สยามน้ำทอง", "Thai Steel 2"]
    forms = ["Co., Ltd.", "", "PCL", "Corp.", "Branch 3", "(Head Office)"]
    return {
        "legal_name": f"{rng.choice(names)} {rng.choice(forms)}",
        "tax_id": rng.choice(["", TAX, TAX_2]),
        "branch_code": rng.choice(["", "00000", "00002"]),
        "phone": rng.choice(["", "02-123-4567", "021234567", "081 234 5678"]),
        "email": rng.choice(["", "a@siam.co.th", "b@gmail.com"]),
        "website": rng.choice(["", "www.siam.co.th"]),
    }


def _score_by_definition(
    a: matching.Features, b: matching.Features, rules: matching.Rules
) -> tuple[float, list[str]]:
    """Every condition of every rule asked on its own; a rule counts when all of them hold."""
    held = []
    for _name, conditions in rules.rules:
        answers = [(c, *matching._condition(c, a, b)) for c in conditions]
        if all(sim > 0 for _c, sim, _reason in answers):
            total = min(1.0, sum(float(c.get("weight", 0)) * sim for c, sim, _r in answers))
            held.append((total, [reason for _c, _sim, reason in answers if reason]))
    best = max((total for total, _reasons in held), default=0.0)
    ordered = sorted(held, key=lambda h: -h[0])
    reasons = [r for total, found in ordered if total >= rules.warn for r in found]
    return round(best, 3), list(dict.fromkeys(reasons))


def test_score_asks_each_condition_once_and_answers_the_same() -> None:
    rng = random.Random(7)
    for rules in (default_rules("account"), OTHER_RULES):
        for _ in range(400):
            a = batch.record_features("account", _varied_account(rng))
            b = batch.record_features("account", _varied_account(rng))
            assert matching.score(a, b, rules) == _score_by_definition(a, b, rules)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["0", "+66", "+66 ", "66", "+1 ", ""]),
    st.text(alphabet="0123456789", min_size=7, max_size=11),
    st.sampled_from(["-", " ", "", ".", ") ", "/", " ext. "]),
    st.integers(min_value=1, max_value=6),
)
def test_fast_phones_agree_with_phonenumbers(head: str, digits: str, sep: str, at: int) -> None:
    text = head + digits[:at] + sep + digits[at:]
    assert batch.phones(text) == phones_e164(text)


def test_features_are_the_matching_features() -> None:
    row = {
        "legal_name": "บริษัท สยามน้ำทอง จำกัด สาขาที่ 2",
        "tax_id": TAX,
        "phone": "(02) 123-4567",
        "email": "sales@siam.co.th",
        "website": "https://siam.co.th/th",
    }
    assert batch.record_features("account", row) == matching.account_features(
        matching.dict_getter(row)
    )
    contact = {"first_name": "Somchai", "last_name": "Jaidee", "phone": "081-111-2222"}
    contact |= {"mobile": "+66 81 333 4444", "email": "s@x.co.th", "account": "acc-1"}
    assert batch.record_features("contact", contact) == matching.contact_features(
        matching.dict_getter(contact)
    )


def test_oversized_blocks_are_walked_not_compared_all_against_all() -> None:
    """Forty companies share a name start (one oversized block); each shadow still finds
    its original, and far fewer pairs are scored than all against all."""
    cores = [
        "Alpha", "Bravo", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Indigo",
        "Jasmine", "Kestrel", "Lumen", "Marble", "Nimbus", "Onyx", "Pioneer", "Quartz",
        "Raven", "Sierra", "Topaz",
    ]  # fmt: skip
    rows: list[dict[str, Any]] = []
    ids: list[str] = []
    for i, core in enumerate(cores):
        for j, phone in enumerate(("02-200-1000", "02-200-2000")):
            name = f"Siamchai {core} {('Works', 'Logistics')[j]}"
            ids += [f"{i}-{j}", f"{i}-{j}-shadow"]
            rows += [
                {"legal_name": f"{name} Co., Ltd.", "phone": phone},
                {"legal_name": f"{name}s Co., Ltd."},
            ]
    result = cluster_records("account", ids, rows, max_block=5, window=2)
    found = dict(zip(ids, result.cluster_ids(), strict=True))
    for i in range(len(cores)):
        for j in range(2):
            assert found[f"{i}-{j}"] == found[f"{i}-{j}-shadow"]
            assert found[f"{i}-{j}"] != found[f"{i}-{1 - j}"]
    assert result.stats.oversized_blocks >= 1
    assert result.stats.candidate_pairs < len(rows) * (len(rows) - 1) // 2 // 4


def test_workers_give_the_same_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    rows = [_varied_account(rng) for _ in range(300)]
    ids = [f"r{i}" for i in range(len(rows))]
    one = cluster_records("account", ids, rows, workers=1, max_block=5, window=2)
    # every stage in two processes, however small the input
    monkeypatch.setattr(batch, "PARALLEL_MIN_RECORDS", 0)
    monkeypatch.setattr(batch, "PARALLEL_MIN_PAIRS", 0)
    two = cluster_records("account", ids, rows, workers=2, max_block=5, window=2)
    assert one.stats.candidate_pairs == two.stats.candidate_pairs
    assert one.stats.oversized_blocks == two.stats.oversized_blocks > 0
    assert one.cluster_of == two.cluster_of
    assert sorted(one.pairs) == sorted(two.pairs)
    assert two.stats.workers == 2


def test_progress_is_reported_per_stage() -> None:
    seen: list[tuple[str, int, int]] = []
    rows = [dict(r) for r in SHADOWS]
    ids = [str(r.pop("id")) for r in rows]
    cluster_records("account", ids, rows, progress=lambda *a: seen.append(a))
    assert ("features", len(rows), len(rows)) in seen
    # the pairs stage counts the candidate pairs it has been through
    pairs = [(done, total) for stage, done, total in seen if stage == "pairs"]
    assert pairs[0] == (0, pairs[-1][1])
    assert pairs[-1][0] == pairs[-1][1] > 0


def test_contacts_cluster_on_their_rules() -> None:
    rows: list[dict[str, Any]] = [
        {"first_name": "Somchai", "last_name": "Jaidee", "email": "somchai@siam.co.th"},
        {"first_name": "Somchay", "last_name": "Jaidee", "email": "SOMCHAI@siam.co.th"},
        {"first_name": "Somchai", "last_name": "Jaidee", "account": "A"},
        {"first_name": "Somchai", "last_name": "Jaidees", "account": "A"},
        {"first_name": "Somchai", "last_name": "Jaidee", "account": "B"},
    ]
    result = cluster_records("contact", ["1", "2", "3", "4", "5"], rows)
    assert result.cluster_ids() == ["1", "1", "3", "3", "5"]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="record_type"):
        cluster_records("lead", [], [])
    with pytest.raises(ValueError, match="length"):
        cluster_records("account", ["a"], [])


# --- the rules: one source, the administrator's when there is a database --------------------


@pytest.mark.django_db
@pytest.mark.parametrize("record_type", [RecordType.ACCOUNT, RecordType.CONTACT])
def test_default_rules_are_what_the_migration_seeds(record_type: RecordType) -> None:
    assert default_rules(record_type) == matching.rules_for(record_type)
    assert batch.rules_or_defaults(record_type) == (default_rules(record_type), "database")


@pytest.mark.django_db
def test_the_administrators_rules_are_used() -> None:
    MatchRule.objects.filter(record_type="account", name="Similar name, same branch").update(
        is_active=False
    )
    MatchThreshold.objects.filter(record_type="account").update(block=0.95)
    rules, where = batch.rules_or_defaults("account")
    assert where == "database"
    assert rules.block == 0.95
    rows: list[dict[str, Any]] = [
        {"legal_name": "Siam Trading Co., Ltd."},
        {"legal_name": "SIAM TRADING COMPANY LIMITED"},
    ]
    assert cluster_records("account", ["a", "b"], rows, rules=rules).stats.clusters == 0
    assert cluster_records("account", ["a", "b"], rows).stats.clusters == 1


# --- tiered key retrieval for the real-time check (measured by bench/dedupe.py) -------------


@pytest.mark.django_db
def test_candidate_ids_put_the_telling_keys_first(org: Any, monkeypatch: Any) -> None:
    """With crowded name halves and a small candidate limit, the account with the same name
    and the one a character off after the middle are still among the candidates."""
    from tests.conftest import make_account

    monkeypatch.setattr(matching, "HALF_KEY_LIMIT", 2)
    cores = ["Alpha", "Bravo", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor"]
    made = {
        core: make_account(org, legal_name=f"Siamchai {core} Consulting Co., Ltd.")
        for core in cores
    }
    probe = matching.account_features(
        matching.dict_getter({"legal_name": "Siamchai Granite Consultinq"})
    )
    keys = matching.account_match_keys(probe, probe=True)
    ids = matching.account_candidate_ids(keys, limit=3)
    assert made["Granite"].pk in ids
    exact = matching.account_features(
        matching.dict_getter({"legal_name": "SIAMCHAI HARBOR CONSULTING"})
    )
    ids = matching.account_candidate_ids(matching.account_match_keys(exact, probe=True), limit=1)
    assert ids == [made["Harbor"].pk]
    # Crowded halves are not read whole: only the telling candidates come back.
    everyone = matching.account_candidate_ids(keys, limit=100)
    assert len(everyone) < len(cores)


# --- the hot loop's shortcuts ---------------------------------------------------------------


def _varied_name(rng: random.Random) -> str:
    """A name near others: one character changed, added or removed, words reordered,
    another number, another length."""
    words = rng.sample(["Siam", "Trading", "Golden", "Steel", "Asia", "Rice", "Logistics"], 2)
    name = " ".join(words) + rng.choice(["", " 2", " 3", " Group", " Holdings International"])
    at = rng.randrange(len(name))
    edit = rng.randrange(4)
    if edit == 1:
        name = name[:at] + "x" + name[at + 1 :]
    elif edit == 2:
        name = name[:at] + "q" + name[at:]
    elif edit == 3:
        name = name[:at] + name[at + 1 :]
    return name + rng.choice([" Co., Ltd.", " PCL", "", " Branch 2"])


def _varied_account(rng: random.Random) -> dict[str, Any]:
    row = _random_account(rng)
    row["legal_name"] = _varied_name(rng)
    return row


def _varied_contact(rng: random.Random) -> dict[str, Any]:
    return {
        "first_name": rng.choice(["Somchai", "Somchay", "Somsak", "Malee"]),
        "last_name": rng.choice(["Jaidee", "Jaidees", "Rakthai", "Jai Dee"]),
        "email": rng.choice(["", "s@siam.co.th", "m@siam.co.th"]),
        "phone": rng.choice(["", "081-111-2222", "02-123-4567"]),
        "account": rng.choice(["", "A", "B"]),
    }


def _rule(*conditions: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    return conditions


OTHER_RULES = matching.Rules(
    (
        ("exact name", _rule({"field": "name", "comparison": "exact", "weight": 1.0})),
        (
            "name and phone",
            _rule(
                {"field": "name", "comparison": "fuzzy_name", "min_similarity": 0.5, "weight": 0.5},
                {"field": "phone", "comparison": "phone", "weight": 0.5},
            ),
        ),
        (
            "name and e-mail",
            _rule(
                {"field": "email", "comparison": "email", "weight": 0.3},
                {"field": "name", "comparison": "fuzzy_name", "min_similarity": 0.7, "weight": 0.7},
            ),
        ),
        ("tax ID", _rule({"field": "tax_id", "comparison": "exact", "weight": 1.0})),
        ("website", _rule({"field": "website", "comparison": "website_domain", "weight": 0.9})),
        ("e-mail domain", _rule({"field": "email", "comparison": "email_domain", "weight": 0.9})),
    ),
    0.85,
    0.7,
)


def _assembled(record_type: str, rows: list[dict[str, Any]]) -> Any:
    """What the feature stage hands to the later ones, for ``rows``."""
    batch._SHARED.update(record_type=record_type, rows=rows)
    try:
        chunk = batch._features_chunk((0, len(rows)))
    finally:
        batch._SHARED.clear()
    found = batch._Features(len(rows))
    found.add(chunk)
    return found


@pytest.mark.parametrize(
    ("record_type", "rules", "make"),
    [
        ("account", default_rules("account"), _varied_account),
        ("account", OTHER_RULES, _varied_account),
        ("contact", default_rules("contact"), _varied_contact),
    ],
)
def test_the_prefilter_never_drops_a_pair_that_blocks(
    record_type: str, rules: matching.Rules, make: Any
) -> None:
    # given records with names near each other and shared identifiers, some with two names
    rng = random.Random(11)
    rows = [make(rng) for _ in range(400)]
    for row in rows[::7]:
        if record_type == "account":
            row |= {"name_en": _varied_name(rng), "name_th": rng.choice(["", "สยามน้ำทอง"])}
    found = _assembled(record_type, rows)
    features = [batch._unpack(p) for p in found.packed]
    left = np.array([rng.randrange(400) for _ in range(4000)], dtype=np.int64)
    right = np.array([rng.randrange(400) for _ in range(4000)], dtype=np.int64)
    # when the prefilter and the exact score are both asked
    may = candidates.Prefilter(rules).may_block(left, right, found.columns())
    verdicts: dict[tuple[bool, bool], int] = {}
    for i, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        blocks = matching.score(features[a], features[b], rules)[0] >= rules.block
        # then a pair that blocks is never turned away
        assert may[i] or not blocks, (features[a], features[b])
        verdicts[bool(may[i]), blocks] = verdicts.get((bool(may[i]), blocks), 0) + 1
    # and the test both turns pairs away and lets blocking ones through
    assert verdicts.get((False, False), 0) > 0
    assert verdicts.get((True, True), 0) > 0


def test_the_name_bound_is_never_below_the_name_similarity() -> None:
    rng = random.Random(12)
    rows = [_varied_account(rng) for _ in range(300)]
    for row in rows[::5]:
        row |= {"name_en": _varied_name(rng)}
    found = _assembled("account", rows)
    features = [batch._unpack(p) for p in found.packed]
    left = np.array([rng.randrange(300) for _ in range(3000)], dtype=np.int64)
    right = np.array([rng.randrange(300) for _ in range(3000)], dtype=np.int64)
    bound = candidates.Prefilter(default_rules("account")).name_bound(left, right, found.columns())
    tight = 0
    for i, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        best = matching._best_name(features[a].names, features[b].names)
        assert bound[i] >= (best[0] if best else 0.0)
        tight += best is not None and bound[i] == best[0]
    assert tight > 1000  # and for most pairs it is the similarity itself


@pytest.mark.parametrize(
    ("field", "comparison"),
    [
        ("tax_id", "tax_id_branch"),
        ("tax_id", "exact"),
        ("branch", "exact"),
        ("phone", "phone"),
        ("email", "email"),
        ("email", "email_domain"),
        ("website", "website_domain"),
        ("account", "exact"),
        ("unknown", "exact"),
    ],
)
def test_identifier_conditions_hold_as_matching_says(field: str, comparison: str) -> None:
    rng = random.Random(5)
    cond = {"field": field, "comparison": comparison, "weight": 0.5}
    seen = set()
    for record_type, make in (("account", _random_account), ("contact", _varied_contact)):
        rows = [make(rng) for _ in range(200)]
        for row in rows[::9]:  # several phones or addresses: either may be the shared one
            row["phone"] = "02-123-4567, 081 234 5678"
            row["mobile"] = "081 234 5678"
        found = _assembled(record_type, rows)
        features = [batch._unpack(p) for p in found.packed]
        left = np.array([rng.randrange(200) for _ in range(2000)], dtype=np.int64)
        right = np.array([rng.randrange(200) for _ in range(2000)], dtype=np.int64)
        ident = found.columns().identifiers
        holds = candidates._holds(
            cond, lambda c, i=ident, a=left, b=right: (i[a, c], i[b, c]), len(left)
        )
        for i, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
            expected = matching._condition(cond, features[a], features[b])[0] > 0
            # never False where it holds; exactly the answer for single values
            assert holds[i] or not expected
            single = all(
                len(getattr(features[x], name)) <= 1
                for x in (a, b)
                for name in ("phones", "emails", "email_domains")
            )
            if single and field != "unknown":
                assert holds[i] == expected
            seen.add(expected)
    assert seen == ({False} if field == "unknown" else {False, True})


def test_features_travel_between_processes_unchanged() -> None:
    rng = random.Random(9)
    for _ in range(200):
        for record_type, make in (("account", _varied_account), ("contact", _varied_contact)):
            row = make(rng)
            if record_type == "account" and rng.random() < 0.3:
                row |= {"name_th": "บริษัท สยามน้ำทอง จำกัด สาขา 2", "name_en": _varied_name(rng)}
            feat = batch.record_features(record_type, row)
            assert isinstance(batch._pack(feat), str)
            assert batch._unpack(batch._pack(feat)) == feat
    # values holding the characters that mark the packing's parts travel as a tuple
    for odd in (
        matching.Features(emails=frozenset({"a\x1eb@siam.co.th", "c@siam.co.th"})),
        matching.Features(names=(NameParts("siam", "siam", None, "\x1c"),)),
        matching.Features(website="siam\x1f.co.th", phones=frozenset({""})),
        matching.Features(names=(NameParts("siam", "si am", "", None),)),
    ):
        assert not isinstance(batch._pack(odd), str)
        assert batch._unpack(batch._pack(odd)) == odd


@given(st.lists(st.one_of(st.text(), st.tuples(st.text())), max_size=6))
def test_a_column_of_record_values_reads_back_as_sent(values: list[Any]) -> None:
    column = batch._joined(values)
    assert batch._split(column) == values
    # strings travel as one when none holds the separator; anything else as the list
    plain = all(isinstance(v, str) and batch._SEPARATOR not in v for v in values)
    assert isinstance(column, str) == (plain and bool(values))


def test_the_collector_is_left_as_it_was() -> None:
    rows = [dict(r) for r in SHADOWS]
    ids = [str(r.pop("id")) for r in rows]
    assert gc.isenabled()
    cluster_records("account", ids, rows)
    assert gc.isenabled()
    gc.disable()
    try:
        cluster_records("account", ids, rows)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_probe_keys_are_the_matching_probe_keys() -> None:
    rng = random.Random(13)
    for _ in range(500):
        for record_type, make in (("account", _varied_account), ("contact", _varied_contact)):
            row = make(rng)
            if record_type == "account" and rng.random() < 0.3:
                row |= {"name_th": "บริษัท สยามน้ำทอง จำกัด", "name_en": _varied_name(rng)}
            if record_type == "account" and rng.random() < 0.05:  # keys cut at 300 characters
                row |= {"name_en": "Siam " * 70 + rng.choice(["Steel", "Tiles"])}
            feat = batch.record_features(record_type, row)
            match_keys = (
                matching.account_match_keys
                if record_type == "account"
                else matching.contact_match_keys
            )
            stored = match_keys(feat)
            probe = [k for k in match_keys(feat, probe=True) if k not in set(stored)]
            found_stored, found_probe = batch.record_keys(record_type, feat)
            # each key once, in any order (the blocks only ask which records share one)
            assert len(set(found_stored)) == len(found_stored)
            assert len(set(found_probe)) == len(found_probe)
            assert (set(found_stored), set(found_probe)) == (set(stored), set(probe))


def _sort_key_by_definition(kind: str, value: str, feat: matching.Features) -> tuple[str, str]:
    keys = [n.key for n in feat.names]
    if kind == "a":
        name = next((k for k in keys if k.startswith(value)), keys[0] if keys else "")
        return name, feat.branch
    if kind == "z":
        name = next((k for k in keys if k.endswith(value)), keys[0] if keys else "")
        return name[::-1], feat.branch
    first = keys[0] if keys else ""
    return (feat.branch, first) if kind == "x" else (first, feat.branch)


def test_walk_order_is_what_the_block_is_about() -> None:
    rng = random.Random(17)
    rows = [_varied_account(rng) for _ in range(300)]
    for row in rows:
        if rng.random() < 0.4:
            row |= {"name_en": _varied_name(rng), "name_th": rng.choice(["", "สยามน้ำทอง"])}
    rows.append({"phone": "02-123-4567"})  # no name at all
    found = _assembled("account", rows)
    sort_keys = batch._SortKeys("account", found.packed, found.names, found.branches)
    for record, row in enumerate(rows):
        feat = batch.record_features("account", row)
        for key in matching.account_match_keys(feat, probe=True):
            kind, value = batch._kind(key), key.rsplit(":", 1)[-1]
            names = [n.key for n in feat.names]
            expected = _sort_key_by_definition(kind, value, feat)
            assert batch._sort_key(kind, value, names, feat.branch) == expected
            # as the walk asks for it: by the key's hash, the block's text found from a member
            assert sort_keys(hash(key), [record]) == ["\0".join(expected)]


def _pairs_by_definition(
    records: list[int],
    hashes: list[int],
    stored: list[bool],
    sort_key: dict[int, str],
    max_block: int,
    window: int,
) -> set[tuple[int, int]]:
    """Each record against the members of each block it stores or probes (the engine before
    the pairs were found with arrays)."""
    blocks: dict[int, list[int]] = {}
    for r, h, s in zip(records, hashes, stored, strict=True):
        if s:
            blocks.setdefault(h, []).append(r)
    pairs: set[tuple[int, int]] = set()
    for r, h, s in zip(records, hashes, stored, strict=True):
        members = sorted(blocks.get(h, []))
        if len(members) > max_block:
            ranked = sorted(members, key=lambda m: (sort_key[m], m))
            order = [sort_key[m] for m in ranked]
            at = ranked.index(r) if s else bisect.bisect_left(order, sort_key[r])
            members = ranked[max(0, at - window) : at + window + 1]
        pairs |= {(min(r, m), max(r, m)) for m in members if m != r}
    return pairs


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 6), st.booleans()), min_size=0, max_size=80
    ),
    st.integers(1, 6),
    st.integers(1, 3),
)
def test_candidate_pairs_are_the_blocks_pairs(
    rows: list[tuple[int, int, bool]], max_block: int, window: int
) -> None:
    # records 0..30 with keys 0..6, stored or probe-only (a record has a key one way)
    seen: dict[tuple[int, int], bool] = {}
    for record, key, stored in rows:
        seen.setdefault((record, key), stored)
    records = [r for r, _k in seen]
    hashes = [k * 1_000_003 - 3 for _r, k in seen]  # any 64-bit values, negative too
    flags = list(seen.values())
    # ties broken by record; the batch's keys have two parts joined by NUL, the second
    # part sometimes empty
    sort_key = {r: f"{(r * 7) % 11:02d}\0" + ("" if r % 3 else str(r % 5)) for r in range(31)}
    found = candidates.candidate_pairs(
        np.array(records, dtype=np.int32),
        np.array(hashes, dtype=np.int64),
        np.array(flags, dtype=np.bool_),
        records=31,
        max_block=max_block,
        window=window,
        sort_keys=lambda _h, members: [sort_key[m] for m in members],
    )
    got = set(zip(found.left.tolist(), found.right.tolist(), strict=True))
    assert len(got) == len(found.left)  # each pair once
    assert got == _pairs_by_definition(records, hashes, flags, sort_key, max_block, window)


def _name_keys_by_definition(key: str, *, prefix: str = "", probe: bool = False) -> list[str]:
    if not key:
        return []
    keys = [f"{prefix}n:{key}"]
    lengths = range(len(key) - 2, len(key) + 3) if probe else (len(key),)
    for length in lengths:
        if length >= 4:
            k = max(2, min(6, length // 2))
            keys += [f"{prefix}a:{key[:k]}", f"{prefix}z:{key[-k:]}"]
    return list(dict.fromkeys(keys))


@pytest.mark.parametrize("prefix", ["", "0190b6c2-8f1e-7000-8000-000000000001:"])
@pytest.mark.parametrize("probe", [False, True])
def test_name_keys_are_what_adr_0005_says(prefix: str, probe: bool) -> None:
    # every length up to beyond the largest half, and keys whose halves repeat themselves
    for size in range(20):
        for key in ("สยามเทรดดิ้งจำกัด0123"[:size], "a" * size, ("ab" * 10)[:size]):
            assert matching._name_keys(key, prefix=prefix, probe=probe) == (
                _name_keys_by_definition(key, prefix=prefix, probe=probe)
            )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["", "C1", "C2", "C3", "C10", "c1"]), max_size=40))
def test_records_sharing_a_code_are_grouped_by_the_code(codes: list[str]) -> None:
    expected: dict[str, list[int]] = {}
    for i, code in enumerate(codes):
        if code:
            expected.setdefault(code, []).append(i)
    found = batch._same_codes(codes)
    assert sorted(found) == sorted(m for m in expected.values() if len(m) > 1)
