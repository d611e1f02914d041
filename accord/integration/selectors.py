"""Reads: per-record sync status and per-connector health (backlog, lag, failure rate)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Count, Min
from django.utils import timezone

from accord.integration.models import (
    AttemptOutcome,
    Connector,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
)

# Which delivery speaks for a record when several of its events are under way.
_SEVERITY = {
    DeliveryStatus.DEAD: 4,
    DeliveryStatus.FAILED: 3,
    DeliveryStatus.DELIVERING: 2,
    DeliveryStatus.PENDING: 1,
    DeliveryStatus.DELIVERED: 0,
}


@dataclass(frozen=True)
class SyncStatus:
    """A record's state at one connector: the most serious of its undelivered events,
    else its latest delivered one."""

    connector: str
    status: str
    attempts: int
    last_error: str
    event_type: str
    next_attempt_at: datetime | None
    delivered_at: datetime | None


def sync_status_for_records(aggregate_type: str, ids: Iterable[str]) -> dict[str, list[SyncStatus]]:
    """``{record id: [SyncStatus per connector, by connector name]}`` in one query."""
    wanted = [str(i) for i in ids]
    rows = (
        Delivery.objects.filter(
            event__aggregate_type=aggregate_type, event__aggregate_id__in=wanted
        )
        .select_related("connector", "event")
        .order_by("seq")
    )
    chosen: dict[tuple[str, str], Delivery] = {}
    for row in rows:
        slot = (row.event.aggregate_id, row.connector.name)
        current = chosen.get(slot)
        if (
            current is None
            or _SEVERITY[DeliveryStatus(row.status)] >= _SEVERITY[DeliveryStatus(current.status)]
        ):
            chosen[slot] = row
    result: dict[str, list[SyncStatus]] = {i: [] for i in wanted}
    for (record_id, name), row in sorted(chosen.items()):
        result[record_id].append(
            SyncStatus(
                connector=name,
                status=row.status,
                attempts=row.attempts,
                last_error=row.last_error,
                event_type=row.event.event_type,
                next_attempt_at=row.next_attempt_at
                if row.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
                else None,
                delivered_at=row.delivered_at,
            )
        )
    return result


def record_sync_status(record: models.Model) -> list[SyncStatus]:
    """The sync status of an account or opportunity, per connector."""
    label = record._meta.label_lower
    return sync_status_for_records(label, [str(record.pk)])[str(record.pk)]


@dataclass(frozen=True)
class ConnectorHealth:
    name: str
    kind: str
    state: str  # enabled / paused / disabled
    backlog: int  # pending, delivering or failed (will retry)
    failed: int  # of the backlog: waiting for a retry
    dead: int
    lag_seconds: float  # age of the oldest event still to be delivered
    attempts: int  # in the window
    failed_attempts: int  # in the window
    delivered: int  # in the window

    @property
    def failure_rate(self) -> float:
        return self.failed_attempts / self.attempts if self.attempts else 0.0


def connector_health(
    *, now: datetime | None = None, window: timedelta = timedelta(hours=1)
) -> list[ConnectorHealth]:
    now = now or timezone.now()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    oldest: dict[str, datetime] = {}
    undelivered = (
        Delivery.objects.exclude(status=DeliveryStatus.DELIVERED)
        .values("connector_id", "status")
        .annotate(n=Count("id"), oldest=Min("event__created_at"))
        .order_by()
    )
    for row in undelivered:
        cid = str(row["connector_id"])
        counts[cid][row["status"]] = row["n"]
        if row["status"] != DeliveryStatus.DEAD and (
            cid not in oldest or row["oldest"] < oldest[cid]
        ):
            oldest[cid] = row["oldest"]
    attempts: dict[str, dict[str, int]] = defaultdict(dict)
    for attempt in (
        DeliveryAttempt.objects.filter(started_at__gt=now - window, started_at__lte=now)
        .values("connector_id", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    ):
        attempts[str(attempt["connector_id"])][attempt["outcome"]] = attempt["n"]
    health = []
    for connector in Connector.objects.order_by("name"):
        cid = str(connector.pk)
        c = counts.get(cid, {})
        a = attempts.get(cid, {})
        state = "disabled" if not connector.enabled else "paused" if connector.paused else "enabled"
        health.append(
            ConnectorHealth(
                name=connector.name,
                kind=connector.kind,
                state=state,
                backlog=sum(
                    c.get(s, 0)
                    for s in (
                        DeliveryStatus.PENDING,
                        DeliveryStatus.DELIVERING,
                        DeliveryStatus.FAILED,
                    )
                ),
                failed=c.get(DeliveryStatus.FAILED, 0),
                dead=c.get(DeliveryStatus.DEAD, 0),
                lag_seconds=max(0.0, (now - oldest[cid]).total_seconds()) if cid in oldest else 0.0,
                attempts=sum(a.values()),
                failed_attempts=a.get(AttemptOutcome.RETRY, 0) + a.get(AttemptOutcome.DEAD, 0),
                delivered=a.get(AttemptOutcome.DELIVERED, 0),
            )
        )
    return health


def dead_deliveries(connector: Connector | None = None) -> models.QuerySet[Delivery]:
    qs = Delivery.objects.filter(status=DeliveryStatus.DEAD).select_related("event", "connector")
    if connector is not None:
        qs = qs.filter(connector=connector)
    return qs.order_by("connector", "ordering_key", "seq")
