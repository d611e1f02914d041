"""Per-record sync status, connector health, `accord integration-status`, the real worker."""

from __future__ import annotations

import io
import signal
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accord.integration.delivery import deliver_key
from accord.integration.models import (
    Connector,
    ConnectorKind,
    Delivery,
    DeliveryStatus,
    EventType,
    OutboxEvent,
)
from accord.integration.outbox import account_event_emit
from accord.integration.selectors import SyncStatus, connector_health, record_sync_status
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


@pytest.fixture
def receiver():
    server = WebhookReceiver(secret="k").start()
    yield server
    server.stop()


def _hook(name: str, url: str, **fields) -> Connector:
    return Connector.objects.create(
        name=name,
        kind=ConnectorKind.WEBHOOK,
        event_types=["account.approved", "account.updated"],
        settings={"url": url, "secret": "k", "timeout_seconds": 2},
        **fields,
    )


def test_an_accounts_sync_status_per_connector(org, receiver):
    # given: "good" takes everything, "picky" refuses the update; one account was
    # approved before either connector existed
    untouched = make_account(org, legal_name="Quiet Co., Ltd.")
    good = _hook("good", receiver.url)
    _hook("picky", receiver.url)
    account = make_account(org)
    approval_of(account)
    account_event_emit(event_type=EventType.ACCOUNT_UPDATED, account=account)
    # then: nothing sent yet
    assert [(s.connector, s.status, s.attempts) for s in record_sync_status(account)] == [
        ("good", "pending", 0),
        ("picky", "pending", 0),
    ]
    # when
    deliver_key(str(good.pk), str(account.pk))
    receiver.script = [200, 503]
    picky = Connector.objects.get(name="picky")
    deliver_key(str(picky.pk), str(account.pk))
    # then
    [at_good, at_picky] = record_sync_status(account)
    assert (at_good.status, at_good.attempts, at_good.event_type) == (
        "delivered",
        1,
        "account.updated",
    )
    assert at_good.delivered_at is not None
    assert (at_picky.status, at_picky.attempts, at_picky.last_error, at_picky.event_type) == (
        "failed",
        1,
        'Target unavailable: HTTP 503: {"error": "no"}',
        "account.updated",
    )
    assert at_picky.next_attempt_at is not None
    assert record_sync_status(untouched) == []
    assert isinstance(at_good, SyncStatus)


def test_connector_health_counts_backlog_dead_lag_and_failure_rate(org, receiver):
    # given
    receiver.script = [200, 400, 503]
    hook = _hook("hook", receiver.url)
    _hook("idle", receiver.url, paused=True)
    accounts = [make_account(org, legal_name=NAMES[n]) for n in range(4)]
    for account in accounts:
        approval_of(account)
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(hours=2))
    # when: one delivered, one dead (400), one retrying (503), one untouched
    for account in accounts[:3]:
        deliver_key(str(hook.pk), str(account.pk))
    # then
    health = {h.name: h for h in connector_health()}
    h = health["hook"]
    assert (h.state, h.backlog, h.failed, h.dead) == ("enabled", 2, 1, 1)
    assert (h.attempts, h.failed_attempts, h.delivered) == (3, 2, 1)
    assert h.failure_rate == pytest.approx(2 / 3)
    assert 7190 < h.lag_seconds < 7300
    idle = health["idle"]
    assert (idle.state, idle.backlog, idle.dead, idle.attempts) == ("paused", 4, 0, 0)
    assert 7190 < idle.lag_seconds < 7300


def test_integration_status_prints_one_line_per_connector(org, receiver):
    # given
    receiver.script = [200, 400, 503]
    hook = _hook("hook", receiver.url)
    accounts = [make_account(org, legal_name=NAMES[n]) for n in range(4)]
    for account in accounts:
        approval_of(account)
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(hours=2))
    for account in accounts[:3]:
        deliver_key(str(hook.pk), str(account.pk))
    _hook("off", receiver.url, enabled=False)
    # when
    out = io.StringIO()
    call_command("integration_status", stdout=out)
    # then
    assert out.getvalue().splitlines() == [
        "connector            kind       state    backlog retrying  dead    lag attempts  failed",
        "hook                 webhook    enabled        2        1     1   2.0h        3   66.7%",
        "off                  webhook    disabled       0        0     0     0s        0    0.0%",
        "(attempts and failure rate over the last 60 min)",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_delivers_committed_events_in_order(org, receiver):
    # given: committed writes; their tasks were enqueued on commit
    hook = _hook("hook", receiver.url)
    a = make_account(org, legal_name="Alpha Co., Ltd.")  # approved: its event is queued
    make_account(org, legal_name="Beta Co., Ltd.")
    with transaction.atomic():
        account_event_emit(event_type=EventType.ACCOUNT_UPDATED, account=a)
    # one task for the connector: later commits find it still waiting
    assert DBTaskResult.objects.count() == 1
    # when: the real worker runs what is queued, then exits
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command(
            "worker", "--batch", "--no-startup-delay", "--sweep-interval", "0", verbosity=0
        )
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    # then
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    sent_a = [r.json["type"] for r in receiver.requests if r.json["ordering_key"] == str(a.pk)]
    assert sent_a == ["account.approved", "account.updated"]
    assert len(receiver.requests) == 3
    assert len(receiver.effects) == 3
    assert hook.deliveries.count() == 3
