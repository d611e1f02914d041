"""Reconciliation against a real ledger database (SQLite file and MariaDB): seeded missing,
mismatched and extra rows are all found, nothing else is, and --fix repairs what Accord owns."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accord.integration.connectors import sql_ledger
from accord.integration.delivery import deliver_key
from accord.integration.models import Connector, Delivery, DeliveryStatus
from accord.integration.reconcile import EXTRA, MISMATCH, MISSING, reconcile
from accord.sales.services import opportunity_update
from tests.conftest import make_account
from tests.test_integration_ledger import _ledger, _lines, _stage, _win, ledger_url  # noqa: F401

pytestmark = pytest.mark.django_db


def _sql(url: str, statement: str, params: tuple = ()) -> None:
    dialect, conn = sql_ledger._connect(url)
    try:
        cursor = conn.cursor()
        cursor.execute(statement.replace("?", dialect.placeholder), params)
        conn.commit()
    finally:
        conn.close()


def _deliver_everything(connector: Connector) -> None:
    keys = set(
        Delivery.objects.filter(connector=connector)
        .exclude(status=DeliveryStatus.DELIVERED)
        .values_list("ordering_key", flat=True)
    )
    for key in keys:
        deliver_key(str(connector.pk), key)


def _found(report) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(d.kind, d.table, d.key) for d in report.differences}


def test_reconcile_finds_every_seeded_difference_and_fix_repairs_them(org, ledger_url):  # noqa: F811
    # given: a ledger in step with Accord
    connector = _ledger(ledger_url)
    in_step = make_account(org, legal_name="In Step Co., Ltd.")
    renamed = make_account(org, legal_name="Renamed By Hand Co., Ltd.")
    won = _win(org, in_step, _lines((0, 2, "1500.00", 0), (1, 1, "1000.00", 0)))
    short_line = _win(org, renamed, _lines((0, 1, "500.00", 0), (1, 1, "700.00", 0)))
    reopened = _win(org, renamed, _lines((0, 3, "100.00", 0)))
    _deliver_everything(connector)
    assert reconcile(connector).differences == []

    # and then the seeded differences:
    # a lost delivery (the account's rows never reached the ledger)
    lost = make_account(org, legal_name="Lost Delivery Co., Ltd.")
    Delivery.objects.filter(ordering_key=str(lost.pk)).delete()
    # hand edits in the ledger: a name, an amount, a line removed
    _sql(ledger_url, "UPDATE ledger_customers SET cust_name = ? WHERE cust_code = ?",
         ("Renamed in the ledger", renamed.customer_code))  # fmt: skip
    _sql(ledger_url, "UPDATE ledger_sales_orders SET amount = ? WHERE crm_ref = ?",
         ("1.00", str(won.pk)))  # fmt: skip
    _sql(ledger_url, "DELETE FROM ledger_sales_order_lines WHERE crm_ref = ? AND line_no = 1",
         (str(short_line.pk),))  # fmt: skip
    # a reopened opportunity whose cancellation never arrived
    opportunity_update(
        actor=org.rep, opportunity=reopened, data={"stage": _stage(org, "Negotiation").pk}
    )
    Delivery.objects.filter(status=DeliveryStatus.PENDING).delete()
    # rows only the ledger has
    _sql(ledger_url, "INSERT INTO ledger_customers (cust_code, cust_name, crm_id) VALUES (?, ?, ?)",
         ("C999999990", "Typed into the ledger", ""))  # fmt: skip
    _sql(ledger_url, "INSERT INTO ledger_sales_orders (crm_ref, cust_code) VALUES (?, ?)",
         ("legacy-order-1", in_step.customer_code))  # fmt: skip

    # when
    report = reconcile(connector)

    # then: all of them, and no false ones
    assert _found(report) == {
        (MISSING, "ledger_customers", (lost.customer_code,)),
        (MISMATCH, "ledger_customers", (renamed.customer_code,)),
        (MISMATCH, "ledger_sales_orders", (str(won.pk),)),
        (MISMATCH, "ledger_sales_orders", (str(short_line.pk),)),
        (MISMATCH, "ledger_sales_orders", (str(reopened.pk),)),
        (EXTRA, "ledger_customers", ("C999999990",)),
        (EXTRA, "ledger_sales_orders", ("legacy-order-1",)),
    }
    by_key = {d.key: d for d in report.differences}
    assert by_key[(renamed.customer_code,)].columns == {
        "cust_name": ("Renamed By Hand Co., Ltd.", "Renamed in the ledger")
    }
    assert set(by_key[(str(won.pk),)].columns) == {"amount"}
    assert by_key[(str(short_line.pk),)].columns == {"lines": (2, 1)}
    assert by_key[(str(reopened.pk),)].columns == {"status": ("cancelled", "open")}
    assert report.checked == {"ledger_customers": 3, "ledger_sales_orders": 2}

    # when: fixed, and the worker delivers the re-sent events
    fixed = reconcile(connector, fix=True)
    assert fixed.resent == 5
    _deliver_everything(connector)

    # then: only what Accord does not own remains
    assert _found(reconcile(connector)) == {
        (EXTRA, "ledger_customers", ("C999999990",)),
        (EXTRA, "ledger_sales_orders", ("legacy-order-1",)),
    }


def test_the_command_prints_differences_and_a_summary(org, ledger_url):  # noqa: F811
    connector = _ledger(ledger_url)
    account = make_account(org, legal_name="Printed Co., Ltd.")
    Delivery.objects.filter(connector=connector).delete()
    out = io.StringIO()
    call_command("reconcile", stdout=out)
    text = out.getvalue()
    assert f"missing  ledger_customers {account.customer_code}" in text
    assert "ledger: 1 missing, 0 mismatched, 0 extra" in text
