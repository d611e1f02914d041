"""The hash of an audit event: SHA-256 over a canonical JSON form of its content."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64


def event_hash(
    *,
    seq: int,
    occurred_at: dt.datetime,
    actor_id: str | None,
    actor_name: str,
    source: str,
    action: str,
    record_type: str,
    record_id: str,
    record_label: str,
    changes: Any,
    request_id: str,
    ip: str,
    prev_hash: str,
) -> str:
    payload = {
        "seq": seq,
        "at": occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor_id,
        "actor_name": actor_name,
        "source": source,
        "action": action,
        "type": record_type,
        "id": record_id,
        "label": record_label,
        "changes": changes,
        "request": request_id,
        "ip": ip,
        "prev": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
