"""What a person sees: a rep requests an account on a phone, a steward approves it, the rep
sees the outcome and a notification."""

from __future__ import annotations

import re

import pytest

from accord.customers.models import Account, AccountRequest
from tests.browser.conftest import no_horizontal_scroll, screenshots, sign_in
from tests.conftest import make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIAM = "Siam Trading Co., Ltd."


def test_a_rep_requests_an_account_and_a_steward_approves_it(org, new_page):
    # given: a customer that exists in the rep's district
    existing = make_account(org, legal_name=SIAM, phone="02-123-4567")
    rep = new_page(phone=True)
    sign_in(rep, "rep")
    # when: the rep opens "New account", they are sent to the request form
    rep.goto("/accounts/new/")
    rep.wait_for_url("**/requests/new/")
    assert rep.get_by_role("heading", level=1).inner_text() == "Request a new account"
    assert no_horizontal_scroll(rep)
    # typing a look-alike name shows the existing customer, with the reason, as they type
    rep.get_by_label("Legal name").tap()
    rep.keyboard.type("Siam Tradings Co., Ltd.")
    candidates = rep.locator("#request-candidates")
    candidates.get_by_text(existing.customer_code).wait_for()
    assert candidates.get_by_text("name differs by one character").is_visible()
    assert candidates.get_by_role("link", name=SIAM).get_attribute("href") == (
        f"/accounts/{existing.pk}/"
    )
    screenshots(rep, "request-duplicate-candidate")
    # the rep says why it is a different one and sends it
    rep.get_by_label("District", exact=True).select_option(label="Bangkok North")
    rep.get_by_label("Why is this a new account?").fill("A separate branch in Chiang Mai")
    rep.get_by_role("button", name="Send request").tap()
    rep.wait_for_url(re.compile(r".*/requests/[0-9a-f-]{36}/$"))
    rep.get_by_role("status").get_by_text("Request sent").wait_for()
    assert rep.locator("#request-status").inner_text() == "Pending"
    request = AccountRequest.objects.get()
    assert request.justification == "A separate branch in Chiang Mai"
    assert [c["customer_code"] for c in request.candidates] == [existing.customer_code]
    screenshots(rep, "request-sent")

    # when: the steward works the queue
    steward = new_page()
    sign_in(steward, "steward")
    steward.goto("/requests/queue/")
    screenshots(steward, "request-queue")
    steward.get_by_role("link", name="Siam Tradings Co., Ltd.").click()
    steward.wait_for_url(f"**/requests/{request.pk}/")
    # the existing customer beside the approval form
    side = steward.locator("#candidates")
    assert side.get_by_text(existing.customer_code).first.is_visible()
    screenshots(steward, "request-review")
    steward.get_by_label("Why is this not a duplicate?").fill("Confirmed by phone: new branch")
    steward.get_by_role("button", name="Approve and create the account").click()
    steward.get_by_role("status").get_by_text("Approved: account").wait_for()
    account = Account.objects.exclude(pk=existing.pk).get()
    assert account.legal_name == "Siam Tradings Co., Ltd."

    # then: the rep sees the outcome and a notification
    rep.reload()
    outcome = rep.locator("#outcome")
    assert outcome.get_by_text(account.customer_code).is_visible()
    assert rep.locator("#request-status").inner_text() == "Approved"
    assert rep.locator("#unread-count").inner_text().startswith("1")
    screenshots(rep, "request-approved")
    rep.get_by_role("link", name="Notifications").tap()
    rep.wait_for_url("**/notifications/")
    note = f"Account approved: Siam Tradings Co., Ltd. ({account.customer_code})"
    assert rep.get_by_role("button", name=note).is_visible()
    screenshots(rep, "notifications")
    rep.get_by_role("button", name=note).tap()
    rep.wait_for_url(f"**/requests/{request.pk}/")
    assert rep.locator("#unread-count").count() == 0
    # and the list of their requests
    rep.get_by_role("link", name="Account requests").first.tap()
    rep.wait_for_url("**/requests/")
    row = rep.locator("#request-rows li", has_text="Siam Tradings Co., Ltd.")
    assert row.get_by_text("Approved").is_visible()
    assert row.get_by_text(account.customer_code).is_visible()
    screenshots(rep, "my-requests")
