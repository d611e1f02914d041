"""Drill: the receiver is down for an hour of simulated time — 30 minutes refusing
connections, then 30 minutes answering 503 — then recovers. Nothing goes to the dead-letter
list, retries back off while it is down, and after recovery the backlog drains in order.

Time is a controlled clock (``timezone.now``); a "worker" polls every 10 simulated seconds
and delivers whatever is due, as ``accord worker`` would.
"""

from __future__ import annotations

import socket
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from accord.integration.delivery import deliver_key, due_keys
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

pytestmark = pytest.mark.django_db

STEP = timedelta(seconds=10)
ACCOUNTS = 5


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_hour_long_outage_loses_nothing_backs_off_and_drains_in_order(org, monkeypatch):
    # given: 5 accounts with 3 events each, and a receiver that is down
    start = timezone.now()
    clock = {"now": start}
    receiver = WebhookReceiver(secret="k" * 16).start()
    try:
        connector = Connector.objects.create(
            name="hook",
            kind=ConnectorKind.WEBHOOK,
            event_types=["account.approved", "account.updated"],
            settings={
                "url": f"http://127.0.0.1:{_closed_port()}/hook",
                "secret": "k" * 16,
                "timeout_seconds": 2,
            },
        )
        accounts = [make_account(org, legal_name=f"Outage {i} Co., Ltd.") for i in range(ACCOUNTS)]
        for account in accounts:
            for _ in range(2):
                account_event_emit(event_type=EventType.ACCOUNT_UPDATED, account=account)
        monkeypatch.setattr(timezone, "now", lambda: clock["now"])

        def run_until(end: timedelta) -> None:
            while clock["now"] < start + end:
                clock["now"] += STEP
                for connector_id, key in due_keys(now=clock["now"], grace_seconds=0):
                    deliver_key(connector_id, key)

        # when: 30 minutes refused, then 30 minutes of 503
        run_until(timedelta(minutes=30))
        receiver.script = [503]
        connector.settings["url"] = receiver.url
        connector.save(update_fields=["settings"])
        run_until(timedelta(minutes=60))
        down = list(DeliveryAttempt.objects.values_list("started_at", flat=True))
        # then: nothing dead, and the retries backed off
        assert not Delivery.objects.filter(status=DeliveryStatus.DEAD).exists()
        per_ten_minutes = Counter(int((t - start).total_seconds() // 600) for t in down)
        first, last = per_ten_minutes[0], per_ten_minutes[5]
        print(f"attempts against the dead target per 10 min: {sorted(per_ten_minutes.items())}")
        assert first >= ACCOUNTS * 4  # early on, every head retries every few seconds
        # at the 10-minute cap each account's head is tried about once or twice per 10 min
        assert last <= ACCOUNTS * 2 < first
        # when: the receiver recovers
        receiver.script = [200]
        run_until(timedelta(minutes=72))
    finally:
        receiver.stop()
    # then: everything delivered within the cap after recovery, once each, in order per account
    statuses = Counter(Delivery.objects.values_list("status", flat=True))
    assert statuses == {DeliveryStatus.DELIVERED: 3 * ACCOUNTS}
    accepted = [r.json for r in receiver.requests if r.answered == 200]
    assert len(accepted) == len(receiver.effects) == 3 * ACCOUNTS  # each event once
    for account in accounts:
        seqs = [e["sequence"] for e in accepted if e["ordering_key"] == str(account.pk)]
        assert seqs == [1, 2, 3]
