"""A real `accord worker` process killed with SIGKILL mid-delivery: nothing lost, nothing doubled.

The test database must be reachable from another process: PostgreSQL, or SQLite in a file
(``ACCORD_TEST_SQLITE_NAME``); with in-memory SQLite the test skips.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from accord.integration.models import (
    Connector,
    ConnectorKind,
    Delivery,
    DeliveryStatus,
    EventType,
)
from accord.integration.outbox import account_event_emit
from accord.integration.testing import WebhookReceiver
from tests.conftest import make_account
from tests.integration_support import approval_of

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
        return f"postgres://{settings['USER']}@{host}:{port}/{settings['NAME']}"
    if connection.is_in_memory_db():
        pytest.skip("a second process cannot see in-memory SQLite (set ACCORD_TEST_SQLITE_NAME)")
    return f"sqlite:///{settings['NAME']}"


def _wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_a_worker_killed_mid_delivery_is_taken_over_and_nothing_is_doubled(org, tmp_path):
    # given: the receiver hangs on the first request; two committed events of one account
    url = _database_url()
    receiver = WebhookReceiver(secret="k" * 16, script=["timeout", 200])
    receiver.timeout_sleep = 60
    receiver.start()
    try:
        connector = Connector.objects.create(
            name="hook",
            kind=ConnectorKind.WEBHOOK,
            event_types=["account.approved", "account.updated"],
            settings={"url": receiver.url, "secret": "k" * 16, "timeout_seconds": 30},
        )
        account = make_account(org)
        with transaction.atomic():
            first = approval_of(account)
        with transaction.atomic():
            second = account_event_emit(event_type=EventType.ACCOUNT_UPDATED, account=account)
        # when: a real worker process starts delivering, and is killed mid-request
        env = {**os.environ, "DATABASE_URL": url, "ACCORD_VAR_DIR": str(tmp_path)}
        worker = subprocess.Popen(
            [sys.executable, "-m", "accord.cli", "worker", "--no-startup-delay",
             "--interval", "0.1", "--sweep-interval", "0", "--verbosity", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_for(lambda: len(receiver.requests) == 1, 30)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        # then: the delivery is left claimed, the next one untouched
        killed = Delivery.objects.get(event=first)
        assert (killed.status, killed.attempts) == (DeliveryStatus.DELIVERING, 1)
        assert Delivery.objects.get(event=second).status == DeliveryStatus.PENDING
        # when: the lease runs out and another worker sweeps and runs
        Delivery.objects.filter(pk=killed.pk).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
        try:
            call_command("worker", "--batch", "--no-startup-delay", verbosity=0)
        finally:
            for s, handler in saved.items():
                signal.signal(s, handler)
    finally:
        receiver.stop()
    # then: both delivered, in order; the receiver saw the first twice with one key
    rows = {d.event_id: d for d in Delivery.objects.all()}
    assert (rows[first.id].status, rows[first.id].attempts) == (DeliveryStatus.DELIVERED, 2)
    assert (rows[second.id].status, rows[second.id].attempts) == (DeliveryStatus.DELIVERED, 1)
    keys = [r.headers["Idempotency-Key"] for r in receiver.requests]
    assert keys == [str(first.id), str(first.id), str(second.id)]
    assert list(receiver.effects) == [str(first.id), str(second.id)]
    assert connector.deliveries.count() == 2
