"""The SQL ledger connector against real databases: MariaDB at 127.0.0.1:3306 and SQLite.

Each MariaDB test creates and drops its own throwaway database
``accord_ledger_test_<pid>_<n>``; those tests skip (saying why) when MariaDB is unreachable.
"""

from __future__ import annotations

import itertools
import os
import socket
import sqlite3
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accord.integration.connectors import sql_ledger
from accord.integration.delivery import deliver_key
from accord.integration.ledger import DEMO_LEDGER_MAPPING, demo_schema_statements
from accord.integration.models import (
    Connector,
    ConnectorKind,
    Delivery,
    DeliveryStatus,
    EventType,
)
from accord.sales.models import Product, Stage
from accord.sales.services import opportunity_create, opportunity_update
from tests.conftest import make_account
from tests.integration_support import approval_of

_counter = itertools.count(1)
DECIMAL_COLUMNS = {"amount", "qty", "unit_price", "discount_pct", "line_total"}
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def _mariadb():
    import pymysql

    try:
        return pymysql.connect(**MARIADB, connect_timeout=3, autocommit=True)
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"MariaDB at 127.0.0.1:3306 is unreachable ({exc}); the SQLite run covers")


@pytest.fixture(params=["sqlite", "mariadb"])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "ledger.sqlite3"
        conn = sqlite3.connect(path)
        for statement in demo_schema_statements():
            conn.execute(statement)
        conn.commit()
        conn.close()
        url = f"sqlite:///{path}"
        yield url
        sql_ledger._forget(url)
        return
    admin = _mariadb()
    name = f"accord_ledger_test_{os.getpid()}_{next(_counter)}"
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        cur.execute(f"USE {name}")
        for statement in demo_schema_statements():
            cur.execute(statement)
    url = f"mysql://root@127.0.0.1:3306/{name}"
    try:
        yield url
    finally:
        sql_ledger._forget(url)
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


def _rows(url: str, table: str, columns: str) -> list[tuple]:
    """Rows as tuples; decimal columns as "0.00" text whatever the database returns."""
    _, conn = sql_ledger._connect(url)
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT {columns} FROM {table} ORDER BY 1, 2")
        rows = cur.fetchall()
        conn.commit()
    finally:
        conn.close()
    names = [c.strip() for c in columns.split(",")]
    return [
        tuple(
            f"{Decimal(str(v)):.2f}" if n in DECIMAL_COLUMNS and v is not None else v
            for n, v in zip(names, row, strict=True)
        )
        for row in rows
    ]


def _ledger(org_url: str) -> Connector:
    return Connector.objects.create(
        name="ledger",
        kind=ConnectorKind.SQL_LEDGER,
        event_types=[e.value for e in EventType],
        field_mapping=DEMO_LEDGER_MAPPING,
        settings={"database_url": org_url},
    )


def _stage(org, name: str) -> Stage:
    return Stage.objects.get(pipeline=org.pipeline, name=name)


def _lines(*specs):
    products = list(Product.objects.order_by("code"))
    return [
        {"product": products[i].pk, "quantity": q, "unit_price": p, "discount_percent": d}
        for i, q, p, d in specs
    ]


def _win(org, account, lines):
    opp = opportunity_create(
        actor=org.rep,
        data={"name": "Copiers for HQ", "account": account.pk, "line_items": lines},
    )
    return opportunity_update(
        actor=org.rep, opportunity=opp, data={"stage": _stage(org, "Closed won").pk}
    )


def _snapshot(url: str):
    return (
        _rows(url, "ledger_customers", "cust_code, cust_name, tax_id, branch, status, crm_id"),
        _rows(url, "ledger_sales_orders", "crm_ref, cust_code, description, amount, status"),
        _rows(
            url,
            "ledger_sales_order_lines",
            "crm_ref, line_no, item_code, qty, unit_price, discount_pct, line_total",
        ),
    )


def test_an_approved_account_and_its_won_order_reach_the_ledger_once(org, ledger_url):
    # given
    connector = _ledger(ledger_url)
    account = make_account(org)
    approval_of(account)
    opp = _win(org, account, _lines((0, 2, "1500.00", 0), (1, 1, "1000.00", 10)))
    # when
    assert deliver_key(str(connector.pk), str(account.pk)) == 2
    # then
    codes = list(Product.objects.order_by("code").values_list("code", flat=True))
    expected = (
        [(account.customer_code, "Siam Trading Co., Ltd.", "", "00000", "active", str(account.pk))],
        [(str(opp.pk), account.customer_code, "Copiers for HQ", "3900.00", "open")],
        [
            (str(opp.pk), 0, codes[0], "2.00", "1500.00", "0.00", "3000.00"),
            (str(opp.pk), 1, codes[1], "1.00", "1000.00", "10.00", "900.00"),
        ],
    )
    assert _snapshot(ledger_url) == expected
    # when: the worker died after the ledger committed, before Accord recorded it
    Delivery.objects.update(
        status=DeliveryStatus.DELIVERING, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert deliver_key(str(connector.pk), str(account.pk)) == 2
    # then: the second delivery changed nothing
    assert _snapshot(ledger_url) == expected
    assert list(Delivery.objects.values_list("attempts", flat=True)) == [2, 2]


def test_reopening_cancels_the_order_and_winning_again_replaces_its_lines(org, ledger_url):
    # given
    connector = _ledger(ledger_url)
    account = make_account(org)
    opp = _win(org, account, _lines((0, 2, "1500.00", 0), (1, 1, "1000.00", 0)))
    deliver_key(str(connector.pk), str(account.pk))
    # when
    opportunity_update(
        actor=org.rep, opportunity=opp, data={"stage": _stage(org, "Negotiation").pk}
    )
    deliver_key(str(connector.pk), str(account.pk))
    # then
    assert _snapshot(ledger_url)[1] == [
        (str(opp.pk), account.customer_code, "Copiers for HQ", "4000.00", "cancelled")
    ]
    # when: one line left, won again
    opportunity_update(
        actor=org.rep,
        opportunity=opp,
        data={"stage": _stage(org, "Closed won").pk, "line_items": _lines((1, 3, "1000.00", 0))},
    )
    assert deliver_key(str(connector.pk), str(account.pk)) == 1
    # then
    code = Product.objects.order_by("code").values_list("code", flat=True)[1]
    orders, lines = _snapshot(ledger_url)[1:]
    assert orders == [(str(opp.pk), account.customer_code, "Copiers for HQ", "3000.00", "open")]
    assert lines == [(str(opp.pk), 0, code, "3.00", "1000.00", "0.00", "3000.00")]


def test_an_unreachable_ledger_is_retried(org, ledger_url, tmp_path):
    # given: the same kind of database, where nothing answers
    if ledger_url.startswith("mysql"):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        url = f"mysql://root@127.0.0.1:{port}/ledger"
    else:
        url = f"sqlite:///{tmp_path}/no/such/dir/ledger.sqlite3"
    connector = _ledger(url)
    account = make_account(org)
    event = approval_of(account)
    # when
    deliver_key(str(connector.pk), str(account.pk))
    # then
    row = Delivery.objects.get(event=event)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert row.last_error.startswith("Target unavailable: Ledger unavailable: ")


def test_a_mapping_that_does_not_fit_the_ledger_schema_is_dead(org, ledger_url):
    connector = _ledger(ledger_url)
    mapping = dict(DEMO_LEDGER_MAPPING)
    mapping["account.approved"] = {
        "table": "ledger_customers",
        "key": ["cust_code"],
        "columns": {"cust_code": "account.customer_code", "no_such_column": "account.id"},
    }
    connector.field_mapping = mapping
    connector.save()
    account = make_account(org)
    event = approval_of(account)
    deliver_key(str(connector.pk), str(account.pk))
    row = Delivery.objects.get(event=event)
    assert (row.status, row.attempts) == (DeliveryStatus.DEAD, 1)
    assert row.last_error.startswith("Ledger refused the write: ")
    assert _snapshot(ledger_url)[0] == []


def test_upsert_statements_per_dialect():
    assert sql_ledger.upsert_sql(sql_ledger.MYSQL, "t", ["k", "v"], ["k"]) == (
        "INSERT INTO `t` (`k`, `v`) VALUES (%s, %s) ON DUPLICATE KEY UPDATE `v` = VALUES(`v`)"
    )
    assert sql_ledger.upsert_sql(sql_ledger.SQLITE, "t", ["k", "v"], ["k"]) == (
        'INSERT INTO "t" ("k", "v") VALUES (?, ?) '
        'ON CONFLICT ("k") DO UPDATE SET "v" = excluded."v"'
    )
    with pytest.raises(sql_ledger.PermanentError):
        sql_ledger.upsert_sql(sql_ledger.MYSQL, "t; DROP TABLE x", ["k"], ["k"])
