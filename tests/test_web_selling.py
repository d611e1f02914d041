"""Cross-selling in the UI: the opportunity form's refusal with its options, asking for a
selling exception, the approver's queue and decision, withdrawing."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accord.sales.models import Opportunity
from accord.territories import selling
from accord.territories.models import AccountOwner, ExceptionStatus, SellingException
from tests.conftest import make_account
from tests.factories import ProductLineFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _owned_by_other_rep(org):
    account = make_account(org, legal_name="Owned Trading Co., Ltd.")
    AccountOwner.objects.create(account=account, business_unit=org.unit, owner=org.other_rep)
    return account


def test_the_opportunity_form_shows_the_refusal_and_what_to_do(org):
    # given an account other_rep owns
    account = _owned_by_other_rep(org)

    # when rep saves a new opportunity on it
    response = signed_in(org.rep).post(
        f"/accounts/{account.pk}/opportunities/new/", {"name": "Printers"}
    )

    # then nothing is saved, the page names the owner and links to an exception and a dispute
    assert response.status_code == 422
    page = response.content.decode()
    assert "Nothing was saved." in page
    assert f"is {org.other_rep}&#x27;s account" in page
    assert f'href="/accounts/{account.pk}/selling-exception/?unit={org.unit.pk}"' in page
    assert f'href="/accounts/{account.pk}/claim/"' in page
    assert Opportunity.objects.count() == 0


def test_a_rep_asks_for_an_exception_from_the_account(org):
    account = _owned_by_other_rep(org)
    printers = ProductLineFactory(name="Printers")
    client = signed_in(org.rep)
    url = f"/accounts/{account.pk}/selling-exception/"

    # the form opens with the unit and lines of the refusal, and says why it is needed
    opened = client.get(url, {"unit": str(org.unit.pk), "lines": str(printers.pk)})
    assert opened.status_code == 200
    page = opened.content.decode()
    assert 'id="selling-decision"' in page
    assert str(org.other_rep) in page
    assert re.search(rf'value="{printers.pk}"[^>]*checked', page)

    # a request without a reason is refused next to the field
    empty = client.post(url, {"business_unit": str(org.unit.pk), "reason": ""})
    assert empty.status_code == 422
    assert "Say why you should sell to this account." in empty.content.decode()
    assert SellingException.objects.count() == 0

    # with a reason it is sent to the owner's manager
    sent = client.post(
        url,
        {
            "business_unit": str(org.unit.pk),
            "product_lines": [str(printers.pk)],
            "reason": "They called me.",
        },
    )
    exception = SellingException.objects.get()
    assert (sent.status_code, sent["Location"]) == (302, f"/selling/exceptions/{exception.pk}/")
    assert exception.approver == org.manager
    assert list(exception.product_lines.all()) == [printers]


def test_the_approver_decides_from_the_queue(org):
    account = _owned_by_other_rep(org)
    exception = selling.selling_exception_request(
        actor=org.rep, account=account, reason="They called me."
    )
    client = signed_in(org.manager)

    # the queue lists it; the detail page has the decision form
    queue = client.get("/selling/exceptions/")
    assert queue.status_code == 200
    assert f'href="/selling/exceptions/{exception.pk}/"' in queue.content.decode()
    detail = client.get(f"/selling/exceptions/{exception.pk}/")
    assert 'id="decide"' in detail.content.decode()

    # refusing without a note is refused
    no_note = client.post(
        f"/selling/exceptions/{exception.pk}/decide/", {"decision": "refuse", "note": ""}
    )
    assert no_note.status_code == 422
    assert "A reason is required to refuse an exception." in no_note.content.decode()

    # approving works
    approved = client.post(f"/selling/exceptions/{exception.pk}/decide/", {"decision": "approve"})
    assert approved.status_code == 302
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.APPROVED
    # and the rep may now open the opportunity in the UI
    opened = signed_in(org.rep).post(
        f"/accounts/{account.pk}/opportunities/new/", {"name": "Printers"}
    )
    assert opened.status_code == 302
    assert Opportunity.objects.filter(owner=org.rep).count() == 1


def test_the_rep_cannot_decide_but_may_withdraw(org):
    account = _owned_by_other_rep(org)
    exception = selling.selling_exception_request(actor=org.rep, account=account, reason="x")
    client = signed_in(org.rep)

    detail = client.get(f"/selling/exceptions/{exception.pk}/").content.decode()
    assert 'id="decide"' not in detail
    assert f'action="/selling/exceptions/{exception.pk}/withdraw/"' in detail
    refused = client.post(f"/selling/exceptions/{exception.pk}/decide/", {"decision": "approve"})
    assert refused.status_code == 422
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.PENDING

    withdrawn = client.post(f"/selling/exceptions/{exception.pk}/withdraw/")
    assert withdrawn.status_code == 302
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.WITHDRAWN


def test_others_do_not_see_an_exception(org):
    account = _owned_by_other_rep(org)
    exception = selling.selling_exception_request(actor=org.rep, account=account, reason="x")

    for user in (org.other_rep, org.south_rep):
        response = signed_in(user).get(f"/selling/exceptions/{exception.pk}/")
        assert response.status_code == 404
