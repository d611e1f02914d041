from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping

from django.db.models import Model, Q

from accord.audit.models import AuditEvent
from accord.core.errors import PermissionDenied
from accord.core.pagination import Page, keyset_page
from accord.org.models import Role, User


def record_audit_events(
    *, record: Model, cursor: str | None = None, limit: int = 50
) -> Page[AuditEvent]:
    """The audit trail of one record (the caller checked the record is visible)."""
    qs = AuditEvent.objects.filter(record_type=record._meta.label_lower, record_id=str(record.pk))
    return keyset_page(qs, ordering="-seq", cursor=cursor, limit=limit)


def audit_events_search(
    *,
    user: User,
    record_type: str | None = None,
    actor: uuid.UUID | None = None,
    since: dt.datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AuditEvent]:
    """The whole trail, for administrators and executives (auditors)."""
    if not (user.is_superuser or user.role in {Role.ADMINISTRATOR, Role.EXECUTIVE}):
        raise PermissionDenied("Only administrators and executives read the whole audit trail.")
    qs = AuditEvent.objects.all()
    if record_type:
        qs = qs.filter(record_type=record_type)
    if actor:
        qs = qs.filter(actor_id=actor)
    if since:
        qs = qs.filter(occurred_at__gte=since)
    return keyset_page(qs, ordering="-seq", cursor=cursor, limit=limit)


def audit_events_on_records(
    *, records: Mapping[str, Iterable[object]], since: dt.datetime, limit: int = 20
) -> list[AuditEvent]:
    """The newest events since ``since`` on the given records (``"app.model"`` → ids; the
    caller decided which records the reader may see). One query on the record index."""
    match = Q()
    for record_type, ids in records.items():
        keys = [str(i) for i in ids]
        if keys:
            match |= Q(record_type=record_type, record_id__in=keys)
    if not match:
        return []
    qs = AuditEvent.objects.filter(match, occurred_at__gte=since).order_by("-seq")
    return list(qs[: max(1, limit)])
