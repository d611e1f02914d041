from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ninja import Schema


class AuditEventOut(Schema):
    seq: int
    occurred_at: dt.datetime
    actor_id: uuid.UUID | None
    actor_name: str
    source: str
    action: str
    record_type: str
    record_id: str
    record_label: str
    changes: dict[str, Any]
    request_id: str
    hash: str


class AuditPage(Schema):
    items: list[AuditEventOut]
    next_cursor: str | None
