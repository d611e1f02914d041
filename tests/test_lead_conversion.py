"""Converting a lead: one transaction of the ordinary services, duplicate checks included."""

from __future__ import annotations

import pytest

from accord.audit.models import AuditEvent
from accord.customers.models import Account, Contact
from accord.sales.models import Lead, Opportunity
from accord.sales.services import lead_create
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def _lead(org, **data) -> Lead:
    data.setdefault("company_name", "Chiang Mai Paper Co., Ltd.")
    data.setdefault("first_name", "Somchai")
    data.setdefault("last_name", "Jaidee")
    data.setdefault("email", "somchai@cmpaper.co.th")
    return lead_create(actor=org.rep, data=data)


def _counts() -> tuple[int, int, int]:
    return Account.objects.count(), Contact.objects.count(), Opportunity.objects.count()


def test_rep_converts_to_an_existing_account_with_contact_and_opportunity(org, api_as):
    account = make_account(org, legal_name="Chiang Mai Paper Co., Ltd.")
    lead = _lead(org)
    response = api_as(org.rep).post(
        f"/leads/{lead.pk}/convert",
        {"account": str(account.pk), "opportunity": {"name": "Paper supply 2027"}},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["account"] == str(account.pk)
    assert body["lead"]["status"] == "converted"
    assert body["lead"]["converted_account"] == str(account.pk)
    contact = Contact.objects.get(pk=body["contact"])
    assert (contact.account_id, contact.first_name, contact.email) == (
        account.pk,
        "Somchai",
        "somchai@cmpaper.co.th",
    )
    opportunity = Opportunity.objects.get(pk=body["opportunity"])
    assert (opportunity.account_id, opportunity.contact_id, opportunity.owner_id) == (
        account.pk,
        contact.pk,
        org.rep.pk,
    )
    event = AuditEvent.objects.filter(record_id=str(lead.pk), action="update").latest("seq")
    assert event.changes["converted"] == {
        "account": str(account.pk),
        "contact": str(contact.pk),
        "opportunity": str(opportunity.pk),
    }


def test_a_rep_cannot_create_the_account_while_converting(org, api_as):
    lead = _lead(org)
    before = _counts()
    response = api_as(org.rep).post(
        f"/leads/{lead.pk}/convert", {"new_account": {"district": str(org.north.pk)}}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "account_create_requires_steward"
    assert _counts() == before
    lead.refresh_from_db()
    assert lead.status == "new"


def test_conversion_to_a_new_account_runs_the_duplicate_check(org, api_as):
    """An administrator (who may create accounts and edit any lead) converts a rep's lead."""
    existing = make_account(org, legal_name="บริษัท เชียงใหม่เปเปอร์ จำกัด")
    lead = _lead(org, company_name="เชียงใหม่ เปเปอร์ จำกัด")
    api = api_as(org.admin)
    before = _counts()
    refused = api.post(
        f"/leads/{lead.pk}/convert", {"new_account": {"district": str(org.north.pk)}}
    )
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "duplicate_suspected"
    assert [c["id"] for c in problem["candidates"]] == [str(existing.pk)]
    assert "new_account.duplicate_justification" in problem["errors"]
    assert _counts() == before
    lead.refresh_from_db()
    assert lead.status == "new"

    done = api.post(
        f"/leads/{lead.pk}/convert",
        {
            "new_account": {
                "district": str(org.north.pk),
                "duplicate_justification": "A different company with a similar name.",
            }
        },
    )
    assert done.status_code == 201, done.content
    account = Account.objects.get(pk=done.json()["account"])
    assert account.legal_name == "เชียงใหม่ เปเปอร์ จำกัด"
    assert account.customer_code != existing.customer_code


def test_the_contact_runs_the_contact_duplicate_check_and_nothing_is_half_saved(org, api_as):
    account = make_account(org, legal_name="Chiang Mai Paper Co., Ltd.")
    api = api_as(org.rep)
    api.post(
        "/contacts",
        {"account": str(account.pk), "first_name": "Somchai", "last_name": "Jaidee"},
    )
    lead = _lead(org, email="")
    before = _counts()
    refused = api.post(
        f"/leads/{lead.pk}/convert",
        {"account": str(account.pk), "opportunity": {"name": "Paper supply"}},
    )
    assert refused.status_code == 409
    assert "contact.duplicate_justification" in refused.json()["errors"]
    assert _counts() == before
    lead.refresh_from_db()
    assert lead.status == "new"


def test_opportunity_errors_name_their_part_and_roll_everything_back(org, api_as):
    account = make_account(org)
    lead = _lead(org)
    before = _counts()
    response = api_as(org.rep).post(
        f"/leads/{lead.pk}/convert", {"account": str(account.pk), "opportunity": {"name": ""}}
    )
    assert response.status_code == 422
    assert "opportunity.name" in response.json()["errors"]
    assert _counts() == before


def test_converted_or_invisible_leads_cannot_be_converted(org, api_as):
    account = make_account(org)
    lead = _lead(org)
    assert api_as(org.other_rep).post(
        f"/leads/{lead.pk}/convert", {"account": str(account.pk)}
    ).status_code in {403, 404}
    api = api_as(org.rep)
    assert api.post(f"/leads/{lead.pk}/convert", {"account": str(account.pk)}).status_code == 201
    again = api.post(f"/leads/{lead.pk}/convert", {"account": str(account.pk)})
    assert again.status_code == 422
    assert again.json()["code"] == "lead_converted"


def test_exactly_one_account_choice(org, api_as):
    lead = _lead(org)
    response = api_as(org.admin).post(f"/leads/{lead.pk}/convert", {})
    assert response.status_code == 422
    assert response.json()["code"] == "lead_convert_account"
