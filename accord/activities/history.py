"""``/{id}/timeline`` and ``/{id}/audit`` routes, added to every record type's router."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db.models import Model
from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from accord.activities.schemas import TimelinePage, timeline_item
from accord.activities.selectors import record_timeline
from accord.audit.schemas import AuditPage
from accord.audit.selectors import record_audit_events
from accord.core.api_support import QuerySchema, actor
from accord.org.models import User


class HistoryQuery(QuerySchema):
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


def add_history_routes(
    router: Router, *, what: str, get_visible: Callable[[User, uuid.UUID], Model]
) -> None:
    def timeline(
        request: HttpRequest, record_id: uuid.UUID, q: Query[HistoryQuery]
    ) -> dict[str, object]:
        record = get_visible(actor(request), record_id)
        page = record_timeline(user=actor(request), record=record, cursor=q.cursor, limit=q.limit)
        return {"items": [timeline_item(e) for e in page.items], "next_cursor": page.next_cursor}

    def audit(
        request: HttpRequest, record_id: uuid.UUID, q: Query[HistoryQuery]
    ) -> dict[str, object]:
        record = get_visible(actor(request), record_id)
        page = record_audit_events(record=record, cursor=q.cursor, limit=q.limit)
        return {"items": page.items, "next_cursor": page.next_cursor}

    timeline.__name__ = f"{what}_timeline"
    audit.__name__ = f"{what}_audit"
    router.get(
        "/{record_id}/timeline",
        response=TimelinePage,
        summary=f"Timeline of a {what}: activities and audit events, newest first",
    )(timeline)
    router.get("/{record_id}/audit", response=AuditPage, summary=f"Audit trail of a {what}")(audit)
