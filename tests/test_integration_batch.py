"""Batched delivery: many heads of different keys claimed at once, written to the SQL
ledger in one transaction, outcomes recorded in bulk, one bad event failing alone; and the
task framework getting one task per connector burst (plus one more for a full batch).

Runs against SQLite and a real MariaDB ledger (skipped when MariaDB is down).
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accord.dataquality.merge import account_merge
from accord.integration.connectors.sql_ledger import SqlLedgerConnector
from accord.integration.delivery import claim_batch, deliver_batch_claimed, deliver_connector
from accord.integration.ledger import demo_schema_statements
from accord.integration.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    OutboxEvent,
)
from accord.integration.outbox import account_payload, outbox_emit
from accord.integration.tasks import deliver_connector_task
from tests.conftest import make_account
from tests.test_integration_ledger import _ledger, _lines, _rows, _win, ledger_url  # noqa: F401

NAMES = [
    "Ayutthaya Rice Mills Co., Ltd.",
    "Bangkok Dental Clinic Co., Ltd.",
    "Chonburi Marine Logistics Co., Ltd.",
]


def _statuses(connector) -> dict[str, str]:
    return {
        d.event.event_type + ":" + d.ordering_key: d.status
        for d in connector.deliveries.select_related("event")
    }


def test_a_batch_claims_one_head_per_key_and_writes_them_in_one_go(org, ledger_url):  # noqa: F811
    # given: three accounts, each approved and with a won order (two events per key)
    connector = _ledger(ledger_url)
    accounts = [make_account(org, legal_name=name) for name in NAMES]
    orders = [_win(org, a, _lines((0, 1, "100.00", 0), (1, 2, "50.00", 0))) for a in accounts]
    # when: a batch is claimed
    claims = claim_batch(connector, limit=10)
    # then: the three heads (the approvals), one per key, under one claim token
    assert sorted(c.delivery.ordering_key for c in claims) == sorted(str(a.pk) for a in accounts)
    assert {c.delivery.event.event_type for c in claims} == {"account.approved"}
    assert len({c.token for c in claims}) == 1
    # and while they are held, nothing else of those keys may go (per-key order)
    assert claim_batch(connector, limit=10) == []
    # when: the batch is delivered
    assert deliver_batch_claimed(claims, connector) == 3
    # then: the orders are the heads now
    second = claim_batch(connector, limit=10)
    assert {c.delivery.event.event_type for c in second} == {"opportunity.won"}
    assert deliver_batch_claimed(second, connector) == 3
    assert set(_statuses(connector).values()) == {DeliveryStatus.DELIVERED}
    assert DeliveryAttempt.objects.filter(outcome="delivered").count() == 6
    customers = _rows(ledger_url, "ledger_customers", "cust_code, crm_id")
    assert customers == sorted((a.customer_code, str(a.pk)) for a in accounts)
    sales = _rows(ledger_url, "ledger_sales_orders", "crm_ref, amount")
    assert sales == sorted((str(o.pk), "200.00") for o in orders)
    lines = _rows(ledger_url, "ledger_sales_order_lines", "crm_ref, line_no")
    assert lines == sorted((str(o.pk), n) for o in orders for n in (0, 1))


def test_a_repeated_batch_leaves_the_ledger_as_once(org, ledger_url):  # noqa: F811
    # given: a delivered batch
    connector = _ledger(ledger_url)
    accounts = [make_account(org, legal_name=name) for name in NAMES]
    for a in accounts:
        _win(org, a, _lines((0, 1, "100.00", 0)))
    assert deliver_connector(str(connector.pk)) == 6
    before = _rows(ledger_url, "ledger_sales_order_lines", "crm_ref, line_no, qty")
    # when: the same events are written again (a worker died before recording them)
    events = list(OutboxEvent.objects.order_by("ordering_key", "seq"))
    results = connector_impl_batch(connector, events)
    # then
    assert results == [None] * 6
    assert _rows(ledger_url, "ledger_sales_order_lines", "crm_ref, line_no, qty") == before
    assert len(_rows(ledger_url, "ledger_customers", "cust_code, crm_id")) == 3


def connector_impl_batch(connector, events):
    return SqlLedgerConnector().deliver_batch(connector=connector, events=events)


def test_a_bad_event_in_a_batch_fails_alone(org, ledger_url):  # noqa: F811
    # given: three accounts; the middle one's approval carries no name (the ledger's
    # cust_name is NOT NULL, so the ledger refuses that row and with it the whole batch)
    connector = _ledger(ledger_url)
    accounts = [make_account(org, legal_name=name) for name in NAMES]
    poison = accounts[1]
    connector.deliveries.all().delete()
    OutboxEvent.objects.all().delete()
    for account in accounts:
        payload = account_payload(account)
        if account == poison:
            payload["account"]["legal_name"] = None
        with transaction.atomic():
            outbox_emit(event_type=EventType.ACCOUNT_APPROVED, aggregate=account, payload=payload)
    # when
    delivered = deliver_connector(str(connector.pk))
    # then: the two good ones are in the ledger, the bad one is dead with the ledger's error
    assert delivered == 2
    statuses = {d.ordering_key: d for d in connector.deliveries.all()}
    assert statuses[str(poison.pk)].status == DeliveryStatus.DEAD
    assert statuses[str(poison.pk)].last_error.startswith("Ledger refused the write")
    good = [a for a in accounts if a != poison]
    assert {statuses[str(a.pk)].status for a in good} == {DeliveryStatus.DELIVERED}
    customers = _rows(ledger_url, "ledger_customers", "cust_code, crm_id")
    assert customers == sorted((a.customer_code, str(a.pk)) for a in good)


def test_a_merge_links_the_old_codes_to_the_survivor(org, ledger_url):  # noqa: F811
    # given: two accounts in the ledger
    connector = _ledger(ledger_url)
    survivor = make_account(org, legal_name=NAMES[0])
    loser = make_account(org, legal_name=NAMES[1])
    old_code = loser.customer_code
    assert deliver_connector(str(connector.pk)) == 2
    # when: the loser is merged into the survivor and the merge event is delivered
    account_merge(actor=org.steward, survivor=survivor, losers=[loser], field_choices={})
    deliver_connector(str(connector.pk))
    # then: the ledger maps the old code to the survivor's
    assert set(connector.deliveries.values_list("status", flat=True)) == {"delivered"}
    aliases = _rows(ledger_url, "ledger_customer_aliases", "old_code, cust_code, old_crm_id")
    assert aliases == [(old_code, survivor.customer_code, str(loser.pk))]
    # and delivering the merge again changes nothing
    merge = OutboxEvent.objects.get(event_type=EventType.ACCOUNT_MERGED)
    assert connector_impl_batch(connector, [merge]) == [None]
    assert _rows(ledger_url, "ledger_customer_aliases", "old_code, cust_code, old_crm_id") == (
        aliases
    )


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_commits_makes_one_task_and_a_full_batch_offers_another(org, tmp_path):
    # given: a ledger taking batches of two, and three accounts approved in three commits
    ledger = tmp_path / "ledger.sqlite3"
    conn = sqlite3.connect(ledger)
    for statement in demo_schema_statements():
        conn.execute(statement)
    conn.commit()
    conn.close()
    connector = _ledger(f"sqlite:///{ledger}")
    connector.settings["batch_size"] = 2
    connector.save(update_fields=["settings"])
    for name in NAMES:
        make_account(org, legal_name=name)
    # then: one task waits for the connector, not one per commit
    task = DBTaskResult.objects.get()
    assert task.task_path == "accord.integration.tasks.deliver_connector_task"
    assert task.args_kwargs["args"] == [str(connector.pk)]
    # when: a task runs (the waiting one gone, as if a worker had taken it)
    DBTaskResult.objects.all().delete()
    delivered = deliver_connector_task.call(str(connector.pk))
    # then: it delivered everything, and its full first batch offered one more task
    assert delivered == 3
    assert set(connector.deliveries.values_list("status", flat=True)) == {"delivered"}
    assert DBTaskResult.objects.count() == 1


def test_a_batch_records_only_the_claims_it_still_holds(org, ledger_url):  # noqa: F811
    # given: a batch of three claimed; one lease expires and another worker takes that one
    connector = _ledger(ledger_url)
    accounts = [make_account(org, legal_name=name) for name in NAMES]
    claims = claim_batch(connector, limit=10)
    assert len(claims) == 3
    stolen = claims[0].delivery
    expired = timezone.now() - timedelta(seconds=1)
    Delivery.objects.filter(pk=stolen.pk).update(lease_expires_at=expired)
    second = claim_batch(connector, limit=10)
    assert [c.delivery.pk for c in second] == [stolen.pk]
    # when: the first worker finishes its batch
    delivered = deliver_batch_claimed(claims, connector)
    # then: it records the two it still holds; the stolen one stays with its new holder
    assert delivered == 2
    row = Delivery.objects.get(pk=stolen.pk)
    assert (row.status, row.claim_token, row.attempts) == ("delivering", second[0].token, 2)
    assert DeliveryAttempt.objects.filter(delivery=row).count() == 0
    assert deliver_batch_claimed(second, connector) == 1
    assert set(connector.deliveries.values_list("status", flat=True)) == {"delivered"}
    assert len(_rows(ledger_url, "ledger_customers", "cust_code, crm_id")) == len(accounts)


def _order_payload(account, order_id: str, lines: int) -> dict:
    return {
        "opportunity": {
            "id": order_id,
            "customer_code": account.customer_code,
            "name": "Order",
            "amount": "100.00",
            "currency": "THB",
            "closed_at": None,
            "line_items": [
                {
                    "position": n,
                    "product_code": f"P{n}",
                    "product_name": f"Product {n}",
                    "quantity": "1",
                    "unit_price": "50.00",
                    "discount_percent": "0",
                    "total": "50.00",
                }
                for n in range(lines)
            ],
        }
    }


def test_lines_an_order_no_longer_has_are_deleted_in_a_batch(org, ledger_url):  # noqa: F811
    # given: two orders of two accounts with three lines each, delivered
    connector = _ledger(ledger_url)
    accounts = [make_account(org, legal_name=name) for name in NAMES[:2]]
    orders = {a.pk: str(uuid.uuid4()) for a in accounts}
    for lines in (3, 1):
        for account in accounts:
            with transaction.atomic():
                outbox_emit(
                    event_type=EventType.OPPORTUNITY_WON,
                    aggregate=account,
                    payload=_order_payload(account, orders[account.pk], lines),
                )
    claims = claim_batch(connector, limit=10)  # the approvals
    assert deliver_batch_claimed(claims, connector) == 2
    claims = claim_batch(connector, limit=10)  # the 3-line orders
    assert deliver_batch_claimed(claims, connector) == 2
    assert len(_rows(ledger_url, "ledger_sales_order_lines", "crm_ref, line_no")) == 6
    # when: both orders come again with one line, in one batch
    claims = claim_batch(connector, limit=10)
    assert len(claims) == 2
    assert deliver_batch_claimed(claims, connector) == 2
    # then: each order keeps only its line 0
    lines = _rows(ledger_url, "ledger_sales_order_lines", "crm_ref, line_no")
    assert lines == sorted((ref, 0) for ref in orders.values())
