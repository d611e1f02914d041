"""A customer code typed into any search is a code: a mistyped one is refused as invalid and
never shown as the customer whose code happens to contain it."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.customers.models import Account
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def _accounts(org, n: int) -> list[Account]:
    return [
        make_account(org, legal_name=f"Company {i}", duplicate_justification="test data")
        for i in range(n)
    ]


def _variants(code: str) -> list[str]:
    """Every code one character away: changed, removed, added (the digits only)."""
    body = code[1:]
    found = set()
    for i in range(len(body)):
        found.add("C" + body[:i] + body[i + 1 :])
        for d in "0123456789":
            found.add("C" + body[:i] + d + body[i + 1 :])
            found.add("C" + body[:i] + d + body[i:])
    found.discard(code)
    return sorted(found)


def test_no_one_character_variant_of_a_code_finds_another_customer(org, api_as):
    accounts = _accounts(org, 12)
    api = api_as(org.steward)
    target = accounts[1].customer_code  # C000000013-style: its variants contain other codes
    for typo in _variants(target):
        response = api.get("/accounts", search=typo)
        assert response.status_code == 422, (typo, response.json())
        assert response.json()["code"] == "invalid_customer_code"
    exact = api.get("/accounts", search=target.lower()).json()["items"]
    assert [a["customer_code"] for a in exact] == [target]


def test_a_code_fragment_is_still_a_fragment(org, api_as):
    accounts = _accounts(org, 3)
    response = api_as(org.steward).get("/accounts", search="C0000000")
    assert response.status_code == 200
    assert {a["customer_code"] for a in response.json()["items"]} >= {
        a.customer_code for a in accounts
    }


def test_the_web_search_and_list_say_the_code_is_invalid(org):
    accounts = _accounts(org, 12)
    code = accounts[1].customer_code
    typo = code[:-2] + code[-1]  # one digit removed
    client = Client()
    client.force_login(org.steward)
    page = client.get("/search/", {"q": typo}).content.decode()
    assert "not a valid customer code" in page
    assert not any(a.customer_code in page for a in accounts)
    listing = client.get("/accounts/", {"q": typo})
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "not a valid customer code" in html
    assert not any(a.customer_code in html for a in accounts)
    assert client.get("/accounts/export.csv", {"q": typo}).status_code == 422
