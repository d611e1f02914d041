"""Accounts and contacts through the HTTP API."""

from __future__ import annotations

import pytest

from accord.audit.models import AuditEvent
from accord.customers.models import Account, Contact
from accord.customers.services import customer_code_is_valid
from accord.dataquality.models import RequiredFieldRule
from tests.conftest import make_account

pytestmark = pytest.mark.django_db

TAX_ID = "0994000165668"


def test_steward_creates_account_with_issued_code(org, api_as):
    # given
    api = api_as(org.steward)
    # when
    response = api.post(
        "/accounts",
        {
            "legal_name": "  Siam   Panich Co., Ltd. ",
            "name_th": "บริษัท สยามพาณิชย์ จำกัด",
            "tax_id": "0-9940-00165-66-8",
            "district": str(org.north.pk),
        },
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    account = Account.objects.get(pk=body["id"])
    assert body["legal_name"] == "Siam Panich Co., Ltd." == account.legal_name
    assert body["tax_id"] == TAX_ID
    assert body["branch_code"] == "00000"
    assert body["status"] == "active"
    assert customer_code_is_valid(body["customer_code"])
    assert (
        AuditEvent.objects.filter(record_id=body["id"], action="create", source="api").count() == 1
    )


def test_customer_code_and_id_cannot_be_written(org, api_as):
    api = api_as(org.steward)
    response = api.post("/accounts", {"legal_name": "X Co., Ltd.", "customer_code": "C000000013"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_request"
    assert "customer_code" in response.json()["errors"]
    assert Account.objects.count() == 0
    account = make_account(org)
    response = api.patch(f"/accounts/{account.pk}", {"id": "00000000-0000-0000-0000-000000000000"})
    assert response.status_code == 422
    assert "id" in response.json()["errors"]


def test_rep_cannot_create_accounts(org, api_as):
    response = api_as(org.rep).post("/accounts", {"legal_name": "Shadow Co., Ltd."})
    assert response.status_code == 403
    assert response.json()["code"] == "account_create_requires_steward"
    assert Account.objects.count() == 0


def test_invalid_tax_id_is_a_field_error_and_changes_nothing(org, api_as):
    response = api_as(org.steward).post(
        "/accounts", {"legal_name": "Bad Tax Co., Ltd.", "tax_id": "0994000165667"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert list(body["errors"]) == ["tax_id"]
    assert Account.objects.count() == 0
    assert AuditEvent.objects.filter(record_type="customers.account").count() == 0


def test_duplicate_tax_id_and_branch_is_refused(org, api_as):
    api = api_as(org.steward)
    assert api.post("/accounts", {"legal_name": "A Co., Ltd.", "tax_id": TAX_ID}).status_code == 201
    response = api.post("/accounts", {"legal_name": "A Co Ltd", "tax_id": TAX_ID})
    assert response.status_code == 422
    assert "account_unique_tax_id_branch" not in response.content.decode()
    assert "tax ID and branch" in str(response.json()["errors"])
    branch = api.post(
        "/accounts",
        {"legal_name": "A Co., Ltd. (Chiang Mai)", "tax_id": TAX_ID, "branch_code": "00001"},
    )
    assert branch.status_code == 201
    assert Account.objects.count() == 2


def test_required_fields_are_enforced_and_all_named(org, api_as):
    # given: accounts need a tax ID and a district
    RequiredFieldRule.objects.create(record_type="account", field="tax_id")
    RequiredFieldRule.objects.create(record_type="account", field="district")
    api = api_as(org.steward)
    # when
    response = api.post("/accounts", {"legal_name": "Incomplete Co., Ltd."})
    # then
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "required_fields_missing"
    assert set(body["errors"]) == {"tax_id", "district"}
    assert "district, tax_id" in body["detail"]
    assert Account.objects.count() == 0


def test_rep_may_update_contact_details_but_not_identity(org, api_as):
    account = make_account(org, legal_name="Territory Co., Ltd.", owner=org.rep)
    api = api_as(org.rep)
    ok = api.patch(f"/accounts/{account.pk}", {"phone": "+66 2 555 0000"})
    assert ok.status_code == 200
    assert ok.json()["phone"] == "+66 2 555 0000"
    refused = api.patch(
        f"/accounts/{account.pk}", {"legal_name": "Territory 2 Co., Ltd.", "phone": "1"}
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "field_requires_steward"
    assert list(refused.json()["errors"]) == ["legal_name"]
    account.refresh_from_db()
    assert (account.legal_name, account.phone) == ("Territory Co., Ltd.", "+66 2 555 0000")


def test_account_outside_my_districts_is_not_found(org, api_as):
    south = make_account(org, district=org.south, legal_name="Southern Co., Ltd.")
    api = api_as(org.rep)
    for response in (
        api.get(f"/accounts/{south.pk}"),
        api.patch(f"/accounts/{south.pk}", {"phone": "1"}),
        api.get(f"/accounts/{south.pk}/timeline"),
        api.get(f"/accounts/{south.pk}/audit"),
        api.delete(f"/accounts/{south.pk}"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert api.get("/accounts").json()["items"] == []


def test_list_search_filter_and_order(org, api_as):
    make_account(org, legal_name="Siam Trading Co., Ltd.", name_th="บริษัท สยามเทรดดิ้ง จำกัด")
    make_account(org, legal_name="Siam Logistics Co., Ltd.", district=org.south)
    make_account(org, legal_name="Chiang Mai Paper Co., Ltd.", tax_id=TAX_ID)
    api = api_as(org.steward)
    names = lambda r: [a["legal_name"] for a in r.json()["items"]]  # noqa: E731
    assert names(api.get("/accounts", search="siam")) == [
        "Siam Logistics Co., Ltd.",
        "Siam Trading Co., Ltd.",
    ]
    assert names(api.get("/accounts", search="สยามเทรด")) == ["Siam Trading Co., Ltd."]
    assert names(api.get("/accounts", search=TAX_ID)) == ["Chiang Mai Paper Co., Ltd."]
    assert names(api.get("/accounts", district=str(org.south.pk))) == ["Siam Logistics Co., Ltd."]
    assert names(api.get("/accounts", ordering="-legal_name"))[0] == "Siam Trading Co., Ltd."


def test_customer_code_filter_rejects_a_code_with_one_character_changed(org, api_as):
    account = make_account(org)
    api = api_as(org.steward)
    good = api.get("/accounts", customer_code=account.customer_code)
    assert [a["id"] for a in good.json()["items"]] == [str(account.pk)]
    code = account.customer_code
    typo = code[:-2] + str((int(code[-2]) + 1) % 10) + code[-1]
    bad = api.get("/accounts", customer_code=typo)
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_customer_code"


def test_cursor_pagination_walks_every_row_once(org, api_as):
    for i in range(7):
        make_account(org, legal_name=f"Paged {i} Co., Ltd.")
    api = api_as(org.steward)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = api.get("/accounts", **params).json()
        seen += [a["legal_name"] for a in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Paged {i} Co., Ltd." for i in range(7)]


def test_bad_cursor_is_422_not_500(org, api_as):
    api = api_as(org.steward)
    for cursor in ("garbage", "eyJvIjoibGVnYWxfbmFtZSJ9", "e30"):
        response = api.get("/accounts", cursor=cursor)
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_cursor"


def test_delete_account_without_history_and_refuse_with_history(org, api_as):
    api = api_as(org.steward)
    empty = make_account(org, legal_name="Mistake Co., Ltd.")
    used = make_account(org, legal_name="Used Co., Ltd.")
    api.post("/contacts", {"account": str(used.pk), "first_name": "Somchai"})
    assert api.delete(f"/accounts/{empty.pk}").status_code == 204
    refused = api.delete(f"/accounts/{used.pk}")
    assert refused.status_code == 409
    assert refused.json()["code"] == "account_in_use"
    assert list(Account.objects.values_list("legal_name", flat=True)) == ["Used Co., Ltd."]
    assert AuditEvent.objects.filter(record_id=str(empty.pk), action="delete").count() == 1


def test_contact_crud_and_timeline(org, api_as):
    account = make_account(org)
    api = api_as(org.rep)
    created = api.post(
        "/contacts",
        {
            "account": str(account.pk),
            "first_name": "Nattaya",
            "last_name": "Srisuk",
            "line_id": "@nat",
        },
    )
    assert created.status_code == 201, created.content
    contact_id = created.json()["id"]
    assert (
        api.patch(f"/contacts/{contact_id}", {"job_title": "IT Manager"}).json()["job_title"]
        == "IT Manager"
    )
    timeline = api.get(f"/contacts/{contact_id}/timeline").json()["items"]
    assert [(i["kind"], i["event"]["action"]) for i in timeline] == [
        ("audit", "update"),
        ("audit", "create"),
    ]
    assert api.delete(f"/contacts/{contact_id}").status_code == 204
    assert Contact.objects.count() == 0


def test_contact_on_invisible_account_is_a_field_error(org, api_as):
    south = make_account(org, district=org.south)
    response = api_as(org.rep).post("/contacts", {"account": str(south.pk), "first_name": "X"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"account": ["Unknown account."]}
