"""Mass assignment: fields a caller may not set, sent through the API's creates and updates
and the web forms, change nothing and are reported.

The API's input schemas refuse unknown and read-only fields (``InputSchema``,
``extra="forbid"``): the answer is ``422 invalid_request`` naming the field, and nothing is
written. Fields a caller may send but not to any value (the owner, the business unit) are
refused by the services. The web forms only read the fields they declare: anything else
POSTed is ignored.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client

from accord.activities.models import Activity
from accord.activities.services import activity_create
from accord.customers.models import Account, AccountRequest, Contact
from accord.customers.requests import account_request_submit
from accord.customers.services import contact_create
from accord.sales.models import Lead, Opportunity
from accord.sales.services import lead_create, opportunity_create
from accord.territories.models import AccountOwner
from tests.conftest import ApiClient, Org, make_account

pytestmark = pytest.mark.django_db

# Fields no caller sets through a create or an update: ids, codes, timestamps, merge
# pointers and the audit trail's own fields.
FOREIGN_ID = "01a20000-0000-7000-8000-000000000000"
SYSTEM_FIELDS: dict[str, Any] = {
    "id": FOREIGN_ID,
    "customer_code": "C000000017",
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "merged_into": FOREIGN_ID,
    "created_by": FOREIGN_ID,
    "updated_by": FOREIGN_ID,
    "search_text": "injected",
    "requester": FOREIGN_ID,
    "status_changed_at": "2020-01-01T00:00:00Z",
}

# The valid part of each create, and the collection it goes to.
CREATES: dict[str, str] = {
    "accounts": "steward",
    "contacts": "steward",
    "leads": "rep",
    "opportunities": "rep",
    "activities": "rep",
    "account-requests": "rep",
}

MODELS: dict[str, type[Any]] = {
    "accounts": Account,
    "contacts": Contact,
    "leads": Lead,
    "opportunities": Opportunity,
    "activities": Activity,
    "account-requests": AccountRequest,
}


def _create_body(collection: str, account: Account, org: Org) -> dict[str, Any]:
    unique = uuid.uuid4().hex[:6]
    return {
        "accounts": {
            "legal_name": f"Korat Glass {unique} Co., Ltd.",
            "district": str(org.north.pk),
        },
        "contacts": {"account": str(account.pk), "first_name": f"Anan{unique}"},
        "leads": {"company_name": f"Surin Silk {unique}"},
        "opportunities": {"name": f"Printers {unique}", "account": str(account.pk)},
        "activities": {"kind": "call", "subject": "Call", "account": str(account.pk)},
        "account-requests": {
            "legal_name": f"Trang Rubber {unique} Co., Ltd.",
            "district": str(org.north.pk),
        },
    }[collection]


@pytest.fixture
def account(org: Org) -> Account:
    account = make_account(org, legal_name="Chiang Mai Textiles Co., Ltd.")
    AccountOwner.objects.create(account=account, business_unit=org.unit, owner=org.rep)
    return account


def _snapshot(model: type[Any], pk: Any) -> list[dict[str, Any]]:
    return list(model.objects.filter(pk=pk).values())


def _assert_refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["code"] == "invalid_request"
    assert list(body["errors"]) == [field]


def _refusal(response: Any, field: str) -> str | None:
    """Why ``response`` is not the refusal of ``field`` (``None``: it is)."""
    if response.status_code != 422:
        return f"{field}: HTTP {response.status_code} {response.content[:200]!r}"
    body = response.json()
    if (response["Content-Type"], body["code"], list(body["errors"])) != (
        "application/problem+json",
        "invalid_request",
        [field],
    ):
        return f"{field}: {body}"
    return None


@pytest.mark.parametrize("collection", sorted(CREATES))
def test_a_create_refuses_system_fields_and_creates_nothing(
    org: Org, account: Account, api_as: Any, collection: str
) -> None:
    # given
    api: ApiClient = api_as(getattr(org, CREATES[collection]))
    model = MODELS[collection]
    count = model.objects.count()
    # when: each system field is sent along with a valid create
    problems = [
        _refusal(
            api.post(
                f"/{collection}",
                _create_body(collection, account, org) | {field: value},
            ),
            field,
        )
        for field, value in SYSTEM_FIELDS.items()
    ]
    # then: each is refused, naming the field, and no row is written
    assert [p for p in problems if p] == []
    assert model.objects.count() == count


def _records(org: Org, account: Account) -> dict[str, tuple[Any, str]]:
    """One record per collection, and who may change it."""
    contact = contact_create(actor=org.steward, data={"account": account.pk, "first_name": "Ann"})
    lead = lead_create(actor=org.rep, data={"company_name": "Lampang Pottery"})
    opportunity = opportunity_create(actor=org.rep, data={"name": "Deal", "account": account.pk})
    activity = activity_create(
        actor=org.rep, data={"kind": "visit", "subject": "Visit", "account": account.pk}
    )
    request = account_request_submit(
        actor=org.rep, data={"legal_name": "Udon Solar Co., Ltd.", "district": org.north.pk}
    )
    return {
        "accounts": (account, "rep"),  # the owner changes their account
        "contacts": (contact, "rep"),
        "leads": (lead, "rep"),
        "opportunities": (opportunity, "rep"),
        "activities": (activity, "rep"),
        "account-requests": (request, "rep"),
    }


@pytest.mark.parametrize("collection", sorted(CREATES))
def test_an_update_refuses_system_fields_and_changes_nothing(
    org: Org, account: Account, api_as: Any, collection: str
) -> None:
    # given
    record, who = _records(org, account)[collection]
    api: ApiClient = api_as(getattr(org, who))
    before = _snapshot(MODELS[collection], record.pk)
    # when
    problems = [
        _refusal(api.patch(f"/{collection}/{record.pk}", {field: value}), field)
        for field, value in SYSTEM_FIELDS.items()
    ]
    # then
    assert [p for p in problems if p] == []
    assert _snapshot(MODELS[collection], record.pk) == before


@pytest.mark.parametrize(
    ("collection", "field"),
    [
        ("accounts", "owner"),
        ("accounts", "owner_id"),
        ("accounts", "business_unit"),
        ("contacts", "owner"),
        ("contacts", "business_unit"),
        ("activities", "owner"),
        ("activities", "business_unit"),
        ("account-requests", "owner"),
        ("account-requests", "business_unit"),
        ("leads", "owner_id"),
        ("opportunities", "owner_id"),
    ],
)
def test_owner_and_unit_are_not_input_where_the_caller_may_not_choose_them(
    org: Org, account: Account, api_as: Any, collection: str, field: str
) -> None:
    # given: the other unit's id, or the other rep's
    value = str(org.other_unit.pk) if field == "business_unit" else str(org.other_rep.pk)
    record, who = _records(org, account)[collection]
    api: ApiClient = api_as(getattr(org, who))
    before = _snapshot(MODELS[collection], record.pk)
    count = MODELS[collection].objects.count()
    # when
    updated = api.patch(f"/{collection}/{record.pk}", {field: value})
    created = api.post(f"/{collection}", _create_body(collection, account, org) | {field: value})
    # then
    _assert_refused(updated, field)
    _assert_refused(created, field)
    assert _snapshot(MODELS[collection], record.pk) == before
    assert MODELS[collection].objects.count() == count


@pytest.mark.parametrize("collection", ["leads", "opportunities"])
def test_a_rep_cannot_make_another_rep_the_owner(
    org: Org, account: Account, api_as: Any, collection: str
) -> None:
    # given: the other rep does not report to the rep
    record, _who = _records(org, account)[collection]
    api: ApiClient = api_as(org.rep)
    before = _snapshot(MODELS[collection], record.pk)
    count = MODELS[collection].objects.count()
    # when
    updated = api.patch(f"/{collection}/{record.pk}", {"owner": str(org.other_rep.pk)})
    created = api.post(
        f"/{collection}",
        _create_body(collection, account, org) | {"owner": str(org.other_rep.pk)},
    )
    # then: 403 owner_not_assignable, with the field named; nothing written
    for response in (updated, created):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "owner_not_assignable"
        assert list(response.json()["errors"]) == ["owner"]
    assert _snapshot(MODELS[collection], record.pk) == before
    assert MODELS[collection].objects.count() == count


def test_a_rep_cannot_log_an_activity_as_someone_else(
    org: Org, account: Account, api_as: Any
) -> None:
    # given
    record, _who = _records(org, account)["activities"]
    api: ApiClient = api_as(org.rep)
    before = _snapshot(Activity, record.pk)
    count = Activity.objects.count()
    # when
    updated = api.patch(f"/activities/{record.pk}", {"performed_by": str(org.other_rep.pk)})
    created = api.post(
        "/activities",
        _create_body("activities", account, org) | {"performed_by": str(org.other_rep.pk)},
    )
    # then
    for response in (updated, created):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "owner_not_assignable"
    assert _snapshot(Activity, record.pk) == before
    assert Activity.objects.count() == count


@pytest.mark.parametrize("collection", ["leads", "opportunities"])
def test_a_rep_cannot_move_a_record_into_another_unit(
    org: Org, account: Account, api_as: Any, collection: str
) -> None:
    # given: the rep is in unit A; the other unit is B
    record, _who = _records(org, account)[collection]
    api: ApiClient = api_as(org.rep)
    before = _snapshot(MODELS[collection], record.pk)
    count = MODELS[collection].objects.count()
    other = str(org.other_unit.pk)
    # when
    updated = api.patch(f"/{collection}/{record.pk}", {"business_unit": other})
    created = api.post(
        f"/{collection}", _create_body(collection, account, org) | {"business_unit": other}
    )
    # then: refused with the field named, nothing written
    for response in (updated, created):
        assert response.status_code in (403, 422), response.content
        assert "business_unit" in response.json()["errors"], response.content
    assert _snapshot(MODELS[collection], record.pk) == before
    assert MODELS[collection].objects.count() == count


# --- the web forms ------------------------------------------------------------------------

EXTRA_POST = {
    "id": FOREIGN_ID,
    "customer_code": "C000000017",
    "created_at": "2020-01-01 00:00",
    "updated_at": "2020-01-01 00:00",
    "merged_into": FOREIGN_ID,
    "created_by": FOREIGN_ID,
    "requester": FOREIGN_ID,
    "performed_by": FOREIGN_ID,
    "search_text": "injected",
}


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_account_form_ignores_fields_it_does_not_show(org: Org, account: Account) -> None:
    # given
    code, created = account.customer_code, account.created_at
    # when: the owner saves the form with extra fields
    response = _signed_in(org.rep).post(
        f"/accounts/{account.pk}/edit/",
        {
            "legal_name": account.legal_name,
            "district": str(org.north.pk),
            "status": "active",
            "phone": "021234567",
            **EXTRA_POST,
        },
    )
    # then: saved, and only the form's fields changed
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.phone == "021234567"
    assert (account.customer_code, account.created_at) == (code, created)
    assert account.merged_into_id is None
    assert account.search_text != "injected"


def test_the_contact_and_activity_forms_ignore_extra_fields(org: Org, account: Account) -> None:
    # given
    records = _records(org, account)
    contact: Contact = records["contacts"][0]
    activity: Activity = records["activities"][0]
    client = _signed_in(org.rep)
    # when
    saved_contact = client.post(
        f"/contacts/{contact.pk}/edit/",
        {"first_name": "Ann", "job_title": "Buyer", "account": FOREIGN_ID, **EXTRA_POST},
    )
    saved_activity = client.post(
        f"/activities/{activity.pk}/edit/",
        {"kind": "visit", "subject": "Visit", "outcome": "Good", **EXTRA_POST},
    )
    # then
    assert (saved_contact.status_code, saved_activity.status_code) == (302, 302)
    contact.refresh_from_db()
    activity.refresh_from_db()
    assert (contact.job_title, contact.account_id) == ("Buyer", account.pk)
    assert (activity.outcome, activity.performed_by_id) == ("Good", org.rep.pk)


def test_the_lead_form_refuses_another_reps_ownership_and_another_unit(
    org: Org, account: Account
) -> None:
    # given
    lead: Lead = _records(org, account)["leads"][0]
    before = _snapshot(Lead, lead.pk)
    client = _signed_in(org.rep)
    base = {"company_name": lead.company_name, "owner": str(org.rep.pk), **EXTRA_POST}
    # when: another rep as the owner; the other unit as the unit
    to_other_rep = client.post(f"/leads/{lead.pk}/edit/", base | {"owner": str(org.other_rep.pk)})
    to_other_unit = client.post(
        f"/leads/{lead.pk}/edit/", base | {"business_unit": str(org.other_unit.pk)}
    )
    # then: both refused on the form, nothing saved
    assert to_other_rep.status_code == 422
    assert "owner" in to_other_rep.context["form"].errors
    assert to_other_unit.status_code == 422
    assert "business_unit" in to_other_unit.context["form"].errors
    assert _snapshot(Lead, lead.pk) == before
