"""Delivering to a real webhook receiver on 127.0.0.1: signatures, retries, dead letters, order."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accord.integration import delivery as engine
from accord.integration.delivery import backoff_seconds, claim_head, deliver_key, due_keys
from accord.integration.models import (
    AttemptOutcome,
    Connector,
    ConnectorKind,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    OutboxEvent,
)
from accord.integration.outbox import account_event_emit
from accord.integration.services import delivery_replay
from accord.integration.testing import WebhookReceiver
from tests.conftest import make_account
from tests.integration_support import approval_of


@pytest.fixture
def receiver():
    server = WebhookReceiver(secret="top-secret").start()
    yield server
    server.stop()


def _hook(url: str, **settings) -> Connector:
    return Connector.objects.create(
        name="hook",
        kind=ConnectorKind.WEBHOOK,
        event_types=["account.approved", "account.updated", "opportunity.won"],
        settings={"url": url, "secret": "top-secret", "timeout_seconds": 2, **settings},
    )


def _approve(account):
    """The account's next event: its approval (written when it was created), then updates."""
    if not getattr(account, "_approval_taken", False):
        account._approval_taken = True
        return approval_of(account)
    return account_event_emit(event_type=EventType.ACCOUNT_UPDATED, account=account)


def _delivery(event: OutboxEvent) -> Delivery:
    return Delivery.objects.get(event=event)


def _make_due(*deliveries: Delivery) -> None:
    past = timezone.now() - timedelta(seconds=1)
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(next_attempt_at=past)


def test_a_delivered_event_is_signed_json_with_the_event_id_as_idempotency_key(org, receiver):
    # given
    connector = _hook(receiver.url)
    account = make_account(org)
    event = _approve(account)
    # when
    delivered = deliver_key(str(connector.pk), str(account.pk))
    # then
    assert delivered == 1
    [request] = receiver.requests
    assert request.headers["Idempotency-Key"] == str(event.id)
    assert request.headers["X-Accord-Event"] == "account.approved"
    assert request.headers["Content-Type"] == "application/json"
    assert receiver.signature_ok(request)
    body = request.json
    assert body["id"] == str(event.id)
    assert body["type"] == "account.approved"
    assert (body["ordering_key"], body["sequence"]) == (str(account.pk), 1)
    assert body["data"]["account"]["customer_code"] == account.customer_code
    row = _delivery(event)
    assert (row.status, row.attempts, row.last_error, row.claim_token) == (
        DeliveryStatus.DELIVERED,
        1,
        "",
        "",
    )
    assert list(DeliveryAttempt.objects.values_list("outcome", flat=True)) == ["delivered"]


def test_a_tampered_body_fails_the_signature(org, receiver):
    connector = _hook(receiver.url)
    account = make_account(org)
    _approve(account)
    deliver_key(str(connector.pk), str(account.pk))
    [request] = receiver.requests
    request.body = request.body.replace(b"Siam", b"Siem")
    assert receiver.signature_ok(request) is False


def test_a_5xx_is_retried_after_a_backoff_and_then_delivered(
    org, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    # given
    monkeypatch.setattr(engine.random, "random", lambda: 0.5)
    receiver.script = [500, 200]
    connector = _hook(receiver.url, retry_base_seconds=10)
    account = make_account(org)
    event = _approve(account)
    # when
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_key(str(connector.pk), str(account.pk)) == 0
    after = timezone.now()
    # then: failed, retry due in 10·(1/2 + 0.5·1/2) = 7.5 s, a deferred task for then
    row = _delivery(event)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert row.last_error == 'HTTP 500: {"error": "no"}'
    assert before + timedelta(seconds=7.5) <= row.next_attempt_at <= after + timedelta(seconds=7.5)
    task = DBTaskResult.objects.get()
    assert task.run_after == row.next_attempt_at
    assert task.args_kwargs["args"] == [str(connector.pk)]
    # when: too early, nothing is sent
    assert deliver_key(str(connector.pk), str(account.pk)) == 0
    assert len(receiver.requests) == 1
    # when: the retry falls due
    _make_due(row)
    assert deliver_key(str(connector.pk), str(account.pk)) == 1
    # then
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.DELIVERED, 2, "")
    assert [r.headers["Idempotency-Key"] for r in receiver.requests] == [str(event.id)] * 2
    assert len(receiver.effects) == 1
    assert list(DeliveryAttempt.objects.values_list("outcome", flat=True)) == [
        AttemptOutcome.RETRY,
        AttemptOutcome.DELIVERED,
    ]


@pytest.mark.parametrize("status", [408, 429, 502, 503])
def test_408_429_and_5xx_are_retried(org, receiver, status):
    receiver.script = [status]
    connector = _hook(receiver.url)
    account = make_account(org)
    event = _approve(account)
    deliver_key(str(connector.pk), str(account.pk))
    row = _delivery(event)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    # 429/502/503 say the receiver is down or overloaded: not this event's fault
    prefix = "" if status == 408 else "Target unavailable: "
    assert row.last_error.startswith(f"{prefix}HTTP {status}: ")


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_other_4xx_go_to_the_dead_letter_list_at_once(org, receiver, status):
    receiver.script = [status]
    connector = _hook(receiver.url)
    account = make_account(org)
    event = _approve(account)
    deliver_key(str(connector.pk), str(account.pk))
    row = _delivery(event)
    assert (row.status, row.attempts) == (DeliveryStatus.DEAD, 1)
    assert row.last_error == f'HTTP {status}: {{"error": "no"}}'


def test_a_timeout_is_retried(org, receiver):
    receiver.script = ["timeout"]
    receiver.timeout_sleep = 1.5
    connector = _hook(receiver.url, timeout_seconds=0.3)
    account = make_account(org)
    event = _approve(account)
    deliver_key(str(connector.pk), str(account.pk))
    row = _delivery(event)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert row.last_error == "Timed out after 0.3s (ReadTimeout)."


def test_a_refused_connection_is_retried(org):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connector = _hook(f"http://127.0.0.1:{port}/hook")
    account = make_account(org)
    event = _approve(account)
    deliver_key(str(connector.pk), str(account.pk))
    row = _delivery(event)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert row.last_error.startswith("Target unavailable: Connection failed: ")


def test_attempts_run_out_into_the_dead_letter_list(org, receiver):
    receiver.script = [500]
    connector = _hook(receiver.url, max_attempts=3)
    account = make_account(org)
    event = _approve(account)
    statuses = []
    for _ in range(3):
        deliver_key(str(connector.pk), str(account.pk))
        row = _delivery(event)
        statuses.append((row.status, row.attempts))
        _make_due(row)
    assert statuses == [
        (DeliveryStatus.FAILED, 1),
        (DeliveryStatus.FAILED, 2),
        (DeliveryStatus.DEAD, 3),
    ]
    assert len(receiver.requests) == 3


def test_an_unavailable_target_never_uses_up_the_attempts(org, receiver):
    # given: a long outage (refused / 503 / 429), then an error that is this event's
    receiver.script = [503, 503, 429, 502, 503, 500, 500, 200]
    connector = _hook(receiver.url, max_attempts=3)
    account = make_account(org)
    event = _approve(account)
    statuses = []
    for _ in range(8):
        deliver_key(str(connector.pk), str(account.pk))
        row = _delivery(event)
        statuses.append(row.status)
        _make_due(row)
    # then: five unavailable answers keep it retrying; only real failures count (2 of 3)
    assert statuses == [DeliveryStatus.FAILED] * 7 + [DeliveryStatus.DELIVERED]
    assert _delivery(event).attempts == 8


def test_a_replay_gives_a_fresh_budget(org, receiver):
    receiver.script = [500, 500, 500, 500, 200]
    connector = _hook(receiver.url, max_attempts=2)
    account = make_account(org)
    event = _approve(account)
    for _ in range(2):
        deliver_key(str(connector.pk), str(account.pk))
        _make_due(_delivery(event))
    assert _delivery(event).status == DeliveryStatus.DEAD
    delivery_replay(actor=org.admin, delivery=_delivery(event))
    deliver_key(str(connector.pk), str(account.pk))
    assert _delivery(event).status == DeliveryStatus.FAILED  # 1 of 2, not 3 of 2
    _make_due(_delivery(event))
    deliver_key(str(connector.pk), str(account.pk))
    assert _delivery(event).status == DeliveryStatus.DEAD


def test_a_dead_event_blocks_only_its_own_account_until_replayed(org, receiver):
    # given: the first event of account A is refused, B is fine
    receiver.script = [400, 200]
    connector = _hook(receiver.url)
    a = make_account(org, legal_name="Alpha Co., Ltd.")
    b = make_account(org, legal_name="Beta Co., Ltd.")
    a1 = _approve(a)
    a2 = account_event_emit(event_type=EventType.ACCOUNT_UPDATED, account=a)
    b1 = _approve(b)
    # when
    assert deliver_key(str(connector.pk), str(a.pk)) == 0
    assert deliver_key(str(connector.pk), str(b.pk)) == 1
    # then: A's second event waits behind its dead first one
    assert _delivery(a1).status == DeliveryStatus.DEAD
    assert _delivery(a2).status == DeliveryStatus.PENDING
    assert _delivery(b1).status == DeliveryStatus.DELIVERED
    # when: an administrator replays the dead one
    replayed = delivery_replay(actor=org.admin, delivery=_delivery(a1))
    assert (replayed.status, replayed.attempts, replayed.last_error) == (
        DeliveryStatus.PENDING,
        0,
        "",
    )
    assert deliver_key(str(connector.pk), str(a.pk)) == 2
    # then: delivered in the account's order
    sent = [(r.json["ordering_key"], r.json["sequence"]) for r in receiver.requests]
    assert sent == [(str(a.pk), 1), (str(b.pk), 1), (str(a.pk), 1), (str(a.pk), 2)]
    assert _delivery(a1).status == _delivery(a2).status == DeliveryStatus.DELIVERED


def test_a_claimed_head_is_not_claimed_again_until_its_lease_expires(org, receiver):
    # given
    connector = _hook(receiver.url)
    account = make_account(org)
    _approve(account)
    account_event_emit(event_type=EventType.ACCOUNT_UPDATED, account=account)
    # when
    first = claim_head(connector, str(account.pk))
    # then: neither the head nor the event behind it can be taken
    assert first is not None and first.delivery.seq == 1
    assert claim_head(connector, str(account.pk)) is None
    # when: the first worker dies; its lease runs out
    later = timezone.now() + timedelta(seconds=engine.lease_seconds(connector) + 1)
    second = claim_head(connector, str(account.pk), now=later)
    # then: another worker takes over the same delivery
    assert second is not None and second.delivery.pk == first.delivery.pk
    assert second.delivery.attempts == 2
    # and the first worker's late outcome is ignored
    assert engine.deliver_claimed(first, connector) is None
    assert engine.deliver_claimed(second, connector) == DeliveryStatus.DELIVERED
    assert _delivery(first.delivery.event).status == DeliveryStatus.DELIVERED


def test_paused_connectors_send_nothing(org, receiver):
    connector = _hook(receiver.url)
    Connector.objects.filter(pk=connector.pk).update(paused=True)
    account = make_account(org)
    _approve(account)
    assert deliver_key(str(connector.pk), str(account.pk)) == 0
    assert receiver.requests == []


def test_field_mapping_shapes_what_the_receiver_gets(org, receiver):
    connector = _hook(receiver.url)
    connector.field_mapping = {
        "account.approved": {
            "CustCode": "account.customer_code",
            "CustName": "account.legal_name",
            "Source": {"const": "CRM"},
            "Fax": {"path": "account.fax", "default": ""},
        }
    }
    connector.save()
    account = make_account(org)
    _approve(account)
    deliver_key(str(connector.pk), str(account.pk))
    assert receiver.requests[0].json["data"] == {
        "CustCode": account.customer_code,
        "CustName": "Siam Trading Co., Ltd.",
        "Source": "CRM",
        "Fax": "",
    }


def test_a_mapping_fault_is_dead_at_once(org, receiver):
    connector = _hook(receiver.url)
    connector.field_mapping = {"account.approved": {"Code": "account.no_such_field"}}
    connector.save()
    account = make_account(org)
    event = _approve(account)
    deliver_key(str(connector.pk), str(account.pk))
    row = _delivery(event)
    assert (row.status, row.last_error) == (
        DeliveryStatus.DEAD,
        "Mapping: The payload has no 'account.no_such_field'.",
    )
    assert receiver.requests == []


def test_backoff_doubles_up_to_the_cap_with_half_of_each_step_random(org):
    connector = Connector(settings={"retry_base_seconds": 2, "retry_cap_seconds": 600})
    lowest = [backoff_seconds(connector, n, rand=lambda: 0.0) for n in range(1, 13)]
    highest = [backoff_seconds(connector, n, rand=lambda: 1.0) for n in range(1, 13)]
    assert highest == [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600]
    assert lowest == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]


def test_the_sweep_finds_work_whose_task_was_lost(org, receiver):
    # given
    connector = _hook(receiver.url)
    paused = Connector.objects.create(
        name="paused", kind=ConnectorKind.WEBHOOK, paused=True, event_types=["account.approved"]
    )
    a = make_account(org, legal_name="Alpha Co., Ltd.")
    b = make_account(org, legal_name="Beta Co., Ltd.")
    _approve(a)
    _approve(b)
    claim_head(connector, str(b.pk))  # b's worker is delivering (and will die)
    now = timezone.now()
    # then: fresh work has its task; nothing to sweep yet
    assert due_keys(now=now) == []
    # when: time passes beyond the grace period and b's lease
    later = now + timedelta(seconds=engine.lease_seconds(connector) + 1)
    # then: both keys of the live connector, none of the paused one
    assert sorted(due_keys(now=later)) == sorted(
        [(str(connector.pk), str(a.pk)), (str(connector.pk), str(b.pk))]
    )
    assert paused.pk not in {c for c, _ in due_keys(now=later)}


def test_a_long_backlog_for_one_key_is_handed_to_a_fresh_task(org, receiver):
    connector = _hook(receiver.url)
    account = make_account(org)
    for _ in range(3):
        _approve(account)
    assert deliver_key(str(connector.pk), str(account.pk), limit=2) == 2
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [str(connector.pk)]
    assert deliver_key(str(connector.pk), str(account.pk), limit=2) == 1
    assert DBTaskResult.objects.count() == 1


def test_the_sweep_enqueues_one_task_per_connector_with_lost_work(org, receiver):
    connector = _hook(receiver.url)
    account = make_account(org)
    _approve(account)
    _approve(account)
    _approve(make_account(org, legal_name="Other Key Co., Ltd."))
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    assert engine.outbox_sweep() == 1
    task = DBTaskResult.objects.get()
    assert task.task_path == "accord.integration.tasks.deliver_connector_task"
    assert task.args_kwargs["args"] == [str(connector.pk)]
    # a second sweep while that task still waits adds nothing
    assert engine.outbox_sweep() == 0
    assert DBTaskResult.objects.count() == 1


def test_with_the_immediate_backend_delivery_happens_right_after_commit(
    org, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    # given: ACCORD_TASKS_BACKEND=immediate (make run without a worker)
    from django.tasks import task_backends
    from django.tasks.backends.immediate import ImmediateBackend

    monkeypatch.setattr(
        task_backends._connections,
        "default",
        ImmediateBackend("default", {"QUEUES": [], "OPTIONS": {}}),
        raising=False,
    )
    connector = _hook(receiver.url)
    # when: a steward creates (approves) an account
    with django_capture_on_commit_callbacks(execute=True):
        account = make_account(org)
    event = _approve(account)
    # then
    assert _delivery(event).status == DeliveryStatus.DELIVERED
    assert [r.headers["Idempotency-Key"] for r in receiver.requests] == [str(event.id)]
    assert DBTaskResult.objects.count() == 0
    assert connector.deliveries.count() == 1
