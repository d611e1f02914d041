"""Writing the audit trail. Called by every service, inside the write's transaction."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from accord.audit.chain import GENESIS_HASH, event_hash
from accord.audit.models import AuditAction, AuditChainHead, AuditEvent
from accord.core import context

Snapshot = dict[str, Any]

_SKIP = {"created_at", "updated_at", "search_text", "password"}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> Snapshot:
    """The audited state of ``instance``: concrete field values, foreign keys as ids."""
    wanted = set(fields) if fields is not None else None
    data: Snapshot = {}
    for field in instance._meta.concrete_fields:
        name = field.name
        if name in _SKIP or (wanted is not None and name not in wanted):
            continue
        data[name] = _jsonable(getattr(instance, field.attname))
    return data


def diff(before: Snapshot, after: Snapshot) -> dict[str, list[Any]]:
    keys = before.keys() | after.keys()
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def _append(
    *, action: str, record_type: str, record_id: str, record_label: str, changes: Any
) -> AuditEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit events are written inside the write's transaction.")
    ctx = context.current()
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
    )
    now = timezone.now().astimezone(dt.UTC)
    actor = ctx.actor
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        "occurred_at": now,
        "actor_id": str(actor.pk) if actor is not None else None,
        "actor_name": actor.get_username() if actor is not None else "",
        "source": str(ctx.source),
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
        "record_label": record_label[:255],
        "changes": _jsonable(changes),
        "request_id": ctx.request_id,
        "ip": ctx.ip,
        "prev_hash": head.hash,
    }
    digest = event_hash(**fields)
    event = AuditEvent.objects.create(**fields, hash=digest)
    head.seq = event.seq
    head.hash = digest
    head.save(update_fields=["seq", "hash"])
    return event


def audit_record_change(
    *,
    action: AuditAction,
    instance: models.Model,
    before: Snapshot | None = None,
    after: Snapshot | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """Record a create / update / delete of ``instance``.

    ``before`` and ``after`` are :func:`snapshot` results; an update with no changed field
    writes nothing and returns None.
    """
    changes = diff(before or {}, after or {})
    if extra:
        changes.update(extra)
    if action == AuditAction.UPDATE and not changes:
        return None
    return _append(
        action=action,
        record_type=instance._meta.label_lower,
        record_id=str(instance.pk),
        record_label=str(instance),
        changes=changes,
    )


def audit_event(
    *, action: str, record_type: str, record_id: str, label: str = "", data: Any = None
) -> AuditEvent:
    """Record something that is not a plain field change (a login, a token, an export)."""
    return _append(
        action=action,
        record_type=record_type,
        record_id=record_id,
        record_label=label,
        changes=data or {},
    )


def audited_delete(
    instance: models.Model, *, what: str, extra_before: Snapshot | None = None
) -> None:
    """Delete ``instance`` and record its last state; related records in the way are a 409."""
    from accord.core.services import delete_or_conflict

    before = {**snapshot(instance), **(extra_before or {})}
    pk = instance.pk
    delete_or_conflict(instance, what=what)
    instance.pk = pk
    audit_record_change(action=AuditAction.DELETE, instance=instance, before=before)
