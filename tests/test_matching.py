"""The duplicate check: rules, reasons, what it must and must not call a duplicate."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.audit.models import AuditEvent
from accord.core.errors import Conflict
from accord.core.thai import tax_id_with_check_digit
from accord.customers.models import Account, AccountMatchKey
from accord.customers.services import account_update, contact_create, contact_update
from accord.dataquality.matching import account_matches, contact_matches, name_similarity
from accord.dataquality.models import MatchRule, MatchThreshold
from accord.dataquality.normalize import company_name
from tests.conftest import Org, make_account

TAX_ID = tax_id_with_check_digit("010555123456")
OTHER_TAX_ID = tax_id_with_check_digit("010555654321")


def _found(org: Org, **data: Any) -> list[tuple[str, float, str, list[str]]]:
    return [
        (c.name, c.score, c.decision, c.reasons)
        for c in account_matches(user=org.steward, data=data)
    ]


@pytest.fixture
def siam(org: Org) -> Account:
    return make_account(
        org,
        legal_name="Siam Trading Co., Ltd.",
        name_th="บริษัท สยามเทรดดิ้ง จำกัด",
        tax_id=TAX_ID,
        phone="02-123-4567",
        email="info@siamtrading.co.th",
        website="https://www.siamtrading.co.th",
    )


# --- shadow variants are caught -----------------------------------------------------------

SIAM = "Siam Trading Co., Ltd."


@pytest.mark.parametrize(
    ("name", "score", "decision", "reasons"),
    [
        ("Siam Trading Co., Ltd. ", 1.0, "block", ["same name"]),
        ("SIAM  TRADING COMPANY LIMITED", 1.0, "block", ["same name"]),
        ("Siam-Trading Co.,Ltd", 1.0, "block", ["same name"]),
        ("Siam Tradinq Co., Ltd.", 0.92, "block", ["name differs by one character"]),
        ("Siam Tradings Co., Ltd.", 0.957, "block", ["name differs by one character"]),
        (
            "Siam Trading Ltd. Part.",
            1.0,
            "block",
            [
                "legal form differs only",
                "legal forms: Company Limited (บริษัท … จำกัด) / Limited Partnership (ห้างหุ้นส่วนจำกัด)",
            ],
        ),
        ("Trading Siam Co., Ltd.", 0.95, "block", ["same words in another order"]),
        ("บริษัท สยามเทรดดิ้ง จำกัด", 1.0, "block", ["same name"]),
        ("บจก. สยามเทรดดิ้ง", 1.0, "block", ["same name"]),
        ("สยามเทรดดิ้ง Co., Ltd.", 1.0, "block", ["same name"]),  # Thai name, English form
        ("บริษัท สยามเทรดดิ้ง จํากัด", 1.0, "block", ["same name"]),  # ํา typed for ำ
        ("บริษัท สยามเทรดดิ่ง จำกัด", 0.92, "block", ["name differs by one character"]),
    ],
)
def test_shadow_variants_of_a_name_are_caught(
    org: Org, siam: Account, name: str, score: float, decision: str, reasons: list[str]
) -> None:
    assert _found(org, legal_name=name) == [(SIAM, score, decision, reasons)]


def test_a_different_legal_form_is_named(org: Org, siam: Account) -> None:
    # when
    (candidate,) = account_matches(
        user=org.steward, data={"legal_name": "Siam Trading Public Company Limited"}
    )
    # then
    assert candidate.decision == "block"
    assert candidate.reasons == [
        "legal form differs only",
        "legal forms: Company Limited (บริษัท … จำกัด) / Public Company Limited (บริษัท … จำกัด (มหาชน))",
    ]


def test_same_tax_id_and_branch_blocks_whatever_the_name(org: Org, siam: Account) -> None:
    assert _found(org, legal_name="Completely Other Co., Ltd.", tax_id=TAX_ID) == [
        (SIAM, 1.0, "block", ["same tax ID and branch"])
    ]
    assert _found(org, tax_id="0-1055-51234-56-" + TAX_ID[-1]) == [
        (SIAM, 1.0, "block", ["same tax ID and branch"])
    ]


@pytest.mark.parametrize(
    ("data", "score", "reasons"),
    [
        (
            {"legal_name": "Zebra Crossing Co., Ltd.", "phone": "+66 2 123 4567"},
            0.8,
            ["same phone"],
        ),
        ({"website": "siamtrading.co.th/en/"}, 0.8, ["same website domain"]),
        ({"email": "Sales@SiamTrading.co.th"}, 0.75, ["same email domain"]),
    ],
)
def test_shared_contact_details_alone_only_warn(
    org: Org, siam: Account, data: dict[str, str], score: float, reasons: list[str]
) -> None:
    assert _found(org, **data) == [(SIAM, score, "warn", reasons)]


def test_a_similar_name_with_the_same_phone_blocks(org: Org, siam: Account) -> None:
    assert _found(org, legal_name="Siam Tradeing Partners", phone="021234567") == [
        (SIAM, 0.826, "warn", ["name differs by 9 characters", "same phone"])
    ]
    assert _found(org, legal_name="Siam Trading TH") == [
        (SIAM, 0.89, "warn", ["name differs by 2 characters"])
    ]
    assert _found(org, legal_name="Siam Trading TH", phone="021234567") == [
        (SIAM, 0.934, "block", ["name differs by 2 characters", "same phone"])
    ]


# --- and not fooled the other way ---------------------------------------------------------


def test_sister_companies_are_different_customers(org: Org, siam: Account) -> None:
    assert _found(org, legal_name="Siam Logistics Co., Ltd.") == []
    assert _found(org, legal_name="บริษัท สยามโลจิสติกส์ จำกัด") == []
    assert _found(org, legal_name="Siam Steel 2 Co., Ltd.") == []


def test_free_mail_domains_are_not_a_company_signal(org: Org) -> None:
    make_account(org, legal_name="Somchai Shop", email="somchai@gmail.com")
    assert _found(org, legal_name="Malee Bakery", email="malee@gmail.com") == []


def test_names_with_different_numbers_are_not_typos() -> None:
    assert name_similarity(company_name("Siam Steel 1"), company_name("Siam Steel 2")) == (
        0.7,
        "numbers in the name differ",
    )


def test_branches_with_different_numbers_are_different_customers(org: Org, siam: Account) -> None:
    # given a branch of the same company
    branch = make_account(
        org,
        legal_name="Siam Trading Co., Ltd. (Branch 00002)",
        tax_id=TAX_ID,
        branch_code="00002",
        website="https://www.siamtrading.co.th",
    )
    # then another branch is not a duplicate of either …
    assert _found(org, legal_name="Siam Trading Co., Ltd. (Branch 3)", tax_id=TAX_ID) == []
    assert _found(org, legal_name="บริษัท สยามเทรดดิ้ง จำกัด สาขาที่ 00003") == []
    # … but the same branch is
    assert _found(org, legal_name="Siam Trading Co., Ltd. สาขา 2") == [
        (branch.legal_name, 1.0, "block", ["same name"])
    ]
    assert _found(org, tax_id=TAX_ID, branch_code="00002") == [
        (branch.legal_name, 1.0, "block", ["same tax ID and branch"])
    ]
    # and the head office is found for the head office only
    assert [c[0] for c in _found(org, legal_name="Siam Trading (Head Office)")] == [SIAM]


# --- rules are data -----------------------------------------------------------------------


def test_deactivating_a_rule_changes_the_outcome(org: Org, siam: Account) -> None:
    MatchRule.objects.filter(record_type="account", name="Similar name, same branch").update(
        is_active=False
    )
    assert _found(org, legal_name="Siam Trading Co., Ltd.") == []


def test_thresholds_are_per_record_type(org: Org, siam: Account) -> None:
    MatchThreshold.objects.filter(record_type="account").update(block=0.95, warn=0.8)
    assert _found(org, legal_name="Siam Tradinq Co., Ltd.") == [
        (SIAM, 0.92, "warn", ["name differs by one character"])
    ]


def test_rules_are_validated(db: Any) -> None:
    rule = MatchRule(
        record_type="account",
        name="Broken",
        conditions=[
            {"field": "colour", "comparison": "exact"},
            {"field": "name", "comparison": "phone", "weight": 2},
        ],
    )
    with pytest.raises(ValidationError) as exc:
        rule.full_clean()
    assert exc.value.message_dict["conditions"] == [
        "Condition 1: field must be one of name, tax_id, branch, phone, email, website.",
        "Condition 2: compare name with one of fuzzy_name, exact.",
        "Condition 2: weight lies between 0 and 1.",
    ]


def test_default_rules_are_seeded(db: Any) -> None:
    assert sorted(MatchRule.objects.values_list("record_type", "name")) == [
        ("account", "Same email domain"),
        ("account", "Same phone"),
        ("account", "Same tax ID and branch"),
        ("account", "Same website"),
        ("account", "Similar name and same email domain"),
        ("account", "Similar name and same phone"),
        ("account", "Similar name and same website"),
        ("account", "Similar name, same branch"),
        ("contact", "Same email address"),
        ("contact", "Same name at another account"),
        ("contact", "Same phone and similar name"),
        ("contact", "Similar name at the same account"),
    ]
    for rule in MatchRule.objects.all():
        rule.full_clean()


# --- every write path runs the check ------------------------------------------------------


def test_creating_a_duplicate_account_is_refused(org: Org, siam: Account) -> None:
    with pytest.raises(Conflict) as exc:
        make_account(org, legal_name="Siam Trading Company Limited ")
    assert exc.value.code == "duplicate_suspected"
    assert exc.value.errors["__all__"] == [f"{siam.customer_code} {SIAM}: same name"]
    assert [c["id"] for c in exc.value.extra["candidates"]] == [str(siam.pk)]
    assert Account.objects.count() == 1


def test_a_justification_overrides_the_block_and_is_audited(org: Org, siam: Account) -> None:
    # when
    account = make_account(
        org,
        legal_name="Siam Trading Company Limited",
        duplicate_justification="A different company with the same name, in Laos.",
    )
    # then
    event = AuditEvent.objects.get(record_id=str(account.pk), action="create")
    override = event.changes["duplicate_override"]
    assert override["justification"] == "A different company with the same name, in Laos."
    assert [c["customer_code"] for c in override["candidates"]] == [siam.customer_code]


def test_renaming_an_account_into_a_duplicate_is_refused(org: Org, siam: Account) -> None:
    other = make_account(org, legal_name="Chiang Mai Paper Co., Ltd.")
    with pytest.raises(Conflict):
        account_update(actor=org.steward, account=other, data={"legal_name": "Siam Tradinq Ltd"})
    with pytest.raises(Conflict):
        account_update(actor=org.steward, account=other, data={"name_th": "บจก. สยามเทรดดิ้ง"})
    # an unrelated change does not run the check; a rename away from the duplicate updates keys
    account_update(actor=org.steward, account=siam, data={"industry": "retail"})
    account_update(actor=org.steward, account=siam, data={"legal_name": "Siam Retail Co., Ltd."})
    assert "n:siamretail" in set(
        AccountMatchKey.objects.filter(account=siam).values_list("key", flat=True)
    )
    assert _found(org, legal_name="Siam Trading Co., Ltd.") == []


def test_contacts_duplicates_are_refused_unless_justified(org: Org, siam: Account) -> None:
    # given
    other = make_account(org, legal_name="Chiang Mai Paper Co., Ltd.")
    somchai = contact_create(
        actor=org.rep,
        data={
            "account": siam.pk,
            "first_name": "Somchai",
            "last_name": "Jaidee",
            "email": "somchai@siamtrading.co.th",
            "mobile": "081-234-5678",
        },
    )
    # then: the same person again at the account, or the same email anywhere, is refused
    with pytest.raises(Conflict) as exc:
        contact_create(
            actor=org.rep, data={"account": siam.pk, "first_name": "somchai", "last_name": "JAIDEE"}
        )
    assert exc.value.extra["candidates"] == [
        {
            "id": str(somchai.pk),
            "customer_code": siam.customer_code,
            "name": "Somchai Jaidee",
            "score": 1.0,
            "decision": "block",
            "reasons": ["same name", "at the same account"],
        }
    ]
    with pytest.raises(Conflict):
        contact_create(
            actor=org.rep,
            data={"account": other.pk, "first_name": "S.", "email": "SOMCHAI@siamtrading.co.th"},
        )
    # a namesake at another account only warns; a colleague is no duplicate
    contact_create(
        actor=org.rep, data={"account": other.pk, "first_name": "Somchai", "last_name": "Jaidee"}
    )
    malee = contact_create(
        actor=org.rep, data={"account": siam.pk, "first_name": "Malee", "last_name": "Jaidee"}
    )
    with pytest.raises(Conflict):
        contact_update(actor=org.rep, contact=malee, data={"first_name": "Somchai"})
    contact_update(
        actor=org.rep,
        contact=malee,
        data={"first_name": "Somchai", "duplicate_justification": "Father and son."},
    )


def test_contact_matches_hide_contacts_the_user_may_not_see(org: Org) -> None:
    south = make_account(org, legal_name="Southern Paper Co., Ltd.", district=org.south)
    hidden = contact_create(
        actor=org.steward,
        data={"account": south.pk, "first_name": "Malee", "email": "malee@southernpaper.co.th"},
    )
    (candidate,) = contact_matches(user=org.rep, data={"email": "malee@southernpaper.co.th"})
    assert candidate.as_dict() == {
        "id": str(hidden.pk),
        "customer_code": south.customer_code,
        "name": f"a contact at {south.customer_code}",
        "score": 1.0,
        "decision": "block",
        "reasons": ["same email address"],
    }


# --- over HTTP ----------------------------------------------------------------------------


def test_account_matches_endpoint(org: Org, api_as: Any, siam: Account) -> None:
    # given a rep who may not see the account
    api = api_as(org.south_rep)
    # when
    response = api.post("/accounts/matches", {"legal_name": "siam tradinq"})
    # then
    assert response.status_code == 200
    assert response.json() == {
        "candidates": [
            {
                "id": str(siam.pk),
                "customer_code": siam.customer_code,
                "name": SIAM,
                "score": 0.92,
                "decision": "block",
                "reasons": ["name differs by one character"],
            }
        ]
    }
    assert api.post("/accounts/matches", {"legal_name": "Nothing Alike"}).json() == {
        "candidates": []
    }
    assert api.post("/accounts/matches", {"colour": "red"}).status_code == 422


def test_contact_matches_endpoint(org: Org, api_as: Any, siam: Account) -> None:
    somchai = contact_create(
        actor=org.rep, data={"account": siam.pk, "first_name": "Somchai", "last_name": "Jaidee"}
    )
    response = api_as(org.rep).post(
        "/contacts/matches", {"first_name": "Somchai", "last_name": "Jaidee"}
    )
    assert response.json() == {
        "candidates": [
            {
                "id": str(somchai.pk),
                "customer_code": siam.customer_code,
                "name": "Somchai Jaidee",
                "score": 0.75,
                "decision": "warn",
                "reasons": ["same name"],
            }
        ]
    }


def test_creating_a_duplicate_over_the_api_is_a_409_with_candidates(
    org: Org, api_as: Any, siam: Account
) -> None:
    api = api_as(org.steward)
    response = api.post("/accounts", {"legal_name": "Siam Trading Co Ltd"})
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], [c["id"] for c in body["candidates"]]) == (
        "duplicate_suspected",
        [str(siam.pk)],
    )
    response = api.post(
        "/accounts",
        {"legal_name": "Siam Trading Co Ltd", "duplicate_justification": "Steward checked."},
    )
    assert response.status_code == 201


def _match_queries(api: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(
            "/accounts/matches",
            {"legal_name": "Siam Tradinq", "phone": "021234567", "tax_id": OTHER_TAX_ID},
        )
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_match_query_count_does_not_grow_with_the_table(
    org: Org, api_as: Any, siam: Account
) -> None:
    api = api_as(org.rep)
    _match_queries(api)  # the token's first use is recorded once
    small = _match_queries(api)
    for i in range(30):
        make_account(org, legal_name=f"Filler {i:03d} Trading Co., Ltd.", phone=f"02-555-{i:04d}")
    assert _match_queries(api) == small


# --- PostgreSQL: trigram retrieval --------------------------------------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's"
)


def test_a_one_character_variant_is_found_among_many_names_sharing_its_halves(org: Org) -> None:
    """A crowded name half (shared by more accounts than one lookup reads) must not hide
    the original: the tiered retrieval reads the name keys next to the probe's instead."""
    from accord.dataquality.matching import HALF_KEY_LIMIT

    for n in range(HALF_KEY_LIMIT + 10):  # "Siam Trading Partner 00" … all share "siamtr"
        make_account(
            org,
            legal_name=f"Siam Trading Partner {n:02d} Co., Ltd.",
            duplicate_justification="test data",
        )
    found = account_matches(user=org.rep, data={"legal_name": "Siam Tradng Partner 37 Co., Ltd."})
    assert found[0].name == "Siam Trading Partner 37 Co., Ltd."
    assert (found[0].decision, found[0].reasons) == ("block", ["name differs by one character"])


@needs_postgres
def test_the_database_extracts_thai_trigrams(db: Any) -> None:
    from accord.dataquality.checks import trigram_handles_thai

    assert trigram_handles_thai(databases=["default"]) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity('สยามเทรดดิ้ง', 'สยามเทรดดิ่ง')")
        assert cursor.fetchone()[0] > 0.5


def test_a_rule_changed_in_the_admin_is_audited(org: Org) -> None:
    # given
    from django.test import Client

    rule = MatchRule.objects.get(record_type="account", name="Same phone")
    client = Client()
    client.force_login(org.steward)
    assert client.get("/admin/dataquality/matchrule/").status_code == 200
    conditions = '[{"field": "phone", "comparison": "phone", "weight": 0.85}]'
    # when
    response = client.post(
        f"/admin/dataquality/matchrule/{rule.pk}/change/",
        {
            "record_type": "account",
            "name": "Same phone",
            "description": "",
            "conditions": conditions,
            "is_active": "on",
        },
    )
    # then
    assert response.status_code == 302
    event = AuditEvent.objects.get(record_type="dataquality.matchrule", action="update")
    assert event.changes["conditions"][1] == [
        {"field": "phone", "comparison": "phone", "weight": 0.85}
    ]
    assert event.actor_name == "steward"


def _contact_match_queries(api: Any, account: Account) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(
            "/contacts/matches",
            {"account": str(account.pk), "first_name": "Somchai", "mobile": "0812345678"},
        )
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_contact_match_query_count_does_not_grow_with_the_table(
    org: Org, api_as: Any, siam: Account
) -> None:
    contact_create(actor=org.rep, data={"account": siam.pk, "first_name": "Somchai"})
    api = api_as(org.rep)
    _contact_match_queries(api, siam)
    small = _contact_match_queries(api, siam)
    for i in range(20):
        contact_create(
            actor=org.rep,
            data={"account": siam.pk, "first_name": f"Person {i:03d}", "mobile": "0812345678"},
        )
    assert _contact_match_queries(api, siam) == small


# --- retrieval: every tier's lookups in one statement -------------------------------------


def _candidate_ids(data: dict[str, Any], **kwargs: Any) -> tuple[list[Any], int]:
    from accord.dataquality.matching import (
        account_candidate_ids,
        account_features,
        account_match_keys,
        dict_getter,
    )

    keys = account_match_keys(account_features(dict_getter(data)), probe=True)
    with CaptureQueriesContext(connection) as ctx:
        ids = account_candidate_ids(keys, **kwargs)
    return ids, len(ctx.captured_queries)


def test_candidates_are_read_in_one_statement_whatever_the_tiers(org: Org, siam: Account) -> None:
    from accord.dataquality.matching import HALF_KEY_LIMIT

    for n in range(HALF_KEY_LIMIT + 5):  # "siamtr…" crowded: the neighbour tier is needed
        make_account(
            org,
            legal_name=f"Siam Trading Partner {n:02d} Co., Ltd.",
            phone="02-999-0000",
            duplicate_justification="test data",
        )
    ids, queries = _candidate_ids({"legal_name": "Siam Tradinq Co., Ltd.", "tax_id": TAX_ID})
    assert queries == 1
    assert ids[0] == siam.pk  # the exact tier (its tax ID) comes first
    ids, queries = _candidate_ids({"legal_name": "Siam Tradng Partner 37 Co., Ltd."})
    partner = Account.objects.get(legal_name="Siam Trading Partner 37 Co., Ltd.")
    assert queries == 1
    assert partner.pk in ids  # only through the neighbours of its name key


def test_candidate_retrieval_excludes_the_account_itself_and_keeps_its_limit(
    org: Org, siam: Account
) -> None:
    others = [
        make_account(
            org, legal_name=f"Other {n} Co., Ltd.", phone="02-123-4567", duplicate_justification="t"
        )
        for n in range(4)
    ]
    probe = {"legal_name": SIAM, "phone": "02-123-4567"}
    ids, _ = _candidate_ids(probe)
    assert set(ids) == {siam.pk, *(o.pk for o in others)}
    ids, _ = _candidate_ids(probe, exclude=siam.pk)
    assert set(ids) == {o.pk for o in others}
    ids, _ = _candidate_ids(probe, limit=2)
    assert len(ids) == 2 and set(ids) <= {siam.pk, *(o.pk for o in others)}
    assert _candidate_ids({"phone": "02-000-0000"})[0] == []


def test_rules_and_thresholds_are_read_in_one_statement(db: Any) -> None:
    from accord.dataquality.matching import DEFAULT_THRESHOLDS, rules_for
    from accord.dataquality.models import RecordType

    MatchRule.objects.filter(record_type="account", name="Same website").update(is_active=False)
    MatchThreshold.objects.filter(record_type="account").update(block=0.95, warn=0.8)
    with CaptureQueriesContext(connection) as ctx:
        rules = rules_for(RecordType.ACCOUNT)
    assert len(ctx.captured_queries) == 1
    active = MatchRule.objects.filter(record_type="account", is_active=True).order_by("name")
    assert rules.rules == tuple((r.name, tuple(r.conditions)) for r in active)
    assert "Same website" not in dict(rules.rules)
    assert (rules.block, rules.warn) == (0.95, 0.8)
    MatchThreshold.objects.filter(record_type="contact").delete()
    MatchRule.objects.filter(record_type="contact").delete()
    contact = rules_for(RecordType.CONTACT)
    assert contact.rules == ()
    assert (contact.block, contact.warn) == (
        DEFAULT_THRESHOLDS["block"],
        DEFAULT_THRESHOLDS["warn"],
    )
