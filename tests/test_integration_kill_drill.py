"""Drill: real ``accord worker`` processes killed with SIGKILL at random moments, 50 times,
while they deliver accounts and won orders to a SQL ledger (MariaDB at 127.0.0.1:3306;
skipped when it is down). Afterwards every event is delivered and the ledger holds
each row once, with the right amounts and lines.

Between kills the test does what time and the sweep would do: leases of killed claims
expire (``lease_expires_at`` set to the past) and the keys still due are enqueued again.
The test database must be reachable from the worker processes: PostgreSQL, or SQLite in a
file (``ACCORD_TEST_SQLITE_NAME``); with in-memory SQLite it skips.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accord.customers.services import account_update
from accord.integration.connectors import sql_ledger
from accord.integration.delivery import due_keys
from accord.integration.models import Delivery, DeliveryStatus
from accord.integration.tasks import enqueue_key_deliveries
from accord.sales.models import Opportunity
from tests.conftest import make_account
from tests.test_integration_crash import _database_url
from tests.test_integration_ledger import _ledger, _lines, _win, ledger_url  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

KILLS = int(os.environ.get("ACCORD_KILL_DRILL_KILLS", "50"))
ACCOUNTS = 40  # each with its approval, a won order (2 lines) and an update: 120 events


def _count(url: str, sql: str) -> list[tuple]:
    _, conn = sql_ledger._connect(url)
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        rows = [tuple(r) for r in cursor.fetchall()]
        conn.commit()
        return rows
    finally:
        conn.close()


def _progress(connector: object) -> int:
    """Deliveries claimed or finished so far (attempts made)."""
    return sum(Delivery.objects.filter(connector=connector).values_list("attempts", flat=True))


def _sweep_now() -> None:
    """What the passing of time and the sweep do: killed claims expire, due keys re-run."""
    Delivery.objects.filter(status=DeliveryStatus.DELIVERING).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    enqueue_key_deliveries(due_keys(grace_seconds=0))


@pytest.mark.parametrize("ledger_url", ["mariadb"], indirect=True)  # skips if MariaDB is down
def test_fifty_sigkills_lose_nothing_and_double_nothing(org, ledger_url, tmp_path):  # noqa: F811
    # given: a ledger connector and 120 events across 40 accounts
    db_url = _database_url()
    connector = _ledger(ledger_url)
    rng = random.Random(20261123)
    orders: list[Opportunity] = []
    for i in range(ACCOUNTS):
        account = make_account(org, legal_name=f"Drill {i:02d} Co., Ltd.")
        orders.append(_win(org, account, _lines((0, 1 + i % 3, "100.00", 0), (1, 2, "50.00", 0))))
        account_update(actor=org.steward, account=account, data={"province": "Chiang Mai"})
    assert Delivery.objects.filter(connector=connector).count() == 3 * ACCOUNTS

    # when: workers are started and killed at random moments of their deliveries, 50 times
    env = {**os.environ, "DATABASE_URL": db_url, "ACCORD_VAR_DIR": str(tmp_path)}
    accounts = [o.account for o in orders]
    provinces = ["Chiang Mai", "Phuket", "Khon Kaen", "Songkhla"]
    rounds = 0
    delivered_during = []
    zygote = subprocess.Popen(
        [sys.executable, "-m", "tests.drill_zygote"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        for _kill in range(KILLS):
            undelivered = Delivery.objects.filter(connector=connector).exclude(
                status=DeliveryStatus.DELIVERED
            )
            if undelivered.count() < 10:  # keep the workers busy: a new round of updates
                rounds += 1
                for account in accounts:
                    account_update(
                        actor=org.steward,
                        account=account,
                        data={"province": provinces[rounds % len(provinces)]},
                    )
            done_before = _progress(connector)
            assert zygote.stdin is not None and zygote.stdout is not None
            zygote.stdin.write("fork\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            deadline = time.monotonic() + 60
            while _progress(connector) == done_before and time.monotonic() < deadline:
                time.sleep(0.01)  # until the worker has claimed its first delivery
            time.sleep(rng.uniform(0, 0.1))  # then kill it somewhere in its deliveries
            os.kill(pid, signal.SIGKILL)
            delivered_during.append(_progress(connector) - done_before)
            _sweep_now()
    finally:
        zygote.kill()
        zygote.wait(timeout=10)

    print("delivered after each kill:", delivered_during)  # shown with -s
    # then: a last worker finishes what is left
    _sweep_now()
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command(
            "worker", "--batch", "--no-startup-delay", "--sweep-interval", "0", verbosity=0
        )
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    statuses = set(Delivery.objects.filter(connector=connector).values_list("status", flat=True))
    assert statuses == {DeliveryStatus.DELIVERED}
    # every kill landed while the worker was delivering
    assert all(n > 0 for n in delivered_during)
    # every row once, with the right content, the latest update last
    customers = _count(ledger_url, "SELECT cust_code, province FROM ledger_customers")
    assert len(customers) == ACCOUNTS == len({c for c, _ in customers})
    assert {p for _, p in customers} == {
        provinces[rounds % len(provinces)] if rounds else "Chiang Mai"
    }
    sales = _count(ledger_url, "SELECT crm_ref, amount FROM ledger_sales_orders")
    assert len(sales) == ACCOUNTS
    expected = {str(o.pk): Decimal(o.amount) for o in orders}
    assert {ref: Decimal(str(amount)) for ref, amount in sales} == expected
    lines = _count(ledger_url, "SELECT crm_ref, line_no FROM ledger_sales_order_lines")
    assert len(lines) == 2 * ACCOUNTS == len(set(lines))
