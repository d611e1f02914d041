"""``/api/v1/audit``: the whole trail for administrators and executives."""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from accord.audit import selectors
from accord.audit.schemas import AuditPage
from accord.core.api_support import ApiDateTime, QuerySchema, actor

router = Router(tags=["audit"])


class AuditFilters(QuerySchema):
    record_type: str | None = Field(default=None, max_length=64)
    actor: uuid.UUID | None = None
    since: ApiDateTime | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


@router.get("/events", response=AuditPage, summary="Search the audit trail")
def audit_events(request: HttpRequest, filters: Query[AuditFilters]) -> dict[str, object]:
    page = selectors.audit_events_search(user=actor(request), **filters.dict())
    return {"items": page.items, "next_cursor": page.next_cursor}
