"""Lists and lead forms in a real browser: filter by owner on a phone and export what is
shown; a lead without its company is refused next to the field, then saved."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from accord.sales.models import Lead
from accord.sales.services import lead_create
from tests.browser.conftest import no_horizontal_scroll, screenshots, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_leads_by_owner_on_a_phone_and_export_them(org, new_page):
    # given: the manager's two reps each own leads
    for name in ("Bangkok Copier Co., Ltd.", "Nonthaburi Ink Co., Ltd."):
        lead_create(actor=org.rep, data={"company_name": name, "owner": org.rep.pk})
    lead_create(actor=org.other_rep, data={"company_name": "Rayong Toner Co., Ltd."})
    page = new_page(phone=True)
    sign_in(page, "manager")
    page.goto("/leads/")
    assert page.get_by_text("Rayong Toner Co., Ltd.").is_visible()
    assert no_horizontal_scroll(page)
    # the navigation is folded behind "Menu" on the phone
    nav = page.get_by_role("navigation")
    assert not nav.get_by_role("link", name="Accounts").is_visible()
    nav.get_by_role("button", name="Menu").tap()
    assert nav.get_by_role("link", name="Accounts").is_visible()
    assert no_horizontal_scroll(page)
    nav.get_by_role("button", name="Menu").tap()
    # the filters are folded too, until asked for
    assert not page.get_by_label("Owner").is_visible()
    page.get_by_role("button", name="Filters").tap()
    # when: the owner filter
    page.get_by_label("Owner").select_option(label=str(org.rep))
    # then: the list narrows in place, and the address says so
    page.get_by_text("Rayong Toner Co., Ltd.").wait_for(state="detached")
    assert page.get_by_text("Bangkok Copier Co., Ltd.").is_visible()
    assert page.get_by_text("Nonthaburi Ink Co., Ltd.").is_visible()
    assert f"owner={org.rep.pk}" in page.url
    assert no_horizontal_scroll(page)
    screenshots(page, "leads-by-owner")
    # a reload keeps the filter, and the phone shows the filters open with their count
    page.reload()
    assert page.get_by_role("button", name="Filters (1)").get_attribute("aria-expanded") == "true"
    assert page.get_by_label("Owner").is_visible()
    # when: export
    with page.expect_download() as info:
        page.get_by_role("button", name="Export CSV").tap()
    download = info.value
    # then: the rows shown, no others
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert download.suggested_filename.startswith("leads-")
    assert sorted(r[0] for r in rows[1:]) == [
        "Bangkok Copier Co., Ltd.",
        "Nonthaburi Ink Co., Ltd.",
    ]


def test_a_lead_without_its_company_shows_the_error_at_the_field(org, new_page):
    # given
    page = new_page()
    sign_in(page, "rep")
    page.goto("/leads/")
    page.get_by_role("link", name="New").click()
    page.wait_for_url("**/leads/new/")
    # when: everything but the company
    page.get_by_label("First name").fill("Somchai")
    page.get_by_label("Email").fill("somchai@example.co.th")
    page.get_by_role("button", name="Save").click()
    # then: the error sits at the company field, what was typed is kept, nothing is saved
    company = page.locator(".field.has-error").filter(has=page.get_by_label("Company"))
    assert company.get_by_text("This field cannot be blank.").is_visible()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("First name").input_value() == "Somchai"
    assert page.get_by_label("Email").input_value() == "somchai@example.co.th"
    assert Lead.objects.count() == 0
    screenshots(page, "lead-form-error")
    # when: the company is given
    page.get_by_label("Company").fill("Pathum Paper Co., Ltd.")
    page.get_by_role("button", name="Save").click()
    # then
    page.wait_for_url("**/edit/")
    lead = Lead.objects.get()
    assert (lead.company_name, lead.first_name, lead.owner_id) == (
        "Pathum Paper Co., Ltd.", "Somchai", org.rep.pk
    )  # fmt: skip
    assert page.get_by_text("Lead Pathum Paper Co., Ltd. created.").is_visible()
