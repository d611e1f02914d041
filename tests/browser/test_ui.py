"""What a person sees in a real browser: sign-in, search, quick log on a phone, Thai, roles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accord.activities.models import Activity
from tests.browser.conftest import no_horizontal_scroll, screenshots, sign_in
from tests.conftest import make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

THAI_NAME = "บริษัท สยามพาณิชย์ การพิมพ์ จำกัด"


def test_sign_in(org, new_page):
    # given
    page = new_page()
    # when: an anonymous visit is sent to the sign-in page, then back
    page.goto("/accounts/")
    assert "/login/?next=/accounts/" in page.url
    page.get_by_label("Username").fill("rep")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    # then
    assert page.get_by_role("alert").is_visible()
    screenshots(page, "sign-in-error")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/")
    assert page.get_by_role("heading", level=1).inner_text() == "Accounts"
    page.goto("/")
    assert "Hello, First" in page.get_by_role("heading", level=1).inner_text()
    screenshots(page, "home")
    # and out again
    page.get_by_text("First").first.click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")


def test_find_an_account_by_a_fragment_of_its_thai_name(org, new_page):
    # given
    account = make_account(org, legal_name="Siam Panich Printing Co., Ltd.", name_th=THAI_NAME)
    make_account(org, legal_name="Other Trading Co., Ltd.", name_th="บริษัท อื่น ๆ จำกัด")
    page = new_page()
    sign_in(page, "rep")
    # when: the global search box
    page.get_by_label("Search accounts, contacts, leads and opportunities").fill("พาณิชย์")
    page.get_by_label("Search accounts, contacts, leads and opportunities").press("Enter")
    # then
    results = page.locator("#results-accounts")
    assert results.get_by_text("Siam Panich Printing Co., Ltd.").is_visible()
    assert results.get_by_text("Other Trading").count() == 0
    screenshots(page, "search-thai")
    # the account list narrows as one types (htmx)
    page.goto("/accounts/")
    assert page.get_by_text("Other Trading Co., Ltd.").is_visible()
    page.get_by_label("Search", exact=True).fill("สยามพา")
    page.get_by_text("Other Trading Co., Ltd.").wait_for(state="detached")
    assert "q=" in page.url
    page.get_by_role("link", name="Siam Panich Printing Co., Ltd.").click()
    page.wait_for_url(f"**/accounts/{account.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Siam Panich Printing Co., Ltd."
    assert page.get_by_text(account.customer_code).is_visible()
    screenshots(page, "account-360")


def test_log_a_visit_from_a_phone(org, new_page):
    # given
    account = make_account(org, legal_name="Bangna Office Supplies Co., Ltd.", name_th=THAI_NAME)
    page = new_page(
        phone=True,
        geolocation={"latitude": 13.668217, "longitude": 100.614021},
        permissions=["geolocation"],
    )
    sign_in(page, "rep")
    page.goto(f"/accounts/{account.pk}/")
    assert no_horizontal_scroll(page)
    # when: tap 1 the subject, type, tap 2 save ("Visit" is already chosen)
    page.get_by_label("Subject").tap()
    page.keyboard.type("Demo of the A3 copier")
    page.get_by_role("button", name="Save").tap()
    # then
    page.get_by_role("status").get_by_text("Visit logged: Demo of the A3 copier").wait_for()
    assert page.locator("#timeline").get_by_text("Demo of the A3 copier").is_visible()
    visit = Activity.objects.get()
    assert (visit.kind, visit.performed_by, visit.account_id) == ("visit", org.rep, account.pk)
    screenshots(page, "quick-log-visit")
    # a call with the phone's location: tap "Call", open the extras, tick location, save
    page.get_by_text("Call", exact=True).tap()
    page.get_by_label("Subject").fill("Toner order follow-up")
    page.get_by_text("Notes and location").tap()
    page.get_by_label("Add my current location").tap()
    page.get_by_text("13.668217, 100.614021").wait_for()
    page.get_by_role("button", name="Save").tap()
    page.get_by_role("status").get_by_text("Call logged: Toner order follow-up").wait_for()
    call = Activity.objects.get(kind="call")
    assert (call.latitude, call.longitude) == (Decimal("13.668217"), Decimal("100.614021"))


def test_switch_to_thai(org, new_page):
    account = make_account(org, legal_name="Thai Labels Co., Ltd.", name_th=THAI_NAME)
    page = new_page()
    sign_in(page, "rep")
    page.goto(f"/accounts/{account.pk}/")
    # when
    page.get_by_role("button", name="ไทย").click()
    # then
    page.wait_for_selector("html[lang=th]")
    nav = page.get_by_role("navigation")
    assert nav.get_by_role("link", name="บัญชีลูกค้า", exact=True).is_visible()
    assert page.get_by_role("heading", name="บันทึกการเข้าพบหรือการโทร").is_visible()
    assert page.get_by_text("รหัสลูกค้า").is_visible()
    screenshots(page, "account-360-thai")
    page.goto("/accounts/")
    assert page.get_by_role("heading", level=1).inner_text() == "บัญชีลูกค้า"
    screenshots(page, "accounts-thai")
    # and back
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("html[lang=en]")
    assert page.get_by_role("heading", level=1).inner_text() == "Accounts"


def test_a_rep_cannot_open_an_admin_screen(org, new_page):
    # given
    rep = new_page()
    sign_in(rep, "rep")
    # then: no link ...
    assert rep.get_by_role("navigation").get_by_role("link", name="Administration").count() == 0
    # ... and typing the address does not open it
    rep.goto("/admin/customers/account/")
    assert "/admin/login/" in rep.url
    assert rep.get_by_text("not authorized to access this page").is_visible()
    screenshots(rep, "rep-admin-refused")
    # an administrator has the link and gets in
    admin = new_page()
    sign_in(admin, "admin")
    admin.get_by_role("navigation").get_by_role("link", name="Administration").click()
    admin.wait_for_url("**/admin/")
    assert admin.get_by_role("heading", name="Site administration").is_visible()


def test_every_page_fits_a_phone_and_a_desktop(org, new_page):
    # given: a record of each kind, with long Thai and English names
    from accord.activities.services import activity_create
    from accord.customers.services import contact_create
    from accord.sales.services import lead_create, opportunity_create

    account = make_account(
        org,
        legal_name="Siam Panich International Office Automation and Printing Solutions Co., Ltd.",
        name_th=THAI_NAME,
        tax_id="0994000165668",
        phone="02-123-4567",
        email="purchasing@siam-panich-office-automation.example",
    )
    contact_create(
        actor=org.rep,
        data={"account": account.pk, "first_name": "Somchai", "last_name": "Jaidee",
              "first_name_th": "สมชาย", "last_name_th": "ใจดี", "job_title": "Procurement manager",
              "email": "somchai.jaidee@siam-panich-office-automation.example"},
    )  # fmt: skip
    opportunity_create(
        actor=org.rep,
        data={"account": account.pk, "name": "Managed print services, 120 devices, 5 years",
              "amount": Decimal("12500000")},
    )  # fmt: skip
    activity_create(
        actor=org.rep,
        data={"account": account.pk, "kind": "task", "subject": "Send the revised quotation",
              "due_date": dt.date(2026, 1, 5)},
    )  # fmt: skip
    lead = lead_create(
        actor=org.rep, data={"company_name": "Chiang Mai Copier Wholesale Partnership"}
    )
    page = new_page()
    sign_in(page, "rep")
    pages = {
        "my-day": "/",
        "accounts": "/accounts/",
        "contacts": "/contacts/",
        "leads": "/leads/",
        "opportunities": "/opportunities/",
        "activities": "/activities/",
        "account-edit": f"/accounts/{account.pk}/edit/",
        "opportunity-new": f"/accounts/{account.pk}/opportunities/new/",
        "password": "/password/",
        "lead-convert": f"/leads/{lead.pk}/convert/",
        "import": "/imports/",
    }
    for name, url in pages.items():
        page.goto(url)
        assert page.get_by_role("heading", level=1).count() == 1, name
        screenshots(page, name)  # asserts no horizontal scrolling at either size
    manager = new_page()
    sign_in(manager, "manager")
    for name, url in {
        "team": "/team/",
        "handover": f"/team/{org.rep.pk}/handover/?rule=by_district&to={org.manager.pk}",
    }.items():
        manager.goto(url)
        assert manager.get_by_role("heading", level=1).count() == 1, name
        screenshots(manager, name)
    from accord.integration.models import Connector, ConnectorKind

    Connector.objects.create(
        name="legacy-ledger-webhook-with-a-long-name",
        kind=ConnectorKind.WEBHOOK,
        event_types=["account.approved"],
        settings={"url": "http://127.0.0.1:9/", "secret": "s"},
    )
    admin = new_page()
    sign_in(admin, "admin")
    admin.goto("/integration/")
    assert admin.get_by_role("heading", level=1).count() == 1
    screenshots(admin, "integration-console")
    # a form with errors, on the phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/accounts/{account.pk}/contacts/new/")
    page.get_by_label("Email").fill("not an email")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("Email").input_value() == "not an email"
    screenshots(page, "contact-form-errors")


def test_drag_an_opportunity_to_a_stage_whose_fields_are_missing(org, new_page):
    # given: "Proposal" needs an expected close date
    from accord.dataquality.models import RequiredFieldRule
    from accord.sales.models import Opportunity, Stage
    from accord.sales.services import opportunity_create

    proposal = Stage.objects.get(pipeline=org.pipeline, name="Proposal")
    RequiredFieldRule.objects.create(
        record_type="opportunity", field="expected_close_date", stage=proposal
    )
    account = make_account(org, legal_name="Board Co., Ltd.")
    opp = opportunity_create(actor=org.rep, data={"account": account.pk, "name": "Copier fleet"})
    page = new_page()
    sign_in(page, "rep")
    page.goto("/pipeline/")
    card = page.locator(f"#opp-{opp.pk}")
    target = page.locator(f'[data-stage="{proposal.pk}"]')
    # when: dragged to Proposal
    card.drag_to(target)
    # then: the card is back in its column, showing what is missing
    alert = page.locator(f"#opp-{opp.pk}").get_by_role("alert")
    alert.wait_for()
    assert "expected_close_date" in alert.inner_text()
    prospecting = Stage.objects.get(pipeline=org.pipeline, name="Prospecting")
    assert page.locator(f'[data-stage="{prospecting.pk}"] #opp-{opp.pk}').count() == 1
    screenshots(page, "board-refused")
    # fill the field in, come back and drag again: it moves
    alert.get_by_role("link", name="Edit the opportunity").click()
    page.get_by_label("Expected close date").fill("2026-12-31")
    page.get_by_role("button", name="Save").click()
    page.goto("/pipeline/")
    page.locator(f"#opp-{opp.pk}").drag_to(page.locator(f'[data-stage="{proposal.pk}"]'))
    page.locator(f'[data-stage="{proposal.pk}"] #opp-{opp.pk}').wait_for()
    opp.refresh_from_db()
    assert opp.stage == proposal
    # and with the keyboard: the card's "Move to" list
    negotiation = Stage.objects.get(pipeline=org.pipeline, name="Negotiation")
    page.get_by_label("Move “Copier fleet” to").select_option(label="Negotiation")
    page.get_by_label("Move “Copier fleet” to").press("Tab")
    page.keyboard.press("Enter")
    page.locator(f'[data-stage="{negotiation.pk}"] #opp-{opp.pk}').wait_for()
    assert Opportunity.objects.get(pk=opp.pk).stage == negotiation
    screenshots(page, "board")
