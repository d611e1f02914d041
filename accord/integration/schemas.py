from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema


class SyncStatusOut(Schema):
    connector: str
    status: str
    attempts: int
    last_error: str
    event_type: str
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None


class ConnectorHealthOut(Schema):
    id: uuid.UUID
    name: str
    kind: str
    state: str
    backlog: int
    retrying: int
    dead: int
    lag_seconds: float
    attempts: int
    failed_attempts: int
    failure_rate: float


class DeliveryOut(Schema):
    id: int
    connector: str
    event_id: uuid.UUID
    event_type: str
    aggregate_type: str
    aggregate_id: str
    ordering_key: str
    seq: int
    status: str
    attempts: int
    last_error: str
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None
