"""Ownership disputes in the UI: claim an account, answer and decide through the pages, with
field errors on bad input; the lists and the account's disputes partial."""

from __future__ import annotations

from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client

from accord.activities.services import activity_create
from accord.customers.models import Account
from accord.org.models import ProductLine, Role, User
from accord.territories.disputes import dispute_open, disputes_of_account
from accord.territories.models import AccountOwner, DisputeStatus, OwnershipDispute
from tests.conftest import Org, make_account
from tests.factories import ProductLineFactory, UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def account(org: Org) -> Account:
    """A north account owned in the unit by ``other_rep``; the unit sells two lines."""
    account = make_account(org, legal_name="Claimed Trading Co., Ltd.")
    AccountOwner.objects.create(account=account, business_unit=org.unit, owner=org.other_rep)
    org.unit.product_lines.set([ProductLineFactory(name="Copiers"), ProductLineFactory()])
    return account


def open_claim(org: Org, account: Account) -> OwnershipDispute:
    return dispute_open(actor=org.rep, account=account, reason="I visit them every month.")


def test_claim_form_shows_field_errors_then_opens_the_dispute(org: Org, account: Account) -> None:
    client = signed_in(org.rep)
    visit = activity_create(
        actor=org.rep,
        data={"kind": "visit", "subject": "Monthly visit", "account": account.pk},
    )
    url = f"/accounts/{account.pk}/claim/"
    # the form offers the rep's activities on the account
    page = client.get(url)
    assert page.status_code == 200
    assert "Monthly visit" in page.content.decode()
    # a claim without a reason is refused next to the field, and nothing is saved
    bad = client.post(url, {"reason": "  ", "evidence": "Orders"})
    assert bad.status_code == 422
    assert bad.context["form"].errors["reason"] == ["Say why the account should be yours."]
    assert 'id="id_reason-errors"' in bad.content.decode()
    assert OwnershipDispute.objects.count() == 0
    # a good claim opens the dispute and shows it
    good = client.post(
        url, {"reason": "I visit them every month.", "evidence": "", "activities": [visit.pk]}
    )
    dispute = OwnershipDispute.objects.get()
    assert good.status_code == 302
    assert good["Location"] == f"/disputes/{dispute.pk}/"
    assert (dispute.claimant, dispute.owner, dispute.decider) == (
        org.rep,
        org.other_rep,
        org.manager,
    )
    assert list(dispute.activities.all()) == [visit]
    detail = client.get(good["Location"]).content.decode()
    assert "Claimed Trading Co., Ltd." in detail
    assert "Monthly visit" in detail
    assert 'action="/disputes/' in detail and "/withdraw/" in detail


def test_claiming_twice_shows_the_conflict_at_the_top(org: Org, account: Account) -> None:
    open_claim(org, account)
    response = signed_in(org.rep).post(f"/accounts/{account.pk}/claim/", {"reason": "Again."})
    assert response.status_code == 422
    assert response.context["form"].non_field_errors() == [
        "You already have an open claim on this account."
    ]


def test_an_account_one_cannot_see_cannot_be_claimed(org: Org, account: Account) -> None:
    # the south rep does not see north accounts: 404, not 403
    assert signed_in(org.south_rep).get(f"/accounts/{account.pk}/claim/").status_code == 404
    # an executive sees it but may not claim
    assert signed_in(org.executive).get(f"/accounts/{account.pk}/claim/").status_code == 403


def test_owner_answers_through_the_page(org: Org, account: Account) -> None:
    dispute = open_claim(org, account)
    owner = signed_in(org.other_rep)
    page = owner.get(f"/disputes/{dispute.pk}/").content.decode()
    assert 'id="answer"' in page
    assert 'id="decide"' not in page
    # an empty answer: a field error
    bad = owner.post(f"/disputes/{dispute.pk}/answer/", {"answer": ""})
    assert bad.status_code == 422
    assert bad.context["answer_form"].errors["answer"] == ["Write your answer."]
    assert 'id="answer-answer-errors"' in bad.content.decode()
    # the answer
    good = owner.post(f"/disputes/{dispute.pk}/answer/", {"answer": "They are mine."})
    assert good.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.owner_answer) == (DisputeStatus.ANSWERED, "They are mine.")
    # answered once: the form is gone
    assert 'id="answer"' not in owner.get(f"/disputes/{dispute.pk}/").content.decode()


def test_manager_decides_a_split_through_the_page(org: Org, account: Account) -> None:
    dispute = open_claim(org, account)
    manager = signed_in(org.manager)
    page = manager.get(f"/disputes/{dispute.pk}/").content.decode()
    assert 'id="decide"' in page
    copiers = ProductLine.objects.get(name="Copiers")
    url = f"/disputes/{dispute.pk}/decide/"
    # a split without lines and without a reason: both fields marked
    bad = manager.post(url, {"outcome": "split", "note": ""})
    assert bad.status_code == 422
    assert bad.context["decide_form"].errors["note"] == [
        "Say why you decide so (it is on the record)."
    ]
    bad = manager.post(url, {"outcome": "split", "note": "Copiers to the rep."})
    assert bad.context["decide_form"].errors["product_lines"] == [
        "Choose the product lines the claimant gets."
    ]
    assert 'id="decide-product_lines-errors"' in bad.content.decode()
    # a line the unit does not sell is not even a choice
    stranger = ProductLineFactory(name="Elsewhere")
    bad = manager.post(url, {"outcome": "split", "product_lines": [stranger.pk], "note": "x"})
    assert bad.status_code == 422
    assert "product_lines" in bad.context["decide_form"].errors
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN
    # the split
    good = manager.post(
        url, {"outcome": "split", "product_lines": [copiers.pk], "note": "Copiers to the rep."}
    )
    assert good.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.outcome) == (DisputeStatus.DECIDED, "split")
    assert AccountOwner.objects.get(account=account, product_line=copiers).owner == org.rep
    detail = manager.get(f"/disputes/{dispute.pk}/").content.decode()
    assert "Split by product line" in detail
    assert 'id="decide"' not in detail


def test_the_claimant_cannot_decide_and_outsiders_do_not_see_it(org: Org, account: Account) -> None:
    dispute = open_claim(org, account)
    rep = signed_in(org.rep)
    assert 'id="decide"' not in rep.get(f"/disputes/{dispute.pk}/").content.decode()
    refused = rep.post(f"/disputes/{dispute.pk}/decide/", {"outcome": "transfer", "note": "Mine."})
    assert refused.status_code == 422
    assert refused.context["decide_form"].non_field_errors() == [
        "Only the manager responsible (after escalation: the regional manager) decides."
    ]
    assert AccountOwner.objects.get(account=account).owner == org.other_rep
    colleague = UserFactory(role=Role.SALES_REP, business_unit=org.unit, districts=[org.north])
    assert signed_in(colleague).get(f"/disputes/{dispute.pk}/").status_code == 404


def test_withdraw_through_the_page(org: Org, account: Account) -> None:
    dispute = open_claim(org, account)
    response = signed_in(org.rep).post(f"/disputes/{dispute.pk}/withdraw/")
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.WITHDRAWN


@pytest.mark.parametrize(
    ("who", "tab", "expected"),
    [("rep", "mine", 1), ("manager", "mine", 0), ("manager", "decide", 1), ("steward", "all", 1)],
)
def test_list_tabs(org: Org, account: Account, who: str, tab: str, expected: int) -> None:
    open_claim(org, account)
    response = signed_in(getattr(org, who)).get("/disputes/", {"tab": tab})
    assert response.status_code == 200
    assert len(response.context["page"].items) == expected


def test_account_partial_lists_open_and_past_disputes(org: Org, account: Account) -> None:
    from accord.territories.disputes import dispute_withdraw

    first = open_claim(org, account)
    dispute_withdraw(actor=org.rep, dispute=first)
    second = open_claim(org, account)
    disputes: Any = list(disputes_of_account(org.rep, account))
    assert disputes == [second, first]  # the open one first
    html = render_to_string(
        "web/partials/account_disputes.html",
        {"disputes": disputes, "account": account, "may_sell": True},
    )
    assert html.count('class="dispute-open"') == 1
    assert html.count('class="dispute-past"') == 1
    assert f'href="/accounts/{account.pk}/claim/"' in html
    empty = render_to_string("web/partials/account_disputes.html", {"disputes": []})
    assert "No ownership disputes." in empty
