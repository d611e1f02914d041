from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Model

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
