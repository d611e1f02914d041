"""Delivering outbox events: claim the head of a key, send it, record the outcome.

Rules that make delivery safe with any number of workers:

* **Claim, then send outside any transaction.** A short transaction locks the oldest
  undelivered delivery of (connector, key) — ``SELECT … FOR UPDATE SKIP LOCKED`` on
  PostgreSQL; SQLite serialises writers — checks that nothing earlier of that key is
  undelivered, and marks it ``delivering`` with a lease and a claim token.
* **Per-key order.** A delivery is claimed only when it is the head of its key for its
  connector, so an account's events reach a connector in order; a dead head blocks its
  key (and only its key) until it is replayed.
* **Leases.** A worker killed mid-delivery leaves a lease that expires; the sweep hands
  the delivery to another worker (the target sees it again with the same
  ``Idempotency-Key``). The outcome is written only by the holder of the claim token.
* **Retries.** 5xx, timeouts and refused connections retry with capped exponential backoff
  and full jitter; permanent failures and exhausted attempts go to ``dead``.
* **Batches.** :func:`deliver_connector` (the delivery task) claims up to ``batch_size``
  heads of *different* keys in one short transaction (the same rules: only heads, ``SKIP
  LOCKED``, a lease and one claim token for the batch), hands them to the connector at
  once where it can take a batch (the SQL ledger: one ledger transaction; a failed batch
  falls back to one event at a time, so a bad event never fails the others) and records
  the outcomes in bulk. Connectors without batches (webhooks) take one at a time.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.utils import timezone

from accord.integration.connectors import (
    PermanentError,
    RetryableError,
    TargetUnavailable,
    connector_impl,
)
from accord.integration.models import (
    AttemptOutcome,
    Connector,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    OutboxEvent,
)

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_RETRY_BASE_SECONDS = 2.0
DEFAULT_RETRY_CAP_SECONDS = 600.0
DEFAULT_LEASE_SECONDS = 60.0
# A due delivery untouched for this long has lost its task (a crash between commit and
# enqueue, an expired lease, a backend without deferred tasks): the sweep enqueues again.
SWEEP_GRACE_SECONDS = 30.0
# Heads claimed at once by a connector that takes batches (``settings.batch_size``).
DEFAULT_BATCH_SIZE = 200
# Batches one delivery task runs before it hands the rest to a fresh task.
MAX_BATCHES_PER_TASK = 50


def _setting(connector: Connector, name: str, default: float) -> float:
    try:
        return float(connector.settings.get(name, default))
    except (TypeError, ValueError):
        return default


def max_attempts(connector: Connector) -> int:
    return int(_setting(connector, "max_attempts", DEFAULT_MAX_ATTEMPTS))


def lease_seconds(connector: Connector) -> float:
    """Longer than any delivery can take, so a live worker never loses its claim."""
    timeout = _setting(connector, "timeout_seconds", 10.0)
    return max(DEFAULT_LEASE_SECONDS, 4 * timeout + 30)


def backoff_seconds(
    connector: Connector, attempts: int, *, rand: Callable[[], float] | None = None
) -> float:
    """Capped exponential backoff with full jitter: uniform in [cap/2, cap] of the step.

    Half of the step is kept so a retry never comes sooner than base·2ⁿ⁻¹/2; the other
    half is random so that many deliveries failing together do not retry together.
    """
    base = _setting(connector, "retry_base_seconds", DEFAULT_RETRY_BASE_SECONDS)
    cap = _setting(connector, "retry_cap_seconds", DEFAULT_RETRY_CAP_SECONDS)
    step = min(cap, base * 2 ** max(0, attempts - 1))
    return step / 2 + (rand or random.random)() * step / 2


def _failures(delivery: Delivery) -> int:
    """Earlier failed attempts of this round (since the delivery was created or replayed)
    that count against the attempt budget: not those made while the target was unavailable,
    which say nothing about the event."""
    earlier = max(0, delivery.attempts - 1)
    if earlier == 0:
        return 0
    recent = (
        DeliveryAttempt.objects.filter(delivery=delivery)
        .order_by("-started_at", "-id")
        .values_list("outcome", "error")[:earlier]
    )
    return sum(
        1
        for outcome, error in recent
        if outcome == AttemptOutcome.RETRY and not error.startswith(TargetUnavailable.label)
    )


@dataclass(frozen=True)
class Claim:
    delivery: Delivery
    token: str


def claim_head(connector: Connector, key: str, *, now: datetime | None = None) -> Claim | None:
    """Claim the oldest undelivered delivery of (connector, key) if it may go now."""
    now = now or timezone.now()
    with transaction.atomic():
        undelivered = (
            Delivery.objects.filter(connector=connector, ordering_key=key)
            .exclude(status=DeliveryStatus.DELIVERED)
            .order_by("seq")
        )
        head = undelivered.select_for_update(skip_locked=True).first()
        if head is None:
            return None
        if undelivered.filter(seq__lt=head.seq).exists():
            return None  # an earlier one is being claimed by another worker right now
        if head.status == DeliveryStatus.DEAD:
            return None
        if head.status == DeliveryStatus.DELIVERING:
            if head.lease_expires_at is not None and head.lease_expires_at > now:
                return None
        elif head.next_attempt_at > now:
            return None
        token = secrets.token_hex(16)
        head.status = DeliveryStatus.DELIVERING
        head.attempts += 1
        head.claim_token = token
        head.lease_expires_at = now + timedelta(seconds=lease_seconds(connector))
        head.save(update_fields=["status", "attempts", "claim_token", "lease_expires_at"])
        return Claim(delivery=head, token=token)


def _record(
    claim: Claim,
    connector: Connector,
    *,
    started_at: datetime,
    duration_ms: int,
    error: Exception | None,
    enqueue_retry: bool = True,
) -> str | None:
    """Write the outcome if the claim still holds; returns the new status."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=claim.delivery.pk)
        if delivery.claim_token != claim.token or delivery.status != DeliveryStatus.DELIVERING:
            logger.warning("Delivery %s: claim lost before the outcome was written", delivery.pk)
            return None
        now = timezone.now()
        if error is None:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = ""
            outcome = AttemptOutcome.DELIVERED
        else:
            message = str(error) or type(error).__name__
            unavailable = isinstance(error, TargetUnavailable)
            if unavailable:
                message = f"{TargetUnavailable.label}: {message}"
            delivery.last_error = message[:2000]
            permanent = isinstance(error, PermanentError)
            if permanent or (
                not unavailable and _failures(delivery) + 1 >= max_attempts(connector)
            ):
                delivery.status = DeliveryStatus.DEAD
                outcome = AttemptOutcome.DEAD
            else:
                delay = backoff_seconds(connector, delivery.attempts)
                retry_after = getattr(error, "retry_after", None)
                if retry_after is not None:
                    cap = _setting(connector, "retry_cap_seconds", DEFAULT_RETRY_CAP_SECONDS)
                    delay = max(delay, min(float(retry_after), cap))
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = now + timedelta(seconds=delay)
                outcome = AttemptOutcome.RETRY
        delivery.claim_token = ""
        delivery.lease_expires_at = None
        delivery.save(
            update_fields=[
                "status",
                "delivered_at",
                "last_error",
                "next_attempt_at",
                "claim_token",
                "lease_expires_at",
            ]
        )
        DeliveryAttempt.objects.create(
            delivery=delivery,
            connector=connector,
            started_at=started_at,
            duration_ms=duration_ms,
            outcome=outcome,
            error="" if error is None else delivery.last_error,
        )
        if delivery.status == DeliveryStatus.FAILED and enqueue_retry:
            from accord.integration.tasks import enqueue_key_deliveries

            pair = [(str(connector.pk), delivery.ordering_key)]
            when = delivery.next_attempt_at
            transaction.on_commit(lambda: enqueue_key_deliveries(pair, run_after=when))
        return delivery.status


def deliver_claimed(claim: Claim, connector: Connector) -> str | None:
    event = claim.delivery.event
    started_at = timezone.now()
    started = time.monotonic()
    error: Exception | None = None
    try:
        connector_impl(connector.kind).deliver(connector=connector, event=event)
    except (RetryableError, PermanentError) as exc:
        error = exc
    except Exception as exc:
        logger.exception("Delivery %s failed unexpectedly", claim.delivery.pk)
        error = RetryableError(f"{type(exc).__name__}: {exc}")
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(claim, connector, started_at=started_at, duration_ms=duration_ms, error=error)


def deliver_key(connector_id: str, key: str, *, limit: int = 200) -> int:
    """Deliver what is due for (connector, key), in order; returns how many were delivered."""
    connector = Connector.objects.filter(pk=connector_id).first()
    if connector is None or not connector.enabled or connector.paused:
        return 0
    delivered = 0
    while delivered < limit:
        claim = claim_head(connector, key)
        if claim is None:
            return delivered
        if deliver_claimed(claim, connector) != DeliveryStatus.DELIVERED:
            return delivered
        delivered += 1
    # A long backlog for one key: hand the rest to a fresh task so other keys get a turn.
    from accord.integration.tasks import enqueue_key_deliveries

    enqueue_key_deliveries([(str(connector.pk), key)])
    return delivered


def batch_size(connector: Connector) -> int:
    """How many heads one claim takes: 1 unless the connector delivers batches."""
    if not hasattr(connector_impl(connector.kind), "deliver_batch"):
        return 1
    return max(1, int(_setting(connector, "batch_size", DEFAULT_BATCH_SIZE)))


def claim_batch(connector: Connector, *, limit: int, now: datetime | None = None) -> list[Claim]:
    """Claim up to ``limit`` heads of different keys of ``connector`` that may go now.

    A row qualifies when it is due (pending or failed and its time has come, or delivering
    with an expired lease) and no earlier delivery of its key is undelivered. ``delivered``
    is final (a replay only revives dead or failed rows), so the ``NOT EXISTS`` check
    cannot be outdated by a concurrent worker; rows another worker holds are skipped
    (``SKIP LOCKED``), and PostgreSQL re-checks the due condition of a row that changed
    while it waited. All claimed rows share one claim token and one lease.
    """
    now = now or timezone.now()
    earlier = Delivery.objects.filter(
        connector=OuterRef("connector"),
        ordering_key=OuterRef("ordering_key"),
        seq__lt=OuterRef("seq"),
    ).exclude(status=DeliveryStatus.DELIVERED)
    # A delivering row was due when it was claimed, so ``next_attempt_at <= now`` holds for
    # every candidate: the scan walks the partial index of undelivered rows in time order
    # and stops at ``limit``.
    due = (
        Delivery.objects.filter(connector=connector, next_attempt_at__lte=now)
        .exclude(status=DeliveryStatus.DELIVERED)
        .filter(
            Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED])
            | Q(status=DeliveryStatus.DELIVERING, lease_expires_at__lte=now)
        )
        .filter(~Exists(earlier))
        .order_by("next_attempt_at", "id")
    )
    with transaction.atomic():
        heads = list(due.select_for_update(skip_locked=True)[:limit])
        if not heads:
            return []
        events = OutboxEvent.objects.in_bulk([h.event_id for h in heads])
        for head in heads:
            head.event = events[head.event_id]
        token = secrets.token_hex(16)
        lease = now + timedelta(seconds=lease_seconds(connector))
        Delivery.objects.filter(pk__in=[h.pk for h in heads]).update(
            status=DeliveryStatus.DELIVERING,
            attempts=F("attempts") + 1,
            claim_token=token,
            lease_expires_at=lease,
        )
    for head in heads:
        head.status = DeliveryStatus.DELIVERING
        head.attempts += 1
        head.claim_token = token
        head.lease_expires_at = lease
    return [Claim(delivery=h, token=token) for h in heads]


def _send_batch(claims: list[Claim], connector: Connector) -> list[Exception | None]:
    impl = connector_impl(connector.kind)
    events = [c.delivery.event for c in claims]
    try:
        results: list[Exception | None] = list(
            impl.deliver_batch(connector=connector, events=events)  # type: ignore[attr-defined]
        )
    except (RetryableError, PermanentError) as exc:
        return [exc] * len(claims)
    except Exception as exc:
        logger.exception("A delivery batch of %s failed unexpectedly", connector.pk)
        return [RetryableError(f"{type(exc).__name__}: {exc}")] * len(claims)
    if len(results) != len(claims):
        return [RetryableError("The connector answered for a different number of events.")] * len(
            claims
        )
    return results


def _record_delivered(
    claims: list[Claim], connector: Connector, *, started_at: datetime, duration_ms: int
) -> int:
    """Mark the delivered claims that still hold as delivered: one UPDATE (its WHERE checks
    the claim, row by row, under the row lock the UPDATE takes) and one INSERT."""
    if not claims:
        return 0
    token = claims[0].token
    ids = [c.delivery.pk for c in claims]
    with transaction.atomic():
        now = timezone.now()
        updated = Delivery.objects.filter(
            pk__in=ids, claim_token=token, status=DeliveryStatus.DELIVERING
        ).update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=now,
            last_error="",
            claim_token="",
            lease_expires_at=None,
        )
        held = ids
        if updated != len(ids):
            logger.warning(
                "%d deliveries: claim lost before the outcome was written", len(ids) - updated
            )
            held = list(
                Delivery.objects.filter(
                    pk__in=ids, status=DeliveryStatus.DELIVERED, delivered_at=now
                ).values_list("pk", flat=True)
            )
        per_event = max(0, duration_ms // len(claims))
        DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(
                delivery_id=pk,
                connector=connector,
                started_at=started_at,
                duration_ms=per_event,
                outcome=AttemptOutcome.DELIVERED,
                error="",
            )
            for pk in held
        )
    return len(held)


def deliver_batch_claimed(claims: list[Claim], connector: Connector) -> int:
    """Send claimed deliveries and record the outcomes; returns how many were delivered."""
    if not claims:
        return 0
    started_at = timezone.now()
    started = time.monotonic()
    if len(claims) == 1 and not hasattr(connector_impl(connector.kind), "deliver_batch"):
        status = deliver_claimed(claims[0], connector)
        return 1 if status == DeliveryStatus.DELIVERED else 0
    results = _send_batch(claims, connector)
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = [c for c, error in zip(claims, results, strict=True) if error is None]
    delivered = _record_delivered(ok, connector, started_at=started_at, duration_ms=duration_ms)
    for claim, error in zip(claims, results, strict=True):
        if error is not None:
            _record(
                claim,
                connector,
                started_at=started_at,
                duration_ms=duration_ms,
                error=error,
                enqueue_retry=False,  # one wake-up for the whole connector, see below
            )
    return delivered


def next_retry_at(connector: Connector, *, now: datetime | None = None) -> datetime | None:
    """When the connector's earliest waiting retry falls due (None: none is waiting)."""
    now = now or timezone.now()
    when: datetime | None = (
        Delivery.objects.filter(connector=connector, next_attempt_at__gt=now)
        .exclude(status=DeliveryStatus.DELIVERED)
        .filter(status=DeliveryStatus.FAILED)
        .aggregate(first=Min("next_attempt_at"))["first"]
    )
    return when


def deliver_connector(
    connector_id: str,
    *,
    max_batches: int = MAX_BATCHES_PER_TASK,
    on_full_batch: Callable[[], object] | None = None,
) -> int:
    """Deliver what is due for a connector, batch after batch; returns how many were
    delivered. ``on_full_batch`` runs when a batch came back full (more is likely waiting):
    the task uses it to offer the backlog to another worker."""
    connector = Connector.objects.filter(pk=connector_id).first()
    if connector is None or not connector.enabled or connector.paused:
        return 0
    size = batch_size(connector)
    delivered = 0
    for _ in range(max_batches):
        claims = claim_batch(connector, limit=size)
        if not claims:
            break
        if len(claims) == size and on_full_batch is not None:
            on_full_batch()
            on_full_batch = None  # once per task is enough
        delivered += deliver_batch_claimed(claims, connector)
    else:
        # A long backlog: hand the rest to a fresh task so other work gets a turn.
        from accord.integration.tasks import ensure_connector_task

        ensure_connector_task(str(connector.pk))
        return delivered
    when = next_retry_at(connector)
    if when is not None:
        from accord.integration.tasks import ensure_connector_task

        ensure_connector_task(str(connector.pk), run_after=when)
    return delivered


def due_keys(
    *, now: datetime | None = None, grace_seconds: float = SWEEP_GRACE_SECONDS, limit: int = 1000
) -> list[tuple[str, str]]:
    """(connector, key) pairs with a head that should have been delivered by now."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=grace_seconds)
    rows = (
        Delivery.objects.filter(connector__enabled=True, connector__paused=False)
        .filter(
            Q(
                status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED],
                next_attempt_at__lte=stale,
            )
            | Q(status=DeliveryStatus.DELIVERING, lease_expires_at__lte=now)
        )
        .values_list("connector_id", "ordering_key")
        .order_by()
        .distinct()[:limit]
    )
    return [(str(c), k) for c, k in rows]


def outbox_sweep(*, now: datetime | None = None, grace_seconds: float = SWEEP_GRACE_SECONDS) -> int:
    """Enqueue delivery tasks for due work whose task was lost; returns the connectors
    enqueued (a connector whose task is already waiting is not enqueued again)."""
    from accord.integration.tasks import ensure_connector_task

    connectors = dict.fromkeys(c for c, _ in due_keys(now=now, grace_seconds=grace_seconds))
    return sum(1 for c in connectors if ensure_connector_task(c))
