"""The lead conversion page: suggested accounts, codes checked, errors kept on the form."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.customers.models import Contact
from accord.sales.models import Lead, Opportunity
from accord.sales.services import lead_create
from tests.conftest import make_account

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _lead(org) -> Lead:
    return lead_create(
        actor=org.rep,
        data={"company_name": "Siam Trading Company Limited", "first_name": "Malee"},
    )


def test_the_page_suggests_the_existing_account_and_converts_to_it(org):
    account = make_account(org, legal_name="Siam Trading Co., Ltd.")
    lead = _lead(org)
    client = _client(org.rep)
    page = client.get(f"/leads/{lead.pk}/convert/")
    html = page.content.decode()
    assert page.status_code == 200
    assert account.customer_code in html and "same name" in html
    assert f'value="{account.pk}" checked' in html
    response = client.post(
        f"/leads/{lead.pk}/convert/",
        {"account": str(account.pk), "create_contact": "on", "opportunity_name": "Copiers"},
    )
    assert response.status_code == 302
    assert response.url == f"/accounts/{account.pk}/"
    assert Contact.objects.filter(account=account, first_name="Malee").exists()
    assert Opportunity.objects.filter(account=account, name="Copiers").exists()
    lead.refresh_from_db()
    assert lead.status == "converted"


def test_a_mistyped_customer_code_is_reported_as_invalid_and_nothing_is_saved(org):
    account = make_account(org, legal_name="Siam Trading Co., Ltd.")
    lead = _lead(org)
    code = account.customer_code
    typo = code[:-2] + str((int(code[-2]) + 1) % 10) + code[-1]  # one digit changed
    assert typo != code
    response = _client(org.rep).post(
        f"/leads/{lead.pk}/convert/", {"account_code": typo, "create_contact": "on"}
    )
    assert response.status_code == 422
    assert "Not a valid customer code." in response.content.decode()
    assert not Contact.objects.exists()
    lead.refresh_from_db()
    assert lead.status == "new"


def test_a_rep_is_offered_an_account_request_not_a_new_account(org):
    lead = _lead(org)
    html = _client(org.rep).get(f"/leads/{lead.pk}/convert/").content.decode()
    assert "Create a new account from the lead" not in html
    assert "/requests/new/" in html


def test_someone_elses_lead_is_not_found(org):
    lead = _lead(org)
    assert _client(org.south_rep).get(f"/leads/{lead.pk}/convert/").status_code == 404
