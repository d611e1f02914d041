"""Inbound invoice and payment status: pulled from a real ledger database (SQLite file and
MariaDB) and pushed through the API, matched to accounts and opportunities, shown on the
account page with invoiced, paid, outstanding and overdue totals."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from accord.customers.services import account_create
from accord.integration.invoices import account_invoice_summary, invoices_pull
from accord.integration.models import InboundCursor, LedgerInvoice
from accord.org.models import Role
from tests.conftest import make_account
from tests.factories import UserFactory
from tests.test_integration_ledger import _ledger, _lines, _win, ledger_url  # noqa: F401
from tests.test_integration_reconcile import _sql

pytestmark = pytest.mark.django_db

TODAY = dt.datetime.now(tz=dt.UTC).date()


def _invoice(
    url: str,
    number: str,
    code: str,
    amount: str,
    *,
    paid: str = "0",
    status: str = "OPEN",
    due: dt.date | None = None,
    ref: str = "",
    at: str = "2026-11-01 09:00:00",
) -> None:
    _sql(
        url,
        "INSERT INTO ledger_invoices (inv_no, cust_code, crm_ref, amount, paid, inv_date, "
        "due_date, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (number, code, ref, amount, paid, str(TODAY - dt.timedelta(days=40)),
         str(due or TODAY + dt.timedelta(days=30)), status, at),
    )  # fmt: skip


def test_pulled_invoices_land_on_their_accounts_and_orders(org, ledger_url):  # noqa: F811
    connector = _ledger(ledger_url)
    account = make_account(org, legal_name="Invoiced Co., Ltd.")
    order = _win(org, account, _lines((0, 1, "1000.00", 0)))
    other = make_account(org, legal_name="Other Co., Ltd.")
    _invoice(ledger_url, "INV-001", account.customer_code, "1000.00", ref=str(order.pk))
    _invoice(ledger_url, "INV-002", account.customer_code, "500.00", paid="200.00",
             status="PART", due=TODAY - dt.timedelta(days=3))  # fmt: skip
    _invoice(ledger_url, "INV-003", account.customer_code, "900.00", status="VOID")
    _invoice(ledger_url, "INV-004", other.customer_code, "300.00", paid="300.00", status="PAID")
    _invoice(ledger_url, "INV-005", "C999999990", "50.00")  # a customer Accord does not know
    _invoice(ledger_url, "INV-006", other.customer_code, "-5", status="WHAT")

    report = invoices_pull(connector)

    assert [(r.invoice_number, r.outcome) for r in report.rows] == [
        ("INV-001", "created"),
        ("INV-002", "created"),
        ("INV-003", "created"),
        ("INV-004", "created"),
        ("INV-005", "created"),
        ("INV-006", "rejected"),
    ]
    assert set(report.rows[-1].errors) == {"amount", "status"}
    first = LedgerInvoice.objects.get(invoice_number="INV-001")
    assert (first.account_id, first.opportunity_id, first.amount) == (
        account.pk,
        order.pk,
        Decimal("1000.00"),
    )
    assert LedgerInvoice.objects.get(invoice_number="INV-005").account_id is None
    summary = account_invoice_summary(account)
    assert summary.count == 2  # the cancelled one does not count
    assert (summary.invoiced, summary.paid, summary.outstanding, summary.overdue) == (
        Decimal("1500.00"),
        Decimal("200.00"),
        Decimal("1300.00"),
        Decimal("300.00"),
    )


def test_the_next_pull_reads_only_what_changed(org, ledger_url):  # noqa: F811
    connector = _ledger(ledger_url)
    account = make_account(org)
    _invoice(ledger_url, "INV-1", account.customer_code, "100.00", at="2026-11-01 09:00:00")
    assert len(invoices_pull(connector).rows) == 1
    assert invoices_pull(connector).rows == []  # nothing new
    _sql(
        ledger_url,
        "UPDATE ledger_invoices SET paid = ?, status = ?, updated_at = ? WHERE inv_no = ?",
        ("100.00", "PAID", "2026-11-02 10:00:00", "INV-1"),
    )
    again = invoices_pull(connector)
    assert [(r.invoice_number, r.outcome) for r in again.rows] == [("INV-1", "updated")]
    invoice = LedgerInvoice.objects.get()
    assert (invoice.status, invoice.paid_amount) == ("paid", Decimal("100.00"))
    cursor = InboundCursor.objects.get(connector=connector)
    assert cursor.position["key"] == "INV-1"


def test_a_merged_accounts_code_lands_on_the_survivor(org, ledger_url):  # noqa: F811
    from accord.dataquality.merge import account_merge

    connector = _ledger(ledger_url)
    survivor = make_account(org, legal_name="Survivor Co., Ltd.")
    loser = account_create(
        actor=org.steward,
        data={"legal_name": "Survivor Company Limited", "duplicate_justification": "test"},
    )
    account_merge(actor=org.steward, survivor=survivor, losers=[loser], field_choices={})
    _invoice(ledger_url, "INV-9", loser.customer_code, "10.00")
    invoices_pull(connector)
    assert LedgerInvoice.objects.get().account_id == survivor.pk


def test_push_through_the_api_and_read_back_on_the_account(org, api_as):
    connector = _ledger("sqlite:////nonexistent/ledger.sqlite3")
    account = make_account(org)
    integration = UserFactory(username="ledger-bot", role=Role.INTEGRATION)
    body = {
        "connector": connector.name,
        "invoices": [
            {"invoice_number": "P-1", "customer_code": account.customer_code, "amount": "250.00",
             "status": "open", "due_date": str(TODAY - dt.timedelta(days=1))},
            {"invoice_number": "P-2", "customer_code": account.customer_code, "amount": "100",
             "paid_amount": "100", "status": "paid"},
        ],
    }  # fmt: skip
    assert api_as(org.rep).post("/integration/invoices", body).status_code == 403
    pushed = api_as(integration).post("/integration/invoices", body)
    assert pushed.status_code == 200, pushed.content
    assert (pushed.json()["created"], pushed.json()["rejected"]) == (2, 0)
    again = api_as(integration).post("/integration/invoices", body).json()
    assert (again["unchanged"], again["created"]) == (2, 0)
    read = api_as(org.rep).get(f"/integration/accounts/{account.pk}/invoices").json()
    assert (read["invoiced"], read["paid"], read["outstanding"], read["overdue"]) == (
        "350.00",
        "100.00",
        "250.00",
        "250.00",
    )
    assert [i["invoice_number"] for i in read["invoices"]] == ["P-2", "P-1"] or len(
        read["invoices"]
    ) == 2
    invisible = api_as(org.south_rep).get(f"/integration/accounts/{account.pk}/invoices")
    assert invisible.status_code == 404
    bad = api_as(integration).post(
        "/integration/invoices", {**body, "invoices": [{"invoice_number": "X"}]}
    )
    assert bad.status_code == 422


def test_the_account_page_shows_totals_and_sync_status(org):
    connector = _ledger("sqlite:////nonexistent/ledger.sqlite3")
    account = make_account(org)
    LedgerInvoice.objects.create(
        connector=connector, invoice_number="W-1", customer_code=account.customer_code,
        account=account, amount=Decimal("1234.50"), status="open",
        due_date=TODAY - dt.timedelta(days=2),
    )  # fmt: skip
    client = Client()
    client.force_login(org.rep)
    html = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "W-1" in html and "Outstanding" in html and "Overdue" in html
    assert "1,234.50" in html
    assert "Sent to other systems" in html and "ledger" in html  # the approval is pending


def test_ledger_pull_command(org, ledger_url):  # noqa: F811
    _ledger(ledger_url)
    account = make_account(org)
    _invoice(ledger_url, "INV-C", account.customer_code, "10.00")
    out = io.StringIO()
    call_command("ledger_pull", stdout=out)
    assert "ledger: 1 new, 0 updated, 0 unchanged, 0 rejected" in out.getvalue()
