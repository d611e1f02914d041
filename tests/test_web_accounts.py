"""Account pages through Django's test client: list, export, 360, forms and quick log."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accord.activities.models import Activity
from accord.activities.services import activity_create
from accord.audit.models import AuditEvent
from accord.customers.models import Account, Contact
from accord.customers.services import contact_create
from accord.dataquality.models import RequiredFieldRule
from accord.sales.models import Opportunity, Stage
from accord.sales.services import opportunity_create
from tests.conftest import make_account

pytestmark = pytest.mark.django_db

TAX_ID = "0994000165668"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


# --- list ---------------------------------------------------------------------------------


def test_list_shows_only_visible_accounts_and_filters(org):
    # given
    make_account(org, legal_name="Alpha North Co., Ltd.")
    make_account(org, legal_name="Beta South Co., Ltd.", district=org.south)
    make_account(org, legal_name="Gamma North Co., Ltd.", status="dormant")
    # when / then: the rep covers the north only
    html = signed_in(org.rep).get("/accounts/").content.decode()
    assert "Alpha North" in html and "Gamma North" in html
    assert "Beta South" not in html
    # a steward sees all and filters
    client = signed_in(org.steward)
    html = client.get("/accounts/", {"district": org.south.pk}).content.decode()
    assert "Beta South" in html and "Alpha North" not in html
    html = client.get("/accounts/", {"status": "dormant"}).content.decode()
    assert "Gamma North" in html and "Alpha North" not in html
    html = client.get("/accounts/", {"q": "gamma"}).content.decode()
    assert "Gamma North" in html and "Alpha North" not in html


def test_list_pages_with_a_next_link(org, monkeypatch):
    monkeypatch.setattr("accord.web.accounts.LIST_PAGE_SIZE", 2)
    for name in ["A1", "A2", "A3"]:
        make_account(org, legal_name=f"{name} Co., Ltd.")
    client = signed_in(org.rep)
    first = client.get("/accounts/")
    assert [a.legal_name for a in first.context["page"].items] == ["A1 Co., Ltd.", "A2 Co., Ltd."]
    cursor = first.context["page"].next_cursor
    assert f"cursor={cursor}" in first.content.decode()
    second = client.get("/accounts/", {"cursor": cursor})
    assert [a.legal_name for a in second.context["page"].items] == ["A3 Co., Ltd."]
    assert second.context["page"].next_cursor is None
    # a broken cursor starts again from the top, with a notice
    broken = client.get("/accounts/", {"cursor": "garbage"})
    assert broken.status_code == 200
    assert broken.context["error"]
    assert len(broken.context["page"].items) == 2


def test_list_and_export_sort_by_the_chosen_order(org):
    for name in ["Bravo Co.", "Alpha Co.", "Charlie Co."]:
        make_account(org, legal_name=name)
    client = signed_in(org.rep)
    page = client.get("/accounts/", {"sort": "-created_at"}).context["page"]
    assert [a.legal_name for a in page.items] == ["Charlie Co.", "Alpha Co.", "Bravo Co."]
    page = client.get("/accounts/", {"sort": "bogus"}).context["page"]
    assert [a.legal_name for a in page.items] == ["Alpha Co.", "Bravo Co.", "Charlie Co."]
    text = b"".join(client.get("/accounts/export.csv", {"sort": "-created_at"}).streaming_content)
    rows = list(csv.reader(io.StringIO(text.decode().lstrip("\ufeff"))))
    assert [r[1] for r in rows[1:]] == ["Charlie Co.", "Alpha Co.", "Bravo Co."]


def test_htmx_search_returns_only_the_results(org):
    make_account(org, legal_name="Alpha North Co., Ltd.")
    response = signed_in(org.rep).get(
        "/accounts/", {"q": "alpha"}, headers={"HX-Request": "true", "HX-Target": "account-results"}
    )
    html = response.content.decode()
    assert "Alpha North" in html
    assert "<html" not in html


def test_list_query_count_does_not_grow_with_rows(org):
    client = signed_in(org.rep)
    make_account(org, legal_name="Row 0")
    client.get("/accounts/")  # the session row is written on first use
    few = queries(client, "/accounts/")
    for n in range(1, 12):
        make_account(org, legal_name=f"Row {n}", district=org.north if n % 2 else org.south)
    assert queries(client, "/accounts/") == few
    steward = signed_in(org.steward)
    steward.get("/accounts/")
    assert queries(steward, "/accounts/") == queries(steward, "/accounts/?status=active")


# --- CSV export ---------------------------------------------------------------------------


def test_csv_export_has_only_visible_rows_with_the_current_filters(org):
    # given
    a = make_account(org, legal_name="Alpha North", name_th="อัลฟา", tax_id=TAX_ID)
    make_account(org, legal_name="Beta South", district=org.south)
    make_account(org, legal_name="Gamma North", status="dormant")
    # when
    response = signed_in(org.rep).get("/accounts/export.csv", {"status": "active"})
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["customer_code", "legal_name", "name_th"]
    assert rows[1:] == [
        [
            a.customer_code,
            "Alpha North",
            "อัลฟา",
            "",
            TAX_ID,
            "00000",
            "bkk-north",
            "active",
            "",
            "",
            "",
            "",  # owners: none yet
        ]
    ]


def test_csv_export_walks_every_page(org, monkeypatch):
    monkeypatch.setattr("accord.web.accounts.MAX_LIMIT", 2)
    for n in range(5):
        make_account(org, legal_name=f"Co {n}")
    response = signed_in(org.rep).get("/accounts/export.csv")
    rows = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff")))
    )
    assert [r[1] for r in rows[1:]] == [f"Co {n}" for n in range(5)]


# --- account 360 --------------------------------------------------------------------------


def _busy_account(org, n: int, tax_id: str = TAX_ID, name: str = "Busy Co., Ltd.") -> Account:
    account = make_account(
        org, legal_name=name, name_th="บริษัท บิซี่ จำกัด" if tax_id else "", tax_id=tax_id
    )
    for i in range(n):
        contact = contact_create(actor=org.rep, data={"account": account.pk, "first_name": f"C{i}"})
        opportunity_create(
            actor=org.rep,
            data={"account": account.pk, "name": f"Deal {i}", "amount": Decimal("1234567.50")},
        )
        activity_create(
            actor=org.rep,
            data={
                "account": account.pk,
                "contact": contact.pk,
                "kind": "visit",
                "subject": f"Visit {i}",
            },
        )
    return account


def test_account_360_shows_header_contacts_opportunities_and_timeline(org):
    account = _busy_account(org, 2)
    html = signed_in(org.rep).get(f"/accounts/{account.pk}/").content.decode()
    assert "<h1>Busy Co., Ltd.</h1>" in html
    assert "บริษัท บิซี่ จำกัด" in html
    assert account.customer_code in html and TAX_ID in html and "Bangkok North" in html
    assert "C0" in html and "C1" in html
    assert "Deal 0" in html and "฿1,234,567.50" in html
    assert "Visit 1" in html
    assert 'id="quick-log"' in html


def test_account_360_times_are_in_bangkok_and_thai_dates_use_the_buddhist_era(org):
    import datetime as dt

    account = make_account(org)
    activity_create(
        actor=org.rep,
        data={
            "account": account.pk,
            "kind": "call",
            "subject": "Late call",
            "start_at": dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC),
        },
    )
    client = signed_in(org.rep)
    assert "2 Mar 2026 00:30" in client.get(f"/accounts/{account.pk}/").content.decode()
    client.post("/i18n/setlang/", {"language": "th", "next": "/"})
    assert "2 มี.ค. 2569 00:30" in client.get(f"/accounts/{account.pk}/").content.decode()


def test_account_outside_the_territory_is_not_found(org):
    south = make_account(org, legal_name="South Co.", district=org.south)
    client = signed_in(org.rep)
    assert client.get(f"/accounts/{south.pk}/").status_code == 404
    assert client.get(f"/accounts/{south.pk}/edit/").status_code == 404
    assert client.post(f"/accounts/{south.pk}/log/", {"subject": "x"}).status_code == 404
    assert Activity.objects.count() == 0


def test_account_360_query_count_does_not_grow_with_rows(org):
    account = _busy_account(org, 1)
    client = signed_in(org.rep)
    client.get(f"/accounts/{account.pk}/")
    few = queries(client, f"/accounts/{account.pk}/")
    more = _busy_account(org, 6, tax_id="", name="Kanchanaburi Logistics Partnership")
    client.get(f"/accounts/{more.pk}/")
    assert queries(client, f"/accounts/{more.pk}/") == few


# --- forms --------------------------------------------------------------------------------


def test_steward_creates_an_account(org):
    response = signed_in(org.steward).post(
        "/accounts/new/",
        {
            "legal_name": "New Co., Ltd.",
            "name_th": "บริษัท นิว จำกัด",
            "tax_id": "0-9940-00165-66-8",
            "district": org.north.pk,
        },
    )
    account = Account.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{account.pk}/"
    assert account.tax_id == TAX_ID
    assert AuditEvent.objects.filter(record_id=str(account.pk), source="web").count() == 1


def test_account_form_shows_service_errors_by_field_and_keeps_input(org):
    # given: the data-entry template requires a district
    RequiredFieldRule.objects.create(record_type="account", field="district")
    # when
    response = signed_in(org.steward).post(
        "/accounts/new/",
        {"legal_name": "Typed Co., Ltd.", "tax_id": "0994000165667", "phone": "021112222"},
    )
    # then
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["district"] == ["This field is required."]
    assert (
        "tax_id" not in form.errors
    )  # the template check comes first; one error at a time per service
    html = response.content.decode()
    assert 'value="Typed Co., Ltd."' in html and 'value="021112222"' in html
    assert "Nothing was saved" in html
    assert Account.objects.count() == 0
    # with the district given, the tax ID's own error is shown next to it
    response = signed_in(org.steward).post(
        "/accounts/new/",
        {"legal_name": "Typed Co., Ltd.", "tax_id": "0994000165667", "district": org.north.pk},
    )
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"__all__", "tax_id"}
    assert Account.objects.count() == 0


def test_rep_cannot_create_accounts_through_the_form(org):
    client = signed_in(org.rep)
    assert "New account" not in client.get("/accounts/").content.decode()
    response = client.post("/accounts/new/", {"legal_name": "Shadow Co."})
    assert response.status_code == 422
    assert "Accounts are created by the CRM team" in response.content.decode()
    assert Account.objects.count() == 0


def test_rep_edits_contact_details_but_not_identifying_fields(org):
    account = make_account(org, legal_name="Keep Co., Ltd.", owner=org.rep)
    client = signed_in(org.rep)
    page = client.get(f"/accounts/{account.pk}/edit/").content.decode()
    assert 'name="legal_name"' in page and "disabled" in page
    # a disabled field cannot be smuggled in
    response = client.post(
        f"/accounts/{account.pk}/edit/",
        {"legal_name": "Renamed", "phone": "029998888", "status": "active"},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.legal_name == "Keep Co., Ltd."
    assert account.phone == "029998888"


def test_contact_form_errors_and_success(org):
    account = make_account(org)
    client = signed_in(org.rep)
    response = client.post(
        f"/accounts/{account.pk}/contacts/new/", {"first_name": "", "email": "not-an-email"}
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "first_name" in errors and "email" in errors
    assert Contact.objects.count() == 0
    response = client.post(
        f"/accounts/{account.pk}/contacts/new/", {"first_name": "Somchai", "mobile": "0812345678"}
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.account_id, contact.mobile) == (account.pk, "0812345678")
    response = client.post(
        f"/contacts/{contact.pk}/edit/", {"first_name": "Somchai", "last_name": "Jaidee"}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.last_name == "Jaidee"


def test_opportunity_form_enforces_the_stage_template(org):
    # given: "Proposal" needs an expected close date
    proposal = Stage.objects.get(pipeline=org.pipeline, name="Proposal")
    RequiredFieldRule.objects.create(
        record_type="opportunity", field="expected_close_date", stage=proposal
    )
    account = make_account(org)
    client = signed_in(org.rep)
    data = {"name": "Printers", "stage": proposal.pk, "amount": "50000"}
    # when
    response = client.post(f"/accounts/{account.pk}/opportunities/new/", data)
    # then
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {"__all__", "expected_close_date"}
    assert errors["expected_close_date"] == ["This field is required."]
    assert "expected_close_date" in errors["__all__"][0]
    assert 'value="Printers"' in response.content.decode()
    assert Opportunity.objects.count() == 0
    response = client.post(
        f"/accounts/{account.pk}/opportunities/new/", {**data, "expected_close_date": "2026-12-31"}
    )
    assert response.status_code == 302
    opp = Opportunity.objects.get()
    assert (opp.stage, opp.amount, opp.owner) == (proposal, Decimal("50000.00"), org.rep)
    # an unparseable amount is the form's own error
    response = client.post(f"/opportunities/{opp.pk}/edit/", {**data, "amount": "lots"})
    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["amount"]


# --- quick log ----------------------------------------------------------------------------


def test_quick_log_a_visit_with_location(org):
    account = make_account(org)
    response = signed_in(org.rep).post(
        f"/accounts/{account.pk}/log/",
        {
            "kind": "visit",
            "subject": "Demo of the new copier",
            "latitude": "13.756331",
            "longitude": "100.501762",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{account.pk}/"
    visit = Activity.objects.get()
    assert (visit.kind, visit.subject, visit.performed_by, visit.account, visit.is_done) == (
        "visit",
        "Demo of the new copier",
        org.rep,
        account,
        True,
    )
    assert (visit.latitude, visit.longitude) == (Decimal("13.756331"), Decimal("100.501762"))
    assert AuditEvent.objects.filter(record_id=str(visit.pk), source="web").count() == 1


def test_quick_log_errors_keep_the_text_and_save_nothing(org):
    account = make_account(org)
    client = signed_in(org.rep)
    response = client.post(
        f"/accounts/{account.pk}/log/",
        {"kind": "call", "subject": "", "body": "Called about toner"},
    )
    assert response.status_code == 422
    assert set(response.context["log_form"].errors) == {"__all__", "subject"}
    assert "Called about toner" in response.content.decode()
    response = client.post(
        f"/accounts/{account.pk}/log/", {"kind": "call", "subject": "Toner", "latitude": "13.7"}
    )
    assert response.status_code == 422
    assert response.context["log_form"].errors["latitude"] == [
        "Give both latitude and longitude, or neither."
    ]
    assert 'value="Toner"' in response.content.decode()
    assert Activity.objects.count() == 0


def test_a_suspected_duplicate_is_explained_and_can_be_justified(org):
    # given
    existing = make_account(org, legal_name="Siam Cement Co., Ltd.")
    client = signed_in(org.steward)
    data = {"legal_name": "Siam Cement Co., Ltd.", "district": org.north.pk}
    # when
    response = client.post("/accounts/new/", data)
    # then: refused, the look-alike linked, the justification field shown
    assert response.status_code == 422
    html = response.content.decode()
    assert f'href="/accounts/{existing.pk}/"' in html
    assert 'name="duplicate_justification"' in html
    assert Account.objects.count() == 1
    # with a justification it is saved
    data["duplicate_justification"] = "A new branch of the same company, opened this month."
    response = client.post("/accounts/new/", data)
    assert response.status_code == 302
    assert Account.objects.count() == 2
