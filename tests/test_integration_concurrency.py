"""Several workers at once: no event is delivered twice, each account's order holds.

Real threads with their own database connections claim from the same backlog. On
PostgreSQL this exercises ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite serialises writers.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, transaction

from accord.integration.delivery import deliver_connector, deliver_key
from accord.integration.models import (
    Connector,
    ConnectorKind,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
)
from accord.integration.outbox import account_event_emit
from accord.integration.testing import WebhookReceiver
from tests.conftest import make_account
from tests.integration_support import approval_of

# Distinct enough that the duplicate check lets them all in.
NAMES = [
    "Ayutthaya Rice Mills Co., Ltd.",
    "Bangkok Dental Clinic Co., Ltd.",
    "Chonburi Marine Logistics Co., Ltd.",
    "Hat Yai Rubber Products Co., Ltd.",
    "Korat Ceramics Co., Ltd.",
    "Phuket Resort Holdings Co., Ltd.",
]

pytestmark = pytest.mark.django_db(transaction=True)


def test_four_workers_deliver_every_event_once_and_in_account_order(org):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a shared database file or PostgreSQL (ACCORD_TEST_SQLITE_NAME)")
    # given: 6 accounts, 5 events each, committed
    receiver = WebhookReceiver(secret="k" * 16).start()
    try:
        connector = Connector.objects.create(
            name="hook",
            kind=ConnectorKind.WEBHOOK,
            event_types=["account.approved", "account.updated"],
            settings={"url": receiver.url, "secret": "k" * 16, "timeout_seconds": 5},
        )
        accounts = [make_account(org, legal_name=NAMES[n]) for n in range(6)]
        for account in accounts:
            with transaction.atomic():
                approval_of(account)
            for _ in range(4):
                with transaction.atomic():
                    account_event_emit(event_type=EventType.ACCOUNT_UPDATED, account=account)
        keys = [str(a.pk) for a in accounts]
        errors: list[BaseException] = []

        def worker(order: list[str]) -> None:
            try:
                for _ in range(3):
                    for key in order:
                        deliver_key(str(connector.pk), key)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        # when: four workers walk the keys, two of them in the opposite direction
        threads = [
            threading.Thread(target=worker, args=(keys if n % 2 else keys[::-1],)) for n in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        receiver.stop()
    # then
    assert errors == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    assert DeliveryAttempt.objects.count() == 30
    sent = Counter(r.headers["Idempotency-Key"] for r in receiver.requests)
    assert len(sent) == 30
    assert set(sent.values()) == {1}
    for key in keys:
        sequence = [r.json["sequence"] for r in receiver.requests if r.json["ordering_key"] == key]
        assert sequence == [1, 2, 3, 4, 5]


def test_four_batch_workers_deliver_every_event_once_and_in_account_order(org):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a shared database file or PostgreSQL (ACCORD_TEST_SQLITE_NAME)")
    # given: 6 accounts, 5 events each, committed
    receiver = WebhookReceiver(secret="k" * 16).start()
    try:
        connector = Connector.objects.create(
            name="hook",
            kind=ConnectorKind.WEBHOOK,
            event_types=["account.approved", "account.updated"],
            settings={"url": receiver.url, "secret": "k" * 16, "timeout_seconds": 5},
        )
        accounts = [make_account(org, legal_name=NAMES[n]) for n in range(6)]
        for account in accounts:
            for _ in range(4):
                with transaction.atomic():
                    account_event_emit(event_type=EventType.ACCOUNT_UPDATED, account=account)
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                for _ in range(10):
                    deliver_connector(str(connector.pk))
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        # when: four workers drain the connector's backlog at once (claiming across keys)
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        receiver.stop()
    # then: every event once, each account's in order
    assert errors == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    sent = Counter(r.headers["Idempotency-Key"] for r in receiver.requests)
    assert len(sent) == 30
    assert set(sent.values()) == {1}
    for account in accounts:
        key = str(account.pk)
        sequence = [r.json["sequence"] for r in receiver.requests if r.json["ordering_key"] == key]
        assert sequence == [1, 2, 3, 4, 5]
